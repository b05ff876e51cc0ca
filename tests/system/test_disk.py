# SPDX-License-Identifier: GPL-2.0-or-later
"""Disk images (lib/disk.h, vserver(8) DISK IMAGES): `build --disk-size`
gives a guest root its own ext4 file system in ROOTBASE/.images/NAME.img,
loop-mounted on the root.  Where the kernel has no project quotas (this
machine), it is what bounds a guest's space and inodes (RS-03, RS-04 in
test_attacks.py run against it).

Every image here lives in the test's private world; the loop devices are
autoclear, and the world's cleanup unmounts what is left."""
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from conftest import assert_no_guest, mounts_under, wait_until

MiB = 1 << 20


def loops_under(base):
    """Loop devices whose backing file lies in `base`."""
    out = []
    for d in Path("/sys/block").glob("loop*"):
        try:
            f = (d / "loop" / "backing_file").read_text().strip()
        except OSError:
            continue
        if f.startswith(str(base) + "/"):
            out.append((d.name, f))
    return out


def image_of(vs, name):
    return vs.vdirbase / ".images" / f"{name}.img"


def host_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def dguest(vs, busybox_rootfs_tarball):
    """Guest 'dg' from the busybox tarball on a 48 MiB image with 3000 inodes."""
    vs.build("dg", "--disk-size", "48M", "--disk-inodes", "3000", method="template",
             margs=("-t", busybox_rootfs_tarball), timeout=120)
    return "dg"


def test_build_makes_a_mounted_image(vs, dguest):
    img = image_of(vs, dguest)
    root = vs.root(dguest)
    # the image: a root-owned 0600 file of the size asked for, allocated
    st = img.lstat()
    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_size == 48 * MiB and st.st_blocks * 512 >= 48 * MiB, "image not allocated in full"
    assert stat.S_IMODE((vs.vdirbase / ".images").stat().st_mode) == 0o700
    assert (vs.cfg(dguest) / "disk" / "image").read_text().strip() == str(img)
    # mounted on the root, which holds the guest (and no lost+found)
    assert os.path.ismount(root)
    assert (root / "bin" / "busybox").is_file() and not (root / "lost+found").exists()
    assert [f for _, f in loops_under(vs.base)] == [str(img)]
    sv = os.statvfs(root)
    assert 2900 <= sv.f_files <= 3100, sv.f_files   # mkfs.ext4 rounds -N to its layout
    # no blocks reserved for root (-m 0); ext4's metadata and journal take the rest
    sb = subprocess.run(["tune2fs", "-l", str(img)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Reserved block count:\s+0$", sb, re.M), sb
    assert 40 * MiB <= sv.f_blocks * sv.f_frsize <= 48 * MiB
    assert vs.config_json(dguest)["disk_image"] == str(img)
    assert vs.leftovers(dguest) == []
    assert [p.name for p in (vs.vdirbase / ".images").iterdir()] == [f"{dguest}.img"]


def test_guest_cannot_fill_more_than_its_image(vs, dguest):
    root = vs.root(dguest)
    free_before = host_free(vs.vdirbase)
    vs.run([dguest, "start"])
    try:
        r = vs.run([dguest, "exec", "/t", "diskfill", "/fill", "96"], timeout=120)
        word, n = r.stdout.split()
        assert word == "ENOSPC" and 36 <= int(n) < 48, r.stdout
        r = vs.run([dguest, "exec", "/t", "inodefill", "/", "10000"], timeout=120)
        word, n = r.stdout.split()
        assert word == "ENOSPC" and 2700 <= int(n) < 3100, r.stdout
        # the host's file system kept its space (the image was allocated at build)
        assert host_free(vs.vdirbase) > free_before - 16 * MiB
        j = json.loads(vs.run([dguest, "status", "--json"]).stdout)["disk"]
        assert j["image"] == str(image_of(vs, dguest))
        assert j["inodes_used"] == j["inodes_total"] and j["space_total_kib"] <= 48 * 1024
        assert "Disk:" in vs.run([dguest, "status"]).stdout
    finally:
        vs.run([dguest, "stop"], check=False)
    # stop keeps the file system mounted: the admin sees the guest's files
    assert os.path.ismount(root) and (root / "fill").is_file()


def test_start_mounts_the_image_after_a_host_reboot(vs, dguest):
    root = vs.root(dguest)
    subprocess.run(["umount", str(root)], check=True)        # what a reboot does
    assert not os.path.ismount(root) and list(root.iterdir()) == []
    assert loops_under(vs.base) == []                        # autoclear
    r = vs.run([dguest, "status", "--json"], check=False)
    assert "not mounted" in json.loads(r.stdout)["disk"]["error"]
    vs.run([dguest, "start"])
    try:
        assert os.path.ismount(root)
        assert vs.run([dguest, "exec", "cat", "/etc/hostname"]).stdout.strip() == dguest
    finally:
        vs.run([dguest, "stop"])
    assert os.path.ismount(root)


def test_failed_start_unmounts_what_it_mounted(vs, dguest, exposed_dir):
    root = vs.root(dguest)
    # refused after the image is mounted (S4): a read-write share of a host
    # directory that host users could run guest root's setuid programs from
    (vs.cfg(dguest) / "fstab").write_text(f"{exposed_dir} /mnt none bind 0 0\n")
    (root / "mnt").mkdir(exist_ok=True)
    subprocess.run(["umount", str(root)], check=True)
    r = vs.run([dguest, "start"], check=False)
    assert r.returncode != 0 and "fstab" in r.stderr, r.stderr
    assert not os.path.ismount(root), "a failed start left the image mounted"
    assert loops_under(vs.base) == []


def test_rename_moves_image_and_mount(vs, dguest):
    old_img = image_of(vs, dguest)
    vs.run([dguest, "rename", "dh"])
    new_img, root = image_of(vs, "dh"), vs.root("dh")
    assert not old_img.exists() and new_img.is_file()
    assert (vs.cfg("dh") / "disk" / "image").read_text().strip() == str(new_img)
    assert os.path.ismount(root) and not vs.root(dguest).exists()
    assert (root / "etc" / "hostname").read_text().strip() == "dh"
    assert [f for _, f in loops_under(vs.base)] == [str(new_img)]
    vs.run(["dh", "start"])
    vs.run(["dh", "stop"])


def test_clone_gets_an_image_of_its_own(vs, dguest):
    (vs.root(dguest) / "marker").write_text("from dg\n")
    subprocess.run(["umount", str(vs.root(dguest))], check=True)   # the clone mounts the source
    vs.build("dc", method="clone", margs=("--source", dguest), timeout=120)
    img = image_of(vs, "dc")
    assert img.stat().st_size == 48 * MiB
    assert os.path.ismount(vs.root("dc")) and os.path.ismount(vs.root(dguest))
    assert (vs.root("dc") / "marker").read_text() == "from dg\n"
    assert os.stat(vs.root("dc")).st_dev != os.stat(vs.root(dguest)).st_dev
    assert sorted(f for _, f in loops_under(vs.base)) == sorted([str(img), str(image_of(vs, dguest))])


def test_delete_unmounts_and_removes_the_image(vs, dguest):
    r = vs.run([dguest, "delete"])
    assert str(image_of(vs, dguest)) in r.stdout
    assert_no_guest(vs, dguest)
    assert not image_of(vs, dguest).exists()
    assert mounts_under(vs.base) == [] and loops_under(vs.base) == []


def test_delete_refuses_while_the_file_system_is_busy(vs, dguest):
    root = vs.root(dguest)
    fd = os.open(root / "etc" / "hostname", os.O_RDONLY)
    try:
        r = vs.run([dguest, "delete"], check=False)
    finally:
        os.close(fd)
    assert r.returncode == 4 and "busy" in r.stderr, (r.returncode, r.stderr)
    assert os.path.ismount(root) and (root / "bin" / "busybox").is_file() and image_of(vs, dguest).is_file()


def test_one_image_is_never_mounted_twice(vs, dguest, busybox_rootfs_tarball):
    vs.build("other", method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
    (vs.cfg("other") / "disk").mkdir()
    (vs.cfg("other") / "disk" / "image").write_text(f"{image_of(vs, dguest)}\n")
    r = vs.run(["other", "start"], check=False)
    assert r.returncode == 4 and f"is mounted on {vs.root(dguest)} already" in r.stderr, r.stderr
    assert not os.path.ismount(vs.root("other"))
    # nor taken along when the other guest is deleted
    r = vs.run(["other", "delete"], check=False)
    assert r.returncode == 4 and "in use elsewhere" in r.stderr, r.stderr
    assert image_of(vs, dguest).is_file() and os.path.ismount(vs.root(dguest))


@pytest.mark.parametrize("how", ["group-writable", "symlink", "not-root"])
def test_start_refuses_an_unsafe_image(vs, dguest, how):
    img, root = image_of(vs, dguest), vs.root(dguest)
    subprocess.run(["umount", str(root)], check=True)
    if how == "group-writable":
        os.chmod(img, 0o620)
    elif how == "not-root":
        os.chown(img, 1000, 0)
    else:
        real = img.with_name("real.img")
        img.rename(real)
        img.symlink_to(real)
    r = vs.run([dguest, "start"], check=False)
    assert r.returncode == 2 and str(img) in r.stderr, r.stderr
    assert ("link" in r.stderr) if how == "symlink" else ("owned by root" in r.stderr), r.stderr
    assert not os.path.ismount(root) and loops_under(vs.base) == []


@pytest.mark.parametrize("opts,msg", [
    (["--disk-size", "15M"], "16M..64T"),
    (["--disk-size", "1g"], "16M..64T"),
    (["--disk-size", "-64M"], "16M..64T"),
    (["--disk-size", "65T"], "16M..64T"),
    (["--disk-size", "64M", "--disk-inodes", "10"], "64..4294967295"),
    (["--disk-size", "64M", "--disk-inodes", "1e4"], "64..4294967295"),
    (["--disk-inodes", "1000"], "needs --disk-size"),
])
def test_bad_disk_options_change_nothing(vs, opts, msg):
    before = vs.snapshot()
    r = vs.run(["bad", "build", *opts, "-m", "skeleton"], check=False)
    assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert vs.snapshot() == before
    assert not (vs.vdirbase / ".images").exists() or list((vs.vdirbase / ".images").iterdir()) == []


def test_failed_build_leaves_no_image(vs, tmp_path):
    bad = tmp_path / "broken.tar.gz"
    bad.write_bytes(b"not a tarball")
    r = vs.run(["bb", "build", "--disk-size", "32M", "-m", "template", "--", "-t", str(bad)], check=False)
    assert r.returncode != 0
    assert_no_guest(vs, "bb")
    assert vs.leftovers("bb") == []
    assert list((vs.vdirbase / ".images").iterdir()) == []
    assert mounts_under(vs.base) == [] and loops_under(vs.base) == []


def test_bad_disk_image_key(vs):
    vs.build("k")
    (vs.cfg("k") / "disk").mkdir()
    for value in ("relative.img", "/a/../b.img", "/dir/"):
        (vs.cfg("k") / "disk" / "image").write_text(value + "\n")
        r = vs.run(["k", "check"], check=False)
        assert r.returncode == 2 and "disk/image:1:" in r.stdout and value in r.stdout, r.stdout


def test_rename_rolls_back_with_the_image(vs, dguest):
    img, root = image_of(vs, dguest), vs.root(dguest)
    (root / "etc" / "hostname").unlink()
    (root / "etc" / "hostname").mkdir()          # the identity update fails
    r = vs.run([dguest, "rename", "dh"], check=False)
    assert r.returncode != 0, r.stdout
    assert os.path.ismount(root) and not vs.root("dh").exists()
    assert img.is_file() and not image_of(vs, "dh").exists()
    assert (vs.cfg(dguest) / "disk" / "image").read_text().strip() == str(img)
    assert [f for _, f in loops_under(vs.base)] == [str(img)]
    assert (root / "bin" / "busybox").is_file()


def test_force_rebuild_refuses_an_image_guest(vs, dguest):
    r = vs.run([dguest, "build", "--force", "-m", "skeleton"], check=False)
    assert r.returncode != 0 and "--force cannot move it aside" in r.stderr, r.stderr
    assert os.path.ismount(vs.root(dguest)) and (vs.root(dguest) / "bin" / "busybox").is_file()
    assert image_of(vs, dguest).is_file() and vs.leftovers(dguest) == []
    assert not list(vs.vdirbase.glob(f"{dguest}.~*")) and not list(vs.confdir.glob(f"{dguest}.~*"))


@pytest.fixture
def pinned(vs, dguest):
    """A copy of the image's mount held by a private mount namespace, as any
    host user can make one (unshare -Urm); this one is root's, started here
    and killed by pid."""
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sleep", "120"])
    try:
        assert os.path.ismount(vs.root(dguest))
        yield p
    finally:
        p.kill()
        p.wait()


def test_a_mount_held_elsewhere_does_not_strand_the_guest(vs, dguest, pinned):
    root = vs.root(dguest)
    assert wait_until(lambda: any(str(root) in ln for ln in open(f"/proc/{pinned.pid}/mountinfo")))
    # unmounted here while a copy is held elsewhere: the loop device stays,
    # and start mounts that same device again (never a second one on the file)
    subprocess.run(["umount", str(root)], check=True)
    assert len(loops_under(vs.base)) == 1
    vs.run([dguest, "start"])
    assert os.path.ismount(root) and len(loops_under(vs.base)) == 1
    vs.run([dguest, "stop"])
    # rename moves the mount (a bind, then the unmount): the file system is never let go
    vs.run([dguest, "rename", "dh"])
    assert os.path.ismount(vs.root("dh")) and len(loops_under(vs.base)) == 1
    vs.run(["dh", "start"])
    vs.run(["dh", "stop"])
    vs.run(["dh", "delete"])
    assert_no_guest(vs, "dh")
    assert not image_of(vs, "dh").exists()
    pinned.kill()
    pinned.wait()
    assert wait_until(lambda: loops_under(vs.base) == [])


def test_delete_says_when_another_namespace_holds_the_image(vs, dguest, tmp_path):
    pin = tmp_path / "pin"
    pin.mkdir()
    # a private mount namespace with its own bind of the guest's file system
    p = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                          f"mount --bind {vs.root(dguest)} {pin} && echo ready && exec sleep 120"],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        r = vs.run([dguest, "delete"])
        assert "another mount namespace still holds" in r.stdout, r.stdout
        assert_no_guest(vs, dguest)
        assert not image_of(vs, dguest).exists()
    finally:
        p.kill()
        p.wait()
    assert wait_until(lambda: loops_under(vs.base) == [])


@pytest.mark.parametrize("how", ["invalid", "removed"])
def test_delete_never_empties_a_mounted_root(vs, dguest, how):
    root = vs.root(dguest)
    if how == "invalid":
        (vs.cfg(dguest) / "disk" / "image").write_text("relative.img\n")
    else:
        (vs.cfg(dguest) / "disk" / "image").unlink()
    r = vs.run([dguest, "delete"], check=False)
    assert r.returncode != 0, r.stdout
    assert ("disk/image" if how == "invalid" else "is a mount point") in r.stderr, r.stderr
    assert os.path.ismount(root) and (root / "bin" / "busybox").is_file() and vs.cfg(dguest).is_dir()


def test_start_checks_a_mounted_image_too(vs, dguest):
    assert "warning" not in vs.run([dguest, "check"]).stdout
    os.chmod(image_of(vs, dguest), 0o620)
    r = vs.run([dguest, "start"], check=False)
    assert r.returncode == 2 and "writable by root alone" in r.stderr, r.stderr
    assert vs.state(dguest) is None
    # check says it too, as a finding about the host (start refuses this)
    r = vs.run([dguest, "check"], check=False)
    assert "warning:" in r.stdout and "disk/image" in r.stdout and "writable by root alone" in r.stdout, r.stdout


def test_image_among_guest_roots_is_refused(vs, dguest, busybox_rootfs_tarball):
    vs.build("o2", method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
    inside = vs.root(dguest) / "planted.img"
    subprocess.run(["cp", "--sparse=always", str(image_of(vs, dguest)), str(inside)], check=True)
    (vs.cfg("o2") / "disk").mkdir()
    (vs.cfg("o2") / "disk" / "image").write_text(f"{inside}\n")
    r = vs.run(["o2", "start"], check=False)
    assert r.returncode == 2 and "among the guest roots" in r.stderr, r.stderr
    assert not os.path.ismount(vs.root("o2"))


def test_clones_keep_size_and_inodes_and_may_run_together(vs, dguest):
    subprocess.run(["umount", str(vs.root(dguest))], check=True)  # both clones mount the source
    procs = [vs.popen([n, "build", "-m", "clone", "--", "--source", dguest]) for n in ("c1", "c2")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    src = os.statvfs(vs.root(dguest))
    for n in ("c1", "c2"):
        sv = os.statvfs(vs.root(n))
        assert sv.f_files == src.f_files and sv.f_blocks == src.f_blocks, n
        assert image_of(vs, n).stat().st_size == 48 * MiB
    assert len(loops_under(vs.base)) == 3


def test_dlimits_and_disk_image_exclude_each_other(vs, dguest):
    d = vs.cfg(dguest) / "dlimits" / "0"
    d.mkdir(parents=True)
    (d / "directory").write_text(f"{vs.root(dguest)}\n")
    (d / "space_total").write_text("10000\n")
    (d / "inodes_total").write_text("1000\n")
    r = vs.run([dguest, "check"], check=False)
    assert r.returncode == 2 and "exclude each other" in r.stdout, r.stdout


def test_rootdir_keeps_its_images_beside_its_roots(vs, tmp_path, busybox_rootfs_tarball):
    other = tmp_path / "elsewhere"
    other.mkdir(mode=0o700)
    vs.build("far", "--rootdir", str(other), "--disk-size", "16M", method="template",
             margs=("-t", busybox_rootfs_tarball), timeout=120)
    img = other / ".images" / "far.img"
    assert img.is_file() and os.path.ismount(other / "far")
    assert (vs.cfg("far") / "disk" / "image").read_text().strip() == str(img)
    assert not (vs.vdirbase / ".images").exists()
    vs.run(["far", "start"])
    vs.run(["far", "stop"])
    vs.run(["far", "delete"])
    assert not img.exists() and not (other / "far").exists() and loops_under(tmp_path) == []


def losetup(*args):
    return subprocess.run(["losetup", *args], capture_output=True, text=True, check=True).stdout.strip()


def test_an_image_on_two_loop_devices_is_never_mounted(vs, dguest):
    img, root = image_of(vs, dguest), vs.root(dguest)
    subprocess.run(["umount", str(root)], check=True)
    devs = [losetup("-f", "--show", str(img)) for _ in range(2)]     # set up by hand, no autoclear
    try:
        r = vs.run([dguest, "start"], check=False)
        assert r.returncode == 4 and "several loop devices" in r.stderr, r.stderr
        assert not os.path.ismount(root)
        losetup("-d", devs.pop())
        # one device left: the same device is mounted again (one file system)
        vs.run([dguest, "start"])
        assert os.path.ismount(root) and len(loops_under(vs.base)) == 1
        vs.run([dguest, "stop"])
        r = vs.run([dguest, "delete"])
        assert "set up without autoclear" in r.stdout, r.stdout
    finally:
        for d in devs:
            subprocess.run(["losetup", "-d", d], capture_output=True)
    assert wait_until(lambda: loops_under(vs.base) == [])


def test_clone_refuses_a_source_with_a_bad_disk_image(vs, dguest):
    (vs.cfg(dguest) / "disk" / "image").write_text("relative.img\n")
    r = vs.run(["cl", "build", "-m", "clone", "--", "--source", dguest], check=False)
    assert r.returncode == 2 and "disk/image" in r.stderr, r.stderr
    assert_no_guest(vs, "cl")
    assert vs.leftovers("cl") == []
