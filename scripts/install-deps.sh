#!/usr/bin/env bash
# Installs tapfault's build, test and runtime dependencies from Debian packages.
# Does nothing (and needs no network) when every package is already there.
# Usage: scripts/install-deps.sh [--test | --bench]   (--test adds the tools the test suite
# and scripts/kernels.sh use; --bench what scripts/bench.sh and bench/peer-reaction.sh need)
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config
  libtins-dev libpcap-dev libboost-dev libcli11-dev
  libyaml-cpp-dev nlohmann-json3-dev libnl-3-dev libnl-route-3-dev libnl-idiag-3-dev
  libgtest-dev libgmock-dev
  iproute2
)
if [[ "${1:-}" == "--test" ]]; then
  # clang and its runtimes: the libFuzzer targets (scripts/fuzz.sh) and their sanitizers.
  pkgs+=(tshark tcpdump socat netcat-openbsd curl clang-14 libclang-rt-14-dev)
  # tapfault plot's tests: the SVG rendered in headless Chromium, and checked by xmllint.
  pkgs+=(chromium libxml2-utils)
  # scripts/kernels.sh, the kernel matrix: qemu boots Debian's kernels from an initramfs packed
  # with busybox (its cpio applet makes the archive); xz unpacks 6.12's modules; column
  # prints the table.
  pkgs+=(qemu-system-x86 busybox-static xz-utils bsdextrautils)
fi
if [[ "${1:-}" == "--bench" ]]; then
  # bench/peer-reaction.sh: socat (the kernel peer), tcpdump, strace, tshark.
  pkgs+=(libbenchmark-dev ethtool socat tcpdump strace tshark)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root or install them with apt-get" >&2
  exit 3
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before it asks.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
