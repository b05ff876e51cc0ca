# SPDX-License-Identifier: GPL-2.0-or-later
"""Host-side hazards of the manager itself: security-catalogue.md section 2,
HS-01..HS-11, one test (or a reference to the test that covers it) each.

Where another file already covers a hazard, the comment at its section says
which test; only what is missing there is tested here:

  HS-01 host edits of guest files  test_hostile.py (build post-install, rename, delete);
                                   here: start/exec/stop of a guest whose files link to host files
  HS-02 FIFOs and device nodes     test_hostile.py (post-install); here: start/status/exec/stop and
                                   the configuration directory
  HS-03 fstab target TOCTOU        test_run.py test_symlink_at_fstab_target,
                                   test_config_negative.py (fstab '..' and /proc/sys targets)
  HS-04 guest /dev,/proc,/sys      test_run.py test_symlink_instead_of_a_base_mount_point
  HS-05 guest code on the host     test_hostile.py test_no_guest_code_runs_on_host (NSS, build,
                                   status ...); here: start/stop/exec of the plain style
  HS-06 locking                    here: parallel starts
  HS-07 stale pids                 test_run.py test_hs07_*; here: a pidfile naming a reused pid
  HS-08 atomic writes              here: SIGKILL during writes, a symlink at the target
  HS-09 trusting the config dir    here (StrictModes)
  HS-10 host exposure of guests    here (the vdirbase barrier, PR-04; shared folders host users
                                   reach); test_attacks.py PR-04
  HS-11 guest strings on the host  test_stat.py test_escape_sequences_never_reach_the_terminal
                                   (vps, vserver-stat), test_cli.py (names); here: status, list

Every subprocess has a timeout; only processes this test started are
signalled, by pid.
"""
import os
import random
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import VS, pid_alive, proc_stat, rmtree, snapshot, snapshot_diff, wait_until
from test_run import assert_guest_gone

TIMEOUT = 60


def read(p):
    with open(p) as f:
        return f.read()


def gx(vs, name, *argv, check=0, timeout=30):
    return vs.run([name, "exec", *argv], check=check, timeout=timeout)


def start(vs, name):
    vs.run([name, "start"], timeout=TIMEOUT)
    st = vs.state(name)
    assert st and "init" in st, st
    return st


def stop(vs, name):
    return vs.run([name, "stop", "--timeout", "10"], timeout=TIMEOUT)


def assert_not_started(vs, name):
    assert vs.state(name) is None
    assert vs.cgroup_dirs(name) == [], vs.cgroup_dirs(name)
    assert vs.cgroup_procs(name) == []


def canary_dir(host_dir):
    (host_dir / "canary").write_text("CANARY\n")
    (host_dir / "etc").mkdir()
    for n in ("hosts", "hostname", "resolv.conf", "mtab"):
        (host_dir / "etc" / n).write_text(f"host {n}\n")
    return host_dir


def replace(p, how):
    """Replace the guest file p (a file or a link) with `how`(p)."""
    if os.path.lexists(p):
        os.unlink(p)
    how(p)


# ---- HS-01: host files behind links in the guest tree ---------------------------------------------
# Build post-install, rename and delete: test_hostile.py.  Start, exec and stop do not edit
# guest files on the host side; this proves it for links planted in a stopped guest.

def test_hs01_start_exec_stop_with_links_to_host_files(vs, bbguest, host_dir):
    h = canary_dir(host_dir)
    root = vs.root(bbguest)
    replace(root / "etc/hosts", lambda p: os.symlink(f"{h}/canary", p))
    replace(root / "etc/resolv.conf", lambda p: os.symlink("../" * 16 + f"{str(h).lstrip('/')}/etc/resolv.conf", p))
    replace(root / "etc/hostname", lambda p: os.symlink(f"{h}/etc/hostname", p))
    replace(root / "etc/mtab", lambda p: os.symlink(f"{h}/etc/mtab", p))
    before = snapshot(h)
    start(vs, bbguest)
    # inside, the links resolve in the guest's own root: the host files are not there
    r = gx(vs, bbguest, "/t", "cat", "/etc/hosts", check=None)
    assert "CANARY" not in r.stdout
    vs.run([bbguest, "status"], check=0, timeout=30)
    stop(vs, bbguest)
    assert snapshot_diff(before, snapshot(h)) == ""
    assert sorted(os.listdir(h)) == ["canary", "etc"]
    # the links are the guest's business: left as they were
    assert os.readlink(root / "etc/hosts") == f"{h}/canary"


# ---- HS-02: FIFOs and device nodes where the host reads -----------------------------------------
# Post-install over FIFOs and /dev/null nodes: test_hostile.py (hostname-fifo, mtab-device ...).

def test_hs02_fifos_and_devices_in_the_guest_tree_do_not_hang(vs, bbguest):
    root = vs.root(bbguest)
    replace(root / "etc/mtab", lambda p: os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3)))
    replace(root / "etc/passwd", os.mkfifo)          # exec -u parses it on the host side
    for d in ("etc/hostname", "etc/resolv.conf"):
        replace(root / d, os.mkfifo)
    t0 = time.monotonic()
    start(vs, bbguest)
    # exec as a user needs the guest's passwd, a FIFO: an error, not a hang
    r = vs.run([bbguest, "exec", "-u", "user", "/t", "id"], check=None, timeout=30)
    assert r.returncode != 0, r
    vs.run([bbguest, "status"], timeout=30)
    stop(vs, bbguest)
    assert time.monotonic() - t0 < 90
    assert stat.S_ISCHR(os.lstat(root / "etc/mtab").st_mode)      # nothing was written to the node
    assert stat.S_ISFIFO(os.lstat(root / "etc/passwd").st_mode)


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_hs02_fifo_or_device_in_the_configuration(vs, bbguest, kind):
    p = vs.cfg(bbguest) / "uts" / "domainname"
    if kind == "fifo":
        os.mkfifo(p, 0o600)
    else:
        os.mknod(p, stat.S_IFCHR | 0o600, os.makedev(1, 5))     # /dev/zero: endless if read
    r = vs.run([bbguest, "check"], check=2, timeout=30)
    assert "uts/domainname" in r.stdout and "regular file" in r.stdout, r.stdout
    r = vs.run([bbguest, "start"], check=2, timeout=30)
    assert "uts/domainname" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)


# ---- HS-03, HS-04: see test_run.py and test_config_negative.py (module docstring) -----------------


# ---- HS-05: no guest binary runs in a host context ----------------------------------------------
# NSS modules, build methods, status, list ...: test_hostile.py test_no_guest_code_runs_on_host.
# The plain style's stop runs the guest's /sbin/halt: through exec's path, confined.

SPY = """#!/bin/busybox sh
# what the process that runs this sees: written inside the guest root
{{ /bin/busybox grep -E '^(Uid|Cap|NoNewPrivs|Seccomp|NSpid)' /proc/self/status
  echo "mnt $(/bin/busybox readlink /proc/self/ns/mnt)"
  echo "pid $(/bin/busybox readlink /proc/self/ns/pid)"
  echo "cgroup $(/bin/busybox cat /proc/self/cgroup | /bin/busybox tr '\\n' ' ')"
}} > /var/log/spy.{name} 2>&1
# a host process would create this host file; in the guest the directory does not exist
echo ran > {host_marker} 2>/dev/null
exec /bin/busybox {name} "$@"
"""


def status_fields(text):
    out = {}
    for ln in text.splitlines():
        k, _, v = ln.partition(":") if ":" in ln.split(" ")[0] else ln.partition(" ")
        out[k.strip()] = v.strip()
    return out


def test_hs05_plain_style_halt_runs_confined_in_the_guest(vs, bbguest, host_dir):
    name, root = bbguest, vs.root(bbguest)
    (vs.cfg(name) / "apps" / "init").mkdir(parents=True, exist_ok=True)
    (vs.cfg(name) / "apps" / "init" / "style").write_text("plain\n")
    host_marker = host_dir / "ran-on-host"
    for prog in ("halt", "poweroff"):
        p = root / "sbin" / prog
        replace(p, lambda q: q.write_text(SPY.format(name=prog, host_marker=host_marker)))
        os.chmod(p, 0o755)
    st = start(vs, name)
    assert wait_until(lambda: gx(vs, name, "/bin/cat", "/run/rcS.done", check=None).returncode == 0, 10)
    init_status = status_fields(read(f"/proc/{st['init']}/status"))
    stop(vs, name)
    assert not host_marker.exists(), "the guest's /sbin/halt ran in the host's mount namespace"
    spy = root / "var/log/spy.halt"
    assert spy.is_file(), "stop did not run the guest's /sbin/halt"
    seen = status_fields(read(spy))
    host = status_fields(read("/proc/self/status"))
    # the guest's bounding set, seccomp and namespaces, not the host root's
    assert seen["CapBnd"] == init_status["CapBnd"] != host["CapBnd"], (seen, init_status)
    assert seen["Seccomp"] == "2", seen
    assert seen["mnt"] != os.readlink("/proc/self/ns/mnt")
    assert seen["pid"] != os.readlink("/proc/self/ns/pid")
    assert (vs.root(name) / "var/log/rcK.done").is_file()


# ---- HS-06: locking -----------------------------------------------------------------------------

def pid1s(vs, name):
    """Processes of the guest's cgroups that are PID 1 of a pid namespace."""
    out = []
    for pid in vs.cgroup_procs(name):
        try:
            nspid = [ln for ln in read(f"/proc/{pid}/status").splitlines() if ln.startswith("NSpid:")]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if nspid and nspid[0].split()[-1] == "1" and len(nspid[0].split()) > 2:
            out.append(pid)
    return out


def test_hs06_parallel_starts_make_one_guest(vs, bbguest):
    n = 12
    procs = [vs.popen([bbguest, "start"]) for _ in range(n)]
    outs = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        outs.append((p.returncode, out, err))
    assert all(rc == 0 for rc, _, _ in outs), outs
    started = [o for o in outs if "already running" not in o[1]]
    assert len(started) == 1, outs
    st = vs.state(bbguest)
    assert st and pid_alive(st["monitor"], st["monitor_start"])
    assert pid1s(vs, bbguest) == [st["init"]], (pid1s(vs, bbguest), st)
    assert len(vs.cgroup_dirs(bbguest)) >= 1
    # no guest process holds the lock file (or anything of the run directory)
    locks = str(vs.rundir)
    for pid in vs.cgroup_procs(bbguest):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except (FileNotFoundError, ProcessLookupError):
            continue
        for fd in fds:
            try:
                t = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            assert not t.startswith(locks), (pid, fd, t)
    stop(vs, bbguest)
    assert vs.cgroup_dirs(bbguest) == []


def test_hs06_start_racing_stop_leaves_nothing(vs, bbguest):
    for _ in range(5):
        a = vs.popen([bbguest, "start"])
        b = vs.popen([bbguest, "stop", "--timeout", "5"])
        for p in (a, b):
            try:
                p.communicate(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                pytest.fail(f"{p.args} hung")
        stop(vs, bbguest)
        assert vs.state(bbguest) is None
        assert vs.cgroup_dirs(bbguest) == [], vs.cgroup_dirs(bbguest)
        assert vs.cgroup_procs(bbguest) == []


# ---- HS-07: stale pids --------------------------------------------------------------------------
# Killed monitor and init, zombie monitor: test_run.py test_hs07_*.  Here the pidfile names a
# live host process whose start time differs (the pid was reused).

def test_hs07_state_naming_a_reused_pid(vs, bbguest):
    victim = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
    try:
        start_time = proc_stat(victim.pid)[2]
        d = vs.rundir / bbguest
        vs.rundir.mkdir(mode=0o700, exist_ok=True)
        d.mkdir(mode=0o700, exist_ok=True)
        (d / "state").write_text(f"monitor {victim.pid} {start_time + 1}\ninit {victim.pid} {start_time + 1}\n"
                                 f"context 40000\nstarted {int(time.time())}\n")
        vs.run([bbguest, "running"], check=1, timeout=30)
        for args in (["exec", "/t", "id"], ["enter"]):
            r = vs.run([bbguest, *args], check=None, timeout=30)
            assert r.returncode not in (0, 2) and "not running" in r.stderr, r
        r = vs.run([bbguest, "stop", "--timeout", "2"], timeout=30)
        assert "not running" in r.stdout
        assert pid_alive(victim.pid, start_time), "stop signalled a process that is not the guest's"
        # and a start goes ahead: the stale state does not block it
        start(vs, bbguest)
        assert vs.state(bbguest)["monitor"] != victim.pid
        stop(vs, bbguest)
        assert pid_alive(victim.pid, start_time)
    finally:
        victim.kill()
        victim.wait()


# ---- HS-08: atomic writes -----------------------------------------------------------------------

def test_hs08_sigkill_during_config_writes(vs, bbguest):
    """`limit memory V` saves limits/memory: killed at random points, the
    file is always absent or one whole value, and the configuration loads."""
    cfg = vs.cfg(bbguest)
    values = [f"{m}M" for m in range(64, 64 + 40)]
    rng = random.Random(7)
    written = set()
    for i in range(120):
        v = values[i % len(values)]
        p = vs.popen([bbguest, "limit", "memory", v])
        time.sleep(rng.uniform(0, 0.02))
        p.send_signal(signal.SIGKILL)        # our own child, by its pid
        p.communicate(timeout=30)
        written.add(v)
        f = cfg / "limits" / "memory"
        if os.path.lexists(f):
            assert stat.S_ISREG(os.lstat(f).st_mode)
            text = read(f)
            assert text.strip() in written or text.strip().isdigit(), repr(text)
            assert text.endswith("\n"), repr(text)
    vs.run([bbguest, "limit", "memory", "96M"], timeout=30)
    # temp files are dot-files ending in '~': ignored by the loader
    for t in os.listdir(cfg / "limits"):
        assert t == "memory" or (t.startswith(".memory.") and t.endswith("~")), t
    r = vs.run([bbguest, "check"], timeout=30)
    assert "configuration OK" in r.stdout


def test_hs08_symlink_at_the_state_file_is_not_followed(vs, bbguest, host_dir):
    """A link planted at RUNDIR/NAME/state: never followed (start refuses it
    or replaces it).  Guest files written over links (post-install):
    test_hostile.py checks they end up regular files."""
    canary = host_dir / "canary"
    canary.write_text("CANARY\n")
    d = vs.rundir / bbguest
    vs.rundir.mkdir(mode=0o700, exist_ok=True)
    d.mkdir(mode=0o700, exist_ok=True)
    os.symlink(canary, d / "state")
    before = snapshot(host_dir)
    r = vs.run([bbguest, "start"], check=None, timeout=TIMEOUT)
    try:
        assert snapshot_diff(before, snapshot(host_dir)) == ""
        if r.returncode == 0:
            assert stat.S_ISREG(os.lstat(d / "state").st_mode)
        else:
            assert "symbolic link" in r.stderr, r.stderr
            assert vs.cgroup_dirs(bbguest) == [] and vs.cgroup_procs(bbguest) == []
    finally:
        vs.run([bbguest, "stop", "--timeout", "5"], check=None, timeout=TIMEOUT)
    assert read(canary) == "CANARY\n"


# ---- HS-09: StrictModes for the configuration -----------------------------------------------------

def chmod_add(p, bits):
    os.chmod(p, stat.S_IMODE(os.lstat(p).st_mode) | bits)


STRICT_CASES = {
    # case: (path below the world, change, what the message names)
    "file-world-writable": ("cfg/uts/nodename", lambda p: chmod_add(p, 0o002), "uts/nodename"),
    "file-group-writable": ("cfg/context", lambda p: chmod_add(p, 0o020), "context"),
    "file-owned-by-nobody": ("cfg/context", lambda p: os.chown(p, 65534, 65534), "uid 65534"),
    "guest-dir-group-writable": ("cfg", lambda p: chmod_add(p, 0o020), "mode 0775"),
    "subdir-owned-by-nobody": ("cfg/uts", lambda p: os.chown(p, 65534, 65534), "uts: owner uid 65534"),
    "argv-file-world-writable": ("cfg/apps/init/environment", lambda p: chmod_add(p, 0o002), "environment"),
    "confdir-world-writable": ("confdir", lambda p: chmod_add(p, 0o002), "mode 0757"),
    "defaults-dir-writable": ("defaults", lambda p: chmod_add(p, 0o002), ".defaults"),
    "defaults-file-nobody": ("defaults/shell", lambda p: os.chown(p, 65534, 65534), ".defaults/shell"),
}


def strict_path(vs, name, where):
    if where == "confdir":
        return vs.confdir
    if where.startswith("defaults"):
        d = vs.confdir / ".defaults"
        d.mkdir(mode=0o755, exist_ok=True)
        (d / "shell").write_text("/bin/sh\n")
        return d / where[len("defaults/"):] if "/" in where else d
    p = vs.cfg(name) / where[len("cfg/"):] if where != "cfg" else vs.cfg(name)
    if not p.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("LANG=C\n")
    return p


@pytest.mark.parametrize("case", list(STRICT_CASES))
def test_hs09_untrusted_configuration_is_refused(vs, bbguest, case):
    where, change, shown = STRICT_CASES[case]
    p = strict_path(vs, bbguest, where)
    vs.run([bbguest, "check"], timeout=30)            # trusted before
    change(p)
    r = vs.run([bbguest, "check"], check=2, timeout=30)
    msg = r.stdout + r.stderr
    assert shown in msg and "owned by root and not writable by group or others" in msg, msg
    assert str(p) in msg, msg                          # the full path, for the fix
    r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
    assert shown in r.stderr and "refusing the configuration" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)


def test_hs09_exec_enter_refuse_once_the_configuration_is_untrusted(vs, bbguest):
    start(vs, bbguest)
    f = vs.cfg(bbguest) / "uts" / "nodename"
    chmod_add(f, 0o002)
    try:
        for args in (["exec", "/t", "id"], ["enter"], ["suexec", "user", "/t", "id"]):
            r = vs.run([bbguest, *args], check=2, timeout=30)
            assert "refusing the configuration" in r.stderr and "uts/nodename" in r.stderr, r
    finally:
        os.chmod(f, 0o644)
    gx(vs, bbguest, "/t", "id")
    stop(vs, bbguest)


def test_hs09_stop_still_works_with_an_untrusted_configuration(vs, bbguest):
    """stop never runs the untrusted stop command or kill sequence, but it
    must not leave the guest running either: it kills, and says why."""
    st = start(vs, bbguest)
    f = vs.cfg(bbguest) / "apps" / "init" / "killseq"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("15\n5\n9\n")
    chmod_add(f, 0o002)
    try:
        r = vs.run([bbguest, "stop"], timeout=60)
        assert "refusing the configuration" in r.stdout and "without its configuration" in r.stdout, r.stdout
    finally:
        os.chmod(f, 0o644)
    assert_guest_gone(vs, bbguest, st)


def test_hs09_vdir_rules(vs, bbguest, tmp_path):
    """vdir: absolute, normalised, ending in the guest name, no system
    directory (test_config_negative.py: vdir-to-root, vdir-to-etc ...).  It
    may point outside the vdirbase (build --rootdir), but start then holds
    that directory to the vdirbase's barrier (HS-10)."""
    cfg = vs.cfg(bbguest)
    os.unlink(cfg / "vdir")
    os.symlink("/", cfg / "vdir")
    vs.run([bbguest, "start"], check=2, timeout=30)
    assert_not_started(vs, bbguest)
    # outside the vdirbase, in an open directory: refused with the fix
    other = tmp_path / "open"
    other.mkdir(mode=0o755)
    os.chmod(other, 0o755)
    shutil.move(str(vs.root(bbguest)), str(other / bbguest))
    os.unlink(cfg / "vdir")
    os.symlink(other / bbguest, cfg / "vdir")
    vs.run([bbguest, "check"], timeout=30)
    r = vs.run([bbguest, "start"], check=2, timeout=30)
    assert f"chmod 0700 {other}" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)
    # the same directory closed: fine
    os.chmod(other, 0o700)
    start(vs, bbguest)
    stop(vs, bbguest)


# ---- HS-10: the vdirbase barrier (PR-04) ----------------------------------------------------------

def test_hs10_open_vdirbase_refuses_start(vs, bbguest):
    assert stat.S_IMODE(os.stat(vs.vdirbase).st_mode) == 0o700     # as build created it
    os.chmod(vs.vdirbase, 0o755)
    r = vs.run([bbguest, "start"], check=2, timeout=30)
    assert f"chmod 0700 {vs.vdirbase}" in r.stderr and "mode 0755" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)
    # build warns about an existing open directory
    r = vs.build("bb2", method="skeleton")
    assert "warning:" in r.stdout and f"chmod 0700 {vs.vdirbase}" in r.stdout, r.stdout
    os.chmod(vs.vdirbase, 0o000)                        # the old barrier mode is fine too
    start(vs, bbguest)
    stop(vs, bbguest)


@pytest.fixture
def open_world(vserver_bin, busybox_rootfs_tarball):
    """A VS world whose ancestors every host user may traverse (pytest's
    tmp_path is 0700, which would hide a missing barrier), with the busybox
    guest 'bb'."""
    base = Path(tempfile.mkdtemp(prefix="vserver-hs10."))
    os.chmod(base, 0o711)
    w = VS(base / "w", vserver_bin)
    os.chmod(w.base, 0o711)
    try:
        w.build("bb", method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
        yield w
    finally:
        w.cleanup()
        rmtree(base)


def as_nobody(*argv):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_hs10_host_user_cannot_reach_a_running_guest(open_world):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    w = open_world
    start(w, "bb")
    try:
        target = w.root("bb") / "etc" / "passwd"
        r = as_nobody("cat", str(target))
        assert r.returncode != 0 and "Permission denied" in r.stderr, r
        r = as_nobody("ls", str(w.root("bb")))
        assert r.returncode != 0 and "Permission denied" in r.stderr, r
        # control: with the barrier open the same user does get in (the test can see a failure)
        os.chmod(w.vdirbase, 0o755)
        try:
            r = as_nobody("cat", str(target))
            assert r.returncode == 0 and "root:" in r.stdout, r
        finally:
            os.chmod(w.vdirbase, 0o700)
    finally:
        stop(w, "bb")


@pytest.fixture
def tmpfs_at():
    """Mount private tmpfs file systems (tmpfs_at(path, options)); all unmounted afterwards."""
    mounted = []

    def mount(path, options):
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"{options},size=4m,mode=0755", "vs-pr04", str(path)],
                       check=True, timeout=30)
        mounted.append(path)
        return path
    try:
        yield mount
    finally:
        for path in reversed(mounted):
            subprocess.run(["umount", "-l", str(path)], check=False, timeout=30)


def test_pr04_shared_folder_host_users_could_run_from(vs, bbguest, exposed_dir, tmpfs_at):
    """A read-write share of a privileged guest (guest root is host root) in
    a directory host users reach, on a filesystem without nosuid: start
    refuses it before anything exists, check warns; read-only, nosuid(,nodev)
    or behind a root-owned 0700 directory it starts (PR-04, HS-10)."""
    cfg = vs.cfg(bbguest)
    src = exposed_dir / "share"
    src.mkdir(mode=0o755)
    for file in ("fstab", "fstab.remote"):
        (cfg / file).write_text(f"# shared\nnone /tmp tmpfs size=8m 0 0\n{src} /srv/share none bind,rw 0 0\n")
        if file == "fstab.remote":
            (cfg / "fstab").write_text("")
        r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
        msg = (f"{cfg}/{file}:3: read-write bind of {src}: host users could run the setuid programs that guest "
               f"root (host root in this guest) leaves there, since its filesystem is not mounted nosuid")
        fix = (f"mount {src}'s filesystem nosuid (and nodev), make a parent directory root-owned mode 0700, or use "
               f"a user-namespace guest (userns)")
        assert msg in r.stderr and fix in r.stderr, r.stderr
        assert_not_started(vs, bbguest)
        assert not (vs.root(bbguest) / "srv" / "share").exists()
        # check: the same finding, as a warning about the host (the configuration itself is fine)
        r = vs.run([bbguest, "check"], timeout=TIMEOUT)
        assert f"warning: {msg}" in r.stdout and fix in r.stdout and "configuration OK" in r.stdout, r.stdout
    (cfg / "fstab.remote").unlink()
    # read-only: guest root cannot leave anything there
    (cfg / "fstab").write_text(f"{src} /srv/share none bind,ro 0 0\n")
    assert "warning" not in vs.run([bbguest, "check"], timeout=TIMEOUT).stdout
    start(vs, bbguest)
    assert gx(vs, bbguest, "/t", "write", "/srv/share/x", "x").stdout.strip() == "EROFS"
    stop(vs, bbguest)
    # a recursive bind stays writable below its top mount: ro does not make it safe
    (cfg / "fstab").write_text(f"{src} /srv/share none rbind,ro 0 0\n")
    r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
    assert f"{cfg}/fstab:1: recursive bind (ro covers only its top mount) of {src}" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)
    # on a filesystem mounted nosuid,nodev on the host: starts, and the share is writable
    safe = tmpfs_at(exposed_dir / "nosuid", "nosuid,nodev")
    (cfg / "fstab").write_text(f"{safe} /srv/share none bind 0 0\n")
    assert "warning" not in vs.run([bbguest, "check"], timeout=TIMEOUT).stdout
    start(vs, bbguest)
    assert gx(vs, bbguest, "/t", "write", "/srv/share/x", "x").stdout.strip() == "OK"
    stop(vs, bbguest)
    assert (safe / "x").read_text() == "x\n"
    # nosuid alone is enough, unless the guest may make device nodes (MKNOD): then nodev too
    nodev_missing = tmpfs_at(exposed_dir / "nosuid-only", "nosuid")
    (cfg / "fstab").write_text(f"{nodev_missing} /srv/share none bind 0 0\n")
    assert "warning" not in vs.run([bbguest, "check"], timeout=TIMEOUT).stdout
    (cfg / "bcapabilities").write_text("MKNOD\n")
    r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
    assert (f"{cfg}/fstab:1: read-write bind of {nodev_missing}: host users could run the setuid programs and "
            f"device nodes") in r.stderr and "not mounted nodev" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)
    (cfg / "bcapabilities").unlink()
    start(vs, bbguest)
    stop(vs, bbguest)
    # the same exposed directory behind a root-owned 0700 parent: starts
    behind = exposed_dir / "closed"
    behind.mkdir(mode=0o700)
    os.chmod(behind, 0o700)
    os.rename(src, behind / "share")
    (cfg / "fstab").write_text(f"{behind / 'share'} /srv/share none bind 0 0\n")
    assert "warning" not in vs.run([bbguest, "check"], timeout=TIMEOUT).stdout
    start(vs, bbguest)
    stop(vs, bbguest)
    # ... but not behind the share itself: guest root could chmod it open through the bind
    os.chmod(behind, 0o755)
    os.chmod(behind / "share", 0o700)
    r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
    assert f"{cfg}/fstab:1: read-write bind of {behind / 'share'}" in r.stderr, r.stderr
    assert_not_started(vs, bbguest)


# ---- HS-11: guest strings printed on the host -----------------------------------------------------
# vps and vserver-stat: test_stat.py test_escape_sequences_never_reach_the_terminal.

def test_hs11_status_and_list_escape_guest_strings(vs, bbguest):
    start(vs, bbguest)
    script = 'n="/tmp/$(printf "\\033]0;pwned\\007")"; cp /t "$n" && exec "$n" sleep 60'
    p = vs.popen([bbguest, "exec", "/bin/sh", "-c", script])
    try:
        assert wait_until(lambda: any(proc_stat(x) and "\x1b" in proc_stat(x)[0]
                                      for x in vs.cgroup_procs(bbguest)), timeout=15)
        for args in ([bbguest, "status"], ["list"], ["list", "--json"], [bbguest, "config"]):
            r = vs.run(args, timeout=30)
            assert "\x1b" not in r.stdout + r.stderr and "\x07" not in r.stdout + r.stderr, args
    finally:
        p.kill()
        p.communicate(timeout=30)
    stop(vs, bbguest)


def test_pr04_checked_on_the_bound_source_at_every_mount(vs, bbguest, exposed_dir):
    """The PR-04 check runs again in the guest's child on the very source it
    binds, also when a reboot inside the guest mounts it again: a host user
    who swaps the share for a link to an exposed directory meanwhile gets
    the guest stopped, not the exposed directory bound.  And a barrier above
    a mount point does not count: a bind mount of an exposed directory
    under a 0700 directory is still reachable where it comes from."""
    cfg = vs.cfg(bbguest)
    closed = exposed_dir / "closed"
    closed.mkdir(mode=0o700)
    os.chmod(closed, 0o700)
    share, open_ = closed / "share", exposed_dir / "open"
    share.mkdir(mode=0o755)
    open_.mkdir(mode=0o755)
    (cfg / "fstab").write_text(f"{share} /srv/share none bind 0 0\n")
    start(vs, bbguest)
    assert gx(vs, bbguest, "/t", "write", "/srv/share/x", "x").stdout.strip() == "OK"
    # the host side changes under the running guest, then the guest reboots
    os.rename(share, closed / "share.old")
    os.symlink(open_, share)
    gx(vs, bbguest, "/sbin/reboot", "-f", check=None, timeout=30)
    deadline = time.monotonic() + 20
    while vs.state(bbguest) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert vs.state(bbguest) is None
    log = (vs.rundir / bbguest / "console.log").read_text(errors="replace")
    assert f"fstab line 1: read-write bind of {share}: host users could run" in log, log[-2000:]
    assert not list(open_.iterdir())
    assert_not_started(vs, bbguest)
    # a bind mount under the barrier: the barrier is above its mount point
    os.unlink(share)
    bm = closed / "bm"
    bm.mkdir()
    subprocess.run(["mount", "--bind", str(open_), str(bm)], check=True)
    try:
        (cfg / "fstab").write_text(f"{bm} /srv/share none bind 0 0\n")
        r = vs.run([bbguest, "start"], check=2, timeout=TIMEOUT)
        assert f"fstab:1: read-write bind of {bm}: host users could run" in r.stderr, r.stderr
        assert_not_started(vs, bbguest)
    finally:
        subprocess.run(["umount", str(bm)], check=True)
