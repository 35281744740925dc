#include "sync/station_events.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ektp::sync {
namespace {

// Reads the fields of one body, remembering the first problem.
class Fields {
 public:
  explicit Fields(std::string_view text) : Fields(nlohmann::json::parse(text, nullptr, false), "body") {}
  Fields(nlohmann::json json, const std::string& what) : json_(std::move(json)) {
    if (json_.is_discarded() || !json_.is_object()) status_ = InvalidArgument(what + " is not a JSON object");
  }

  // A non-empty array, at most `max` long.
  nlohmann::json Array(const char* name, size_t max) {
    if (!status_.ok()) return nlohmann::json::array();
    auto it = json_.find(name);
    if (it == json_.end() || !it->is_array() || it->empty() || it->size() > max) {
      status_ = InvalidArgument(std::string("body field '") + name + "' must be an array of 1 to " +
                                std::to_string(max) + " items");
      return nlohmann::json::array();
    }
    return *it;
  }
  const Status& status() const { return status_; }

  std::string Text(const char* name, bool required = true) {
    if (!status_.ok()) return "";
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) {
      if (required) status_ = InvalidArgument(std::string("body has no '") + name + "'");
      return "";
    }
    if (!it->is_string() || (required && it->get<std::string>().empty())) {
      status_ = InvalidArgument(std::string("body field '") + name + "' must be a non-empty string");
      return "";
    }
    return it->get<std::string>();
  }

  // A positive integer; 0 when absent and not required.
  int64_t Positive(const char* name, bool required = true) {
    if (!status_.ok()) return 0;
    auto it = json_.find(name);
    if (it == json_.end() && !required) return 0;
    if (it == json_.end() || !it->is_number_integer() || it->get<int64_t>() < 1) {
      status_ = InvalidArgument(std::string("body field '") + name + "' must be a positive integer");
      return 0;
    }
    return it->get<int64_t>();
  }

  bool Bool(const char* name) {
    if (!status_.ok()) return false;
    auto it = json_.find(name);
    if (it == json_.end() || !it->is_boolean()) {
      status_ = InvalidArgument(std::string("body field '") + name + "' must be true or false");
      return false;
    }
    return it->get<bool>();
  }

  // A finite number at least 0.
  double NonNegative(const char* name) {
    if (!status_.ok()) return 0;
    auto it = json_.find(name);
    if (it == json_.end() || !it->is_number() || !(it->get<double>() >= 0) || !std::isfinite(it->get<double>())) {
      status_ = InvalidArgument(std::string("body field '") + name + "' must be a number of at least 0");
      return 0;
    }
    return it->get<double>();
  }

  template <typename T>
  StatusOr<T> Done(T body) {
    if (!status_.ok()) return status_;
    return body;
  }

 private:
  nlohmann::json json_;
  Status status_;
};

}  // namespace

std::string BlanksReceivedToJson(const BlanksReceivedBody& b) {
  return nlohmann::json{{"event_id", b.event_id},       {"first_serial", b.first_serial},
                        {"last_serial", b.last_serial}, {"received_at", b.received_at},
                        {"by", b.by}}
      .dump();
}

std::string CardPrintedToJson(const CardPrintedBody& b) {
  return nlohmann::json{{"event_id", b.event_id}, {"job_id", b.job_id},         {"registration_number", b.registration_number},
                        {"serial", b.serial},     {"printed_at", b.printed_at}, {"by", b.by}}
      .dump();
}

std::string BlankSpoiledToJson(const BlankSpoiledBody& b) {
  nlohmann::json json{{"event_id", b.event_id}, {"serial", b.serial}, {"reason", b.reason},
                      {"note", b.note},         {"at", b.at},         {"by", b.by}};
  if (b.job_id != 0) json["job_id"] = b.job_id;  // absent: spoiled before any job was printed on it
  return json.dump();
}

std::string CardMisprintedToJson(const CardMisprintedBody& b) {
  return nlohmann::json{{"event_id", b.event_id}, {"job_id", b.job_id}, {"registration_number", b.registration_number},
                        {"serial", b.serial},     {"note", b.note},     {"at", b.at},
                        {"by", b.by}}
      .dump();
}

std::string CardsDispatchedToJson(const CardsDispatchedBody& b) {
  nlohmann::json cards = nlohmann::json::array();
  for (const DispatchedCard& card : b.cards) {
    cards.push_back({{"job_id", card.job_id}, {"registration_number", card.registration_number}, {"serial", card.serial}});
  }
  return nlohmann::json{{"event_id", b.event_id}, {"to_station", b.to_station}, {"cards", cards},
                        {"at", b.at},             {"by", b.by}}
      .dump();
}

StatusOr<BlanksReceivedBody> BlanksReceivedFromJson(std::string_view text) {
  Fields f(text);
  BlanksReceivedBody b{f.Text("event_id"), f.Positive("first_serial"), f.Positive("last_serial"),
                       f.Text("received_at"), f.Text("by")};
  ASSIGN_OR_RETURN(b, f.Done(std::move(b)));
  if (b.last_serial < b.first_serial) {
    return InvalidArgument("body field 'last_serial' " + std::to_string(b.last_serial) + " is before 'first_serial' " +
                           std::to_string(b.first_serial));
  }
  return b;
}

StatusOr<CardPrintedBody> CardPrintedFromJson(std::string_view text) {
  Fields f(text);
  CardPrintedBody b{f.Text("event_id"), f.Positive("job_id"), f.Text("registration_number"), f.Positive("serial"),
                    f.Text("printed_at"), f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<BlankSpoiledBody> BlankSpoiledFromJson(std::string_view text) {
  Fields f(text);
  BlankSpoiledBody b{f.Text("event_id"), f.Positive("serial"), f.Text("reason"), f.Text("note", false),
                     f.Positive("job_id", false), f.Text("at"), f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<CardMisprintedBody> CardMisprintedFromJson(std::string_view text) {
  Fields f(text);
  CardMisprintedBody b{f.Text("event_id"), f.Positive("job_id"), f.Text("registration_number"), f.Positive("serial"),
                       f.Text("note", false), f.Text("at"), f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<CardsDispatchedBody> CardsDispatchedFromJson(std::string_view text) {
  Fields f(text);
  CardsDispatchedBody b{f.Text("event_id"), f.Text("to_station"), {}, f.Text("at"), f.Text("by")};
  for (const nlohmann::json& item : f.Array("cards", kMaxCardsPerManifest)) {
    Fields card(item, "body field 'cards' item " + std::to_string(b.cards.size()));
    b.cards.push_back({card.Positive("job_id"), card.Text("registration_number"), card.Positive("serial")});
    RETURN_IF_ERROR(card.status());
  }
  return f.Done(std::move(b));
}

namespace {
constexpr std::pair<HandOverBasis, std::string_view> kHandOverBases[] = {
    {HandOverBasis::kFingerprint, "fingerprint"},
    {HandOverBasis::kOverride, "override"},
    {HandOverBasis::kDelegated, "delegated"},
};
}  // namespace

std::string_view HandOverBasisName(HandOverBasis basis) {
  for (const auto& [known, name] : kHandOverBases) {
    if (known == basis) return name;
  }
  return "?";
}

StatusOr<HandOverBasis> ParseHandOverBasis(std::string_view name) {
  for (const auto& [basis, known] : kHandOverBases) {
    if (known == name) return basis;
  }
  return InvalidArgument("unknown hand-over basis '" + std::string(name) + "'; one of fingerprint, override, delegated");
}

std::string FingerprintCheckedToJson(const FingerprintCheckedBody& b) {
  return nlohmann::json{{"event_id", b.event_id}, {"registration_number", b.registration_number},
                        {"serial", b.serial},     {"attempt", b.attempt},
                        {"passed", b.passed},     {"score", b.score},
                        {"threshold", b.threshold}, {"fingers", b.fingers},
                        {"at", b.at},             {"by", b.by}}
      .dump();
}

std::string PickupOverrideToJson(const PickupOverrideBody& b) {
  return nlohmann::json{{"event_id", b.event_id},
                        {"registration_number", b.registration_number},
                        {"serial", b.serial},
                        {"failed_attempts", b.failed_attempts},
                        {"reason", b.reason},
                        {"at", b.at},
                        {"by", b.by}}
      .dump();
}

std::string CardActivatedToJson(const CardActivatedBody& b) {
  nlohmann::json json{{"event_id", b.event_id}, {"registration_number", b.registration_number},
                      {"serial", b.serial},     {"nik", b.nik},
                      {"basis", HandOverBasisName(b.basis)}, {"at", b.at},
                      {"by", b.by}};
  if (b.basis == HandOverBasis::kDelegated) {
    json["collector"] = {{"name", b.collector_name}, {"nik", b.collector_nik}, {"relation", b.collector_relation}};
  }
  if (!b.surrendered_nik.empty()) json["surrendered_ktp"] = {{"nik", b.surrendered_nik}, {"serial", b.surrendered_serial}};
  return json.dump();
}

std::string SuketIssuedToJson(const SuketIssuedBody& b) {
  return nlohmann::json{{"event_id", b.event_id},   {"serial", b.serial},   {"registration_number", b.registration_number},
                        {"nik", b.nik},             {"issued_at", b.issued_at}, {"valid_until", b.valid_until},
                        {"replaces", b.replaces},   {"by", b.by}}
      .dump();
}

StatusOr<SuketIssuedBody> SuketIssuedFromJson(std::string_view text) {
  Fields f(text);
  SuketIssuedBody b{f.Text("event_id"),  f.Text("serial"),      f.Text("registration_number"), f.Text("nik", false),
                    f.Text("issued_at"), f.Text("valid_until"), f.Text("replaces", false),     f.Text("by")};
  return f.Done(std::move(b));
}

std::string CardReturnedToJson(const CardReturnedBody& b) {
  return nlohmann::json{{"event_id", b.event_id},       {"registration_number", b.registration_number},
                        {"serial", b.serial},           {"received_at", b.received_at},
                        {"reason", b.reason},           {"at", b.at},
                        {"by", b.by}}
      .dump();
}

StatusOr<FingerprintCheckedBody> FingerprintCheckedFromJson(std::string_view text) {
  Fields f(text);
  FingerprintCheckedBody b{f.Text("event_id"), f.Text("registration_number"), f.Positive("serial"),
                           f.Positive("attempt"), f.Bool("passed"), f.NonNegative("score"),
                           f.NonNegative("threshold"), f.Positive("fingers", false), f.Text("at"), f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<PickupOverrideBody> PickupOverrideFromJson(std::string_view text) {
  Fields f(text);
  PickupOverrideBody b{f.Text("event_id"), f.Text("registration_number"), f.Positive("serial"),
                       f.Positive("failed_attempts"), f.Text("reason"), f.Text("at"), f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<CardReturnedBody> CardReturnedFromJson(std::string_view text) {
  Fields f(text);
  CardReturnedBody b{f.Text("event_id"), f.Text("registration_number"), f.Positive("serial"), f.Text("received_at"),
                     f.Text("reason"),   f.Text("at"),                  f.Text("by")};
  return f.Done(std::move(b));
}

StatusOr<CardActivatedBody> CardActivatedFromJson(std::string_view text) {
  Fields f(text);
  CardActivatedBody b;
  b.event_id = f.Text("event_id");
  b.registration_number = f.Text("registration_number");
  b.serial = f.Positive("serial");
  b.nik = f.Text("nik");
  const std::string basis = f.Text("basis");
  b.at = f.Text("at");
  b.by = f.Text("by");
  RETURN_IF_ERROR(f.status());
  ASSIGN_OR_RETURN(b.basis, ParseHandOverBasis(basis));
  const nlohmann::json json = nlohmann::json::parse(text);
  if (b.basis == HandOverBasis::kDelegated) {
    if (!json.contains("collector")) return InvalidArgument("a delegated hand-over has no 'collector'");
    Fields collector(json.at("collector"), "body field 'collector'");
    b.collector_name = collector.Text("name");
    b.collector_nik = collector.Text("nik");
    b.collector_relation = collector.Text("relation");
    RETURN_IF_ERROR(collector.status());
    if (!json.contains("surrendered_ktp")) return InvalidArgument("a delegated hand-over has no 'surrendered_ktp'");
  }
  if (json.contains("surrendered_ktp")) {
    Fields ktp(json.at("surrendered_ktp"), "body field 'surrendered_ktp'");
    b.surrendered_nik = ktp.Text("nik");
    b.surrendered_serial = ktp.Text("serial");
    RETURN_IF_ERROR(ktp.status());
  }
  return b;
}

}  // namespace ektp::sync
