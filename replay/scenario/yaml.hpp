// Private to the scenario parser (replay/scenario/*.cpp): YAML nodes that know their field
// path and position, mappings that reject unknown keys, and the value syntaxes (durations,
// sizes, integers, booleans, addresses, errno and state names) with their messages.
//
// Every failure goes through Field::fail(), which throws ScenarioError with the file, the
// 1-based line and column from YAML::Mark, and the field path (`peer.faults[1].icmp.mtu`).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tapfault/replay/scenario/scenario.hpp"

namespace tapfault::replay::detail {

// What every section parser needs to know about the file and about the sections before it.
struct Context {
  std::string file;                // for messages, as the caller named it
  std::filesystem::path base_dir;  // relative file references resolve against it
  stack::Family family = stack::Family::kIpv4;  // the family this parse is for
  // network.family as listed. Once set, a value written per family (`{ipv4: X, ipv6: Y}`)
  // stands for its value of `family` in every field (Field's constructor chooses it).
  std::vector<stack::Family> families;
  Duration duration{};             // the run's hard limit
  const NetworkSpec* network = nullptr;

  std::filesystem::path resolve(const std::string& reference) const;
};

// A YAML node with its field path and a mark for messages.
class Field {
 public:
  // `fallback` is used when the node has no useful mark of its own: yaml-cpp gives a null
  // value the mark of the next token, so `send:` is better reported at its key.
  // A per-family mapping (every key a family name) becomes the value of ctx.family; it fails
  // when it lacks a listed family or names one network.family does not list.
  Field(const Context& ctx, YAML::Node node, std::string path, YAML::Mark fallback);

  const Context& ctx() const { return *ctx_; }
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }
  int line() const { return mark_.line + 1; }

  bool is_null() const { return node_.IsNull(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_list() const { return node_.IsSequence(); }
  bool is_quoted() const { return node_.IsScalar() && node_.Tag() == "!"; }
  const std::string& scalar() const { return node_.Scalar(); }
  // "a mapping", "a list", "nothing", "a quoted string \"x\"", "'x'": for "got ..." in messages.
  std::string describe() const;

  [[noreturn]] void fail(const std::string& message) const;
  // The same position, another name (a missing key is reported at its mapping).
  [[noreturn]] void fail_as(const std::string& path, const std::string& message) const;

  // Items of a list (`path[i]`); null is an empty list.
  std::vector<Field> items() const;

 private:
  const Context* ctx_;
  YAML::Node node_;
  std::string path_;
  YAML::Mark mark_;
};

// A mapping whose keys are checked on construction: scalars, none repeated, and (unless
// open) each one of `allowed`. Null is an empty mapping.
class Mapping {
 public:
  struct Entry {
    std::string key;
    Field key_field;
    Field value;
  };

  // Unknown keys fail with `unknown_message`, by default "unknown key; allowed: a, b, c".
  Mapping(const Field& field, std::vector<std::string_view> allowed,
          std::string unknown_message = {});
  // Any key is accepted (sysctl names, socket options that the caller checks itself).
  static Mapping open(const Field& field);

  const Field& field() const { return field_; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  std::optional<Field> get(std::string_view key) const;
  // Fails at the mapping with "PATH.KEY: missing required field" plus `hint`.
  Field required(std::string_view key, std::string_view hint = {}) const;
  const Entry* find(std::string_view key) const;
  // The key's own field (for messages about a key, such as "two triggers").
  const Field& key_field(std::string_view key) const;

 private:
  explicit Mapping(const Field& field);
  Field field_;
  std::vector<Entry> entries_;
};

std::string join(const std::vector<std::string_view>& words, std::string_view separator = ", ");
// TCP state names compared in any spelling: upper case, no "TCP_" prefix, no '-', '_' or ' '
// ("fin-wait-1", "FIN_WAIT1" and "TCP_FIN_WAIT1" all become "FINWAIT1").
std::string normalize_state_name(std::string_view s);
std::string format_duration(Duration d);  // "1.5s", "200ms", "50us", "0s"

// Scalars. Each fails with the field's path and what is allowed.
std::string as_string(const Field& f);  // any scalar; not null, not a mapping or list
std::string as_nonempty_string(const Field& f);
bool as_bool(const Field& f);  // true/false, yes/no, on/off (unquoted)
std::int64_t as_int(const Field& f, std::int64_t min, std::int64_t max);
std::uint64_t as_uint(const Field& f, std::uint64_t min, std::uint64_t max);
// `1.5s`, `200ms`, `50us`, `2min`; never negative; a bare number is an error.
Duration as_duration(const Field& f);
// `17`, `1000000`, `64KiB`, `1MiB`, `1GiB`, `10kB`, `2MB`, `1GB`, `100B`.
std::uint64_t as_size(const Field& f, std::uint64_t max = UINT64_MAX);
// An address of the run's family (ctx().family).
stack::IpAddress as_address(const Field& f);
// `addr/len` of the run's family; a bare address takes `default_length`.
IpPrefix as_prefix(const Field& f, int default_length);
int as_errno(const Field& f);  // errno name or none
SocketState as_socket_state(const Field& f);
// A sysctl name under net. (only the run's namespace is written).
std::string as_sysctl_name(const Field& key);
std::vector<Sysctl> as_sysctls(const Field& f);  // a mapping name -> scalar, in file order
// A link MTU: 68..65535, in an ipv6 run 1280..65535.
std::uint32_t as_link_mtu(const Field& f);
// The contents of `path` (resolved already); `what` names it in the message ("response file").
std::vector<std::uint8_t> read_file(const Field& f, const std::filesystem::path& path, std::string_view what);

// `network.family`: one family or a list of distinct ones, in file order.
std::vector<stack::Family> parse_families(const Field& f);

// Section parsers (one file each: network.cpp, peer.cpp, ...).
// ctx.family is set already: every address is checked against it.
NetworkSpec parse_network(const Field& f, const Context& ctx);
PeerSpec parse_peer(const Field& f);
stack::FaultPlan parse_faults(const Field& f, const PeerSpec& peer);
ClientSpec parse_client(const Field& f, const PeerSpec& peer);
std::vector<KernelAction> parse_kernel_actions(const Field& f);
Expectations parse_expect(const Field& f);

}  // namespace tapfault::replay::detail
