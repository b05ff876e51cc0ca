# SPDX-License-Identifier: GPL-2.0-or-later
"""System tests for vserver: they run as root against the built binary.

Every test gets private directories through the tool's overrides
(VSERVER_CONFDIR, VSERVER_VDIRBASE, VSERVER_CACHEBASE, VSERVER_RUNDIR and
VSERVER_HOST_RESOLV_CONF); nothing here touches /etc/vservers, /vservers,
/var/cache/vservers or /run/vservers.

Environment:
  VSERVER_BIN        the binary (default: <repo>/build/vserver)
  VSERVER_TEST_FAST  1: skip the tests marked `slow` (real debootstrap
                     builds; they download from the host's APT mirror)
"""
import hashlib
import json
import os
import shutil
import stat
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
FAST = os.environ.get("VSERVER_TEST_FAST") == "1"

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


class VS:
    """One private vserver world: confdir, vdirbase, cachebase, rundir and a
    fake host resolv.conf below `base`, and a runner for the binary."""

    def __init__(self, base, binary=VSERVER_BIN):
        self.base = Path(base)
        self.bin = Path(binary)
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
    w = VS(tmp_path / "w", vserver_bin)
    try:
        yield w
    finally:
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


@pytest.fixture(scope="session")
def debian_guest(tmp_path_factory, vserver_bin):
    """ONE real debootstrap minbase bookworm guest per test run (mirror:
    the host's APT source), and its root packed as a tarball for the
    template method.  Read-only for the tests."""
    if FAST:
        pytest.skip("VSERVER_TEST_FAST=1")
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed")
    base = tmp_path_factory.mktemp("debian")
    w = VS(base / "w", vserver_bin)
    try:
        t0 = time.monotonic()
        r = w.run(["deb", "build", "-m", "debootstrap", "--", "-d", "bookworm", "--", "--variant=minbase"],
                  check=False, timeout=3600)
        elapsed = time.monotonic() - t0
        if r.returncode != 0:
            pytest.fail(f"debootstrap build failed (exit {r.returncode})\n--- stdout\n{r.stdout[-5000:]}\n"
                        f"--- stderr\n{r.stderr[-5000:]}")
        if shutil.which("zstd"):
            tarball = make_tarball(w.root("deb"), base / "debian-bookworm-minbase.tar.zst", "zst")
        else:
            tarball = make_tarball(w.root("deb"), base / "debian-bookworm-minbase.tar.gz", "gz")
        yield types.SimpleNamespace(vs=w, name="deb", root=w.root("deb"), cfg=w.cfg("deb"),
                                    build=r, elapsed=elapsed, tarball=tarball)
    finally:
        rmtree(base)


@pytest.fixture(scope="session")
def debian_rootfs_tarball(debian_guest):
    return debian_guest.tarball


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
