#!/usr/bin/env bash
# Sets up, builds and runs the demo: the kernel's TCP client against tapfault's peer,
# over IPv4 and IPv6, each in a private network namespace; prints where the captures are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
for s in echo-ipv4 echo-ipv6; do
  build/tapfault run "captures/scenarios/$s.yaml" --out "out/$s"
  echo "  open with: tshark -r out/$s/capture.pcap  (or Wireshark)"
  echo
done
