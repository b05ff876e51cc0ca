# SPDX-License-Identifier: GPL-2.0-or-later
"""vserver-autostart: dependency order, parallelism, refusals, dry run;
the systemd units and the sysv init script.

The guests are busybox guests (sysv style).  Each has an extra rc script:
/etc/rc3.d/S50stamp appends "start UPTIME" and /etc/rc6.d/K50stamp appends
"stop UPTIME" to /var/log/stamp in the guest tree (UPTIME: /proc/uptime,
the host's clock, shared by all guests).  The start order is also read
from the recorded start time of each guest's PID 1 (state file), which is
set before `vserver NAME start` returns."""
import fcntl
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, VSERVER_BIN

STAMP = """#!/bin/sh
mkdir -p /var/log
read up idle </proc/uptime
echo "${1:-start} $up" >>/var/log/stamp
"""


@pytest.fixture
def auto(vs, tmp_path):
    """vs plus: `auto.run(args, ...)` runs the binary as vserver-autostart,
    `auto.guest(name, mark=, depends=, disabled=)` builds a busybox guest."""
    link = tmp_path / "bin" / "vserver-autostart"
    link.parent.mkdir()
    link.symlink_to(vs.bin)

    class A:
        pass

    a = A()
    a.vs = vs

    def run(args, check=True, timeout=180):
        return vs.run(args, argv0=link, check=check, timeout=timeout)

    a.run = run
    a.link = link
    return a


def make_guest(vs, tarball, name, mark="default", depends=(), disabled=False):
    vs.build(name, method="template", margs=("-t", tarball), timeout=120)
    cfg = vs.cfg(name)
    (cfg / "apps" / "init").mkdir(parents=True, exist_ok=True)
    if mark:
        (cfg / "apps" / "init" / "mark").write_text(mark + "\n")
    if depends:
        (cfg / "apps" / "init" / "depends").write_text("".join(d + "\n" for d in depends))
    if disabled:
        (cfg / "disabled").write_text("")
    root = vs.root(name)
    stamp = root / "etc" / "init.d" / "stamp"
    stamp.write_text(STAMP)
    stamp.chmod(0o755)
    os.symlink("../init.d/stamp", root / "etc" / "rc3.d" / "S50stamp")
    os.symlink("../init.d/stamp", root / "etc" / "rc6.d" / "K50stamp")


def stamps(vs, name, what):
    p = vs.root(name) / "var" / "log" / "stamp"
    if not p.exists():
        return []
    return [float(ln.split()[1]) for ln in p.read_text().splitlines() if ln.split()[0] == what]


def running(vs, name):
    return vs.run([name, "running"], check=False, timeout=30).returncode == 0


def init_start(vs, name):
    return vs.state(name)["init_start"]


def results(out):
    """name -> result word, in output order: [(word, name)]"""
    res = []
    for ln in out.splitlines():
        m = re.match(r"^(started|stopped|FAILED|skipped|skipping) ([a-z0-9_.-]+)", ln)
        if m:
            res.append((m.group(1), m.group(2)))
    return res


def hold_lock(vs, name):
    """Hold guest `name`'s lock (RUNDIR/.locks/NAME): its start waits."""
    d = vs.rundir / ".locks"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(vs.rundir, 0o700)
    os.chmod(d, 0o700)
    fd = os.open(d / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@pytest.fixture
def graph(auto, busybox_rootfs_tarball):
    """a depends on b; c independent; d depends on a.  Plus an unmarked
    guest u (not selected)."""
    vs = auto.vs
    make_guest(vs, busybox_rootfs_tarball, "b")
    make_guest(vs, busybox_rootfs_tarball, "a", depends=["b"])
    make_guest(vs, busybox_rootfs_tarball, "c")
    make_guest(vs, busybox_rootfs_tarball, "d", depends=["a"])
    make_guest(vs, busybox_rootfs_tarball, "u", mark=None)
    return auto


def test_dry_run_waves(graph):
    vs = graph.vs
    r = graph.run(["--dry-run", "start"])
    assert r.stdout.splitlines() == ["wave 1: b c", "wave 2: a", "wave 3: d"], r.stdout
    r = graph.run(["-n", "stop"])
    assert r.stdout.splitlines() == ["wave 1: c d", "wave 2: a", "wave 3: b"], r.stdout
    for n in "abcdu":
        assert not running(vs, n)
    assert not (vs.rundir / "a").exists()


def test_start_order_parallel_and_stop_reverse(graph):
    vs = graph.vs
    # b's start waits on its lock for 2 s: c (independent, same wave) must
    # start and finish meanwhile, while a and d wait for b.
    fd = hold_lock(vs, "b")
    try:
        p = subprocess.Popen(vs.cmd(["-j", "4", "start"], argv0=graph.link), env=vs.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(2)
        assert running(vs, "c"), "c did not start while b was still starting"
        assert not running(vs, "a") and not running(vs, "d")
    finally:
        os.close(fd)
    out, err = p.communicate(timeout=180)
    assert p.returncode == 0, out + err
    res = results(out)
    assert [n for w, n in res] == ["c", "b", "a", "d"], out
    assert all(w == "started" for w, n in res), out
    assert re.search(r"^started a \([0-9]+\.[0-9] s\)$", out, re.M), out
    for n in "abcd":
        assert running(vs, n), n
    assert not running(vs, "u")
    # a's PID 1 was created after b's start returned, d's after a's
    assert init_start(vs, "b") <= init_start(vs, "a") <= init_start(vs, "d")
    assert init_start(vs, "c") <= init_start(vs, "a")
    assert wait_for_stamps(vs, "abcd", "start")

    # starting again: everything is already running
    r = graph.run(["start"])
    assert r.stdout.count("already running") == 4, r.stdout

    r = graph.run(["stop"], timeout=300)
    res = results(r.stdout)
    assert sorted(n for w, n in res) == ["a", "b", "c", "d"], r.stdout
    assert all(w == "stopped" for w, n in res), r.stdout
    order = [n for w, n in res]
    assert order.index("d") < order.index("a") < order.index("b"), r.stdout
    for n in "abcd":
        assert not running(vs, n)
    # the guests' own shutdown scripts ran in reverse dependency order
    t = {n: stamps(vs, n, "stop") for n in "abd"}
    assert all(len(v) == 1 for v in t.values()), t
    assert t["d"][0] <= t["a"][0] <= t["b"][0], t
    # stopping stopped guests is fine
    r = graph.run(["stop"])
    assert r.stdout.count("not running") == 4, r.stdout


def wait_for_stamps(vs, names, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(stamps(vs, n, what) for n in names):
            return True
        time.sleep(0.1)
    return False


def test_sequential_j1(graph):
    vs = graph.vs
    r = graph.run(["-j", "1", "start"])
    res = results(r.stdout)
    # one at a time, in wave order, by name within a wave
    assert [n for w, n in res] == ["b", "c", "a", "d"], r.stdout
    starts = [init_start(vs, n) for n in ["b", "c", "a", "d"]]
    assert starts == sorted(starts), starts
    r = graph.run(["-j", "1", "stop"], timeout=300)
    assert [n for w, n in results(r.stdout)] == ["c", "d", "a", "b"], r.stdout


def test_cycle_starts_nothing(auto, busybox_rootfs_tarball):
    vs = auto.vs
    make_guest(vs, busybox_rootfs_tarball, "a", depends=["b"])
    make_guest(vs, busybox_rootfs_tarball, "b", depends=["a"])
    make_guest(vs, busybox_rootfs_tarball, "c")
    r = auto.run(["start"], check=2)
    assert "dependency cycle: a -> b -> a" in r.stderr, r.stderr
    assert "nothing started" in r.stderr
    assert r.stdout == ""
    for n in "abc":
        assert not running(vs, n)
    r = auto.run(["--dry-run", "start"], check=2)
    assert "dependency cycle" in r.stderr


def test_missing_dependency_starts_nothing(auto, busybox_rootfs_tarball):
    vs = auto.vs
    make_guest(vs, busybox_rootfs_tarball, "a", depends=["x"])
    make_guest(vs, busybox_rootfs_tarball, "c")
    r = auto.run(["start"], check=2)
    assert "guest a depends on 'x', which is not a configured guest" in r.stderr, r.stderr
    for n in "ac":
        assert not running(vs, n)
    # stop only warns: a mistake must not keep guests from stopping
    r = auto.run(["stop"])
    assert "warning: guest a depends on 'x'" in r.stdout


def test_disabled_and_unmarked_dependency(auto, busybox_rootfs_tarball):
    vs = auto.vs
    make_guest(vs, busybox_rootfs_tarball, "off", disabled=True)
    make_guest(vs, busybox_rootfs_tarball, "base", mark=None)      # pulled in
    make_guest(vs, busybox_rootfs_tarball, "app", depends=["base"])
    make_guest(vs, busybox_rootfs_tarball, "dis", mark=None, disabled=True)
    make_guest(vs, busybox_rootfs_tarball, "needy", depends=["dis"])
    make_guest(vs, busybox_rootfs_tarball, "other", mark="other")
    r = auto.run(["start"], check=1)
    assert "skipping off: disabled" in r.stdout, r.stdout
    assert "skipped needy: dependency dis is disabled" in r.stdout, r.stdout
    res = results(r.stdout)
    assert ("started", "base") in res and ("started", "app") in res, r.stdout
    assert res.index(("started", "base")) < res.index(("started", "app"))
    assert running(vs, "base") and running(vs, "app")
    for n in ("off", "dis", "needy", "other"):
        assert not running(vs, n), n
    # the other mark
    r = auto.run(["-m", "other", "start"])
    assert results(r.stdout) == [("started", "other")], r.stdout
    r = auto.run(["-m", "other", "stop"])
    assert results(r.stdout) == [("stopped", "other")], r.stdout
    r = auto.run(["stop"])
    assert not running(vs, "app") and not running(vs, "base")


def test_failed_dependency_skips_dependents(auto, busybox_rootfs_tarball):
    vs = auto.vs
    make_guest(vs, busybox_rootfs_tarball, "db")
    make_guest(vs, busybox_rootfs_tarball, "app", depends=["db"])
    make_guest(vs, busybox_rootfs_tarball, "web", depends=["app"])
    make_guest(vs, busybox_rootfs_tarball, "c")
    # db cannot start: its root is gone
    shutil.rmtree(vs.root("db"))
    r = auto.run(["start"], check=1)
    assert re.search(r"^FAILED db: .+", r.stdout, re.M), r.stdout
    assert "skipped app: dependency db failed" in r.stdout, r.stdout
    assert "skipped web: dependency app was skipped" in r.stdout, r.stdout
    assert ("started", "c") in results(r.stdout)
    assert not running(vs, "app") and not running(vs, "web")
    auto.run(["stop"])


def test_named_guests_and_usage(graph):
    vs = graph.vs
    r = graph.run(["start", "a"])
    # a and what it depends on, nothing else
    assert [n for w, n in results(r.stdout)] == ["b", "a"], r.stdout
    assert not running(vs, "c") and not running(vs, "d")
    r = graph.run(["stop", "a", "b"])
    assert [n for w, n in results(r.stdout)] == ["a", "b"], r.stdout
    r = graph.run(["start", "nosuch"], check=5)
    assert "nosuch" in r.stderr
    graph.run(["frob"], check=2)
    graph.run([], check=2)
    graph.run(["-j", "0", "start"], check=2)
    graph.run(["-m", "default", "start", "a"], check=2)
    r = graph.run(["--help"])
    assert "start|stop" in r.stdout


# ---- host integration ----------------------------------------------------------

BUILD = VSERVER_BIN.parent


def test_systemd_units_verify(tmp_path):
    sa = shutil.which("systemd-analyze")
    if not sa:
        pytest.skip("systemd-analyze is not installed")
    units = ["vserver@.service", "vserver-autostart@.service"]
    for u in units:
        if not (BUILD / u).is_file():
            pytest.fail(f"{BUILD / u} was not generated by the build")
    sbindir = None
    for ln in (BUILD / "vserver@.service").read_text().splitlines():
        if ln.startswith("ExecStart="):
            sbindir = os.path.dirname(ln.split("=", 1)[1].split()[0])
    assert sbindir and "@" not in sbindir
    # the configured paths are not installed here: point them at the build
    link = tmp_path / "vserver-autostart"
    link.symlink_to(VSERVER_BIN)
    for u in units:
        text = (BUILD / u).read_text()
        assert "@SBINDIR@" not in text
        text = text.replace(sbindir + "/vserver-autostart ", str(link) + " ")
        text = text.replace(sbindir + "/vserver ", str(VSERVER_BIN) + " ")
        (tmp_path / u).write_text(text)
    text = (tmp_path / "vserver-autostart@.service").read_text()
    assert "-m %i start" in text and "-m %i stop" in text and "DefaultInstance=default" in text
    r = subprocess.run([sa, "verify", "--man=no", str(tmp_path / "vserver@web1.service"),
                        str(tmp_path / "vserver-autostart@default.service")],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr


def test_sysv_script():
    script = BUILD / "vservers-default"
    assert script.is_file()
    r = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    text = script.read_text()
    assert "### BEGIN INIT INFO" in text and "Provides:          vservers-default" in text
    assert "@SBINDIR@" not in text
    src = (REPO / "data" / "sysv" / "vservers-default").read_text()
    assert '"$AUTOSTART" -m "$MARK"' in src
