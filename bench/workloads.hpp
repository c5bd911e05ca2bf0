// bench workloads: what the kernel's TCP client does in each benchmark.
//
// Each runs on the calling thread with plain kernel sockets against an endpoint, the same
// code for tapfault's peer (over the TAP) and for the kernel server (over veth), so the
// only difference between the two figures is the peer. Every wait has a timeout: a peer
// that stops answering fails the benchmark (std::runtime_error) instead of hanging it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tapfault::bench {

struct Endpoint {
  std::string address;  // IPv4, dotted
  std::uint16_t port = 0;
  std::string to_string() const { return address + ":" + std::to_string(port); }
};

// 1. Request/response exchanges of `message_bytes` on one connection (TCP_NODELAY), after
// 100 for warm-up. Rounds (one connection each) accumulate into one ReactionSamples.
struct ReactionSamples {
  std::vector<double> wall_us;         // per exchange: write to the last byte of the echo read
  std::vector<std::uint32_t> rtt_us;   // tcpi_rtt read after every exchange
  std::vector<std::uint32_t> min_rtt_us;  // tcpi_min_rtt at the end of each round
  std::vector<std::uint32_t> srtt_us;     // tcpi_rtt at the end of each round
  std::uint32_t total_retrans = 0;
};
void run_reaction(const Endpoint& to, int exchanges, std::size_t message_bytes, ReactionSamples& into);

struct ReactionResult {
  int exchanges = 0;
  int rounds = 0;
  std::uint32_t min_rtt_us = 0;     // lowest tcpi_min_rtt of any round
  std::uint32_t srtt_us = 0;        // median over the rounds of tcpi_rtt at the end
  std::uint32_t median_rtt_us = 0;  // median of every tcpi_rtt sample
  double wall_min_us = 0;
  double wall_median_us = 0;
  double wall_p99_us = 0;
  std::uint32_t total_retrans = 0;
};
ReactionResult summarize(const ReactionSamples& samples);

// 2. Bulk: `bytes` from the client (then FIN; done at the peer's FIN, so everything was
// received), or `bytes` from the peer's source service (done at its FIN, all checked).
struct BulkResult {
  std::uint64_t bytes = 0;
  double seconds = 0;
  double gbit_per_s = 0;
  std::uint32_t total_retrans = 0;  // the client's, tcpi_total_retrans
};
BulkResult run_bulk_send(const Endpoint& to, std::uint64_t bytes);
BulkResult run_bulk_receive(const Endpoint& from, std::uint64_t bytes);

// 3. Scale: `connections` concurrent connections (at most `max_connecting` handshakes in
// progress at once), then `exchanges_total` request/responses of 64 bytes spread over
// them, every connection with one request outstanding at a time; then all closed.
enum class ScaleMark : std::uint8_t { kBeforeConnect, kEstablished, kExchanged };
struct ScaleResult {
  int connections = 0;
  int exchanges = 0;
  double connect_seconds = 0;
  double handshakes_per_s = 0;
  double exchange_seconds = 0;
  double exchanges_per_s = 0;
  std::uint64_t syn_retransmits = 0;  // tcpi_total_retrans over every socket after the handshake
  std::uint64_t exchange_retransmits = 0;  // tcpi_total_retrans added during the exchanges
};
ScaleResult run_scale(const Endpoint& to, int connections, int exchanges_total, int max_connecting,
                      const std::function<void(ScaleMark)>& mark);

// Raises RLIMIT_NOFILE's soft limit to `fds` (the hard one too, with CAP_SYS_RESOURCE);
// returns the soft limit now in force, which may be less.
std::uint64_t raise_fd_limit(std::uint64_t fds);

}  // namespace tapfault::bench
