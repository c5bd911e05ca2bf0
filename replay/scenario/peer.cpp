// Scenario parser: `peer:` the listeners, the application mode and the advertised window.
// The fault list under it is faults.cpp.
#include <string>

#include "yaml.hpp"

namespace tapfault::replay::detail {

namespace {

std::uint16_t as_port(const Field& f) { return static_cast<std::uint16_t>(as_uint(f, 1, 65535)); }

std::vector<std::uint16_t> parse_ports(const Mapping& m) {
  std::vector<std::uint16_t> ports;
  if (m.has("port") && m.has("ports")) m.key_field("ports").fail("give port or ports, not both");
  if (auto x = m.get("ports")) {
    if (!x->is_list()) x->fail("must be a list of ports such as [8080, 8081], got " + x->describe());
    for (const Field& item : x->items()) {
      const std::uint16_t port = as_port(item);
      for (std::uint16_t p : ports)
        if (p == port) item.fail("duplicate port " + std::to_string(port));
      ports.push_back(port);
    }
    if (ports.empty()) x->fail("needs at least one port");
    return ports;
  }
  ports.push_back(as_port(m.required("port", "or `ports: [8080, 8081]`")));
  return ports;
}

}  // namespace

PeerSpec parse_peer(const Field& f) {
  const Mapping m(f, {"port", "ports", "mode", "response", "response_file", "respond_on_connect",
                      "close_after_response", "window", "window_scale", "ack", "faults"});
  PeerSpec p;
  p.line = f.line();
  p.ports = parse_ports(m);

  if (auto x = m.get("mode")) {
    const std::string mode = as_string(*x);
    if (mode == "echo") p.mode = stack::AppMode::kEcho;
    else if (mode == "discard") p.mode = stack::AppMode::kDiscard;
    else if (mode == "respond") p.mode = stack::AppMode::kRespond;
    else x->fail("unknown mode " + x->describe() + "; allowed: echo, discard, respond");
  }
  const bool respond = p.mode == stack::AppMode::kRespond;
  for (std::string_view key : {"response", "response_file", "respond_on_connect", "close_after_response"}) {
    if (m.has(key) && !respond) {
      m.key_field(key).fail("only used with mode: respond (mode is " +
                            std::string(p.mode == stack::AppMode::kEcho ? "echo" : "discard") + ")");
    }
  }
  if (m.has("response") && m.has("response_file")) {
    m.key_field("response_file").fail("give response or response_file, not both");
  }
  if (auto x = m.get("response")) {
    const std::string text = as_string(*x);
    p.response.assign(text.begin(), text.end());
  } else if (auto x = m.get("response_file")) {
    p.response_file = x->ctx().resolve(as_nonempty_string(*x));
    p.response = read_file(*x, p.response_file, "response file");
  } else if (respond) {
    m.required("response", "mode respond needs response or response_file");
  }
  if (auto x = m.get("respond_on_connect")) p.respond_on_connect = as_bool(*x);
  if (auto x = m.get("close_after_response")) p.close_after_response = as_bool(*x);

  if (auto x = m.get("window_scale")) p.window_scale = static_cast<std::uint8_t>(as_uint(*x, 0, 14));
  const std::uint64_t max_window = std::uint64_t{65535} << p.window_scale;
  if (auto x = m.get("window")) {
    p.window_bytes = static_cast<std::uint32_t>(as_size(*x, UINT32_MAX));
    if (p.window_bytes > max_window) {
      x->fail("at most " + std::to_string(max_window) + " bytes with window_scale " +
              std::to_string(p.window_scale) + " (65535 << scale); raise window_scale (0..14)");
    }
  } else if (p.window_bytes > max_window) {
    m.get("window_scale")->fail("the default window of 256KiB needs window_scale 3 or more; give a smaller window");
  }
  if (auto x = m.get("ack")) {
    const std::string ack = as_string(*x);
    if (ack == "delayed") p.delayed_ack = kDelayedAck;
    else if (ack != "each") x->fail("unknown ack policy " + x->describe() + "; allowed: each, delayed");
  }
  if (auto x = m.get("faults")) p.faults = parse_faults(*x, p);
  return p;
}

}  // namespace tapfault::replay::detail
