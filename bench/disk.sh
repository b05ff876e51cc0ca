#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vserver disk-image benchmark: a guest on its own loop-mounted ext4 image
# (build --disk-size, lib/disk.h) against the same guest in a directory of
# the host's file system, side by side.  Prints a markdown table (medians,
# ms, and the ratio image / directory).  Not a test; no target.
#
#   bash bench/disk.sh           (as root; see bench/README.md)
#
# Environment (optional):
#   VSBENCH_BUILD=DIR        vserver build directory (default: REPO/build)
#   VSBENCH_DISK_REPS=N      runs per measurement, alternating (default 3)
#   VSBENCH_DISK_MIB=N       size of the streamed file (default 1024)
#
# Each run, in each guest: write N MiB and fsync (busybox dd), read it back
# after dropping the host's page cache (echo 3 > drop_caches: a cost for the
# machine, no harm), create 3000 empty files then sync and remove them.
# Everything lives in a mktemp directory with a private vdirbase; the cgroup
# parent is vsbench-disk-PID; the exit trap stops and deletes the guests
# (which unmounts the image), removes the directory and the cgroup parent.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VSBENCH_BUILD:-$REPO/build}
REPS=${VSBENCH_DISK_REPS:-3}
MIB=${VSBENCH_DISK_MIB:-1024}
[ "$(id -u)" = 0 ] || { echo "bench/disk.sh: must run as root" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "bench/disk.sh: needs busybox-static" >&2; exit 1; }

W=$(mktemp -d /tmp/vsbench-disk.XXXXXX)
export VSERVER_CONFDIR=$W/etc VSERVER_VDIRBASE=$W/vservers VSERVER_CACHEBASE=$W/cache VSERVER_RUNDIR=$W/run
export VSERVER_CGROUP_PARENT=vsbench-disk-$$ VSERVER_INIT=$BUILD/vserver-init VSERVER_MONITOR=$BUILD/vserver-monitor
export VSERVER_HOST_RESOLV_CONF=/etc/resolv.conf
V=$BUILD/vserver
cleanup() {
	for g in img dir; do
		"$V" "$g" stop --timeout 10 >/dev/null 2>&1 || true
		"$V" "$g" delete --force >/dev/null 2>&1 || true
	done
	rm -rf "$W"
	local d
	for d in /sys/fs/cgroup/*/"$VSERVER_CGROUP_PARENT" /sys/fs/cgroup/"$VSERVER_CGROUP_PARENT"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	return 0
}
trap cleanup EXIT

sh "$REPO/tests/payload/make-busybox-rootfs.sh" "$W/rootfs" >/dev/null
tar -C "$W/rootfs" -czf "$W/rootfs.tar.gz" .
size=$(( (MIB * 2 + 256) ))M
"$V" img build --disk-size "$size" -m template -- -t "$W/rootfs.tar.gz" >/dev/null
"$V" dir build -m template -- -t "$W/rootfs.tar.gz" >/dev/null
"$V" img start >/dev/null 2>&1
"$V" dir start >/dev/null 2>&1

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(((e - s) / 1000000)); }
declare -A R
for ((i = 0; i < REPS; i++)); do
	for g in dir img; do
		R[$g.write]+="$(ms "$V" "$g" exec busybox dd if=/dev/zero of=/f bs=1M count="$MIB" conv=fsync) "
		sync
		echo 3 >/proc/sys/vm/drop_caches
		R[$g.read]+="$(ms "$V" "$g" exec busybox dd if=/f of=/dev/null bs=1M) "
		"$V" "$g" exec rm -f /f
		R[$g.files]+="$(ms "$V" "$g" exec sh -c 'mkdir /m && cd /m && i=0 && while [ $i -lt 3000 ]; do : > f$i; i=$((i+1)); done; sync; cd / && rm -rf /m && sync') "
	done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fs=$(findmnt -no FSTYPE -T "$W")
echo "| measurement (busybox guest, $REPS runs, medians) | directory on the host's $fs | own ext4 image (loop, direct I/O) | ratio |"
echo "|---|---|---|---|"
for k in write read files; do
	case $k in
	write) label="write $MIB MiB + fsync" ;;
	read) label="read $MIB MiB, host cache dropped" ;;
	files) label="create 3000 files, sync, remove, sync" ;;
	esac
	d=$(echo "${R[dir.$k]}" | median) m=$(echo "${R[img.$k]}" | median)
	echo "| $label | $d ms | $m ms | $(awk -v a="$m" -v b="$d" 'BEGIN { printf "%.2f", a / b }') |"
done
