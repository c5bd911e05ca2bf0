#!/usr/bin/env bash
# Fails when a tracked file cites what the repository does not hold:
#   1. a file outside it (the notes the project started from, absolute paths into the
#      shared folder next to the checkout): cite docs/ instead (docs/kernel-timing.md for
#      the kernel's timers, docs/architecture.md for the design,
#      docs/cases/field-reports/ for the field reports);
#   2. a docs/ page (.md, .txt) that does not exist;
#   3. a section of docs/kernel-timing.md that has no heading ("section 7", "§ 8.2").
# Usage: scripts/check-citations.sh [SOURCE_DIR]   (run by scripts/test.sh)
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-citations.sh: not a git work tree, nothing checked"
  exit 0
fi
status=0
self=':!scripts/check-citations.sh'

# Written with bracket expressions so that this line does not match itself.
outside='KERNEL[-]MODEL|DESIGN[.]md|/work[/]shared|[.][.]/shared'
if git grep -n -E "$outside" -- . "$self"; then
  echo "check-citations.sh: the lines above cite files outside the repository;" \
    "cite docs/ (docs/kernel-timing.md, docs/architecture.md, docs/cases/field-reports/)" >&2
  status=1
fi

while IFS= read -r hit; do
  path=${hit#*:*:}
  [[ -e "$path" ]] && continue
  echo "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): cites $path, which does not exist" >&2
  status=1
done < <(git grep -n -o -E 'docs/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(md|txt)' -- . "$self" || true)

# Headings look like "## 7. Persist" or "### 8.2 tcp_ld_RTO_revert()".
sections=$(sed -n -E 's/^#{2,3} ([0-9]+(\.[0-9]+)?)\.? .*/\1/p' docs/kernel-timing.md)
while IFS= read -r hit; do
  number=$(grep -o -E '[0-9]+(\.[0-9]+)?$' <<<"$hit")
  grep -qx -F "$number" <<<"$sections" && continue
  echo "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): docs/kernel-timing.md has no section $number" >&2
  status=1
done < <(git grep -n -o -E 'docs/kernel-timing\.md,? (sections?|§) ?[0-9]+(\.[0-9]+)?' -- . "$self" || true)

exit "$status"
