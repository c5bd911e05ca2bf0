// tap::PcapWriter: buffered pcap records, written off the event loop (see pcap_writer.hpp).
//
// Read first: pcap-savefile(5) for the layout. The writer thread does nothing but write()
// the buffers it is given and hand them back; the only locks it takes are this one and
// malloc's (which glibc's fork() takes care of), so a fork() of the process (an external
// client) finds no lock held that the child could need.
#include "pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "tapfault/tap/errors.hpp"

namespace tapfault::tap {
namespace {

constexpr std::uint32_t kMagicNanoseconds = 0xa1b23c4d;
constexpr std::uint32_t kLinkTypeEthernet = 1;  // DLT_EN10MB

template <typename T>
void put(std::vector<std::uint8_t>& out, T value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

// Writes all of `bytes`; returns 0 or the errno of the failure.
int write_all(int fd, const std::vector<std::uint8_t>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

PcapWriter::PcapWriter(const std::filesystem::path& path, std::uint32_t snap_length) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw SetupError("cannot create pcap file " + path.string() + ": " + std::strerror(errno));
  // The file header (pcap-savefile(5)): magic, version 2.4, zone 0, sigfigs 0, snap length,
  // link type; in the machine's byte order, as libpcap writes it.
  std::vector<std::uint8_t> header;
  put(header, kMagicNanoseconds);
  put(header, std::uint16_t{2});
  put(header, std::uint16_t{4});
  put(header, std::int32_t{0});
  put(header, std::uint32_t{0});
  put(header, snap_length);
  put(header, kLinkTypeEthernet);
  if (int err = write_all(fd_, header)) {
    ::close(fd_);
    throw SetupError("cannot write pcap file " + path.string() + ": " + std::strerror(err));
  }
  buffer_.reserve(kChunkBytes + 65536);
  spare_.reserve(kMaxQueuedBytes / kChunkBytes + 2);
  thread_ = std::thread([this] { run(); });
}

PcapWriter::~PcapWriter() {
  try {
    close();
  } catch (...) {
    // A destructor cannot report; call close() first to see the error.
  }
}

void PcapWriter::append(std::chrono::nanoseconds time, std::span<const std::uint8_t> bytes,
                        std::size_t length) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time);
  // The record header (struct pcap_sf_pkthdr): seconds, nanoseconds, captured, on the wire.
  put(buffer_, static_cast<std::uint32_t>(seconds.count()));
  put(buffer_, static_cast<std::uint32_t>((time - seconds).count()));
  put(buffer_, static_cast<std::uint32_t>(bytes.size()));
  put(buffer_, static_cast<std::uint32_t>(length));
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (buffer_.size() < kChunkBytes) return;
  std::unique_lock lock(mutex_);
  room_.wait(lock, [this] { return queued_bytes_ < kMaxQueuedBytes || error_ != 0; });
  hand_over();
}

void PcapWriter::hand_over() {
  if (buffer_.empty()) return;
  queued_bytes_ += buffer_.size();
  queue_.push_back(std::move(buffer_));
  if (spare_.empty()) {
    buffer_ = {};
    buffer_.reserve(kChunkBytes + 65536);
  } else {
    buffer_ = std::move(spare_.back());
    spare_.pop_back();
    buffer_.clear();
  }
  work_.notify_one();
}

void PcapWriter::flush() {
  {
    std::lock_guard lock(mutex_);
    hand_over();
  }
  throw_if_failed();
}

void PcapWriter::throw_if_failed() {
  std::lock_guard lock(mutex_);
  if (error_ != 0)
    throw std::system_error(error_, std::generic_category(), "cannot write pcap file " + path_.string());
}

void PcapWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and everything is written
    std::vector<std::uint8_t> chunk = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    int err = error_ == 0 ? write_all(fd_, chunk) : 0;
    lock.lock();
    if (err != 0 && error_ == 0) error_ = err;
    queued_bytes_ -= chunk.size();
    spare_.push_back(std::move(chunk));
    room_.notify_all();
  }
}

void PcapWriter::close() {
  if (fd_ < 0) return;
  {
    std::lock_guard lock(mutex_);
    hand_over();
    stopping_ = true;
    work_.notify_one();
  }
  thread_.join();
  ::close(fd_);
  fd_ = -1;
  throw_if_failed();
}

}  // namespace tapfault::tap
