// ModelProgress and model_progress_text() (progress.hpp).
#include "tapfault/replay/run/progress.hpp"

#include <pcap/dlt.h>

#include <cstdio>

#include "tapfault/replay/analysis/packet.hpp"

namespace tapfault::replay {
namespace {

std::string seconds_text(Nanos d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

bool counted(model::EventKind k) { return k != model::EventKind::kTlp && k != model::EventKind::kGiveUp; }

}  // namespace

std::string model_progress_text(const DiffResult& diff, Nanos now) {
  if (!diff.origin) return {};
  const model::Expectation& e = diff.expectation;
  // The counted kind: RTO retransmissions, SYN retransmissions, probes or keepalives.
  std::optional<model::EventKind> kind;
  int total = 0;
  for (const model::ExpectedEvent& x : e.events)
    if (counted(x.kind)) {
      kind = x.kind;
      ++total;
    }
  if (!kind) return {};
  // The last event of that kind seen, and its expected counterpart.
  const DiffRow* last = nullptr;
  int seen = 0;
  for (const DiffRow& r : diff.rows)
    if (r.kind == *kind && r.observed) {
      last = &r;
      ++seen;
    }
  const std::string of = "/" + std::to_string(total) + (e.truncated ? "+" : "");
  std::string text;
  if (last) text = describe_event(*kind, seen) + of + " at " + seconds_text(*last->observed);

  // What comes next: the next event of the kind, or the give-up.
  const model::ExpectedEvent* next = nullptr;
  int n = 0;
  for (const model::ExpectedEvent& x : e.events)
    if (x.kind == *kind && ++n == seen + 1) next = &x;
  std::optional<Nanos> next_nominal;
  std::string next_name;
  if (next) {
    next_nominal = next->nominal ? next->nominal : std::optional<Nanos>(next->earliest);
    next_name = describe_event(*kind, seen + 1) + of;
  } else if (e.give_up) {
    next_nominal = e.give_up->nominal ? e.give_up->nominal : std::optional<Nanos>(e.give_up->earliest);
    next_name = "give-up (" + e.give_up->error + ")";
  }
  if (!next_nominal) return text.empty() ? text : text + ", no more expected";
  // Anchored on the last expected event seen (a TLP counts: the RTO chain restarts from
  // it): the kernel counts from that firing, lateness included.
  Nanos due = *next_nominal;
  for (const DiffRow& r : diff.rows)
    if (r.expected && r.observed && r.nominal && (r.kind == *kind || r.kind == model::EventKind::kTlp))
      due = *r.observed + (*next_nominal - *r.nominal);
  const Nanos left = due - now;
  std::string when = left >= Nanos::zero() ? "in " + seconds_text(left) : "now (" + seconds_text(-left) + " overdue)";
  if (text.empty()) return next_name + " expected " + when;
  if (next) return text + ", next expected " + when;
  return text + ", " + next_name + " expected " + when;
}

ModelProgress::ModelProgress(DiffOptions options, std::size_t max_packets)
    : options_(std::move(options)), max_packets_(max_packets) {
  capture_.link_type = DLT_EN10MB;
  capture_.link_name = "EN10MB";
}

void ModelProgress::add_frame(std::span<const std::uint8_t> bytes, Nanos time) {
  ++capture_.stats.records;
  if (capture_.stats.records == 1) capture_.first_time = time;
  capture_.last_time = time;
  if (capture_.packets.size() >= max_packets_) {
    overflow_ = true;
    return;
  }
  DecodedRecord d = decode_link_record(DLT_EN10MB, bytes);
  if (d.kind != RecordKind::kPacket) return;
  Packet& p = *d.packet;
  p.frame = capture_.stats.records;
  p.time = time;
  ++(p.tcp() ? capture_.stats.tcp : capture_.stats.icmp);
  capture_.packets.push_back(std::move(p));
  dirty_ = true;
}

void ModelProgress::set_rtt(const RttHints& rtt) {
  RttHints& mine = options_.model.rtt;
  if (mine.srtt == rtt.srtt && mine.rttvar == rtt.rttvar && mine.rto == rtt.rto) return;
  mine = rtt;
  dirty_ = true;
}

std::string ModelProgress::status(Nanos now) {
  if (overflow_) return "model: over " + std::to_string(max_packets_) + " frames, see the report";
  if (dirty_ && capture_.stats.tcp > 0) {
    dirty_ = false;
    try {
      last_ = diff_capture(capture_, options_);
    } catch (const std::exception&) {
      last_.reset();  // no connection with the model's events yet
    }
  }
  if (!last_ || !last_->origin) return {};
  return model_progress_text(*last_, now - last_->origin->at);
}

}  // namespace tapfault::replay
