#include "service/dir_lock.h"

#include <unistd.h>

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/status_matchers.h"

namespace ektp::service {
namespace {

using ::ektp::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DirLockTest, SecondLockIsRefusedNamingTheHolderUntilTheFirstIsReleased) {
  std::string dir = std::filesystem::temp_directory_path() / ("ektp-dir-lock-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto first = DirLock::Acquire(dir, "serve.lock", "`ektp central serve`");
    ASSERT_OK(first.status());
    EXPECT_THAT(DirLock::Acquire(dir, "serve.lock", "`ektp central serve`").status(),
                StatusIs(StatusCode::kFailedPrecondition,
                         HasSubstr("another `ektp central serve` is already using " + dir + " (process " +
                                   std::to_string(::getpid()) + "); stop it first")));
    DirLock moved = std::move(*first);
    EXPECT_THAT(DirLock::Acquire(dir, "serve.lock", "x").status(), StatusIs(StatusCode::kFailedPrecondition, HasSubstr("already using")));
  }
  EXPECT_OK(DirLock::Acquire(dir, "serve.lock", "x").status());
  EXPECT_EQ(std::filesystem::status(dir + "/serve.lock").permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  std::filesystem::remove_all(dir);
}

TEST(DirLockTest, MissingFolderIsUnavailable) {
  EXPECT_THAT(DirLock::Acquire("/nonexistent/ektp", "serve.lock", "x").status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("cannot open lock file /nonexistent/ektp/serve.lock")));
}

}  // namespace
}  // namespace ektp::service
