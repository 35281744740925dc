#include "cli/local_sites.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "bio/template.h"
#include "core/resident_json.h"
#include "net/tls.h"

extern "C" const char ektp_demo_face_jpg[], ektp_demo_face_jpg_end[];
extern "C" const char ektp_demo_signature_png[], ektp_demo_signature_png_end[];

namespace ektp::cli {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

StatusOr<nlohmann::json> CheckedJson(const StatusOr<net::HttpResponse>& response, int expected_status,
                                     const std::string& what) {
  RETURN_IF_ERROR(response.status().WithContext(what));
  if (response->status != expected_status) {
    return Internal(what + " answered HTTP " + std::to_string(response->status) + ": " + response->body);
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (json.is_discarded()) return Internal(what + " answered no JSON: " + response->body);
  return json;
}

std::string SyntheticFingerTemplate(const bio::SynthGenerator& synth, uint64_t subject, int finger, int impression) {
  const bio::MasterFinger master = synth.Master(subject, finger);
  auto bytes =
      bio::EncodeTemplate(bio::SynthGenerator::ToRecord(synth.Impression(master, subject, finger, impression), finger));
  return bytes.ok() ? std::string(bytes->begin(), bytes->end()) : std::string();
}

std::vector<net::MultipartPart> SyntheticEnrollmentParts(const bio::SynthGenerator& synth, uint64_t subject,
                                                         int impression, const Resident& resident) {
  const nlohmann::json application = {{"kind", "first_card"}, {"resident", ResidentToJson(resident)}};
  std::vector<net::MultipartPart> parts = {
      {"application", "", "application/json", application.dump()},
      {"face", "face.jpg", "image/jpeg", std::string(ektp_demo_face_jpg, ektp_demo_face_jpg_end)},
      {"signature", "ttd.png", "image/png", std::string(ektp_demo_signature_png, ektp_demo_signature_png_end)},
  };
  for (int finger : kSyntheticFingers) {
    parts.push_back({"finger_" + std::to_string(finger), "finger.iso", "application/octet-stream",
                     SyntheticFingerTemplate(synth, subject, finger, impression)});
  }
  return parts;
}

StatusOr<std::string> RegisterStation(const NewStation& station, const CliRunner& run) {
  auto central = [&](std::vector<std::string> args) {
    args.insert(args.end(), station.central_db_args.begin(), station.central_db_args.end());
    return args;
  };
  ASSIGN_OR_RETURN(CliOutcome token,
                   run(central({"central", "token", "create", "--dir", station.central_dir, "--kecamatan",
                                station.kecamatan, "--kind", station.kind, "--capabilities", station.capabilities}),
                       ""));
  std::istringstream token_lines(token.out);
  std::string token_text;
  for (std::string line; std::getline(token_lines, line);) {
    if (!line.empty()) token_text = line;
  }
  ASSIGN_OR_RETURN(std::string fingerprint,
                   net::CertificateSha256(ReadWholeFile(station.central_dir + "/tls-cert.pem")));
  ASSIGN_OR_RETURN(CliOutcome init, run({"station", "init", "--dir", station.dir, "--central", station.central_url,
                                         "--token", token_text, "--fingerprint", fingerprint, "--admin-user",
                                         station.admin_user},
                                        station.admin_password + "\n"));
  const size_t at = init.out.find("registered as ");
  if (at == std::string::npos) return Internal("`ektp station init` printed no station id: " + init.out);
  std::string station_id;
  std::istringstream(init.out.substr(at + std::string("registered as ").size())) >> station_id;
  RETURN_IF_ERROR(
      run(central({"central", "station", "approve", station_id, "--dir", station.central_dir, "--admin", station.approved_by}), "")
          .status());
  for (const NewStation::Operator& op : station.operators) {
    RETURN_IF_ERROR(run({"station", "operator", "add", "--dir", station.dir, "--username", op.username, "--name",
                         op.name, "--role", op.role},
                        op.password + "\n")
                        .status());
  }
  return station_id;
}

StatusOr<net::HttpHeaders> LoginHeaders(net::HttpClient& client, const std::string& user, const std::string& password,
                                        const std::string& what) {
  ASSIGN_OR_RETURN(nlohmann::json session,
                   CheckedJson(client.Post("/api/v1/login", nlohmann::json{{"username", user}, {"password", password}}.dump(),
                                           "application/json"),
                               200, what + " login"));
  return net::HttpHeaders{{"authorization", "Bearer " + session.value("token", "")}};
}

}  // namespace ektp::cli
