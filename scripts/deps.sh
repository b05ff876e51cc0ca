#!/bin/bash
# Install what vserver needs on Debian 12, from Debian's archive only.
#   scripts/deps.sh          build and runtime dependencies
#   scripts/deps.sh --test   plus the test dependencies
set -euo pipefail
build=(meson ninja-build pkg-config gcc clang llvm bpftool libc6-dev libjson-c-dev libarchive-dev libcap-dev
       libseccomp-dev libmnl-dev libnftables-dev libbpf-dev debootstrap mmdebstrap
       ca-certificates xz-utils zstd rsync
       lxcfs) # the guests' own /proc/meminfo, uptime ... (lib/lxcfs.h); its service mounts /var/lib/lxcfs
test=(libclang-rt-14-dev libcmocka-dev nftables iproute2 python3 python3-pytest busybox-static acl
      attr tmux groff-base man-db xfsprogs e2fsprogs
      gcc-multilib) # i386 test binaries (tests/system/test_seccomp.py)
pkgs=("${build[@]}")
[ "${1:-}" = "--test" ] && pkgs+=("${test[@]}")
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
