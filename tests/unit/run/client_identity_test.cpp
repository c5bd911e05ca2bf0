// Who an external client runs as: the user behind sudo, root only when asked, and a clear
// refusal otherwise (issue 8: tapfault runs as root; the program it starts need not).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tapfault/replay/run/run.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;

TEST(ClientIdentity, ThroughSudoTheClientRunsAsTheUserWhoRanSudo) {
  auto c = choose_client_identity(false, 0, "1000", "1001", "alice");
  ASSERT_TRUE(c.error.empty()) << c.error;
  ASSERT_TRUE(c.identity);
  EXPECT_EQ(c.identity->uid, 1000u);
  EXPECT_EQ(c.identity->gid, 1001u);
  EXPECT_EQ(c.identity->user, "alice");
}

TEST(ClientIdentity, AsRootWinsOverSudo) {
  auto c = choose_client_identity(true, 0, "1000", "1000", "alice");
  EXPECT_TRUE(c.error.empty());
  EXPECT_FALSE(c.identity);
}

TEST(ClientIdentity, RootWithoutSudoOrAsRootIsRefused) {
  for (const char* sudo_uid : {static_cast<const char*>(nullptr), "", "0"}) {
    auto c = choose_client_identity(false, 0, sudo_uid, nullptr, nullptr);
    EXPECT_FALSE(c.identity);
    EXPECT_THAT(c.error, HasSubstr("would run as root")) << (sudo_uid ? sudo_uid : "unset");
    EXPECT_THAT(c.error, HasSubstr("--as-root"));
  }
}

TEST(ClientIdentity, WithoutRootThereIsNothingToDrop) {
  auto c = choose_client_identity(false, 1000, nullptr, nullptr, nullptr);
  EXPECT_TRUE(c.error.empty());
  EXPECT_FALSE(c.identity);
}

TEST(ClientIdentity, GarbageInSudoVariablesIsAnError) {
  EXPECT_THAT(choose_client_identity(false, 0, "12x", "1", "a").error, HasSubstr("SUDO_UID=12x is not a user id"));
  EXPECT_THAT(choose_client_identity(false, 0, "12", "-1", "a").error, HasSubstr("SUDO_GID=-1 is not a group id"));
}

TEST(ClientIdentity, WithoutSudoGidTheGroupIsTheUsersOwn) {
  auto c = choose_client_identity(false, 0, "65534", nullptr, nullptr);  // nobody
  ASSERT_TRUE(c.identity);
  EXPECT_EQ(c.identity->uid, 65534u);
  EXPECT_EQ(c.identity->gid, 65534u);  // nogroup on Debian
}

}  // namespace
}  // namespace tapfault::replay
