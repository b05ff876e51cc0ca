# SPDX-License-Identifier: GPL-2.0-or-later
"""User-namespace guests (issue 7, lib/userns.h): with the `userns` flag
(or the setting userns=1 / VSERVER_USERNS=1, `nouserns` to opt out) guest
ids 0..65535 are host ids BASE..BASE+65535, BASE = 65536 * context.

What is checked: the map seen in the guest; the guest's processes are
BASE (+uid) on the host; the guest tree is id-mapped, not shifted (what
guest root creates is uid 0 on disk); shared folders are id-mapped with
the share map (guest users are host users, guest root is host BASE): a
setuid-root program guest root leaves in a shared folder is owned by BASE
on disk and gives a host user no root (catalogue PR-04); exec, enter and
suexec; ports below 1024 and /proc/sys/net in network mode none; restarts
leave nothing behind."""
import json
import os
import subprocess

import pytest

from conftest import wait_until

USERNS_SIZE = 65536


def write_cfg(vs, name, rel, text):
    p = vs.cfg(name) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def gx(vs, name, *argv, check=0, timeout=30, **kw):
    return vs.run([name, "exec", *argv], check=check, timeout=timeout, **kw)


def base_of(vs, name):
    return int((vs.cfg(name) / "context").read_text()) * USERNS_SIZE


def status_ids(pid):
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                ids[k] = [int(x) for x in v.split()]
    return ids


@pytest.fixture
def ubb(vs, bbguest):
    """The busybox guest as a user-namespace guest (not started)."""
    write_cfg(vs, bbguest, "userns", "")
    return bbguest


def test_map_and_host_ids(vs, ubb):
    base = base_of(vs, ubb)
    vs.run([ubb, "start"], timeout=60)
    st = vs.state(ubb)
    # the guest sees the map; its PID 1 and an exec'd process are BASE on the host
    for f in ("uid_map", "gid_map"):
        r = gx(vs, ubb, "cat", f"/proc/self/{f}")
        assert r.stdout.split() == ["0", str(base), str(USERNS_SIZE)], r.stdout
    assert status_ids(st["init"]) == {"Uid": [base] * 4, "Gid": [base] * 4}
    assert gx(vs, ubb, "/t", "id").stdout.strip() == "uid=0 euid=0 gid=0 egid=0"
    # a guest user is BASE+1000 on the host
    p = vs.popen([ubb, "suexec", "user", "/t", "sleep", "30"])
    try:
        def sleeper():
            for pid in vs.cgroup_procs(ubb):
                try:
                    ids = status_ids(pid)
                except OSError:
                    continue
                if ids["Uid"][0] == base + 1000:
                    return ids
            return None
        assert wait_until(lambda: sleeper() is not None), "no guest process ran as BASE+1000"
        assert sleeper() == {"Uid": [base + 1000] * 4, "Gid": [base + 1000] * 4}
    finally:
        p.kill()
        p.wait(timeout=10)
    # no host uid 0 process in the guest's cgroup
    for pid in vs.cgroup_procs(ubb):
        try:
            assert status_ids(pid)["Uid"][0] >= base, pid
        except FileNotFoundError:
            pass
    vs.run([ubb, "stop"], timeout=60)


def test_tree_is_idmapped_not_shifted(vs, ubb):
    vs.run([ubb, "start"], timeout=60)
    root = vs.root(ubb)
    assert gx(vs, ubb, "sh", "-c", "echo hi >/root/by-root && mkdir /root/d").returncode == 0
    r = vs.run([ubb, "suexec", "user", "sh", "-c", "echo hi >/home/user/by-user"], check=False, timeout=30)
    assert r.returncode == 0, r.stderr
    assert (os.stat(root / "root/by-root").st_uid, os.stat(root / "root/by-root").st_gid) == (0, 0)
    assert os.stat(root / "root/d").st_uid == 0
    assert (os.stat(root / "home/user/by-user").st_uid, os.stat(root / "home/user/by-user").st_gid) == (1000, 1000)
    # the guest's view of its own tree is the plain one
    assert gx(vs, ubb, "stat", "-c", "%u:%g", "/etc/passwd").stdout.strip() == "0:0"
    assert gx(vs, ubb, "stat", "-c", "%u:%g", "/home/user").stdout.strip() == "1000:1000"
    # root can chown inside the range (CAP_CHOWN in its namespace) ...
    assert gx(vs, ubb, "chown", "1000:1000", "/root/by-root").returncode == 0
    assert os.stat(root / "root/by-root").st_uid == 1000
    # ... and the base mounts belong to guest root, the console too
    assert gx(vs, ubb, "stat", "-c", "%u", "/run", "/dev", "/dev/console").stdout.split() == ["0", "0", "0"]
    assert gx(vs, ubb, "sh", "-c", "echo x >/run/x && echo x >/dev/console").returncode == 0
    vs.run([ubb, "stop"], timeout=60)


def test_shared_folder_setuid_is_not_host_root(vs, ubb, host_dir):
    """PR-04 in the user-namespace profile: the shared folder is id-mapped
    with the share map, so guest root's files there are host uid BASE."""
    base = base_of(vs, ubb)
    # the folder belongs to a host user (uid 1000, the guest's `user`): the
    # kernel refuses writes through an id-mapped mount to inodes whose
    # owner has no id in the map, such as host root's (SECURITY.md)
    os.chown(host_dir, 1000, 1000)
    os.chmod(host_dir, 0o777)
    (host_dir / "hostroot").write_text("host root's\n")
    (host_dir / "host1000").write_text("host user's\n")
    os.chown(host_dir / "host1000", 1000, 1000)
    write_cfg(vs, ubb, "fstab", f"{host_dir} /mnt/shared none bind,rw 0 0\n")
    vs.run([ubb, "start"], timeout=60)
    # guest users are host users of the same uid; host root's files are nobody's
    r = gx(vs, ubb, "stat", "-c", "%n %u", "/mnt/shared/host1000", "/mnt/shared/hostroot")
    assert r.stdout.split() == ["/mnt/shared/host1000", "1000", "/mnt/shared/hostroot", "65534"], r.stdout
    r = vs.run([ubb, "suexec", "user", "sh", "-c", "echo more >>/mnt/shared/host1000 && echo u >/mnt/shared/by-user"],
               check=False, timeout=30)
    assert r.returncode == 0, r.stderr
    assert os.stat(host_dir / "by-user").st_uid == 1000
    # guest root cannot write host root's file, even mode 0666
    os.chmod(host_dir / "hostroot", 0o666)
    assert gx(vs, ubb, "sh", "-c", "echo x >>/mnt/shared/hostroot", check=None).returncode != 0
    assert (host_dir / "hostroot").read_text() == "host root's\n"
    # guest root leaves a setuid-root program in the share
    r = gx(vs, ubb, "sh", "-c", "cp /t /mnt/shared/suid && chmod 4755 /mnt/shared/suid && stat -c '%u %a' "
           "/mnt/shared/suid")
    assert r.stdout.split() == ["0", "4755"], (r.stdout, r.stderr)
    vs.run([ubb, "stop"], timeout=60)
    st = os.stat(host_dir / "suid")
    assert st.st_uid == base and st.st_mode & 0o4000
    # a host user running it gets uid BASE, not root
    fd = os.open(host_dir / "suid", os.O_RDONLY)
    try:
        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        r = subprocess.run([f"/proc/self/fd/{fd}", "id"], pass_fds=(fd,), preexec_fn=drop, capture_output=True,
                           text=True, timeout=10, stdin=subprocess.DEVNULL)
    finally:
        os.close(fd)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"uid=65534 euid={base} gid=65534 egid=65534", r.stdout


def test_live_mount_is_idmapped_like_a_shared_folder(vs, ubb, host_dir):
    """vserver NAME mount in a user-namespace guest: the same id-mapped bind
    as an fstab share (guest root's files are host uid BASE)."""
    base = base_of(vs, ubb)
    os.chown(host_dir, 1000, 1000)
    (host_dir / "host1000").write_text("host user's\n")
    os.chown(host_dir / "host1000", 1000, 1000)
    vs.run([ubb, "start"], timeout=60)
    gx(vs, ubb, "mkdir", "-p", "/mnt/live")
    vs.run([ubb, "mount", host_dir, "/mnt/live"])
    r = gx(vs, ubb, "stat", "-c", "%u", "/mnt/live/host1000")
    assert r.stdout.split() == ["1000"], r.stdout
    gx(vs, ubb, "sh", "-c", "echo x > /mnt/live/by-root && chown 0:0 /mnt/live/by-root")
    assert os.stat(host_dir / "by-root").st_uid == base
    vs.run([ubb, "umount", "/mnt/live"])
    vs.run([ubb, "stop"], timeout=60)


def test_exec_enter_suexec(vs, ubb):
    vs.run([ubb, "start"], timeout=60)
    assert gx(vs, ubb, "/t", "id").stdout.strip() == "uid=0 euid=0 gid=0 egid=0"
    r = vs.run([ubb, "suexec", "user", "/t", "id"], timeout=30)
    assert r.stdout.strip() == "uid=1000 euid=1000 gid=1000 egid=1000"
    r = vs.run([ubb, "enter"], input="/t id; exit\n", timeout=30)
    assert "uid=0 euid=0 gid=0 egid=0" in r.stdout
    vs.run([ubb, "stop"], timeout=60)


def test_network_none_own_netns(vs, ubb):
    vs.run([ubb, "start"], timeout=60)
    # ports below 1024 (NET_BIND_SERVICE in the namespace's own network)
    assert gx(vs, ubb, "/t", "bind", "127.0.0.1", "80").stdout.startswith("OK"), "guest root cannot bind port 80"
    r = vs.run([ubb, "suexec", "user", "/t", "bind", "127.0.0.1", "81"], check=False, timeout=30)
    assert not r.stdout.startswith("OK")
    # /proc/sys/net is the guest's own; the kernel lets a root that is not
    # host root write it only with NET_ADMIN (which acts on the guest's own
    # network namespace alone here)
    assert gx(vs, ubb, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward", check=None).returncode != 0
    assert gx(vs, ubb, "sh", "-c", "echo 1 >/proc/sys/kernel/sysrq", check=None).returncode != 0
    vs.run([ubb, "stop"], timeout=60)
    write_cfg(vs, ubb, "bcapabilities", "NET_ADMIN\n")
    host_fwd = open("/proc/sys/net/ipv4/ip_forward").read()
    vs.run([ubb, "start"], timeout=60)
    r = gx(vs, ubb, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward",
           check=None)
    assert r.returncode == 0 and r.stdout.strip() == "1", r.stderr
    assert gx(vs, ubb, "sh", "-c", "echo 1 >/proc/sys/kernel/sysrq", check=None).returncode != 0
    assert open("/proc/sys/net/ipv4/ip_forward").read() == host_fwd
    vs.run([ubb, "stop"], timeout=60)


def test_sysctl_settings_reach_the_guests_namespaces(vs, ubb):
    """sysctl/ in a user-namespace guest of mode none: the net.* ones go to
    the network namespace its user namespace owns (made after C1: written
    there, not lost in C1's), the IPC ones to its IPC namespace."""
    host = (open("/proc/sys/net/ipv4/ip_default_ttl").read(), open("/proc/sys/kernel/msgmnb").read())
    write_cfg(vs, ubb, "sysctl/ttl/setting", "net.ipv4.ip_default_ttl\n")
    write_cfg(vs, ubb, "sysctl/ttl/value", "99\n")
    write_cfg(vs, ubb, "sysctl/msg/setting", "kernel.msgmnb\n")
    write_cfg(vs, ubb, "sysctl/msg/value", "32768\n")
    vs.run([ubb, "start"], timeout=60)
    got = gx(vs, ubb, "cat", "/proc/sys/net/ipv4/ip_default_ttl", "/proc/sys/kernel/msgmnb").stdout.split()
    assert got == ["99", "32768"]
    assert (open("/proc/sys/net/ipv4/ip_default_ttl").read(), open("/proc/sys/kernel/msgmnb").read()) == host
    vs.run([ubb, "stop"], timeout=60)


def test_restart_cycles_clean(vs, ubb):
    base = base_of(vs, ubb)
    for _ in range(3):
        vs.run([ubb, "start"], timeout=60)
        assert status_ids(vs.state(ubb)["init"])["Uid"][0] == base
        vs.run([ubb, "stop"], timeout=60)
        assert not [d for d in vs.cgroup_dirs(ubb) if d.exists()]
        assert not (vs.rundir / ubb / "state").exists()
    # restart: the sysv style's reboot respawns PID 1 in a new user namespace
    vs.run([ubb, "start"], timeout=60)
    assert gx(vs, ubb, "cat", "/proc/self/uid_map").stdout.split() == ["0", str(base), str(USERNS_SIZE)]
    vs.run([ubb, "stop"], timeout=60)


def test_global_default_and_optout(vs, bbguest):
    base = base_of(vs, bbguest)
    env = {"VSERVER_USERNS": "1"}
    # config shows the effective value
    assert json.loads(vs.run([bbguest, "config", "--json"]).stdout)["userns"] is False
    assert json.loads(vs.run([bbguest, "config", "--json"], env=env).stdout)["userns"] is True
    vs.run([bbguest, "start"], env=env, timeout=60)
    assert status_ids(vs.state(bbguest)["init"])["Uid"][0] == base
    vs.run([bbguest, "stop"], env=env, timeout=60)
    write_cfg(vs, bbguest, "nouserns", "")
    vs.run([bbguest, "start"], env=env, timeout=60)
    assert status_ids(vs.state(bbguest)["init"])["Uid"][0] == 0
    vs.run([bbguest, "stop"], env=env, timeout=60)
    # both flags: a configuration error
    write_cfg(vs, bbguest, "userns", "")
    r = vs.run([bbguest, "start"], check=False, timeout=60)
    assert r.returncode != 0 and "userns" in r.stderr
    r = vs.run([bbguest, "start"], env={"VSERVER_USERNS": "yes"}, check=False, timeout=60)
    assert r.returncode != 0 and "VSERVER_USERNS" in r.stderr
