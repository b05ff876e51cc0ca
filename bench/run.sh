#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vserver benchmark: vserver against nsenter, LXC and a bare unshare+chroot,
# on one guest root, in one run.  Writes bench/RESULTS.md.  Not a test.
#
#   bash bench/run.sh            (as root, on Debian 12; see bench/README.md)
#
# Environment (all optional):
#   VSBENCH_BUILD=DIR        vserver build directory (default: REPO/build-bench)
#   VSBENCH_OUT=FILE         report (default: REPO/bench/RESULTS.md)
#   VSBENCH_RUNS_EXEC=N      hyperfine runs per exec command (default 100, >= 50)
#   VSBENCH_RUNS_IDLE=N      hyperfine runs per exec after 0.1 s idle (default 50)
#   VSBENCH_RUNS_CYCLE=N     hyperfine runs per start+stop cycle (default 30, >= 20)
#   VSBENCH_RUNS_BOOT=N      measured systemd boots per runtime (default 10)
#   VSBENCH_SYSTEMD=0        skip the Debian systemd guest (no debootstrap)
#   VSBENCH_SUITE=SUITE      Debian suite of the systemd guest (default bookworm)
#   VSBENCH_NO_INSTALL=1     do not apt-get anything (everything must be there)
#
# Everything lives in a private temporary directory: VSERVER_* paths, the
# cgroup parent "vsbench-PID" (vserver) and "vsbench-lxc-PID" (LXC, through
# lxc.cgroup.dir), and a private lxcpath.  The exit trap stops both guests,
# kills what is left in those cgroups (by pid, read from their cgroup.procs),
# removes the cgroup directories and the temporary directory.  LXC guests
# have no network (lxc.net.0.type = empty); nothing touches the host
# network.  Network traffic: apt and the debootstrap mirror only.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${VSBENCH_BUILD:-$REPO/build-bench}
OUT=${VSBENCH_OUT:-$REPO/bench/RESULTS.md}
RUNS_EXEC=${VSBENCH_RUNS_EXEC:-100}
RUNS_CYCLE=${VSBENCH_RUNS_CYCLE:-30}
RUNS_BOOT=${VSBENCH_RUNS_BOOT:-10}
SYSTEMD=${VSBENCH_SYSTEMD:-1}
SUITE=${VSBENCH_SUITE:-bookworm}
NO_INSTALL=${VSBENCH_NO_INSTALL:-0}
RUNS_IDLE=${VSBENCH_RUNS_IDLE:-50}
IDLE=0.1
WARMUP_EXEC=10
WARMUP_CYCLE=3

say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() {
	echo "bench/run.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[ -d /sys/fs/cgroup ] || die "no /sys/fs/cgroup"
[ "$RUNS_EXEC" -ge 50 ] || die "VSBENCH_RUNS_EXEC must be >= 50"
[ "$RUNS_CYCLE" -ge 20 ] || die "VSBENCH_RUNS_CYCLE must be >= 20"

# ---- private world -----------------------------------------------------------

T=$(mktemp -d /tmp/vsbench.XXXXXX)
chmod 0755 "$T"
CGP=vsbench-$$          # vserver's cgroup parent
LXCCG=vsbench-lxc-$$    # LXC's cgroup directory (lxc.cgroup.dir)
LXCP=$T/lxc             # private lxcpath
R=$T/results            # raw results, read by report.py
mkdir -p "$T/etc" "$T/vs" "$T/cache" "$T/run" "$LXCP" "$R" "$T/bin"
chmod 0700 "$T/vs"   # the guest roots' barrier (vserver refuses an open one)
export VSERVER_CONFDIR=$T/etc VSERVER_VDIRBASE=$T/vs VSERVER_CACHEBASE=$T/cache
export VSERVER_RUNDIR=$T/run VSERVER_CGROUP_PARENT=$CGP
export VSERVER_INIT=$BUILD/vserver-init VSERVER_MONITOR=$BUILD/vserver-monitor
VS=$BUILD/vserver
POLICY_RC_CREATED=0

# every cgroup directory that may hold something of ours, deepest first
our_cgroup_dirs() {
	local d
	for d in /sys/fs/cgroup/"$CGP" /sys/fs/cgroup/*/"$CGP" \
		/sys/fs/cgroup/"$LXCCG" /sys/fs/cgroup/*/"$LXCCG"; do
		[ -d "$d" ] && find "$d" -depth -type d 2>/dev/null
	done
	return 0
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	echo
	echo "== cleanup ($T)"
	local g c d p i
	if [ -x "$VS" ]; then
		for g in bb sd; do
			if [ -d "$VSERVER_CONFDIR/$g" ] && "$VS" "$g" running >/dev/null 2>&1; then
				"$VS" "$g" stop --timeout 10 >/dev/null 2>&1
			fi
		done
	fi
	if command -v lxc-info >/dev/null 2>&1; then
		for c in bbl sdl; do
			[ -f "$LXCP/$c/config" ] || continue
			if lxc-info -n "$c" -P "$LXCP" -s 2>/dev/null | grep -q RUNNING; then
				lxc-stop -n "$c" -P "$LXCP" -k >/dev/null 2>&1
			fi
		done
	fi
	# anything still inside our private cgroups: killed by pid
	for i in 1 2 3 4 5; do
		local left=""
		while read -r d; do
			[ -f "$d/cgroup.procs" ] && left+=" $(tr '\n' ' ' <"$d/cgroup.procs")"
		done < <(our_cgroup_dirs)
		left=$(printf '%s\n' "$left" | xargs)
		[ -z "$left" ] && break
		echo "   killing leftover pids: $left"
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
		sleep 0.2
	done
	while read -r d; do
		rmdir "$d" 2>/dev/null || echo "   warning: cannot remove cgroup $d"
	done < <(our_cgroup_dirs)
	# mounts below the temporary directory (none expected)
	awk -v t="$T" '$5 == t || index($5, t "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r d; do umount -l "$d" 2>/dev/null; done
	rm -rf --one-file-system "$T"
	if [ "$POLICY_RC_CREATED" = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

kv() { echo "$1	$2" >>"$R/kv.tsv"; }   # key <TAB> value

# ---- 0. packages ---------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

say "packages"
if [ "$NO_INSTALL" != 1 ]; then
	bash "$REPO/scripts/deps.sh"
	need=()
	for p in lxc hyperfine busybox-static python3 debootstrap; do
		installed "$p" || need+=("$p")
	done
	if [ "${#need[@]}" -gt 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		for p in "${need[@]}"; do
			cand=$(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')
			if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
				die "$p: no installation candidate in the APT sources (apt-cache policy $p)"
			fi
			note "$p: candidate $cand"
		done
		# The lxc package enables lxc-net (a bridge and dnsmasq on the host).
		# No service may start during the installation: a policy-rc.d that
		# refuses every start, removed again on exit, if there is none yet.
		if [ ! -e /usr/sbin/policy-rc.d ]; then
			printf '#!/bin/sh\n# bench/run.sh: no service starts while it installs packages\nexit 101\n' \
				>/usr/sbin/policy-rc.d
			chmod 0755 /usr/sbin/policy-rc.d
			POLICY_RC_CREATED=1
		fi
		apt-get install -y -q --no-install-recommends "${need[@]}"
		if [ "$POLICY_RC_CREATED" = 1 ]; then
			rm -f /usr/sbin/policy-rc.d
			POLICY_RC_CREATED=0
		fi
	fi
fi
for c in lxc-start lxc-attach lxc-stop lxc-info hyperfine nsenter unshare chroot python3 gcc; do
	command -v "$c" >/dev/null || die "$c: not found"
done
[ -x /bin/busybox ] || die "/bin/busybox: not found (busybox-static)"

# ---- 1. build -------------------------------------------------------------------

say "build ($BUILD)"
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "$REPO" >/dev/null
fi
ninja -C "$BUILD" >/dev/null
for f in vserver vserver-init vserver-monitor tests/vs-probe; do
	[ -x "$BUILD/$f" ] || die "$BUILD/$f: not built"
done

# ---- machine --------------------------------------------------------------------

say "machine"
cglayout() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo "cgroup2 only (unified at /sys/fs/cgroup; controllers: $(cat /sys/fs/cgroup/cgroup.controllers))"
		return
	fi
	local v1 v2
	v1=$(awk '$9 == "cgroup" { n = split($5, a, "/"); print a[n] }' /proc/self/mountinfo | sort -u | tr '\n' ' ')
	v2=$(awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo | head -1)
	if [ -n "$v2" ]; then
		echo "hybrid: cgroup v1 hierarchies ${v1% } + cgroup2 at $v2 (controllers: $(tr -s ' ' <"$v2/cgroup.controllers" 2>/dev/null))"
	else
		echo "cgroup v1 only: ${v1% }"
	fi
}
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
git_rev=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
if [ -n "$(git -C "$REPO" status --porcelain -- lib src meson.build 2>/dev/null)" ]; then
	git_rev="$git_rev (lib/ or src/ modified in the working tree)"
fi
{
	kv date "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	kv nproc "$(nproc)"
	kv cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	kv memory "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	kv kernel "$(uname -r)"
	kv os "Debian $(cat /etc/debian_version 2>/dev/null || echo ?)"
	kv pid1 "$(cat /proc/1/comm)"
	kv cgroups "$(cglayout)"
	kv loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
	kv v_vserver "$("$VS" --version | head -1), git $git_rev"
	kv v_lxc "$(lxc-start --version) (Debian $(pkgver lxc))"
	kv v_hyperfine "$(hyperfine --version | awk '{ print $2 }') (Debian $(pkgver hyperfine))"
	kv v_utillinux "$(pkgver util-linux)"
	kv v_busybox "$(pkgver busybox-static)"
	kv runs_exec "$RUNS_EXEC"
	kv runs_cycle "$RUNS_CYCLE"
	kv runs_boot "$RUNS_BOOT"
	kv runs_idle "$RUNS_IDLE"
	kv idle_s "$IDLE"
	kv warmup_exec "$WARMUP_EXEC"
	kv warmup_cycle "$WARMUP_CYCLE"
}
sed 's/^/   /' "$R/kv.tsv"

# ---- 2. the one busybox root ------------------------------------------------------

say "busybox guest"
bash "$REPO/tests/payload/make-busybox-rootfs.sh" "$T/rootfs" "$BUILD/tests/vs-probe"
tar -C "$T/rootfs" --numeric-owner -czf "$T/bb.tar.gz" .
rm -rf "$T/rootfs"
"$VS" bb build -m template -- -t "$T/bb.tar.gz" | sed 's/^/   /'
ROOT=$VSERVER_VDIRBASE/bb
[ -x "$ROOT/bin/busybox" ] || die "$ROOT: the guest root was not built"
STYLE=$(cat "$VSERVER_CONFDIR/bb/apps/init/style")
note "root $ROOT, vserver init style $STYLE"
kv bb_style "$STYLE"
# LXC runs the same PID 1 as vserver's sysv style: vserver-init with the
# same arguments, copied into the root (vserver itself starts it from a
# sealed memfd and ignores this file).
mkdir -p "$ROOT/.vsbench"
install -m 0755 "$BUILD/vserver-init" "$ROOT/.vsbench/vserver-init"

# LXC's common.conf (Debian) without its lxcfs hooks and apparmor; no network
lxc_common() {
	cat <<'EOF'
lxc.tty.dir = lxc
lxc.pty.max = 1024
lxc.tty.max = 4
lxc.cap.drop = mac_admin mac_override sys_time sys_module sys_rawio
lxc.cgroup.devices.deny = a
lxc.cgroup.devices.allow = c *:* m
lxc.cgroup.devices.allow = b *:* m
lxc.cgroup.devices.allow = c 1:3 rwm
lxc.cgroup.devices.allow = c 1:5 rwm
lxc.cgroup.devices.allow = c 1:7 rwm
lxc.cgroup.devices.allow = c 5:0 rwm
lxc.cgroup.devices.allow = c 5:1 rwm
lxc.cgroup.devices.allow = c 5:2 rwm
lxc.cgroup.devices.allow = c 1:8 rwm
lxc.cgroup.devices.allow = c 1:9 rwm
lxc.cgroup.devices.allow = c 136:* rwm
lxc.cgroup.devices.allow = c 10:229 rwm
lxc.cgroup2.devices.deny = a
lxc.cgroup2.devices.allow = c *:* m
lxc.cgroup2.devices.allow = b *:* m
lxc.cgroup2.devices.allow = c 1:3 rwm
lxc.cgroup2.devices.allow = c 1:5 rwm
lxc.cgroup2.devices.allow = c 1:7 rwm
lxc.cgroup2.devices.allow = c 5:0 rwm
lxc.cgroup2.devices.allow = c 5:1 rwm
lxc.cgroup2.devices.allow = c 5:2 rwm
lxc.cgroup2.devices.allow = c 1:8 rwm
lxc.cgroup2.devices.allow = c 1:9 rwm
lxc.cgroup2.devices.allow = c 136:* rwm
lxc.cgroup2.devices.allow = c 10:229 rwm
lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed
lxc.seccomp.profile = /usr/share/lxc/config/common.seccomp
lxc.apparmor.profile = unconfined
lxc.net.0.type = empty
EOF
}
mkdir -p "$LXCP/bbl"
{
	lxc_common
	cat <<EOF
lxc.uts.name = bbl
lxc.rootfs.path = dir:$ROOT
lxc.init.cmd = /.vsbench/vserver-init 2 /etc/init.d/rc 3 2 /etc/init.d/rc 6
lxc.signal.halt = SIGTERM
lxc.cgroup.dir = $LXCCG/bbl
lxc.console.logfile = $LXCP/bbl/console.log
lxc.log.file = $LXCP/bbl/lxc.log
EOF
} >"$LXCP/bbl/config"

# the cycles, as small sh scripts (hyperfine runs them without a shell)
cat >"$T/bin/vs-cycle" <<EOF
#!/bin/sh
set -e
"$VS" bb start
"$VS" bb exec /bin/true
"$VS" bb stop
EOF
cat >"$T/bin/lxc-cycle" <<EOF
#!/bin/sh
set -e
lxc-start -n bbl -P "$LXCP" -d
lxc-attach -n bbl -P "$LXCP" -- /bin/true
lxc-stop -n bbl -P "$LXCP"
EOF
chmod 0755 "$T/bin/vs-cycle" "$T/bin/lxc-cycle"

# hyperfine NAME RUNS WARMUP CMD... ; json in $R/NAME.json
# HF_PREPARE=CMD: run CMD before every run (not timed)
hf() {
	local name=$1 runs=$2 warm=$3 prep=()
	shift 3
	[ -n "${HF_PREPARE:-}" ] && prep=(--prepare "$HF_PREPARE")
	if ! hyperfine -N --style basic --warmup "$warm" --runs "$runs" "${prep[@]}" \
		--export-json "$R/$name.json" "$@"; then
		echo "   hyperfine $name failed" >&2
		kv "error_$name" "hyperfine failed"
		rm -f "$R/$name.json"
		return 1
	fi
}

# memory of one process: RSS (status) and PSS (smaps_rollup), in KiB
memof() { # KEY PID
	local rss pss
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$2/status")
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$2/smaps_rollup")
	kv "$1_rss_kib" "$rss"
	kv "$1_pss_kib" "$pss"
	kv "$1_cmd" "$(tr '\0' ' ' <"/proc/$2/cmdline" | cut -c1-60)"
	note "$1: pid $2 RSS $rss KiB PSS $pss KiB ($(tr '\0' ' ' <"/proc/$2/cmdline" | cut -c1-60))"
}
state_pid() { awk -v k="$2" '$1 == k { print $2 }' "$VSERVER_RUNDIR/$1/state"; }
lxc_monitor_pid() { # the monitor is the parent of the container's init
	local init ppid
	init=$(lxc-info -n "$1" -P "$LXCP" -p -H)
	ppid=$(awk '{ print $4 }' "/proc/$init/stat")
	case $(tr '\0' ' ' <"/proc/$ppid/cmdline") in
	"[lxc monitor]"*) echo "$ppid" ;;
	*) die "parent $ppid of $1's init $init is not the lxc monitor" ;;
	esac
}

# ---- 3. exec latency, monitor memory (busybox guest) --------------------------------

say "exec latency and monitor memory: vserver"
"$VS" bb start | sed 's/^/   /'
INIT=$(state_pid bb init)
MON=$(state_pid bb monitor)
"$VS" bb exec /bin/true
nsenter -t "$INIT" -a /bin/true
sleep 0.5
memof mon_vs_bb "$MON"
hf exec_vs "$RUNS_EXEC" "$WARMUP_EXEC" \
	-n "vserver bb exec /bin/true" "$VS bb exec /bin/true" \
	-n "nsenter -t PID -a /bin/true" "nsenter -t $INIT -a /bin/true" || true
# the same, each run after $IDLE s of idleness (an admin's occasional exec)
HF_PREPARE="sleep $IDLE" hf exec_idle_vs "$RUNS_IDLE" 2 \
	-n "vserver bb exec /bin/true" "$VS bb exec /bin/true" \
	-n "nsenter -t PID -a /bin/true" "nsenter -t $INIT -a /bin/true" || true
"$VS" bb stop | sed 's/^/   /'

say "exec latency and monitor memory: LXC"
if lxc-start -n bbl -P "$LXCP" -d && lxc-attach -n bbl -P "$LXCP" -- /bin/true; then
	sleep 0.5
	memof mon_lxc_bb "$(lxc_monitor_pid bbl)"
	hf exec_lxc "$RUNS_EXEC" "$WARMUP_EXEC" \
		-n "lxc-attach -n X -P DIR -- /bin/true" "lxc-attach -n bbl -P $LXCP -- /bin/true" || true
	HF_PREPARE="sleep $IDLE" hf exec_idle_lxc "$RUNS_IDLE" 2 \
		-n "lxc-attach -n X -P DIR -- /bin/true" "lxc-attach -n bbl -P $LXCP -- /bin/true" || true
	lxc-stop -n bbl -P "$LXCP"
else
	kv error_exec_lxc "lxc-start or lxc-attach failed; see $LXCP/bbl/lxc.log"
	cat "$LXCP/bbl/lxc.log" >&2 || true
	lxc-stop -n bbl -P "$LXCP" -k 2>/dev/null || true
fi

# ---- 4. start-until-ready plus stop ---------------------------------------------------

say "start + ready + stop"
hf cycle "$RUNS_CYCLE" "$WARMUP_CYCLE" \
	-n "bare: unshare --fork --pid --mount --uts --ipc chroot ROOT /bin/true" \
	"unshare --fork --pid --mount --uts --ipc chroot $ROOT /bin/true" \
	-n "vserver: start; exec /bin/true; stop" "$T/bin/vs-cycle" \
	-n "LXC: lxc-start -d; lxc-attach /bin/true; lxc-stop" "$T/bin/lxc-cycle" || true

say "phases of the cycles (diagnostic, $RUNS_CYCLE runs each)"
t() { echo "$EPOCHREALTIME"; }
for i in $(seq "$RUNS_CYCLE"); do
	a=$(t); "$VS" bb start >/dev/null; b=$(t)
	"$VS" bb exec /bin/true; c=$(t)
	"$VS" bb stop >/dev/null; d=$(t)
	echo "vs $a $b $c $d" >>"$R/phases.txt"
	a=$(t); lxc-start -n bbl -P "$LXCP" -d; b=$(t)
	lxc-attach -n bbl -P "$LXCP" -- /bin/true; c=$(t)
	lxc-stop -n bbl -P "$LXCP"; d=$(t)
	echo "lxc $a $b $c $d" >>"$R/phases.txt"
done
note "done"

say "process start-up (diagnostic)"
# An empty program linked against the libraries vserver links (its
# DT_NEEDED list) against the same program linked against libc only.
echo 'int main(void) { return 0; }' >"$T/empty.c"
# (vserver is linked statically by default: then there is nothing to list)
needed=$({ readelf -d "$VS" | awk -F'[][]' '/NEEDED/ { print $2 }' | grep -v '^libc\.so' || true; } |
	sed 's/^lib\(.*\)\.so.*/-l\1/' | tr '\n' ' ' | sed 's/ $//')
kv vs_needed "$(readelf -d "$VS" | awk -F'[][]' '/NEEDED/ { print $2 }' | tr '\n' ' ')"
kv vs_ldd_count "$({ ldd "$VS" 2>/dev/null || true; } | grep -c '=>' || true)"
gcc -O2 -o "$T/bin/empty-libc" "$T/empty.c"
# shellcheck disable=SC2086
gcc -O2 -o "$T/bin/empty-vslibs" "$T/empty.c" -Wl,--no-as-needed $needed
hf startup "$RUNS_EXEC" "$WARMUP_EXEC" \
	-n "vserver --version" "$VS --version" \
	-n "nsenter --version" "nsenter --version" \
	-n "empty main, libc only" "$T/bin/empty-libc" \
	-n "empty main, linked like vserver ($needed)" "$T/bin/empty-vslibs" || true

say "cgroup migration cost (diagnostic)"
# One pid written into cgroup.procs of an empty cgroup of ours (the unified
# hierarchy), right after the previous one and after $IDLE s of idleness.
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	PROBE=/sys/fs/cgroup/$CGP/probe
else
	PROBE=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/$CGP/probe
fi
if mkdir -p "$PROBE" 2>/dev/null; then
	printf '#!/bin/sh\necho $$ >%s/cgroup.procs\n' "$PROBE" >"$T/bin/cg-join"
	printf '#!/bin/sh\necho $$ >/dev/null\n' >"$T/bin/cg-none"
	chmod 0755 "$T/bin/cg-join" "$T/bin/cg-none"
	hf cgroup "$RUNS_IDLE" 3 \
		-n "sh: echo \$\$ > /dev/null" "$T/bin/cg-none" \
		-n "sh: echo \$\$ > CGROUP/cgroup.procs (back to back)" "$T/bin/cg-join" || true
	HF_PREPARE="sleep $IDLE" hf cgroup_idle "$RUNS_IDLE" 2 \
		-n "sh: echo \$\$ > CGROUP/cgroup.procs (after ${IDLE} s idle)" "$T/bin/cg-join" || true
	kv cg_probe "$PROBE"
fi

# ---- 5. Debian systemd guest: start to "running" -----------------------------------------

# boot_to_running KIND: prints seconds from start to "running" (or fails)
boot_vs() {
	local a o i
	a=$EPOCHREALTIME
	"$VS" sd start >/dev/null || return 1
	for i in $(seq 3000); do
		o=$("$VS" sd exec -T systemctl is-system-running --wait 2>/dev/null) || true
		case $o in
		running) break ;;
		degraded | maintenance | stopping)
			echo "state $o" >&2
			return 1
			;;
		esac
		sleep 0.02
	done
	[ "$o" = running ] || return 1
	python3 -c "print('%.4f' % ($EPOCHREALTIME - $a))"
}
boot_lxc() {
	local a o i
	a=$EPOCHREALTIME
	lxc-start -n sdl -P "$LXCP" -d || return 1
	for i in $(seq 3000); do
		o=$(lxc-attach -n sdl -P "$LXCP" -- systemctl is-system-running --wait 2>/dev/null) || true
		case $o in
		running) break ;;
		degraded | maintenance | stopping)
			echo "state $o" >&2
			return 1
			;;
		esac
		sleep 0.02
	done
	[ "$o" = running ] || return 1
	python3 -c "print('%.4f' % ($EPOCHREALTIME - $a))"
}
# systemd's own view: "Startup finished in 337ms (userspace)" -> 0.337
userspace_s() { # CMD... (runs systemd-analyze time inside)
	"$@" systemd-analyze time 2>/dev/null | python3 -c '
import re, sys
m = re.search(r"in (.*?) \(userspace\)", sys.stdin.read())
if not m:
    print("nan"); sys.exit()
t = 0.0
for v, u in re.findall(r"([\d.]+)(min|ms|us|s)", m.group(1)):
    t += float(v) * {"min": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[u]
print("%.4f" % t)'
}
stop_timed() { # CMD... ; prints seconds
	local a=$EPOCHREALTIME
	"$@" >/dev/null || return 1
	python3 -c "print('%.4f' % ($EPOCHREALTIME - $a))"
}

if [ "$SYSTEMD" = 1 ]; then
	say "Debian $SUITE systemd guest (debootstrap)"
	a=$EPOCHREALTIME
	"$VS" sd build -m debootstrap -- -d "$SUITE" -- --variant=minbase --include=systemd-sysv >"$T/sd-build.log" 2>&1 ||
		{ tail -30 "$T/sd-build.log" >&2; die "debootstrap build failed"; }
	kv sd_suite "$SUITE"
	kv sd_build_s "$(python3 -c "print('%.0f' % ($EPOCHREALTIME - $a))")"
	SDROOT=$VSERVER_VDIRBASE/sd
	kv sd_style "$(cat "$VSERVER_CONFDIR/sd/apps/init/style")"
	kv v_systemd_guest "$(awk '/^Package: systemd$/ { p = 1 } p && /^Version:/ { print $2; exit }' "$SDROOT/var/lib/dpkg/status")"
	mkdir -p "$LXCP/sdl"
	{
		lxc_common
		cat <<EOF
lxc.uts.name = sdl
lxc.rootfs.path = dir:$SDROOT
lxc.init.cmd = /sbin/init
lxc.signal.halt = SIGRTMIN+3
lxc.cgroup.dir = $LXCCG/sdl
lxc.console.logfile = $LXCP/sdl/console.log
lxc.log.file = $LXCP/sdl/lxc.log
EOF
	} >"$LXCP/sdl/config"

	lxc_ok=1
	# warm-up boot of each (first boot: machine-id, journal, caches)
	if b=$(boot_vs); then
		note "vserver warm-up boot: $b s"
		memof mon_vs_sd "$(state_pid sd monitor)"
		"$VS" sd stop >/dev/null
	else
		"$VS" sd stop >/dev/null 2>&1 || true
		kv error_boot_vs "vserver: the systemd guest did not reach running"
		die "vserver: the systemd guest did not reach 'running'"
	fi
	if b=$(boot_lxc); then
		note "LXC warm-up boot: $b s"
		memof mon_lxc_sd "$(lxc_monitor_pid sdl)"
		lxc-stop -n sdl -P "$LXCP" >/dev/null
	else
		lxc_ok=0
		lxc-stop -n sdl -P "$LXCP" -k >/dev/null 2>&1 || true
		kv note_boot_lxc "LXC could not boot the systemd guest to 'running' on this host (see lxc.log); skipped"
		note "LXC cannot boot systemd here; skipped"
		tail -20 "$LXCP/sdl/lxc.log" 2>/dev/null | sed 's/^/   /' || true
	fi
	# alternate, so that background load hits both alike
	for i in $(seq "$RUNS_BOOT"); do
		if b=$(boot_vs); then
			u=$(userspace_s "$VS" sd exec -T)
			s=$(stop_timed "$VS" sd stop) || s=nan
			echo "vs $b $s $u" >>"$R/boot.txt"
			note "vserver boot $i: running after $b s (systemd userspace $u s), stop $s s"
		else
			"$VS" sd stop >/dev/null 2>&1 || true
			echo "vs fail nan nan" >>"$R/boot.txt"
			note "vserver boot $i: FAILED"
		fi
		if [ "$lxc_ok" = 1 ]; then
			if b=$(boot_lxc); then
				u=$(userspace_s lxc-attach -n sdl -P "$LXCP" --)
				s=$(stop_timed lxc-stop -n sdl -P "$LXCP") || s=nan
				echo "lxc $b $s $u" >>"$R/boot.txt"
				note "LXC boot $i: running after $b s (systemd userspace $u s), stop $s s"
			else
				lxc-stop -n sdl -P "$LXCP" -k >/dev/null 2>&1 || true
				echo "lxc fail nan nan" >>"$R/boot.txt"
				note "LXC boot $i: FAILED"
			fi
		fi
	done
else
	kv note_boot "skipped (VSBENCH_SYSTEMD=0)"
fi

kv loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 6. report ------------------------------------------------------------------------

say "report"
python3 "$REPO/bench/report.py" "$R" "$OUT"
echo
sed -n '/^## Results/,/^## Machine/p' "$OUT" | sed '$d'
echo "written: $OUT"
