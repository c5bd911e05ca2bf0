// The model's part of the live status line, on the section 13 (b) timeline (retries2 = 5:
// TLP 0.208, RTO 0.416, 0.844, 1.676, 3.340, 6.828 after the send; ETIMEDOUT 13.484).
// With an RTO of 0.204 s (`tapfault model rto --sysctl net.ipv4.tcp_retries2=5`: TLP
// 0.204, RTO#1..#5 at 0.408, 0.816, 1.632, 3.264, 6.528, give-up 13.056 nominal) the next
// event is due one nominal step after the last one seen, lateness included.
#include "tapfault/replay/run/progress.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/test_files.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;
using testing::Conversation;

constexpr double kSend = 1.0;

Conversation with_retransmissions(std::vector<double> after_send) {
  Conversation c;
  c.handshake(0);
  c.kernel_data(kSend, 1, 100);
  for (double x : after_send) c.kernel_data(kSend + x, 1, 100);
  return c;
}

DiffOptions retries2_five() {
  DiffOptions o;
  o.model.kind = ModelKind::kRto;
  o.model.sysctls["net.ipv4.tcp_retries2"] = "5";
  return o;
}

// The capture so far, as the live run has it, fed frame by frame.
ModelProgress progress_of(const Conversation& c) {
  ModelProgress p(retries2_five());
  for (const auto& f : c.frames) p.add_frame(f.ethernet, f.time);
  return p;
}

TEST(ModelProgress, BeforeAnyLossThereIsNoOriginYet) {
  Conversation c = with_retransmissions({});
  ModelProgress p = progress_of(c);
  EXPECT_EQ(p.status(c.at(kSend + 0.1)), "");
}

TEST(ModelProgress, AfterTheTlpTheFirstRetransmissionIsAwaited) {
  Conversation c = with_retransmissions({0.208});
  ModelProgress p = progress_of(c);
  // The TLP is not counted, but the RTO restarts from it: RTO#1 due 0.208 + 0.204 = 0.412.
  EXPECT_EQ(p.status(c.at(kSend + 0.3)), "retransmission 1/5 expected in 0.1 s");
  EXPECT_EQ(p.status(c.at(kSend + 0.2)), "retransmission 1/5 expected in 0.2 s");
}

TEST(ModelProgress, CountsAndAnchorsOnTheLastRetransmissionSeen) {
  Conversation c = with_retransmissions({0.208, 0.416, 0.844, 1.676});
  ModelProgress p = progress_of(c);
  // RTO#3 seen at 1.676; RTO#4 due 3.264 - 1.632 s later, at 3.308: 1.3 s after 2.0.
  EXPECT_EQ(p.status(c.at(kSend + 2.0)), "retransmission 3/5 at 1.7 s, next expected in 1.3 s");
  // Past its time, the line says so rather than counting below zero.
  EXPECT_EQ(p.status(c.at(kSend + 3.808)), "retransmission 3/5 at 1.7 s, next expected now (0.5 s overdue)");
}

TEST(ModelProgress, AfterTheLastRetransmissionTheGiveUpIsNext) {
  Conversation c = with_retransmissions({0.208, 0.416, 0.844, 1.676, 3.340, 6.828});
  ModelProgress p = progress_of(c);
  // The give-up comes at the firing after RTO#5, 13.056 - 6.528 s later: 6.828 + 6.528 =
  // 13.356, 6.4 s after 7.0 (measured: ETIMEDOUT at 13.484).
  EXPECT_EQ(p.status(c.at(kSend + 7.0)),
            "retransmission 5/5 at 6.8 s, give-up (ETIMEDOUT) expected in 6.4 s");
}

TEST(ModelProgress, NewFramesUpdateTheCount) {
  Conversation c = with_retransmissions({0.208, 0.416});
  ModelProgress p(retries2_five());
  for (const auto& f : c.frames) p.add_frame(f.ethernet, f.time);
  EXPECT_THAT(p.status(c.at(kSend + 0.5)), HasSubstr("retransmission 1/5 at 0.4 s"));
  c.kernel_data(kSend + 0.844, 1, 100);
  p.add_frame(c.frames.back().ethernet, c.frames.back().time);
  EXPECT_THAT(p.status(c.at(kSend + 0.9)), HasSubstr("retransmission 2/5 at 0.8 s"));
}

TEST(ModelProgress, NothingToSayWithoutTheConnection) {
  ModelProgress p(retries2_five());
  EXPECT_EQ(p.status(std::chrono::seconds(1700000000)), "");
}

TEST(ModelProgress, AFrameLimitKeepsMemoryBounded) {
  Conversation c = with_retransmissions({0.208, 0.416});
  ModelProgress p(retries2_five(), 3);
  for (const auto& f : c.frames) p.add_frame(f.ethernet, f.time);
  EXPECT_EQ(p.status(c.at(kSend + 0.5)), "model: over 3 frames, see the report");
}

}  // namespace
}  // namespace tapfault::replay
