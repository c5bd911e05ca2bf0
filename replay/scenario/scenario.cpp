// Scenario parser, the top level: the document, its scalar fields, the checks that span
// sections, and the small tables of the data model (errno names, socket states).
// Read docs/scenarios.md for the format and yaml.hpp for the helpers.
#include "tapfault/replay/scenario/scenario.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "yaml.hpp"

namespace tapfault::replay {

namespace {

std::string format_what(const std::string& file, int line, int column, const std::string& field,
                        const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + (column > 0 ? ":" + std::to_string(column) : "");
  out += ": ";
  if (!field.empty()) out += field + ": ";
  return out + message;
}

constexpr ErrnoName kErrnos[] = {
    {"none", 0},
    {"ETIMEDOUT", ETIMEDOUT},
    {"EHOSTUNREACH", EHOSTUNREACH},
    {"ENETUNREACH", ENETUNREACH},
    {"ECONNRESET", ECONNRESET},
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNABORTED", ECONNABORTED},
    {"EMSGSIZE", EMSGSIZE},
    {"EPIPE", EPIPE},
    {"EHOSTDOWN", EHOSTDOWN},
    {"ENETDOWN", ENETDOWN},
    {"EACCES", EACCES},
    {"EPERM", EPERM},
    {"EPROTO", EPROTO},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"ENOPROTOOPT", ENOPROTOOPT},
};

struct StateName {
  std::string_view normalized;
  SocketState state;
};

constexpr StateName kStateNames[] = {
    {"ESTAB", SocketState::kEstablished},    {"ESTABLISHED", SocketState::kEstablished},
    {"SYNSENT", SocketState::kSynSent},      {"SYNRECV", SocketState::kSynRecv},
    {"SYNRECEIVED", SocketState::kSynRecv},  {"FINWAIT1", SocketState::kFinWait1},
    {"FINWAIT2", SocketState::kFinWait2},    {"TIMEWAIT", SocketState::kTimeWait},
    {"CLOSE", SocketState::kClose},          {"CLOSED", SocketState::kClose},
    {"UNCONN", SocketState::kClose},         {"CLOSEWAIT", SocketState::kCloseWait},
    {"LASTACK", SocketState::kLastAck},      {"LISTEN", SocketState::kListen},
    {"CLOSING", SocketState::kClosing},
};

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string default_name(const std::string& file_name) {
  std::string stem = std::filesystem::path(file_name).stem().string();
  return stem.empty() ? "scenario" : stem;
}

std::vector<std::string> parse_tags(const detail::Field& f) {
  std::vector<std::string> tags;
  for (const detail::Field& item : f.items()) {
    std::string tag = detail::as_nonempty_string(item);
    for (char c : tag) {
      if (!valid_name_char(c)) item.fail("tags are words of letters, digits, '.', '_', '-', got " + item.describe());
    }
    for (const std::string& t : tags) {
      if (t == tag) item.fail("duplicate tag '" + tag + "'");
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

// The checks that need two sections: the client's connections against the faults that
// name one, and connect_error against the client's actions.
void check_across_sections(const Scenario& s, const detail::Mapping& top) {
  std::size_t connections = 0;
  bool connect_again = false;
  if (s.client) {
    for (const ClientAction& a : s.client->actions) {
      if (a.kind == ClientAction::Kind::kConnect || a.kind == ClientAction::Kind::kConnectAgain) ++connections;
      connect_again = connect_again || a.kind == ClientAction::Kind::kConnectAgain;
    }
  }
  if (s.client) {
    const auto faults = detail::Mapping::open(*top.get("peer")).get("faults");
    for (std::size_t i = 0; i < s.peer.faults.faults.size(); ++i) {
      const stack::Fault& fault = s.peer.faults.faults[i];
      if (fault.connection <= connections) continue;
      detail::Mapping::open(faults->items()[i])
          .get("connection")
          ->fail("never fires: the client makes " + std::to_string(connections) + " connection" +
                 (connections == 1 ? "" : "s") + " (connect and connect_again actions)");
    }
  }
  if (s.expect.connect_error && !connect_again) {
    detail::Mapping::open(*top.get("expect"))
        .get("connect_error")
        ->fail(s.client ? "needs a connect_again action in client.actions"
                        : "needs the built-in client (client.actions with connect_again)");
  }
}

}  // namespace

ScenarioError::ScenarioError(std::string file, int line, int column, std::string field,
                             std::string message)
    : std::runtime_error(format_what(file, line, column, field, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      field_(std::move(field)),
      message_(std::move(message)) {}

const char* family_name(stack::Family f) { return f == stack::Family::kIpv6 ? "ipv6" : "ipv4"; }

std::optional<stack::Family> family_from_name(std::string_view name) {
  if (name == "ipv4") return stack::Family::kIpv4;
  if (name == "ipv6") return stack::Family::kIpv6;
  return std::nullopt;
}

std::span<const ErrnoName> known_errnos() { return kErrnos; }

std::optional<int> errno_from_name(std::string_view name) {
  for (const ErrnoName& e : kErrnos)
    if (e.name == name) return e.value;
  return std::nullopt;
}

std::string errno_to_name(int value) {
  for (const ErrnoName& e : kErrnos)
    if (e.value == value) return std::string(e.name);
  return "errno " + std::to_string(value);
}

const char* to_string(SocketState s) {
  switch (s) {
    case SocketState::kEstablished: return "ESTAB";
    case SocketState::kSynSent: return "SYN-SENT";
    case SocketState::kSynRecv: return "SYN-RECV";
    case SocketState::kFinWait1: return "FIN-WAIT-1";
    case SocketState::kFinWait2: return "FIN-WAIT-2";
    case SocketState::kTimeWait: return "TIME-WAIT";
    case SocketState::kClose: return "CLOSED";
    case SocketState::kCloseWait: return "CLOSE-WAIT";
    case SocketState::kLastAck: return "LAST-ACK";
    case SocketState::kListen: return "LISTEN";
    case SocketState::kClosing: return "CLOSING";
  }
  return "?";
}

std::optional<SocketState> socket_state_from_string(std::string_view s) {
  const std::string n = detail::normalize_state_name(s);
  for (const StateName& e : kStateNames)
    if (e.normalized == n) return e.state;
  return std::nullopt;
}

const char* to_string(ModelExpectation::Kind k) {
  switch (k) {
    case ModelExpectation::Kind::kRto: return "rto";
    case ModelExpectation::Kind::kSyn: return "syn";
    case ModelExpectation::Kind::kPersist: return "persist";
    case ModelExpectation::Kind::kKeepalive: return "keepalive";
  }
  return "?";
}

const char* to_string(ClientAction::Kind k) {
  switch (k) {
    case ClientAction::Kind::kConnect: return "connect";
    case ClientAction::Kind::kSend: return "send";
    case ClientAction::Kind::kRecv: return "recv";
    case ClientAction::Kind::kWait: return "wait";
    case ClientAction::Kind::kWaitError: return "wait_error";
    case ClientAction::Kind::kClose: return "close";
    case ClientAction::Kind::kShutdown: return "shutdown";
    case ClientAction::Kind::kConnectAgain: return "connect_again";
  }
  return "?";
}

const char* to_string(SocketTimer t) {
  switch (t) {
    case SocketTimer::kOff: return "off";
    case SocketTimer::kOn: return "on";
    case SocketTimer::kKeepalive: return "keepalive";
    case SocketTimer::kTimewait: return "timewait";
    case SocketTimer::kPersist: return "persist";
  }
  return "?";
}

std::string IpPrefix::to_string() const { return address.to_string() + "/" + std::to_string(length); }

bool IpPrefix::contains(const stack::IpAddress& a) const {
  if (a.family != address.family) return false;
  int bits = length;
  for (std::size_t i = 0; i < a.size() && bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
    if ((a.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

std::vector<stack::ListenerConfig> PeerSpec::listeners() const {
  std::vector<stack::ListenerConfig> out;
  for (std::uint16_t port : ports) {
    stack::ListenerConfig l;
    l.port = port;
    l.mode = mode;
    l.response = response;
    l.respond_on_connect = respond_on_connect;
    l.close_after_response = close_after_response;
    out.push_back(std::move(l));
  }
  return out;
}

std::uint8_t pattern_byte(std::uint64_t offset) { return static_cast<std::uint8_t>('a' + offset % 26); }

std::vector<std::uint8_t> ClientAction::payload() const {
  if (source != SendSource::kPattern) return data;
  std::vector<std::uint8_t> out(bytes);
  for (std::uint64_t i = 0; i < bytes; ++i) out[i] = pattern_byte(i);
  return out;
}

bool Scenario::has_tag(std::string_view tag) const {
  for (const std::string& t : tags)
    if (t == tag) return true;
  return false;
}

namespace {

// The line (1-based) of a document marker that starts a second YAML document, or 0.
// yaml-cpp's LoadAll() loops for ever on some malformed input (a lone ',' among others:
// fuzz/regressions/fuzz_scenario/), so the file is loaded with Load(), which reads the
// first document only, and a second one is found by its `---` line instead.
int second_document_line(std::string_view text) {
  bool content = false;
  int line = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    ++line;
    bool marker = l.substr(0, 3) == "---" && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker && content) return line;
    std::size_t first = l.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && l[first] != '#' && l.substr(0, 3) != "...") content = true;
    pos = end + 1;
  }
  return 0;
}

}  // namespace

Scenario parse_scenario(std::string_view yaml_text, std::string file_name, std::optional<stack::Family> family) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    throw ScenarioError(file_name, line, column, "", "YAML syntax error: " + e.msg);
  }
  if (int second = second_document_line(yaml_text)) {
    throw ScenarioError(file_name, second, 1, "", "a second YAML document; a scenario file holds one");
  }
  if (!doc || doc.IsNull()) {
    throw ScenarioError(file_name, 1, 1, "", "empty scenario; expected a mapping with network and peer");
  }
  std::vector<YAML::Node> docs{doc};

  detail::Context ctx;
  ctx.file = file_name;
  ctx.base_dir = std::filesystem::path(file_name).parent_path();
  const std::vector<std::string_view> keys = {"name",   "description", "tags", "seed",    "duration", "settle",
                                              "network", "sysctl",     "peer", "client", "actions",  "expect",
                                              "kernels", "compress"};
  Scenario s;
  {
    // The families come first: every other field may name its value per family.
    const detail::Field root(ctx, docs[0], "", YAML::Mark());
    if (!root.is_map()) root.fail("a scenario must be a mapping, got " + root.describe());
    const detail::Mapping top(root, keys);
    const detail::Field network = top.required("network", "it needs at least `family: ipv4` or `family: ipv6`");
    const detail::Field listed = detail::Mapping::open(network).required("family", "allowed: ipv4, ipv6");
    s.families = detail::parse_families(listed);
    ctx.family = family.value_or(s.families.front());
    if (std::find(s.families.begin(), s.families.end(), ctx.family) == s.families.end()) {
      listed.fail(std::string("the run asks for ") + family_name(ctx.family) + ", which this scenario does not list");
    }
    ctx.families = s.families;
  }
  const detail::Field root(ctx, docs[0], "", YAML::Mark());
  const detail::Mapping top(root, keys);

  s.file = file_name;
  s.case_name = default_name(file_name);
  if (auto f = top.get("name")) {
    s.case_name = detail::as_nonempty_string(*f);
    for (char c : s.case_name) {
      if (!valid_name_char(c)) {
        f->fail("names become file names: use letters, digits, '.', '_', '-', got " + f->describe());
      }
    }
  }
  s.name = s.families.size() > 1 ? s.case_name + "-" + family_name(ctx.family) : s.case_name;
  if (auto f = top.get("description")) s.description = detail::as_string(*f);
  if (auto f = top.get("tags")) s.tags = parse_tags(*f);
  // Each run is tagged with its family, so that `tag:ipv6` selects the ipv6 runs of every file.
  if (!s.has_tag(family_name(ctx.family))) s.tags.emplace_back(family_name(ctx.family));
  if (auto f = top.get("seed")) s.seed = detail::as_uint(*f, 0, UINT64_MAX);
  if (auto f = top.get("duration")) {
    s.duration = detail::as_duration(*f);
    if (s.duration <= Duration::zero()) f->fail("must be more than 0s");
  }
  if (auto f = top.get("settle")) s.settle = detail::as_duration(*f);
  ctx.duration = s.duration;

  s.network = detail::parse_network(top.required("network", "it needs at least `family: ipv4` or `family: ipv6`"), ctx);
  ctx.network = &s.network;
  if (auto f = top.get("sysctl")) s.sysctls = detail::as_sysctls(*f);
  if (auto f = top.get("kernels")) {
    if (!f->is_map()) f->fail("write it as {versions: \">= 6.15\", reason: \"why the scenario needs it\"}");
    const detail::Mapping m(*f, {"versions", "reason"});
    KernelRequirement k;
    k.versions = detail::as_nonempty_string(m.required("versions", "e.g. \">= 6.15\""));
    k.reason = detail::as_nonempty_string(m.required("reason", "say why other kernels cannot pass"));
    k.line = f->line();
    s.kernels = k;
  }
  if (auto f = top.get("compress")) {
    const detail::Mapping m(*f, {"rto_min", "rto_max", "via"});
    Compression c;
    if (auto v = m.get("via")) {
      c.via = detail::as_string(*v);
      if (c.via != "auto" && c.via != "sysctl" && c.via != "route") v->fail("allowed: auto, sysctl, route");
    }
    if (auto r = m.get("rto_min")) {
      c.rto_min = detail::as_duration(*r);
      if (*c.rto_min < std::chrono::milliseconds(1) || *c.rto_min > std::chrono::seconds(120))
        r->fail("must be in [1ms, 120s]");
    }
    if (auto r = m.get("rto_max")) {
      c.rto_max = detail::as_duration(*r);
      if (*c.rto_max < std::chrono::seconds(1) || *c.rto_max > std::chrono::seconds(120))
        r->fail("must be in [1s, 120s] (tcp_rto_max_ms's range)");
    }
    if (!c.rto_min && !c.rto_max) f->fail("give rto_min, rto_max or both");
    c.line = f->line();
    s.compress = c;
  }
  s.peer = detail::parse_peer(top.required("peer", "it needs at least `port: N`"));
  if (auto f = top.get("client")) s.client = detail::parse_client(*f, s.peer);
  if (auto f = top.get("actions")) s.kernel_actions = detail::parse_kernel_actions(*f);
  if (auto f = top.get("expect")) s.expect = detail::parse_expect(*f);
  check_across_sections(s, top);
  return s;
}

namespace {

std::string read_scenario_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path.string(), 0, 0, "", std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ScenarioError(path.string(), 0, 0, "", std::string("cannot read: ") + std::strerror(errno));
  return text.str();
}

}  // namespace

Scenario parse_scenario_file(const std::filesystem::path& path, std::optional<stack::Family> family) {
  return parse_scenario(read_scenario_text(path), path.string(), family);
}

std::vector<Scenario> parse_scenario_families(const std::filesystem::path& path) {
  const std::string text = read_scenario_text(path);
  std::vector<Scenario> out{parse_scenario(text, path.string())};
  const std::vector<stack::Family> families = out.front().families;
  for (std::size_t i = 1; i < families.size(); ++i) out.push_back(parse_scenario(text, path.string(), families[i]));
  return out;
}

}  // namespace tapfault::replay
