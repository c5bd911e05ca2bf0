// compare_captures(): each connection becomes a list of normalised packets (named
// fields with printable values), compared in order; the first field that differs is
// reported with both values and both frame numbers.
#include "tapfault/replay/analysis/compare.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "tapfault/replay/analysis/flows.hpp"

namespace tapfault::replay {
namespace {

namespace flags = stack::tcp_flags;
using stack::SeqNum;

struct Field {
  const char* name;
  std::string value;
};

struct Normalised {
  const Packet* packet;
  std::string direction;  // "kernel -> peer", "peer -> kernel", "ICMP -> kernel"
  std::vector<Field> fields;
};

struct Connection {
  std::string name;
  std::string addresses;  // "192.0.2.1 -> 192.0.2.2": compared; ports are not
  std::vector<Normalised> packets;
};

// tcpdump's notation: [S], [S.], [P.], [F.], [R.], [.]
std::string flags_text(std::uint8_t f) {
  std::string s;
  if (f & flags::kSyn) s += 'S';
  if (f & flags::kFin) s += 'F';
  if (f & flags::kRst) s += 'R';
  if (f & flags::kPsh) s += 'P';
  if (f & flags::kUrg) s += 'U';
  if (f & flags::kAck) s += '.';
  return "[" + s + "]";
}

std::string options_text(const TcpSegment& s) {
  std::string out;
  auto add = [&](const std::string& x) { out += (out.empty() ? "" : ",") + x; };
  const stack::TcpOptions& o = s.header.options;
  for (std::uint8_t kind : s.option_kinds) {
    switch (kind) {
      case 1: add("nop"); break;
      case 2: add("mss " + (o.mss ? std::to_string(*o.mss) : std::string("?"))); break;
      case 3: add("wscale " + (o.window_scale ? std::to_string(*o.window_scale) : std::string("?"))); break;
      case 4: add("sackOK"); break;
      case 5: add("sack"); break;
      case 8: add("TS"); break;  // values are normalised away
      default: add("opt-" + std::to_string(kind)); break;
    }
  }
  return out.empty() ? "none" : out;
}

std::string rel(SeqNum v, std::optional<SeqNum> base) {
  return base ? std::to_string(static_cast<std::uint32_t>(v - *base)) : std::to_string(v.value());
}

Connection normalise(const ConnectionPackets& c) {
  Connection out;
  out.name = c.kernel.to_string() + " -> " + c.peer.to_string();
  out.addresses = c.kernel.address.to_string() + " -> " + c.peer.address.to_string();
  // Each side's ISN: its SYN's sequence number, else the first one it sent.
  std::optional<SeqNum> isn_kernel, isn_peer;
  bool syn_kernel = false, syn_peer = false;
  for (const Packet* p : c.packets) {
    const TcpSegment* s = p->tcp();
    if (!s) continue;
    bool k = Endpoint{p->src, s->header.src_port} == c.kernel;
    auto& isn = k ? isn_kernel : isn_peer;
    bool& from_syn = k ? syn_kernel : syn_peer;
    if (s->has(flags::kSyn) && !from_syn) {
      isn = s->header.seq;
      from_syn = true;
    } else if (!isn) {
      isn = s->header.seq;
    }
  }
  for (const Packet* p : c.packets) {
    Normalised n{p, {}, {}};
    if (const IcmpMessage* m = p->icmp()) {
      n.direction = "ICMP -> kernel";
      n.fields.push_back({"icmp", describe(*m)});
      n.fields.push_back({"quoted seq", m->quoted ? rel(m->quoted->seq, isn_kernel) : "-"});
      out.packets.push_back(std::move(n));
      continue;
    }
    const TcpSegment& s = *p->tcp();
    const bool k = Endpoint{p->src, s.header.src_port} == c.kernel;
    const auto own = k ? isn_kernel : isn_peer;
    const auto other = k ? isn_peer : isn_kernel;
    n.direction = k ? "kernel -> peer" : "peer -> kernel";
    n.fields.push_back({"flags", flags_text(s.header.flags)});
    n.fields.push_back({"seq", rel(s.header.seq, own)});
    n.fields.push_back({"ack", s.has(flags::kAck) ? rel(s.header.ack, other) : "-"});
    n.fields.push_back({"length", std::to_string(s.payload_length)});
    n.fields.push_back({"window", std::to_string(s.header.window)});
    n.fields.push_back({"options", options_text(s)});
    std::string sack;
    for (const SackBlock& b : s.sack_blocks) sack += (sack.empty() ? "" : " ") + rel(b.left, other) + "-" + rel(b.right, other);
    if (!sack.empty()) n.fields.push_back({"sack", sack});
    out.packets.push_back(std::move(n));
  }
  return out;
}

std::string ms(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", std::chrono::duration<double, std::milli>(d).count());
  return buf;
}

std::string secs(std::chrono::nanoseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f s", std::chrono::duration<double>(d).count());
  return buf;
}

class Comparer {
 public:
  Comparer(const CompareOptions& o, std::string a, std::string b) : o_(o), a_(std::move(a)), b_(std::move(b)) {}

  // The first difference between two connections, if any.
  std::optional<CompareDifference> connection(int index, const Connection& x, const Connection& y,
                                              std::uint64_t& compared) {
    if (x.addresses != y.addresses)
      return diff(index, 0, "addresses", x.addresses, y.addresses, first_frame(x), first_frame(y),
                  "connection " + std::to_string(index) + ": addresses " + x.addresses + " vs " + y.addresses);
    const std::size_t n = std::min(x.packets.size(), y.packets.size());
    for (std::size_t i = 0; i < n; ++i) {
      const Normalised& p = x.packets[i];
      const Normalised& q = y.packets[i];
      ++compared;
      const int seg = static_cast<int>(i) + 1;
      if (p.direction != q.direction) return packet_diff(index, seg, p, q, "direction", p.direction, q.direction);
      const std::size_t fields = std::max(p.fields.size(), q.fields.size());
      for (std::size_t f = 0; f < fields; ++f) {
        const Field* fp = f < p.fields.size() ? &p.fields[f] : nullptr;
        const Field* fq = f < q.fields.size() ? &q.fields[f] : nullptr;
        const char* name = fp ? fp->name : fq->name;
        std::string vp = fp && fq && std::string(fp->name) != fq->name ? std::string(fp->name) + " " + fp->value
                         : fp                                           ? fp->value
                                                                        : "-";
        std::string vq = fq && fp && std::string(fp->name) != fq->name ? std::string(fq->name) + " " + fq->value
                         : fq                                           ? fq->value
                                                                        : "-";
        if (vp != vq) return packet_diff(index, seg, p, q, name, vp, vq);
      }
      if (i > 0 && o_.compare_gaps) {
        auto gp = p.packet->time - x.packets[i - 1].packet->time;
        auto gq = q.packet->time - y.packets[i - 1].packet->time;
        auto tol = std::max(o_.tolerance_floor,
                            std::chrono::nanoseconds(static_cast<std::int64_t>(o_.tolerance_fraction * gp.count())));
        if (std::chrono::abs(gq - gp) > tol)
          return packet_diff(index, seg, p, q, "gap", secs(gp), secs(gq),
                             " after the previous packet (tolerance " + ms(tol) + ")");
      }
    }
    if (x.packets.size() != y.packets.size()) {
      const bool a_longer = x.packets.size() > y.packets.size();
      const Normalised& extra = a_longer ? x.packets[n] : y.packets[n];
      std::string first = describe_packet(extra);
      return diff(index, static_cast<int>(n) + 1, "packets", std::to_string(x.packets.size()),
                  std::to_string(y.packets.size()), a_longer ? extra.packet->frame : 0,
                  a_longer ? 0 : extra.packet->frame,
                  (a_longer ? a_ + "#" + std::to_string(extra.packet->frame) + " vs " + b_ + " (none)"
                            : a_ + " (none) vs " + b_ + "#" + std::to_string(extra.packet->frame)) +
                      ": connection " + std::to_string(index) + ": " + a_ + " has " +
                      std::to_string(x.packets.size()) + " packets, " + b_ + " has " +
                      std::to_string(y.packets.size()) + "; the first extra one is " + first);
    }
    return std::nullopt;
  }

  std::optional<CompareDifference> connection_count(const std::vector<Connection>& x, const std::vector<Connection>& y) {
    if (x.size() == y.size()) return std::nullopt;
    const bool a_more = x.size() > y.size();
    const Connection& extra = a_more ? x[y.size()] : y[x.size()];
    std::uint64_t frame = first_frame(extra);
    return diff(static_cast<int>(std::min(x.size(), y.size())) + 1, 0, "connections", std::to_string(x.size()),
                std::to_string(y.size()), a_more ? frame : 0, a_more ? 0 : frame,
                a_ + " has " + std::to_string(x.size()) + " connections, " + b_ + " has " + std::to_string(y.size()) +
                    "; the first extra one is " + extra.name + " at " + (a_more ? a_ : b_) + "#" +
                    std::to_string(frame));
  }

 private:
  static std::uint64_t first_frame(const Connection& c) { return c.packets.empty() ? 0 : c.packets.front().packet->frame; }

  static std::string describe_packet(const Normalised& n) {
    std::string s = n.direction;
    for (const Field& f : n.fields) s += ", " + std::string(f.name) + " " + f.value;
    return s;
  }

  CompareDifference diff(int connection, int segment, std::string field, std::string va, std::string vb,
                         std::uint64_t fa, std::uint64_t fb, std::string message) {
    return CompareDifference{connection, segment, std::move(field), std::move(va), std::move(vb), fa, fb,
                             std::move(message)};
  }

  CompareDifference packet_diff(int connection, int segment, const Normalised& p, const Normalised& q,
                                const std::string& field, const std::string& va, const std::string& vb,
                                const std::string& suffix = "") {
    std::string msg = a_ + "#" + std::to_string(p.packet->frame) + " vs " + b_ + "#" + std::to_string(q.packet->frame) +
                      ": connection " + std::to_string(connection) + ", packet " + std::to_string(segment) + " (" +
                      p.direction + "): " + field + suffix + " " + va + " vs " + vb;
    return diff(connection, segment, field, va, vb, p.packet->frame, q.packet->frame, msg);
  }

  const CompareOptions& o_;
  std::string a_;
  std::string b_;
};

}  // namespace

CompareResult compare_captures(const Capture& a, const Capture& b, const CompareOptions& options) {
  std::vector<Connection> x, y;
  for (const ConnectionPackets& c : group_connections(a)) x.push_back(normalise(c));
  for (const ConnectionPackets& c : group_connections(b)) y.push_back(normalise(c));
  CompareResult r;
  r.connections_a = static_cast<int>(x.size());
  r.connections_b = static_cast<int>(y.size());
  Comparer cmp(options, options.name_a.empty() ? a.path.string() : options.name_a,
               options.name_b.empty() ? b.path.string() : options.name_b);
  for (std::size_t i = 0; i < std::min(x.size(), y.size()) && !r.first_difference; ++i)
    r.first_difference = cmp.connection(static_cast<int>(i) + 1, x[i], y[i], r.packets_compared);
  if (!r.first_difference) r.first_difference = cmp.connection_count(x, y);
  r.same = !r.first_difference;
  return r;
}

CompareResult compare_capture_files(const std::filesystem::path& a, const std::filesystem::path& b,
                                    const CompareOptions& options) {
  Capture ca = read_capture(a);
  Capture cb = read_capture(b);
  return compare_captures(ca, cb, options);
}

nlohmann::json CompareResult::to_json() const {
  nlohmann::json j;
  j["same"] = same;
  j["connections"] = {connections_a, connections_b};
  j["packets_compared"] = packets_compared;
  if (first_difference) {
    const CompareDifference& d = *first_difference;
    j["first_difference"] = {{"connection", d.connection},
                             {"packet", d.segment},
                             {"field", d.field},
                             {"a", {{"frame", d.frame_a ? nlohmann::json(d.frame_a) : nlohmann::json(nullptr)},
                                    {"value", d.value_a}}},
                             {"b", {{"frame", d.frame_b ? nlohmann::json(d.frame_b) : nlohmann::json(nullptr)},
                                    {"value", d.value_b}}},
                             {"message", d.message}};
  } else {
    j["first_difference"] = nullptr;
  }
  return j;
}

std::string CompareResult::to_text() const {
  if (same)
    return "same: " + std::to_string(connections_a) + " connection(s), " + std::to_string(packets_compared) +
           " packets compared\n";
  return "different: " + first_difference->message + "\n";
}

}  // namespace tapfault::replay
