#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A tiny guest root for the system tests, from the host's static busybox
# (Debian's busybox-static: /bin/busybox).  Test tooling, not part of vserver.
#
#   tests/payload/make-busybox-rootfs.sh DEST [PROBE]
#
# DEST must not exist or be empty.  PROBE (the built vs-probe, a static
# executable) is copied to DEST/t.  BUSYBOX=PATH picks another busybox.
# No network, well under a second.
#
# What the guest holds:
#   /bin/busybox and applet links in /bin (sh, ls, cat, ...), /sbin/init,
#   halt, reboot, poweroff; root (uid 0) and user (uid 1000) in passwd,
#   group and shadow (no passwords); dev proc sys run tmp root var/log
#   home/user.
#   Two ways to boot, for the init styles:
#   - busybox init (/sbin/init, "plain"): /etc/inittab runs /etc/init.d/rcS
#     at boot (writes /run/rcS.done, then runs "rc 3") and /etc/init.d/rcK
#     at shutdown (writes /var/log/rcK.done, then runs "rc 0"); no gettys,
#     nothing respawned;
#   - /etc/init.d/rc RUNLEVEL ("sysv"), like Debian's sysv-rc: the K*
#     scripts of /etc/rcN.d with "stop", then the S* scripts with "start"
#     ("stop" in runlevels 0 and 6).  Every step is appended to
#     /var/log/rc.log ("rc 3: /etc/rc3.d/S01marker start").
#   The one service, /etc/init.d/marker (S01marker in rc2-5.d, K01marker in
#   rc0.d, rc1.d and rc6.d): "start" writes /run/marker.started and starts
#   a daemon (a sleep) whose pid is in /run/marker.pid; "stop" kills it and
#   writes /var/log/marker.stopped; "status" exits 0 while it runs.
set -eu

usage() {
	echo "usage: $0 DEST [PROBE]" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
dest=$1
probe=${2:-}
busybox=${BUSYBOX:-/bin/busybox}

die() {
	echo "$0: $*" >&2
	exit 1
}
if [ ! -f "$busybox" ] || [ ! -x "$busybox" ]; then
	die "$busybox: no busybox (apt-get install busybox-static)"
fi
if [ -n "$probe" ]; then
	[ -f "$probe" ] || die "$probe: no such file (build the project: ninja -C BUILDDIR)"
	case $probe in
	/*) ;;
	*) probe=$PWD/$probe ;;
	esac
fi
case $busybox in
/*) ;;
*) busybox=$PWD/$busybox ;;
esac
if [ -e "$dest" ] || [ -L "$dest" ]; then
	if [ ! -d "$dest" ] || [ -L "$dest" ]; then
		die "$dest: not a directory"
	fi
	[ -z "$(ls -A "$dest")" ] || die "$dest: not empty"
fi

umask 022
mkdir -p "$dest"
cd "$dest"

mkdir -p bin sbin etc etc/init.d dev proc sys run tmp root var/log home/user usr/bin usr/sbin
for n in 0 1 2 3 4 5 6 S; do
	mkdir -p "etc/rc$n.d"
done
chmod 1777 tmp
chmod 0700 root
ln -s ../run var/run

cp "$busybox" bin/busybox
chmod 0755 bin/busybox
applets=" $("$busybox" --list | tr '\n' ' ') "
have() {
	case $applets in
	*" $1 "*) return 0 ;;
	esac
	return 1
}
# ip and any other applet this busybox lacks are left out
for a in sh ash ls cat echo sleep mkdir rmdir rm ps mount umount hostname uname id kill killall \
	pidof true false test '[' printf grep head tail wc ip nc mknod mkfifo chmod chown touch env \
	readlink stat ln cp mv sed awk cut tr sort uniq find xargs basename dirname mktemp seq date \
	sync tee pwd expr timeout usleep setsid whoami dmesg sysctl chroot unshare nsenter linux32 \
	linux64 df free uptime; do
	if have "$a"; then
		ln -s busybox "bin/$a"
	fi
done
for a in init halt reboot poweroff; do
	have "$a" || die "$busybox has no $a applet"
	ln -s ../bin/busybox "sbin/$a"
done

cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
EOF
cat >etc/group <<'EOF'
root:x:0:
user:x:1000:
EOF
cat >etc/shadow <<'EOF'
root:*:19000:0:99999:7:::
user:*:19000:0:99999:7:::
EOF
chmod 0600 etc/shadow
: >etc/fstab

cat >etc/inittab <<'EOF'
# busybox init (vserver test guest): rcS at boot, rcK at shutdown.
# No gettys and nothing respawned.
::sysinit:/etc/init.d/rcS
::shutdown:/etc/init.d/rcK
EOF

cat >etc/init.d/rcS <<'EOF'
#!/bin/sh
# boot (busybox init): marker, then runlevel 3
mkdir -p /run /var/log
echo "rcS done" >/run/rcS.done
exec /etc/init.d/rc 3
EOF

cat >etc/init.d/rcK <<'EOF'
#!/bin/sh
# shutdown (busybox init): runlevel 0, then marker
/etc/init.d/rc 0
mkdir -p /var/log
echo "rcK done" >/var/log/rcK.done
EOF

cat >etc/init.d/rc <<'EOF'
#!/bin/sh
# /etc/init.d/rc RUNLEVEL: change runlevel, like Debian's sysv-rc (in
# sequence): the K* scripts of /etc/rcRUNLEVEL.d with "stop", then the S*
# scripts with "start" ("stop" in runlevels 0 and 6).
runlevel=${1:-}
case $runlevel in
[0-6S]) ;;
s) runlevel=S ;;
*)
	echo "usage: $0 RUNLEVEL" >&2
	exit 1
	;;
esac
PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PATH
mkdir -p /run /var/log
log() {
	echo "rc $runlevel: $*" >>/var/log/rc.log
}
log begin
for s in /etc/rc$runlevel.d/K[0-9][0-9]*; do
	[ -x "$s" ] || continue
	log "$s stop"
	"$s" stop
done
case $runlevel in
0 | 6) action=stop ;;
*) action=start ;;
esac
for s in /etc/rc$runlevel.d/S[0-9][0-9]*; do
	[ -x "$s" ] || continue
	log "$s $action"
	"$s" $action
done
log end
exit 0
EOF

cat >etc/init.d/marker <<'EOF'
#!/bin/sh
# A harmless service for the tests: a sleeping daemon and marker files.
pidfile=/run/marker.pid
running() {
	[ -f $pidfile ] && kill -0 "$(cat $pidfile)" 2>&-
}
case ${1:-} in
start)
	mkdir -p /run
	if ! running; then
		# no console fd kept open; like any background job of busybox
		# sh, this needs /dev/null
		sleep 86400 </dev/null >/dev/null 2>&1 &
		echo $! >$pidfile
	fi
	echo "marker started" >/run/marker.started
	;;
stop)
	if running; then
		kill "$(cat $pidfile)"
	fi
	rm -f $pidfile
	mkdir -p /var/log
	echo "marker stopped" >/var/log/marker.stopped
	;;
restart | force-reload)
	"$0" stop
	"$0" start
	;;
status)
	running
	;;
*)
	echo "usage: $0 {start|stop|restart|status}" >&2
	exit 1
	;;
esac
EOF
chmod 0755 etc/init.d/rcS etc/init.d/rcK etc/init.d/rc etc/init.d/marker
for n in 2 3 4 5; do
	ln -s ../init.d/marker "etc/rc$n.d/S01marker"
done
for n in 0 1 6; do
	ln -s ../init.d/marker "etc/rc$n.d/K01marker"
done

if [ "$(id -u)" = 0 ]; then
	chown 1000:1000 home/user
fi
if [ -n "$probe" ]; then
	cp "$probe" t
	chmod 0755 t
fi
