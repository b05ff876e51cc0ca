#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vserver-stat with 200 running guests (issue 4: "listed in under 100 ms").
# Builds 200 busybox guests in a private world, starts them with
# vserver-autostart, times `vserver-stat` and `vserver-stat --json` with
# hyperfine, stops and removes everything.  Not a test.
#
#   bash bench/stat200.sh            (as root; VSBENCH_BUILD=DIR, VSBENCH_GUESTS=N)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VSBENCH_BUILD:-$REPO/build-bench}
N=${VSBENCH_GUESTS:-200}
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || apt-get install -y -q --no-install-recommends hyperfine >/dev/null
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" >/dev/null
ninja -C "$BUILD" >/dev/null

T=$(mktemp -d /tmp/vsstat200.XXXXXX)
CGP=vsstat200-$$
export VSERVER_CONFDIR=$T/etc VSERVER_VDIRBASE=$T/vs VSERVER_CACHEBASE=$T/cache VSERVER_RUNDIR=$T/run
export VSERVER_CGROUP_PARENT=$CGP VSERVER_INIT=$BUILD/vserver-init VSERVER_MONITOR=$BUILD/vserver-monitor
VS=$BUILD/vserver
ln -s "$VS" "$T/vserver-stat"
ln -s "$VS" "$T/vserver-autostart"

cleanup() {
	set +e
	"$T/vserver-autostart" -m bench -j 16 stop >/dev/null 2>&1
	for d in /sys/fs/cgroup/"$CGP" /sys/fs/cgroup/*/"$CGP"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

bash "$REPO/tests/payload/make-busybox-rootfs.sh" "$T/root" >/dev/null
tar -C "$T/root" -czf "$T/bb.tar.gz" .
echo "building $N guests"
for i in $(seq -w 1 "$N"); do
	"$VS" "g$i" build -m template -- -t "$T/bb.tar.gz" >/dev/null
	echo bench >"$VSERVER_CONFDIR/g$i/apps/init/mark"
done
echo "starting them"
t0=$(date +%s.%N)
"$T/vserver-autostart" -m bench -j 16 start >/dev/null
t1=$(date +%s.%N)
running=$("$T/vserver-stat" | tail -n +3 | wc -l)
echo "running: $running guests (started in $(echo "$t1 - $t0" | bc) s)"
hyperfine -N --warmup 3 --runs 30 --export-json "$T/stat.json" "$T/vserver-stat" "$T/vserver-stat --json"
python3 - "$T/stat.json" "$running" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"{x['command'].split('/')[-1]:24s} median {x['median']*1000:7.1f} ms  mean {x['mean']*1000:7.1f} ms "
          f"(guests: {sys.argv[2]}, target < 100 ms: {'PASS' if x['median'] < 0.1 else 'FAIL'})")
PY
m=$(awk '/^monitor/{print $2}' "$VSERVER_RUNDIR/g001/state")
echo "one monitor: $(grep VmRSS /proc/$m/status)"
free -m | sed -n 1,2p
