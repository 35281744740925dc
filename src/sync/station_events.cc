#include "sync/station_events.h"

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

}  // namespace ektp::sync
