// The fuzz_peer inputs as unit tests: every crash input ever found (fuzz/regressions/fuzz_peer/)
// and every seed (fuzz/corpus/fuzz_peer/) runs through fuzz/peer_entry.hpp, the entry the
// libFuzzer target calls, and must return normally (no crash, no hang, bounded memory).
#include <gtest/gtest.h>

#include "fuzz/peer_entry.hpp"
#include "support/fuzz_replay.hpp"

namespace tapfault::testing {
namespace {

TEST(FuzzPeerRegressions, EveryCrashInputFoundSoFarRunsCleanly) {
  replay_fuzz_dir(&fuzz::run_peer_input, "regressions", "fuzz_peer");
}

TEST(FuzzPeerRegressions, EverySeedRunsCleanly) {
  auto seeds = fuzz_inputs(fuzz_dir("corpus", "fuzz_peer"));
  ASSERT_FALSE(seeds.empty()) << "fuzz/corpus/fuzz_peer/ holds the seeds";
  replay_fuzz_dir(&fuzz::run_peer_input, "corpus", "fuzz_peer");
}

TEST(FuzzPeerEntry, RepairedChecksumsMakeAMutatedSegmentDecode) {
  // A SYN from the kernel, then its window field changed as a mutation would: the codec
  // rejects it for its checksum until the entry repairs the checksums.
  stack::TcpSegmentOut syn;
  syn.src = *stack::IpAddress::parse("192.0.2.1");
  syn.dst = *stack::IpAddress::parse("192.0.2.2");
  syn.tcp.src_port = 40000;
  syn.tcp.dst_port = 8080;
  syn.tcp.flags = stack::tcp_flags::kSyn;
  auto frame = stack::encode_tcp({*stack::MacAddress::parse("02:00:5e:00:53:01"),
                                  *stack::MacAddress::parse("02:00:5e:00:53:02")}, syn);
  frame[14 + 20 + 14] ^= 0x5a;
  ASSERT_TRUE(std::holds_alternative<stack::DecodeError>(stack::decode_frame(frame)));
  fuzz::peer_detail::fix_checksums(frame);
  auto d = stack::decode_frame(frame);
  ASSERT_TRUE(std::holds_alternative<stack::DecodedFrame>(d)) << std::get<stack::DecodeError>(d).reason;
}

}  // namespace
}  // namespace tapfault::testing
