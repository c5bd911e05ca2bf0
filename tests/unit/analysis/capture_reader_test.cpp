// Reading captures: every supported link type and pcapng; and every way a file can be
// wrong gives a CaptureError "FILE: what is wrong", never a crash.
#include "tapfault/replay/analysis/capture_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/test_files.hpp"
#include "support/pcap_builder.hpp"

namespace tapfault::replay {
namespace {

using ::testing::HasSubstr;
using testing::Conversation;

Conversation small_conversation() {
  Conversation c;
  c.handshake(0);
  c.kernel_data(1.0, 1, 100);
  c.peer_ack(1.0001, 101);
  return c;
}

std::string error_of(const std::filesystem::path& p) {
  try {
    read_capture(p);
  } catch (const CaptureError& e) {
    return e.what();
  }
  return "no error";
}

void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CaptureReader, ReadsEthernetWithNanosecondsFramesAndMacs) {
  auto path = testing::scratch_dir() / "capture.pcap";
  Conversation c = small_conversation();
  testing::write_pcap(path, c.frames);
  Capture cap = read_capture(path);
  EXPECT_EQ(cap.link_name, "EN10MB");
  ASSERT_EQ(cap.packets.size(), 5u);
  EXPECT_EQ(cap.stats.records, 5u);
  EXPECT_EQ(cap.stats.tcp, 5u);
  const Packet& data = cap.packets[3];
  EXPECT_EQ(data.frame, 4u);
  EXPECT_EQ(data.time, c.at(1.0));
  EXPECT_EQ(data.src.to_string(), "192.0.2.1");
  ASSERT_TRUE(data.src_mac);
  EXPECT_EQ(data.src_mac->to_string(), "02:00:5e:00:53:01");
  ASSERT_TRUE(data.tcp());
  EXPECT_EQ(data.tcp()->payload_length, 100u);
  EXPECT_EQ(data.tcp()->option_kinds, (std::vector<std::uint8_t>{1, 1, 8}));  // NOP NOP TS
  const Packet& syn = cap.packets[0];
  EXPECT_EQ(syn.tcp()->header.options.mss, 1460);
  EXPECT_TRUE(syn.tcp()->header.options.sack_permitted);
  EXPECT_EQ(syn.direction, LinkDirection::kUnknown);
}

TEST(CaptureReader, LinuxCookedCapturesCarryTheDirection) {
  for (int dlt : {DLT_LINUX_SLL, DLT_LINUX_SLL2}) {
    auto path = testing::scratch_dir() / "capture.pcap";
    testing::write_pcap(path, small_conversation().frames, dlt);
    Capture cap = read_capture(path);
    ASSERT_EQ(cap.packets.size(), 5u) << dlt;
    EXPECT_EQ(cap.packets[0].direction, LinkDirection::kOutgoing) << dlt;
    EXPECT_EQ(cap.packets[1].direction, LinkDirection::kIncoming) << dlt;
    EXPECT_FALSE(cap.packets[0].src_mac) << dlt;
    EXPECT_EQ(cap.packets[3].tcp()->payload_length, 100u) << dlt;
  }
}

TEST(CaptureReader, RawIpCaptures) {
  for (int dlt : {DLT_RAW, DLT_IPV4}) {
    auto path = testing::scratch_dir() / "capture.pcap";
    testing::write_pcap(path, small_conversation().frames, dlt);
    Capture cap = read_capture(path);
    EXPECT_EQ(cap.packets.size(), 5u) << dlt;
  }
  Conversation v6(true);
  v6.handshake(0);
  auto path = testing::scratch_dir() / "capture6.pcap";
  testing::write_pcap(path, v6.frames, DLT_IPV6);
  EXPECT_EQ(read_capture(path).packets.size(), 3u);
}

TEST(CaptureReader, ReadsPcapngMadeByEditcap) {
  if (!testing::tool_available("editcap")) {
    if (testing::in_ci()) FAIL() << "editcap is missing; the test script installs it";
    GTEST_SKIP() << "editcap (wireshark-common) is not installed";
  }
  auto dir = testing::scratch_dir();
  testing::write_pcap(dir / "capture.pcap", small_conversation().frames);
  auto r = testing::shell("editcap -F pcapng " + (dir / "capture.pcap").string() + " " +
                                (dir / "capture.pcapng").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto bytes = read_bytes(dir / "capture.pcapng");
  ASSERT_GE(bytes.size(), 4u);
  EXPECT_EQ(bytes[0], 0x0a);  // section header block
  Capture cap = read_capture(dir / "capture.pcapng");
  ASSERT_EQ(cap.packets.size(), 5u);
  EXPECT_EQ(cap.packets[3].time, small_conversation().at(1.0));
}

TEST(CaptureReader, SnapLengthCutRecordsStillCountPayload) {
  auto dir = testing::scratch_dir();
  testing::write_pcap(dir / "full.pcap", small_conversation().frames);
  // Rewrite with every record cut to 80 bytes (headers kept, payload cut).
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* src = pcap_open_offline_with_tstamp_precision((dir / "full.pcap").c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 80, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, (dir / "cut.pcap").c_str());
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(src, &h, &data) == 1) {
    pcap_pkthdr cut = *h;
    cut.caplen = std::min<bpf_u_int32>(h->caplen, 80);
    pcap_dump(reinterpret_cast<u_char*>(d), &cut, data);
  }
  pcap_dump_close(d);
  pcap_close(dead);
  pcap_close(src);
  Capture cap = read_capture(dir / "cut.pcap");
  ASSERT_EQ(cap.packets.size(), 5u);
  EXPECT_EQ(cap.packets[3].tcp()->payload_length, 100u);
  EXPECT_EQ(cap.stats.cut_by_snaplen, 1u);
}

TEST(CaptureReaderErrors, MissingFile) {
  auto p = testing::scratch_dir() / "nope.pcap";
  EXPECT_EQ(error_of(p), p.string() + ": no such file");
}

TEST(CaptureReaderErrors, EmptyFile) {
  auto p = testing::scratch_dir() / "empty.pcap";
  write_bytes(p, {});
  EXPECT_EQ(error_of(p), p.string() + ": empty file (not a capture)");
}

TEST(CaptureReaderErrors, TruncatedFileHeader) {
  auto dir = testing::scratch_dir();
  testing::write_pcap(dir / "ok.pcap", small_conversation().frames);
  auto bytes = read_bytes(dir / "ok.pcap");
  bytes.resize(10);
  write_bytes(dir / "cut.pcap", bytes);
  EXPECT_THAT(error_of(dir / "cut.pcap"), HasSubstr((dir / "cut.pcap").string() + ": truncated file header ("));
}

TEST(CaptureReaderErrors, TruncatedRecordNamesItsFrame) {
  auto dir = testing::scratch_dir();
  testing::write_pcap(dir / "ok.pcap", small_conversation().frames);
  auto bytes = read_bytes(dir / "ok.pcap");
  bytes.resize(bytes.size() - 20);  // the last record loses 20 bytes
  write_bytes(dir / "cut.pcap", bytes);
  EXPECT_THAT(error_of(dir / "cut.pcap"),
              HasSubstr((dir / "cut.pcap").string() + ": frame 5: truncated or corrupt record (truncated dump file"));
  auto p = dir / "cut2.pcap";
  auto first = read_bytes(dir / "ok.pcap");
  std::uint32_t caplen = first[32] | first[33] << 8 | first[34] << 16 | static_cast<std::uint32_t>(first[35]) << 24;
  first.resize(24 + 16 + caplen + 7);  // frame 1 whole, frame 2's record header cut
  write_bytes(p, first);
  EXPECT_THAT(error_of(p), HasSubstr(p.string() + ": frame 2: truncated or corrupt record"));
}

TEST(CaptureReaderErrors, WrongMagic) {
  auto p = testing::scratch_dir() / "text.pcap";
  std::string text = "this is not a capture, just some text that is long enough\n";
  write_bytes(p, std::vector<std::uint8_t>(text.begin(), text.end()));
  EXPECT_EQ(error_of(p), p.string() + ": not a pcap or pcapng capture (unknown magic number)");
}

TEST(CaptureReaderErrors, UnknownLinkType) {
  auto p = testing::scratch_dir() / "ppp.pcap";
  pcap_t* dead = pcap_open_dead(DLT_PPP, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, p.c_str());
  pcap_pkthdr h{};
  std::uint8_t bytes[8] = {0xff, 0x03, 0, 0x21, 0x45};
  h.caplen = h.len = sizeof bytes;
  pcap_dump(reinterpret_cast<u_char*>(d), &h, bytes);
  pcap_dump_close(d);
  pcap_close(dead);
  EXPECT_THAT(error_of(p), HasSubstr(p.string() + ": unsupported link type PPP (9); supported: EN10MB"));
}

TEST(CaptureReaderErrors, NoPackets) {
  auto p = testing::scratch_dir() / "none.pcap";
  testing::write_pcap(p, {});
  EXPECT_EQ(error_of(p), p.string() + ": the capture holds no packets");
  EXPECT_NO_THROW(read_capture(p, ReadOptions{.require_tcp = false}));
}

TEST(CaptureReaderErrors, NoTcp) {
  auto p = testing::scratch_dir() / "arp.pcap";
  std::vector<std::uint8_t> arp = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x5e, 0, 0x53, 2, 0x08, 0x06,
                                   0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0x5e, 0, 0x53, 2, 192, 0, 2, 2, 0, 0, 0, 0, 0, 0,
                                   192, 0, 2, 1};
  arp.resize(60, 0);
  testing::BuiltFrame f{std::chrono::seconds(1), arp, false};
  testing::write_pcap(p, {f, f});
  EXPECT_EQ(error_of(p), p.string() + ": no TCP segment in 2 records (link type EN10MB, 0 malformed)");
}

TEST(CaptureReaderErrors, MalformedRecordsAreCountedNotFatal) {
  auto p = testing::scratch_dir() / "bad.pcap";
  Conversation c = small_conversation();
  auto frames = c.frames;
  auto broken = frames[3];
  broken.ethernet.resize(14 + 20 + 10);  // TCP header cut in half
  broken.ethernet[14 + 2] = 0;           // IP total length says 30
  broken.ethernet[14 + 3] = 30;
  frames.push_back(broken);
  testing::write_pcap(p, frames);
  Capture cap = read_capture(p);
  EXPECT_EQ(cap.stats.malformed, 1u);
  EXPECT_EQ(cap.packets.size(), 5u);
}

TEST(CaptureReaderErrors, ATimeStampPast2262IsACorruptRecord) {
  // Found by fuzz_capture: a pcapng time stamp whose nanoseconds overflow 64 bits.
  auto p = std::filesystem::path(TAPFAULT_SOURCE_DIR) / "fuzz/regressions/fuzz_capture/pcapng-timestamp-overflows-nanoseconds";
  std::string e = error_of(p);
  EXPECT_THAT(e, HasSubstr(p.string() + ": frame 6: time stamp 11018635354.865680318 s"));
  EXPECT_THAT(e, HasSubstr("outside 1970..2262"));
}

TEST(PacketDecode, NeverReadsOutsideTheRecord) {
  Conversation c = small_conversation();
  const auto& frame = c.frames[0].ethernet;
  for (int dlt : {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW})
    for (std::size_t n = 0; n < frame.size(); ++n) {
      std::vector<std::uint8_t> cut(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
      DecodedRecord r = decode_link_record(dlt, cut);  // ASan builds check the bounds
      if (dlt == DLT_EN10MB) {
        EXPECT_NE(r.kind, RecordKind::kPacket) << n << " bytes";
      }
    }
}

}  // namespace
}  // namespace tapfault::replay
