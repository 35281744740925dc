// The station's down-feed applier: one handler per feed body type
// (sync/feed_items.h), chosen by std::visit, so a new body type does not
// compile until it has a handler here.
#include <type_traits>

#include "station/station.h"

namespace ektp::station {
namespace {

std::string ItemName(int64_t id, std::string_view kind) {
  return "feed item " + std::to_string(id) + " (" + std::string(kind) + ")";
}

// Runs `fn`, turning an exception into a refusal of the item: nothing in one
// item may stop the feed or the sync loop.
Status Guarded(const std::function<Status()>& fn, Status& refusal) {
  try {
    return fn();
  } catch (const std::exception& e) {
    refusal = Internal(std::string("applying it failed: ") + e.what());
  } catch (...) {
    refusal = Internal("applying it failed with an unknown error");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<int64_t> Station::FeedCursor() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT COALESCE(MAX(feed_id), 0) FROM feed_applied"));
  return rows[0].Int(0);
}

Status Station::ApplyFeedBody(int64_t id, const sync::TypedFeedItem& item, Status& refusal) {
  const std::string now = FormatTimestamp(clock_.Now());
  return std::visit(
      [&](const auto& body) -> Status {
        using Body = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<Body, sync::RecordStatusBody>) {
          return db_.Exec("UPDATE enrollments SET status = ?, status_reason = ?, updated_at = ?, "
                          "nik = COALESCE(?, nik) WHERE registration_number = ?",
                          {RecordStateName(body.state), body.reason, now,
                           body.nik.empty() ? store::Value() : store::Value(body.nik), body.registration_number});
        } else if constexpr (std::is_same_v<Body, store::AuditCheckpoint>) {
          Status valid = store::VerifyAuditCheckpoint(body, identity_.central_signing_key);
          if (!valid.ok()) {
            refusal = valid;
            return Status::Ok();
          }
          return db_.Exec("INSERT INTO audit_checkpoints (feed_id, seq, hash, at, signature, received_at) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          {id, body.seq, body.hash, body.at, body.signature, now});
        } else if constexpr (std::is_same_v<Body, sync::PrintJobBody>) {
          return HoldPrintJob(body, refusal);
        } else if constexpr (std::is_same_v<Body, sync::PrintJobWithdrawnBody>) {
          return WithdrawPrintJob(body);
        } else if constexpr (std::is_same_v<Body, sync::BlanksHandedOverBody>) {
          return ExpectBlanks(body, refusal);
        } else if constexpr (std::is_same_v<Body, sync::CardToCollectBody>) {
          return db_.Exec("INSERT INTO cards_to_collect (registration_number, serial, manifest_id, from_station, "
                          "sealed_card, received_at) VALUES (?, ?, ?, ?, ?, ?) "
                          "ON CONFLICT (registration_number) DO NOTHING",
                          {body.registration_number, body.serial, body.manifest_id, body.from_station,
                           body.sealed_card, now});
        } else if constexpr (std::is_same_v<Body, sync::SuketTrustBody>) {
          return KeepSuketTrust(body, refusal);
        } else {
          static_assert(sizeof(Body) == 0, "every feed body type needs a handler");
        }
      },
      item.body);
}

Status Station::MarkFeedItem(int64_t id, std::string_view kind, std::string_view body,
                             std::span<const uint8_t> signature, const Status& refusal) {
  const std::string now = FormatTimestamp(clock_.Now());
  if (refusal.ok()) {
    return db_.Exec("INSERT INTO feed_applied (feed_id, kind, applied_at) VALUES (?, ?, ?)", {id, kind, now});
  }
  return db_.Exec("INSERT INTO feed_applied (feed_id, kind, applied_at, refused_reason, refused_code, body, signature) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  {id, kind, now, refusal.message(), StatusCodeName(refusal.code()), body,
                   store::Blob(signature.begin(), signature.end())});
}

StatusOr<FeedItemOutcome> Station::ApplyFeedItem(int64_t id, std::string_view kind, std::string_view body,
                                                 std::span<const uint8_t> signature) {
  const std::string item = ItemName(id, kind);
  Status refusal;
  std::optional<sync::TypedFeedItem> decoded;
  if (!crypto::Verify(identity_.central_signing_key, body, signature).ok()) {
    refusal = Unauthenticated(item + " is not signed by central's key; it was not applied");
  } else {
    auto typed = sync::DecodeFeedItem(kind, body);
    if (typed.ok()) {
      decoded = std::move(*typed);
    } else {
      refusal = typed.status().WithContext(item);
    }
  }
  RETURN_IF_ERROR(db_.Transact([&]() -> Status {
    ASSIGN_OR_RETURN(auto seen, db_.Query("SELECT 1 FROM feed_applied WHERE feed_id = ?", {id}));
    if (!seen.empty()) {
      refusal = Status::Ok();
      return Status::Ok();
    }
    if (decoded) {
      RETURN_IF_ERROR(Guarded([&] { return ApplyFeedBody(id, *decoded, refusal); }, refusal));
      if (!refusal.ok()) refusal = refusal.WithContext(item);
    }
    return MarkFeedItem(id, kind, body, signature, refusal);
  }));
  return FeedItemOutcome{refusal};
}

StatusOr<int> Station::RetryKeptFeedItems() {
  ASSIGN_OR_RETURN(auto kept, db_.Query("SELECT feed_id, kind, body FROM feed_applied WHERE refused_code = ? "
                                        "ORDER BY feed_id",
                                        {StatusCodeName(StatusCode::kUnimplemented)}));
  int applied = 0;
  for (const store::Row& row : kept) {
    auto typed = sync::DecodeFeedItem(row.Text(1), row.Text(2));
    if (!typed.ok()) continue;  // still unknown to this build
    Status refusal;
    RETURN_IF_ERROR(db_.Transact([&]() -> Status {
      RETURN_IF_ERROR(Guarded([&] { return ApplyFeedBody(row.Int(0), *typed, refusal); }, refusal));
      if (!refusal.ok()) {
        return db_.Exec("UPDATE feed_applied SET refused_reason = ?, refused_code = ? WHERE feed_id = ?",
                        {refusal.WithContext(ItemName(row.Int(0), row.Text(1))).message(),
                         StatusCodeName(refusal.code()), row.Int(0)});
      }
      return db_.Exec("UPDATE feed_applied SET refused_reason = NULL, refused_code = NULL, body = NULL, "
                      "signature = NULL, applied_at = ? WHERE feed_id = ?",
                      {FormatTimestamp(clock_.Now()), row.Int(0)});
    }));
    if (refusal.ok()) ++applied;
  }
  return applied;
}

StatusOr<std::vector<RefusedFeedItem>> Station::RefusedFeedItems() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT feed_id, kind, refused_reason, COALESCE(refused_code, ''), applied_at "
                                        "FROM feed_applied WHERE refused_reason IS NOT NULL ORDER BY feed_id"));
  std::vector<RefusedFeedItem> items;
  for (const store::Row& row : rows) items.push_back({row.Int(0), row.Text(1), row.Text(2), row.Text(3), row.Text(4)});
  return items;
}

StatusOr<std::vector<store::AuditCheckpoint>> Station::AuditCheckpoints() {
  ASSIGN_OR_RETURN(auto rows, db_.Query("SELECT seq, hash, at, signature FROM audit_checkpoints ORDER BY feed_id"));
  std::vector<store::AuditCheckpoint> checkpoints;
  for (const store::Row& row : rows) checkpoints.push_back({row.Int(0), row.Text(1), row.Text(2), row.Bytes(3)});
  return checkpoints;
}

}  // namespace ektp::station
