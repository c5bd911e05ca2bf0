#!/usr/bin/env bash
# Sets up, builds and runs the demo, each run in a private network namespace:
#  1. the kernel's TCP client against tapfault's peer over IPv4 and IPv6 (1 MiB echoed);
#  2. seed report 000: the route to an established IPv6 peer is deleted, the next write
#     stays queued, and the socket shows `timer:(persist,...) mss:36 pmtu:68`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
# echo.yaml lists both families: out/echo/ipv4 and out/echo/ipv6.
build/tapfault run captures/scenarios/echo/echo.yaml --out out/echo
echo
build/tapfault run captures/scenarios/missing-route/missing-route-ipv6.yaml --out out/missing-route-ipv6
echo
echo "The socket after the route was deleted, as ss -tie would show it:"
grep -o '"ss": "[^"]*"' out/missing-route-ipv6/report.json | sed 's/"ss": "//; s/"$//'
echo
echo "Open the captures with: tshark -r out/echo/ipv4/capture.pcap   (or Wireshark)"
