// The diff: what the kernel did on one connection of a capture, event by event,
// against what an expected-backoff model says it should have done.
//
// Read first: flows.hpp (what is observed, and each model's t = 0), diff_inputs.hpp
// (how the model's parameters are found), docs/models.md (the windows).
//
// Every time in a DiffResult is relative to one origin, stated in the result: the
// capture packet that plays the model's t = 0 (Expectation::origin says what that is
// for the model; Origin::what and frame say which packet it is in this capture).
// Observed events of the model's kinds are aligned with the expected ones in time order;
// an event inside [earliest - tolerance, latest + tolerance] is ok, otherwise early or
// late; an expected event with nothing near it is missing, an observed one left over
// is unexpected.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tapfault/replay/analysis/capture_reader.hpp"
#include "tapfault/replay/analysis/diff_inputs.hpp"
#include "tapfault/replay/analysis/flows.hpp"
#include "tapfault/replay/model/model.hpp"

namespace tapfault::replay {

// The capture slack, added to both ends of every window. The model's windows already
// hold the timer wheel's lateness and the origin's phase inside its jiffy; what is left
// is the path between the kernel's clock and the capture's: from the timer softirq to
// the packet passing the tap (tcp_write_xmit(), the qdisc, dev_queue_xmit_nit()), and
// for an origin the kernel receives (a zero-window ACK, the last segment before a
// keepalive) from the tap to the jiffies stamp in tcp_ack(). Both are tens of
// microseconds on an idle machine; the section 13 measurements all fit with 1 ms (see
// tests/unit/model/measured_test.cpp). 2 ms leaves room for a loaded CI machine while
// staying half a jiffy at HZ=250, far below any interval the models distinguish.
inline constexpr Nanos kCaptureSlack = std::chrono::milliseconds(2);
// A give-up seen only as the application's errno is seen when the client process has woken
// up and read it (epoll, then getsockopt): up to a few ms on a loaded 2-core machine.
// A build under AddressSanitizer (the CI's second tree, which checks memory, not timing)
// runs the client several times slower, and its wake-up was seen 90 ms late on a loaded
// machine: there the slack is 100 ms, still half the shortest RTO (a give-up one timer
// firing off is caught in both builds).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr Nanos kApplicationWakeSlack = std::chrono::milliseconds(100);
#else
inline constexpr Nanos kApplicationWakeSlack = std::chrono::milliseconds(10);
#endif
// When the model's origin is a frame the kernel received (the peer's zero-window ACK, the
// last segment before keepalive), the kernel handles it in its receive softirq, which can
// run in the next jiffy: the first event may come one jiffy later than from the frame's time.
inline constexpr Nanos kReceivedOriginSlack = std::chrono::milliseconds(4);

enum class Verdict : std::uint8_t {
  kOk,
  kEarly,
  kLate,
  kMissing,       // expected, and the capture covers its window, but not seen
  kUnexpected,    // seen, but the model has no such event (or no RST, no error)
  kWrongError,    // give-up: the application saw another errno
  kUnobserved,    // give-up: nothing in the capture can show it (no RST) and no errno was given
  kBeyondCapture, // expected after the capture's last packet: cannot be checked
};
const char* to_string(Verdict v);  // "ok", "early", "late", "missing", "unexpected", ...
bool is_mismatch(Verdict v);

// What the application saw, when known (after `tapfault run`, or given to `diff`).
struct ObservedGiveUp {
  std::optional<std::string> error;  // "ETIMEDOUT"; "none" when it saw no error
  std::optional<Nanos> at;           // capture clock (since the epoch)
  bool kernel_rst = false;           // the runner saw the kernel reset the connection
};

struct DiffOptions {
  ModelInputs model;
  FlowSelector flow;                // empty: the first connection showing the model's events
  Nanos tolerance{};                // extra, on top of kCaptureSlack
  ObservedGiveUp give_up;
  std::optional<int> expected_events;  // RTO retransmissions (TLP excluded), SYN retries, probes
  std::string capture_name;         // in messages; default: the capture's path as given
};

struct DiffRow {
  std::string event;  // "TLP", "RTO#3", "SYN#2", "probe#1", "keepalive#2"
  model::EventKind kind = model::EventKind::kRto;
  int number = 0;                 // 1-based within its kind
  bool expected = true;           // false: an unexpected observed event
  bool certain = true;            // the model produces it for every timer-wheel phase
  bool from_timer = true;         // model::ExpectedEvent::from_timer
  std::optional<Nanos> nominal;
  Nanos earliest{};
  Nanos latest{};
  std::optional<Nanos> observed;  // relative to the origin
  std::uint64_t frame = 0;
  Nanos deviation{};  // signed distance outside [earliest - tol, latest + tol]; 0 inside
  Verdict verdict = Verdict::kOk;
};

struct GiveUpRow {
  bool expected = false;
  std::optional<Nanos> nominal;
  Nanos earliest{};
  Nanos latest{};
  std::string expected_error;
  bool expected_rst = false;
  std::string reason;  // the kernel test that fires
  std::optional<Nanos> observed;  // the RST if one was sent, else the application's errno time
  std::optional<std::string> observed_error;
  bool observed_rst = false;
  std::uint64_t rst_frame = 0;
  Nanos deviation{};
  Verdict verdict = Verdict::kOk;
};

struct DiffResult {
  std::string capture;  // as named in messages
  ModelKind model = ModelKind::kRto;
  int flow_index = 0;
  std::string flow;               // "192.0.2.1:40000 -> 192.0.2.2:8080"
  std::string kernel_side;        // why that side is the kernel's
  std::optional<Origin> origin;   // unset when the capture has no packet to put t = 0 on
  Nanos tolerance{};              // kCaptureSlack + DiffOptions::tolerance
  std::optional<Nanos> capture_end;  // the capture's last record, relative to the origin
  model::Expectation expectation;
  std::vector<std::string> notes;  // parameters and their sources, and remarks
  std::vector<DiffRow> rows;       // in time order
  GiveUpRow give_up;
  std::optional<int> expected_events;
  int observed_events = 0;
  bool ok = true;
  std::string first_mismatch;  // "capture.pcap#57: retransmission 3 expected in [...] s but seen at 1.610 s"
  // Non-empty when late events came later and later by a growing amount, as a timer base
  // longer than the model's makes them: a wrong model input, not a timer that ran late
  // once. Says by how much the intervals are longer and the RTO that would fit them.
  std::string input_error;

  nlohmann::json to_json() const;
  std::string to_table() const;
};

// Throws CaptureError when the flow selector matches no connection, ModelInputError for
// bad parameters. A capture where the model's events cannot be found (no retransmission,
// no SYN) is a mismatch, not an error.
DiffResult diff_capture(const Capture& capture, const DiffOptions& options);
// read_capture() then diff_capture(); CaptureError for an unreadable capture.
DiffResult diff_capture_file(const std::filesystem::path& pcap, const DiffOptions& options);

// The human names used in messages: "retransmission 3", "tail loss probe", "SYN
// retransmission 2", "zero-window probe 1", "keepalive probe 2", "give-up".
std::string describe_event(model::EventKind kind, int number);

}  // namespace tapfault::replay
