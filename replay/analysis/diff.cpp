// diff_capture(): choose the connection, put t = 0 where the model puts it, collect
// what the kernel sent of the model's kinds, align it with the expectation, judge the
// give-up, and name the first mismatch.
#include "tapfault/replay/analysis/diff.hpp"

#include "diff_anchor.hpp"

#include <algorithm>
#include <cstdio>

namespace tapfault::replay {
namespace {

using model::EventKind;
using model::ExpectedEvent;

struct Seen {
  Nanos t;
  std::uint64_t frame;
};

std::string secs(Nanos d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", std::chrono::duration<double>(d).count());
  return buf;
}

std::string window_text(Nanos lo, Nanos hi) { return "[" + secs(lo) + ", " + secs(hi) + "] s"; }

// Signed distance of t outside [lo, hi]; 0 inside.
Nanos outside(Nanos t, Nanos lo, Nanos hi) {
  if (t < lo) return t - lo;
  if (t > hi) return t - hi;
  return Nanos::zero();
}

bool shows_model(const Flow& f, ModelKind k) {
  auto has = [&](KernelEventKind kind) {
    return std::any_of(f.kernel_events.begin(), f.kernel_events.end(), [&](const auto& e) { return e.kind == kind; });
  };
  switch (k) {
    case ModelKind::kRto: return !f.episodes.empty();
    case ModelKind::kSyn: return has(KernelEventKind::kSynRetransmit);
    case ModelKind::kPersist: return has(KernelEventKind::kZeroWindowProbe);
    case ModelKind::kKeepalive: return has(KernelEventKind::kKeepaliveProbe);
  }
  return false;
}

Flow& choose_flow(std::vector<Flow>& flows, const DiffOptions& o, const Capture& c) {
  std::vector<Flow*> match;
  for (Flow& f : flows)
    if (o.flow.matches(f)) match.push_back(&f);
  if (match.empty()) {
    std::string list;
    for (const Flow& f : flows) list += "\n  " + std::to_string(f.index) + ": " + f.name();
    throw CaptureError(c.path, "no connection matches --flow " + o.flow.to_string() + "; the capture has:" + list);
  }
  for (Flow* f : match)
    if (shows_model(*f, o.model.kind)) return *f;
  if (o.model.kind == ModelKind::kSyn)
    for (Flow* f : match)
      if (f->handshake_seen) return *f;
  return *match.front();
}

// What the kernel sent of the model's kinds, from the origin until the model's
// situation ends (the episode recovers, the window opens, the peer speaks again).
struct Observed {
  std::vector<Seen> tlp, rto, syn, probe, keepalive;
};

Observed collect(const Flow& f, ModelKind k) {
  Observed o;
  const Nanos origin = f.origin.at;
  Nanos end = Nanos::max();
  if (k == ModelKind::kPersist || k == ModelKind::kKeepalive) {
    Nanos first_probe = Nanos::max();
    for (const KernelEvent& e : f.kernel_events)
      if (e.at >= origin && (e.kind == KernelEventKind::kZeroWindowProbe || e.kind == KernelEventKind::kKeepaliveProbe)) {
        first_probe = e.at;
        break;
      }
    for (const PeerEvent& e : f.peer_events) {
      if (e.at <= origin || e.kind == PeerEventKind::kIcmp) continue;
      bool ends = k == ModelKind::kPersist ? e.kind != PeerEventKind::kZeroWindow : e.at > first_probe;
      if (ends) {
        end = e.at;
        break;
      }
    }
  }
  const LossEpisode* ep = k == ModelKind::kRto ? chosen_episode(f) : nullptr;
  for (const KernelEvent& e : f.kernel_events) {
    if (e.at < origin || e.at > end) continue;
    Seen s{e.t, e.frame};
    switch (e.kind) {
      case KernelEventKind::kTlp:
        if (ep && e.episode == ep->index) o.tlp.push_back(s);
        break;
      case KernelEventKind::kRetransmit:
        if (ep && e.episode == ep->index) o.rto.push_back(s);
        break;
      case KernelEventKind::kSynRetransmit:
        if (k == ModelKind::kSyn) o.syn.push_back(s);
        break;
      case KernelEventKind::kZeroWindowProbe:
        if (k == ModelKind::kPersist) o.probe.push_back(s);
        break;
      case KernelEventKind::kKeepaliveProbe:
        if (k == ModelKind::kKeepalive) o.keepalive.push_back(s);
        break;
      default:
        break;
    }
  }
  return o;
}

// The extractor calls the first retransmission of a SACK connection's episode a TLP
// when it repeats the last segment; with one segment in flight an RTO would repeat the
// same one. The model knows whether a TLP is due: follow it, and when the capture
// could not tell (no handshake), decide by which window the packet is nearer.
void reconcile_tlp(Observed& o, const model::Expectation& x, Nanos tol, std::vector<std::string>& notes) {
  const ExpectedEvent* tlp = nullptr;
  const ExpectedEvent* rto1 = nullptr;
  for (const ExpectedEvent& e : x.events) {
    if (e.kind == EventKind::kTlp && !tlp) tlp = &e;
    if (e.kind == EventKind::kRto && e.index == 1) rto1 = &e;
  }
  if (!tlp && !o.tlp.empty()) {
    o.rto.insert(o.rto.begin(), o.tlp.begin(), o.tlp.end());
    o.tlp.clear();
    notes.push_back("the model expects no TLP: the first retransmission counts as RTO#1");
  } else if (tlp && o.tlp.empty() && !o.rto.empty()) {
    Nanos t = o.rto.front().t;
    Nanos to_tlp = outside(t, tlp->earliest - tol, tlp->latest + tol);
    Nanos to_rto = rto1 ? outside(t, rto1->earliest - tol, rto1->latest + tol) : Nanos::max();
    if (std::chrono::abs(to_tlp) <= std::chrono::abs(to_rto)) {
      o.tlp.push_back(o.rto.front());
      o.rto.erase(o.rto.begin());
      notes.push_back("the first retransmission is taken as the TLP by its time");
    }
  }
}

class Aligner {
 public:
  Aligner(Nanos tol, std::optional<Nanos> capture_end, std::vector<DiffRow>& rows)
      : tol_(tol), capture_end_(capture_end), rows_(rows) {}

  void run(EventKind kind, const std::vector<const ExpectedEvent*>& exp, const std::vector<Seen>& obs) {
    std::size_t i = 0, j = 0;
    auto fits = [&](const Seen& s, const ExpectedEvent& e) {
      return s.t >= e.earliest - tol_ && s.t <= e.latest + tol_;
    };
    while (i < exp.size() || j < obs.size()) {
      if (i == exp.size()) {
        unexpected(kind, static_cast<int>(j) + 1, obs[j]);
        ++j;
      } else if (j == obs.size()) {
        missing(*exp[i++]);
      } else if (fits(obs[j], *exp[i])) {
        matched(*exp[i++], obs[j++]);
      } else if (obs[j].t < exp[i]->earliest - tol_) {
        // Early: an extra packet if the next one fits, else this one came early.
        if (j + 1 < obs.size() && fits(obs[j + 1], *exp[i])) {
          unexpected(kind, static_cast<int>(j) + 1, obs[j]);
          ++j;
        } else {
          matched(*exp[i++], obs[j++]);
        }
      } else {
        // Late: if it fits a later expected event, the ones between were not sent.
        std::size_t k = i + 1;
        while (k < exp.size() && !fits(obs[j], *exp[k])) ++k;
        if (k < exp.size()) {
          while (i < k) missing(*exp[i++]);
        } else {
          matched(*exp[i++], obs[j++]);
        }
      }
    }
  }

 private:
  DiffRow expected_row(const ExpectedEvent& e) {
    DiffRow r;
    r.event = model::label(e);
    r.kind = e.kind;
    r.number = e.index;
    r.certain = e.certain;
    r.from_timer = e.from_timer;
    r.nominal = e.nominal;
    r.earliest = e.earliest;
    r.latest = e.latest;
    return r;
  }

  void matched(const ExpectedEvent& e, const Seen& s) {
    DiffRow r = expected_row(e);
    r.observed = s.t;
    r.frame = s.frame;
    r.deviation = outside(s.t, e.earliest, e.latest);
    Nanos beyond = outside(s.t, e.earliest - tol_, e.latest + tol_);
    r.verdict = beyond < Nanos::zero() ? Verdict::kEarly : beyond > Nanos::zero() ? Verdict::kLate : Verdict::kOk;
    rows_.push_back(r);
  }

  void missing(const ExpectedEvent& e) {
    DiffRow r = expected_row(e);
    if (!e.certain) r.verdict = Verdict::kOk;  // only some wheel phases produce it
    else if (capture_end_ && *capture_end_ < e.earliest - tol_) r.verdict = Verdict::kBeyondCapture;
    else r.verdict = Verdict::kMissing;
    rows_.push_back(r);
  }

  void unexpected(EventKind kind, int number, const Seen& s) {
    DiffRow r;
    r.kind = kind;
    r.number = number;
    r.event = kind == EventKind::kTlp ? "TLP" : std::string(model::to_string(kind)) + "#" + std::to_string(number);
    r.expected = false;
    r.observed = s.t;
    r.frame = s.frame;
    r.verdict = Verdict::kUnexpected;
    rows_.push_back(r);
  }

  Nanos tol_;
  std::optional<Nanos> capture_end_;
  std::vector<DiffRow>& rows_;
};

GiveUpRow judge_give_up(const DiffResult& r, const Flow& f, const ObservedGiveUp& seen) {
  GiveUpRow g;
  const model::Expectation& x = r.expectation;
  if (x.give_up) {
    g.expected = true;
    g.nominal = x.give_up->nominal;
    g.earliest = x.give_up->earliest;
    g.latest = x.give_up->latest;
    g.expected_error = x.give_up->error;
    g.expected_rst = x.give_up->rst;
    g.reason = x.give_up->reason;
  }
  for (const KernelEvent& e : f.kernel_events)
    if (e.kind == KernelEventKind::kRst && e.at >= f.origin.at) {
      g.observed_rst = true;
      g.rst_frame = e.frame;
      g.observed = e.t;
      break;
    }
  if (!g.observed_rst && seen.kernel_rst) g.observed_rst = true;
  g.observed_error = seen.error;
  const bool app_error = seen.error && *seen.error != "none";
  if (!g.observed && app_error && seen.at) g.observed = *seen.at - f.origin.at;
  const Nanos tol = r.tolerance;

  if (!g.expected) {
    g.verdict = (app_error || g.observed_rst) ? Verdict::kUnexpected : Verdict::kOk;
    return g;
  }
  if (g.observed) {
    // Seen as the application's errno (no RST on the wire), the give-up also includes the
    // time our client process takes to wake up and read it: late side only.
    const Nanos wake = g.observed_rst ? Nanos::zero() : kApplicationWakeSlack;
    g.deviation = outside(*g.observed, g.earliest, g.latest + wake);
    Nanos beyond = outside(*g.observed, g.earliest - tol, g.latest + wake + tol);
    g.verdict = beyond < Nanos::zero() ? Verdict::kEarly : beyond > Nanos::zero() ? Verdict::kLate : Verdict::kOk;
  } else if (r.capture_end && *r.capture_end < g.earliest - tol) {
    g.verdict = Verdict::kBeyondCapture;
  } else if (g.expected_rst || (seen.error && *seen.error == "none")) {
    g.verdict = Verdict::kMissing;
  } else {
    g.verdict = Verdict::kUnobserved;
  }
  // The errno is checked whenever it is known, even without its time.
  const bool timing_failed = g.verdict == Verdict::kEarly || g.verdict == Verdict::kLate || g.verdict == Verdict::kMissing;
  if (!timing_failed && app_error && *seen.error != g.expected_error) g.verdict = Verdict::kWrongError;
  if (g.verdict == Verdict::kOk && g.observed_rst != g.expected_rst)
    g.verdict = g.observed_rst ? Verdict::kUnexpected : Verdict::kMissing;
  return g;
}

std::string give_up_text(const GiveUpRow& g) {
  return g.expected_error + (g.expected_rst ? " and an RST" : ", no RST");
}

std::string give_up_message(const DiffResult& r) {
  const GiveUpRow& g = r.give_up;
  const std::string& cap = r.capture;
  std::string at_frame = g.rst_frame ? cap + "#" + std::to_string(g.rst_frame) : cap;
  std::string what_seen = g.rst_frame ? "the kernel's RST" : "the application saw " + g.observed_error.value_or("?");
  switch (g.verdict) {
    case Verdict::kEarly:
    case Verdict::kLate:
      return at_frame + ": give-up expected in " + window_text(g.earliest, g.latest) + " (" + give_up_text(g) +
             ") but " + what_seen + " at " + secs(*g.observed) + " s";
    case Verdict::kWrongError:
      return cap + ": give-up: the model expects " + g.expected_error + " but the application saw " +
             g.observed_error.value_or("?") + (g.observed ? " at " + secs(*g.observed) + " s" : "");
    case Verdict::kMissing:
      if (g.observed && g.expected_rst && !g.observed_rst)
        return cap + ": give-up at " + secs(*g.observed) + " s without the RST the model expects";
      return cap + ": give-up expected in " + window_text(g.earliest, g.latest) + " (" + give_up_text(g) + ") but " +
             (g.expected_rst && !g.observed_rst ? "no RST was seen" : "the application saw no error");
    case Verdict::kUnexpected:
      if (!g.expected)
        return at_frame + ": " + (g.observed_rst ? std::string("the kernel reset the connection") : what_seen) +
               (g.observed ? " at " + secs(*g.observed) + " s" : "") + " but the model expects no give-up";
      return at_frame + ": RST" + (g.observed ? " at " + secs(*g.observed) + " s" : "") +
             " but the model expects " + give_up_text(g);
    default:
      return {};
  }
}

std::string row_message(const DiffResult& r, const DiffRow& row) {
  const std::string what = describe_event(row.kind, row.number);
  const std::string at_frame = r.capture + "#" + std::to_string(row.frame);
  switch (row.verdict) {
    case Verdict::kEarly:
    case Verdict::kLate:
      return at_frame + ": " + what + " expected in " + window_text(row.earliest, row.latest) + " but seen at " +
             secs(*row.observed) + " s";
    case Verdict::kMissing:
      return r.capture + ": " + what + " expected in " + window_text(row.earliest, row.latest) + " but not seen";
    case Verdict::kUnexpected: {
      int expected = 0;
      for (const DiffRow& x : r.rows)
        if (x.kind == row.kind && x.expected) ++expected;
      return at_frame + ": unexpected " + what + " at " + secs(*row.observed) + " s (the model expects " +
             std::to_string(expected) + ")";
    }
    default:
      return {};
  }
}

// Late events whose lateness grows from one to the next (each window is anchored on the
// event before it, so a timer base that is longer than the model's shows as every interval
// too long by the base's error times the backoff): at least two late events of one kind,
// each later than the one before, every interval since the first of them longer than the
// model's. A timer the machine delayed is late by a random amount, not a growing one.
std::string growing_lateness(const DiffResult& r, std::optional<std::chrono::microseconds> model_rto) {
  std::vector<const DiffRow*> late;
  std::vector<double> ratios;
  const DiffRow* previous = nullptr;
  for (const DiffRow& row : r.rows) {
    if (!row.expected || !row.observed || !row.nominal) continue;
    if (previous && previous->kind == row.kind && row.verdict == Verdict::kLate) {
      const double nominal_gap = std::chrono::duration<double>(*row.nominal - *previous->nominal).count();
      const double seen_gap = std::chrono::duration<double>(*row.observed - *previous->observed).count();
      if (nominal_gap <= 0 || seen_gap <= nominal_gap) return {};
      if (!late.empty() && row.deviation <= late.back()->deviation) return {};
      ratios.push_back(seen_gap / nominal_gap);
      late.push_back(&row);
    } else if (!late.empty()) {
      break;  // the late run ended
    }
    previous = &row;
  }
  if (late.size() < 2) return {};
  std::sort(ratios.begin(), ratios.end());
  const double ratio = ratios[ratios.size() / 2];
  char buf[256];
  std::string devs;
  for (const DiffRow* row : late) {
    std::snprintf(buf, sizeof buf, "%s%.1f", devs.empty() ? "" : ", ", std::chrono::duration<double, std::milli>(row->deviation).count());
    devs += buf;
  }
  std::snprintf(buf, sizeof buf, "%s to %s came later and later (%s ms late): the intervals are %.1f%% longer than the model's",
                late.front()->event.c_str(), late.back()->event.c_str(), devs.c_str(), (ratio - 1) * 100);
  std::string out = buf;
  if (model_rto) {
    const double rto_ms = std::chrono::duration<double, std::milli>(*model_rto).count();
    std::snprintf(buf, sizeof buf, ", as from an RTO of about %.0f ms instead of the model's %.0f ms", rto_ms * ratio, rto_ms);
    out += buf;
  }
  return out + ": a wrong model input, not a late timer";
}

}  // namespace

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kOk: return "ok";
    case Verdict::kEarly: return "early";
    case Verdict::kLate: return "late";
    case Verdict::kMissing: return "missing";
    case Verdict::kUnexpected: return "unexpected";
    case Verdict::kWrongError: return "wrong-error";
    case Verdict::kUnobserved: return "unobserved";
    case Verdict::kBeyondCapture: return "beyond-capture";
  }
  return "?";
}

bool is_mismatch(Verdict v) {
  return v == Verdict::kEarly || v == Verdict::kLate || v == Verdict::kMissing || v == Verdict::kUnexpected ||
         v == Verdict::kWrongError;
}

std::string describe_event(EventKind kind, int number) {
  const std::string n = std::to_string(number);
  switch (kind) {
    case EventKind::kTlp: return "tail loss probe";
    case EventKind::kRto: return "retransmission " + n;
    case EventKind::kSyn: return "SYN retransmission " + n;
    case EventKind::kProbe: return "zero-window probe " + n;
    case EventKind::kKeepalive: return "keepalive probe " + n;
    case EventKind::kGiveUp: return "give-up";
  }
  return "event " + n;
}

DiffResult diff_capture(const Capture& capture, const DiffOptions& o) {
  DiffResult r;
  r.capture = o.capture_name.empty() ? capture.path.string() : o.capture_name;
  r.model = o.model.kind;
  r.tolerance = kCaptureSlack + o.tolerance;
  r.expected_events = o.expected_events;

  std::vector<Flow> flows = extract_flows(capture);
  if (flows.empty()) throw CaptureError(capture.path, "no TCP connection in the capture");
  Flow& flow = choose_flow(flows, o, capture);
  r.flow_index = flow.index;
  r.flow = flow.name();
  r.kernel_side = flow.kernel_side_reason;

  std::string why;
  r.origin = find_origin(flow, origin_rule(o.model.kind), &why);
  if (r.origin) set_origin(flow, *r.origin);
  r.expectation = expectation_for(o.model, &flow, &r.notes);
  if (!r.origin) {
    for (const ExpectedEvent& e : r.expectation.events)
      if (e.kind != EventKind::kGiveUp) {
        DiffRow row;
        row.event = model::label(e);
        row.kind = e.kind;
        row.number = e.index;
        row.nominal = e.nominal;
        row.earliest = e.earliest;
        row.latest = e.latest;
        row.verdict = Verdict::kMissing;
        r.rows.push_back(row);
      }
    r.ok = false;
    r.first_mismatch = r.capture + ": connection " + std::to_string(flow.index) + " (" + flow.name() +
                       "): nothing to compare with the " + to_string(o.model.kind) + " model: " + why;
    return r;
  }
  r.capture_end = capture.last_time - r.origin->at;

  Observed seen = collect(flow, o.model.kind);
  if (o.model.kind == ModelKind::kRto) reconcile_tlp(seen, r.expectation, r.tolerance, r.notes);
  auto expected = [&](EventKind k) {
    std::vector<const ExpectedEvent*> v;
    for (const ExpectedEvent& e : r.expectation.events)
      if (e.kind == k) v.push_back(&e);
    return v;
  };
  Aligner align(r.tolerance, r.capture_end, r.rows);
  switch (o.model.kind) {
    case ModelKind::kRto:
      align.run(EventKind::kTlp, expected(EventKind::kTlp), seen.tlp);
      align.run(EventKind::kRto, expected(EventKind::kRto), seen.rto);
      r.observed_events = static_cast<int>(seen.rto.size());
      break;
    case ModelKind::kSyn:
      align.run(EventKind::kSyn, expected(EventKind::kSyn), seen.syn);
      r.observed_events = static_cast<int>(seen.syn.size());
      break;
    case ModelKind::kPersist:
      align.run(EventKind::kProbe, expected(EventKind::kProbe), seen.probe);
      r.observed_events = static_cast<int>(seen.probe.size());
      break;
    case ModelKind::kKeepalive:
      align.run(EventKind::kKeepalive, expected(EventKind::kKeepalive), seen.keepalive);
      r.observed_events = static_cast<int>(seen.keepalive.size());
      break;
  }
  auto key = [](const DiffRow& x) { return x.expected ? x.earliest : *x.observed; };
  std::stable_sort(r.rows.begin(), r.rows.end(), [&](const DiffRow& a, const DiffRow& b) { return key(a) < key(b); });
  const OriginRule rule = origin_rule(o.model.kind);
  const bool received_origin = rule == OriginRule::kZeroWindowAck || rule == OriginRule::kLastReceived;
  anchor_rows_on_observed(r.rows, r.tolerance, r.expectation.hz,
                          received_origin ? kReceivedOriginSlack : Nanos::zero());
  if (r.expectation.give_up) anchor_give_up(*r.expectation.give_up, r.rows, r.expectation);
  r.notes.push_back("windows after the first event are anchored on the observed event before them: the kernel "
                    "re-arms each timer when the previous one fired (replay/diff_anchor.hpp)");

  r.give_up = judge_give_up(r, flow, o.give_up);
  if (r.give_up.verdict == Verdict::kUnobserved)
    r.notes.push_back("a give-up without an RST does not show in a capture; the application's error checks it");

  for (const DiffRow& row : r.rows)
    if (is_mismatch(row.verdict)) {
      r.ok = false;
      r.first_mismatch = row_message(r, row);
      break;
    }
  if (r.ok && is_mismatch(r.give_up.verdict)) {
    r.ok = false;
    r.first_mismatch = give_up_message(r);
  }
  if (!r.ok) {
    r.input_error = growing_lateness(r, o.model.rtt.rto);
    if (!r.input_error.empty()) r.first_mismatch += "; " + r.input_error;
  }
  if (r.ok && o.expected_events && *o.expected_events != r.observed_events) {
    r.ok = false;
    static const char* const kNouns[] = {"RTO retransmissions", "SYN retransmissions", "zero-window probes",
                                         "keepalive probes"};
    r.first_mismatch = r.capture + ": " + std::to_string(r.observed_events) + " " +
                       kNouns[static_cast<int>(o.model.kind)] + " seen, the scenario expects " +
                       std::to_string(*o.expected_events);
  }
  return r;
}

DiffResult diff_capture_file(const std::filesystem::path& pcap, const DiffOptions& options) {
  return diff_capture(read_capture(pcap), options);
}

}  // namespace tapfault::replay
