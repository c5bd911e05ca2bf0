// tap::PcapWriter: the bytes libpcap's pcap_dump() wrote, records on disk shortly after
// flush() (the writer is a thread) and all of them at close(), a write error reported.
#include "tap/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct Record {
  std::chrono::nanoseconds time;
  Bytes bytes;
  std::size_t length;
};

std::vector<Record> records(std::size_t n) {
  std::vector<Record> out;
  for (std::size_t i = 0; i < n; ++i) {
    Bytes b(14 + (i * 37) % 1500, static_cast<std::uint8_t>(i));
    std::size_t length = i % 7 == 0 ? b.size() + 100 : b.size();  // some cut at the snap length
    out.push_back({std::chrono::nanoseconds(1'795'000'000'123'456'789LL + static_cast<std::int64_t>(i) * 999'999),
                   b, length});
  }
  return out;
}

class PcapWriterTest : public ::testing::Test {
 protected:
  std::filesystem::path path(const char* name) {
    return std::filesystem::path(::testing::TempDir()) / (name + std::to_string(::getpid()) + ".pcap");
  }
  void TearDown() override {
    for (const auto& p : made_) std::filesystem::remove(p);
  }
  std::filesystem::path made(const char* name) {
    made_.push_back(path(name));
    return made_.back();
  }
  std::vector<std::filesystem::path> made_;
};

TEST_F(PcapWriterTest, WritesTheBytesLibpcapWrote) {
  auto ours = made("pcap_writer_ours_");
  auto theirs = made("pcap_writer_libpcap_");
  auto recs = records(6000);  // several 1 MiB hand-overs
  {
    PcapWriter w(ours, 262144);
    for (const auto& r : recs) w.append(r.time, r.bytes, r.length);
    w.close();
  }
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
  ASSERT_NE(dead, nullptr);
  pcap_dumper_t* dumper = pcap_dump_open(dead, theirs.c_str());
  ASSERT_NE(dumper, nullptr);
  for (const auto& r : recs) {
    pcap_pkthdr h{};
    auto s = std::chrono::duration_cast<std::chrono::seconds>(r.time);
    h.ts.tv_sec = s.count();
    h.ts.tv_usec = (r.time - s).count();
    h.caplen = static_cast<bpf_u_int32>(r.bytes.size());
    h.len = static_cast<bpf_u_int32>(r.length);
    pcap_dump(reinterpret_cast<u_char*>(dumper), &h, r.bytes.data());
  }
  pcap_dump_close(dumper);
  pcap_close(dead);
  auto a = read_file(ours), b = read_file(theirs);
  ASSERT_GT(b.size(), 4u << 20);
  EXPECT_TRUE(a == b) << "ours " << a.size() << " bytes, libpcap's " << b.size();
}

TEST_F(PcapWriterTest, FlushedRecordsReachTheFileWithoutClose) {
  auto p = made("pcap_writer_flush_");
  PcapWriter w(p, 262144);
  auto recs = records(10);
  std::size_t expected = 24;
  for (const auto& r : recs) {
    w.append(r.time, r.bytes, r.length);
    expected += 16 + r.bytes.size();
  }
  EXPECT_EQ(std::filesystem::file_size(p), 24u) << "only the header before a flush";
  w.flush();
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::filesystem::file_size(p) < expected && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(std::filesystem::file_size(p), expected) << "every flushed record, whole";
  w.close();
  w.close();  // idempotent
  EXPECT_EQ(std::filesystem::file_size(p), expected);
}

TEST_F(PcapWriterTest, AFileThatCannotBeWrittenIsASetupErrorNamingIt) {
  try {
    PcapWriter w("/dev/full", 262144);
    FAIL() << "wrote a pcap header to /dev/full";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/full"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tapfault::tap
