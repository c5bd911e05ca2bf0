#!/usr/bin/env bash
# scripts/kernels-table.py on two kernels' folders: a run whose SYNs differ in count is
# listed under "Where the kernels differ" with its explanation, one that agrees only in the
# full table, and an n/a row stays n/a.
set -euo pipefail
script=$1/scripts/kernels-table.py
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
make_kernel() {  # DIR RELEASE SYN_TIMES...
  local dir=$work/$1 release=$2
  shift 2
  mkdir -p "$dir/runs/syn-silent-ipv4" "$dir/runs/echo-ipv4"
  printf 'scenario\tfamily\texit\tverdict\tseconds\tnote\nsyn-silent-ipv4\tipv4\t0\tpass\t8.0\t\necho-ipv4\tipv4\t0\tpass\t0.5\t\next-ipv4\tipv4\t-\tn/a\t-\tneeds an external client\n' >"$dir/results.tsv"
  local events="" i=1 t
  for t in "$@"; do events+="${events:+,}{\"event\":\"SYN#$i\",\"observed_s\":$t}"; i=$((i + 1)); done
  echo "{\"kernel\":{\"release\":\"$release\"},\"client\":{\"final_error\":\"ETIMEDOUT\"},\"model\":{\"events\":[$events],\"give_up\":{\"observed_s\":7.1}}}" \
    >"$dir/runs/syn-silent-ipv4/report.json"
  echo "{\"kernel\":{\"release\":\"$release\"},\"client\":{\"final_error\":\"none\"}}" >"$dir/runs/echo-ipv4/report.json"
}
make_kernel a 6.1.0-57-cloud-amd64 1.0 3.0
make_kernel b 6.18.44 1.0 2.0 3.0 4.0 5.0
out=$(/usr/bin/python3 "$script" "$work/b" "$work/a")
fail() { printf 'FAIL: %s\n%s\n' "$1" "$out"; exit 1; }
differ=$(sed -n '/## Where the kernels differ/,/## Every run/p' <<<"$out")
grep -q '| run | 6.1.0-57-cloud-amd64 | 6.18.44 | why |' <<<"$differ" || fail "columns in version order"
grep -q '`syn-silent-ipv4` | pass: SYN 1.000, 3.000; ETIMEDOUT at 7.100 s | pass: SYN 1.000, 2.000, 3.000, 4.000, 5.000; ETIMEDOUT at 7.100 s | 6.1 has no tcp_syn_linear_timeouts' <<<"$differ" ||
  fail "the SYN difference with its reason"
if grep -q echo-ipv4 <<<"$differ"; then fail "echo agrees on both"; fi
grep -q '`echo-ipv4` | pass | pass |' <<<"$out" || fail "echo in the full table"
grep -q '`ext-ipv4` | n/a | n/a |' <<<"$out" || fail "n/a rows"
echo "kernels table: differences and rows as expected"
