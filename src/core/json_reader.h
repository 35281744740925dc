#ifndef EKTP_CORE_JSON_READER_H_
#define EKTP_CORE_JSON_READER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace ektp {

class JsonDocument;

// A read-only view of one JSON object inside a JsonDocument. Valid while the
// document lives; string views it returns point into the document.
//
// Errors are InvalidArgument and name the field by its path from the
// document's name: "envelope.seq is missing", "biometrics.fingers[2].position
// has the wrong type".
class JsonObject {
 public:
  StatusOr<std::string_view> String(std::string_view name) const;
  // The field's string, or `fallback` when the field is absent.
  StatusOr<std::string_view> StringOr(std::string_view name, std::string_view fallback) const;
  StatusOr<int64_t> Int(std::string_view name) const;
  // The field's integer, or `fallback` when the field is absent.
  StatusOr<int64_t> IntOr(std::string_view name, int64_t fallback) const;
  StatusOr<std::vector<JsonObject>> Objects(std::string_view name) const;  // an array of objects
  // Whether the field is present (with any value, null included).
  bool Has(std::string_view name) const;
  // The field as an nlohmann value, for small sub-objects that shared code reads.
  StatusOr<nlohmann::json> Value(std::string_view name) const;
  // "<path of this object>.<name>", for callers' own errors about a field.
  std::string FieldPath(std::string_view name) const;

 private:
  friend class JsonDocument;
  JsonObject(const JsonDocument* document, size_t node, std::string path)
      : document_(document), node_(node), path_(std::move(path)) {}

  const JsonDocument* document_;
  size_t node_;  // index into the document's node table
  std::string path_;
};

// A parsed JSON document whose top level is an object, for the large
// documents central reads per packet (tens of kilobytes, mostly one long
// string). Backed by simdjson, which lexes strings an order of magnitude faster
// than nlohmann-json; use nlohmann-json everywhere speed does not matter.
// Not thread-safe; one document per thread.
class JsonDocument {
 public:
  // InvalidArgument("<name> is not a JSON object") unless `text` is one.
  static StatusOr<std::unique_ptr<JsonDocument>> ParseObject(std::string_view text, std::string_view name);
  ~JsonDocument();
  JsonDocument(const JsonDocument&) = delete;
  JsonDocument& operator=(const JsonDocument&) = delete;

  JsonObject root() const;

 private:
  friend class JsonObject;
  struct Impl;
  explicit JsonDocument(std::unique_ptr<Impl> impl, std::string_view name);
  std::unique_ptr<Impl> impl_;
  std::string name_;
};

}  // namespace ektp

#endif  // EKTP_CORE_JSON_READER_H_
