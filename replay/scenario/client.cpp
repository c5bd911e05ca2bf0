// Scenario parser: `client:` the built-in kernel client, its socket options (setsockopt
// before connect) and its actions, run in order. Besides the syntax it checks the order of
// the actions (connect first, nothing after close) and that `at` times only grow.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <climits>
#include <string>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

enum class OptionType : std::uint8_t {
  kBool,       // true/false or an int
  kInt,        // an int in [min, max]
  kSeconds,    // whole seconds as an int, or a duration of whole seconds
  kMillis,     // milliseconds as an int, or a duration of whole milliseconds
  kBytes,      // a size
  kName,       // a string (TCP_CONGESTION)
  kPmtuDisc,   // dont | want | do | probe | interface | omit, or an int
};

struct OptionSpec {
  std::string_view name;
  int level;
  int optname;
  OptionType type;
  std::int64_t min;
  std::int64_t max;
};

// Ranges are the kernel's (net/ipv4/tcp.c do_tcp_setsockopt: MAX_TCP_KEEPIDLE 32767,
// MAX_TCP_KEEPINTVL 32767, MAX_TCP_KEEPCNT 127, TCP_MAXSEG 0 or TCP_MIN_MSS 88..MAX_TCP_WINDOW 32767).
constexpr OptionSpec kOptions[] = {
    {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE, OptionType::kBool, 0, INT_MAX},
    {"TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE, OptionType::kSeconds, 1, 32767},
    {"TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL, OptionType::kSeconds, 1, 32767},
    {"TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT, OptionType::kInt, 1, 127},
    {"TCP_USER_TIMEOUT", IPPROTO_TCP, TCP_USER_TIMEOUT, OptionType::kMillis, 0, INT_MAX},
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY, OptionType::kBool, 0, INT_MAX},
    {"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG, OptionType::kInt, 0, 32767},
    {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF, OptionType::kBytes, 0, INT_MAX},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF, OptionType::kBytes, 0, INT_MAX},
    {"TCP_CONGESTION", IPPROTO_TCP, TCP_CONGESTION, OptionType::kName, 0, 0},
    {"IP_MTU_DISCOVER", IPPROTO_IP, IP_MTU_DISCOVER, OptionType::kPmtuDisc, 0, 5},
    {"IPV6_MTU_DISCOVER", IPPROTO_IPV6, IPV6_MTU_DISCOVER, OptionType::kPmtuDisc, 0, 5},
};

constexpr std::pair<std::string_view, int> kPmtuModes[] = {
    {"dont", IP_PMTUDISC_DONT},   {"want", IP_PMTUDISC_WANT},           {"do", IP_PMTUDISC_DO},
    {"probe", IP_PMTUDISC_PROBE}, {"interface", IP_PMTUDISC_INTERFACE}, {"omit", IP_PMTUDISC_OMIT},
};
static_assert(IP_PMTUDISC_DO == IPV6_PMTUDISC_DO && IP_PMTUDISC_OMIT == IPV6_PMTUDISC_OMIT);

int option_int(const Field& f, const OptionSpec& spec) {
  return static_cast<int>(as_int(f, spec.min, spec.max));
}

// A duration or an int, in the option's unit; a duration must be a whole number of it.
int option_time(const Field& f, const OptionSpec& spec, Duration unit, const char* unit_name) {
  if (f.is_scalar() && !f.is_quoted() && !f.scalar().empty() &&
      f.scalar().find_first_not_of("+-0123456789") == std::string::npos) {
    return option_int(f, spec);
  }
  const Duration d = as_duration(f);
  if (d % unit != Duration::zero()) {
    f.fail(std::string("must be a whole number of ") + unit_name + ", got " + format_duration(d));
  }
  const std::int64_t v = d / unit;
  if (v < spec.min || v > spec.max) {
    f.fail("must be between " + std::to_string(spec.min) + " and " + std::to_string(spec.max) + " " + unit_name +
           ", got " + format_duration(d));
  }
  return static_cast<int>(v);
}

SocketOption parse_option(const Mapping::Entry& e) {
  const OptionSpec* spec = nullptr;
  std::vector<std::string_view> names;
  for (const OptionSpec& o : kOptions) {
    names.push_back(o.name);
    if (o.name == e.key) spec = &o;
  }
  if (spec == nullptr) e.key_field.fail("unknown socket option; allowed: " + join(names));
  const bool v6 = e.value.ctx().family == stack::Family::kIpv6;
  if (spec->name == "IPV6_MTU_DISCOVER" && !v6) {
    e.key_field.fail("IPV6_MTU_DISCOVER in an ipv4 run; use IP_MTU_DISCOVER");
  }

  SocketOption o;
  o.name = e.key;
  o.level = spec->level;
  o.optname = spec->optname;
  o.line = e.key_field.line();
  if (spec->type == OptionType::kPmtuDisc && v6) {
    o.level = IPPROTO_IPV6;
    o.optname = IPV6_MTU_DISCOVER;
  }
  const Field& v = e.value;
  switch (spec->type) {
    case OptionType::kBool: {
      const bool is_bool_word = v.is_scalar() && !v.is_quoted() && !v.scalar().empty() &&
                                (v.scalar()[0] < '0' || v.scalar()[0] > '9') && v.scalar()[0] != '-';
      o.value = is_bool_word ? (as_bool(v) ? 1 : 0) : option_int(v, *spec);
      break;
    }
    case OptionType::kInt: {
      const std::int64_t n = as_int(v, INT_MIN, INT_MAX);
      if (spec->optname == TCP_MAXSEG && spec->level == IPPROTO_TCP && n != 0 && (n < 88 || n > 32767)) {
        v.fail("must be 0 or between 88 and 32767 (the kernel's TCP_MIN_MSS and MAX_TCP_WINDOW), got " +
               std::to_string(n));
      }
      o.value = option_int(v, *spec);
      break;
    }
    case OptionType::kSeconds: o.value = option_time(v, *spec, std::chrono::seconds(1), "seconds"); break;
    case OptionType::kMillis: o.value = option_time(v, *spec, std::chrono::milliseconds(1), "milliseconds"); break;
    case OptionType::kBytes: o.value = static_cast<int>(as_size(v, INT_MAX)); break;
    case OptionType::kName: {
      const std::string name = as_nonempty_string(v);
      // TCP_CA_NAME_MAX is 16 with the terminating NUL.
      if (name.size() > 15 || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        v.fail("not a congestion control name (lower case, digits, '_', at most 15): " + v.describe() +
               "; e.g. reno, cubic, bbr");
      }
      o.value = name;
      break;
    }
    case OptionType::kPmtuDisc: {
      if (v.is_scalar() && !v.is_quoted()) {
        for (const auto& [mode, value] : kPmtuModes) {
          if (v.scalar() == mode) {
            o.value = value;
            return o;
          }
        }
        if (v.scalar().find_first_not_of("+-0123456789") == std::string::npos) {
          o.value = option_int(v, *spec);
          return o;
        }
      }
      v.fail("must be dont, want, do, probe, interface, omit or an int 0..5, got " + v.describe());
    }
  }
  return o;
}

constexpr ClientAction::Kind kActionKinds[] = {
    ClientAction::Kind::kConnect, ClientAction::Kind::kSend,  ClientAction::Kind::kRecv,
    ClientAction::Kind::kWait,    ClientAction::Kind::kWaitError, ClientAction::Kind::kClose,
    ClientAction::Kind::kShutdown, ClientAction::Kind::kConnectAgain};
const std::vector<std::string_view> kActionKeys = [] {
  std::vector<std::string_view> keys;
  for (auto k : kActionKinds) keys.emplace_back(to_string(k));
  return keys;
}();
const std::vector<std::string_view> kBareActions = {"connect", "close", "shutdown", "wait_error", "connect_again"};

// `key` is one of kActionKeys.
ClientAction::Kind action_kind(std::string_view key) {
  for (auto k : kActionKinds)
    if (key == to_string(k)) return k;
  return ClientAction::Kind::kConnectAgain;
}

void parse_send(const Field& f, ClientAction& a) {
  const std::string allowed = "a string, {size: 1MiB} (pattern bytes) or {file: PATH}";
  if (f.is_null()) f.fail("send with no data; give " + allowed);
  if (f.is_scalar()) {
    const std::string text = f.scalar();
    if (text.empty()) f.fail("send with no data: the string is empty; give " + allowed);
    a.source = ClientAction::SendSource::kText;
    a.data.assign(text.begin(), text.end());
    a.bytes = a.data.size();
    return;
  }
  if (!f.is_map()) f.fail("must be " + allowed + ", got " + f.describe());
  const Mapping m(f, {"size", "file"});
  if (m.has("size") && m.has("file")) m.key_field("file").fail("give size or file, not both");
  if (auto x = m.get("size")) {
    a.source = ClientAction::SendSource::kPattern;
    a.bytes = as_size(*x);
    if (a.bytes == 0) x->fail("send with no data: size must be at least 1 byte");
  } else if (auto x = m.get("file")) {
    a.source = ClientAction::SendSource::kFile;
    a.file = x->ctx().resolve(as_nonempty_string(*x));
    a.data = read_file(*x, a.file, "send file");
    if (a.data.empty()) x->fail("send with no data: file '" + a.file.string() + "' is empty");
    a.bytes = a.data.size();
  } else {
    f.fail("send with no data; give " + allowed);
  }
}

void parse_recv_amount(const Field& f, ClientAction& a) {
  if (f.is_scalar() && !f.is_quoted() && f.scalar() == "any") {
    a.until = ClientAction::RecvUntil::kAny;
  } else if (f.is_scalar() && !f.is_quoted() && f.scalar() == "eof") {
    a.until = ClientAction::RecvUntil::kEof;
  } else {
    if (f.is_scalar() && (f.scalar().empty() || f.scalar()[0] < '0' || f.scalar()[0] > '9')) {
      f.fail("must be a byte count (1MiB), any or eof, got " + f.describe());
    }
    a.until = ClientAction::RecvUntil::kBytes;
    a.bytes = as_size(f);
    if (a.bytes == 0) f.fail("recv: 0 waits for nothing; use a byte count, any (at least one byte) or eof");
  }
}

void parse_recv(const Field& f, ClientAction& a) {
  if (f.is_null()) f.fail("recv needs an amount: a byte count (1MiB), any, eof, or {bytes: 1MiB, timeout: 10s}");
  if (f.is_map()) {
    const Mapping m(f, {"bytes", "timeout"});
    parse_recv_amount(m.required("bytes", "a byte count (1MiB), any or eof"), a);
    if (auto x = m.get("timeout")) a.timeout = as_duration(*x);
    return;
  }
  parse_recv_amount(f, a);
}

void parse_shutdown(const Field& f, ClientAction& a) {
  a.shutdown_how = SHUT_WR;
  std::optional<Field> how;
  if (f.is_scalar()) how = f;
  else if (f.is_map() || f.is_null()) how = Mapping(f, {"how"}).get("how");
  else f.fail("must be read, write, both or {how: write}, got " + f.describe());
  if (!how) return;
  const std::string s = as_string(*how);
  if (s == "read") a.shutdown_how = SHUT_RD;
  else if (s == "write") a.shutdown_how = SHUT_WR;
  else if (s == "both") a.shutdown_how = SHUT_RDWR;
  else how->fail("unknown shutdown direction " + how->describe() + "; allowed: read, write (the default), both");
}

void parse_action_value(const Field& v, ClientAction& a) {
  switch (a.kind) {
    case ClientAction::Kind::kSend: parse_send(v, a); break;
    case ClientAction::Kind::kRecv: parse_recv(v, a); break;
    case ClientAction::Kind::kWait:
      if (v.is_null()) v.fail("wait needs a duration, e.g. wait: 2s");
      a.duration = as_duration(v);
      break;
    case ClientAction::Kind::kShutdown: parse_shutdown(v, a); break;
    case ClientAction::Kind::kClose:
      if (!v.is_null() && !v.is_map()) v.fail("close takes no value; write close or close: {}");
      (void)Mapping(v, {});
      break;
    case ClientAction::Kind::kConnect:
    case ClientAction::Kind::kWaitError: {
      if (!v.is_null() && !v.is_map()) v.fail("must be {} or {timeout: 5s}, got " + v.describe());
      const Mapping m(v, {"timeout"});
      if (auto x = m.get("timeout")) a.timeout = as_duration(*x);
      break;
    }
    case ClientAction::Kind::kConnectAgain: {
      if (!v.is_null() && !v.is_map()) v.fail("must be {} or {timeout: 5s, local_port: N}, got " + v.describe());
      const Mapping m(v, {"timeout", "local_port"});
      if (auto x = m.get("timeout")) a.timeout = as_duration(*x);
      if (auto x = m.get("local_port")) a.local_port = static_cast<std::uint16_t>(as_uint(*x, 1, 65535));
      break;
    }
  }
}

ClientAction parse_action(const Field& item) {
  ClientAction a;
  a.line = item.line();
  const std::string actions = join(kActionKeys);
  if (item.is_scalar()) {
    const std::string word = item.scalar();
    bool known = false;
    for (std::string_view k : kActionKeys) known = known || k == word;
    if (!known) item.fail("unknown client action " + item.describe() + "; allowed: " + actions);
    bool bare = false;
    for (std::string_view k : kBareActions) bare = bare || k == word;
    if (!bare) item.fail(word + " needs a value, e.g. " + (word == "send" ? "send: \"hello\\n\"" : word == "recv" ? "recv: 1MiB" : "wait: 2s"));
    a.kind = action_kind(word);
    parse_action_value(Field(item.ctx(), YAML::Node(YAML::NodeType::Null), item.path(), item.mark()), a);
    return a;
  }
  if (!item.is_map()) item.fail("must be an action (" + actions + "), got " + item.describe());
  std::vector<std::string_view> allowed = kActionKeys;
  allowed.push_back("at");
  allowed.push_back("after");
  const Mapping m(item, allowed, "unknown client action or key; actions: " + actions + "; other keys: at, after");
  const Mapping::Entry* action = nullptr;
  for (const Mapping::Entry& e : m.entries()) {
    if (e.key == "at" || e.key == "after") continue;
    if (action != nullptr) {
      e.key_field.fail("one action per item; this one already has " + action->key + " (start a new item with -)");
    }
    action = &e;
  }
  if (action == nullptr) item.fail("no action; give one of: " + actions);
  a.kind = action_kind(action->key);
  parse_action_value(action->value, a);
  if (m.has("at") && m.has("after")) m.key_field("after").fail("give at or after, not both");
  if (auto x = m.get("at")) {
    a.at = as_duration(*x);
    if (*a.at > x->ctx().duration) {
      x->fail("never runs: at " + format_duration(*a.at) + " is after the run ends (duration " +
              format_duration(x->ctx().duration) + ")");
    }
  }
  if (auto x = m.get("after")) a.after = as_duration(*x);
  return a;
}


// The client's one socket: connect first, nothing on it after close; `at` times only grow.
void check_action_order(const std::vector<ClientAction>& actions, const std::vector<Field>& items) {
  bool connected = false;
  bool closed = false;
  const ClientAction* last_at = nullptr;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const ClientAction& a = actions[i];
    const Field& item = items[i];
    const std::string name = to_string(a.kind);
    const bool uses_socket = a.kind != ClientAction::Kind::kConnect && a.kind != ClientAction::Kind::kWait &&
                             a.kind != ClientAction::Kind::kConnectAgain;
    if (a.kind == ClientAction::Kind::kConnect && connected) {
      item.fail("the client connects once; use connect_again for a second socket");
    }
    if (uses_socket && !connected) item.fail(name + " before connect; add `- connect` first");
    if (uses_socket && closed) item.fail(name + " after close");
    connected = connected || a.kind == ClientAction::Kind::kConnect;
    closed = closed || a.kind == ClientAction::Kind::kClose;
    if (!a.at) continue;
    if (last_at != nullptr && *a.at < *last_at->at) {
      Mapping::open(item).get("at")->fail("at " + format_duration(*a.at) + " is before the at " +
                                          format_duration(*last_at->at) + " of the action at line " +
                                          std::to_string(last_at->line) + "; actions run in order");
    }
    last_at = &a;
  }
}

}  // namespace

ClientSpec parse_client(const Field& f, const PeerSpec& peer) {
  const Mapping m(f, {"local_port", "peer_port", "socket_options", "actions"});
  ClientSpec c;
  c.line = f.line();
  if (auto x = m.get("local_port")) c.local_port = static_cast<std::uint16_t>(as_uint(*x, 1, 65535));
  c.peer_port = peer.ports.front();
  if (auto x = m.get("peer_port")) c.peer_port = static_cast<std::uint16_t>(as_uint(*x, 1, 65535));
  if (auto x = m.get("socket_options")) {
    const Mapping options = Mapping::open(*x);
    for (const Mapping::Entry& e : options.entries()) c.socket_options.push_back(parse_option(e));
  }
  if (auto x = m.get("actions")) {
    if (!x->is_list()) x->fail("must be a list of actions, got " + x->describe());
    const std::vector<Field> items = x->items();
    if (items.empty()) x->fail("needs at least one action, e.g. - connect");
    for (const Field& item : items) c.actions.push_back(parse_action(item));
    check_action_order(c.actions, items);
  } else {
    ClientAction connect;
    connect.kind = ClientAction::Kind::kConnect;
    connect.line = c.line;
    c.actions.push_back(connect);
  }
  return c;
}

}  // namespace tapfault::replay::detail
