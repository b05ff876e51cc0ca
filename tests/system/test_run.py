# SPDX-License-Identifier: GPL-2.0-or-later
"""Running guests (issue 3): start, stop, status, exec, enter, suexec, the
per-guest monitor, isolation and hostile guests, with the busybox test guest
(tests/payload/make-busybox-rootfs.sh; the static probe is /t in the guest).

Every test runs in its own vserver world (the `vs` fixture: private
directories, a private cgroup parent, the vserver-init and vserver-monitor
next to the binary); the fixture stops what a test left running and removes
its cgroups.

Conventions: every subprocess has a timeout, every wait loop is bounded, and
processes are only ever signalled by pid, after checking that the pid is the
process we mean (start time and name, through a pidfd)."""
import ctypes
import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from conftest import (kill_verified, pid_alive, proc_stat, snapshot, snapshot_diff, wait_until)

# ---- helpers -----------------------------------------------------------------------------

CAP_NUMBERS = {
    "CHOWN": 0, "DAC_OVERRIDE": 1, "DAC_READ_SEARCH": 2, "FOWNER": 3, "FSETID": 4, "KILL": 5,
    "SETGID": 6, "SETUID": 7, "SETPCAP": 8, "LINUX_IMMUTABLE": 9, "NET_BIND_SERVICE": 10,
    "NET_BROADCAST": 11, "NET_ADMIN": 12, "NET_RAW": 13, "IPC_LOCK": 14, "IPC_OWNER": 15,
    "SYS_MODULE": 16, "SYS_RAWIO": 17, "SYS_CHROOT": 18, "SYS_PTRACE": 19, "SYS_PACCT": 20,
    "SYS_ADMIN": 21, "SYS_BOOT": 22, "SYS_NICE": 23, "SYS_RESOURCE": 24, "SYS_TIME": 25,
    "SYS_TTY_CONFIG": 26, "MKNOD": 27, "LEASE": 28, "AUDIT_WRITE": 29, "AUDIT_CONTROL": 30,
    "SETFCAP": 31, "MAC_OVERRIDE": 32, "MAC_ADMIN": 33, "SYSLOG": 34, "WAKE_ALARM": 35,
    "BLOCK_SUSPEND": 36, "AUDIT_READ": 37, "PERFMON": 38, "BPF": 39, "CHECKPOINT_RESTORE": 40,
}
# never in a guest's default set (issue 3, security-catalogue.md §0.1)
NOT_DEFAULT = ("SYS_ADMIN", "SYS_MODULE", "SYS_RAWIO", "SYS_TIME", "MKNOD", "NET_ADMIN", "DAC_READ_SEARCH",
               "SYS_PTRACE", "MAC_OVERRIDE", "MAC_ADMIN", "BPF", "PERFMON", "SYSLOG")

# mount points vserver itself makes in every guest (plus /proc/... masks)
BASE_MOUNTS = {"/", "/proc", "/sys", "/dev", "/dev/console", "/dev/pts", "/dev/shm", "/dev/mqueue", "/run"}
# and may make
OPTIONAL_MOUNTS = {"/run/lock"}

PR_SET_CHILD_SUBREAPER = 36


def write_cfg(vs, name, rel, text):
    p = vs.cfg(name) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def gx(vs, name, *argv, check=0, timeout=30, **kw):
    """vserver NAME exec ARGV (stdin /dev/null unless input= is given)."""
    return vs.run([name, "exec", *argv], check=check, timeout=timeout, **kw)


def probe(vs, name, *args, timeout=30):
    """The probe's one-line answer (t ARGS) in the running guest."""
    return gx(vs, name, "/t", *args, timeout=timeout).stdout.strip()


def start(vs, name, timeout=60):
    r = vs.run([name, "start"], timeout=timeout)
    st = vs.state(name)
    assert st and "monitor" in st and "init" in st, (r.stdout, r.stderr, st)
    return st


def stop(vs, name, *opts, timeout=120):
    return vs.run([name, "stop", *opts], timeout=timeout)


def status_caps(text):
    """Cap* lines of a /proc/PID/status text as ints."""
    out = {}
    for ln in text.splitlines():
        k, _, v = ln.partition(":")
        if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            out[k] = int(v.strip(), 16)
    return out


def own_caps():
    return status_caps(Path("/proc/self/status").read_text())


def cap_mask(names):
    m = 0
    for n in names:
        m |= 1 << CAP_NUMBERS[n]
    return m


def mountinfo_entries(text):
    """(mount point, root, fstype, mount options) per mountinfo line."""
    out = []
    for ln in text.splitlines():
        f = ln.split()
        sep = f.index("-")
        unesc = lambda s: s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
        out.append((unesc(f[4]), unesc(f[3]), f[sep + 1], f[5]))
    return out


def host_mountinfo():
    return Path("/proc/self/mountinfo").read_text()


def host_mount_table():
    """The host's whole mount table (this process's namespace), sorted."""
    return sorted(host_mountinfo().splitlines())


def table_diff(before, after):
    b, a = set(before), set(after)
    return [f"- {x}" for x in sorted(b - a)] + [f"+ {x}" for x in sorted(a - b)]


def host_mounts_under(prefix):
    """Mount points of the host (this process's namespace) at or below prefix."""
    prefix = str(prefix)
    return sorted(m for m, _, _, _ in mountinfo_entries(host_mountinfo())
                  if m == prefix or m.startswith(prefix + "/"))


def holders(prefix):
    """Processes on the host with an fd, cwd or root at or below prefix:
    [(pid, comm, what, target)]."""
    prefix = str(prefix)
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        links = []
        try:
            links = [("cwd", f"/proc/{d}/cwd"), ("root", f"/proc/{d}/root")]
            links += [(f"fd {n}", f"/proc/{d}/fd/{n}") for n in os.listdir(f"/proc/{d}/fd")]
        except OSError:
            pass
        for what, link in links:
            try:
                t = os.readlink(link)
            except OSError:
                continue
            if t == prefix or t.startswith(prefix + "/"):
                st = proc_stat(int(d))
                out.append((int(d), st and st[0], what, t))
    return out


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_guest_up(vs, name, timeout=10):
    """Until the marker service of runlevel 3 has started (rc 3 is done)."""
    ok = wait_until(lambda: gx(vs, name, "/t", "cat", "/run/marker.started", check=None).returncode == 0,
                    timeout=timeout, interval=0.05)
    assert ok, "the guest's rc 3 did not start the marker service"


def assert_guest_gone(vs, name, st=None):
    """Nothing left of a stopped guest: state, cgroups, processes, monitor, init."""
    assert vs.run([name, "running"], check=None, timeout=30).returncode == 1
    assert vs.state(name) is None
    assert vs.cgroup_dirs(name) == [], vs.cgroup_dirs(name)
    assert vs.cgroup_procs(name) == []
    if st:
        assert wait_until(lambda: not pid_alive(st["monitor"], st["monitor_start"]), 10), "monitor still alive"
        assert wait_until(lambda: not pid_alive(st["init"], st["init_start"]), 10), "init still alive"


def relpath_to(target, depth=24):
    """A relative symlink text that climbs out of any guest directory and
    lands on the host path `target` if it is followed on the host."""
    return "../" * depth + str(target).lstrip("/")


@pytest.fixture
def bb(vs, bbguest):
    """The busybox guest, running."""
    start(vs, bbguest)
    return bbguest


# ---- start, stop, status, running ------------------------------------------------------------

def test_start_stop_status_exit_codes(vs, bbguest):
    name = bbguest
    r = vs.run([name, "status"], check=3, timeout=30)
    assert "stopped" in r.stdout
    vs.run([name, "running"], check=1, timeout=30)
    # exec, enter and suexec need a running guest
    for cmd in (["exec", "/t", "pid"], ["enter"], ["suexec", "user", "/t", "id"]):
        r = vs.run([name, *cmd], check=None, timeout=30)
        assert r.returncode not in (0, 2), r
        assert "not running" in r.stderr, r
    # stop of a stopped guest: a message, exit 0
    r = vs.run([name, "stop"], timeout=60)
    assert "not running" in r.stdout

    r = vs.run([name, "start"], timeout=60)
    assert "started" in r.stdout
    st = vs.state(name)
    r = vs.run([name, "status"], timeout=30)
    assert f"running at context '{st['context']}'" in r.stdout, r.stdout
    nprocs = [ln for ln in r.stdout.splitlines() if ln.startswith("Number of processes:")]
    assert nprocs and int(nprocs[0].split(":")[1]) >= 1, r.stdout
    vs.run([name, "running"], check=0, timeout=30)
    # start of a running guest: a message, exit 0, the same guest
    r = vs.run([name, "start"], timeout=60)
    assert "already running" in r.stdout
    assert vs.state(name) == st
    # restart: a new monitor and init
    vs.run([name, "restart"], timeout=120)
    st2 = vs.state(name)
    assert st2 and (st2["monitor"], st2["monitor_start"]) != (st["monitor"], st["monitor_start"])
    assert (st2["init"], st2["init_start"]) != (st["init"], st["init_start"])
    assert not pid_alive(st["monitor"], st["monitor_start"])
    r = vs.run([name, "stop"], timeout=60)
    assert "stopped" in r.stdout
    vs.run([name, "status"], check=3, timeout=30)
    assert_guest_gone(vs, name, st2)
    r = vs.run([name, "stop"], timeout=60)
    assert "not running" in r.stdout


def test_100_start_stop_cycles_leak_nothing(vs, bbguest):
    """100 start/stop cycles: no mount, cgroup, process or fd left behind;
    the monitor's fd count stays small and constant."""
    name = bbguest
    table_before = host_mount_table()
    assert host_mounts_under(vs.base) == []
    states, fdcounts = [], []
    for i in range(100):
        st = start(vs, name, timeout=30)
        states.append(st)
        mst = proc_stat(st["monitor"])
        assert mst and mst[0] == "vserver-mon" and mst[2] == st["monitor_start"], mst
        fdcounts.append(fd_count(st["monitor"]))
        if i % 20 == 0:
            assert probe(vs, name, "pid").isdigit()
            assert st["init"] in vs.cgroup_procs(name)
            assert host_mounts_under(vs.base) == []
        stop(vs, name, timeout=60)
        assert vs.state(name) is None, f"cycle {i}: state left"
        assert vs.cgroup_dirs(name) == [], f"cycle {i}: cgroups left: {vs.cgroup_dirs(name)}"
    # mounts: the host's mount table is unchanged (nothing of the guest
    # root, its /proc, /dev, binds... and nothing elsewhere)
    assert table_diff(table_before, host_mount_table()) == []
    # cgroups: only the (empty) private parents are left, no process in them
    for parent in vs.cgroup_parent_dirs():
        if parent.is_dir():
            assert [p.name for p in parent.iterdir() if p.is_dir()] == [], parent
    assert vs.cgroup_procs() == []
    # processes: no monitor and no init of any cycle is alive
    assert wait_until(lambda: not any(pid_alive(s["monitor"], s["monitor_start"]) for s in states), 10)
    assert wait_until(lambda: not any(pid_alive(s["init"], s["init_start"]) for s in states), 10)
    # fds: no process holds anything of this world open (console logs,
    # locks, the guest root), and the monitor's fds did not grow
    assert holders(vs.base) == []
    assert max(fdcounts) <= 9 and len(set(fdcounts)) == 1, fdcounts


def test_monitor_holds_only_its_own_fds(vs, bbguest):
    """The long-lived monitor must not keep fds of the vserver command's
    caller (a pipe of a CI runner, an ssh channel...): the caller's reader
    would never see EOF."""
    rfd, wfd = os.pipe()
    try:
        r = subprocess.run(vs.cmd([bbguest, "start"]), env=vs.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=60, pass_fds=(wfd,))
        assert r.returncode == 0, r
        os.close(wfd)
        wfd = -1
        st = vs.state(bbguest)
        fds = {n: os.readlink(f"/proc/{st['monitor']}/fd/{n}") for n in os.listdir(f"/proc/{st['monitor']}/fd")}
        pipe_ino = f"pipe:[{os.fstat(rfd).st_ino}]"
        eof = select.select([rfd], [], [], 3)[0] and os.read(rfd, 1) == b""
        assert pipe_ino not in fds.values() and eof, f"the monitor keeps the caller's pipe: {fds}"
        # what it has: /dev/null as 0-2, the console pty (both ends), the
        # console log and socket, its signalfd, the vserver-init memfd
        assert len(fds) <= 9, fds
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)


# ---- isolation ---------------------------------------------------------------------------------

def test_pid1_and_process_isolation(vs, bb):
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    # PID 1 is vserver-init, from its sealed memfd copy
    argv1 = gx(vs, bb, "/t", "cat", "/proc/1/cmdline").stdout.split("\0")
    assert argv1[0] == "vserver-init", argv1
    assert os.readlink(f"/proc/{st['init']}/exe").startswith("/memfd:vserver-init")
    nspid = [ln for ln in Path(f"/proc/{st['init']}/status").read_text().splitlines() if ln.startswith("NSpid:")]
    assert nspid[0].split()[-1] == "1", nspid
    # the guest's init starts with fds 0-2 only (its console); vserver-init
    # then opens the FIFO it makes in the guest, /run/initctl
    fds = sorted(os.listdir(f"/proc/{st['init']}/fd"), key=int)
    assert fds == ["0", "1", "2", "3"], fds
    assert os.readlink(f"/proc/{st['init']}/fd/3") == "/run/initctl"
    # host processes are invisible: a host sleep with a unique argument
    host = subprocess.Popen(["sleep", "314159"], stdin=subprocess.DEVNULL)
    try:
        ps = gx(vs, bb, "/bin/ps", "-o", "pid,args").stdout
        assert "314159" not in ps, ps
        rows = ps.splitlines()[1:]
        assert rows[0].split(None, 1)[0] == "1" and "vserver-init" in rows[0], ps
        # the guest's pids are exactly those of the processes in its cgroup
        guest_pids = set()
        for hp in vs.cgroup_procs(bb):
            try:
                ns = [ln for ln in Path(f"/proc/{hp}/status").read_text().splitlines() if ln.startswith("NSpid:")]
            except FileNotFoundError:
                continue
            if len(ns[0].split()) == 3:
                guest_pids.add(ns[0].split()[-1])
        listed = {x for x in probe(vs, bb, "ls", "/proc").split() if x.isdigit()}
        # the ls itself is the one process not yet running when we looked
        assert len(listed - guest_pids) <= 1 and guest_pids <= listed, (listed, guest_pids)
        assert host.pid not in vs.cgroup_procs(bb)
    finally:
        host.kill()
        host.wait(timeout=10)
    # fds 0-2 only in an exec'd process, even when the caller has more
    rfd, wfd = os.pipe()
    try:
        r = subprocess.run(vs.cmd([bb, "exec", "/t", "fds"]), env=vs.env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30, pass_fds=(wfd,))
        assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["0", "1", "2"], r
    finally:
        os.close(rfd)
        os.close(wfd)
    # an exec'd process's parent is outside the guest (invisible: 0);
    # an orphan is adopted by the guest's PID 1
    assert probe(vs, bb, "ppid") in ("0", "1")
    gx(vs, bb, "/bin/sh", "-c", "(sleep 0.2; /t ppid >/tmp/orphan.ppid) </dev/null >/dev/null 2>&1 & exit 0")
    f = vs.root(bb) / "tmp/orphan.ppid"
    assert wait_until(lambda: f.exists() and f.read_text().strip(), 10)
    assert f.read_text().strip() == "1"


def test_uts_and_i686_personality(vs, bbguest):
    name = bbguest
    write_cfg(vs, name, "uts/nodename", "bbhost-x\n")
    write_cfg(vs, name, "uts/domainname", "example.test\n")
    write_cfg(vs, name, "uts/machine", "i686\n")
    host_uts = os.uname()
    host_domain = Path("/proc/sys/kernel/domainname").read_text()
    start(vs, name)
    u = probe(vs, name, "uname").splitlines()
    assert u == ["Linux", "bbhost-x", host_uts.release, "i686", "example.test"], u
    assert gx(vs, name, "uname", "-m").stdout.strip() == "i686"
    assert gx(vs, name, "hostname").stdout.strip() == "bbhost-x"
    # the init runs with the 32-bit personality too (PER_LINUX32 = 8)
    assert probe(vs, name, "cat", "/proc/1/personality") == "00000008"
    # the host is unchanged
    assert os.uname() == host_uts
    assert Path("/proc/sys/kernel/domainname").read_text() == host_domain


def test_mounts_inside_show_no_host_mount(vs, bbguest, host_dir):
    name = bbguest
    (host_dir / "f").write_text("from the host\n")
    write_cfg(vs, name, "fstab", f"{host_dir} /mnt/shared none bind,rw 0 0\n")
    start(vs, name)
    guest = mountinfo_entries(probe(vs, name, "mountinfo"))
    points = [m for m, _, _, _ in guest]
    assert len(points) == len(set(points)), points
    allowed = BASE_MOUNTS | OPTIONAL_MOUNTS | {"/mnt/shared"}
    # /sys masks: empty read-only tmpfs over firmware, kernel/security ... (catalogue 5.7)
    sys_masks = {p for p, _, fstype, o in guest if p.startswith("/sys/") and fstype == "tmpfs"
                 and "ro" in o.split(",")}
    for m, root, fstype, opts in guest:
        ok = m in allowed or m.startswith("/proc/") or m in sys_masks
        assert ok, f"unexpected mount in the guest: {m} ({fstype} {root})"
    assert BASE_MOUNTS <= set(points), BASE_MOUNTS - set(points)
    # no host mount point shows up, apart from the few vserver mounts afresh
    host_points = {m for m, _, _, _ in mountinfo_entries(host_mountinfo())}
    leaked = sorted((host_points & set(points)) - allowed - sys_masks - {p for p in points if p.startswith("/proc/")})
    assert leaked == [], leaked
    assert set(p for p in points if p.startswith("/sys/")) == sys_masks, points
    assert "/sys/firmware" in sys_masks
    # every mount is a fresh kernel file system, the guest root, the
    # configured bind, the console, or in /proc a mask (/dev/null bound on
    # it) or a file of a private tmpfs (the guest's own boot id): no host
    # file system is bound in
    fresh = {"proc", "sysfs", "tmpfs", "devpts", "mqueue"}
    for m, root, fstype, opts in guest:
        if m in ("/", "/mnt/shared"):
            continue
        if m == "/dev/console":
            assert fstype == "devpts", (m, root, fstype)
        elif m.startswith("/proc/"):
            assert fstype in fresh or root.endswith("/null"), (m, root, fstype)
        else:
            assert fstype in fresh and (root == "/" or fstype == "proc"), (m, root, fstype)
    bydir = {m: (root, fstype, opts) for m, root, fstype, opts in guest}
    # (roots are relative to the file system's mount point on the host)
    assert bydir["/"][0] != "/" and str(vs.root(name).resolve()).endswith(bydir["/"][0]), bydir["/"]
    assert bydir["/mnt/shared"][0] != "/" and str(host_dir.resolve()).endswith(bydir["/mnt/shared"][0])
    assert bydir["/proc"][1] == "proc" and bydir["/sys"][1] == "sysfs" and bydir["/dev/pts"][1] == "devpts"
    assert "ro" in bydir["/sys"][2].split(","), bydir["/sys"]
    assert "ro" in bydir["/proc/sys"][2].split(","), bydir.get("/proc/sys")
    # /proc/sys and /sys are read-only, /proc leaks are masked
    assert probe(vs, name, "openwronly", "/proc/sys/kernel/hostname") == "EROFS"
    assert probe(vs, name, "mkdir", "/sys/vstest") == "EROFS"
    assert probe(vs, name, "cat", "/proc/keys") == ""
    assert probe(vs, name, "cat", "/mnt/shared/f") == "from the host"
    # the host's mount table has nothing of the guest
    assert host_mounts_under(vs.base) == []


def test_mknod_denied_by_default_allowed_with_bcapability(vs, bbguest):
    name = bbguest
    start(vs, name)
    assert probe(vs, name, "mknod", "/tmp/null", "c", "1", "3") == "EPERM"
    stop(vs, name)
    write_cfg(vs, name, "bcapabilities", "MKNOD\n")
    start(vs, name)
    assert probe(vs, name, "mknod", "/tmp/null", "c", "1", "3") == "OK"
    assert probe(vs, name, "write", "/tmp/null", "x") == "OK"
    # the device policy still refuses other devices
    assert probe(vs, name, "mknod", "/tmp/sda", "b", "8", "0") == "EPERM"
    assert probe(vs, name, "mknod", "/tmp/mem", "c", "1", "1") == "EPERM"


@pytest.mark.parametrize("bcaps", ["", "~CHOWN\n", "MKNOD\n~KILL\n"], ids=["default", "minus-chown", "mknod-minus-kill"])
def test_capability_sets_of_init_and_exec_equal_the_configuration(vs, bbguest, bcaps):
    name = bbguest
    if bcaps:
        write_cfg(vs, name, "bcapabilities", bcaps)
    conf = vs.config_json(name)["capabilities"]["bounding"]
    # a guest never gets more than the vserver command has (this test
    # machine may run with a reduced bounding set)
    mine = own_caps()
    want = cap_mask(conf) & mine["CapBnd"] & mine["CapPrm"]
    if not bcaps:
        assert not set(conf) & set(NOT_DEFAULT), conf
    for line in bcaps.split():
        if line.startswith("~"):
            assert not want & (1 << CAP_NUMBERS[line[1:]])
        else:
            assert want & (1 << CAP_NUMBERS[line])
    start(vs, name)
    expect = {"CapInh": 0, "CapPrm": want, "CapEff": want, "CapBnd": want, "CapAmb": 0}
    init = status_caps(gx(vs, name, "/t", "cat", "/proc/1/status").stdout)
    assert init == expect, {k: hex(v) for k, v in init.items()}
    ex = status_caps(probe(vs, name, "caps"))
    assert ex == expect, {k: hex(v) for k, v in ex.items()}
    # the same system call filter as the init
    filt = lambda text: [ln for ln in text.splitlines() if ln.split(":")[0] in ("NoNewPrivs", "Seccomp", "Seccomp_filters")]
    init_filter = filt(gx(vs, name, "/t", "cat", "/proc/1/status").stdout)
    assert filt(gx(vs, name, "/t", "cat", "/proc/self/status").stdout) == init_filter
    # suexec: a user's process has no capabilities, under the same bound
    us = status_caps(vs.run([name, "suexec", "user", "/t", "caps"], timeout=30).stdout)
    assert us == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": want, "CapAmb": 0}, us
    if "~CHOWN" in bcaps:
        assert gx(vs, name, "chown", "1000", "/tmp", check=None).returncode != 0


def test_folder_shared_by_two_guests_rw_and_ro(vs, busybox_rootfs_tarball, host_dir):
    shared = host_dir / "shared"
    shared.mkdir()
    (shared / "orig").write_text("orig\n")
    for g, opt in (("rwg", "bind,rw"), ("rog", "bind,ro")):
        vs.build(g, method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
        write_cfg(vs, g, "fstab", f"{shared} /srv/shared none {opt} 0 0\n")
        start(vs, g)
    # writable through the rw bind, visible in the other guest and the host
    assert probe(vs, "rwg", "write", "/srv/shared/new", "hello") == "OK"
    assert probe(vs, "rog", "cat", "/srv/shared/new") == "hello"
    assert (shared / "new").read_text() == "hello\n"
    # EROFS through the ro one, for new and existing files
    assert probe(vs, "rog", "write", "/srv/shared/other", "x") == "EROFS"
    assert probe(vs, "rog", "openwronly", "/srv/shared/orig") == "EROFS"
    assert probe(vs, "rog", "mkdir", "/srv/shared/d") == "EROFS"
    assert not (shared / "other").exists()
    # changes seen by the ro guest as they happen
    assert probe(vs, "rwg", "write", "/srv/shared/orig", "changed") == "OK"
    assert probe(vs, "rog", "cat", "/srv/shared/orig") == "changed"
    for g in ("rwg", "rog"):
        stop(vs, g)
    assert host_mounts_under(vs.base) == [] and host_mounts_under(host_dir) == []
    assert sorted(os.listdir(shared)) == ["new", "orig"]


# ---- exec, suexec, enter -----------------------------------------------------------------------

def test_exec_exit_codes_signals_and_streams(vs, bb):
    assert gx(vs, bb, "/bin/true").returncode == 0
    gx(vs, bb, "/bin/sh", "-c", "exit 7", check=7)
    gx(vs, bb, "/bin/sh", "-c", "kill -KILL $$", check=128 + signal.SIGKILL)
    gx(vs, bb, "/bin/sh", "-c", "kill -TERM $$", check=128 + signal.SIGTERM)
    gx(vs, bb, "/t", "kill", "0", "SEGV", check=128 + signal.SIGSEGV)
    # stdin, stdout and stderr streamed, separately
    assert gx(vs, bb, "/bin/cat", input="data\n").stdout == "data\n"
    big = "".join(f"{i:07d}\n" for i in range(131072))      # 1 MiB
    r = gx(vs, bb, "/bin/cat", input=big, timeout=60)
    assert r.stdout == big
    r = gx(vs, bb, "/bin/sh", "-c", "echo out; echo err >&2; exit 3", check=3)
    assert (r.stdout, r.stderr) == ("out\n", "err\n")
    # PATH lookup in the guest, a clean environment
    assert gx(vs, bb, "hostname").stdout.strip() == "bb"
    env = gx(vs, bb, "/t", "env", env={"HOST_SECRET": "leak"}).stdout.splitlines()
    assert not [e for e in env if e.startswith("HOST_SECRET=") or e.startswith("VSERVER_")], env
    assert "container=vserver" in env and "HOME=/root" in env
    assert probe(vs, bb, "cwd") == "/"
    # a command that does not exist: a message, not a guest exit code
    r = gx(vs, bb, "/nonexistent", check=None)
    assert r.returncode == 125 and "/nonexistent" in r.stderr, r


def test_no_guest_command_runs_the_host_binary(vs, bb, bbguest):
    """CVE-2019-5736 class: a command that leads to /proc/self/exe (a guest
    link, a "#!" line) must never run the host program that executes it:
    guest root could hold that binary through /proc/PID/exe and rewrite
    it.  The exec shim, a sealed copy, runs instead (and gives up, 127)."""
    root = vs.root(bb)
    os.symlink("/proc/self/exe", root / "bin" / "evil")
    (root / "bin" / "evil.sh").write_text("#!/proc/self/exe\n")
    os.chmod(root / "bin" / "evil.sh", 0o755)
    for cmd in (["/bin/evil", "--version"], ["evil", "--version"], ["/bin/evil.sh"]):
        r = gx(vs, bb, *cmd, check=None)
        assert r.returncode == 127 and "vserver" not in r.stdout + r.stderr, (cmd, r)
    # what the guest sees of an exec'd process: never a host file
    r = gx(vs, bb, "/bin/sh", "-c", "readlink /proc/$$/exe", check=0)
    assert r.stdout.strip() == "/bin/busybox", r
    # enter's login shell too (the user's shell from the guest's passwd)
    passwd = (root / "etc" / "passwd").read_text()
    (root / "etc" / "passwd").write_text(passwd.replace(":/root:/bin/sh", ":/root:/bin/evil"))
    try:
        r = vs.run([bb, "enter"], check=None, timeout=30, stdin=subprocess.DEVNULL)
        assert "vserver" not in r.stdout, r
    finally:
        (root / "etc" / "passwd").write_text(passwd)
    # and the init of a guest: started through the shim, not from the monitor
    stop(vs, bb)
    write_cfg(vs, bb, "apps/init/style", "plain\n")
    write_cfg(vs, bb, "apps/init/cmd.start", "/bin/evil\n--version\n")
    r = vs.run([bb, "start"], check=None, timeout=60)
    assert wait_until(lambda: vs.run([bb, "running"], check=None).returncode != 0, timeout=20)
    log = vs.rundir / bb / "console.log"
    text = (log.read_text() if log.exists() else "") + r.stdout + r.stderr
    # the shim's "cannot": 127; the monitor's binary would have said 2
    assert "PID 1 exited with status 127" in text, text


def test_enter_passes_over_a_broken_login_shell(vs, bb):
    """root's shell is a script whose interpreter is gone: enter falls back
    to /bin/sh, as it did when it executed the candidates itself."""
    root = vs.root(bb)
    (root / "bin" / "brokensh").write_text("#!/nonexistent\n")
    os.chmod(root / "bin" / "brokensh", 0o755)
    passwd = (root / "etc" / "passwd").read_text()
    (root / "etc" / "passwd").write_text(passwd.replace(":/root:/bin/sh", ":/root:/bin/brokensh"))
    try:
        r = vs.run([bb, "enter"], input="echo ok-$((1+1))\nexit 0\n", check=None, timeout=30)
        assert r.returncode == 0 and "ok-2" in r.stdout, r
    finally:
        (root / "etc" / "passwd").write_text(passwd)


def test_exec_pty_input_the_guest_does_not_read_and_eof(vs, bb):
    """exec -t: input the command never reads does not block vserver once
    the command is gone; input ending without a newline still ends."""
    t0 = time.monotonic()
    r = gx(vs, bb, "-t", "sleep", "1", input="y\n" * 500000, check=None, timeout=30)
    assert r.returncode == 0 and time.monotonic() - t0 < 15, (r.returncode, time.monotonic() - t0)
    r = gx(vs, bb, "-t", "cat", input="abc", check=None, timeout=15)
    assert r.returncode == 0 and "abc" in r.stdout, r


def test_exec_signal_after_the_command_ended_stops_vserver(vs, bb):
    """Once the command has exited, a background job may still write; a
    signal then ends vserver (it used to go to the reaped pid, or to
    whatever process got it next)."""
    p = vs.popen([bb, "exec", "/bin/sh", "-c", "(while :; do echo x; sleep 0.1; done) & exit 0"])
    try:
        assert p.stdout.readline().strip() == "x"
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    gx(vs, bb, "/bin/sh", "-c", "kill $(pidof sleep) 2>/dev/null; kill -9 $(ps -o pid,args | "
       "awk '/while/ && !/awk/ {print $1}') 2>/dev/null; true", check=None)


def test_suexec_refuses_a_uid_beyond_32_bits(vs, bb):
    root = vs.root(bb)
    passwd = (root / "etc" / "passwd").read_text()
    (root / "etc" / "passwd").write_text(passwd + "big:x:4294967296:4294967296::/:/bin/sh\n")
    try:
        r = vs.run([bb, "suexec", "big", "/t", "id"], check=None, timeout=30)
        assert r.returncode != 0 and "uid=0" not in r.stdout and "big" in r.stderr, r
    finally:
        (root / "etc" / "passwd").write_text(passwd)


def test_nice_applies_to_exec_whatever_the_callers(vs, bb):
    """nice is set while vserver can still lower it: negative, or back to
    0 for a caller running niced."""
    for level in ("-3", "0"):
        write_cfg(vs, bb, "nice", level + "\n")
        r = subprocess.run(["nice", "-n", "5", *vs.cmd([bb, "exec", "/bin/sh", "-c",
                                                         "cut -d' ' -f19 /proc/self/stat"])],
                           env=vs.env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stdout.strip() == level, (level, r)


def test_suexec(vs, bb):
    assert probe_user(vs, bb, "user", "id") == "uid=1000 euid=1000 gid=1000 egid=1000"
    assert probe_user(vs, bb, "1000", "id") == "uid=1000 euid=1000 gid=1000 egid=1000"
    caps = status_caps(probe_user(vs, bb, "user", "caps"))
    assert caps["CapEff"] == 0 and caps["CapPrm"] == 0 and caps["CapAmb"] == 0
    assert probe_user(vs, bb, "user", "openwronly", "/etc/passwd") == "EACCES"
    r = vs.run([bb, "suexec", "nosuchuser", "/t", "id"], check=None, timeout=30)
    assert r.returncode not in (0, 2) and "nosuchuser" in r.stderr, r
    assert probe_user(vs, bb, "root", "id") == "uid=0 euid=0 gid=0 egid=0"


def probe_user(vs, name, user, *args, check=0):
    return vs.run([name, "suexec", user, "/t", *args], check=check, timeout=30).stdout.strip()


def run_on_pty(argv, env, text, timeout=30, rows=33, cols=111):
    """Run argv with a new pty as stdin/stdout/stderr (window rows x cols),
    type `text`, collect the output until it exits.  (exit code, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        os.write(master, text.encode())
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    b = os.read(master, 65536)
                except OSError:       # EIO: every slave fd is closed
                    b = b""
                if not b:
                    break
                out += b
            elif p.poll() is not None:
                break
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        os.close(master)
    return rc, out.decode(errors="backslashreplace")


def test_enter_through_a_real_pty(vs, bb):
    env = dict(vs.env, TERM="xterm-256color")
    rc, out = run_on_pty(vs.cmd([bb, "enter"]), env,
                         "tty; echo TERM=$TERM; busybox stty size; id -u; pwd; exit 3\n")
    assert rc == 3, out
    assert "/dev/pts/" in out and "TERM=xterm-256color" in out and "33 111" in out, out
    lines = [ln.strip() for ln in out.replace("\r", "").splitlines()]
    ttyline = [ln for ln in lines if ln.startswith("/dev/pts/")]
    assert ttyline and ttyline[0][len("/dev/pts/"):].isdigit(), out
    assert "0" in lines and "/root" in lines, out


def test_enter_returns_when_the_shell_exits_despite_a_background_job(vs, bb):
    """A job started in the background from the interactive shell keeps
    the guest-side terminal open (an init script that does not detach
    from it, say): enter returns when the shell exits, with its status
    and its last output, not when the job ends."""
    env = dict(vs.env, TERM="xterm")
    t0 = time.monotonic()
    rc, out = run_on_pty(vs.cmd([bb, "enter"]), env, "/bin/sleep 25 &\necho bg-started\nexit 4\n", timeout=60)
    took = time.monotonic() - t0
    assert rc == 4, out
    assert "bg-started" in out, out
    assert took < 10, f"enter returned after {took:.1f} s: it waited for the background job"


def test_enter_with_script(vs, bb):
    """The same through script(1), as an administrator would."""
    if not shutil.which("script"):
        pytest.skip("script (util-linux) is not installed")
    cmd = " ".join(vs.cmd([bb, "enter"]))
    r = subprocess.run(["script", "-qec", cmd, "/dev/null"], input="tty; echo hi; exit 5\n", env=vs.env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 5, r
    assert "/dev/pts/" in r.stdout and "hi" in r.stdout, r


# ---- init styles, supervision ------------------------------------------------------------------

def test_sysv_guest_runs_rc_scripts_and_stops_through_rc6(vs, bb):
    wait_guest_up(vs, bb)
    assert probe(vs, bb, "cat", "/run/marker.started") == "marker started"
    pid = probe(vs, bb, "cat", "/run/marker.pid")
    assert probe(vs, bb, "kill", pid, "0") == "OK"
    gx(vs, bb, "/etc/init.d/marker", "status")
    log = (vs.root(bb) / "var/log/rc.log").read_text().splitlines()
    assert "rc 3: /etc/rc3.d/S01marker start" in log, log
    assert not (vs.root(bb) / "var/log/marker.stopped").exists()
    st = vs.state(bb)
    stop(vs, bb)
    assert (vs.root(bb) / "var/log/marker.stopped").read_text() == "marker stopped\n"
    log = (vs.root(bb) / "var/log/rc.log").read_text().splitlines()
    assert "rc 6: /etc/rc6.d/K01marker stop" in log, log
    assert_guest_gone(vs, bb, st)


def test_reboot_inside_restarts_poweroff_stops(vs, bb):
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    fds = sorted(os.listdir(f"/proc/{st['monitor']}/fd"), key=int)
    gx(vs, bb, "/sbin/reboot", "-f", check=None, timeout=30)
    assert wait_until(lambda: (vs.state(bb) or {}).get("init") not in (None, st["init"]), 10), \
        (vs.state(bb), (vs.rundir / bb / "console.log").read_text()[-1500:])
    st2 = vs.state(bb)
    assert st2["monitor"] == st["monitor"] and st2["monitor_start"] == st["monitor_start"]
    assert not pid_alive(st["init"], st["init_start"])
    vs.run([bb, "running"], check=0, timeout=30)
    assert "reboot requested" in (vs.rundir / bb / "console.log").read_text()
    # booted again: rc 3 ran in the new instance (a fresh /run)
    wait_guest_up(vs, bb)
    assert probe(vs, bb, "pid") != ""
    # the long-lived monitor did not gain fds with the restart
    assert sorted(os.listdir(f"/proc/{st['monitor']}/fd"), key=int) == fds
    # poweroff: the guest stops and is cleaned up
    gx(vs, bb, "/sbin/poweroff", "-f", check=None, timeout=30)
    assert wait_until(lambda: vs.run([bb, "running"], check=None, timeout=30).returncode == 1, 10)
    assert_guest_gone(vs, bb, st2)


def rc_log(vs, name):
    p = vs.root(name) / "var/log/rc.log"
    return p.read_text().splitlines() if p.exists() else []


def rebooted(vs, name, st, log_before):
    """The guest came back with a new PID 1 under the same monitor, after
    its rc 6 ran (the shutdown was orderly, not a kill)."""
    assert wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, st["init"]), 10), \
        (vs.state(name), (vs.rundir / name / "console.log").read_text()[-1500:])
    st2 = vs.state(name)
    assert st2["monitor"] == st["monitor"]
    new = rc_log(vs, name)[len(log_before):]
    assert "rc 6: /etc/rc6.d/K01marker stop" in new, new
    wait_guest_up(vs, name)
    return st2


def stopped_by_itself(vs, name, st, log_before):
    """Halted: the guest's rc 0 ran (its halt scripts), and it is gone."""
    assert wait_until(lambda: vs.run([name, "running"], check=None, timeout=30).returncode == 1, 10), \
        (vs.rundir / name / "console.log").read_text()[-1500:]
    assert_guest_gone(vs, name, st)
    new = rc_log(vs, name)[len(log_before):]
    assert "rc 0: /etc/rc0.d/K01marker stop" in new and not [n for n in new if n.startswith("rc 6")], new


RUN_LVL, BOOT_TIME = 1, 2


def utmp_records(init_pid):
    """(type, pid, user) of the guest's utmp, read through its PID 1's root."""
    data = Path(f"/proc/{init_pid}/root/run/utmp").read_bytes()
    assert len(data) % 384 == 0, len(data)
    out = []
    for i in range(0, len(data), 384):
        typ, pid = struct.unpack_from("<hxxi", data, i)
        user = data[i + 44:i + 76].split(b"\0")[0].decode()
        out.append((typ, pid, user))
    return out


def test_sysv_guest_tools_reboot_and_halt_through_vserver_init(vs, bb):
    """The sysv style's PID 1 is vserver-init: the guest's own reboot and
    halt (busybox's signal PID 1: SIGTERM reboots, SIGUSR1 halts, SIGUSR2
    powers off) shut the guest down through rc 6, then the guest restarts
    or stops.  Before, busybox's reboot stopped the guest and its halt did
    nothing."""
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    log = rc_log(vs, bb)
    gx(vs, bb, "/sbin/reboot", check=None)
    st = rebooted(vs, bb, st, log)
    assert "vserver-init: reboot requested in the guest" in (vs.rundir / bb / "console.log").read_text()
    # a SIGHUP or SIGQUIT from inside is not a reboot (busybox and sysvinit
    # read HUP as "reload the configuration"): PID 1 lives on, no rc runs
    log = rc_log(vs, bb)
    gx(vs, bb, "/t", "kill", "1", "HUP")
    gx(vs, bb, "/t", "kill", "1", "QUIT")
    time.sleep(0.3)
    assert pid_alive(st["init"], st["init_start"]) and rc_log(vs, bb) == log, rc_log(vs, bb)[len(log):]
    gx(vs, bb, "/sbin/halt", check=None)
    stopped_by_itself(vs, bb, st, log)
    st = start(vs, bb)
    wait_guest_up(vs, bb)
    log = rc_log(vs, bb)
    gx(vs, bb, "/sbin/poweroff", check=None)
    stopped_by_itself(vs, bb, st, log)


def test_sysv_guest_initctl_requests(vs, bb):
    """sysvinit's shutdown, halt, reboot and telinit write their request
    into /run/initctl: vserver-init reads it as sysvinit's init does
    (runlevel 6 reboots, 0 halts, others are refused with a message), and
    records the runlevel in utmp for `runlevel` and `who -r`."""
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    assert gx(vs, bb, "/bin/ls", "-l", "/run/initctl").stdout.startswith("prw-------")
    assert gx(vs, bb, "/bin/readlink", "/dev/initctl").stdout.strip() == "/run/initctl"
    # utmp (/var/run -> /run, the guest's tmpfs): a boot record and runlevel 3
    assert utmp_records(st["init"]) == [(BOOT_TIME, 0, "reboot"), (RUN_LVL, ord("3") + 256 * ord("N"), "runlevel")]
    log = rc_log(vs, bb)
    gx(vs, bb, "/t", "initctl", "4")
    gx(vs, bb, "/t", "initctl", "q")     # telinit q: nothing to reload, nothing said
    assert wait_until(lambda: "runlevel 4 requested: a sysv-style guest knows only 0 (halt) and 6 (reboot)"
                      in (vs.rundir / bb / "console.log").read_text(), 10)
    assert pid_alive(st["init"], st["init_start"]) and rc_log(vs, bb) == log, rc_log(vs, bb)[len(log):]
    assert "runlevel q" not in (vs.rundir / bb / "console.log").read_text()
    gx(vs, bb, "/t", "initctl", "6")
    st = rebooted(vs, bb, st, log)
    log = rc_log(vs, bb)
    gx(vs, bb, "/t", "initctl", "0")
    stopped_by_itself(vs, bb, st, log)


def test_host_stop_during_a_guest_reboot_stops(vs, bbguest):
    """A stop from the host while the guest's own reboot is shutting it
    down: the guest's stop command finishes (only a second stop cuts it
    short), and PID 1 exits as for a halt, so the guest stays stopped."""
    name = bbguest
    write_cfg(vs, name, "apps/init/cmd.stop",
              "/bin/sh\n-c\necho slow-stop >>/var/log/rc.log; sleep 2; echo slow-stop done >>/var/log/rc.log\n")
    st = start(vs, name)
    wait_guest_up(vs, name)
    gx(vs, name, "/sbin/reboot", check=None)
    assert wait_until(lambda: "slow-stop" in rc_log(vs, name), 10)
    r = stop(vs, name)
    assert "stopped" in r.stdout and "did not stop" not in r.stdout, r.stdout
    assert_guest_gone(vs, name, st)
    assert rc_log(vs, name)[-2:] == ["slow-stop", "slow-stop done"], rc_log(vs, name)
    log = (vs.rundir / name / "console.log").read_text()
    assert log.rstrip().endswith("[vserver] PID 1 exited with status 0"), log[-1000:]


def test_guest_init_gets_umask_022_whatever_the_admins(vs, bbguest):
    """The kernel starts init with umask 022.  A guest's PID 1 inherited
    the umask of the admin's `vserver start` (077 on many hardened
    accounts), and everything its rc scripts and daemons then created was
    private to its owner."""
    name = bbguest
    r = subprocess.run(vs.cmd([name, "start"]), env=vs.env, capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: os.umask(0o077))
    assert r.returncode == 0, r.stderr
    init = vs.state(name)["init"]
    umask = [ln.split()[1] for ln in open(f"/proc/{init}/status") if ln.startswith("Umask:")]
    assert umask == ["0022"], umask
    stop(vs, name)


def test_stale_stop_marker_does_not_turn_a_reboot_into_a_halt(vs, bb):
    """`stop` marks RUNDIR/NAME/stopping (so that a monitor restarting the
    guest for a reboot inside halts it instead).  A stop killed before it
    removed its marker left one behind, and the guest's next reboot then
    stopped it.  The marker names its stop (pid and start time): one whose
    process is gone is ignored."""
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    gone = subprocess.Popen(["sleep", "0.1"])
    start_time = open(f"/proc/{gone.pid}/stat").read().rsplit(")", 1)[1].split()[19]
    gone.wait()
    (vs.rundir / bb / "stopping").write_text(f"{gone.pid} {start_time}\n")
    gx(vs, bb, "/sbin/reboot", "-f", check=None, timeout=30)
    assert wait_until(lambda: (vs.state(bb) or {}).get("init") not in (None, st["init"]), 10), \
        (vs.state(bb), (vs.rundir / bb / "console.log").read_text()[-1500:])
    assert vs.state(bb)["monitor"] == st["monitor"]
    vs.run([bb, "running"], check=0, timeout=30)


def test_start_removes_temporary_files_a_killed_write_left(vs, bbguest):
    """RUNDIR/NAME's files are written through a temporary file renamed into
    place; a vserver (or monitor) killed in between left ".stopping.XXXXXXXX~"
    behind for good.  The next start removes such files, and nothing else."""
    vs.run([bbguest, "start"], timeout=60)
    vs.run([bbguest, "stop"], timeout=60)
    d = vs.rundir / bbguest
    for n in (".stopping.0123abcd~", ".state.deadbeef~"):
        (d / n).write_text("1 1\n")
    (d / "notes~").write_text("the admin's\n")
    vs.run([bbguest, "start"], timeout=60)
    left = sorted(p.name for p in d.iterdir())
    assert ".stopping.0123abcd~" not in left and ".state.deadbeef~" not in left, left
    assert "notes~" in left and "console.log" in left and "state" in left


def test_guest_reboot_with_a_hanging_stop_command_is_timed(vs, bbguest):
    """A shutdown the guest asks for itself has the guest's stop timeout
    (apps/vshelper/sync-timeout): a stop command that hangs is given up,
    every process ends, and the reboot goes on."""
    name = bbguest
    write_cfg(vs, name, "apps/init/cmd.stop", "/bin/sleep\n3600\n")
    write_cfg(vs, name, "apps/vshelper/sync-timeout", "1\n")
    st = start(vs, name)
    wait_guest_up(vs, name)
    t0 = time.monotonic()
    gx(vs, name, "/sbin/reboot", check=None)
    assert wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, st["init"]), 20), \
        (vs.rundir / name / "console.log").read_text()[-1500:]
    assert time.monotonic() - t0 < 10
    assert "vserver-init: /bin/sleep did not finish within 1 s: ending every process" in \
        (vs.rundir / name / "console.log").read_text()
    assert not pid_alive(st["init"], st["init_start"])


def test_stop_racing_a_guest_reboot_never_waits_its_timeout(vs, bbguest):
    """A stop that comes while the monitor restarts the guest for a reboot
    inside: the stop used to signal the old PID 1 only, the new one booted
    and the stop waited its whole timeout.  The guest's rc 6 takes 0.2 s
    here, and the stops are spread over the moment the monitor restarts
    the guest."""
    name = bbguest
    write_cfg(vs, name, "apps/init/cmd.stop", "/bin/sleep\n0.2\n")
    for k in range(16):
        start(vs, name)
        wait_guest_up(vs, name)
        gx(vs, name, "/sbin/reboot", check=None)
        time.sleep(0.19 + 0.003 * k)
        r = stop(vs, name, "--timeout", "5")
        assert "did not stop" not in r.stdout, (k, r.stdout, (vs.rundir / name / "console.log").read_text()[-800:])
        assert vs.run([name, "running"], check=None).returncode == 1


def test_console_interrupt_is_not_a_shutdown(vs, bb):
    """PID 1 leads the console's session: a ^C typed on `vserver NAME
    console` reaches it as a SIGINT from the tty.  It is neither a stop
    nor a reboot."""
    wait_guest_up(vs, bb)
    st = vs.state(bb)
    log = rc_log(vs, bb)
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(vs.bin), [str(vs.bin), bb, "console"], vs.env)
    try:
        out, deadline = b"", time.monotonic() + 10
        while b"Connected to the console" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                out += os.read(fd, 4096)
        assert b"Connected to the console" in out, out
        os.write(fd, b"\x03\x1c")      # ^C, ^\\
        time.sleep(0.5)
        assert pid_alive(st["init"], st["init_start"]) and rc_log(vs, bb) == log, rc_log(vs, bb)[len(log):]
    finally:
        os.kill(pid, signal.SIGKILL)     # the console client we started
        os.waitpid(pid, 0)
        os.close(fd)


def test_monitor_idles_while_no_guest_process_holds_the_console(vs, bbguest):
    """A guest may have /dev/console closed (systemd opens it only to print
    a status line): the console master then polls as POLLHUP, and a
    monitor that polled it as it is spun at full speed, taking a CPU from
    the guest (1400 turns in one systemd boot).  The monitor holds the
    console open itself and sleeps in poll()."""
    name = bbguest
    write_cfg(vs, name, "apps/init/style", "plain\n")
    write_cfg(vs, name, "apps/init/cmd.start",
              "/bin/sh\n-c\nexec </dev/null >/dev/null 2>&1; echo closed; exec /bin/sleep 100000\n")
    st = start(vs, name)
    # PID 1 is the sleep, with no fd on the console
    assert wait_until(lambda: probe(vs, name, "cat", "/proc/1/cmdline").split("\0")[0] == "/bin/sleep", 10)
    fds = [os.readlink(f"/proc/{st['init']}/fd/{n}") for n in os.listdir(f"/proc/{st['init']}/fd")]
    assert not any("pts" in f or "console" in f for f in fds), fds

    def cpu_ticks(pid):
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])  # utime + stime
    t0 = cpu_ticks(st["monitor"])
    time.sleep(1.0)
    used = cpu_ticks(st["monitor"]) - t0
    hz = os.sysconf("SC_CLK_TCK")
    assert used <= hz // 20, f"the monitor used {used}/{hz} s of CPU in 1 s with the console closed"
    # and the console still works: what the guest writes to it reaches the log
    gx(vs, name, "/bin/sh", "-c", "echo console-still-logged >/dev/console")
    log = Path(vs.rundir) / name / "console.log"
    assert wait_until(lambda: "console-still-logged" in log.read_text(errors="replace"), 10)
    stop(vs, name)
    assert_guest_gone(vs, name, st)


def test_stop_timeout_kills_a_guest_that_ignores_sigterm(vs, bbguest):
    name = bbguest
    # a PID 1 with the default SIGTERM action: it ignores the signal
    write_cfg(vs, name, "apps/init/style", "plain\n")
    write_cfg(vs, name, "apps/init/cmd.start", "/bin/sleep\n100000\n")
    write_cfg(vs, name, "apps/init/killseq", "15\n1\n9\n")
    st = start(vs, name)
    assert probe(vs, name, "cat", "/proc/1/cmdline").split("\0")[0] == "/bin/sleep"
    t0 = time.monotonic()
    r = stop(vs, name, "--timeout", "1", timeout=60)
    elapsed = time.monotonic() - t0
    assert "did not stop within 1 s" in r.stdout, r.stdout
    assert 1.0 <= elapsed < 10, elapsed
    assert_guest_gone(vs, name, st)


def test_stop_is_not_held_by_a_suspended_exec(vs, bbguest):
    """An admin suspends a `vserver exec` with Ctrl-Z (SIGTSTP to its
    process group), then stops the guest from another terminal.  The
    process that joined the guest ignores job control: suspended, it
    could not reap its command, and the guest's PID 1 could not finish
    dying (its PID namespace waits until all are reaped), so the stop
    would wait out its whole timeout."""
    name = bbguest
    st = start(vs, name)
    # a job-control shell, as the admin's: the exec is a job in a process
    # group of its own that SIGTSTP stops (in an orphaned group the kernel
    # would drop the signal); the shell stays, so the group stays unorphaned
    sh = subprocess.Popen(["bash", "-c", 'set -m; "$@" & echo "job $!"; exec sleep 120', "bash",
                           *vs.cmd([name, "exec", "/bin/sh", "-c", "echo up; exec /bin/sleep 100"])],
                          env=vs.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          start_new_session=True)
    try:
        lines = [sh.stdout.readline().decode().strip() for _ in range(2)]
        job = int(next(ln for ln in lines if ln.startswith("job ")).split()[1])
        assert "up" in lines, lines
        os.killpg(job, signal.SIGTSTP)
        assert wait_until(lambda: (proc_stat(job) or ("", ""))[1] == "T", 5), proc_stat(job)
        t0 = time.monotonic()
        stop(vs, name, "--timeout", "30")
        took = time.monotonic() - t0
        assert took < 10, f"stop took {took:.1f} s behind a suspended exec"
        assert_guest_gone(vs, name, st)
        os.killpg(job, signal.SIGCONT)
        assert wait_until(lambda: not pid_alive(job), 10)  # its command was killed with the guest
    finally:
        os.killpg(sh.pid, signal.SIGKILL)  # the session this test made: the shell and its job
        try:
            os.killpg(job, signal.SIGKILL)
        except (ProcessLookupError, NameError, UnboundLocalError):
            pass
        sh.wait(timeout=10)
        sh.stdout.close()


def test_sysv_stop_waits_for_processes_not_for_a_poll(vs, bbguest):
    """vserver-init's shutdown: after rc 6 it sends SIGTERM to what is
    left and reaps as the processes exit (no polling interval); a process
    that ignores SIGTERM gets SIGKILL after 5 s, without the stop timeout
    or the cgroup kill."""
    name = bbguest
    st = start(vs, name)
    # a quick stop: the processes left after rc 6 exit at SIGTERM
    gx(vs, name, "/bin/sh", "-c", "sleep 1000 </dev/null >/dev/null 2>&1 &")
    t0 = time.monotonic()
    stop(vs, name)
    assert time.monotonic() - t0 < 1.0
    assert_guest_gone(vs, name, st)
    # one that ignores SIGTERM: vserver-init's 5 s, then SIGKILL
    st = start(vs, name)
    gx(vs, name, "/bin/sh", "-c", "trap '' TERM; sleep 1000 </dev/null >/dev/null 2>&1 &")
    t0 = time.monotonic()
    r = stop(vs, name, "--timeout", "20", timeout=60)
    elapsed = time.monotonic() - t0
    assert 5.0 <= elapsed < 8, elapsed
    assert "did not stop" not in r.stdout, r.stdout
    assert_guest_gone(vs, name, st)


@pytest.mark.parametrize("style", ["sysv", "plain-sleep"])
def test_guest_with_killed_monitor_is_cleaned_by_stop(vs, bbguest, style):
    name = bbguest
    if style == "plain-sleep":
        # an init that survives the loss of its console
        write_cfg(vs, name, "apps/init/style", "plain\n")
        write_cfg(vs, name, "apps/init/cmd.start", "/bin/sleep\n100000\n")
        write_cfg(vs, name, "apps/init/killseq", "9\n")
    st = start(vs, name)
    assert proc_stat(st["monitor"])[0] == "vserver-mon"
    assert kill_verified(st["monitor"], st["monitor_start"], "vserver-mon")
    assert wait_until(lambda: not pid_alive(st["monitor"], st["monitor_start"]), 10)
    r = stop(vs, name, "--timeout", "5", timeout=60)
    assert r.returncode == 0
    assert_guest_gone(vs, name, st)
    assert host_mounts_under(vs.base) == []
    # and it starts again
    st2 = start(vs, name)
    assert probe(vs, name, "pid").isdigit()
    stop(vs, name, "--timeout", "1")
    assert_guest_gone(vs, name, st2)


def test_hs07_exec_after_monitor_and_init_are_killed(vs, bb):
    """HS-07: the guest's monitor and PID 1 die (SIGKILL); exec must refuse
    (nothing runs: no stale pid is joined)."""
    st = vs.state(bb)
    assert kill_verified(st["monitor"], st["monitor_start"], "vserver-mon")
    # (the init may already be dying: the monitor held its console)
    assert kill_verified(st["init"], st["init_start"], "memfd:vserver-i") or not pid_alive(st["init"])
    r = gx(vs, bb, "/t", "write", "/tmp/hs07", "ran", check=None)
    assert r.returncode == 125, r
    assert not (vs.root(bb) / "tmp/hs07").exists()
    # once the host has reaped them: "not running"
    assert wait_until(lambda: proc_stat(st["monitor"]) is None or proc_stat(st["monitor"])[2] != st["monitor_start"],
                      15, 0.1), "the host did not reap the killed monitor"
    r = gx(vs, bb, "/t", "write", "/tmp/hs07", "ran", check=None)
    assert r.returncode == 125 and "not running" in r.stderr, r
    vs.run([bb, "running"], check=1, timeout=30)
    stop(vs, bb)
    assert_guest_gone(vs, bb)


def test_hs07_zombie_monitor_counts_as_stopped(vs, bbguest):
    """Like HS-07, but the dead monitor stays a zombie (this test is its
    subreaper and reaps it only at the end): the guest is not running."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    st = None
    try:
        st = start(vs, bbguest)
        assert proc_stat(st["monitor"]) and int(Path(f"/proc/{st['monitor']}/stat").read_text()
                                                .rsplit(")", 1)[1].split()[1]) == os.getpid()
        assert kill_verified(st["monitor"], st["monitor_start"], "vserver-mon")
        assert kill_verified(st["init"], st["init_start"], "memfd:vserver-i") or not pid_alive(st["init"])
        assert wait_until(lambda: proc_stat(st["monitor"])[1] == "Z", 10)
        r = gx(vs, bbguest, "/t", "write", "/tmp/hs07", "ran", check=None)
        assert r.returncode == 125 and not (vs.root(bbguest) / "tmp/hs07").exists(), r
        running = vs.run([bbguest, "running"], check=None, timeout=30).returncode
        status = vs.run([bbguest, "status"], check=None, timeout=30)
        assert (running, status.returncode, "not running" in r.stderr) == (1, 3, True), (
            f"running: exit {running}; status: exit {status.returncode} {status.stdout!r}; exec: {r.stderr!r}")
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        if st:
            for pid in (st["monitor"], st["init"]):
                try:
                    os.waitpid(pid, 0)        # our (adopted) children now
                except ChildProcessError:
                    pass
            vs.run([bbguest, "stop"], check=None, timeout=60)


def test_stop_with_a_stopped_process_is_quick(vs, bb):
    gx(vs, bb, "/bin/sh", "-c", "exec </dev/null >/dev/null 2>&1; sleep 1000 & kill -STOP $!", timeout=30)
    ps = gx(vs, bb, "/bin/ps", "-o", "stat,args").stdout
    assert any(ln.startswith("T") and "sleep 1000" in ln for ln in ps.splitlines()), ps
    t0 = time.monotonic()
    stop(vs, bb, timeout=60)
    assert time.monotonic() - t0 < 3


# ---- joining a guest safely ----------------------------------------------------------------------

WATCHER = r"""#!/bin/sh
# Guest root races every `vserver exec`: as soon as a process still named
# "vserver" (forked by the host, not yet exec'd) shows up in /proc, try to
# read its environ, exe and fds and to ptrace it (PTRACE_SEIZE: a process
# caught just after its exec is not left stopped).  Builtins only in the
# scan loop (no fork), so it keeps up.
log=/tmp/watch.log
while [ ! -e /tmp/watch.stop ]; do
	for p in /proc/[0-9]*; do
		c=
		{ read c <$p/comm; } 2>/dev/null || continue
		[ "$c" = vserver ] || continue
		e=FAIL; x=FAIL; f=FAIL
		{ true <$p/environ; } 2>/dev/null && e=OK
		{ true <$p/exe; } 2>/dev/null && x=OK
		{ true <$p/fd/0; } 2>/dev/null && f=OK
		t=$(/t ptrace ${p#/proc/} seize 2>/dev/null)
		c2=
		{ read c2 <$p/comm; } 2>/dev/null
		echo "${p#/proc/} $c $e $x $f ${t:-none} ${c2:-gone}" >>$log
	done
done
echo done >>$log
"""


def test_exec_cannot_be_raced_before_it_runs_the_command(vs, bbguest):
    """A guest root process racing `vserver exec`: while the joining process
    has not executed the command yet (it is still the host's vserver
    binary), its environ, exe, fds cannot be opened and it cannot be
    ptraced.  The guest's own /etc/passwd is made big (the join parses it)
    so that the window is wide enough for the watcher to see it."""
    name = bbguest
    root = vs.root(name)
    users = "".join(f"u{i}:x:{100000 + i}:{100000 + i}::/nonexistent:/bin/false\n" for i in range(50000))
    (root / "etc/passwd").write_text(users + "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
    (root / "watch.sh").write_text(WATCHER)
    os.chmod(root / "watch.sh", 0o755)
    start(vs, name)
    watcher = vs.popen([name, "exec", "/watch.sh"])
    try:
        assert wait_until(lambda: gx(vs, name, "/bin/sh", "-c", "ps -o args | grep -q '[w]atch.sh'",
                                     check=None).returncode == 0, 10)
        for _ in range(25):
            gx(vs, name, "/bin/true")
    finally:
        (root / "tmp/watch.stop").write_text("")
        try:
            watcher.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            watcher.kill()
            watcher.communicate(timeout=10)
    recs = [ln.split() for ln in (root / "tmp/watch.log").read_text().splitlines() if ln != "done"]
    before_exec = [r for r in recs if len(r) == 7 and r[1] == "vserver" and r[6] == "vserver"]
    assert before_exec, f"the watcher never saw a joining process (inconclusive): {recs[:20]}"
    leaks = [r for r in before_exec if r[2:5] != ["FAIL"] * 3 or r[5] not in ("EPERM", "ESRCH")]
    assert leaks == [], leaks[:20]


def test_exec_process_is_in_the_guest_cgroup_and_guarded(vs, bb):
    p = vs.popen([bb, "exec", "/bin/sh", "-c", "echo $$; exec /t sleep 30"])
    try:
        gpid = p.stdout.readline().strip()
        assert gpid.isdigit()
        # its host pid: the member of the guest's cgroup with that guest pid
        host_pid = None
        for hp in vs.cgroup_procs(bb):
            try:
                ns = [ln for ln in Path(f"/proc/{hp}/status").read_text().splitlines() if ln.startswith("NSpid:")]
            except FileNotFoundError:
                continue
            if ns[0].split()[1:] == [str(hp), gpid]:
                host_pid = hp
        assert host_pid, "the exec'd process is not in the guest's cgroup"
        cg = Path(f"/proc/{host_pid}/cgroup").read_text().splitlines()
        for ln in cg:
            path = ln.split(":", 2)[2]
            # the guest's payload sub-cgroup, below the guest dir with the limits
            assert path == f"/{vs.cgparent}/{bb}/payload", cg
        # same namespaces as the guest's PID 1
        init = vs.state(bb)["init"]
        for ns in ("pid", "mnt", "uts", "ipc", "cgroup"):
            assert os.readlink(f"/proc/{host_pid}/ns/{ns}") == os.readlink(f"/proc/{init}/ns/{ns}"), ns
        # a guest user can neither trace nor look into root's process
        assert probe_user(vs, bb, "user", "ptrace", gpid) == "EPERM"
        assert probe_user(vs, bb, "user", "ls", f"/proc/{gpid}/fd", check=1) == "EACCES"
        assert probe_user(vs, bb, "user", "open", f"/proc/{gpid}/environ") == "EACCES"
    finally:
        p.kill()
        p.communicate(timeout=20)


# ---- hostile guests --------------------------------------------------------------------------------

def hostile_common(vs, name, host_dir, tmp_path):
    """Start a hostile guest: it fails cleanly, or runs with nothing landing
    on the host.  Returns the start result."""
    before = snapshot(host_dir)
    table_before = host_mount_table()
    r = vs.run([name, "start"], check=None, timeout=60)
    try:
        if r.returncode == 0:
            # nothing mounted on the host dir, as seen from the guest either
            for m, root, fstype, opts in mountinfo_entries(probe(vs, name, "mountinfo")):
                assert not root.startswith(str(host_dir)), (m, root)
        else:
            assert r.stderr.strip(), r
            # a full rollback
            assert_guest_gone(vs, name)
            assert not (vs.rundir / name / "state").exists()
    finally:
        if r.returncode == 0:
            stop(vs, name)
    assert table_diff(table_before, host_mount_table()) == []
    assert host_mounts_under(tmp_path) == []
    assert snapshot_diff(before, snapshot(host_dir)) == ""
    return r


@pytest.mark.parametrize("how", ["relative", "absolute", "parent-relative", "parent-absolute"])
def test_symlink_at_fstab_target(vs, bbguest, host_dir, tmp_path, how):
    name = bbguest
    (host_dir / "canary").write_text("host\n")
    src = tmp_path / "bindsrc"
    src.mkdir()
    (src / "from-src").write_text("src\n")
    root = vs.root(name)
    (root / "mnt").mkdir(exist_ok=True)
    if how == "relative":
        os.symlink(relpath_to(host_dir), root / "mnt/x")
    elif how == "absolute":
        os.symlink(str(host_dir), root / "mnt/x")
    elif how == "parent-relative":
        os.rmdir(root / "mnt")
        os.symlink(relpath_to(host_dir), root / "mnt")
    else:
        os.rmdir(root / "mnt")
        os.symlink(str(host_dir), root / "mnt")
    write_cfg(vs, name, "fstab", f"{src} /mnt/x none bind,rw 0 0\n")
    r = hostile_common(vs, name, host_dir, tmp_path)
    assert sorted(os.listdir(host_dir)) == ["canary"]
    if r.returncode != 0:
        assert "/mnt" in r.stderr, r.stderr


@pytest.mark.parametrize("target", ["dev", "proc", "sys", "run"])
@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_symlink_instead_of_a_base_mount_point(vs, bbguest, host_dir, tmp_path, target, how):
    name = bbguest
    (host_dir / "canary").write_text("host\n")
    root = vs.root(name)
    os.rmdir(root / target)
    os.symlink(relpath_to(host_dir) if how == "relative" else str(host_dir), root / target)
    r = hostile_common(vs, name, host_dir, tmp_path)
    assert sorted(os.listdir(host_dir)) == ["canary"]
    if r.returncode != 0:
        assert target in r.stderr, r.stderr


# ---- the plain style (the guest's own /sbin/init) and the console ------------------------------

def test_plain_style_busybox_init_boots_and_halts(vs, bbguest):
    """plain: the guest's /sbin/init is PID 1 (busybox init here); it runs
    its sysinit (rcS -> rc 3), and `stop` halts it from inside (/sbin/halt),
    so its shutdown action (rcK) runs before it exits."""
    name = bbguest
    write_cfg(vs, name, "apps/init/style", "plain\n")
    st = start(vs, name)
    assert wait_until(lambda: (vs.root(name) / "run").exists(), 5)
    assert probe(vs, name, "cat", "/proc/1/comm") == "init"
    # rcS runs at boot, then rc 3 starts the marker service
    assert wait_until(lambda: gx(vs, name, "/bin/cat", "/run/rcS.done", check=None).returncode == 0, 10)
    assert wait_until(lambda: gx(vs, name, "/bin/cat", "/run/marker.started", check=None).returncode == 0, 10)
    t0 = time.monotonic()
    r = stop(vs, name, "--timeout", "20")
    assert "did not stop" not in r.stdout, r.stdout
    assert time.monotonic() - t0 < 20
    assert (vs.root(name) / "var/log/rcK.done").is_file()        # the init's shutdown action ran
    log = (vs.rundir / name / "console.log").read_text(errors="replace")
    assert "PID 1 ended by signal" in log or "PID 1 exited" in log
    assert_guest_gone(vs, name, st)


@pytest.mark.parametrize("trap_after", [0, 1])
def test_plain_style_without_halt_gets_sigterm(vs, bbguest, trap_after):
    """A plain guest whose init has no /sbin/halt (tini, dumb-init and the
    like as cmd.start, which pass SIGTERM on): stop says so and sends
    SIGTERM to PID 1 at once, instead of waiting its whole timeout.
    trap_after 1: the init sets its SIGTERM trap a second after start and
    is stopped at once; a namespace's PID 1 drops signals it has no
    handler for, even from the host, so stop waits for the handler (the
    signal was lost before, and the stop waited its whole timeout)."""
    name = bbguest
    write_cfg(vs, name, "apps/init/style", "plain\n")
    write_cfg(vs, name, "apps/init/cmd.start",
              f"/bin/sh\n-c\nsleep {trap_after}; trap 'echo got-term >/var/log/term; exit 0' TERM; "
              ": >/run/ready; while :; do sleep 1; done\n")
    (vs.root(name) / "sbin" / "halt").unlink()
    st = start(vs, name)
    if not trap_after:
        assert wait_until(lambda: gx(vs, name, "/t", "cat", "/run/ready", check=None).returncode == 0, 10)
    t0 = time.monotonic()
    r = stop(vs, name, "--timeout", "20")
    assert time.monotonic() - t0 < 8 and "did not stop" not in r.stdout, r.stdout
    assert "/sbin/halt in the guest failed (" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert "sent SIGTERM to its PID 1" in r.stdout + r.stderr
    assert (vs.root(name) / "var/log/term").read_text() == "got-term\n"
    assert_guest_gone(vs, name, st)


def test_console_attach_shows_guest_output_and_detaches(vs, bb):
    """vserver NAME console: the guest's console through the monitor;
    what the guest writes to /dev/console appears; Ctrl-] detaches."""
    import pty
    import select
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(str(vs.bin), [str(vs.bin), bb, "console"], vs.env)
    out = b""
    try:
        deadline = time.monotonic() + 10
        while b"Connected to the console" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                out += os.read(fd, 4096)
        assert b"Connected to the console" in out, out
        gx(vs, bb, "/bin/sh", "-c", "echo hello-from-the-console >/dev/console")
        deadline = time.monotonic() + 10
        while b"hello-from-the-console" not in out and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                out += os.read(fd, 4096)
        assert b"hello-from-the-console" in out, out
        os.write(fd, b"\x1d")                       # Ctrl-]
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            wpid, st = os.waitpid(pid, os.WNOHANG)
            if wpid == pid:
                status = st
                break
            try:
                if select.select([fd], [], [], 0.2)[0]:
                    out += os.read(fd, 4096)
            except OSError:
                pass
        # what it wrote before exiting may still wait in the pty
        while True:
            try:
                if not select.select([fd], [], [], 0.2)[0]:
                    break
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, out)
        assert b"Detached" in out, out
        # the guest runs on, and its console log has the line too
        assert vs.run([bb, "running"], check=0, timeout=30)
        assert "hello-from-the-console" in (vs.rundir / bb / "console.log").read_text(errors="replace")
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)


# ---- rescue mode -------------------------------------------------------------------------

def test_rescue_runs_a_command_as_pid1(vs, bbguest):
    """`start --rescue CMD` runs CMD as the guest's PID 1 instead of its
    init, found in the guest's PATH like `exec` finds a command (the old
    code ran only a path: `--rescue sleep 300` failed with "No such file");
    util-vserver's spelling `--rescue --rescue-init CMD` means the same."""
    for args in (["--rescue", "sleep", "300"], ["--rescue", "--rescue-init", "--", "sleep", "300"]):
        r = vs.run([bbguest, "start", *args], timeout=60)
        assert "init style rescue" in r.stdout, r.stdout
        st = vs.state(bbguest)
        assert open(f"/proc/{st['init']}/cmdline").read().split("\0")[:2] == ["sleep", "300"]
        assert vs.run([bbguest, "exec", "/bin/cat", "/proc/1/cmdline"]).stdout.split("\0")[:2] == ["sleep", "300"]
        # not the init style: the rc scripts never ran
        assert "marker.started" not in vs.run([bbguest, "exec", "/bin/ls", "/run"]).stdout
        vs.run([bbguest, "stop", "--timeout", "0"], timeout=60)
        assert vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == []


def test_rescue_guest_stops_when_its_command_exits(vs, bbguest):
    """A rescue guest is never restarted: when the command exits, the guest
    is stopped and cleaned up by its monitor."""
    vs.run([bbguest, "start", "--rescue", "/bin/sh", "-c", "sleep 0.3"], timeout=60)
    assert wait_until(lambda: vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == [], timeout=15)
    assert vs.run([bbguest, "status"], check=3).returncode == 3


def test_rescue_command_not_found_changes_nothing(vs, bbguest):
    before = vs.snapshot(content=False, dir_mtime=False)
    r = vs.run([bbguest, "start", "--rescue", "no-such-command"], check=1, timeout=60)
    assert "cannot run the rescue command no-such-command in the guest: No such file or directory" in r.stderr, \
        r.stderr
    assert vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == [] and vs.cgroup_procs(bbguest) == []
    assert vs.run([bbguest, "running"], check=False).returncode == 1
    changed = [ln.split(": ")[0] for ln in
               snapshot_diff(before, vs.snapshot(content=False, dir_mtime=False)).splitlines()]
    # what any start leaves: RUNDIR/NAME with the console log and the
    # seccomp cache (and RUNDIR itself, made by this world's first start)
    rd = str(vs.rundir)
    assert set(changed) <= {rd, f"{rd}/{bbguest}", f"{rd}/{bbguest}/console.log", f"{rd}/{bbguest}/seccomp.bpf"}, \
        changed


# ---- sysctl/ ------------------------------------------------------------------------------

def test_sysctl_settings_are_the_guests_only(vs, bbguest):
    """util-vserver's sysctl/<x>/{setting,value}: written at start into the
    guest's own IPC and network namespaces (mode none here), seen by the
    guest, not by the host; a setting the guest's namespaces lack fails the
    start with the entry named, and leaves nothing."""
    host = {k: Path(f"/proc/sys/{k}").read_text() for k in ("kernel/shmmax", "kernel/msgmnb", "net/ipv4/ip_forward")}
    write_cfg(vs, bbguest, "sysctl/ipc/setting", "kernel.shmmax\n")
    write_cfg(vs, bbguest, "sysctl/ipc/value", "12345678\n")
    write_cfg(vs, bbguest, "sysctl/msg/setting", "kernel.msgmnb\n")
    write_cfg(vs, bbguest, "sysctl/msg/value", "32768\n")
    write_cfg(vs, bbguest, "sysctl/net/setting", "net.ipv4.ip_forward\n")
    write_cfg(vs, bbguest, "sysctl/net/value", "1\n")
    assert vs.config_json(bbguest)["sysctl"] == [
        {"id": "ipc", "setting": "kernel.shmmax", "value": "12345678"},
        {"id": "msg", "setting": "kernel.msgmnb", "value": "32768"},
        {"id": "net", "setting": "net.ipv4.ip_forward", "value": "1"}]
    vs.run([bbguest, "start"], timeout=60)
    got = vs.run([bbguest, "exec", "/bin/cat", "/proc/sys/kernel/shmmax", "/proc/sys/kernel/msgmnb",
                  "/proc/sys/net/ipv4/ip_forward"]).stdout.split()
    assert got == ["12345678", "32768", "1"]
    assert {k: Path(f"/proc/sys/{k}").read_text() for k in host} == host
    # the guest itself still cannot change them (/proc/sys is read-only)
    r = vs.run([bbguest, "exec", "/bin/sh", "-c", "echo 1 > /proc/sys/kernel/shmmax"], check=None)
    assert r.returncode != 0 and "Read-only file system" in r.stderr, r.stderr
    vs.run([bbguest, "stop"], timeout=60)
    write_cfg(vs, bbguest, "sysctl/net/setting", "net.ipv4.no_such_setting\n")
    r = vs.run([bbguest, "start"], check=1, timeout=60)
    assert "sysctl/net: net.ipv4.no_such_setting = 1 (no such setting in the guest's namespaces)" in r.stderr, \
        r.stderr
    assert vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == [] and vs.cgroup_procs(bbguest) == []
    # a host-wide setting is refused before anything happens
    write_cfg(vs, bbguest, "sysctl/net/setting", "kernel.sysrq\n")
    r = vs.run([bbguest, "start"], check=2, timeout=60)
    assert f"{vs.cfg(bbguest)}/sysctl/net/setting:1: kernel.sysrq is not namespaced" in r.stderr, r.stderr


# ---- start waits for the boot -------------------------------------------------------------

def test_start_returns_when_rc_is_done(vs, bbguest):
    """As util-vserver's start ran rc synchronously, `start` returns once
    the guest's start command has finished (vserver-init sends READY=1):
    the service rc 3 starts is up when start returns, and a slow boot makes
    a slow start (before, start returned before rc had even begun)."""
    vs.run([bbguest, "start"], timeout=60)
    assert vs.run([bbguest, "exec", "/bin/cat", "/run/marker.started"]).stdout == "marker started\n"
    vs.run([bbguest, "stop"], timeout=60)
    write_cfg(vs, bbguest, "apps/init/cmd.start",
              "/bin/sh\n-c\nsleep 300 & sleep 1; echo done > /run/boot.done\n")
    t0 = time.monotonic()
    vs.run([bbguest, "start"], timeout=60)
    assert time.monotonic() - t0 >= 1.0
    assert vs.run([bbguest, "exec", "/bin/cat", "/run/boot.done"]).stdout == "done\n"
    # what PID 1 starts does not inherit the readiness socket's variable
    env = vs.run([bbguest, "exec", "/bin/sh", "-c", "cat /proc/$(pidof sleep)/environ"]).stdout.split("\0")
    assert "container=vserver" in env and not [v for v in env if v.startswith("NOTIFY_SOCKET=")], env


def test_start_warns_when_the_start_command_fails(vs, bbguest):
    write_cfg(vs, bbguest, "apps/init/cmd.start", "/bin/sh\n-c\nexit 3\n")
    r = vs.run([bbguest, "start"], timeout=60)
    assert "warning: /bin/sh exited with status 3" in r.stdout, r.stdout
    assert "started (context" in r.stdout
    vs.run([bbguest, "running"], check=0)


def test_boot_timeout_bounds_the_wait(vs, bbguest):
    """apps/init/boot-timeout: start gives up waiting (the guest runs on,
    and the lock is free for a stop); 0: start does not wait at all."""
    write_cfg(vs, bbguest, "apps/init/cmd.start", "/bin/sleep\n30\n")
    write_cfg(vs, bbguest, "apps/init/boot-timeout", "1\n")
    t0 = time.monotonic()
    r = vs.run([bbguest, "start"], timeout=60)
    assert 1.0 <= time.monotonic() - t0 < 10
    assert "its boot has not finished after 1 s (apps/init/boot-timeout)" in r.stdout, r.stdout
    vs.run([bbguest, "running"], check=0)
    vs.run([bbguest, "stop", "--timeout", "5"], timeout=60)
    write_cfg(vs, bbguest, "apps/init/boot-timeout", "0\n")
    t0 = time.monotonic()
    r = vs.run([bbguest, "start"], timeout=60)
    assert time.monotonic() - t0 < 1.0 and "has not finished" not in r.stdout, r.stdout
    assert vs.config_json(bbguest)["init"]["boot_timeout"] == 0
    write_cfg(vs, bbguest, "apps/init/boot-timeout", "soon\n")
    r = vs.run([bbguest, "check"], check=2)
    assert (f"{vs.cfg(bbguest)}/apps/init/boot-timeout:1: timeout 'soon' is not allowed: seconds, 0..86400 "
            "(0: start does not wait for the boot)") in r.stdout, r.stdout


def test_only_pid1_ends_the_wait(vs, bbguest):
    """Any guest process can reach the readiness socket (it is in the
    guest's /run), but only PID 1's READY=1 counts: a READY=1 sent by the
    start command's child does not end the wait."""
    write_cfg(vs, bbguest, "apps/init/cmd.start", "/bin/sh\n-c\n/t notify /run/host/notify READY=1; sleep 2\n")
    t0 = time.monotonic()
    vs.run([bbguest, "start"], timeout=60)
    assert time.monotonic() - t0 >= 2.0
    log = (vs.rundir / bbguest / "console.log").read_text()
    assert "OK" in log.split(), log[-500:]     # the datagram was delivered, and ignored


def test_guest_that_stops_during_its_boot(vs, bbguest):
    """A guest that halts before its boot is done: start says so (exit 1)
    and the guest is gone, cleaned up by its monitor."""
    # (the start command is still running when PID 1 gets the halt)
    write_cfg(vs, bbguest, "apps/init/cmd.start", "/bin/sh\n-c\n/bin/busybox halt; sleep 5\n")
    r = vs.run([bbguest, "start"], check=1, timeout=60)
    assert f"guest '{bbguest}' stopped during its boot" in r.stderr, r.stderr
    assert wait_until(lambda: vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == [], 15)
