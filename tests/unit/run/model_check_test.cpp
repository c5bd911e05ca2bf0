// diff_run(): what `tapfault run` passes to the diff after a run with expect.model (the
// namespace's sysctls, the client's TCP_INFO and errno) checks the run's own capture.
#include "tapfault/replay/run/model_check.hpp"

#include <cerrno>

#include <gtest/gtest.h>

#include "support/pcap_builder.hpp"
#include "support/test_files.hpp"

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using testing::Conversation;

constexpr double kSend = 1.0;  // the triggering send, 1 s after the SYN

// docs/kernel-timing.md section 13 (b), with RTO#3 200 ms late: retries2 = 5, TLP 0.208;
// RTO 0.416, 0.844, 1.676, 3.340, 6.828; ETIMEDOUT 13.484.
Conversation retries2_five_with_rto3_late() {
  Conversation c;
  c.handshake(0);
  c.kernel_data(kSend, 1, 100);
  for (double x : {0.208, 0.416, 0.844, 1.876, 3.340, 6.828}) c.kernel_data(kSend + x, 1, 100);
  return c;
}

TEST(DiffRun, WhatTheRunnerPassesChecksTheRunsCapture) {
  Conversation c = retries2_five_with_rto3_late();
  auto path = testing::scratch_dir() / "capture.pcap";
  testing::write_pcap(path, c.frames);
  ModelRunInputs in;
  in.model = to_model_kind(ModelExpectation::Kind::kRto);
  in.sysctls = {{"net.ipv4.tcp_retries2", "5"}, {"net.ipv4.tcp_rmem", "4096 131072 6291456"}};
  in.rto = 204000us;
  in.final_errno = ETIMEDOUT;
  in.final_error_time = c.at(kSend + 13.484);
  in.client_port = 40000;
  DiffResult r = diff_run(path, in);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_mismatch, "capture.pcap#8: retransmission 3 expected in [1.664, 1.696] s but seen at 1.876 s");
  EXPECT_EQ(r.give_up.observed_error, "ETIMEDOUT");
  EXPECT_EQ(r.give_up.verdict, Verdict::kOk);

  in.client_port = 41000;
  EXPECT_THROW(diff_run(path, in), CaptureError);
  EXPECT_EQ(errno_name(0), "none");
  EXPECT_EQ(errno_name(EHOSTUNREACH), "EHOSTUNREACH");
}

}  // namespace
}  // namespace tapfault::replay
