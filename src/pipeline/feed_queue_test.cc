// Feed ids become visible in id order (feed_queue.h): a reader that moves a
// cursor over `id > cursor`, as a station does, sees every item even while
// two transactions queue items at once.
#include "pipeline/feed_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "core/status_matchers.h"
#include "store/testing.h"

namespace ektp::pipeline {
namespace {

using namespace std::chrono_literals;

QueuedFeedItem Item(const std::string& body) {
  return {"S-1", sync::FeedItem{0, "record_status", body, {1, 2, 3}}};
}

// The station's view: items after `cursor`, the cursor moved to the last.
std::set<std::string> ReadAfter(store::Connection& db, int64_t& cursor) {
  std::set<std::string> bodies;
  auto rows = db.Query("SELECT id, body FROM feed WHERE station_id = ? AND id > ? ORDER BY id", {"S-1", cursor});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (!rows.ok()) return bodies;
  for (const store::Row& row : *rows) {
    cursor = row.Int(0);
    bodies.insert(row.Text(1));
  }
  return bodies;
}

class FeedQueueTest : public ::testing::TestWithParam<std::string> {};

// Transaction A queues an item and stays open; B queues one and commits;
// a reader reads in between and again after A commits. Without the ordering
// lock on PostgreSQL, B's higher id is visible first, the reader's cursor
// passes A's lower id, and A's item is never read.
TEST_P(FeedQueueTest, AnItemCommittedLateIsNotSteppedOver) {
  auto database = store::testing::TestDatabase::Create(GetParam());
  ASSERT_OK(database.status());
  auto a = (*database)->Connect(), b = (*database)->Connect(), reader = (*database)->Connect();
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  ASSERT_OK(reader.status());
  FakeClock clock{std::chrono::sys_days(std::chrono::year_month_day{std::chrono::year(2026), std::chrono::month(12),
                                                                     std::chrono::day(6)})};

  std::promise<void> a_queued, a_may_commit;
  std::shared_future<void> may_commit = a_may_commit.get_future().share();
  std::thread writer_a([&] {
    Status status = (*a)->Transact([&]() -> Status {
      const QueuedFeedItem items[] = {Item("a")};
      RETURN_IF_ERROR(QueueFeedItems(**a, clock, items));
      a_queued.set_value();
      may_commit.wait();
      return Status::Ok();
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
  });
  a_queued.get_future().wait();
  std::atomic<bool> b_committed{false};
  std::thread writer_b([&] {
    Status status = (*b)->Transact([&]() -> Status {
      const QueuedFeedItem items[] = {Item("b")};
      return QueueFeedItems(**b, clock, items);
    });
    EXPECT_TRUE(status.ok()) << status.ToString();
    b_committed = true;
  });
  std::this_thread::sleep_for(300ms);  // long enough for B to commit, were it not held back

  int64_t cursor = 0;
  std::set<std::string> seen = ReadAfter(**reader, cursor);
  EXPECT_FALSE(b_committed) << "B committed its item while A, which queued first, was still open";
  a_may_commit.set_value();
  writer_a.join();
  writer_b.join();
  for (const std::string& body : ReadAfter(**reader, cursor)) seen.insert(body);
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, FeedQueueTest, ::testing::ValuesIn(store::testing::kBackends),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ektp::pipeline
