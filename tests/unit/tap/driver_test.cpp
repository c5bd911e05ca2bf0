// tap::Driver: the real kernel's TCP client against the real stack::Host over a TAP, in
// a private namespace, IPv4 and IPv6. The client is an Asio socket on the same
// io_context, so the whole exchange runs on one thread.
#include "tapfault/tap/driver.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "support/tap_test_env.hpp"
#include "tapfault/tap/network.hpp"

namespace tapfault::tap {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::uint16_t kEchoPort = 7;
constexpr std::string_view kMessage = "hello through the tap";

stack::IpAddress ip(const char* text) { return *stack::IpAddress::parse(text); }

NetworkConfig network_config() {
  NetworkConfig config;
  config.kernel_addresses = {{ip("192.0.2.1"), 24}, {ip("2001:db8:a::1"), 64}};
  config.routes = {{ip("2001:db8::2"), 128, ip("2001:db8:a::2")}};
  return config;
}

stack::HostConfig host_config() {
  stack::HostConfig config;
  config.addresses = {ip("192.0.2.2"), ip("2001:db8:a::2"), ip("2001:db8::2")};
  stack::ListenerConfig echo;
  echo.port = kEchoPort;
  echo.mode = stack::AppMode::kEcho;
  config.listeners = {echo};
  return config;
}

// Connects, sends kMessage, reads the echo, then stops the io_context.
class EchoClient {
 public:
  EchoClient(asio::io_context& io, const std::string& address)
      : io_(io), socket_(io), endpoint_(asio::ip::make_address(address), kEchoPort) {}

  void start() {
    socket_.async_connect(endpoint_, [this](const boost::system::error_code& ec) {
      if (ec) return finish(ec);
      asio::async_write(socket_, asio::buffer(kMessage),
                        [this](const boost::system::error_code& ec, std::size_t) {
                          if (ec) return finish(ec);
                          read_echo();
                        });
    });
  }

  std::string echo() const { return std::string(buffer_.data(), kMessage.size()); }
  std::optional<boost::system::error_code> result;

 private:
  void read_echo() {
    asio::async_read(socket_, asio::buffer(buffer_.data(), kMessage.size()),
                     [this](const boost::system::error_code& ec, std::size_t) { finish(ec); });
  }
  void finish(const boost::system::error_code& ec) {
    result = ec;
    io_.stop();
  }

  asio::io_context& io_;
  tcp::socket socket_;
  tcp::endpoint endpoint_;
  std::array<char, 64> buffer_{};
};

class DriverTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    static int run = 0;  // several tests may share a process (and a pid)
    pcap_path_ = std::filesystem::path(::testing::TempDir()) /
                 ("tap_driver_" + std::to_string(::getpid()) + "_" + std::to_string(++run) +
                  ".pcap");
  }
  std::filesystem::path pcap_path_;
  void TearDown() override { }
};

TEST_P(DriverTest, KernelClientGetsItsEchoFromThePeer) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  std::optional<Recorder> recorder;
  Network network(network_config(),
                  [&](const TapDevice& tap) { recorder.emplace(tap.name(), pcap_path_); });
  stack::Host host(host_config());
  asio::io_context io;
  Driver driver(io, network.tap(), host, &*recorder);
  std::uint64_t hooked = 0;
  stack::Instant last_hooked{};
  driver.on_kernel_frame([&](std::span<const std::uint8_t> frame, stack::Instant at) {
    EXPECT_FALSE(frame.empty());
    EXPECT_GE(at, last_hooked);
    last_hooked = at;
    ++hooked;
  });
  std::uint64_t recorded = 0;
  driver.on_recorded_frame([&](const RecordedFrame&) { ++recorded; });
  std::optional<std::string> error;
  driver.on_error([&](const std::string& message) { error = message; });

  driver.start();
  EchoClient client(io, GetParam());
  client.start();
  io.run_for(std::chrono::seconds(10));
  driver.stop();
  io.restart();
  io.run();  // let the cancelled handlers finish before the driver goes away

  ASSERT_TRUE(client.result.has_value()) << "no echo within 10 s";
  EXPECT_FALSE(*client.result) << client.result->message();
  EXPECT_EQ(client.echo(), kMessage);
  EXPECT_FALSE(error.has_value()) << *error;
  EXPECT_FALSE(driver.error().has_value());
  const DriverStats& stats = driver.stats();
  EXPECT_GE(stats.frames_read, 3u);  // neighbour solicitation or ARP, SYN, data, ...
  EXPECT_GE(stats.frames_written, 3u);
  EXPECT_EQ(stats.write_failures, 0u);
  EXPECT_EQ(hooked, stats.frames_read);
  EXPECT_GE(stats.tap_wakeups, 1u);
  EXPECT_EQ(host.stats().connections_accepted, 1u);
  recorder->drain();
  EXPECT_GE(recorder->stats().frames, stats.frames_read + stats.frames_written);
  EXPECT_GT(recorded, 0u);
}

std::string family_name(const ::testing::TestParamInfo<const char*>& info) {
  constexpr std::array<const char*, 3> kNames = {"Ipv4", "Ipv6OnLink", "Ipv6ViaGateway"};
  return kNames.at(info.index);
}

INSTANTIATE_TEST_SUITE_P(Families, DriverTest,
                         ::testing::Values("192.0.2.2", "2001:db8:a::2", "2001:db8::2"),
                         family_name);

// The peer closes first (it sends its response and a FIN), so it ends in TIME-WAIT and
// only the driver's timer, at the host's deadline, can finish the connection.
TEST_F(DriverTest, TimerPollsTheHostAtItsDeadline) {
  TAPFAULT_ENTER_NETNS_WITH_TUN();
  Network network(network_config());
  stack::HostConfig config = host_config();
  stack::ListenerConfig greeter;
  greeter.port = kEchoPort;
  greeter.mode = stack::AppMode::kRespond;
  greeter.response.assign(kMessage.begin(), kMessage.end());
  greeter.respond_on_connect = true;
  greeter.close_after_response = true;
  config.listeners = {greeter};
  stack::Host host(config);
  asio::io_context io;
  Driver driver(io, network.tap(), host);
  driver.start();

  tcp::socket socket(io);
  std::string received;
  std::array<char, 64> buffer{};
  std::function<void(const boost::system::error_code&, std::size_t)> on_read =
      [&](const boost::system::error_code& ec, std::size_t n) {
        received.append(buffer.data(), n);
        if (!ec) return socket.async_read_some(asio::buffer(buffer), on_read);
        socket.close();  // EOF: the peer's FIN came; ours sends it to TIME-WAIT
      };
  socket.async_connect(tcp::endpoint(asio::ip::make_address("192.0.2.2"), kEchoPort),
                       [&](const boost::system::error_code& ec) {
                         ASSERT_FALSE(ec) << ec.message();
                         socket.async_read_some(asio::buffer(buffer), on_read);
                       });
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto closed = [&] {
    const auto connections = host.connections();
    return !connections.empty() && connections.front().state == stack::TcpState::kClosed;
  };
  while (!closed() && std::chrono::steady_clock::now() < give_up) {
    io.run_for(std::chrono::milliseconds(100));
  }
  driver.stop();
  io.restart();
  io.run();

  EXPECT_EQ(received, kMessage);
  EXPECT_TRUE(closed()) << "the peer never left TIME-WAIT";
  EXPECT_GE(driver.stats().timer_wakeups, 1u);
  EXPECT_GE(driver.stats().timer_rearms, 1u);
  EXPECT_FALSE(driver.error().has_value());
}

TEST(DriverClock, NowRoundTripsThroughSteadyClock) {
  const stack::Instant now = Driver::now();
  EXPECT_EQ(Driver::to_steady(now).time_since_epoch(), now.time_since_epoch());
  EXPECT_LE(Driver::to_steady(now), std::chrono::steady_clock::now());
}

}  // namespace
}  // namespace tapfault::tap
