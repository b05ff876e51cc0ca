#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vserver network benchmark (issue 5): what each network mode costs, as
# ratios against a host process.  Writes the section "## Networking
# (issue 5)" of bench/RESULTS.md.  Not a test.
#
#   bash bench/net.sh            (as root, on Debian 12; see bench/README.md)
#
# Environment (all optional):
#   VSBENCH_BUILD=DIR        vserver build directory (default: REPO/build)
#   VSBENCH_OUT=FILE         report (default: REPO/bench/RESULTS.md)
#   VSBENCH_NET_SECS=N       seconds per throughput / connection-rate run (5)
#   VSBENCH_NET_REPS=N       runs per measurement, median reported (3)
#   VSBENCH_NET_CYCLES=N     start+stop cycles per mode, median reported (20)
#   VSBENCH_NO_INSTALL=1     do not apt-get anything
#
# Safety: vserver, the guests, the servers and clients all run inside a
# network namespace made here (a holder process from `unshare --net`,
# joined with nsenter); the host's network is never touched.  VSERVER_*
# paths live in a mktemp directory, the cgroup parent is vsbench-net-PID.
# The exit trap stops the guests, kills the pids it started (never by
# name) and what is left in its cgroups, removes them and the directory.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VSBENCH_BUILD:-$REPO/build}
OUT=${VSBENCH_OUT:-$REPO/bench/RESULTS.md}
SECS=${VSBENCH_NET_SECS:-5}
REPS=${VSBENCH_NET_REPS:-3}
CYCLES=${VSBENCH_NET_CYCLES:-20}
NO_INSTALL=${VSBENCH_NO_INSTALL:-0}
HOSTIP=10.77.0.1 ISOIP=10.77.0.10 GW=10.66.0.1 PRIVIP=10.66.0.2 ROUTEDIP=10.66.1.2 HOSTEND=169.254.0.1
IPERF_PORT=5201 RATE_PORT=7001

say() { printf '\n== %s\n' "$*"; }
die() { echo "bench/net.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"

# ---- private world and cleanup ----------------------------------------------------

T=$(mktemp -d /tmp/vsbench-net.XXXXXX)
chmod 0755 "$T"
CGP=vsbench-net-$$
R=$T/results
mkdir -p "$T/etc" "$T/vs" "$T/cache" "$T/run" "$R"
chmod 0700 "$T/vs"   # the guest roots' barrier (vserver refuses an open one)
export VSERVER_CONFDIR=$T/etc VSERVER_VDIRBASE=$T/vs VSERVER_CACHEBASE=$T/cache
export VSERVER_RUNDIR=$T/run VSERVER_CGROUP_PARENT=$CGP LC_ALL=C
# the binaries are copied to $T/bin before use: a rebuild of $BUILD during the run changes nothing
export VSERVER_INIT=$T/bin/vserver-init VSERVER_MONITOR=$T/bin/vserver-monitor VSERVER_NET=$T/bin/vserver-net
VS=$T/bin/vserver PROBE=$T/bin/vs-probe
GUESTS=(n h a p r)   # modes none, host, isolated, private, private routed
PIDS=()            # every background process started here
NS=""

cgdirs() { # our cgroup directories in every hierarchy, deepest first
	local d
	for d in /sys/fs/cgroup/"$CGP" /sys/fs/cgroup/*/"$CGP"; do
		[ -d "$d" ] && find "$d" -depth -type d 2>/dev/null
	done
	return 0
}
cleanup() {
	local rc=$? g p d left
	set +e
	trap - EXIT INT TERM HUP
	say "cleanup ($T)"
	if [ -n "$NS" ] && [ -e "$NS" ]; then
		for g in "${GUESTS[@]}"; do
			[ -d "$VSERVER_RUNDIR/$g" ] && N "$VS" "$g" stop --timeout 10 >/dev/null 2>&1
		done
	fi
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for _ in 1 2 3 4 5; do
		left=$(cgdirs | while read -r d; do cat "$d/cgroup.procs" 2>/dev/null; done | xargs)
		[ -z "$left" ] && break
		echo "   killing leftover pids: $left"
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		sleep 0.2
	done
	cgdirs | while read -r d; do rmdir "$d" 2>/dev/null || echo "   warning: cannot remove $d"; done
	awk -v t="$T" 'index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r d; do umount -l "$d" 2>/dev/null; done
	rm -rf --one-file-system "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP

# ---- packages, build --------------------------------------------------------------

say "packages and build"
if [ "$NO_INSTALL" != 1 ]; then
	need=()
	for p in iperf3 busybox-static python3 iproute2; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || need+=("$p")
	done
	# the iperf3 package offers a daemon: noninteractive, none is started (debconf default)
	[ "${#need[@]}" = 0 ] || { export DEBIAN_FRONTEND=noninteractive; apt-get update -q &&
		apt-get install -y -q --no-install-recommends "${need[@]}"; }
fi
if [ ! -x "$BUILD/vserver-net" ] || [ ! -x "$BUILD/tests/vs-probe" ]; then
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$REPO" >/dev/null
	ninja -C "$BUILD" >/dev/null
fi
mkdir "$T/bin"
for f in "$BUILD"/vserver "$BUILD"/vserver-* "$BUILD/tests/vs-probe"; do  # helpers: next to vserver
	if [ -f "$f" ] && [ -x "$f" ]; then cp "$f" "$T/bin/"; fi
done
for c in iperf3 nsenter unshare ip python3; do command -v "$c" >/dev/null || die "$c: not found"; done

# ---- the simulated host: a network namespace of our own ---------------------------

say "network namespace"
unshare --net -- sleep infinity </dev/null &
PIDS+=($!)
disown
NS=/proc/${PIDS[0]}/ns/net
for _ in $(seq 50); do
	[ -e "$NS" ] && [ "$(readlink "$NS")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
[ "$(readlink "$NS")" != "$(readlink /proc/self/ns/net)" ] || die "unshare --net did not start"
N() { nsenter --net="$NS" -- "$@"; }
# lo, and an uplink veth (both ends here) holding the namespace's own address
N ip link set lo up
N ip link add up0 type veth peer name up1
N ip addr add "$HOSTIP/24" dev up0
N ip link set up0 up
N ip link set up1 up
echo "   holder pid ${PIDS[0]}, $(N ip -br addr | tr -s ' ' | tr '\n' ';')"

# ---- guests: one busybox root, iperf3 copied in, one guest per mode ---------------

say "guests"
bash "$REPO/tests/payload/make-busybox-rootfs.sh" "$T/rootfs" "$PROBE"
# iperf3 and its shared libraries (the busybox root has no libc)
for f in /usr/bin/iperf3 $(ldd /usr/bin/iperf3 | grep -o '/[^ ]* (0x' | cut -d' ' -f1); do
	mkdir -p "$T/rootfs$(dirname "$f")"
	cp -L "$f" "$T/rootfs$f"
done
tar -C "$T/rootfs" --numeric-owner -czf "$T/bb.tar.gz" .
for g in "${GUESTS[@]}"; do "$VS" "$g" build -m template -- -t "$T/bb.tar.gz" >/dev/null; done
cfg() { mkdir -p "$(dirname "$VSERVER_CONFDIR/$1/$2")"; echo "$3" >"$VSERVER_CONFDIR/$1/$2"; }
cfg h net/mode host
cfg a interfaces/0/ip "$ISOIP/24" && cfg a interfaces/0/dev up0
cfg p net/mode private && cfg p net/gateway "$GW/24" && cfg p interfaces/0/ip "$PRIVIP"
# guest p measures host services on its gateway: only the ports of net/host-ports are open to it
cfg p net/host-ports "$(printf 'tcp %s\ntcp %s' "$IPERF_PORT" "$RATE_PORT")"
# guest r: private and routed (no bridge); it reaches the host at the host end of its veth
cfg r net/mode private && cfg r net/routed "" && cfg r interfaces/0/ip "$ROUTEDIP"
cfg r net/host-ports "$(printf 'tcp %s\ntcp %s' "$IPERF_PORT" "$RATE_PORT")"
for g in "${GUESTS[@]}"; do N "$VS" "$g" check | tail -1 | sed 's/^/   /'; done

# servers: host processes in the namespace, on every address; started as plain
# commands, so that $! is the server itself (nsenter execs it)
nsenter --net="$NS" -- iperf3 -s -p "$IPERF_PORT" >"$T/iperf3-server.log" 2>&1 &
PIDS+=($!)
disown
nsenter --net="$NS" -- "$PROBE" tcp-serve 0.0.0.0 "$RATE_PORT" 86400 >"$T/rate-server.log" 2>&1 &
PIDS+=($!)
disown
sleep 0.5

# ---- measurements -----------------------------------------------------------------

# run WHO CMD...: WHO is "host" (a host process in the namespace) or a guest
run() { local who=$1; shift; if [ "$who" = host ]; then N "$@"; else N "$VS" "$who" exec "$@"; fi; }
# one throughput and one connection-rate run; appends to $R/LABEL.{tput,rate}
measure() { # LABEL WHO ADDR
	local label=$1 who=$2 addr=$3 gbit rate iperf=/usr/bin/iperf3 probe=$PROBE
	[ "$who" = host ] || probe=/t
	gbit=$(run "$who" "$iperf" -c "$addr" -p "$IPERF_PORT" -t "$SECS" -f m |
		awk '/receiver/ { printf "%.2f", $7 / 1000 }')
	rate=$(run "$who" "$probe" tcp-rate "$addr" "$RATE_PORT" "$SECS" | awk '$1 == "OK" { print $3 }')
	[ -n "$gbit" ] && [ -n "$rate" ] || die "$label: measurement failed"
	echo "$gbit" >>"$R/$label.tput"
	echo "$rate" >>"$R/$label.rate"
	printf '   %-22s %6s Gbit/s %7s conn/s\n' "$label" "$gbit" "$rate"
}
# PHASE LABEL:WHO:ADDR...: the runs alternate between the labels, REPS times
phase() {
	local _ spec
	for _ in $(seq "$REPS"); do
		for spec in "$@"; do measure "${spec%%:*}" "$(echo "$spec" | cut -d: -f2)" "${spec##*:}"; done
	done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "baseline: host process, no guest running ($REPS x $SECS s each)"
phase host-lo:host:127.0.0.1 host-addr:host:$HOSTIP

say "mode host" && N "$VS" h start >/dev/null
phase host-lo-h:host:127.0.0.1 guest-h:h:127.0.0.1
N "$VS" h stop >/dev/null
say "mode isolated" && N "$VS" a start >/dev/null
phase host-addr-a:host:$HOSTIP guest-a:a:$HOSTIP
N "$VS" a stop >/dev/null
say "mode private" && N "$VS" p start >/dev/null
phase host-lo-p:host:127.0.0.1 host-gw-p:host:$GW guest-p:p:$GW
N "$VS" p stop >/dev/null
say "mode private, routed" && N "$VS" r start >/dev/null
phase host-lo-r:host:127.0.0.1 guest-r:r:$HOSTEND
N "$VS" r stop >/dev/null

say "start + stop ($CYCLES cycles per mode, alternating)"
for g in "${GUESTS[@]}"; do N "$VS" "$g" start >/dev/null; N "$VS" "$g" stop >/dev/null; done  # warm-up
for _ in $(seq "$CYCLES"); do
	for g in "${GUESTS[@]}"; do
		t0=$EPOCHREALTIME
		N "$VS" "$g" start >/dev/null
		t1=$EPOCHREALTIME
		N "$VS" "$g" stop >/dev/null
		t2=$EPOCHREALTIME
		echo "$t0 $t1 $t2" | awk '{ printf "%.2f %.2f\n", ($2 - $1) * 1000, ($3 - $2) * 1000 }' >>"$R/cycle-$g"
	done
done
echo "   done"

# ---- report -----------------------------------------------------------------------

say "report ($OUT)"
{
	echo "date $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "machine $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r), Debian $(cat /etc/debian_version)"
	echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "vserver $("$VS" --version | head -1), git $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo ?)"
	echo "iperf3 $(dpkg-query -W -f='${Version}' iperf3)"
	echo "secs $SECS" && echo "reps $REPS" && echo "cycles $CYCLES" && echo "load0 $LOAD0"
} >"$R/info"
python3 - "$R" "$OUT" <<'PY'
import statistics as st, sys, pathlib, re
R, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
info = dict(l.split(" ", 1) for l in (R / "info").read_text().splitlines())
num = lambda f: [float(x) for x in (R / f).read_text().split()]
med = lambda l: st.median(l)
def cell(label, kind, fmt):
    v = num(f"{label}.{kind}")
    return med(v), f"{fmt(med(v))} ({fmt(min(v))}–{fmt(max(v))})"
g, c = (lambda x: f"{x:.1f}"), (lambda x: f"{x:.0f}")
rows = [  # mode, path, measured, baseline, target
    ("host loopback (baseline)", "host → 127.0.0.1, no guest running", "host-lo", "host-lo", None),
    ("host, own address", "host → 10.77.0.1 (veth `up0`), no guest", "host-addr", "host-lo", None),
    ("host", "guest → 127.0.0.1 / host → 127.0.0.1, alternating", "guest-h", "host-lo-h", None),
    ("isolated", "guest 10.77.0.10 → 10.77.0.1 / host → 10.77.0.1, alternating", "guest-a", "host-addr-a", 0.98),
    ("private (vs loopback)", "guest 10.66.0.2 → gateway 10.66.0.1 / host → 127.0.0.1 without guest", "guest-p", "host-lo", 0.9),
    ("private (vs gateway)", "guest → 10.66.0.1 / host → 10.66.0.1, alternating", "guest-p", "host-gw-p", 0.9),
    ("(host while private runs)", "host → 127.0.0.1 with the NAT tables loaded / without guest", "host-lo-p", "host-lo", None),
    ("private, routed", "guest 10.66.1.2 → host end 169.254.0.1 / host → 127.0.0.1 without guest", "guest-r", "host-lo", 0.9),
    ("(host while routed runs)", "host → 127.0.0.1 with the NAT tables loaded / without guest", "host-lo-r", "host-lo", None),
]
L = ["## Networking (issue 5)", "",
     f"`bash bench/net.sh`, {info['date']}: {info['machine']}; {info['vserver']}; iperf3 {info['iperf3']}; "
     f"load average {info['load0']} at the start, {info['loadavg']} at the end.", "",
     "Everything runs inside a network namespace of the script (an `unshare --net` holder, joined with nsenter): "
     "`lo`, and a veth pair `up0`/`up1` with the namespace's own address 10.77.0.1/24 on `up0`. "
     "Servers are host processes there: `iperf3 -s` and `vs-probe tcp-serve` (accept, write one line, close), on every address. "
     f"Clients: `iperf3 -c ADDR -t {info['secs']}` (one TCP stream; the receiver's rate) and `vs-probe tcp-rate ADDR PORT {info['secs']}` "
     "(connect, read to EOF, close, in a loop: new connections per second), either as a host process or inside a busybox guest "
     "through `vserver NAME exec` (iperf3 and its libraries copied into the root). "
     f"Each number is the median of {info['reps']} runs of {info['secs']} s (min–max in brackets); the runs of one row and of its baseline alternate. "
     "Guests: `h` (`net/mode host`), `a` (isolated: `interfaces/0/ip` 10.77.0.10/24, `dev` up0), "
     "`p` (`net/mode private`, `net/gateway` 10.66.0.1/24, address 10.66.0.2: veth `vs-p` on bridge `vsbr0`, "
     "nftables NAT and host input filter, `net/host-ports` tcp 5201 and tcp 7001 for the servers), "
     "`r` (the same, `net/routed`: address 10.66.1.2/32 routed to veth `vs-r`, no bridge; the host end is 169.254.0.1), `n` (none). "
     "Private veths have MTU 65535; only the guest's default route has the MTU of the way out (`net/mtu`).", "",
     "| mode | path (measured / baseline) | throughput Gbit/s | ratio | conn/s | ratio | target | verdict |",
     "|---|---|---|---|---|---|---|---|"]
for mode, path, m, b, tgt in rows:
    tm, ts = cell(m, "tput", g); rm, rs = cell(m, "rate", c)
    tr, rr = tm / med(num(f"{b}.tput")), rm / med(num(f"{b}.rate"))
    verdict = "—" if tgt is None else ("**met**" if min(tr, rr) >= tgt else "**missed**")
    L.append(f"| {mode} | {path} | {ts} | {tr:.2f} | {rs} | {rr:.2f} | {'—' if tgt is None else f'≥ {tgt}'} | {verdict} |")
L += ["", f"Start + stop of the busybox guest (sysv init, one service), `vserver NAME start` then `vserver NAME stop`, "
      f"{info['cycles']} cycles per mode after one warm-up, the modes alternating; medians in ms:", "",
      "| mode | start | stop | start + stop | vs none |", "|---|---|---|---|---|"]
cyc = {k: [tuple(map(float, l.split())) for l in (R / f"cycle-{k}").read_text().splitlines()] for k in "nhapr"}
tot = {k: med([a + b for a, b in v]) for k, v in cyc.items()}
for k, name in zip("nhapr", ("none", "host", "isolated", "private", "private, routed")):
    L.append(f"| {name} | {med([a for a, _ in cyc[k]]):.1f} | {med([b for _, b in cyc[k]]):.1f} | {tot[k]:.1f} | {tot[k] - tot['n']:+.1f} |")
MARK = "<!-- net analysis: text below this line, up to the next ## heading, is kept by bench/net.sh -->"
text = out.read_text() if out.exists() else ""   # read right before writing: others edit this file too
lines = text.split("\n")
kept, start = [], None
if "## Networking (issue 5)" in lines:
    start = lines.index("## Networking (issue 5)")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    old = lines[start:end]
    if MARK in old:
        kept = old[old.index(MARK) + 1:]
    lines[start:end] = []
while kept and not kept[-1].strip():
    kept.pop()
sec = L + ["", MARK] + kept + [""]
if start is None:
    while lines and not lines[-1].strip():
        lines.pop()
    lines += [""] + sec
else:
    lines[start:start] = sec + ([""] if start < len(lines) else [])
out.write_text("\n".join(lines).rstrip("\n") + "\n")
print("\n".join(L))
PY
