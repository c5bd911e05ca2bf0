// From sysctls, socket options and TCP_INFO to the model's parameters: precedence,
// units (tcpi_rttvar is mdev / 4), and the give-up summary `tapfault model` prints.
#include "tapfault/replay/analysis/diff_inputs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tapfault::replay {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using ::testing::HasSubstr;

std::string all_notes(const model::Expectation& e, const std::vector<std::string>& params) {
  std::string s;
  for (const auto& n : e.notes) s += n + "\n";
  for (const auto& n : params) s += n + "\n";
  return s;
}

TEST(DiffInputs, TcpInfoRttvarIsMdevOverFourAndAtLeastRtoMin) {
  ModelInputs in;
  in.rtt.srtt = 10ms;
  in.rtt.rttvar = 60ms;  // mdev_us = 240 ms: rttvar_us = max(240 ms, 200 ms)
  std::vector<std::string> notes;
  model::Expectation e = expectation_for(in, nullptr, &notes);
  EXPECT_THAT(all_notes(e, notes), HasSubstr("= 63 j (0.252 s)"));  // usecs_to_jiffies(250 ms)

  in.rtt.srtt = 251us;
  in.rtt.rttvar = 240us;  // what ss shows on a LAN: rtt:0.251/0.24
  notes.clear();
  e = expectation_for(in, nullptr, &notes);
  EXPECT_THAT(all_notes(e, notes), HasSubstr("= 51 j (0.204 s)"));
}

TEST(DiffInputs, TcpInfoRtoWinsOverSrtt) {
  ModelInputs in;
  in.rtt.rto = 208000us;
  in.rtt.srtt = 10ms;
  std::vector<std::string> notes;
  model::Expectation e = expectation_for(in, nullptr, &notes);
  EXPECT_THAT(all_notes(e, notes), HasSubstr("RTO = min(usecs_to_jiffies(srtt + rttvar), rto_max) = 52 j (0.208 s)"));
}

TEST(DiffInputs, SocketOptionsBeatSysctlsWhichBeatDefaults) {
  ModelInputs in;
  in.kind = ModelKind::kKeepalive;
  in.sysctls = {{"net.ipv4.tcp_keepalive_time", "30"}, {"tcp_keepalive_intvl", "5"}};
  in.socket_options = {{"TCP_KEEPIDLE", 1}};
  std::vector<std::string> notes;
  expectation_for(in, nullptr, &notes);
  EXPECT_THAT(notes, Contains("keepalive idle 1 s (TCP_KEEPIDLE)"));
  EXPECT_THAT(notes, Contains("keepalive interval 5 s (net.ipv4.tcp_keepalive_intvl)"));
  EXPECT_THAT(notes, Contains("keepalive probes 9 (default)"));
}

TEST(DiffInputs, UnknownSysctlsAreIgnoredBadValuesAreNamed) {
  ModelInputs in;
  in.sysctls = {{"net.ipv4.tcp_rmem", "4096 131072 6291456"}, {"net/ipv4/tcp_retries2", "5"}};
  std::vector<std::string> notes;
  expectation_for(in, nullptr, &notes);
  EXPECT_THAT(notes, Contains("tcp_retries2 5 (net.ipv4.tcp_retries2)"));
  in.socket_options = {{"TCP_RTO_MAX_MS", 500}};
  try {
    expectation_for(in, nullptr, nullptr);
    FAIL() << "no ModelInputError";
  } catch (const ModelInputError& e) {
    EXPECT_STREQ(e.what(), "TCP_RTO_MAX_MS: 500 is out of range [1000, 120000]");
  }
}

TEST(DiffInputs, GiveUpSummaries) {
  ModelInputs rto;
  EXPECT_THAT(give_up_summary(rto, expectation_for(rto, nullptr, nullptr)),
              HasSubstr("tcp_model_timeout(tcp_retries2 = 15) = 924.600 s of retransmitting, counted from RTO#1"));
  ModelInputs compressed;
  compressed.sysctls = {{"net.ipv4.tcp_rto_max_ms", "1000"}};
  EXPECT_THAT(give_up_summary(compressed, expectation_for(compressed, nullptr, nullptr)), HasSubstr("= 14.400 s"));
  ModelInputs syn;
  syn.kind = ModelKind::kSyn;
  EXPECT_THAT(give_up_summary(syn, expectation_for(syn, nullptr, nullptr)),
              HasSubstr("after 10 SYN retransmissions (tcp_syn_retries 6 + tcp_syn_linear_timeouts 4) or "
                        "tcp_model_timeout() = 127.000 s"));
  ModelInputs ut;
  ut.socket_options = {{"TCP_USER_TIMEOUT", 3000}};
  EXPECT_THAT(give_up_summary(ut, expectation_for(ut, nullptr, nullptr)),
              HasSubstr("TCP_USER_TIMEOUT 3000 ms replaces the retry limits"));
}

}  // namespace
}  // namespace tapfault::replay
