#include "service/progress.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ektp::service {
namespace {

using ::testing::HasSubstr;

// Everything readable now from `fd` (non-blocking).
std::string Drain(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = read(fd, buffer, sizeof(buffer))) > 0;) out.append(buffer, static_cast<size_t>(n));
  return out;
}

TEST(ProgressTest, QuietWhenNotATerminal) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  {
    Progress progress(pipe_fds[1]);
    EXPECT_FALSE(progress.active());
    progress.Update("searches", 1, 2);
    progress.Update("searches", 2, 2);
  }
  close(pipe_fds[1]);
  EXPECT_EQ(Drain(pipe_fds[0]), "");
  close(pipe_fds[0]);
}

TEST(ProgressTest, DrawsInPlaceOnATerminalAndClearsAtTheEnd) {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const int terminal = open(ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(terminal, 0);
  {
    Progress progress(terminal);
    EXPECT_TRUE(progress.active());
    progress.Update("gallery", 8192, 10000);
    progress.Update("gallery", 9000, 10000);  // within 100 ms of the last draw: skipped
    progress.Update("searches", 1, 4);        // a new label: drawn
    progress.Update("searches", 4, 4);        // done: drawn
  }
  const std::string drawn = Drain(master);
  EXPECT_THAT(drawn, HasSubstr("\rgallery: 8192/10000 (81%)\x1b[K"));
  EXPECT_EQ(drawn.find("9000"), std::string::npos);
  EXPECT_THAT(drawn, HasSubstr("\rsearches: 1/4 (25%)\x1b[K"));
  EXPECT_THAT(drawn, HasSubstr("\rsearches: 4/4 (100%)\x1b[K"));
  EXPECT_TRUE(drawn.ends_with("\r\x1b[K"));
  close(terminal);
  close(master);
}

}  // namespace
}  // namespace ektp::service
