# SPDX-License-Identifier: GPL-2.0-or-later
"""Disk limits (dlimits/, vserver(8) DISK LIMITS) on project quotas.

Every test makes its own filesystem image in its tmp_path, attaches it to
a loop device it picks with `losetup --find --show`, mounts it in its
tmp_path and puts a private vserver world (configuration, guest roots,
run directory) on it.  Afterwards, also on failure: the guests are
stopped, the mount is unmounted and only that loop device is detached.

The quota cases need a kernel with project quotas for the filesystem
(XFS: CONFIG_XFS_QUOTA; ext4: CONFIG_QUOTA and CONFIG_QFMT_V2); where the
mount with -o prjquota fails they are skipped with the kernel's reason.
"""
import fcntl
import json
import os
import shutil
import struct
import subprocess
import contextlib

import pytest

from conftest import VS, rmtree

FS_IOC_FSGETXATTR = 0x801C581F
FS_XFLAG_PROJINHERIT = 0x200

SPACE_KIB = 20 * 1024
INODES = 500


def projid(path):
    """(project id, xflags) of a file or directory, never following a link."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        buf = fcntl.ioctl(fd, FS_IOC_FSGETXATTR, bytes(28))
    finally:
        os.close(fd)
    xflags, _extsize, _nextents, pid = struct.unpack("4I", buf[:16])
    return pid, xflags


def sh(*a, check=True):
    return subprocess.run([str(x) for x in a], capture_output=True, text=True, check=check,
                          stdin=subprocess.DEVNULL)


def kernel_note():
    """The last lines the kernel logged (why a mount failed), if readable."""
    r = subprocess.run(["dmesg"], capture_output=True, text=True, check=False)
    lines = [ln for ln in r.stdout.splitlines() if "quota" in ln.lower() or "XFS" in ln or "EXT4" in ln]
    return lines[-1].strip() if lines else ""


MKFS = {
    # XFS needs at least 300 MiB
    "xfs": (320, ["mkfs.xfs", "-q", "-f"]),
    "ext4": (256, ["mkfs.ext4", "-q", "-F", "-O", "project,quota", "-E", "quotatype=prjquota"]),
    "ext4-plain": (256, ["mkfs.ext4", "-q", "-F"]),
}


@contextlib.contextmanager
def loop_fs(tmp_path, kind, prjquota):
    """A fresh filesystem image mounted at tmp_path/mnt; yields the mount
    point.  Skips when the tools or the kernel cannot provide it."""
    size, mkfs = MKFS[kind]
    if not shutil.which(mkfs[0]):
        pytest.skip(f"{mkfs[0]} is not installed (scripts/deps.sh --test)")
    img = tmp_path / f"{kind}.img"
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(size << 20)
    sh(*mkfs, img)
    dev = sh("losetup", "--find", "--show", img).stdout.strip()
    assert dev.startswith("/dev/loop"), dev
    mounted = False
    try:
        opts = ["-o", "prjquota"] if prjquota else []
        r = sh("mount", *opts, dev, mnt, check=False)
        if r.returncode != 0:
            pytest.skip(f"cannot mount {kind}{' with prjquota' if prjquota else ''} on this kernel: "
                        f"{r.stderr.strip()} {kernel_note()}")
        mounted = True
        yield mnt
    finally:
        if mounted:
            if sh("umount", mnt, check=False).returncode != 0:
                sh("umount", "-l", mnt, check=False)
        sh("losetup", "-d", dev, check=False)


@contextlib.contextmanager
def world_on(mnt, vserver_bin):
    w = VS(mnt / "w", vserver_bin)
    try:
        yield w
    finally:
        w.cleanup()
        rmtree(w.base)


def build_bb(w, tarball, name="bb"):
    w.build(name, method="template", margs=("-t", tarball), timeout=120)
    return name


def set_dlimits(w, name, space=SPACE_KIB, inodes=INODES, entry="root"):
    d = w.cfg(name) / "dlimits" / entry
    d.mkdir(parents=True, exist_ok=True)
    (d / "directory").write_text(f"{w.root(name)}\n")
    (d / "space_total").write_text(f"{space}\n")
    (d / "inodes_total").write_text(f"{inodes}\n")
    (d / "reserved").write_text("5\n")
    return d


def context(w, name):
    return int((w.cfg(name) / "context").read_text())


def guest_sh(w, name, script, timeout=120):
    return w.run([name, "exec", "-T", "/bin/sh", "-c", script], check=False, timeout=timeout)


def disk_status(w, name):
    r = w.run([name, "status", "--json"], check=(0, 3))
    return json.loads(r.stdout)["disk"]


# ---- the quota itself: XFS and ext4 ------------------------------------------------

@pytest.mark.parametrize("kind", ["xfs", "ext4"])
def test_quota_space_and_inodes(tmp_path, vserver_bin, busybox_rootfs_tarball, host_dir, kind):
    with loop_fs(tmp_path, kind, prjquota=True) as mnt, world_on(mnt, vserver_bin) as w:
        name = build_bb(w, busybox_rootfs_tarball)
        ctx = context(w, name)
        # build: the tree carries the project id, directories inherit it
        assert projid(w.root(name)) == (ctx, projid(w.root(name))[1])
        assert projid(w.root(name))[1] & FS_XFLAG_PROJINHERIT
        assert projid(w.root(name) / "bin" / "busybox")[0] == ctx
        # a file the host puts there while stopped, a symlink out of the
        # guest and a mount point inside it
        (w.root(name) / "hostfile").write_bytes(b"x" * 4096)
        outside = host_dir / "outside"
        outside.write_text("host\n")
        os.symlink(str(host_dir), w.root(name) / "escape")
        (w.root(name) / "mnt" / "bind").mkdir(parents=True, exist_ok=True)
        set_dlimits(w, name)
        w.run([name, "check"])
        sh("mount", "--bind", host_dir, w.root(name) / "mnt" / "bind")
        try:
            w.run([name, "start"], timeout=60)
        finally:
            sh("umount", w.root(name) / "mnt" / "bind", check=False)
        assert projid(w.root(name) / "hostfile")[0] == ctx
        assert projid(outside)[0] != ctx, "the tagger followed a symlink out of the guest"
        assert projid(host_dir)[0] != ctx, "the tagger crossed a mount point"

        st = os.statvfs(mnt)
        host_free = st.f_bavail * st.f_frsize
        disk = disk_status(w, name)
        assert disk["space_total_kib"] == SPACE_KIB and disk["inodes_total"] == INODES, disk
        assert disk["project_id"] == ctx
        used0 = disk["space_used_bytes"]

        # space: 30 MiB into a 20 MiB quota
        r = guest_sh(w, name, "dd if=/dev/zero of=/big bs=1M count=30 2>&1; sync; echo rc=$?")
        text = r.stdout + r.stderr
        assert "Disk quota exceeded" in text or "No space left" in text, text
        assert os.path.getsize(w.root(name) / "big") <= SPACE_KIB * 1024
        assert projid(w.root(name) / "big")[0] == ctx, "a file created in the guest did not inherit the id"
        st = os.statvfs(mnt)
        assert st.f_bavail * st.f_frsize > host_free - (SPACE_KIB * 1024) - (8 << 20)
        # the host can still write on the same filesystem
        (mnt / "hostwrite").write_bytes(b"y" * (25 << 20))
        (mnt / "hostwrite").unlink()
        disk = disk_status(w, name)
        assert disk["space_used_bytes"] > used0 + (10 << 20), disk
        out = w.run([name, "status"]).stdout
        assert f"/{SPACE_KIB} KiB, inodes " in out and f"/{INODES}" in out, out
        guest_sh(w, name, "rm -f /big")

        # inodes: many empty files into a 500-inode quota
        r = guest_sh(w, name, "mkdir -p /many; i=0; while touch /many/f$i 2>/tmp/err; do i=$((i+1)); done; "
                              "echo count=$i; cat /tmp/err")
        text = r.stdout + r.stderr
        assert "Disk quota exceeded" in text or "No space left" in text, text
        count = int(text.split("count=")[1].split()[0])
        assert 0 < count < INODES, text
        disk = disk_status(w, name)
        assert disk["inodes_used"] <= INODES and disk["inodes_used"] >= INODES - 5, disk

        # the limits survive stop and start
        w.run([name, "stop", "--timeout", "10"], timeout=60)
        disk = disk_status(w, name)
        assert disk["space_total_kib"] == SPACE_KIB and disk["inodes_total"] == INODES
        w.run([name, "start"], timeout=60)
        r = guest_sh(w, name, "touch /many/again 2>&1; echo rc=$?")
        assert "rc=0" not in r.stdout, r.stdout
        guest_sh(w, name, "rm -rf /many")
        r = guest_sh(w, name, "touch /after-restart && echo ok")
        assert "ok" in r.stdout
        assert projid(w.root(name) / "after-restart")[0] == ctx
        w.run([name, "stop", "--timeout", "10"], timeout=60)


# ---- no project quotas: check warns, start refuses ---------------------------------

@pytest.mark.parametrize("kind", ["xfs", "ext4-plain"])
def test_no_prjquota(tmp_path, vserver_bin, busybox_rootfs_tarball, kind):
    with loop_fs(tmp_path, kind, prjquota=False) as mnt, world_on(mnt, vserver_bin) as w:
        name = build_bb(w, busybox_rootfs_tarball)
        set_dlimits(w, name)
        r = w.run([name, "start"], check=False, timeout=60)
        assert r.returncode != 0
        err = r.stdout + r.stderr
        assert "disk limits" in err and "prjquota" in err, err
        hint = "mount the filesystem with -o prjquota" if kind == "xfs" else "tune2fs -O project,quota"
        assert hint in err, err
        assert w.state(name) is None, "start refused but left a state"
        assert w.cgroup_dirs(name) == [], "start refused but left a cgroup"
        j = disk_status(w, name)
        assert "error" in j and "prjquota" in j["error"], j
        # check: the host as it is now, a warning (not a configuration error)
        r = w.run([name, "check"])
        assert "configuration OK" in r.stdout
        assert "warning:" in r.stdout and "dlimits/root/directory" in r.stdout, r.stdout
        assert "prjquota" in r.stdout and "(start refuses this)" in r.stdout, r.stdout
        # a disabled entry is no disk limit: the guest starts
        (w.cfg(name) / "dlimits" / "root" / "disabled").write_text("")
        w.run([name, "start"], timeout=60)
        w.run([name, "stop", "--timeout", "10"], timeout=60)


def test_build_tags_tree_and_new_files_inherit(tmp_path, vserver_bin, busybox_rootfs, host_dir):
    """XFS keeps project ids without quotas: the build tags the tree, never
    through a symlink, and what the guest creates inherits the id."""
    tree = tmp_path / "tree"
    shutil.copytree(busybox_rootfs, tree, symlinks=True)
    (host_dir / "victim").write_text("host\n")
    os.symlink(str(host_dir), tree / "abs-escape")
    os.symlink("../../../../../../../../" + str(host_dir).lstrip("/"), tree / "rel-escape")
    os.symlink(str(host_dir / "victim"), tree / "file-escape")
    os.mkfifo(tree / "fifo")
    tarball = tmp_path / "tree.tar.gz"
    subprocess.run(["tar", "-C", str(tree), "--numeric-owner", "-czpf", str(tarball), "."], check=True)
    before = projid(host_dir / "victim"), projid(host_dir)
    with loop_fs(tmp_path, "xfs", prjquota=False) as mnt, world_on(mnt, vserver_bin) as w:
        r = w.build("bb", method="template", margs=("-t", tarball), timeout=120)
        ctx = context(w, "bb")
        assert f"project id {ctx}" in r.stdout, r.stdout
        root = w.root("bb")
        for p in (root, root / "bin", root / "etc", root / "bin" / "busybox", root / "t"):
            assert projid(p)[0] == ctx, p
        assert projid(root)[1] & FS_XFLAG_PROJINHERIT and projid(root / "etc")[1] & FS_XFLAG_PROJINHERIT
        assert (projid(host_dir / "victim"), projid(host_dir)) == before
        # no dlimits: the guest starts and its new files get the id
        w.run(["bb", "start"], timeout=60)
        r = guest_sh(w, "bb", "mkdir -p /var/new && echo data > /var/new/file && echo ok")
        assert "ok" in r.stdout, r.stdout + r.stderr
        assert projid(root / "var" / "new")[0] == ctx
        assert projid(root / "var" / "new" / "file")[0] == ctx
        w.run(["bb", "stop", "--timeout", "10"], timeout=60)
        cfg = w.config_json("bb")
        assert cfg["dlimits"] is None


# ---- bad values ----------------------------------------------------------------------

BAD = [
    ("space_total", "20M", "decimal number"),
    ("space_total", "-5", "decimal number"),
    ("space_total", "0", "0 is not allowed"),
    ("space_total", "18446744073709551616", "decimal number"),
    ("space_total", "9007199254740992", "too large"),
    ("inodes_total", "1e3", "decimal number"),
    ("inodes_total", "9223372036854775808", "too large"),
    ("reserved", "150", "0..100"),
    ("directory", "/somewhere/else", "must be the guest root"),
    ("directory", "relative", "absolute path"),
]


@pytest.mark.parametrize("key,value,reason", BAD)
def test_bad_values(vs, bbguest, key, value, reason):
    set_dlimits(vs, bbguest)
    f = vs.cfg(bbguest) / "dlimits" / "root" / key
    f.write_text(value + "\n")
    snap = vs.snapshot()
    r = vs.run([bbguest, "check"], check=2)
    assert f"{f}:1: " in r.stdout and reason in r.stdout, r.stdout
    r = vs.run([bbguest, "start"], check=False)
    assert r.returncode != 0 and reason in r.stderr, r.stderr
    assert vs.state(bbguest) is None
    assert vs.snapshot() == snap


def test_missing_and_second_entry(vs, bbguest):
    d = set_dlimits(vs, bbguest)
    (d / "inodes_total").unlink()
    r = vs.run([bbguest, "check"], check=2)
    assert f"{d}/inodes_total: missing" in r.stdout, r.stdout
    set_dlimits(vs, bbguest)
    set_dlimits(vs, bbguest, entry="second")
    r = vs.run([bbguest, "check"], check=2)
    assert "second disk limit" in r.stdout, r.stdout
    (vs.cfg(bbguest) / "dlimits" / "second" / "disabled").write_text("")
    cfg = vs.config_json(bbguest)
    assert cfg["dlimits"]["entry"] == "root" and cfg["dlimits"]["space_total_kib"] == SPACE_KIB
    assert cfg["dlimits"]["project_id"] == context(vs, bbguest)
