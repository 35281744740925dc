#include "service/config_schema.h"

#include <algorithm>
#include <limits>
#include <map>
#include <sstream>
#include <toml++/toml.h>
#include <type_traits>
#include <utility>

#include "core/edit_distance.h"

namespace ektp::service {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// One value read from the file, before it is stored.
using FileValue = std::variant<std::string, bool, int64_t, double, std::vector<std::string>>;

// TOML text of a node; strings always "quoted" with escapes.
std::string AsToml(const toml::node& node) {
  std::ostringstream out;
  out << toml::toml_formatter(node, toml::format_flags::none);
  return out.str();
}

std::string ValueAsToml(const ConfigSchema::Target& target) {
  return std::visit(Overloaded{
                        [](const std::string* v) { return AsToml(toml::value<std::string>(*v)); },
                        [](const bool* v) { return std::string(*v ? "true" : "false"); },
                        [](Negated v) { return std::string(*v.target ? "false" : "true"); },
                        [](const double* v) { return AsToml(toml::value<double>(*v)); },
                        [](const std::vector<std::string>* v) {
                          toml::array array;
                          for (const std::string& item : *v) array.push_back(item);
                          return AsToml(array);
                        },
                        [](const std::chrono::milliseconds* v) { return std::to_string(v->count()); },
                        [](const auto* v) { return std::to_string(*v); },  // integers
                    },
                    target);
}

// Reads `key` from `file` as `target`'s type; range errors name the key and `where`.
StatusOr<FileValue> ReadValue(const ConfigFile& file, const ConfigSchema::Key& key, const std::string& where) {
  auto in_range = [&](int64_t value, int64_t min, int64_t max) -> StatusOr<FileValue> {
    if (value < min || value > max) {
      return InvalidArgument(file.name() + ": key '" + key.name + "' must be between " + std::to_string(min) +
                             " and " + std::to_string(max) + ", not " + std::to_string(value) + where);
    }
    return FileValue(value);
  };
  auto read_int = [&](int64_t min, int64_t max) -> StatusOr<FileValue> {
    ASSIGN_OR_RETURN(int64_t value, file.GetInt(key.name));
    return in_range(value, min, max);
  };
  constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
  return std::visit(Overloaded{
                        [&](std::string*) -> StatusOr<FileValue> {
                          ASSIGN_OR_RETURN(std::string value, file.GetString(key.name));
                          return FileValue(std::move(value));
                        },
                        [&](bool*) -> StatusOr<FileValue> {
                          ASSIGN_OR_RETURN(bool value, file.GetBool(key.name));
                          return FileValue(value);
                        },
                        [&](Negated) -> StatusOr<FileValue> {
                          ASSIGN_OR_RETURN(bool value, file.GetBool(key.name));
                          return FileValue(value);
                        },
                        [&](int*) {
                          return read_int(std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
                        },
                        [&](int64_t*) { return read_int(std::numeric_limits<int64_t>::min(), kInt64Max); },
                        [&](uint64_t*) { return read_int(0, kInt64Max); },
                        [&](std::chrono::milliseconds*) { return read_int(0, kInt64Max); },
                        [&](double*) -> StatusOr<FileValue> {
                          ASSIGN_OR_RETURN(double value, file.GetDouble(key.name));
                          return FileValue(value);
                        },
                        [&](std::vector<std::string>*) -> StatusOr<FileValue> {
                          ASSIGN_OR_RETURN(std::vector<std::string> value, file.GetStringList(key.name));
                          return FileValue(std::move(value));
                        },
                    },
                    key.target);
}

// Stores a value ReadValue checked against the same target.
void Store(const ConfigSchema::Target& target, FileValue value) {
  std::visit(Overloaded{
                 [&](std::string* v) { *v = std::get<std::string>(std::move(value)); },
                 [&](bool* v) { *v = std::get<bool>(value); },
                 [&](Negated v) { *v.target = !std::get<bool>(value); },
                 [&](double* v) { *v = std::get<double>(value); },
                 [&](std::vector<std::string>* v) { *v = std::get<std::vector<std::string>>(std::move(value)); },
                 [&](std::chrono::milliseconds* v) { *v = std::chrono::milliseconds(std::get<int64_t>(value)); },
                 [&](auto* v) { *v = static_cast<std::remove_pointer_t<decltype(v)>>(std::get<int64_t>(value)); },
             },
             target);
}

std::string Where(const ConfigFile::Entry& entry) {
  return entry.line > 0 ? " (line " + std::to_string(entry.line) + ")" : "";
}

// The table a dotted key sits in: "listen" for "listen.port", "" for "port".
std::string_view TableOf(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(0, dot);
}

bool IsEmptyString(const ConfigSchema::Target& target) {
  std::string* const* text = std::get_if<std::string*>(&target);
  return text != nullptr && (*text)->empty();
}

}  // namespace

std::string_view ConfigTypeName(const ConfigSchema::Target& target) {
  return std::visit(Overloaded{
                        [](std::string*) { return "a string"; },
                        [](bool*) { return "a boolean"; },
                        [](Negated) { return "a boolean"; },
                        [](double*) { return "a number"; },
                        [](std::vector<std::string>*) { return "an array of strings"; },
                        [](std::chrono::milliseconds*) { return "milliseconds (an integer)"; },
                        [](uint64_t*) { return "a non-negative integer"; },
                        [](auto*) { return "an integer"; },
                    },
                    target);
}

ConfigSchema::ConfigSchema(std::string command) : command_(std::move(command)) {}

ConfigSchema& ConfigSchema::Add(std::string name, std::string flag, std::string help, Target target) {
  std::string default_value = ValueAsToml(target);
  keys_.push_back({std::move(name), std::move(flag), std::move(help), target, std::move(default_value)});
  return *this;
}

ConfigSchema& ConfigSchema::Secret() {
  keys_.back().secret = true;
  return *this;
}

Status ConfigSchema::ApplyFile(const ConfigFile& file, const std::set<std::string, std::less<>>& flags_given) {
  std::vector<std::string> errors;
  std::vector<std::pair<const Key*, FileValue>> values;
  for (const ConfigFile::Entry& entry : file.Entries()) {
    const Key* key = nullptr;
    const Key* closest = nullptr;
    size_t closest_distance = std::numeric_limits<size_t>::max();
    for (const Key& candidate : keys_) {
      if (candidate.name == entry.key) key = &candidate;
      size_t distance = EditDistance(entry.key, candidate.name);
      if (distance < closest_distance) {
        closest_distance = distance;
        closest = &candidate;
      }
    }
    // An empty table of this schema, e.g. [pipeline] with every key commented out.
    if (entry.empty_table && std::any_of(keys_.begin(), keys_.end(), [&entry](const Key& candidate) {
          return TableOf(candidate.name) == entry.key;
        })) {
      continue;
    }
    if (key == nullptr) {
      std::string error = file.name() + ": unknown key '" + entry.key + "'" + Where(entry);
      if (closest != nullptr && closest_distance <= 3) error += "; did you mean '" + closest->name + "'?";
      errors.push_back(std::move(error));
      continue;
    }
    StatusOr<FileValue> value = ReadValue(file, *key, Where(entry));
    if (!value.ok()) {
      errors.push_back(value.status().message());
    } else if (!flags_given.contains(key->flag)) {
      values.emplace_back(key, *std::move(value));
    }
  }
  if (!errors.empty()) {
    std::string message;
    for (const std::string& error : errors) message += (message.empty() ? "" : "\n") + error;
    return InvalidArgument(message);
  }
  for (auto& [key, value] : values) Store(key->target, std::move(value));
  return Status::Ok();
}

std::string ConfigSchema::Toml(std::string header, bool commented) const {
  // Tables in the order their first key was added; top-level keys first.
  std::vector<std::string_view> tables = {""};
  for (const Key& key : keys_) {
    std::string_view table = TableOf(key.name);
    if (std::find(tables.begin(), tables.end(), table) == tables.end()) tables.push_back(table);
  }
  std::string out = std::move(header);
  for (std::string_view table : tables) {
    std::string body;
    for (const Key& key : keys_) {
      if (TableOf(key.name) != table) continue;
      std::string_view leaf = std::string_view(key.name).substr(table.empty() ? 0 : table.size() + 1);
      std::string value = ValueAsToml(key.target);
      if (!commented) {
        if (key.secret && !IsEmptyString(key.target)) value = "\"<set>\"  # secret: not printed";
        body += std::string(leaf) + " = " + value + "\n";
        continue;
      }
      body += (body.empty() ? "" : "\n") + std::string("# ") + key.help + "\n# flag " + key.flag + ", " +
              std::string(ConfigTypeName(key.target)) + ", default " + key.default_value + "\n" +
              (value == key.default_value ? "# " : "") + std::string(leaf) + " = " + value + "\n";
    }
    if (body.empty()) continue;
    if (!table.empty()) out += "\n[" + std::string(table) + "]\n";
    out += body;
  }
  return out;
}

std::string ConfigSchema::EffectiveToml() const {
  return Toml("# Effective configuration of `ektp " + command_ + "`: flags, then the --config file, then the defaults.\n",
              false);
}

std::string ConfigSchema::CommentedToml() const {
  return Toml("# Configuration of `ektp " + command_ + "` (--config FILE); a flag given on the command line wins.\n"
              "# Every key is listed with its meaning and default; a commented-out key takes its default.\n",
              true);
}

std::string ConfigSchema::Reference() const {
  std::string out = "| key | flag | type | default | meaning |\n|---|---|---|---|---|\n";
  for (const Key& key : keys_) {
    out += "| `" + key.name + "` | `" + key.flag + "` | " + std::string(ConfigTypeName(key.target)) + " | `" +
           key.default_value + "` | " + key.help + (key.secret ? " (secret: `--print-config` shows `<set>`)" : "") +
           " |\n";
  }
  return out;
}

}  // namespace ektp::service
