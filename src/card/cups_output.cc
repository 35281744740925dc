#include <cups/cups.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "card/output.h"
#include "core/text.h"

namespace ektp::card {
namespace {

constexpr int kConnectTimeoutMs = 5000;
constexpr double kRequestTimeoutSeconds = 30;

using Http = std::unique_ptr<http_t, decltype(&httpClose)>;
using Ipp = std::unique_ptr<ipp_t, decltype(&ippDelete)>;

// CUPS queue names: printable ASCII without space, '/', '#', '\\', '@' or quotes, at most 127 bytes.
bool IsPrinterName(std::string_view name) {
  if (name.empty() || name.size() > 127) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || std::string_view("/#\\@'\"").find(c) != std::string_view::npos) return false;
  }
  return true;
}

std::string CupsMessage() { return cupsLastErrorString() ? cupsLastErrorString() : "no message"; }

bool JobCountsAsSent(ipp_jstate_t state) { return state != IPP_JSTATE_CANCELED && state != IPP_JSTATE_ABORTED; }

class Cups final : public CardOutput {
 public:
  Cups(std::string printer, std::string host, int port, std::string server)
      : printer_(std::move(printer)), host_(std::move(host)), port_(port), server_(std::move(server)) {
    httpAssembleURIf(HTTP_URI_CODING_ALL, uri_, sizeof(uri_), "ipp", nullptr, "localhost", ippPort(), "/printers/%s",
                     printer_.c_str());
    resource_ = "/printers/" + printer_;
  }

  Status Send(std::string_view card_id, const RenderedCard& card, std::span<const uint8_t>) override {
    if (!IsCardId(card_id)) return InvalidArgument("cups: '" + QuoteInput(card_id) + "' is not a card id");
    ASSIGN_OR_RETURN(Http http, Connect());
    ASSIGN_OR_RETURN(bool sent, WasSentOn(http.get(), card_id));
    if (sent) return Status::Ok();
    RETURN_IF_ERROR(CheckPrinterTakesJobs(http.get()));

    Ipp request(NewRequest(IPP_OP_PRINT_JOB), ippDelete);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, std::string(card_id).c_str());
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, "application/pdf");
    // The length is the whole HTTP body: the IPP request, then the document.
    http_status_t http_status =
        cupsSendRequest(http.get(), request.get(), resource_.c_str(), ippLength(request.get()) + card.pdf.size());
    if (http_status == HTTP_STATUS_CONTINUE) {
      http_status = cupsWriteRequestData(http.get(), reinterpret_cast<const char*>(card.pdf.data()), card.pdf.size());
    }
    if (http_status != HTTP_STATUS_CONTINUE) {
      Status failed = ErrorFromCups("sending card " + std::string(card_id) + " to");
      return failed.ok() ? Unavailable("cups: sending card " + std::string(card_id) + " to " + Describe() +
                                       " failed: HTTP " + std::to_string(static_cast<int>(http_status)))
                         : failed;
    }
    Ipp response(cupsGetResponse(http.get(), resource_.c_str()), ippDelete);
    return ErrorFromCups("printing card " + std::string(card_id) + " on");
  }

  StatusOr<bool> WasSent(std::string_view card_id) override {
    if (!IsCardId(card_id)) return InvalidArgument("cups: '" + QuoteInput(card_id) + "' is not a card id");
    ASSIGN_OR_RETURN(Http http, Connect());
    return WasSentOn(http.get(), card_id);
  }

  std::string Describe() const override { return "CUPS printer " + printer_ + " on " + server_; }

 private:
  StatusOr<Http> Connect() const {
    errno = 0;
    Http http(httpConnect2(host_.c_str(), port_, nullptr, AF_UNSPEC, HTTP_ENCRYPTION_IF_REQUESTED, /*blocking=*/1,
                           kConnectTimeoutMs, nullptr),
              httpClose);
    if (http == nullptr) {
      return Unavailable("cups: the CUPS server " + server_ + " for printer " + printer_ +
                         " cannot be reached: " + (errno != 0 ? std::strerror(errno) : CupsMessage()));
    }
    httpSetTimeout(http.get(), kRequestTimeoutSeconds, nullptr, nullptr);
    return http;
  }

  ipp_t* NewRequest(ipp_op_t operation) const {
    ipp_t* request = ippNewRequest(operation);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri_);
    ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, cupsUser());
    return request;
  }

  // The status of the last request on this thread, as a Status naming `doing` and the printer.
  Status ErrorFromCups(std::string_view doing) const {
    const ipp_status_t status = cupsLastError();
    if (status <= IPP_STATUS_OK_CONFLICTING) return Status::Ok();
    const std::string what = "cups: " + std::string(doing) + " " + Describe() + ": " + CupsMessage();
    if (status == IPP_STATUS_ERROR_NOT_FOUND) {
      return InvalidArgument("cups: the CUPS server " + server_ + " has no printer " + printer_ + ": " + CupsMessage());
    }
    // Server errors (not accepting jobs, busy, unavailable, no response) pass; client errors (not authorised,
    // document format not supported) and CUPS's own (authentication cancelled, upgrade required) need a fix.
    const bool server_error =
        status >= IPP_STATUS_ERROR_INTERNAL && status < IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED;
    return server_error ? Unavailable(what) : FailedPrecondition(what);
  }

  Status CheckPrinterTakesJobs(http_t* http) const {
    ipp_t* request = NewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
    static const char* const kAttributes[] = {"printer-state", "printer-state-message", "printer-is-accepting-jobs"};
    ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 3, nullptr, kAttributes);
    Ipp response(cupsDoRequest(http, request, "/"), ippDelete);  // frees `request`
    RETURN_IF_ERROR(ErrorFromCups("asking the state of"));
    ipp_attribute_t* state = ippFindAttribute(response.get(), "printer-state", IPP_TAG_ENUM);
    ipp_attribute_t* accepting = ippFindAttribute(response.get(), "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
    ipp_attribute_t* message = ippFindAttribute(response.get(), "printer-state-message", IPP_TAG_TEXT);
    const char* text = message != nullptr ? ippGetString(message, 0, nullptr) : nullptr;
    const std::string because = text != nullptr && *text != '\0' ? std::string(": ") + text : std::string();
    if (state != nullptr && ippGetInteger(state, 0) == IPP_PSTATE_STOPPED) {
      return Unavailable("cups: " + Describe() + " is stopped" + because);
    }
    if (accepting != nullptr && !ippGetBoolean(accepting, 0)) {
      return Unavailable("cups: " + Describe() + " is not accepting jobs" + because);
    }
    return Status::Ok();
  }

  StatusOr<bool> WasSentOn(http_t* http, std::string_view card_id) const {
    cups_job_t* jobs = nullptr;
    const int count = cupsGetJobs2(http, &jobs, printer_.c_str(), /*myjobs=*/0, CUPS_WHICHJOBS_ALL);
    if (count < 0) return ErrorFromCups("reading the job history of");
    bool sent = false;
    for (int i = 0; i < count; ++i) {
      if (jobs[i].title != nullptr && card_id == jobs[i].title && JobCountsAsSent(jobs[i].state)) sent = true;
    }
    cupsFreeJobs(count, jobs);
    return sent;
  }

  std::string printer_;
  std::string host_;
  int port_;
  std::string server_;
  char uri_[HTTP_MAX_URI];
  std::string resource_;
};

}  // namespace

StatusOr<std::unique_ptr<CardOutput>> CupsOutput(std::string printer, std::string server) {
  if (!IsPrinterName(printer)) {
    return InvalidArgument("cups: '" + QuoteInput(printer) + "'" +
                           " is not a CUPS printer name (printable, without spaces, '/', '#', '\\', '@' or quotes)");
  }
  std::string host = server;
  int port = ippPort();
  if (server.empty()) {
    host = cupsServer();
    server = host.starts_with("/") ? host : host + ":" + std::to_string(port);
  } else if (!server.starts_with("/")) {
    const size_t colon = server.rfind(':');
    if (colon != std::string::npos) {
      host = server.substr(0, colon);
      const std::string_view digits = std::string_view(server).substr(colon + 1);
      const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      if (error != std::errc() || end != digits.data() + digits.size() || port <= 0 || port > 65535) {
        return InvalidArgument("cups: server '" + QuoteInput(server) + "' has no valid port (expected host:port)");
      }
    }
    if (host.empty()) return InvalidArgument("cups: server '" + QuoteInput(server) + "' names no host");
  }
  return std::unique_ptr<CardOutput>(std::make_unique<Cups>(std::move(printer), std::move(host), port, std::move(server)));
}

StatusOr<std::unique_ptr<CardOutput>> OpenCardOutput(std::string_view spec) {
  if (!spec.starts_with("cups:")) {
    if (spec.empty()) return InvalidArgument("card output: empty (expected cups:<printer>[@server] or a spool folder)");
    return SpoolOutput(std::filesystem::path(spec));
  }
  const std::string_view target = spec.substr(5);
  const size_t at = target.find('@');
  if (at == std::string_view::npos) return CupsOutput(std::string(target));
  if (at + 1 == target.size()) {
    return InvalidArgument("card output: '" + QuoteInput(spec) + "' names no server after '@'");
  }
  return CupsOutput(std::string(target.substr(0, at)), std::string(target.substr(at + 1)));
}

}  // namespace ektp::card
