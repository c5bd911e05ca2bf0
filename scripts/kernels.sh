#!/usr/bin/env bash
# The kernel matrix (issue 17, item 4): runs the scenario library, or a selection of it,
# under qemu on one of Debian's kernels, from a throw-away initramfs packed here.
#
# Usage:
#   scripts/kernels.sh fetch VERSION...
#   scripts/kernels.sh run VERSION [--out DIR] [--fast | --list FILE | --scenario FILE]...
#                      [--family F] [--realtime] [--accel auto|kvm|tcg] [--timeout S]
#                      [-- COMMAND...]
#   scripts/kernels.sh plan VERSION [selection]   (what run would run, without booting)
#   scripts/kernels.sh host [selection]           (the same runs on this machine's kernel)
#   scripts/kernels.sh list
#   then: /usr/bin/python3 scripts/kernels-table.py build/kernels-out/* > docs/kernels.md
#
# VERSION is a Debian kernel release ("6.1.0-57", "6.12.118+deb12") or a series ("6.1",
# "6.12"), which names the newest one Debian has (fetch) or the newest one fetched (run; it
# fetches first when there is none). For plan it may also be an upstream version (6.1.192).
#
# fetch: `apt-get download linux-image-<release>-cloud-amd64-unsigned`, then `dpkg-deb -x`
#   into $TAPFAULT_KERNEL_CACHE (default build/kernels)/<release>-cloud-amd64/. Nothing is
#   fetched from anywhere else, and nothing is installed on the host.
# run: packs an initramfs (cpio newc by busybox, gzip) with busybox, tapfault
#   ($TAPFAULT_BINARY, default build/tapfault) and its libraries (ldd), the modules the guest
#   needs (tun, tcp_bbr, inet_diag, tcp_diag, virtio_blk, with the modules they depend on),
#   the scenario library ($TAPFAULT_SCENARIOS_DIR, default captures/scenarios), and an init
#   that runs each selected run as `tapfault run FILE --family F --out /results/NAME -q`
#   and powers off. qemu-system-x86_64 boots it (-m 2G -smp 2, serial console) with KVM
#   when /dev/kvm boots the kernel, TCG otherwise, under a timeout. Debian's cloud kernels
#   have no 9p, so the results come back as a tar that the guest writes onto a raw virtio
#   disk: OUT/<release>/runs/NAME/ (capture.pcap, report.json, timeline.jsonl, output.txt),
#   with OUT/<release>/results.tsv and console.log; OUT is $TAPFAULT_KERNELS_OUT, default
#   build/kernels-out. One table per kernel is printed: scenario, family, exit, verdict,
#   seconds, note (the first mismatch, or why it is not applicable).
#   Selection: every scenario with a built-in client, not tagged realtime (default);
#   --fast those of them whose duration is at most 15 s (for CI); --list FILE the files it
#   names (one per line, relative to the library or the repository, # comments);
#   --scenario FILE one file (repeatable); --family one family; --realtime adds the
#   realtime ones. A scenario whose file says `kernels: {versions: ">= 6.5", reason: ...}`
#   that the kernel does not meet is a n/a row with that reason, as is one that needs an
#   external client.
#   -- COMMAND...: run COMMAND in the guest instead of the scenarios (tapfault is on PATH);
#   its output is printed and its exit code is the script's.
# list: the kernels fetched.
#
# Exit codes: 0 every applicable run passed; 1 a run failed; 2 bad usage or a scenario's
# bad `kernels:`; 3 environment (no package, no qemu, the guest did not finish in time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${TAPFAULT_KERNEL_CACHE:-$root/build/kernels}
scenarios=${TAPFAULT_SCENARIOS_DIR:-$root/captures/scenarios}
# How long a guest may take to reach its init under TCG: 5-7 s measured (issue 17); with
# margin for a loaded 2-core machine.
boot_budget_s=90
fast_max_duration_s=15

die() {
  local code=$1
  shift
  echo "kernels: $*" >&2
  exit "$code"
}

# ---- fetch ----------------------------------------------------------------------------

# The kernel release (uname -r) from the package's name:
# linux-image-6.1.0-57-cloud-amd64-unsigned -> 6.1.0-57-cloud-amd64.
abi_of_package() { sed -E 's/^linux-image-(.*)-unsigned$/\1/'; }

# The newest Debian package of a series or ABI, by name.
resolve_package() {
  local want=$1 re
  re="^linux-image-${want//./\\.}([.-].*)?-cloud-amd64-unsigned\$"
  apt-cache search --names-only "$re" 2>/dev/null | awk '{print $1}' | grep -E "$re" | sort -V | tail -n1
}

fetch_one() {
  local want=$1 pkg abi dir tmp deb
  pkg=$(resolve_package "$want")
  if [[ -z "$pkg" ]]; then
    # apt-cache knows nothing before its first update.
    apt-get update -qq >/dev/null 2>&1 || true
    pkg=$(resolve_package "$want")
  fi
  [[ -n "$pkg" ]] || die 3 "no Debian package linux-image-$want*-cloud-amd64-unsigned (apt-cache search)"
  abi=$(abi_of_package <<<"$pkg")
  dir=$cache/$abi
  if [[ -f $dir/.complete ]]; then
    echo "kernels: $abi already in $dir"
    return 0
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/kernels-fetch.XXXXXX")
  # apt-get download writes into the current folder, as the _apt user when it can.
  chmod 0777 "$tmp"
  (cd "$tmp" && apt-get download -q "$pkg" >/dev/null) || {
    rm -rf "$tmp"
    die 3 "apt-get download $pkg failed"
  }
  deb=$(ls "$tmp"/*.deb)
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$deb" "$dir"
  dpkg-deb -f "$deb" Package Version >"$dir/.package"
  rm -rf "$tmp"
  [[ -f $dir/boot/vmlinuz-$abi ]] || die 3 "$pkg has no boot/vmlinuz-$abi"
  touch "$dir/.complete"
  echo "kernels: $abi ($pkg $(awk '/^Version:/{print $2}' "$dir/.package")) in $dir"
}

# The newest fetched ABI of a series or ABI.
resolve_cached() {
  local want=$1 d
  [[ -d $cache ]] || return 0
  for d in "$cache"/*/.complete; do
    [[ -e $d ]] || continue
    d=$(basename "$(dirname "$d")")
    if [[ $d == "$want" || $d == "$want".* || $d == "$want"-* ]]; then echo "$d"; fi
  done | sort -V | tail -n1
}

cmd_fetch() {
  (($# > 0)) || die 2 "fetch: name a version (6.1, 6.12, 6.1.0-57, ...)"
  command -v apt-get >/dev/null || die 3 "apt-get is not there: the kernels come from Debian's packages"
  local v
  for v in "$@"; do fetch_one "$v"; done
}

cmd_list() {
  local d
  for d in "$cache"/*/.complete; do
    [[ -e $d ]] || continue
    d=$(dirname "$d")
    echo "$(basename "$d")  $(awk '/^Version:/{print $2}' "$d/.package")  $d"
  done
}

# ---- selection ------------------------------------------------------------------------

# One scenario file's fields, read with awk (the scenario parser need not know `kernels:`):
# name, families (space-separated), duration in seconds, tags (comma-separated), whether it
# has a built-in client, the `kernels:` constraint and its reason; separated by \x1f, which,
# unlike a tab, `read` does not merge when a field is empty.
scenario_fields() {
  awk '
    function unquote(v) { gsub(/^[ \t]+|[ \t]+$/, "", v); gsub(/^["\x27]|["\x27]$/, "", v); return v }
    function list(v) { gsub(/[][]/, "", v); gsub(/[ \t]*,[ \t]*/, ",", v); return unquote(v) }
    /^[a-z_]+:/ { section = $1; sub(/:$/, "", section) }
    /^name:/ { v = $0; sub(/^name:/, "", v); name = unquote(v) }
    /^tags:/ { v = $0; sub(/^tags:/, "", v); tags = list(v) }
    /^duration:/ { v = $0; sub(/^duration:/, "", v); duration = unquote(v) }
    /^client:/ { client = 1 }
    # kernels: {versions: ">= 6.15", reason: "..."}, in flow or block style (docs/scenarios.md).
    /^kernels:[ \t]*\{/ {
      v = $0
      if (match(v, /versions:[ \t]*"[^"]*"/)) { k = substr(v, RSTART, RLENGTH); sub(/^versions:/, "", k); kernels = unquote(k) }
      if (match(v, /reason:[ \t]*"[^"]*"/)) { k = substr(v, RSTART, RLENGTH); sub(/^reason:/, "", k); reason = unquote(k) }
    }
    section == "kernels" && /^  versions:/ { v = $0; sub(/^  versions:/, "", v); kernels = unquote(v) }
    section == "kernels" && /^  reason:/ { v = $0; sub(/^  reason:/, "", v); reason = unquote(v) }
    section == "network" && /^  family:/ { v = $0; sub(/^  family:/, "", v); fam = list(v); gsub(/,/, " ", fam) }
    END {
      if (fam == "") fam = "ipv4"
      if (duration == "") duration = "30s"
      if (duration ~ /ms$/) { sub(/ms$/, "", duration); secs = duration / 1000 }
      else if (duration ~ /min$/) { sub(/min$/, "", duration); secs = duration * 60 }
      else if (duration ~ /m$/) { sub(/m$/, "", duration); secs = duration * 60 }
      else { sub(/s$/, "", duration); secs = duration + 0 }
      printf "%s\x1f%s\x1f%s\x1f%s\x1f%d\x1f%s\x1f%s\n", name, fam, secs, tags, client, kernels, reason
    }' "$1"
}

# Whether upstream version $1 (6.1.192) meets a constraint such as ">= 6.5" or ">= 6.5, < 6.13".
version_meets() {
  local have=$1 c op want
  local IFS=,
  for c in $2; do
    c=${c// /}
    op=${c%%[0-9]*}
    want=${c#"$op"}
    [[ -n $want ]] || return 2
    local lower
    lower=$(printf '%s\n%s\n' "$have" "$want" | sort -V | head -n1)
    case "$op" in
      ">=") [[ $lower == "$want" ]] || return 1 ;;
      ">") [[ $lower == "$want" && $have != "$want" ]] || return 1 ;;
      "<") [[ $lower == "$have" && $have != "$want" ]] || return 1 ;;
      "<=") [[ $lower == "$have" ]] || return 1 ;;
      "=" | "==") [[ $have == "$want" ]] || return 1 ;;
      *) return 2 ;;
    esac
  done
  return 0
}

# Writes the plan, one run a line: STATUS<TAB>file (relative to captures/scenarios)<TAB>
# family<TAB>run name<TAB>seconds<TAB>note, where STATUS is "run" or "n/a".
# Arguments: upstream version, selection mode (all|fast), realtime (0|1), family filter,
# then the files (empty: the whole library).
plan_runs() {
  local upstream=$1 mode=$2 realtime=$3 family_filter=$4
  shift 4
  local scen=$scenarios files=("$@") f rel
  if ((${#files[@]} == 0)); then
    mapfile -t files < <(cd "$scen" && find . -name '*.yaml' | sed 's|^\./||' | sort)
  fi
  for rel in "${files[@]}"; do
    f=$scen/$rel
    [[ -f $f ]] || die 2 "no scenario $rel under $scen"
    local name fams secs tags client kernels reason fam nfam status note run_name
    IFS=$'\x1f' read -r name fams secs tags client kernels reason < <(scenario_fields "$f")
    [[ -n $name ]] || name=$(basename "$rel" .yaml)
    if [[ ,$tags, == *,realtime,* ]] && ((realtime == 0)); then continue; fi
    if [[ $mode == fast ]] && awk -v s="$secs" -v m="$fast_max_duration_s" 'BEGIN{exit !(s > m)}'; then continue; fi
    nfam=$(wc -w <<<"$fams")
    for fam in $fams; do
      [[ -z $family_filter || $fam == "$family_filter" ]] || continue
      run_name=$name
      ((nfam > 1)) && run_name=$name-$fam
      status=run
      note=
      if ((client == 0)); then
        status=n/a
        note="needs an external client (the command in its header), not in the guest"
      elif [[ -n $kernels ]]; then
        local vm=0
        version_meets "$upstream" "$kernels" || vm=$?
        if ((vm == 1)); then
          status=n/a
          note="kernels: \"$kernels\"${reason:+: $reason}"
        elif ((vm == 2)); then
          die 2 "$rel: kernels: \"$kernels\": not a constraint (e.g. \">= 6.5\")"
        fi
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$status" "$rel" "$fam" "$run_name" "$secs" "$note"
    done
  done
}

# ---- the initramfs --------------------------------------------------------------------

# The modules the guest loads, by name, before its runs: tun (the TAP), tcp_bbr (the pinned
# congestion control), inet_diag/tcp_diag (the socket sampler), virtio_pci/virtio_blk (the
# results disk). Built-in ones (modules.builtin) are left out; dependencies come from each
# module's own .modinfo `depends=` (the package has no modules.dep: depmod runs at install).
guest_modules=(tun tcp_bbr inet_diag tcp_diag virtio_pci virtio_blk)

# Prints the modules' paths (relative to lib/modules/REL), dependencies first.
module_load_order() {
  local moddir=$1
  shift
  declare -A path=() seen=()
  local f n
  while IFS= read -r f; do
    n=$(basename "$f")
    n=${n%%.ko*}
    path[${n//-/_}]=${f#"$moddir"/}
  done < <(find "$moddir/kernel" -name '*.ko*')
  visit() {
    local m=${1//-/_} deps d
    [[ -z ${seen[$m]:-} ]] || return 0
    seen[$m]=1
    if [[ -z ${path[$m]:-} ]]; then
      if grep -qE "/${1}\.ko|/${m}\.ko" "$moddir/modules.builtin" 2>/dev/null; then return 0; fi
      die 3 "module $1 is neither in $moddir nor built in"
    fi
    deps=$(module_cat "$moddir/${path[$m]}" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)
    local IFS=,
    for d in $deps; do [[ -n $d ]] && visit "$d"; done
    echo "${path[$m]}"
  }
  for n in "$@"; do visit "$n"; done
}

module_cat() {
  case "$1" in
    *.ko.xz) xz -dc "$1" ;;
    *.ko.zst) zstd -dcq "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) cat "$1" ;;
  esac
}

# Copies a binary and its shared libraries (ldd) into the tree at $1.
# Without their debug sections: a smaller initramfs unpacks faster under TCG.
copy_with_libs() {
  local tree=$1 bin=$2 dest=$3 lib
  install -D -m 0755 "$bin" "$tree$dest"
  strip --strip-debug "$tree$dest" 2>/dev/null || true
  while IFS= read -r lib; do
    [[ -e $tree$lib ]] && continue
    install -D -m 0755 "$(readlink -f "$lib")" "$tree$lib"
    strip --strip-debug "$tree$lib" 2>/dev/null || true
  done < <(ldd "$bin" | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}')
}

# The guest's /init: mounts, loads the modules, then runs /plan (or /command), printing one
# TF-RESULT line per run on the console, and writes /results as a tar onto the raw disk.
write_init() {
  cat >"$1" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /results /dev/pts /root
# A line of its own: the firmware leaves escape codes on the console's last line.
echo
echo "TF-BOOTED $(cut -d' ' -f1 /proc/uptime)"
while read -r m; do
  insmod "/lib/modules/$(uname -r)/$m" || echo "TF-MODULE-FAILED $m"
done </modules.order
ip link set lo up
up() { cut -d' ' -f1 /proc/uptime; }
ship() {
  # The results as one tar on the raw disk (the host untars it); then off, never a hang.
  if [ -b /dev/vda ]; then tar -cf /dev/vda -C /results . && sync; else echo "TF-NO-DISK"; fi
  echo "TF-DONE $(up)"
  poweroff -f
}
if grep -q tapfault.probe /proc/cmdline; then
  echo "TF-PROBE-OK"
  poweroff -f
fi
echo "TF-READY $(up) $(uname -r)"
if [ -x /command ]; then
  /command >/results/command.txt 2>&1
  rc=$?
  cat /results/command.txt
  echo "TF-COMMAND-RC $rc"
  ship
fi
while IFS="$(printf '\t')" read -r rel fam name tmo; do
  t0=$(up)
  echo "TF-START $name $t0"
  timeout "$tmo" tapfault run "/scenarios/$rel" --family "$fam" --out "/results/$name" -q \
    >"/tmp/$name.txt" 2>&1 </dev/null
  rc=$?
  t1=$(up)
  mkdir -p "/results/$name"
  mv "/tmp/$name.txt" "/results/$name/output.txt"
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
  # The first mismatch (a FAIL line) or else the first line said.
  note=$( (grep -m1 '^ *FAIL ' "/results/$name/output.txt" || grep -m1 . "/results/$name/output.txt") |
    sed 's/^ *//' | tr '\t' ' ' | cut -c1-200)
  printf 'TF-RESULT\t%s\t%s\t%s\t%s\t%s\n' "$name" "$fam" "$rc" "$secs" "$note"
done </plan
ship
INIT
  chmod 0755 "$1"
}

# Packs the initramfs for kernel tree $1 (release $2) into $3; plan file $4, command $5.
pack_initramfs() {
  local ktree=$1 rel=$2 out=$3 plan=$4 command=$5
  local tree moddir m
  tree=$(mktemp -d "${TMPDIR:-/tmp}/kernels-initramfs.XXXXXX")
  mkdir -p "$tree"/{bin,usr/bin,proc,sys,dev,tmp,etc,results,scenarios}
  install -m 0755 /bin/busybox "$tree/bin/busybox"
  copy_with_libs "$tree" "$tapfault_bin" /usr/bin/tapfault
  echo 'root:x:0:0:root:/root:/bin/sh' >"$tree/etc/passwd"
  echo 'root:x:0:' >"$tree/etc/group"
  moddir=$(dirname "$(ls -d "$ktree"/{,usr/}lib/modules/"$rel" 2>/dev/null | head -n1)")/$rel
  : >"$tree/modules.order"
  while IFS= read -r m; do
    mkdir -p "$tree/lib/modules/$rel/$(dirname "$m")"
    module_cat "$moddir/$m" >"$tree/lib/modules/$rel/${m%%.ko*}.ko"
    echo "${m%%.ko*}.ko" >>"$tree/modules.order"
  done < <(module_load_order "$moddir" "${guest_modules[@]}")
  cp -r "$scenarios/." "$tree/scenarios/"
  cp "$plan" "$tree/plan"
  if [[ -n $command ]]; then
    printf '#!/bin/sh\n%s\n' "$command" >"$tree/command"
    chmod 0755 "$tree/command"
  fi
  write_init "$tree/init"
  (cd "$tree" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) >"$out"
  rm -rf "$tree"
}

# ---- booting --------------------------------------------------------------------------

# qemu's acceleration for this kernel: kvm when /dev/kvm boots it, tcg otherwise. A PVM
# /dev/kvm (kvm_pvm loaded) boots only PVM guest kernels: stock 6.1 hangs after "Probing
# EDD" and 6.12 stops with "KVM internal error" (issue 17), so it is not tried. Elsewhere a
# probe boot decides, once per kernel (cached in the kernel's folder).
choose_accel() {
  local ktree=$1 kernel=$2 initrd=$3 want=$4
  if [[ $want == tcg || $want == kvm ]]; then
    echo "$want"
    return
  fi
  if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
    echo "kernels: no usable /dev/kvm: TCG" >&2
    echo tcg
    return
  fi
  if [[ -d /sys/module/kvm_pvm ]]; then
    echo "kernels: /dev/kvm is PVM (kvm_pvm), which boots no stock kernel: TCG" >&2
    echo tcg
    return
  fi
  if [[ -f $ktree/.accel ]]; then
    cat "$ktree/.accel"
    return
  fi
  local log
  log=$(mktemp)
  if timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 512M -smp 1 -nographic -no-reboot \
    -nic none -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet tapfault.probe" </dev/null >"$log" 2>&1 &&
    grep -q TF-PROBE-OK "$log"; then
    echo kvm >"$ktree/.accel"
  else
    echo "kernels: a probe boot under KVM failed ($(tail -n1 "$log" | tr -d '\r')): TCG" >&2
    echo tcg >"$ktree/.accel"
  fi
  rm -f "$log"
  cat "$ktree/.accel"
}

# The options of run and plan, into globals.
parse_run_args() {
  want="" out_base=${TAPFAULT_KERNELS_OUT:-$root/build/kernels-out} mode=all realtime=0
  family="" accel_want=auto timeout_s="" command="" files=()
  (($# > 0)) || die 2 "name a version (6.1, 6.12, 6.1.0-57, ...)"
  want=$1
  shift
  while (($# > 0)); do
    case "$1" in
      --out) out_base=$2; shift 2 ;;
      --fast) mode=fast; shift ;;
      --realtime) realtime=1; shift ;;
      --family) family=$2; shift 2 ;;
      --scenario) files+=("$(scenario_rel "$2")"); shift 2 ;;
      --list)
        [[ -f $2 ]] || die 2 "--list $2: no such file"
        local line
        while IFS= read -r line; do
          line=${line%%#*}
          line=${line//[[:space:]]/}
          [[ -n $line ]] && files+=("$(scenario_rel "$line")")
        done <"$2"
        shift 2
        ;;
      --accel) accel_want=$2; shift 2 ;;
      --timeout) timeout_s=$2; shift 2 ;;
      --) shift; command=$(printf '%q ' "$@"); break ;;
      *) die 2 "unknown option $1" ;;
    esac
  done
  [[ $accel_want == auto || $accel_want == kvm || $accel_want == tcg ]] || die 2 "--accel auto|kvm|tcg"
  return 0
}

# The plan alone, without booting: VERSION is a fetched kernel or an upstream version
# (6.1.192) to hold the scenarios' `kernels:` against.
cmd_plan() {
  parse_run_args "$@"
  local rel upstream=$want
  rel=$(resolve_cached "$want")
  [[ -n $rel ]] && upstream=$(awk '/^Version:/{print $2}' "$cache/$rel/.package" | sed -E 's/[-~+].*//')
  [[ $upstream =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || die 2 "plan: $want is neither a fetched kernel nor a version such as 6.1.192"
  plan_runs "$upstream" "$mode" "$realtime" "$family" "${files[@]}"
}

cmd_run() {
  parse_run_args "$@"
  command -v qemu-system-x86_64 >/dev/null || die 3 "no qemu-system-x86_64 (scripts/install-deps.sh --test)"
  [[ -x /bin/busybox ]] || die 3 "no /bin/busybox (busybox-static; scripts/install-deps.sh --test)"
  tapfault_bin=${TAPFAULT_BINARY:-$root/build/tapfault}
  [[ -x $tapfault_bin ]] || die 3 "no tapfault binary at $tapfault_bin (scripts/build.sh, or TAPFAULT_BINARY)"

  local rel
  rel=$(resolve_cached "$want")
  if [[ -z $rel ]]; then
    fetch_one "$want" >&2
    rel=$(resolve_cached "$want")
  fi
  [[ -n $rel ]] || die 3 "no kernel $want in $cache"
  local ktree=$cache/$rel upstream
  upstream=$(awk '/^Version:/{print $2}' "$ktree/.package" | sed -E 's/[-~+].*//')
  local out=$out_base/$rel
  rm -rf "$out"
  mkdir -p "$out/runs"
  work=$(mktemp -d "${TMPDIR:-/tmp}/kernels-run.XXXXXX")
  trap 'rm -rf "$work"' EXIT

  # The plan: what runs, with its timeout in the guest (its duration plus setup and a margin
  # for TCG), and what is not applicable here.
  local planned=$work/planned n_run n_na
  if [[ -z $command ]]; then
    plan_runs "$upstream" "$mode" "$realtime" "$family" "${files[@]}" >"$planned"
  else
    : >"$planned"
  fi
  awk -F'\t' '$1 == "run" { printf "%s\t%s\t%s\t%d\n", $2, $3, $4, $5 + 60 }' "$planned" >"$work/plan"
  n_run=$(grep -c . "$work/plan" || true)
  n_na=$(awk -F'\t' '$1 == "n/a"' "$planned" | grep -c . || true)
  if [[ -z $command ]] && ((n_run + n_na == 0)); then die 2 "the selection has no scenario"; fi
  if [[ -z $timeout_s ]]; then
    timeout_s=$(awk -F'\t' -v b="$boot_budget_s" '{ t += $4 + 5 } END { printf "%d", b + t + 60 }' "$work/plan")
  fi

  local kernel initrd=$work/initrd.gz accel
  kernel=$(ls "$ktree"/boot/vmlinuz-* | head -n1)
  local t_pack0 t_pack1
  t_pack0=$(date +%s.%N)
  pack_initramfs "$ktree" "$rel" "$initrd" "$work/plan" "$command"
  t_pack1=$(date +%s.%N)
  accel=$(choose_accel "$ktree" "$kernel" "$initrd" "$accel_want")
  local cpu=max
  [[ $accel == kvm ]] && cpu=host
  truncate -s 512M "$work/results.img"
  echo "kernels: $rel ($upstream), $accel, $n_run runs, $n_na not applicable, initramfs $(du -h "$initrd" | cut -f1)" \
    "packed in $(awk -v a="$t_pack0" -v b="$t_pack1" 'BEGIN{printf "%.1f", b - a}') s, timeout ${timeout_s} s" >&2

  local console=$out/console.log t0 t1 qrc=0
  t0=$(date +%s.%N)
  timeout "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 2G -smp 2 -nographic \
    -no-reboot -nic none -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4" \
    -drive "file=$work/results.img,format=raw,if=virtio" </dev/null >"$console" 2>&1 || qrc=$?
  t1=$(date +%s.%N)
  tr -d '\r' <"$console" >"$console.tmp" && mv "$console.tmp" "$console"
  tar -xf "$work/results.img" -C "$out/runs" 2>/dev/null || true

  local booted ready done_at wall
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
  booted=$(awk '/^TF-BOOTED/{print $2}' "$console")
  ready=$(awk '/^TF-READY/{print $2}' "$console")
  done_at=$(awk '/^TF-DONE/{print $2}' "$console")
  echo "kernels: qemu ran ${wall} s; the guest's init started at ${booted:-?} s, was ready at ${ready:-?} s" \
    "(guest uptime), done at ${done_at:-?} s" >&2
  grep '^TF-MODULE-FAILED' "$console" >&2 || true

  if [[ -n $command ]]; then
    sed -n '/^TF-READY/,/^TF-COMMAND-RC/p' "$console" | sed '1d;$d'
    local crc
    crc=$(awk '/^TF-COMMAND-RC/{print $2}' "$console")
    [[ -n $crc ]] || die 3 "the guest did not finish the command (qemu exit $qrc; $console)"
    return "$crc"
  fi

  # The table: every planned row, its result from the console, or why it did not run.
  local results=$out/results.tsv
  printf 'scenario\tfamily\texit\tverdict\tseconds\tnote\n' >"$results"
  awk -F'\t' -v con="$console" '
    BEGIN {
      while ((getline line < con) > 0) {
        if (line !~ /^TF-RESULT\t/) continue
        split(line, f, "\t"); rc[f[2]] = f[4]; secs[f[2]] = f[5]; note[f[2]] = f[6]
      }
    }
    function verdict(c) {
      if (c == 0) return "pass"; if (c == 1) return "FAIL"; if (c == 2) return "bad-input"
      if (c == 3) return "environment"; if (c == 124 || c == 143) return "timeout"; return "crash"
    }
    $1 == "n/a" { printf "%s\t%s\t-\tn/a\t-\t%s\n", $4, $3, $6; next }
    !($4 in rc) { printf "%s\t%s\t-\tnot-run\t-\tthe guest stopped before it\n", $4, $3; next }
    { printf "%s\t%s\t%s\t%s\t%s\t%s\n", $4, $3, rc[$4], verdict(rc[$4]), secs[$4], (rc[$4] == 0 ? "" : note[$4]) }
  ' "$planned" >>"$results"

  echo "== $rel (Debian $(awk '/^Version:/{print $2}' "$ktree/.package"), $accel) =="
  column -t -s $'\t' "$results" 2>/dev/null || cat "$results"
  local failed not_run
  failed=$(awk -F'\t' 'NR > 1 && $4 != "pass" && $4 != "n/a"' "$results" | grep -c . || true)
  not_run=$(awk -F'\t' 'NR > 1 && $4 == "not-run"' "$results" | grep -c . || true)
  echo "kernels: $rel: $((n_run - failed)) passed, $failed failed, $n_na not applicable; folders in $out/runs"
  if [[ -z $done_at ]]; then die 3 "the guest did not finish (qemu exit $qrc after ${wall} s; $not_run runs not run; $console)"; fi
  ((failed == 0)) || return 1
}

# The same plan on the host's own kernel, in the same layout (OUT/host-RELEASE/results.tsv and
# runs/), so that docs/kernels.md puts this kernel's column next to the guests'.
cmd_host() {
  parse_run_args "host" "$@"
  tapfault_bin=${TAPFAULT_BINARY:-$root/build/tapfault}
  [[ -x $tapfault_bin ]] || die 3 "no tapfault binary at $tapfault_bin (scripts/build.sh, or TAPFAULT_BINARY)"
  local rel upstream out results
  rel=$(uname -r)
  upstream=$(sed -E 's/^([0-9]+\.[0-9]+(\.[0-9]+)?).*/\1/' <<<"$rel")
  out=$out_base/host-$rel
  rm -rf "$out"
  mkdir -p "$out/runs"
  results=$out/results.tsv
  printf 'scenario\tfamily\texit\tverdict\tseconds\tnote\n' >"$results"
  local status file fam name secs note rc t0 t1 failed=0
  while IFS=$'\t' read -r status file fam name secs note; do
    if [[ $status == n/a ]]; then
      printf '%s\t%s\t-\tn/a\t-\t%s\n' "$name" "$fam" "$note" >>"$results"
      continue
    fi
    t0=$(date +%s.%N)
    rc=0
    "$tapfault_bin" run "$scenarios/$file" --family "$fam" --out "$out/runs/$name" -q >"$out/$name.txt" 2>&1 || rc=$?
    t1=$(date +%s.%N)
    mv "$out/$name.txt" "$out/runs/$name/output.txt" 2>/dev/null || true
    ((rc == 0)) || failed=$((failed + 1))
    printf '%s\t%s\t%s\t%s\t%s\t\n' "$name" "$fam" "$rc" "$([[ $rc == 0 ]] && echo pass || echo FAIL)" \
      "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')" >>"$results"
  done < <(plan_runs "$upstream" "$mode" "$realtime" "$family" "${files[@]}")
  echo "== host $rel =="
  column -t -s $'\t' "$results" 2>/dev/null || cat "$results"
  ((failed == 0)) || return 1
}

# A scenario's path relative to captures/scenarios, from that or from the repository.
scenario_rel() {
  local p=$1
  p=${p#./}
  p=${p#captures/scenarios/}
  [[ $p == /* ]] && p=${p#"$scenarios"/}
  echo "$p"
}

case "${1:-}" in
  fetch) shift; cmd_fetch "$@" ;;
  run) shift; cmd_run "$@" ;;
  plan) shift; cmd_plan "$@" ;;
  host) shift; cmd_host "$@" ;;
  list) shift; cmd_list ;;
  *) die 2 "usage: scripts/kernels.sh fetch VERSION... | run VERSION [...] | list" ;;
esac
