// The run's timeline file (see runner_parts.hpp).
#include "runner_parts.hpp"

namespace tapfault::replay {

Timeline::Timeline(const std::filesystem::path& path) : out_(path) {}

void Timeline::write(Duration t, const char* source, nlohmann::json fields) {
  // Time and source first, so that a line reads left to right as "when, who, what".
  nlohmann::ordered_json line;
  line["t"] = std::chrono::duration<double>(t).count();
  line["source"] = source;
  for (auto& [key, value] : fields.items()) line[key] = std::move(value);
  out_ << line.dump() << '\n';
}

}  // namespace tapfault::replay
