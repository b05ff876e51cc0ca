# SPDX-License-Identifier: GPL-2.0-or-later
"""System tests for vserver: they run as root against the built binary.

Every test gets private directories through the tool's overrides
(VSERVER_CONFDIR, VSERVER_VDIRBASE, VSERVER_CACHEBASE, VSERVER_RUNDIR and
VSERVER_HOST_RESOLV_CONF), a private cgroup parent (VSERVER_CGROUP_PARENT,
"vstest-PID-N" below every hierarchy of /sys/fs/cgroup) and the vserver-init
and vserver-monitor next to the binary (VSERVER_INIT, VSERVER_MONITOR);
nothing here touches /etc/vservers,
/vservers, /var/cache/vservers, /run/vservers or the "vserver" cgroups.
After each test, the guests it left running are stopped and its cgroup
parent is removed, also when the test failed.

Environment:
  VSERVER_BIN        the binary (default: <repo>/build/vserver)
  VSERVER_INIT       the static PID 1 of sysv guests (default: vserver-init
                     next to VSERVER_BIN)
  VSERVER_MONITOR    the per-guest monitor (default: vserver-monitor next to
                     VSERVER_BIN)
  VSERVER_PROBE      the static test helper, copied into busybox guests as /t
                     (default: tests/vs-probe in VSERVER_BIN's build directory)
  VSERVER_TEST_FAST  1: skip the tests marked `slow` (real debootstrap
                     builds; they download from the host's APT mirror)
  VSERVER_TEST_CGROUP_ROOT
                     passed to every world as VSERVER_CGROUP_ROOT: on a hybrid
                     host, /sys/fs/cgroup/unified runs the whole suite on
                     cgroup2 alone (a pure v2 host's view; the limits tests
                     then fail where cgroup2 lacks their controllers)
"""
import hashlib
import itertools
import json
import select
import os
import re
import shutil
import stat
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VSERVER_BIN = Path(os.environ.get("VSERVER_BIN") or REPO / "build" / "vserver")
VSERVER_INIT = Path(os.environ.get("VSERVER_INIT") or VSERVER_BIN.parent / "vserver-init")
VSERVER_MONITOR = Path(os.environ.get("VSERVER_MONITOR") or VSERVER_BIN.parent / "vserver-monitor")
CGROOT = Path("/sys/fs/cgroup")
FAST = os.environ.get("VSERVER_TEST_FAST") == "1"
TEST_CGROUP_ROOT = os.environ.get("VSERVER_TEST_CGROUP_ROOT")

# The real paths the tests must never touch.
REAL_PATHS = ("/etc/vservers", "/vservers", "/run/vservers", "/var/cache/vservers")

FAKE_HOST_RESOLV = "# fake host resolv.conf (vserver system tests)\nnameserver 192.0.2.53\nsearch test.invalid\n"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: needs a real debootstrap build (skipped when VSERVER_TEST_FAST=1)")
    # A private base for tmp_path: other pytest runs as root on this machine
    # must not clean up (or be cleaned up by) ours.
    if not config.option.basetemp:
        config.option.basetemp = tempfile.mkdtemp(prefix="vserver-systest.")
        config._vserver_basetemp = config.option.basetemp


def pytest_unconfigure(config):
    base = getattr(config, "_vserver_basetemp", None)
    if base:
        rmtree(base)


def pytest_collection_modifyitems(config, items):
    skip_root = pytest.mark.skip(reason="the system tests must run as root")
    skip_fast = pytest.mark.skip(reason="VSERVER_TEST_FAST=1")
    for item in items:
        if os.geteuid() != 0:
            item.add_marker(skip_root)
        elif FAST and "slow" in item.keywords:
            item.add_marker(skip_fast)


# ---- helpers ----------------------------------------------------------------

def rmtree(path):
    """Remove a test tree, also when it holds immutable files, FIFOs or
    directories without permissions; never follows symlinks."""
    path = Path(path)
    if not os.path.lexists(path):
        return
    shutil.rmtree(path, ignore_errors=True)
    if os.path.lexists(path):
        subprocess.run(["chattr", "-R", "-i", "-a", str(path)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], check=False)


def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def stat_entry(p, content=True, dir_mtime=True):
    st = os.lstat(p)
    e = {
        "type": stat.S_IFMT(st.st_mode),
        "mode": stat.S_IMODE(st.st_mode),
        "uid": st.st_uid,
        "gid": st.st_gid,
        "ino": st.st_ino,
        "nlink": st.st_nlink,
        "mtime": st.st_mtime_ns,
    }
    if stat.S_ISDIR(st.st_mode) and not dir_mtime:
        del e["mtime"]
    if stat.S_ISREG(st.st_mode):
        e["size"] = st.st_size
        # huge sparse files are compared by size and mtime only
        if content and st.st_size <= 64 << 20:
            e["sha"] = file_digest(p)
    elif stat.S_ISLNK(st.st_mode):
        e["link"] = os.readlink(p)
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        e["rdev"] = st.st_rdev
    return e


def snapshot(*roots, exclude=(), content=True, dir_mtime=True):
    """Every entry below the roots (roots included): type, mode, owner,
    inode, mtime, content hash of regular files, link targets.  Never
    follows symlinks and never opens anything but regular files."""
    snap = {}
    for root in roots:
        root = str(root)
        if not os.path.lexists(root):
            snap[root] = None
            continue
        stack = [root]
        while stack:
            p = stack.pop()
            if any(p == str(x) or p.startswith(str(x) + "/") for x in exclude):
                continue
            try:
                e = stat_entry(p, content, dir_mtime)
            except FileNotFoundError:
                continue
            snap[p] = e
            if e["type"] == stat.S_IFDIR:
                for n in sorted(os.listdir(p)):
                    stack.append(os.path.join(p, n))
    return snap


def snapshot_diff(a, b):
    lines = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            lines.append(f"{k}: {a.get(k)} -> {b.get(k)}")
    return "\n".join(lines)


def make_tarball(src, dest, compression=None):
    """Pack the contents of src (., numeric owners, xattrs) into dest."""
    flag = {None: [], "gz": ["-z"], "xz": ["-J"], "zst": ["--zstd"]}[compression]
    subprocess.run(["tar", "-C", str(src), "--numeric-owner", "--xattrs", "--xattrs-include=*",
                    *flag, "-cpf", str(dest), "."], check=True)
    return Path(dest)


# ---- cgroups and processes ---------------------------------------------------

_cgparent_seq = itertools.count(1)


def new_cgroup_parent():
    """A cgroup parent name private to one VS world of this pytest process."""
    return f"vstest-{os.getpid()}-{next(_cgparent_seq)}"


def cgroup_hierarchies():
    """The cgroup hierarchies mounted under /sys/fs/cgroup: the root itself
    on a pure cgroup v2 host, else every mounted v1 hierarchy and the
    unified one (co-mounted controllers reached through symlinks once)."""
    if (CGROOT / "cgroup.controllers").is_file():
        return [CGROOT]
    out, seen = [], set()
    if TEST_CGROUP_ROOT and not TEST_CGROUP_ROOT.startswith(str(CGROOT) + "/"):
        out.append(Path(TEST_CGROUP_ROOT))  # a cgroup2 mount elsewhere
    if not CGROOT.is_dir():
        return out
    for e in sorted(CGROOT.iterdir()):
        if e.is_symlink() or not e.is_dir() or not (e / "cgroup.procs").is_file():
            continue
        st = os.stat(e)
        if st.st_dev in seen:
            continue
        seen.add(st.st_dev)
        out.append(e)
    return out


def cgroup_procs(d):
    """Pids in the cgroup directory d and below (ints); [] if it is gone."""
    pids = []
    d = Path(d)
    if not d.is_dir():
        return pids
    for dirpath, dirnames, _ in os.walk(d):
        try:
            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                pids += [int(x) for x in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, OSError):
            pass
    return sorted(set(pids))


def proc_stat(pid):
    """(comm, state, starttime) of a pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return comm, rest[0], int(rest[19])


def pid_alive(pid, start=None):
    """The pid exists, is not a zombie and (if given) has that start time."""
    st = proc_stat(pid)
    return st is not None and st[1] != "Z" and (start is None or st[2] == start)


def mounts_under(base):
    """Mount points at or below `base` in this mount namespace."""
    base = str(base).rstrip("/")
    out = []
    with open("/proc/self/mountinfo") as f:
        for ln in f:
            mp = ln.split()[4]
            mp = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), mp)
            if mp == base or mp.startswith(base + "/"):
                out.append(mp)
    return out


def wait_until(cond, timeout=10.0, interval=0.02):
    """Poll cond() until it is true or the timeout passes; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def kill_verified(pid, start, comm=None, sig=signal.SIGKILL):
    """Signal pid only if it still is the process we mean: same start time
    (and comm).  Through a pidfd, so the pid cannot be reused in between."""
    try:
        fd = os.pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return False
    try:
        st = proc_stat(pid)
        if st is None or st[2] != start or (comm is not None and st[0] != comm):
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        os.close(fd)


class VS:
    """One private vserver world: confdir, vdirbase, cachebase, rundir and a
    fake host resolv.conf below `base`, a private cgroup parent, and a
    runner for the binary."""

    def __init__(self, base, binary=VSERVER_BIN, cgroup_parent=None, init=None):
        self.base = Path(base)
        self.bin = Path(binary)
        self.cgparent = cgroup_parent or new_cgroup_parent()
        assert "/" not in self.cgparent and self.cgparent not in (".", "..", "vserver")
        default = self.bin == VSERVER_BIN
        self.init = Path(init) if init else VSERVER_INIT if default else self.bin.parent / "vserver-init"
        self.monitor = VSERVER_MONITOR if default else self.bin.parent / "vserver-monitor"
        self.confdir = self.base / "etc-vservers"
        self.vdirbase = self.base / "vservers"
        self.cachebase = self.base / "cache-vservers"
        self.rundir = self.base / "run-vservers"
        self.host_resolv = self.base / "host-resolv.conf"
        self.base.mkdir(parents=True, exist_ok=True)
        self.host_resolv.write_text(FAKE_HOST_RESOLV)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("VSERVER_") and k not in ("ARCH",)}
        env.update({
            "VSERVER_CONFDIR": str(self.confdir),
            "VSERVER_VDIRBASE": str(self.vdirbase),
            "VSERVER_CACHEBASE": str(self.cachebase),
            "VSERVER_RUNDIR": str(self.rundir),
            "VSERVER_HOST_RESOLV_CONF": str(self.host_resolv),
            "VSERVER_CGROUP_PARENT": self.cgparent,
            **({"VSERVER_CGROUP_ROOT": TEST_CGROUP_ROOT} if TEST_CGROUP_ROOT else {}),
            "VSERVER_INIT": str(self.init),
            "VSERVER_MONITOR": str(self.monitor),
            "LC_ALL": "C",
        })
        self.env = env
        for p in (self.confdir, self.vdirbase, self.cachebase, self.rundir):
            assert str(p).startswith(str(self.base) + "/")
            assert not any(str(p).startswith(r) for r in REAL_PATHS)

    # paths
    def cfg(self, name):
        return self.confdir / name

    def root(self, name):
        return self.vdirbase / name

    def roots(self):
        return (self.confdir, self.vdirbase, self.cachebase, self.rundir)

    # running
    def cmd(self, args, argv0=None):
        args = [str(a) for a in args]
        return [str(argv0 or self.bin), *args]

    def run(self, args, input=None, check=True, timeout=120, env=None, stdin=None, argv0=None):
        """Run the binary.  check: True (exit 0), an int (that exit code),
        a tuple of ints, or False/None (no check).  Output is text (bytes
        that are not UTF-8 are escaped)."""
        e = dict(self.env)
        if env:
            e.update(env)
        self._guard_network(args)
        kw = {}
        if input is not None:
            kw["input"] = input
        else:
            kw["stdin"] = stdin if stdin is not None else subprocess.DEVNULL
        r = subprocess.run(self.cmd(args, argv0), env=e, capture_output=True, text=True,
                           errors="backslashreplace", timeout=timeout, **kw)
        if check is True:
            check = 0
        if check is not False and check is not None:
            want = check if isinstance(check, (tuple, list, set)) else (check,)
            assert r.returncode in want, (
                f"{' '.join(r.args)}\nexit {r.returncode}, expected {check}\n"
                f"--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}")
        return r

    def _guard_network(self, args):
        """Safety: a guest whose start changes the network (addresses,
        veths, nftables) may only be started inside a test's own network
        namespace (test_net.py's nvs fixture wraps cmd for that)."""
        a = [str(x) for x in args]
        if len(a) < 2 or a[1] not in ("start", "restart") or getattr(self, "cmd_prefix", None):
            return
        cfg = self.cfg(a[0])
        mode = (cfg / "net" / "mode").read_text().strip() if (cfg / "net" / "mode").is_file() else None
        ifaces = (cfg / "interfaces").is_dir() and any((cfg / "interfaces").iterdir())
        assert mode in (None, "none", "host") and not ifaces, (
            f"refusing to start guest {a[0]} with a network configuration outside a test network namespace")

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="backslashreplace", **kw)

    def build(self, name, *opts, method="skeleton", margs=(), check=True, timeout=600, env=None):
        args = [name, "build", *opts, "-m", method]
        if margs:
            args += ["--", *margs]
        return self.run(args, check=check, timeout=timeout, env=env)

    def config_json(self, name):
        import json
        return json.loads(self.run([name, "config", "--json"]).stdout)

    def list_json(self):
        import json
        return json.loads(self.run(["list", "--json"]).stdout)

    def snapshot(self, exclude_locks=True, content=True, dir_mtime=True):
        ex = (self.rundir / ".locks",) if exclude_locks else ()
        return snapshot(*self.roots(), exclude=ex, content=content, dir_mtime=dir_mtime)

    def leftovers(self, name):
        """Staging directories of a build of `name`."""
        out = []
        for d in (self.confdir, self.vdirbase):
            if d.is_dir():
                out += sorted(str(p) for p in d.iterdir() if p.name.startswith(f".{name}.build-"))
        return out

    # running guests
    def state(self, name):
        """RUNDIR/NAME/state as a dict (monitor, monitor_start, init,
        init_start, context, started), or None."""
        try:
            text = (self.rundir / name / "state").read_text()
        except FileNotFoundError:
            return None
        d = {}
        for ln in text.splitlines():
            f = ln.split()
            if f and f[0] in ("monitor", "init") and len(f) == 3:
                d[f[0]], d[f[0] + "_start"] = int(f[1]), int(f[2])
            elif f and len(f) == 2:
                d[f[0]] = int(f[1])
        return d

    def cgroup_parent_dirs(self):
        """This world's cgroup parent in every hierarchy (existing or not)."""
        return [h / self.cgparent for h in cgroup_hierarchies()]

    def cgroup_dirs(self, name):
        """The existing cgroup directories of guest `name`."""
        return [d / name for d in self.cgroup_parent_dirs() if (d / name).is_dir()]

    def cgroup_procs(self, name=None):
        """Pids in the cgroups of guest `name` (default: of every guest of
        this world), in any hierarchy."""
        pids = set()
        for d in self.cgroup_parent_dirs():
            pids.update(cgroup_procs(d / name if name else d))
        return sorted(pids)

    def cleanup(self):
        """Stop what this world left running and remove its cgroup parent.
        Never raises; returns a list of problems (for a report)."""
        problems = []
        names = set()
        for d in (self.rundir, self.confdir):
            if d.is_dir():
                names.update(p.name for p in d.iterdir() if not p.name.startswith("."))
        for name in sorted(names):
            st = self.state(name)
            if st is None or "monitor" not in st:
                continue
            try:
                if pid_alive(st["monitor"], st["monitor_start"]):
                    self.run([name, "stop", "--timeout", "5"], check=False, timeout=60)
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                problems.append(f"stop {name}: {e!r}")
            # the monitor, if it is still there (verified: start time and name)
            if pid_alive(st["monitor"], st["monitor_start"]):
                problems.append(f"{name}: monitor {st['monitor']} still running after stop")
                kill_verified(st["monitor"], st["monitor_start"], "vserver-mon")
        # anything left in our private cgroups is ours: kill it by pid
        for attempt in range(50):
            pids = self.cgroup_procs()
            if not pids:
                break
            if attempt == 0:
                problems.append(f"processes left in cgroup parent {self.cgparent}: {pids}")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for parent in self.cgroup_parent_dirs():
            if not parent.is_dir():
                continue
            subs = []
            for dirpath, dirnames, _ in os.walk(parent):
                subs += [os.path.join(dirpath, n) for n in dirnames]
            for d in sorted(subs, key=len, reverse=True) + [str(parent)]:
                for attempt in range(50):
                    try:
                        os.rmdir(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError as e:
                        if attempt == 49:
                            problems.append(f"rmdir {d}: {e}")
                        time.sleep(0.05)
        # a guest's disk image stays mounted on its root after stop (by
        # design): this world's mounts go before its directories do
        for mp in sorted(mounts_under(self.base), key=len, reverse=True):
            r = subprocess.run(["umount", mp], capture_output=True, text=True)
            if r.returncode:
                problems.append(f"umount {mp}: {r.stderr.strip()}")
                subprocess.run(["umount", "-l", mp], capture_output=True)
        return problems


def assert_no_guest(vs, name):
    assert not os.path.lexists(vs.cfg(name)), f"{vs.cfg(name)} exists"
    assert not os.path.lexists(vs.root(name)), f"{vs.root(name)} exists"
    assert vs.leftovers(name) == [], vs.leftovers(name)


# ---- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="session")
def vserver_bin():
    assert VSERVER_BIN.is_file() and os.access(VSERVER_BIN, os.X_OK), (
        f"{VSERVER_BIN} is not an executable; build it or set VSERVER_BIN")
    return VSERVER_BIN


@pytest.fixture
def vs(tmp_path, vserver_bin):
    """A private vserver world (see VS).  Afterwards, also on failure: the
    guests left running are stopped (stop --timeout 5), the private cgroup
    parent is removed from every hierarchy, then the directories."""
    w = VS(tmp_path / "w", vserver_bin)
    try:
        yield w
    finally:
        problems = w.cleanup()
        if problems:
            sys.stderr.write("vs fixture cleanup: " + "; ".join(problems) + "\n")
        rmtree(w.base)


@pytest.fixture
def host_dir(tmp_path):
    """A directory that stands for host files: outside every guest tree."""
    d = tmp_path / "host"
    d.mkdir()
    try:
        yield d
    finally:
        rmtree(d)


# PR-04: a read-write shared folder (fstab bind) of a privileged guest must lie
# behind a root-owned directory closed to others (mode 0700) or on a nosuid
# filesystem, else start refuses it.  pytest's tmp_path is such a barrier
# (/tmp/pytest-of-root is 0700), so host_dir and vs.base already are; these
# two make the difference explicit.

def shared_dir(parent, name="shared"):
    """PARENT/barrier (root, 0700)/NAME (0755): a shared folder behind a barrier."""
    barrier = Path(parent) / "barrier"
    barrier.mkdir(mode=0o700, exist_ok=True)
    os.chown(barrier, 0, 0)
    os.chmod(barrier, 0o700)
    d = barrier / name
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def exposed_dir():
    """A directory (0755) that every host user can reach, with no barrier
    above it, on a filesystem that is not mounted nosuid: a privileged
    guest's read-write share of it is refused."""
    parent = next((p for p in (tempfile.gettempdir(), "/var/tmp")
                   if not os.statvfs(p).f_flag & os.ST_NOSUID), None)
    assert parent, "no temporary directory on a filesystem without nosuid"
    d = Path(tempfile.mkdtemp(prefix="vserver-exposed.", dir=parent))
    try:
        os.chmod(d, 0o755)
        for a in (d, *d.parents):
            st = os.stat(a)
            assert not (st.st_uid == 0 and st.st_mode & 0o011 == 0), f"{a} is a barrier (mode {st.st_mode:o})"
        yield d
    finally:
        rmtree(d)


def debootstrap_guest(tmp_path_factory, vserver_bin, name, include, suite="bookworm"):
    """A real debootstrap minbase guest of `suite` (mirror: the host's APT
    source) with the packages `include`, and its root packed as a tarball
    for the template method: a generator for the session fixtures below."""
    if FAST:
        pytest.skip("VSERVER_TEST_FAST=1")
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed")
    base = tmp_path_factory.mktemp(name)
    w = VS(base / "w", vserver_bin)
    try:
        t0 = time.monotonic()
        r = w.run([name, "build", "-m", "debootstrap", "--", "-d", suite, "--",
                   "--variant=minbase", f"--include={include}"], check=False, timeout=3600)
        elapsed = time.monotonic() - t0
        if r.returncode != 0:
            pytest.fail(f"debootstrap build failed (exit {r.returncode})\n--- stdout\n{r.stdout[-5000:]}\n"
                        f"--- stderr\n{r.stderr[-5000:]}")
        kind = "zst" if shutil.which("zstd") else "gz"
        tarball = make_tarball(w.root(name), base / f"{name}-{suite}-minbase.tar.{kind}", kind)
        yield types.SimpleNamespace(vs=w, name=name, root=w.root(name), cfg=w.cfg(name),
                                    build=r, elapsed=elapsed, tarball=tarball)
    finally:
        w.cleanup()
        rmtree(base)


@pytest.fixture(scope="session")
def debian_guest(tmp_path_factory, vserver_bin):
    """ONE minbase bookworm guest plus systemd-sysv per test run, the
    smallest Debian that boots its own systemd as PID 1 (test_debian.py),
    and rsyslog, the syslog daemon of Debian's default install.
    Read-only for the tests."""
    yield from debootstrap_guest(tmp_path_factory, vserver_bin, "deb", "systemd-sysv,rsyslog")


@pytest.fixture(scope="session")
def debian_rootfs_tarball(debian_guest):
    return debian_guest.tarball


@pytest.fixture(scope="session")
def trixie_systemd_tarball(tmp_path_factory, vserver_bin):
    """ONE minbase Debian 13 (trixie) guest plus systemd-sysv per test run,
    as a tarball (test_debian_trixie.py): systemd 257, and /tmp on a tmpfs
    by its own tmp.mount."""
    yield from (g.tarball for g in debootstrap_guest(tmp_path_factory, vserver_bin, "trx", "systemd-sysv",
                                                      suite="trixie"))


@pytest.fixture(scope="session")
def debian_sysvinit_tarball(tmp_path_factory, vserver_bin):
    """ONE minbase bookworm guest with sysvinit (and cron, a daemon of
    runlevels 2-5) per test run, as a tarball (test_debian_sysv.py)."""
    yield from (g.tarball for g in debootstrap_guest(tmp_path_factory, vserver_bin, "dsv",
                                                      "sysvinit-core,cron"))


class FakeRunning:
    """Make vserver believe a guest is running: a state file in the run
    directory naming a live process (a `sleep` we start) as its monitor."""

    def __init__(self, vs, name):
        self.vs, self.name = vs, name
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
        pid = self.proc.pid
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        start = data[data.rindex(")") + 2:].split()[19]
        d = self.vs.rundir / self.name
        self.vs.rundir.mkdir(mode=0o700, exist_ok=True)
        d.mkdir(mode=0o700, exist_ok=True)
        (d / "state").write_text(f"monitor {pid} {start}\ninit {pid} {start}\ncontext 40000\n"
                                 f"started {int(time.time())}\n")
        r = self.vs.run([self.name, "running"], check=False)
        if r.returncode != 0:
            self.__exit__(None, None, None)
            pytest.fail("the fake running state is not recognised (has the state file format changed?)")
        return self

    def __exit__(self, *exc):
        state = self.vs.rundir / self.name / "state"
        if state.exists():
            state.unlink()
        self.proc.kill()      # only the process we started, by its pid
        self.proc.wait()
        return False


# ---- a read-only host: for the cases that point at the real / -----------------------------

DRIVER = textwrap.dedent(r'''
    import json, os, subprocess, sys
    cfg = json.loads(sys.argv[1])
    base = cfg["base"]
    res = {"steps": []}
    def sh(*a):
        return subprocess.run(list(a), capture_output=True, text=True, errors="backslashreplace")
    r = sh("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", base)
    if r.returncode:
        print(json.dumps({"setup": "tmpfs: " + r.stderr})); sys.exit(0)
    env = dict(os.environ)
    env.update({"VSERVER_CONFDIR": base + "/etc-vservers", "VSERVER_VDIRBASE": base + "/vservers",
                "VSERVER_CACHEBASE": base + "/cache-vservers", "VSERVER_RUNDIR": base + "/run-vservers",
                "VSERVER_HOST_RESOLV_CONF": base + "/resolv.conf", "LC_ALL": "C"})
    with open(base + "/resolv.conf", "w") as f:
        f.write(cfg["resolv"])
    r = sh("mount", "-o", "remount,bind,ro", "/")
    if r.returncode:
        print(json.dumps({"setup": "remount: " + r.stderr})); sys.exit(0)
    probe = "/.vserver-test-ro-probe"
    try:
        open(probe, "w").close()
        os.unlink(probe)
        print(json.dumps({"setup": "/ is still writable"})); sys.exit(0)
    except OSError:
        pass
    for step in cfg["steps"]:
        if step[0] == "plant":
            os.unlink(base + "/vservers/" + step[1] + "/etc/hostname")
            os.unlink(base + "/vservers/" + step[1] + "/etc/hosts")
            os.unlink(base + "/vservers/" + step[1] + "/etc/resolv.conf")
            os.unlink(base + "/vservers/" + step[1] + "/etc/mtab")
            os.rmdir(base + "/vservers/" + step[1] + "/etc")
            os.symlink("/", base + "/vservers/" + step[1] + "/etc")
            res["steps"].append({"argv": step, "rc": 0, "out": "", "err": ""})
            continue
        if step[0] == "ln":
            os.unlink(base + "/" + step[2])
            os.symlink(step[1], base + "/" + step[2])
            res["steps"].append({"argv": step, "rc": 0, "out": "", "err": ""})
            continue
        try:
            p = subprocess.run([cfg["bin"], *step], env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, errors="backslashreplace", timeout=60)
            res["steps"].append({"argv": step, "rc": p.returncode, "out": p.stdout, "err": p.stderr})
        except subprocess.TimeoutExpired:
            res["steps"].append({"argv": step, "rc": "timeout", "out": "", "err": ""})
        res.setdefault("listing", {})[" ".join(step)] = sorted(os.listdir(base + "/vservers")) \
            if os.path.isdir(base + "/vservers") else []
    print(json.dumps(res))
''')


def run_with_readonly_host(vs, tmp_path, steps):
    base = tmp_path / "rofs"
    base.mkdir()
    drv = tmp_path / "driver.py"
    drv.write_text(DRIVER)
    cfg = {"base": str(base), "bin": str(vs.bin), "resolv": FAKE_HOST_RESOLV, "steps": steps}
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, str(drv), json.dumps(cfg)],
                       capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if "setup" in res:
        pytest.skip(f"cannot make / read-only in a private mount namespace: {res['setup']}")
    return res["steps"]


def no_erofs(step):
    text = step["out"] + step["err"]
    assert step["rc"] != "timeout", step
    assert "Read-only file system" not in text, f"{step['argv']} tried to write the host:\n{text}"


@pytest.fixture
def need_unshare():
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")


# ---- busybox test guests: busybox-static plus the vs-probe helper as /t --------------------

PAYLOAD = REPO / "tests" / "payload"
VSERVER_PROBE = Path(os.environ.get("VSERVER_PROBE") or VSERVER_BIN.parent / "tests" / "vs-probe")
BUSYBOX = Path("/bin/busybox")


def elf_is_static(path):
    """True if `path` is an ELF file without a program interpreter (a
    static or static-pie executable): it runs in a guest without a libc."""
    import struct
    with open(path, "rb") as f:
        h = f.read(64)
        if len(h) < 52 or h[:4] != b"\x7fELF" or h[4] not in (1, 2) or h[5] not in (1, 2):
            return False
        end = "<" if h[5] == 1 else ">"
        if h[4] == 2:
            phoff, = struct.unpack(end + "Q", h[32:40])
            phentsize, phnum = struct.unpack(end + "HH", h[54:58])
        else:
            phoff, = struct.unpack(end + "I", h[28:32])
            phentsize, phnum = struct.unpack(end + "HH", h[42:46])
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, = struct.unpack(end + "I", f.read(4))
            if p_type == 3:         # PT_INTERP
                return False
        return True


@pytest.fixture(scope="session")
def vs_probe():
    """The built vs-probe (tests/payload/probe.c), a static executable."""
    p = VSERVER_PROBE
    assert p.is_file() and os.access(p, os.X_OK), (
        f"{p} is not an executable; build the project (ninja -C BUILDDIR) or set VSERVER_PROBE")
    assert elf_is_static(p), f"{p} is not statically linked"
    return p


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory, vs_probe):
    """ONE tiny guest root per test run, from tests/payload/make-busybox-rootfs.sh
    (busybox-static, sysv rc scripts with a marker service, the probe as /t).
    Read-only for the tests."""
    if not BUSYBOX.is_file():
        pytest.skip("busybox-static is not installed (/bin/busybox)")
    if not elf_is_static(BUSYBOX):
        pytest.skip(f"{BUSYBOX} is not statically linked (install busybox-static)")
    base = tmp_path_factory.mktemp("busybox")
    root = base / "rootfs"
    r = subprocess.run(["sh", str(PAYLOAD / "make-busybox-rootfs.sh"), str(root), str(vs_probe)],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        pytest.fail(f"make-busybox-rootfs.sh failed (exit {r.returncode})\n{r.stdout}{r.stderr}")
    try:
        yield root
    finally:
        rmtree(base)


@pytest.fixture(scope="session")
def busybox_rootfs_tarball(busybox_rootfs):
    """busybox_rootfs packed as a .tar.gz (numeric owners) for `-m template`."""
    tarball = busybox_rootfs.parent / "busybox-rootfs.tar.gz"
    if not tarball.exists():
        make_tarball(busybox_rootfs, tarball, "gz")
    return tarball


@pytest.fixture
def bbguest(vs, busybox_rootfs_tarball):
    """A guest named 'bb' built from the busybox tarball in this test's
    private vserver world (init style sysv: it has /etc/init.d/rc).  Returns
    the name.  If the test left it running, it is stopped afterwards."""
    name = "bb"
    vs.build(name, method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
    try:
        yield name
    finally:
        if vs.run([name, "running"], check=False, timeout=30).returncode == 0:
            vs.run([name, "stop", "--timeout", "10"], check=False, timeout=60)


class Background:
    """`vserver NAME exec ARGV` left running; its output lines can be
    awaited.  Only the vserver process the test started is ever killed
    (what runs in the guest goes with the guest's stop)."""

    def __init__(self, vs, name, *argv):
        self.p = vs.popen([name, "exec", *argv])

    def line(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], 0.2)
            if r:
                return self.p.stdout.readline().strip()
            if self.p.poll() is not None:
                break
        pytest.fail(f"no output from {self.p.args} (exit {self.p.poll()}): "
                    f"{self.p.stderr.read() if self.p.poll() is not None else ''}")

    def running(self):
        return self.p.poll() is None

    def wait(self, timeout=60):
        return self.p.wait(timeout=timeout)

    def finish(self, timeout=60):
        """Wait for it to end (killed if it does not within `timeout`)."""
        try:
            self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.stop()

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (self.p.stdout, self.p.stderr):
            if f and not f.closed:
                f.close()


@pytest.fixture
def bg():
    """bg(vs, NAME, ARGV...): a Background exec, stopped after the test."""
    started = []

    def make(vs, name, *argv):
        b = Background(vs, name, *argv)
        started.append(b)
        return b
    try:
        yield make
    finally:
        for b in started:
            b.stop()
