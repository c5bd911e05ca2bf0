// to_table(): the text `tapfault model` prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/test_util.hpp"

namespace tapfault::replay::model {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(ModelTable, ListsEachEventWithNominalAndWindowInSeconds) {
  KeepaliveParams p;
  p.idle = 1s;
  p.interval = 1s;
  p.probes = 3;
  const std::string t = to_table(keepalive_model(p));
  EXPECT_THAT(t, HasSubstr("model: keepalive  (t = 0: last segment received from the peer, HZ=250)"));
  EXPECT_THAT(t, HasSubstr("   #  event           nominal s  window [earliest, latest] s\n"));
  EXPECT_THAT(t, HasSubstr("   1  keepalive#1         1.000  [1.000, 1.032]\n"));
  EXPECT_THAT(t, HasSubstr("   4  give-up             4.000  [4.072, 4.104]  ETIMEDOUT, RST"));
}

TEST(ModelTable, SaysWhenThereIsNoGiveUpAndTheTimelineWasCut) {
  PersistParams p;
  p.limits.max_events = 2;
  const std::string t = to_table(persist_model(p));
  EXPECT_THAT(t, HasSubstr("   2  probe#2             0.612  [0.616, 0.648]\n"));
  EXPECT_THAT(t, HasSubstr("no give-up within the limits"));
  EXPECT_THAT(t, HasSubstr("truncated"));
}

TEST(ModelTable, MarksEventsThatOnlySomeWheelPhasesProduce) {
  PersistParams p;
  p.rtt.rto = Jiffies{52};
  p.user_timeout = 3000ms;  // probe#4 exists only when the lateness so far is small
  const std::string t = to_table(persist_model(p));
  EXPECT_THAT(t, HasSubstr("probe#4             3.120  [3.188, 3.208]  (some wheel phases only)"));
}

TEST(ModelLabels, NameTheKindAndIndex) {
  EXPECT_EQ(label(ExpectedEvent{EventKind::kRto, 3, std::nullopt, {}, {}, true}), "RTO#3");
  EXPECT_EQ(label(ExpectedEvent{EventKind::kTlp, 1, std::nullopt, {}, {}, true}), "TLP");
  EXPECT_EQ(label(ExpectedEvent{EventKind::kSyn, 2, std::nullopt, {}, {}, true}), "SYN#2");
  EXPECT_EQ(label(ExpectedEvent{EventKind::kGiveUp, 1, std::nullopt, {}, {}, true}), "give-up");
}

}  // namespace
}  // namespace tapfault::replay::model
