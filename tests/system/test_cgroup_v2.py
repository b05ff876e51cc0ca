# SPDX-License-Identifier: GPL-2.0-or-later
"""Guests on cgroup2 alone, on this hybrid host.

Most hosts today are pure cgroup v2; this machine is hybrid (v1
controllers, and a cgroup2 mount at /sys/fs/cgroup/unified), so the rest
of the suite runs vserver's v1/hybrid paths.  The `cgroup_root` setting
(VSERVER_CGROUP_ROOT) pointed at the cgroup2 mount makes vserver see a
pure v2 host, so its v2 paths run here for real: the guest's cgroup2
directory and payload, the BPF device program (the only device policy
there is: no v1 `devices`), exec joining the cgroup2 payload, the kill at
stop through the cgroup2 freezer (thawed after), a reboot inside the guest,
vserver-stat and vps listing through cgroup2, and a limit whose controller
cgroup2 does not offer here refused before anything exists.

On a pure v2 host these tests are skipped: every other test runs there.
The cgroup parent is the `vs` fixture's private one, under the cgroup2
mount; only pids this test started are signalled."""
import os
import shutil
import subprocess

import pytest

from conftest import Background, wait_until
from test_run import assert_guest_gone, gx, probe, start, stop, write_cfg

CGROOT = "/sys/fs/cgroup"
UNIFIED = "/sys/fs/cgroup/unified"
CGROUP2_SUPER_MAGIC = 0x63677270


def controllers(d):
    with open(os.path.join(d, "cgroup.controllers")) as f:
        return f.read().split()


@pytest.fixture
def v2(vs):
    """The `vs` world with cgroup_root at the cgroup2 mount of this hybrid host."""
    if os.path.isfile(os.path.join(CGROOT, "cgroup.controllers")):
        pytest.skip("this host is pure cgroup v2: the whole suite runs on cgroup2")
    if not os.path.isfile(os.path.join(UNIFIED, "cgroup.controllers")):
        pytest.skip(f"no cgroup2 mount at {UNIFIED}")
    vs.env["VSERVER_CGROUP_ROOT"] = UNIFIED
    return vs


def v2_dir(vs, name):
    return os.path.join(UNIFIED, vs.cgparent, name)


def v1_dirs(vs):
    """This world's cgroup parent in the v1 hierarchies (there must be none)."""
    out = []
    for e in sorted(os.listdir(CGROOT)):
        p = os.path.join(CGROOT, e)
        if p != UNIFIED and not os.path.islink(p) and os.path.isdir(os.path.join(p, vs.cgparent)):
            out.append(os.path.join(p, vs.cgparent))
    return out


def procs(d):
    with open(os.path.join(d, "cgroup.procs")) as f:
        return [int(x) for x in f.read().split()]


def test_guest_runs_in_its_cgroup2_payload_and_nowhere_in_v1(v2, bbguest):
    vs, name = v2, bbguest
    st = start(vs, name)
    payload = os.path.join(v2_dir(vs, name), "payload")
    assert st["init"] in procs(payload)
    assert v1_dirs(vs) == [], "a guest on cgroup2 alone made v1 cgroups"
    # the guest's own view: the root of its cgroup namespace
    lines = gx(vs, name, "/t", "cat", "/proc/self/cgroup").stdout.splitlines()
    assert "0::/" in lines, lines
    # an exec'd process joins the cgroup2 payload
    bg = Background(vs, name, "/bin/sh", "-c", "echo up; exec /bin/sleep 60")
    try:
        assert bg.line() == "up"
        assert wait_until(lambda: len(procs(payload)) >= 3, 10), procs(payload)
        comms = set()
        for pid in procs(payload):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comms.add(f.read().strip())
            except FileNotFoundError:
                pass
        assert "sleep" in comms, comms
        seen = []

        def status_agrees():
            r = vs.run([name, "status"], timeout=30)
            n = int(next(ln for ln in r.stdout.splitlines() if ln.startswith("Number of processes:")).split()[-1])
            seen.append((r.stdout, procs(payload)))
            return n == len(seen[-1][1])
        assert wait_until(status_agrees, 10), seen[-3:]
    finally:
        bg.finish()
    stop(vs, name)
    assert_guest_gone(vs, name, st)
    assert not os.path.exists(v2_dir(vs, name))


def test_device_policy_is_the_bpf_program(v2, bbguest):
    """No v1 devices cgroup: the BPF device program alone allows the
    guest's devices and refuses the rest, even with MKNOD."""
    vs, name = v2, bbguest
    write_cfg(vs, name, "bcapabilities", "MKNOD\n")
    st = start(vs, name)
    assert v1_dirs(vs) == []
    assert probe(vs, name, "mknod", "/tmp/null", "c", "1", "3") == "OK"
    assert probe(vs, name, "write", "/tmp/null", "x") == "OK"
    assert probe(vs, name, "mknod", "/tmp/sda", "b", "8", "0") == "EPERM"
    assert probe(vs, name, "mknod", "/tmp/mem", "c", "1", "1") == "EPERM"
    bpftool = shutil.which("bpftool")
    if bpftool:
        r = subprocess.run([bpftool, "cgroup", "show", v2_dir(vs, name)], capture_output=True, text=True,
                           timeout=30)
        assert "cgroup_device" in r.stdout, r
    stop(vs, name)
    assert_guest_gone(vs, name, st)


def test_stop_kills_what_ignores_sigterm_through_cgroup2(v2, bbguest):
    vs, name = v2, bbguest
    st = start(vs, name)
    gx(vs, name, "/bin/sh", "-c", "trap '' TERM; /bin/sleep 1000 </dev/null >/dev/null 2>&1 &")
    payload = os.path.join(v2_dir(vs, name), "payload")
    assert len(procs(payload)) >= 2
    stop(vs, name, "--timeout", "2")
    assert_guest_gone(vs, name, st)
    assert not os.path.exists(v2_dir(vs, name))


def test_host_tools_list_guests_through_cgroup2(v2, bbguest, tmp_path):
    vs, name = v2, bbguest
    d = tmp_path / "bin"
    d.mkdir()
    for t in ("vserver-stat", "vps"):
        os.symlink(vs.bin, d / t)
    st = start(vs, name)
    payload = os.path.join(v2_dir(vs, name), "payload")
    seen = []

    def stat_agrees():
        # rc 3 may still be starting the guest's service: ask again until
        # the count is stable
        r = vs.run([], argv0=d / "vserver-stat", timeout=30)
        row = [ln.split() for ln in r.stdout.splitlines()[1:] if ln.split() and ln.split()[-1] == name]
        seen.append((r.stdout, procs(payload)))
        return bool(row) and int(row[0][1]) == len(seen[-1][1]) >= 2
    assert wait_until(stat_agrees, 10), seen[-3:]
    r = vs.run(["ax"], argv0=d / "vps", timeout=30)
    mine = [ln for ln in r.stdout.splitlines() if f" {name} " in f" {ln} "]
    assert any(str(st["init"]) in ln.split() for ln in mine), r.stdout
    stop(vs, name)
    assert_guest_gone(vs, name, st)


def test_limit_without_its_controller_is_refused_before_anything_exists(v2, bbguest):
    vs, name = v2, bbguest
    if "pids" in controllers(UNIFIED):
        pytest.skip("this host's cgroup2 offers the pids controller")
    write_cfg(vs, name, "limits/pids", "100\n")
    r = vs.run([name, "start"], check=None, timeout=60)
    assert r.returncode != 0
    assert "pids" in r.stderr and "cgroup2" in r.stderr, r.stderr
    assert vs.state(name) is None
    assert not os.path.exists(v2_dir(vs, name))
    assert v1_dirs(vs) == []


def test_cycles_leave_nothing_on_cgroup2(v2, bbguest):
    vs, name = v2, bbguest
    for _ in range(10):
        st = start(vs, name)
        assert gx(vs, name, "/bin/true").returncode == 0
        stop(vs, name)
        assert_guest_gone(vs, name, st)
        assert not os.path.exists(v2_dir(vs, name))
    assert v1_dirs(vs) == []


def test_bad_cgroup_root_setting(vs, bbguest, tmp_path):
    vs.env["VSERVER_CGROUP_ROOT"] = "sys/fs/cgroup"
    r = vs.run([bbguest, "start"], check=2, timeout=60)
    assert "VSERVER_CGROUP_ROOT" in r.stderr and "absolute path" in r.stderr, r.stderr
    # a directory with no cgroup hierarchy: refused, nothing made
    empty = tmp_path / "nocgroups"
    empty.mkdir()
    vs.env["VSERVER_CGROUP_ROOT"] = str(empty)
    r = vs.run([bbguest, "start"], check=None, timeout=60)
    assert r.returncode != 0 and str(empty) in r.stderr, r
    assert vs.state(bbguest) is None
    assert os.listdir(empty) == []


def test_reboot_inside_with_a_joined_process_left(v2, bbguest):
    """reboot inside the guest while an exec'd command runs: the monitor
    kills what is left in the cgroup (its joining process lives outside
    the guest's PID namespace), then the new PID 1 and later execs are born
    in the same cgroup2 payload.  A cgroup.kill there made this kernel
    (kill_seq) kill every later child born there; vserver kills through the
    freezer and makes such a child again (unit test: test-cgroup)."""
    vs, name = v2, bbguest
    st = start(vs, name)
    payload = os.path.join(v2_dir(vs, name), "payload")
    for _ in range(3):
        bg = Background(vs, name, "/bin/sh", "-c", "echo up; exec /bin/sleep 60")
        try:
            assert bg.line() == "up"
            gx(vs, name, "/sbin/reboot", "-f", check=None, timeout=30)
            assert wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, st["init"]), 10), \
                (vs.rundir / name / "console.log").read_text()[-800:]
        finally:
            bg.finish()
        st2 = vs.state(name)
        assert st2["init"] in procs(payload)
        assert gx(vs, name, "/bin/true").returncode == 0
        # the kill of what was left went through the freezer: thawed again
        with open(os.path.join(v2_dir(vs, name), "cgroup.events")) as f:
            assert "frozen 0" in f.read().split("\n")
        st = st2
    stop(vs, name)
    assert_guest_gone(vs, name, st)
