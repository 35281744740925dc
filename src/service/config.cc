#include "service/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

namespace ektp::service {

struct ConfigFile::Impl {
  std::string name;
  toml::table table;

  Status Error(std::string_view key, std::string_view what) const {
    return InvalidArgument(name + ": key '" + std::string(key) + "' " + std::string(what));
  }

  static std::string_view TypeName(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::array: return "an array";
      case toml::node_type::table: return "a table";
      case toml::node_type::date: return "a date";
      case toml::node_type::time: return "a time";
      case toml::node_type::date_time: return "a date-time";
      default: return "empty";
    }
  }

  Status WrongType(std::string_view key, const toml::node& node, std::string_view wanted) const {
    std::string where;
    const toml::source_region& src = node.source();
    if (src.begin.line > 0) {
      where = " (line " + std::to_string(src.begin.line) + ", column " + std::to_string(src.begin.column) + ")";
    }
    return Error(key, "must be " + std::string(wanted) + ", not " + std::string(TypeName(node)) + where);
  }

  const toml::node* Find(std::string_view key) const {
    try {
      return table.at_path(key).node();
    } catch (...) {
      return nullptr;
    }
  }
};

namespace {

Status SyntaxError(const std::string& name, const toml::parse_error& err) {
  return InvalidArgument(name + ": syntax error at line " + std::to_string(err.source().begin.line) + ", column " +
                         std::to_string(err.source().begin.column) + ": " + std::string(err.description()));
}

StatusOr<toml::table> ParseToml(std::string_view text, const std::string& name) {
#if TOML_EXCEPTIONS
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& err) {
    return SyntaxError(name, err);
  } catch (const std::exception& err) {
    return InvalidArgument(name + ": cannot parse: " + err.what());
  }
#else
  toml::parse_result result = toml::parse(text, name);
  if (!result) {
    const toml::parse_error& err = result.error();
    return SyntaxError(name, err);
  }
  return std::move(result).table();
#endif
}

}  // namespace

ConfigFile::ConfigFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ConfigFile::ConfigFile(ConfigFile&&) noexcept = default;
ConfigFile& ConfigFile::operator=(ConfigFile&&) noexcept = default;
ConfigFile::~ConfigFile() = default;

StatusOr<ConfigFile> ConfigFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path + ": cannot read config file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(path + ": cannot read config file");
  return Parse(text.str(), path);
}

StatusOr<ConfigFile> ConfigFile::Parse(std::string_view text, std::string name) {
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->table, ParseToml(text, name));
  impl->name = std::move(name);
  return ConfigFile(std::move(impl));
}

const std::string& ConfigFile::name() const { return impl_->name; }

bool ConfigFile::Has(std::string_view key) const { return impl_->Find(key) != nullptr; }

namespace {

void AppendEntries(const toml::table& table, const std::string& prefix, std::vector<ConfigFile::Entry>* out) {
  for (const auto& [key, node] : table) {
    std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    const toml::table* sub = node.as_table();
    if (sub != nullptr && !sub->empty()) {
      AppendEntries(*sub, name, out);
    } else {
      out->push_back({std::move(name), static_cast<int>(node.source().begin.line), sub != nullptr});
    }
  }
}

}  // namespace

std::vector<ConfigFile::Entry> ConfigFile::Entries() const {
  std::vector<Entry> entries;
  AppendEntries(impl_->table, "", &entries);
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  return entries;
}

StatusOr<std::string> ConfigFile::GetString(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  if (node == nullptr) return impl_->Error(key, "is missing (a string is required)");
  if (!node->is_string()) return impl_->WrongType(key, *node, "a string");
  return node->as_string()->get();
}

StatusOr<int64_t> ConfigFile::GetInt(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  if (node == nullptr) return impl_->Error(key, "is missing (an integer is required)");
  if (!node->is_integer()) return impl_->WrongType(key, *node, "an integer");
  return node->as_integer()->get();
}

StatusOr<bool> ConfigFile::GetBool(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  if (node == nullptr) return impl_->Error(key, "is missing (a boolean is required)");
  if (!node->is_boolean()) return impl_->WrongType(key, *node, "a boolean");
  return node->as_boolean()->get();
}

StatusOr<double> ConfigFile::GetDouble(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  if (node == nullptr) return impl_->Error(key, "is missing (a number is required)");
  if (node->is_integer()) return static_cast<double>(node->as_integer()->get());
  if (!node->is_floating_point()) return impl_->WrongType(key, *node, "a number");
  return node->as_floating_point()->get();
}

StatusOr<std::vector<std::string>> ConfigFile::GetStringList(std::string_view key) const {
  const toml::node* node = impl_->Find(key);
  if (node == nullptr) return impl_->Error(key, "is missing (an array of strings is required)");
  const toml::array* array = node->as_array();
  if (array == nullptr) return impl_->WrongType(key, *node, "an array of strings");
  std::vector<std::string> out;
  for (size_t item_idx = 0; item_idx < array->size(); ++item_idx) {
    const toml::node& item = *array->get(item_idx);
    if (!item.is_string()) {
      return impl_->WrongType(std::string(key) + "[" + std::to_string(item_idx) + "]", item, "a string");
    }
    out.push_back(item.as_string()->get());
  }
  return out;
}

StatusOr<std::string> ConfigFile::GetString(std::string_view key, std::string default_value) const {
  if (!Has(key)) return default_value;
  return GetString(key);
}

StatusOr<int64_t> ConfigFile::GetInt(std::string_view key, int64_t default_value) const {
  if (!Has(key)) return default_value;
  return GetInt(key);
}

StatusOr<bool> ConfigFile::GetBool(std::string_view key, bool default_value) const {
  if (!Has(key)) return default_value;
  return GetBool(key);
}

StatusOr<double> ConfigFile::GetDouble(std::string_view key, double default_value) const {
  if (!Has(key)) return default_value;
  return GetDouble(key);
}

StatusOr<std::vector<std::string>> ConfigFile::GetStringList(std::string_view key,
                                                             std::vector<std::string> default_value) const {
  if (!Has(key)) return default_value;
  return GetStringList(key);
}

}  // namespace ektp::service
