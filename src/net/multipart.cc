#include "net/multipart.h"

#include <map>
#include <string>

namespace ektp::net {
namespace {

constexpr std::string_view kCrlf = "\r\n";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "value; a=b; c=\"d;e\"" → the value before the first ';' and the
// parameters (names lower-cased, quotes and backslash escapes removed).
// kInvalidArgument for an unterminated quote, a parameter without '=' or a
// repeated parameter.
Status SplitParameters(std::string_view header, std::string* value, std::map<std::string, std::string>* params) {
  size_t semicolon = header.find(';');
  *value = LowerAscii(Trim(header.substr(0, semicolon)));
  std::string_view rest = semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
  while (!Trim(rest).empty()) {
    rest = Trim(rest);
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return InvalidArgument("a parameter has no '='");
    std::string name = LowerAscii(Trim(rest.substr(0, eq)));
    if (name.empty()) return InvalidArgument("a parameter has no name");
    rest = Trim(rest.substr(eq + 1));
    std::string param;
    if (!rest.empty() && rest.front() == '"') {
      size_t pos = 1;
      bool closed = false;
      for (; pos < rest.size(); ++pos) {
        if (rest[pos] == '\\' && pos + 1 < rest.size()) {
          param += rest[++pos];
        } else if (rest[pos] == '"') {
          closed = true;
          break;
        } else {
          param += rest[pos];
        }
      }
      if (!closed) return InvalidArgument("parameter '" + name + "' has an unterminated quoted value");
      rest = Trim(rest.substr(pos + 1));
      if (!rest.empty() && rest.front() != ';') {
        return InvalidArgument("parameter '" + name + "' has text after its quoted value");
      }
    } else {
      size_t end = rest.find(';');
      param = std::string(Trim(rest.substr(0, end)));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
    if (!rest.empty()) rest.remove_prefix(1);  // the ';'
    if (!params->emplace(name, std::move(param)).second) {
      return InvalidArgument("parameter '" + name + "' is repeated");
    }
  }
  return Status::Ok();
}

bool HasControlCharacter(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// One part's header block (without the blank line) into `part`.
Status ParsePartHeaders(std::string_view block, MultipartPart* part) {
  bool has_disposition = false;
  bool has_type = false;
  while (!block.empty()) {
    size_t eol = block.find(kCrlf);
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return InvalidArgument("a header line has no name");
    std::string name = LowerAscii(line.substr(0, colon));
    std::string_view value = Trim(line.substr(colon + 1));
    if (HasControlCharacter(value)) return InvalidArgument("header '" + name + "' has a control character");
    if (name == "content-disposition") {
      if (has_disposition) return InvalidArgument("Content-Disposition is repeated");
      has_disposition = true;
      std::string disposition;
      std::map<std::string, std::string> params;
      RETURN_IF_ERROR(SplitParameters(value, &disposition, &params).WithContext("Content-Disposition"));
      if (disposition != "form-data") return InvalidArgument("Content-Disposition is not form-data");
      auto name_param = params.find("name");
      if (name_param == params.end() || name_param->second.empty()) {
        return InvalidArgument("Content-Disposition has no name");
      }
      part->name = name_param->second;
      if (auto filename = params.find("filename"); filename != params.end()) part->filename = filename->second;
    } else if (name == "content-type") {
      if (has_type) return InvalidArgument("Content-Type is repeated");
      has_type = true;
      part->content_type = std::string(value);
    }
  }
  if (!has_disposition) return InvalidArgument("the part has no Content-Disposition");
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  std::string type;
  std::map<std::string, std::string> params;
  RETURN_IF_ERROR(SplitParameters(content_type, &type, &params).WithContext("Content-Type"));
  if (type != "multipart/form-data") return InvalidArgument("Content-Type is not multipart/form-data");
  auto boundary = params.find("boundary");
  if (boundary == params.end()) return InvalidArgument("multipart Content-Type has no boundary");
  const std::string& value = boundary->second;
  if (value.empty() || value.size() > 70) return InvalidArgument("multipart boundary must have 1 to 70 characters");
  if (HasControlCharacter(value)) return InvalidArgument("multipart boundary has a control character");
  return value;
}

StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary) {
  if (boundary.empty()) return InvalidArgument("multipart boundary is empty");
  const std::string delimiter = "\r\n--" + std::string(boundary);
  // The first delimiter has no leading CRLF.
  if (!body.starts_with(std::string_view(delimiter).substr(2))) {
    return InvalidArgument("multipart body does not start with its boundary");
  }
  size_t pos = delimiter.size() - 2;
  std::vector<MultipartPart> parts;
  while (true) {
    if (body.substr(pos).starts_with("--")) {  // the closing delimiter
      std::string_view epilogue = body.substr(pos + 2);
      if (!epilogue.empty() && epilogue != kCrlf) {
        return InvalidArgument("multipart body has data after its closing boundary");
      }
      break;
    }
    std::string context = "multipart part " + std::to_string(parts.size() + 1);
    if (!body.substr(pos).starts_with(kCrlf)) return InvalidArgument(context + ": the boundary line does not end in CRLF");
    pos += 2;
    if (parts.size() == kMaxMultipartParts) {
      return InvalidArgument("multipart body has more than " + std::to_string(kMaxMultipartParts) + " parts");
    }
    MultipartPart part;
    if (body.substr(pos).starts_with(kCrlf)) return InvalidArgument(context + ": the part has no headers");
    // Searched within the header limit only, so a body without a blank line costs no scan of the rest.
    size_t headers_len = body.substr(pos, kMaxPartHeaderBytes + 4).find("\r\n\r\n");
    if (headers_len == std::string_view::npos) {
      return InvalidArgument(context + ": headers unterminated or longer than " +
                             std::to_string(kMaxPartHeaderBytes) + " bytes");
    }
    RETURN_IF_ERROR(ParsePartHeaders(body.substr(pos, headers_len), &part).WithContext(context));
    size_t content_start = pos + headers_len + 4;
    size_t content_end = body.find(delimiter, content_start);
    if (content_end == std::string_view::npos) return InvalidArgument(context + ": no boundary after its content");
    part.content = std::string(body.substr(content_start, content_end - content_start));
    parts.push_back(std::move(part));
    pos = content_end + delimiter.size();
  }
  return parts;
}

}  // namespace ektp::net
