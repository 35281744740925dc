#include "core/json_reader.h"

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace ektp {

struct JsonDocument::Impl {
  simdjson::dom::parser parser;
  // Every object handed out as a JsonObject; index 0 is the root. Grows when
  // Objects() hands out array items (mutable: reading does not change the JSON).
  mutable std::vector<simdjson::dom::element> nodes;
};

JsonDocument::JsonDocument(std::unique_ptr<Impl> impl, std::string_view name)
    : impl_(std::move(impl)), name_(name) {}

JsonDocument::~JsonDocument() = default;

StatusOr<std::unique_ptr<JsonDocument>> JsonDocument::ParseObject(std::string_view text, std::string_view name) {
  auto impl = std::make_unique<Impl>();
  simdjson::dom::element root;
  if (impl->parser.parse(simdjson::padded_string(text)).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return InvalidArgument(std::string(name) + " is not a JSON object");
  }
  impl->nodes.push_back(root);
  return std::unique_ptr<JsonDocument>(new JsonDocument(std::move(impl), name));
}

JsonObject JsonDocument::root() const { return JsonObject(this, 0, name_); }

std::string JsonObject::FieldPath(std::string_view name) const { return path_ + "." + std::string(name); }

namespace {

// Field `name` of `object` as T; InvalidArgument naming the field's path when it
// is missing or holds another type.
template <typename T>
StatusOr<T> Read(const simdjson::dom::element& object, std::string_view name, const std::string& path) {
  simdjson::dom::element field;
  if (object[name].get(field) != simdjson::SUCCESS) return InvalidArgument(path + " is missing");
  T value;
  if (field.get(value) != simdjson::SUCCESS) return InvalidArgument(path + " has the wrong type");
  return value;
}

}  // namespace

StatusOr<std::string_view> JsonObject::String(std::string_view name) const {
  return Read<std::string_view>(document_->impl_->nodes[node_], name, FieldPath(name));
}

StatusOr<std::string_view> JsonObject::StringOr(std::string_view name, std::string_view fallback) const {
  const simdjson::dom::element& object = document_->impl_->nodes[node_];
  if (object[name].error() == simdjson::NO_SUCH_FIELD) return fallback;
  return Read<std::string_view>(object, name, FieldPath(name));
}

StatusOr<int64_t> JsonObject::Int(std::string_view name) const {
  return Read<int64_t>(document_->impl_->nodes[node_], name, FieldPath(name));
}

StatusOr<int64_t> JsonObject::IntOr(std::string_view name, int64_t fallback) const {
  const simdjson::dom::element& object = document_->impl_->nodes[node_];
  if (object[name].error() == simdjson::NO_SUCH_FIELD) return fallback;
  return Int(name);
}

StatusOr<std::vector<JsonObject>> JsonObject::Objects(std::string_view name) const {
  std::string path = FieldPath(name);
  ASSIGN_OR_RETURN(simdjson::dom::array array, Read<simdjson::dom::array>(document_->impl_->nodes[node_], name, path));
  std::vector<JsonObject> objects;
  auto& nodes = document_->impl_->nodes;
  for (simdjson::dom::element item : array) {
    std::string item_path = path + "[" + std::to_string(objects.size()) + "]";
    if (!item.is_object()) return InvalidArgument(item_path + " has the wrong type");
    nodes.push_back(item);
    objects.push_back(JsonObject(document_, nodes.size() - 1, std::move(item_path)));
  }
  return objects;
}

bool JsonObject::Has(std::string_view name) const {
  return document_->impl_->nodes[node_][name].error() != simdjson::NO_SUCH_FIELD;
}

StatusOr<nlohmann::json> JsonObject::Value(std::string_view name) const {
  simdjson::dom::element field;
  if (document_->impl_->nodes[node_][name].get(field) != simdjson::SUCCESS) {
    return InvalidArgument(FieldPath(name) + " is missing");
  }
  return nlohmann::json::parse(simdjson::minify(field));
}

}  // namespace ektp
