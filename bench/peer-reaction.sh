#!/usr/bin/env bash
# The peer's reaction inside `tapfault run` (recorder and sampler on, as a user runs it), from
# the captures' kernel time stamps (bench/peer_reaction.py), idle and with a CPU-bound process
# on CPU 1, next to the kernel as the peer over veth measured in the same run; and the cost of
# one sock_diag dump in a namespace that shares the host's established hash and in one that
# has its own (what tap::enter_private_netns() makes).
#
# Usage (root): bash bench/peer-reaction.sh [TAPFAULT] [OUT]
#   TAPFAULT  the binary (default build/tapfault)       OUT  folder (default /tmp/peer-reaction)
# Runs echo-ipv4, echo-ipv6, mtu-change-ipv4 and a generated 10,000-exchange reaction scenario
# (64 bytes each way, TCP_NODELAY), then the kernel peer: socat echoing over a veth pair between
# two namespaces this script creates (tf-react-a, tf-react-b), the same 10,000 exchanges from a
# Python client, captured by tcpdump on the server's side. Each phase prints steal (/proc/stat)
# and the load average: other sessions share this machine's CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
tapfault=${1:-build/tapfault}
out=${2:-/tmp/peer-reaction}
py=/usr/bin/python3
[[ $(id -u) -eq 0 ]] || { echo "peer-reaction: needs root" >&2; exit 3; }
rm -rf "$out"
mkdir -p "$out"

exchanges=10000
{
  echo "name: reaction-10k-ipv4"
  echo "description: 10,000 exchanges of 64 bytes with the echo peer (bench/peer-reaction.sh)"
  echo "duration: 120s"
  echo "network: {family: ipv4}"
  echo "peer: {port: 8080, mode: echo}"
  echo "client:"
  echo "  socket_options: {TCP_NODELAY: true}"
  echo "  actions:"
  echo "    - connect"
  for ((i = 0; i < exchanges; i++)); do
    echo "    - send: {size: 64}"
    echo "    - recv: 64"
  done
  echo "    - close"
  echo "expect: {error: none}"
} >"$out/reaction-10k-ipv4.yaml"

cpu_times() { awk '/^cpu /{t=0; for (i = 2; i <= 9; i++) t += $i; print $9, t}' /proc/stat; }
phase_start() { read -r s0 t0 < <(cpu_times); }
phase_end() {
  read -r s1 t1 < <(cpu_times)
  awk -v s=$((s1 - s0)) -v t=$((t1 - t0)) -v l="$(cut -d' ' -f1-3 /proc/loadavg)" \
    'BEGIN { printf "  steal %.1f%%, load %s\n", t ? 100 * s / t : 0, l }'
}

hog_pid=
stop_hog() { [[ -n $hog_pid ]] && kill "$hog_pid" 2>/dev/null; wait "$hog_pid" 2>/dev/null || true; hog_pid=; }
cleanup() {
  stop_hog
  ip netns del tf-react-a 2>/dev/null || true
  ip netns del tf-react-b 2>/dev/null || true
}
trap cleanup EXIT

kernel_peer() {  # $1: folder
  ip netns add tf-react-a
  ip netns add tf-react-b
  ip -n tf-react-a link add va type veth peer name vb netns tf-react-b
  ip -n tf-react-a addr add 198.51.100.1/24 dev va
  ip -n tf-react-b addr add 198.51.100.2/24 dev vb
  ip -n tf-react-a link set va up
  ip -n tf-react-b link set vb up
  ip -n tf-react-a link set lo up
  ip -n tf-react-b link set lo up
  ip netns exec tf-react-b socat TCP-LISTEN:7,reuseaddr PIPE &
  local server=$!
  ip netns exec tf-react-b tcpdump -q -i vb -s 128 --time-stamp-precision=nano -w "$1/capture.pcap" tcp 2>/dev/null &
  local dump=$!
  sleep 1
  ip netns exec tf-react-a "$py" - "$exchanges" <<'EOF'
import socket, sys
s = socket.create_connection(("198.51.100.2", 7))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"x" * 64
for _ in range(int(sys.argv[1])):
    s.sendall(msg)
    got = 0
    while got < 64:
        got += len(s.recv(64 - got))
s.close()
EOF
  sleep 0.5
  kill "$dump" "$server" 2>/dev/null || true
  wait "$dump" "$server" 2>/dev/null || true
  ip netns del tf-react-a
  ip netns del tf-react-b
}

run_all() {  # $1: idle | hog
  local mode=$1
  echo "== $mode"
  phase_start
  for s in echo-ipv4 echo-ipv6 mtu-change-ipv4; do
    "$tapfault" run -q "captures/scenarios/$s.yaml" --out "$out/$mode/$s" >"$out/$mode-$s.log" 2>&1 ||
      echo "  $s: exit $? (see $out/$mode-$s.log)"
  done
  "$tapfault" run -q "$out/reaction-10k-ipv4.yaml" --out "$out/$mode/reaction-10k-ipv4" \
    >"$out/$mode-reaction.log" 2>&1 || echo "  reaction-10k-ipv4: exit $? (see $out/$mode-reaction.log)"
  mkdir -p "$out/$mode/kernel-peer-veth"
  kernel_peer "$out/$mode/kernel-peer-veth"
  phase_end
  echo "  tapfault's peer, echo scenarios:"
  "$py" bench/peer_reaction.py "$out/$mode"/echo-ipv4/capture.pcap "$out/$mode"/echo-ipv6/capture.pcap \
    "$out/$mode"/mtu-change-ipv4/capture.pcap | sed 's/^/    /'
  echo "  tapfault's peer, $exchanges exchanges, and the kernel's over veth:"
  "$py" bench/peer_reaction.py "$out/$mode"/reaction-10k-ipv4/capture.pcap \
    "$out/$mode"/kernel-peer-veth/capture.pcap | sed 's/^/    /'
  echo "  tapfault's peer, all of its captures:"
  "$py" bench/peer_reaction.py "$out/$mode"/{echo-ipv4,echo-ipv6,mtu-change-ipv4,reaction-10k-ipv4}/capture.pcap |
    tail -1 | sed 's/^/    /'
  if command -v tshark >/dev/null; then
    for s in echo-ipv4 echo-ipv6 mtu-change-ipv4; do
      echo "  $s: $(tshark -r "$out/$mode/$s/capture.pcap" -Y 'tcp.analysis.retransmission && tcp.dstport == 8080' 2>/dev/null | wc -l) kernel retransmissions (tshark tcp.analysis.retransmission, towards the peer)"
    done
  fi
}

echo "== one sock_diag dump (sendmsg() of ss -tni's AF_INET and AF_INET6 dumps, 50 runs each)"
dump_cost() {
  for _ in $(seq 50); do strace -e trace=sendmsg -T ss -tni 2>&1 >/dev/null; done |
    grep -o '<[0-9.]*>' | tr -d '<>' | sort -n |
    awk '{a[NR] = $1} END {printf "%d dumps, median %.3f ms, max %.3f ms\n", NR, a[int((NR + 1) / 2)] * 1000, a[NR] * 1000}'
}
export -f dump_cost
echo "  host's established hash: $(unshare -n bash -c dump_cost)"
echo "  own hash (1024):         $(unshare -n bash -c 'sysctl -qw net.ipv4.tcp_child_ehash_entries=1024 && unshare -n bash -c dump_cost')"

run_all idle
taskset -c 1 sh -c 'while :; do :; done' &
hog_pid=$!
run_all hog
stop_hog
