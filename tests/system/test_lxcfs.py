# SPDX-License-Identifier: GPL-2.0-or-later
"""LXCFS (issue 6, accounting): free, top and uptime inside a guest show the
guest.  vserver binds LXCFS's proc/{meminfo,cpuinfo,stat,uptime,loadavg,
diskstats,swaps} and sys/devices/system/cpu/online over the guest's, in the
guest's mount namespace only, when a fuse.lxcfs mount serves at the
configured place (VSERVER_LXCFS); otherwise `start` says so in one line and
the guest sees the host's figures.

The tests run a PRIVATE lxcfs (`lxcfs -f -l -p PIDFILE DIR` in a temporary
directory, our child, killed by its pid and unmounted at the end), never
the host's /var/lib/lxcfs.  Memory limits and cpusets are written straight
into the guest's cgroup (in the test's private cgroup parent)."""
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import rmtree, wait_until

# what vserver binds, as in lib/lxcfs.c
LXCFS_FILES = ("proc/meminfo", "proc/cpuinfo", "proc/stat", "proc/uptime", "proc/loadavg", "proc/diskstats",
               "proc/swaps", "sys/devices/system/cpu/online")
NOTICE = ("notice: LXCFS is not running at {dir}: free, top and uptime in {guest} show the host's figures "
          "(apt-get install lxcfs)")
LIMIT = 192 << 20          # the guest's memory limit in these tests


# ---- helpers ------------------------------------------------------------------------------

def unescape(s):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), s)


def mountinfo(text):
    """[(mount point, fstype, per-mount options)] of a mountinfo text."""
    out = []
    for ln in text.splitlines():
        f = ln.split()
        if "-" not in f:
            continue
        sep = f.index("-")
        out.append((unescape(f[4]), f[sep + 1], f[5].split(",")))
    return out


def host_mounts():
    with open("/proc/self/mountinfo") as f:
        return mountinfo(f.read())


def lxcfs_procs():
    """Pids of every lxcfs process on the host (read-only look at /proc)."""
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.readlink(f"/proc/{p}/exe") == "/usr/bin/lxcfs":
                    pids.append(int(p))
            except OSError:
                pass
    return pids


def gx(vs, name, *argv, check=0, timeout=30):
    return vs.run([name, "exec", *argv], check=check, timeout=timeout)


def guest_file(vs, name, path):
    return gx(vs, name, "/t", "cat", path).stdout


def meminfo_kb(text, key="MemTotal"):
    m = re.search(rf"^{key}:\s+(\d+) kB$", text, re.M)
    assert m, text
    return int(m.group(1))


def cg_file(vs, name, *files):
    """The first of `files` in the guest's cgroup dirs (v1 controller dirs
    or the cgroup2 one), or None."""
    for f in files:
        for d in vs.cgroup_dirs(name):
            if (d / f).is_file():
                return d / f
    return None


def set_memory_limit(vs, name, limit):
    f = cg_file(vs, name, "memory.limit_in_bytes", "memory.max")
    if f is None:
        pytest.skip("the guest's cgroup has no memory controller (memory.limit_in_bytes / memory.max)")
    f.write_text(str(limit))
    assert int(f.read_text()) == limit


def start(vs, name):
    r = vs.run([name, "start"], timeout=60)
    assert vs.state(name), (r.stdout, r.stderr)
    return r


def lxcfs_binds(vs, name):
    """{guest path: per-mount options} of the fuse.lxcfs mounts the guest sees."""
    mi = mountinfo(gx(vs, name, "/t", "mountinfo").stdout)
    binds = {}
    for mp, fstype, opts in mi:
        if fstype == "fuse.lxcfs":
            assert mp not in binds, f"{mp} bound twice:\n{mi}"
            binds[mp] = opts
    return binds


def install_host_program(root, prog):
    """Copy a host program (e.g. procps's free) and the shared libraries
    ldd names into the guest tree at the same paths: busybox's free and
    uptime ask sysinfo(2), the kernel, not /proc."""
    path = shutil.which(prog, path="/usr/bin:/bin")
    if not path or not shutil.which("ldd"):
        pytest.skip(f"{prog} (procps) or ldd is not installed on the host")
    r = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    files = [path] + re.findall(r"(/\S+) \(0x", r.stdout)
    for f in files:
        dest = Path(root) / f.lstrip("/")
        # our own test tree, but never write through a symlink in it
        for parent in list(reversed(dest.parents))[1:]:
            if parent.is_symlink():
                pytest.skip(f"{parent} is a symlink in the guest tree")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.exists():
            shutil.copy2(os.path.realpath(f), dest)
    return path


# ---- a private lxcfs -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lxcfs(tmp_path_factory):
    """A private lxcfs (loadavg virtualisation on, -l) mounted at a
    temporary directory for this module.  Stopped by its pid and unmounted
    afterwards, also on failure."""
    exe = shutil.which("lxcfs")
    if not exe:
        pytest.skip("lxcfs is not installed (apt-get install lxcfs)")
    try:
        if not stat.S_ISCHR(os.stat("/dev/fuse").st_mode):
            pytest.skip("/dev/fuse is not a character device")
    except FileNotFoundError:
        pytest.skip("/dev/fuse is missing (no FUSE)")
    base = tmp_path_factory.mktemp("lxcfs")
    mnt = base / "mnt"
    mnt.mkdir()
    log = open(base / "lxcfs.log", "w")
    # lxcfs keeps /run/lxcfs (its private controller mounts); if we made it,
    # we remove it again
    run_dir_existed = os.path.lexists("/run/lxcfs")
    proc = subprocess.Popen([exe, "-f", "-l", "-p", str(base / "lxcfs.pid"), str(mnt)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        up = wait_until(lambda: proc.poll() is not None or (
            any(mp == str(mnt) and t == "fuse.lxcfs" for mp, t, _ in host_mounts())
            and (mnt / "proc" / "meminfo").is_file()), timeout=15, interval=0.05)
        if not up or proc.poll() is not None:
            log.flush()
            pytest.skip(f"lxcfs did not come up: {(base / 'lxcfs.log').read_text()[-2000:]}")
        yield mnt
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)     # our child, by its pid
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)
        log.close()
        if any(mp == str(mnt) for mp, _, _ in host_mounts()):
            fm = shutil.which("fusermount3") or shutil.which("fusermount")
            if not fm or subprocess.run([fm, "-u", str(mnt)], check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(mnt)], check=False)
        if not run_dir_existed and not lxcfs_procs():
            for d in ("/run/lxcfs/controllers", "/run/lxcfs/root", "/run/lxcfs"):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        rmtree(base)


@pytest.fixture
def lvs(vs, lxcfs):
    """The vs world pointed at the private lxcfs."""
    vs.env["VSERVER_LXCFS"] = str(lxcfs)
    return vs


# ---- with LXCFS ------------------------------------------------------------------------------

def test_meminfo_uptime_loadavg_are_the_guests(lvs, lxcfs, bbguest):
    vs, name = lvs, bbguest
    t0 = time.monotonic()
    r = start(vs, name)
    assert "notice" not in r.stdout + r.stderr, r
    set_memory_limit(vs, name, LIMIT)

    # every file is an LXCFS bind, read-only, once
    binds = lxcfs_binds(vs, name)
    assert sorted(binds) == sorted("/" + f for f in LXCFS_FILES), binds
    for mp, opts in binds.items():
        assert {"ro", "nosuid", "nodev", "noexec"} <= set(opts), (mp, opts)
    assert gx(vs, name, "/t", "openwronly", "/proc/meminfo", check=None).stdout.strip() in ("EROFS", "EACCES")

    # memory: the limit, not the host's 24 GiB
    mem = guest_file(vs, name, "/proc/meminfo")
    assert meminfo_kb(mem) == LIMIT // 1024, mem
    assert meminfo_kb(mem, "MemFree") <= LIMIT // 1024
    with open("/proc/meminfo") as f:
        assert meminfo_kb(f.read()) > LIMIT // 1024
    # busybox top reads /proc/meminfo: used + free = the limit
    top = gx(vs, name, "/bin/busybox", "top", "-b", "-n", "1").stdout
    m = re.search(r"^Mem: (\d+)K used, (\d+)K free", top, re.M)
    assert m and int(m.group(1)) + int(m.group(2)) == LIMIT // 1024, top

    # uptime: since the guest's start, not the host's boot
    up = float(guest_file(vs, name, "/proc/uptime").split()[0])
    elapsed = time.monotonic() - t0
    assert 0 <= up <= elapsed + 1, (up, elapsed)
    with open("/proc/uptime") as f:
        host_up = float(f.read().split()[0])
    if host_up > elapsed + 120:
        assert up < host_up - 60, (up, host_up)

    # loadavg (lxcfs -l): the guest's own tasks, not the host's
    la = guest_file(vs, name, "/proc/loadavg").split()
    running, total = la[3].split("/")
    assert int(total) <= 30, la

    # procps free and uptime (Debian guests have them) read /proc
    root = vs.root(name)
    install_host_program(root, "free")
    install_host_program(root, "uptime")
    free = gx(vs, name, "/usr/bin/free", "-k").stdout
    m = re.search(r"^Mem:\s+(\d+)", free, re.M)
    assert m and int(m.group(1)) == LIMIT // 1024, free
    upt = gx(vs, name, "/usr/bin/uptime").stdout
    assert re.search(r"up\s+[0-2] min", upt), upt


def test_cpuinfo_stat_and_cpu_online_follow_the_cpuset(lvs, bbguest):
    vs, name = lvs, bbguest
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        pytest.skip("needs a host with 2 CPUs or more")
    start(vs, name)
    # without a cpuset of its own the guest sees every CPU
    assert guest_file(vs, name, "/sys/devices/system/cpu/online").strip() == \
        open("/sys/devices/system/cpu/online").read().strip()
    f = cg_file(vs, name, "cpuset.cpus")
    if f is None:
        pytest.skip("the guest's cgroup has no cpuset controller")
    # v1: the guest's processes are in its payload sub-cgroup, whose list
    # must stay a subset of the guest dir's: narrowed first (cgroup2
    # cpusets are hierarchical: the guest dir's is enough)
    if not (f.parent / "cgroup.controllers").is_file():
        (f.parent / "payload" / f.name).write_text("0")
    f.write_text("0")
    assert guest_file(vs, name, "/sys/devices/system/cpu/online").strip() == "0"
    cpuinfo = guest_file(vs, name, "/proc/cpuinfo")
    assert re.findall(r"^processor\s*:\s*(\d+)", cpuinfo, re.M) == ["0"], cpuinfo
    st = guest_file(vs, name, "/proc/stat")
    assert re.findall(r"^cpu(\d+) ", st, re.M) == ["0"], st
    # the host still sees all of them
    assert len(re.findall(r"^processor", open("/proc/cpuinfo").read(), re.M)) == ncpu


def test_stop_start_cycles_leave_no_mounts(lvs, lxcfs, bbguest):
    vs, name = lvs, bbguest

    def ours():
        return sorted((mp, t) for mp, t, _ in host_mounts()
                      if mp.startswith(str(vs.base) + "/") or (t == "fuse.lxcfs" and mp != str(lxcfs)))

    before = ours()
    for _ in range(3):
        start(vs, name)
        assert len(lxcfs_binds(vs, name)) == len(LXCFS_FILES)
        # the binds live in the guest's mount namespace only
        assert ours() == before
        vs.run([name, "stop"], timeout=120)
        assert ours() == before
    # LXCFS itself is untouched
    assert (lxcfs / "proc" / "meminfo").is_file()


def test_reboot_binds_again(lvs, bbguest):
    """A reboot inside builds the mounts afresh: the binds are there again,
    once each, and the uptime starts over."""
    vs, name = lvs, bbguest
    start(vs, name)
    st = vs.state(name)
    time.sleep(2)
    gx(vs, name, "/sbin/reboot", "-f", check=None, timeout=30)
    assert wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, st["init"]), 10), vs.state(name)
    assert wait_until(lambda: gx(vs, name, "/t", "pid", check=None).returncode == 0, timeout=30)
    assert len(lxcfs_binds(vs, name)) == len(LXCFS_FILES)
    assert float(guest_file(vs, name, "/proc/uptime").split()[0]) < 2


# ---- without LXCFS ---------------------------------------------------------------------------

def fake_lxcfs_tree(d):
    """A plain directory holding every LXCFS file, with a tiny MemTotal:
    looks like LXCFS but is no fuse.lxcfs mount, so it must not be used."""
    for f in LXCFS_FILES:
        p = d / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("MemTotal:           1234 kB\n" if f == "proc/meminfo" else "0\n")


@pytest.mark.parametrize("kind", ["empty", "fake", "none"])
def test_without_lxcfs_notice_and_host_figures(vs, bbguest, tmp_path, kind):
    name = bbguest
    d = tmp_path / "no-lxcfs"
    d.mkdir()
    if kind == "fake":
        fake_lxcfs_tree(d)
    setting = "none" if kind == "none" else str(d)
    vs.env["VSERVER_LXCFS"] = setting
    r = start(vs, name)
    notice = NOTICE.format(dir=d, guest=name)
    if kind == "none":
        assert "notice" not in r.stdout + r.stderr, r
    else:
        # one line, and the guest starts normally
        assert (r.stdout + r.stderr).count("notice:") == 1 and notice in r.stdout.splitlines(), r
    assert f"vserver '{name}' started" in r.stdout
    set_memory_limit(vs, name, LIMIT)
    assert lxcfs_binds(vs, name) == {}
    with open("/proc/meminfo") as f:
        host_total = meminfo_kb(f.read())
    assert meminfo_kb(guest_file(vs, name, "/proc/meminfo")) == host_total


def test_lxcfs_setting_is_checked(vs, bbguest, tmp_path):
    r = vs.run([bbguest, "status"], check=False, env={"VSERVER_LXCFS": "var/lib/lxcfs"})
    assert r.returncode != 0
    assert "VSERVER_LXCFS: lxcfs='var/lib/lxcfs' must be an absolute path or 'none'" in r.stderr, r
    settings = tmp_path / "settings"
    settings.write_text("lxcfs=none\n")
    r = vs.run([bbguest, "start"], env={"VSERVER_SETTINGS": str(settings)}, timeout=60)
    assert "notice" not in r.stdout + r.stderr, r
