# SPDX-License-Identifier: GPL-2.0-or-later
"""A guest cannot raise its own limits or leave its cgroup (issue 7, part C),
and /proc/sys/net is writable only with the guest's own network namespace.

Layout under test (lib/cgroup.h): the limits stay on <parent>/<guest>; every
guest process lives in <parent>/<guest>/payload (every hierarchy), the root
of the guest's cgroup namespace and of the cgroup2 mount a systemd-style guest
gets.  Busybox guests (the probe as /t) in the `vs` fixture's private world and
private cgroup parent; only this test's own guests and processes are touched.
The pure-v2 view (a cgroup2 mount rooted at the payload, an escape attempt
through the guest dir's cgroup.procs) is checked by tests/unit/test-cgroup.c
on a private cgroup2 mount as well."""
import os
import re
import time

import pytest

from conftest import cgroup_procs, wait_until
from test_net import build, iface, net, nvs  # noqa: F401  (fixtures)

PAYLOAD = "payload"


def start(vs, name):
    vs.run([name, "start"], timeout=60)
    st = vs.state(name)
    assert st and "init" in st, st
    return st


def gx(vs, name, *argv, check=0):
    return vs.run([name, "exec", *argv], check=check, timeout=60)


def probe(vs, name, *args):
    return gx(vs, name, "/t", *args, check=None).stdout.strip()


def write_cfg(vs, name, rel, text):
    p = vs.cfg(name) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def cgroup_lines(text):
    """/proc/PID/cgroup as {hierarchy-id:controllers: path}."""
    out = {}
    for ln in text.splitlines():
        hid, ctrls, path = ln.split(":", 2)
        out[f"{hid}:{ctrls}"] = path
    return out


def mountinfo_entry(vs, name, mnt):
    """The guest's mountinfo line for mount point `mnt` (the topmost), or None."""
    found = None
    for ln in gx(vs, name, "/t", "cat", "/proc/self/mountinfo").stdout.splitlines():
        f = ln.split()
        if len(f) > 5 and f[4] == mnt:
            found = ln
    return found


# ---- the payload cgroup ------------------------------------------------------------------------

def test_every_guest_process_is_in_the_payload(vs, bbguest):
    name = bbguest
    write_cfg(vs, name, "limits/pids", "200\n")
    st = start(vs, name)
    dirs = vs.cgroup_dirs(name)
    assert dirs
    sleeper = vs.popen([name, "exec", "/bin/sleep", "60"])
    try:
        # PID 1, its children and the exec'd process: in the payload of
        # every hierarchy, none in the guest dir that carries the limits
        def placed():
            for d in dirs:
                if cgroup_procs(d / PAYLOAD) and not (d / "cgroup.procs").read_text().split():
                    continue
                return False
            return True
        assert wait_until(placed, timeout=10), [(str(d), (d / "cgroup.procs").read_text()) for d in dirs]
        for d in dirs:
            assert st["init"] in cgroup_procs(d / PAYLOAD), d
        # the exec'd sleep: born in the payload (clone3 CLONE_INTO_CGROUP
        # on cgroup2, v1 joined through tasks)
        sleep_pids = wait_until(lambda: [p for p in vs.cgroup_procs(name)
                                         if _comm(p) == "sleep"], timeout=10)
        assert sleep_pids
        for d in dirs:
            procs = cgroup_procs(d / PAYLOAD)
            assert set(sleep_pids) <= set(procs), (d, sleep_pids, procs)
        # the listing (the kill at stop, status) sees everything
        assert st["init"] in vs.cgroup_procs(name)
    finally:
        sleeper.kill()
        sleeper.wait(timeout=30)
    vs.run([name, "stop", "--timeout", "10"], timeout=60)
    assert not vs.cgroup_dirs(name)


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def test_proc_self_cgroup_is_the_namespace_root(vs, bbguest):
    name = bbguest
    start(vs, name)
    # exec'd (joins the payload, then the cgroup namespace) ...
    lines = cgroup_lines(gx(vs, name, "/t", "cat", "/proc/self/cgroup").stdout)
    assert lines.get("0:") == "/", lines
    assert all(p == "/" for p in lines.values()), lines
    # ... and PID 1 (moved into the payload before it unshared the namespace)
    lines = cgroup_lines(gx(vs, name, "/t", "cat", "/proc/1/cgroup").stdout)
    assert all(p == "/" for p in lines.values()), lines
    # from the host, the same process is in <parent>/<guest>/payload
    st = vs.state(name)
    with open(f"/proc/{st['init']}/cgroup") as f:
        host = cgroup_lines(f.read())
    for k, p in host.items():
        if p != "/":  # controllers without a guest dir (e.g. not managed) stay where they are
            assert p.endswith(f"/{vs.cgparent}/{name}/{PAYLOAD}"), (k, p)


def test_sysv_guest_sees_no_cgroupfs_and_cannot_touch_its_limits(vs, bbguest):
    name = bbguest
    write_cfg(vs, name, "limits/pids", "200\n")
    start(vs, name)
    # nothing of cgroupfs is mounted in the guest ...
    mi = gx(vs, name, "/t", "cat", "/proc/self/mountinfo").stdout
    assert not re.search(r" - cgroup2? ", mi), mi
    # ... and /sys (with its empty fs/cgroup) is read-only
    assert probe(vs, name, "write", "/sys/fs/cgroup/pids.max", "100000") in ("EROFS", "ENOENT", "EACCES")
    assert probe(vs, name, "write", "/sys/fs/cgroup/cgroup.procs", "1") in ("EROFS", "ENOENT", "EACCES")
    # the limit is unchanged on the host side
    for d in vs.cgroup_dirs(name):
        if (d / "pids.max").is_file():
            assert (d / "pids.max").read_text().strip() == "200"


def test_systemd_style_guest_sees_only_its_payload(vs, bbguest):
    """A systemd-style guest gets a writable cgroup2 mount: rooted at the
    payload, so the guest dir's files (the limits) and the parent's
    cgroup.procs (the way out) are not in it."""
    name = bbguest
    write_cfg(vs, name, "apps/init/style", "systemd\n")
    write_cfg(vs, name, "apps/init/cmd.start", "/bin/sleep\n100000\n")
    write_cfg(vs, name, "limits/pids", "200\n")
    start(vs, name)
    guest_dirs = {str(d) for d in vs.cgroup_dirs(name)}
    unified = [d for d in vs.cgroup_dirs(name) if (d / "cgroup.controllers").is_file()]
    if not unified:
        pytest.skip("this host has no cgroup2 hierarchy: a systemd guest gets no cgroup2 mount")
    ent = mountinfo_entry(vs, name, "/sys/fs/cgroup")
    assert ent and " - cgroup2 " in ent, ent
    # the mount's root is the namespace root ("/"): the payload
    assert ent.split()[3] == "/", ent
    listing = gx(vs, name, "/bin/ls", "/sys/fs/cgroup").stdout.split()
    assert "cgroup.procs" in listing
    assert PAYLOAD not in listing             # we are inside it, not above
    # the guest's processes are listed at its mount root
    procs = gx(vs, name, "/t", "cat", "/sys/fs/cgroup/cgroup.procs").stdout.split()
    assert "1" in procs, procs
    # no way up: ".." of the mount root is the mount's parent (/sys/fs), not a cgroup
    assert probe(vs, name, "openwronly", "/sys/fs/cgroup/../cgroup.procs") in ("ENOENT", "EROFS")
    # the guest can make sub-cgroups (systemd does) below its root
    assert gx(vs, name, "/bin/mkdir", "/sys/fs/cgroup/init.scope", check=None).returncode == 0
    assert [d for d in unified if (d / PAYLOAD / "init.scope").is_dir()]
    gx(vs, name, "/bin/rmdir", "/sys/fs/cgroup/init.scope", check=None)
    # the guest dir's limits stay as configured
    for d in vs.cgroup_dirs(name):
        assert str(d) in guest_dirs
        if (d / "pids.max").is_file():
            assert (d / "pids.max").read_text().strip() == "200"
    vs.run([name, "stop", "--timeout", "10"], timeout=60)
    assert not vs.cgroup_dirs(name)


# ---- /proc/sys/net ------------------------------------------------------------------------------

SYSCTL = "/proc/sys/net/ipv4/ip_forward"


def proc_sys_flags(vs, name, mnt):
    ent = mountinfo_entry(vs, name, mnt)
    return ent.split()[5].split(",") if ent else None


def test_proc_sys_net_writable_with_own_netns(vs, bbguest):
    """Mode none (default without addresses): the guest's own stack."""
    name = bbguest
    start(vs, name)
    assert "rw" in proc_sys_flags(vs, name, "/proc/sys/net")
    assert "ro" in proc_sys_flags(vs, name, "/proc/sys")
    assert probe(vs, name, "openwronly", SYSCTL) == "OK"
    # it is the guest's namespace that changes, not the host's
    with open(SYSCTL) as f:
        host_before = f.read()
    assert probe(vs, name, "write", "/proc/sys/net/ipv4/ip_default_ttl", "77") == "OK"
    assert probe(vs, name, "cat", "/proc/sys/net/ipv4/ip_default_ttl").strip() == "77"
    with open("/proc/sys/net/ipv4/ip_default_ttl") as f:
        assert f.read().strip() != "77"
    with open(SYSCTL) as f:
        assert f.read() == host_before
    # the rest of /proc/sys stays read-only
    assert probe(vs, name, "openwronly", "/proc/sys/kernel/hostname") == "EROFS"


def test_proc_sys_net_readonly_with_the_host_stack(nvs, busybox_rootfs_tarball):
    """Modes host and isolated share the (simulated) host's stack: read-only."""
    vs = nvs
    h = build(vs, busybox_rootfs_tarball, "h", net__mode="host")
    i = build(vs, busybox_rootfs_tarball, "i", context="40020")
    iface(vs, i, 0, "203.0.113.20/24", dev="up0")
    for g in (h, i):
        vs.run([g, "start"], timeout=60)
        try:
            assert "ro" in proc_sys_flags(vs, g, "/proc/sys"), g
            assert probe(vs, g, "openwronly", SYSCTL) == "EROFS", g
            assert probe(vs, g, "write", "/proc/sys/net/ipv4/ip_default_ttl", "77") == "EROFS", g
        finally:
            vs.run([g, "stop", "--timeout", "10"], check=False, timeout=60)
