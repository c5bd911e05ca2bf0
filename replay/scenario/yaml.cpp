// Scenario parser, the value layer: fields with paths and marks, checked mappings, and the
// scalar syntaxes of docs/scenarios.md ("Values"). Read yaml.hpp first.
#include "yaml.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <utility>

namespace tapfault::replay::detail {

namespace {

constexpr std::string_view kDurationUnits = "s, ms, us, min";
constexpr std::string_view kDurationExamples = "e.g. 1.5s, 200ms, 50us, 2min";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits only, no sign; false on overflow or no digits.
bool parse_digits(std::string_view s, std::uint64_t& out) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// A YAML integer: optional sign, decimal or 0x hex. Sets `overflow` when the digits do not fit.
bool parse_integer(std::string_view s, bool& negative, std::uint64_t& magnitude, bool& overflow) {
  negative = false;
  overflow = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ptr != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    overflow = true;
    return true;
  }
  return ec == std::errc();
}

bool looks_like_number(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.empty() || !is_digit(s[0])) return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) dot = true;
    else if (!is_digit(c)) return false;
  }
  return s.back() != '.';
}

std::string range_text(std::int64_t min, std::int64_t max) {
  if (max == std::numeric_limits<std::int64_t>::max()) return "at least " + std::to_string(min);
  return "between " + std::to_string(min) + " and " + std::to_string(max);
}

std::string range_text(std::uint64_t min, std::uint64_t max) {
  if (max == std::numeric_limits<std::uint64_t>::max()) return "at least " + std::to_string(min);
  return "between " + std::to_string(min) + " and " + std::to_string(max);
}

}  // namespace

std::filesystem::path Context::resolve(const std::string& reference) const {
  std::filesystem::path p(reference);
  if (p.is_absolute() || base_dir.empty()) return p;
  return base_dir / p;
}

namespace {

// `{ipv4: X, ipv6: Y}`: a non-empty mapping whose keys are all family names.
bool is_per_family(const YAML::Node& n) {
  if (!n.IsMap() || n.size() == 0) return false;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar() || !family_from_name(it->first.Scalar())) return false;
  }
  return true;
}

std::string family_list(const std::vector<stack::Family>& families) {
  std::string out;
  for (stack::Family f : families) out += (out.empty() ? "" : ", ") + std::string(family_name(f));
  return out;
}

}  // namespace

Field::Field(const Context& ctx, YAML::Node node, std::string path, YAML::Mark fallback)
    : ctx_(&ctx), node_(std::move(node)), path_(std::move(path)), mark_(fallback) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.Mark().is_null()) mark_ = node_.Mark();
  if (mark_.is_null()) mark_ = YAML::Mark();
  if (ctx.families.empty()) return;
  while (is_per_family(node_)) {
    std::optional<YAML::Node> chosen;
    YAML::Mark chosen_key_mark;
    std::vector<std::string> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const std::string key = it->first.Scalar();
      const Field key_field(ctx, it->first, path_ + "." + key, it->first.Mark());
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) key_field.fail("duplicate key");
      seen.push_back(key);
      const stack::Family f = *family_from_name(key);
      if (std::find(ctx.families.begin(), ctx.families.end(), f) == ctx.families.end()) {
        key_field.fail("network.family does not list " + key + " (it lists " + family_list(ctx.families) + ")");
      }
      if (f == ctx.family) {
        chosen = it->second;
        chosen_key_mark = it->first.Mark();
      }
    }
    for (stack::Family f : ctx.families) {
      if (std::find(seen.begin(), seen.end(), family_name(f)) == seen.end()) {
        fail("no value for " + std::string(family_name(f)) + "; a value written per family names each family of "
             "network.family (" + family_list(ctx.families) + ")");
      }
    }
    node_.reset(*chosen);  // reset(), not operator=: that would overwrite the document's node
    mark_ = chosen_key_mark;
    if (node_.IsDefined() && !node_.IsNull() && !node_.Mark().is_null()) mark_ = node_.Mark();
  }
}

std::string Field::describe() const {
  if (!node_.IsDefined() || node_.IsNull()) return "nothing";
  if (node_.IsMap()) return "a mapping";
  if (node_.IsSequence()) return "a list";
  if (is_quoted()) return "a quoted string \"" + node_.Scalar() + "\"";
  return "'" + node_.Scalar() + "'";
}

void Field::fail(const std::string& message) const { fail_as(path_, message); }

void Field::fail_as(const std::string& path, const std::string& message) const {
  throw ScenarioError(ctx_->file, mark_.line + 1, mark_.column + 1, path, message);
}

std::vector<Field> Field::items() const {
  std::vector<Field> out;
  if (is_null()) return out;
  if (!is_list()) fail("must be a list, got " + describe());
  std::size_t i = 0;
  for (const auto& item : node_) {
    out.emplace_back(*ctx_, item, path_ + "[" + std::to_string(i) + "]", mark_);
    ++i;
  }
  return out;
}

Mapping::Mapping(const Field& field) : field_(field) {
  if (field.is_null()) return;
  if (!field.is_map()) field.fail("must be a mapping, got " + field.describe());
  for (auto it = field.node().begin(); it != field.node().end(); ++it) {
    const std::string child_path_prefix = field.path().empty() ? "" : field.path() + ".";
    YAML::Mark key_mark = it->first.Mark();
    if (!it->first.IsScalar()) {
      Field(field.ctx(), it->first, field.path(), key_mark)
          .fail("keys must be plain names, got " + Field(field.ctx(), it->first, "", key_mark).describe());
    }
    std::string key = it->first.Scalar();
    Field key_field(field.ctx(), it->first, child_path_prefix + key, key_mark);
    if (const Entry* first = find(key)) {
      key_field.fail("duplicate key (first at line " + std::to_string(first->key_field.line()) + ")");
    }
    Field value(field.ctx(), it->second, child_path_prefix + key, key_field.mark());
    entries_.push_back(Entry{std::move(key), std::move(key_field), std::move(value)});
  }
}

Mapping::Mapping(const Field& field, std::vector<std::string_view> allowed,
                 std::string unknown_message)
    : Mapping(field) {
  for (const Entry& e : entries_) {
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    if (!unknown_message.empty()) e.key_field.fail(unknown_message);
    e.key_field.fail(allowed.empty() ? "unknown key; this takes no keys" : "unknown key; allowed: " + join(allowed));
  }
}

Mapping Mapping::open(const Field& field) { return Mapping(field); }

const Mapping::Entry* Mapping::find(std::string_view key) const {
  for (const Entry& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

std::optional<Field> Mapping::get(std::string_view key) const {
  if (const Entry* e = find(key)) return e->value;
  return std::nullopt;
}

Field Mapping::required(std::string_view key, std::string_view hint) const {
  if (const Entry* e = find(key)) return e->value;
  std::string path = field_.path().empty() ? std::string(key) : field_.path() + "." + std::string(key);
  std::string message = "missing required field";
  if (!hint.empty()) message += std::string("; ") + std::string(hint);
  field_.fail_as(path, message);
}

const Field& Mapping::key_field(std::string_view key) const { return find(key)->key_field; }

std::string join(const std::vector<std::string_view>& words, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += separator;
    out += words[i];
  }
  return out;
}

std::string normalize_state_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_' || c == ' ') continue;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (out.rfind("TCP", 0) == 0 && out.size() > 3) out.erase(0, 3);
  return out;
}

std::string format_duration(Duration d) {
  if (d == Duration::zero()) return "0s";
  const bool negative = d < Duration::zero();
  const std::uint64_t v = negative ? 0 - static_cast<std::uint64_t>(d.count()) : static_cast<std::uint64_t>(d.count());
  struct Unit {
    std::uint64_t ns;
    const char* name;
    std::size_t digits;  // of the fraction
  };
  // The largest unit not above the value: 1.5s rather than 1500ms, 200ms rather than 0.2s.
  static constexpr Unit kUnits[] = {{1'000'000'000, "s", 9}, {1'000'000, "ms", 6}, {1'000, "us", 3}, {1, "ns", 0}};
  const Unit& u = *std::find_if(std::begin(kUnits), std::end(kUnits), [&](const Unit& x) { return v >= x.ns; });
  std::string out = (negative ? "-" : "") + std::to_string(v / u.ns);
  if (const std::uint64_t fraction = v % u.ns; fraction != 0) {
    std::string digits = std::to_string(fraction);
    digits.insert(0, u.digits - digits.size(), '0');
    digits.erase(digits.find_last_not_of('0') + 1);
    out += "." + digits;
  }
  return out + u.name;
}

std::string as_string(const Field& f) {
  if (f.is_null()) f.fail("missing value; expected a string");
  if (!f.is_scalar()) f.fail("must be a string, got " + f.describe());
  return f.scalar();
}

std::string as_nonempty_string(const Field& f) {
  std::string s = as_string(f);
  if (s.empty()) f.fail("must not be empty");
  return s;
}

bool as_bool(const Field& f) {
  if (f.is_scalar() && !f.is_quoted()) {
    std::string s = lower(f.scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  f.fail("must be true or false, got " + f.describe());
}

std::uint64_t as_uint(const Field& f, std::uint64_t min, std::uint64_t max) {
  bool negative = false;
  bool overflow = false;
  std::uint64_t v = 0;
  if (!f.is_scalar() || f.is_quoted() || !parse_integer(f.scalar(), negative, v, overflow)) {
    f.fail("must be an integer, got " + f.describe());
  }
  if (overflow || (negative && v != 0) || v < min || v > max) {
    f.fail("must be " + range_text(min, max) + ", got " + f.scalar());
  }
  return v;
}

std::int64_t as_int(const Field& f, std::int64_t min, std::int64_t max) {
  bool negative = false;
  bool overflow = false;
  std::uint64_t magnitude = 0;
  if (!f.is_scalar() || f.is_quoted() || !parse_integer(f.scalar(), negative, magnitude, overflow)) {
    f.fail("must be an integer, got " + f.describe());
  }
  constexpr std::uint64_t kMaxMagnitude = std::uint64_t{1} << 63;
  if (overflow || magnitude > kMaxMagnitude || (!negative && magnitude == kMaxMagnitude)) {
    f.fail("must be " + range_text(min, max) + ", got " + f.scalar());
  }
  std::int64_t v = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  if (v < min || v > max) f.fail("must be " + range_text(min, max) + ", got " + f.scalar());
  return v;
}

Duration as_duration(const Field& f) {
  if (f.is_null()) f.fail("missing value; expected a duration (" + std::string(kDurationExamples) + ")");
  if (!f.is_scalar()) {
    f.fail("must be a duration (" + std::string(kDurationExamples) + "), got " + f.describe());
  }
  std::string_view text = f.scalar();
  if (looks_like_number(text)) {
    f.fail("duration needs a unit: " + std::string(kDurationUnits) + " (got " + std::string(text) + ")");
  }
  if (!text.empty() && text[0] == '-') f.fail("must not be negative, got " + std::string(text));
  std::string_view s = text;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::size_t i = 0;
  while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) ++i;
  std::string_view number = s.substr(0, i);
  std::string_view unit = s.substr(i);
  std::uint64_t unit_ns = 0;
  if (unit == "min") unit_ns = 60'000'000'000;
  else if (unit == "s") unit_ns = 1'000'000'000;
  else if (unit == "ms") unit_ns = 1'000'000;
  else if (unit == "us") unit_ns = 1'000;
  if (unit_ns == 0 || !looks_like_number(number)) {
    f.fail("not a duration: " + f.describe() + "; write a number with a unit: " +
           std::string(kDurationUnits) + " (" + std::string(kDurationExamples) + ")");
  }
  std::string_view whole = number.substr(0, number.find('.'));
  std::string_view fraction =
      number.find('.') == std::string_view::npos ? std::string_view() : number.substr(number.find('.') + 1);
  std::uint64_t whole_value = 0;
  std::uint64_t ns = 0;
  if (!parse_digits(whole, whole_value) || __builtin_mul_overflow(whole_value, unit_ns, &ns) ||
      ns > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    f.fail("duration too long: " + std::string(text));
  }
  // The fraction in ns must be exact: 1.5us is 1500ns, 1.0005us is not representable.
  std::uint64_t scale = unit_ns;
  for (char c : fraction) {
    if (scale % 10 != 0) f.fail("finer than 1ns: " + std::string(text));
    scale /= 10;
    ns += static_cast<std::uint64_t>(c - '0') * scale;
  }
  if (ns > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    f.fail("duration too long: " + std::string(text));
  }
  return Duration(static_cast<std::int64_t>(ns));
}

std::uint64_t as_size(const Field& f, std::uint64_t max) {
  const std::string allowed =
      "a size in bytes such as 17, 1000000, 64KiB, 1MiB (units: B, KiB, MiB, GiB, kB, MB, GB)";
  if (f.is_null()) f.fail("missing value; expected " + allowed);
  if (!f.is_scalar()) f.fail("must be " + allowed + ", got " + f.describe());
  std::string_view text = f.scalar();
  if (!text.empty() && text[0] == '-') f.fail("must not be negative, got " + std::string(text));
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::string_view unit = text.substr(i);
  struct Unit {
    std::string_view name;
    std::uint64_t bytes;
  };
  static constexpr Unit kUnits[] = {{"", 1},           {"B", 1},
                                    {"KiB", 1 << 10},  {"MiB", 1 << 20},
                                    {"GiB", 1 << 30},  {"kB", 1000},
                                    {"KB", 1000},      {"MB", 1000 * 1000},
                                    {"GB", 1000 * 1000 * 1000}};
  const Unit* u = nullptr;
  for (const Unit& candidate : kUnits)
    if (candidate.name == unit) u = &candidate;
  std::uint64_t count = 0;
  if (u == nullptr || !parse_digits(text.substr(0, i), count)) {
    f.fail("must be " + allowed + ", got " + f.describe());
  }
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, u->bytes, &bytes) || bytes > max) {
    f.fail("must be at most " + std::to_string(max) + " bytes, got " + std::string(text));
  }
  return bytes;
}

stack::IpAddress as_address(const Field& f) {
  std::string text = as_string(f);
  auto a = stack::IpAddress::parse(text);
  if (!a) f.fail("not an IP address: " + f.describe());
  const stack::Family family = f.ctx().family;
  if (a->family != family) {
    f.fail(std::string(a->is_v4() ? "an IPv4" : "an IPv6") + " address in an " +
           (family == stack::Family::kIpv4 ? "ipv4" : "ipv6") + " run (network.family); use an " +
           (family == stack::Family::kIpv4 ? "IPv4" : "IPv6") + " address");
  }
  return *a;
}

IpPrefix as_prefix(const Field& f, int default_length) {
  std::string text = as_string(f);
  std::size_t slash = text.find('/');
  Field address_part(f.ctx(), YAML::Node(text.substr(0, slash)), f.path(), f.mark());
  IpPrefix p;
  p.address = as_address(address_part);
  const int max_length = p.address.is_v4() ? 32 : 128;
  p.length = default_length;
  if (slash != std::string::npos) {
    std::uint64_t length = 0;
    if (!parse_digits(std::string_view(text).substr(slash + 1), length) ||
        length > static_cast<std::uint64_t>(max_length)) {
      f.fail("prefix length must be between 0 and " + std::to_string(max_length) + ", got " +
             f.describe());
    }
    p.length = static_cast<int>(length);
  }
  return p;
}

int as_errno(const Field& f) {
  std::string text = as_string(f);
  if (auto v = errno_from_name(text)) return *v;
  std::vector<std::string_view> names;
  for (const ErrnoName& e : known_errnos()) names.push_back(e.name);
  f.fail("unknown errno name " + f.describe() + "; allowed: " + join(names));
}

SocketState as_socket_state(const Field& f) {
  std::string text = as_string(f);
  if (auto s = socket_state_from_string(text)) return *s;
  std::vector<std::string_view> names;
  for (int i = static_cast<int>(SocketState::kEstablished); i <= static_cast<int>(SocketState::kClosing); ++i)
    names.push_back(to_string(static_cast<SocketState>(i)));
  f.fail("unknown TCP state " + f.describe() + "; allowed: " + join(names) +
         " (any case, '-' or '_')");
}

std::string as_sysctl_name(const Field& key) {
  const std::string& name = key.scalar();
  if (name.rfind("net.", 0) != 0) {
    key.fail("sysctl names must start with net. (only the run's network namespace is written), got '" +
             name + "'");
  }
  bool ok = name.size() > 4 && name.back() != '.' && name.find("..") == std::string::npos;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  }
  if (!ok) {
    key.fail("not a sysctl name: '" + name + "'; write it dotted, e.g. net.ipv4.tcp_retries2");
  }
  return name;
}

std::vector<Sysctl> as_sysctls(const Field& f) {
  std::vector<Sysctl> out;
  const Mapping m = Mapping::open(f);
  for (const Mapping::Entry& e : m.entries()) {
    Sysctl s;
    s.name = as_sysctl_name(e.key_field);
    if (e.value.is_list() || e.value.is_map()) {
      e.value.fail("must be a single value (write several numbers as one string: \"4096 131072 6291456\"), got " +
                   e.value.describe());
    }
    s.value = as_string(e.value);
    s.line = e.key_field.line();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::uint8_t> read_file(const Field& f, const std::filesystem::path& path, std::string_view what) {
  const std::string name = std::string(what) + " '" + path.string() + "'";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) f.fail("cannot read " + name + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) f.fail("cannot read " + name + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) f.fail("cannot read " + name + ": " + std::strerror(errno));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) f.fail("cannot read " + name + ": " + std::strerror(errno));
  return bytes;
}

}  // namespace tapfault::replay::detail
