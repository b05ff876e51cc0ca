# SPDX-License-Identifier: GPL-2.0-or-later
"""vserver NAME mount / umount (util-vserver's vmount): a host folder bound
into a running guest, on a target resolved inside the guest root, with the
PR-04 rule of fstab binds; and taken away again."""
import os
import subprocess

import pytest

from conftest import mounts_under
from test_run import gx, probe, start, stop
from test_scripts import put_script


def guest_mounts(vs, name):
    """Mount points in the guest (its own /proc/self/mountinfo)."""
    out = gx(vs, name, "/t", "cat", "/proc/self/mountinfo").stdout
    return [ln.split()[4] for ln in out.splitlines()]


def test_mount_a_host_folder_into_a_running_guest_and_take_it_away(vs, bbguest, host_dir):
    name = bbguest
    (host_dir / "from-host").write_text("hello\n")
    start(vs, name)
    gx(vs, name, "/t", "mkdir", "/srv")
    gx(vs, name, "/t", "mkdir", "/srv/data")
    host_before = mounts_under(host_dir.parent)
    r = vs.run([name, "mount", host_dir, "/srv/data"])
    assert f"mounted {host_dir} on /srv/data in guest '{name}'" in r.stdout
    assert "/srv/data" in guest_mounts(vs, name)
    assert probe(vs, name, "cat", "/srv/data/from-host") == "hello"
    assert probe(vs, name, "write", "/srv/data/from-guest", "hi") == "OK"
    assert (host_dir / "from-guest").read_text() == "hi\n"
    assert mounts_under(host_dir.parent) == host_before          # nothing on the host side
    # nosuid and nodev, as fstab binds
    opts = [ln for ln in gx(vs, name, "/t", "cat", "/proc/self/mountinfo").stdout.splitlines()
            if ln.split()[4] == "/srv/data"][0].split()[5]
    assert "nosuid" in opts and "nodev" in opts, opts
    r = vs.run([name, "umount", "/srv/data"])
    assert f"unmounted /srv/data in guest '{name}'" in r.stdout
    assert "/srv/data" not in guest_mounts(vs, name)
    assert gx(vs, name, "/t", "cat", "/srv/data/from-host", check=1).stdout.strip() == "ENOENT"
    assert (host_dir / "from-host").exists()
    # read-only
    vs.run([name, "mount", "--ro", host_dir, "/srv/data"])
    assert probe(vs, name, "write", "/srv/data/x", "y") == "EROFS"
    stop(vs, name)
    assert (host_dir / "from-host").exists() and not (host_dir / "x").exists()


def test_mount_target_is_the_path_given_no_guest_link_is_followed(vs, bbguest, host_dir, tmp_path):
    """A link the guest planted at the target, or on the way to it, is
    refused: the guest could otherwise send a mount onto /proc/sys, or an
    umount to one of vserver's own mounts (its masks: then host root)."""
    name = bbguest
    victim = tmp_path / "victim"
    victim.mkdir()
    start(vs, name)
    gx(vs, name, "ln", "-s", str(victim), "/link")
    r = vs.run([name, "mount", host_dir, "/link"], check=2)
    assert "/link in the guest is a symbolic link" in r.stderr, r.stderr
    gx(vs, name, "/t", "mkdir", "/inside")
    gx(vs, name, "/t", "mkdir", "/inside/data")
    gx(vs, name, "ln", "-s", "../../../../../../inside", "/way")
    r = vs.run([name, "mount", host_dir, "/way/data"], check=2)
    assert "a symbolic link on the way in the guest" in r.stderr, r.stderr
    assert not os.path.ismount(victim) and list(victim.iterdir()) == []
    # the attack: an admin's mount at /data/sys, then the guest makes /data a link to /proc
    gx(vs, name, "/t", "mkdir", "/data")
    gx(vs, name, "/t", "mkdir", "/data/sys")
    vs.run([name, "mount", "--ro", host_dir, "/data/sys"])
    gx(vs, name, "mv", "/data", "/data.old")
    gx(vs, name, "ln", "-s", "/proc", "/data")
    r = vs.run([name, "umount", "/data/sys"], check=2)
    assert "a symbolic link on the way in the guest" in r.stderr, r.stderr
    r = vs.run([name, "mount", "--ro", host_dir, "/data/sys"], check=2)
    assert "/proc/sys" in guest_mounts(vs, name)
    assert probe(vs, name, "openwronly", "/proc/sys/kernel/core_pattern") == "EROFS"
    vs.run([name, "umount", "/data.old/sys"])


def test_mount_errors_change_nothing(vs, bbguest, host_dir, exposed_dir):
    name = bbguest
    r = vs.run([name, "mount", host_dir, "/srv"], check=1)           # not running
    assert "is not running" in r.stderr
    start(vs, name)
    before = guest_mounts(vs, name)
    cases = [
        (["mount", "relative/dir", "/mnt"], 2, "bind source 'relative/dir' must be an absolute host path"),
        (["mount", host_dir, "mnt"], 2, "target 'mnt' must be an absolute path inside the guest"),
        (["mount", host_dir, "/proc/x"], 2, "which vserver sets up itself"),
        (["mount", host_dir, "/run"], 2, "one of the mounts vserver makes itself"),
        (["mount", "/proc", "/mnt"], 2, "exposes the host's /proc"),
        (["mount", "--ro", "/./proc", "/mnt"], 2, "is the host's /proc"),
        (["mount", "--ro", host_dir / "rootlink", "/mnt"], 2, "is the host's root directory"),
        (["mount", "--ro", host_dir / "proclink", "/mnt"], 2, "is the host's /proc"),
        (["mount", host_dir / "nosuch", "/mnt"], 2, "nosuch"),
        (["mount", host_dir, "/nosuch"], 2, "/nosuch: not in the guest (make it first"),
        (["mount", "--bogus", host_dir, "/mnt"], 2, "unknown option '--bogus'"),
        (["mount", host_dir], 2, "usage"),
        (["umount", "/run"], 2, "one of the mounts vserver makes itself"),
        (["umount", "/etc"], 2, "/etc is not a mount point in the guest"),
        # PR-04: a read-write share host users could run guest root's setuid files from
        (["mount", exposed_dir, "/mnt"], 2, "host users could run the setuid programs"),
    ]
    gx(vs, name, "/t", "mkdir", "/mnt", check=None)
    (host_dir / "rootlink").symlink_to("/")
    (host_dir / "proclink").symlink_to("/proc")
    for args, code, msg in cases:
        r = vs.run([name, *args], check=code)
        assert msg in r.stderr, (args, r.stderr)
    assert guest_mounts(vs, name) == before
    # read-only, the same folder is fine, also with the mounts below it
    # (read-only too, all of them)
    vs.run([name, "mount", "--ro", "--rbind", exposed_dir, "/mnt"])


def test_rbind_of_a_nosuid_source_with_a_suid_mount_below_is_refused(vs, bbguest, exposed_dir):
    """PR-04 with --rbind: nosuid on the source's own mount does not cover
    a mount below it that host users can reach."""
    name = bbguest
    src = exposed_dir / "src dir"                                   # escaped in mountinfo
    src.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,size=1m", "vstest", str(src)], check=True)
    try:
        sub = src / "sub"
        sub.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "vstest", str(sub)], check=True)
        try:
            start(vs, name)
            gx(vs, name, "/t", "mkdir", "/mnt", check=None)
            vs.run([name, "mount", src, "/mnt"])                 # the source alone: nosuid, fine
            vs.run([name, "umount", "/mnt"])
            r = vs.run([name, "mount", "--rbind", src, "/mnt"], check=2)
            assert "host users could run the setuid programs" in r.stderr, r.stderr
            stop(vs, name)
        finally:
            subprocess.run(["umount", str(sub)], check=True)
    finally:
        subprocess.run(["umount", str(src)], check=True)


def test_mount_from_a_post_start_scriptlet(vs, bbguest, host_dir):
    """The safe way for a scriptlet to give the guest a host folder: its
    start holds the guest's lock, and the mount does not wait for it."""
    name = bbguest
    (host_dir / "greeting").write_text("from post-start\n")
    put_script(vs.cfg(name) / "scripts/post-start",
               f"#!/bin/sh\n'{vs.bin}' \"$2\" exec /t mkdir /srv\n'{vs.bin}' \"$2\" exec /t mkdir /srv/data\n"
               f"exec timeout 20 '{vs.bin}' \"$2\" mount --ro '{host_dir}' /srv/data\n")
    start(vs, name)
    assert probe(vs, name, "cat", "/srv/data/greeting") == "from post-start"


def test_fstab_bind_sources_are_judged_by_what_they_reach(vs, bbguest, host_dir):
    """The same object check for fstab binds: a name that reaches the host's
    /proc or / through '.' or a link is refused at start, and nothing is left."""
    name = bbguest
    (host_dir / "rootlink").symlink_to("/")
    for src, msg in (("/./proc", "is the host's /proc"), (host_dir / "rootlink", "is the host's root directory")):
        (vs.cfg(name) / "fstab").write_text(f"{src} /mnt none bind,ro 0 0\n")
        r = vs.run([name, "start"], check=1)
        assert msg in r.stderr, r.stderr
        assert vs.state(name) is None and vs.cgroup_dirs(name) == []
