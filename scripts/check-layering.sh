#!/usr/bin/env bash
# Checks the arrows of docs/architecture.md on every #include line: a room includes only
# itself and the rooms below it, stack/ stays pure (no Asio, no syscall headers, no clock
# reads), and the offline rooms (model, scenario, analysis, report) reach neither Asio nor
# libnl. Runs in every build (target check_layering) and prints each offending line as
# FILE:LINE: what it includes, and why that is not allowed. Usage: check-layering.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# What each room may include (besides itself and include/tapfault/replay/exit_codes.hpp).
declare -A allowed=(
  [stack]=""
  [tap]="stack"
  [model]=""
  [scenario]="stack"
  [analysis]="model stack"
  [report]="analysis scenario model stack"
  [run]="report analysis scenario model tap stack"
  [cli]="run report analysis scenario model tap stack"
)
room_of_file() {
  case "$1" in
    stack/* | include/tapfault/stack/*) echo stack ;;
    tap/* | include/tapfault/tap/*) echo tap ;;
    replay/*/* | include/tapfault/replay/*/*) local r=${1#include/tapfault/}; r=${r#replay/}; echo "${r%%/*}" ;;
    *) echo "" ;;
  esac
}
room_of_include() {
  case "$1" in
    tapfault/stack/* | stack/*) echo stack ;;
    tapfault/tap/* | tap/*) echo tap ;;
    tapfault/replay/exit_codes.hpp) echo "" ;;
    tapfault/replay/*/* | replay/*/*) local r=${1#tapfault/}; r=${r#replay/}; echo "${r%%/*}" ;;
    *) echo "" ;;
  esac
}

bad=0
complain() { echo "$1: $2" >&2; bad=1; }
while IFS= read -r file; do
  room=$(room_of_file "$file")
  [[ -n "$room" ]] || continue
  while IFS=: read -r line text; do
    inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"].*/\1/' <<<"$text")
    target=$(room_of_include "$inc")
    if [[ -n "$target" && "$target" != "$room" && " ${allowed[$room]} " != *" $target "* ]]; then
      complain "$file:$line" "includes $inc: $room/ may include only ${allowed[$room]:-itself}"
    fi
    case "$room:$inc" in
      stack:boost/* | stack:unistd.h | stack:fcntl.h | stack:sys/* | stack:linux/* | stack:poll.h)
        complain "$file:$line" "includes <$inc>: stack/ is pure (bytes and time in, frames and deadlines out)" ;;
      model:* | scenario:* | analysis:* | report:*)
        case "$inc" in
          boost/asio* | netlink/* | linux/if_tun.h)
            complain "$file:$line" "includes <$inc>: $room/ is offline work and must build without Asio or libnl" ;;
        esac ;;
    esac
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$file" || true)
  if [[ "$room" == stack ]] && grep -nE 'steady_clock::now|system_clock::now|\bgettimeofday\b|\bclock_gettime\b' "$file" >/dev/null; then
    complain "$file" "reads a clock: stack/ gets its time from the caller"
  fi
done < <(if git rev-parse --git-dir >/dev/null 2>&1; then
           git ls-files --cached --others --exclude-standard -- stack tap replay include
         else
           find stack tap replay include -type f
         fi)
exit $bad
