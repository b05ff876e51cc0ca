# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile guest trees (security-catalogue.md section 2: HS-01, HS-02,
HS-05).

Everything below a guest root is attacker-controlled.  A template whose
etc/hosts is a symlink to a host file, whose etc is a symlink to /, whose
etc/hostname is a FIFO ...: build post-install, rename and delete must
modify no host file and must not hang.  "Host files" are canaries in a
directory outside every guest tree; their content, inode and mtime are
compared, and no file may appear next to them.

The cases that point at the real / run in a private mount namespace in
which / is read-only and the vserver world lives on a tmpfs: a defence
that fails then shows up as EROFS instead of damaging the host.
"""
import os
import shutil
import stat
import subprocess

import pytest

from conftest import assert_no_guest, make_tarball, no_erofs, run_with_readonly_host, snapshot, snapshot_diff

TIMEOUT = 60


def read(p):
    with open(p) as f:
        return f.read()


@pytest.fixture
def canaries(host_dir):
    """Host files and directories a hostile guest points at."""
    (host_dir / "canary").write_text("CANARY\n")
    (host_dir / "shadow").write_text("root::19000:0:99999:7:::\n")
    (host_dir / "inittab").write_text("1:2345:respawn:/sbin/getty 38400 tty1\n")
    etc = host_dir / "etc"
    etc.mkdir()
    for n, v in (("hostname", "hosthost\n"), ("hosts", "127.0.0.1 localhost\n"), ("resolv.conf", "nameserver 1\n"),
                 ("shadow", "root::1::::::\n"), ("mtab", "mtab\n"), ("inittab", "1:2345:respawn:getty\n")):
        (etc / n).write_text(v)
    rc = host_dir / "rc"
    rc.mkdir()
    (rc / "S01udev").write_text("host file that looks like a guest rc link\n")
    (host_dir / "systemd").mkdir()
    (host_dir / "empty").mkdir()
    return host_dir


def host_snapshot(d):
    """Content, inode, mode, owner and mtime of the host canaries.  The link
    count is left out: replacing a guest's hard link to a canary lowers it."""
    snap = snapshot(d)
    for e in snap.values():
        if e:
            e.pop("nlink", None)
    return snap


def up(n=12):
    return "../" * n


def sym(target):
    return lambda p: os.symlink(target, p)


def fifo(p):
    os.mkfifo(p)


def null_dev(p):
    os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))


def hostile_cases(h):
    """{case: {relpath: content | None (dir) | callable(path)}} with h the host dir."""
    systemd = {"lib/systemd/systemd": "x", "sbin/init": sym("/lib/systemd/systemd"),
               "lib/systemd/system/systemd-udevd.service": "[Unit]\n",
               "lib/systemd/system/getty@.service": "[Unit]\n"}
    sysv = {"sbin/init": "x", "etc/init.d/rc": "x"}
    return {
        "hosts-abs-link": {"etc/hosts": sym(f"{h}/canary")},
        "hosts-rel-link": {"etc/hosts": sym(f"{up()}{h}/canary")},
        "hosts-dir-link": {"etc/hosts": sym(f"{h}/empty")},
        "hostname-fifo": {"etc/hostname": fifo},
        "hostname-link": {"etc/hostname": sym(f"{h}/canary")},
        "hosts-device": {"etc/hosts": null_dev},
        "resolv-link": {"etc/resolv.conf": sym(f"{h}/canary")},
        "resolv-rel-link": {"etc/resolv.conf": sym(f"{up()}{h}/canary")},
        "resolv-fifo": {"etc/resolv.conf": fifo},
        "mtab-link": {"etc/mtab": sym(f"{h}/canary")},
        "mtab-device": {"etc/mtab": null_dev},
        "mtab-fifo": {"etc/mtab": fifo},
        "shadow-link": {"etc/shadow": sym(f"{h}/shadow")},
        "shadow-rel-link": {"etc/shadow": sym(f"{up()}{h}/shadow")},
        "shadow-fifo": {"etc/shadow": fifo},
        "etc-link-hostdir": {"etc": sym(f"{h}/etc")},
        "etc-rel-link-hostdir": {"etc": sym(f"{up()}{h}/etc")},
        "etc-dotdot-link": {"etc": sym("..")},
        "rc-dir-link": {**sysv, "etc/rc2.d": sym(f"{h}/rc")},
        "inittab-link": {**sysv, "etc/inittab": sym(f"{h}/inittab")},
        "inittab-fifo": {**sysv, "etc/inittab": fifo},
        "systemd-dir-link": {**systemd, "etc/systemd/system": sym(f"{h}/systemd")},
        "systemd-unit-link": {**systemd, "etc/systemd/system/systemd-udevd.service": sym(f"{h}/canary")},
        "systemd-parent-link": {**systemd, "etc/systemd": sym(f"{h}")},
        "init-link-out": {"sbin/init": sym(f"{h}/canary")},
        "everything": {"etc/hosts": sym(f"{h}/canary"), "etc/hostname": fifo, "etc/resolv.conf": sym(f"{h}/canary"),
                       "etc/mtab": null_dev, "etc/shadow": sym(f"{h}/shadow")},
    }


def make_tree(d, files):
    d.mkdir()
    for rel, v in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(v):
            v(p)
        elif v is None:
            p.mkdir()
        else:
            p.write_text(v)


HOST_ROOT_FILES = ("/hostname", "/hosts", "/resolv.conf", "/mtab", "/shadow", "/inittab", "/.mtab.vserver~",
                   "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/etc/shadow", "/etc/inittab",
                   "/etc/systemd/system")


def host_root_state():
    out = {}
    for p in HOST_ROOT_FILES:
        try:
            st = os.lstat(p)
            out[p] = (stat.S_IFMT(st.st_mode), st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            out[p] = None
    return out


def assert_guest_file_regular(root, rel):
    st = os.lstat(root / rel)
    assert stat.S_ISREG(st.st_mode), (rel, oct(st.st_mode))


# ---- build post-install -------------------------------------------------------------------

CASE_IDS = list(hostile_cases("/h"))


@pytest.mark.parametrize("case", CASE_IDS)
def test_build_postinstall_hostile_template(vs, canaries, tmp_path, case):
    files = hostile_cases(canaries)[case]
    make_tree(tmp_path / "tree", files)
    tb = make_tarball(tmp_path / "tree", tmp_path / "hostile.tar")
    before, host_before = host_snapshot(canaries), host_root_state()
    r = vs.build("hg", method="template", margs=["-t", tb], check=False, timeout=TIMEOUT)
    after = host_snapshot(canaries)
    assert before == after, f"host files changed:\n{snapshot_diff(before, after)}\n{r.stdout}\n{r.stderr}"
    assert host_root_state() == host_before
    assert "Traceback" not in r.stderr
    if r.returncode == 0:
        root = vs.root("hg")
        # what post-install writes is now a regular file inside the guest
        etc = root / "etc"
        if not os.path.islink(etc):
            for rel in ("etc/hostname", "etc/hosts", "etc/resolv.conf"):
                assert_guest_file_regular(root, rel)
            assert os.readlink(root / "etc" / "mtab") == "../proc/self/mounts"
            assert read(root / "etc" / "hostname") == "hg\n"
        vs.run(["hg", "check"])
    else:
        assert r.returncode in (1, 2), r
        assert r.stderr.startswith("vserver: "), r.stderr
        assert_no_guest(vs, "hg")


# ---- rename and delete of a guest planted after the build ----------------------------------

def plant_cases(h):
    cases = hostile_cases(h)
    # guest root and host files on one filesystem: hard links to host files
    cases["hosts-hardlink"] = {"etc/hosts": lambda p: os.link(f"{h}/canary", p)}
    cases["hostname-hardlink"] = {"etc/hostname": lambda p: os.link(f"{h}/canary", p)}
    # a link to a host directory anywhere in the root (delete must not follow it)
    cases["dir-link-in-root"] = {"srv/data": sym(f"{h}/etc"), "var/lib/rel": sym(f"{up()}{h}/rc")}
    cases["root-link-to-host"] = {"host": sym(str(h))}
    return cases


PLANT_IDS = list(plant_cases("/h"))


def plant(root, files):
    for rel, v in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(p):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
        if callable(v):
            v(p)
        elif v is None:
            p.mkdir()
        else:
            p.write_text(v)


@pytest.mark.parametrize("case", PLANT_IDS)
def test_rename_and_delete_hostile_guest(vs, canaries, case):
    vs.build("hg", "--interface", "192.0.2.40")
    root = vs.root("hg")
    plant(root, plant_cases(canaries)[case])
    before, host_before = host_snapshot(canaries), host_root_state()

    r = vs.run(["hg", "rename", "hn"], check=False, timeout=TIMEOUT)
    after = host_snapshot(canaries)
    assert before == after, f"rename changed host files:\n{snapshot_diff(before, after)}\n{r.stdout}{r.stderr}"
    assert host_root_state() == host_before
    if r.returncode == 0:
        name = "hn"
        assert not os.path.lexists(vs.cfg("hg")) and not os.path.lexists(vs.root("hg"))
        assert read(vs.cfg("hn") / "uts" / "nodename") == "hn\n"
    else:
        # refused or rolled back: the old guest is intact
        assert r.returncode in (1, 2), r
        name = "hg"
        assert not os.path.lexists(vs.cfg("hn")) and not os.path.lexists(vs.root("hn"))
        assert read(vs.cfg("hg") / "uts" / "nodename") == "hg\n"
        assert os.readlink(vs.cfg("hg") / "vdir") == str(root)
    vs.run([name, "check"])

    r = vs.run([name, "delete", "--force"], check=False, timeout=TIMEOUT)
    after = host_snapshot(canaries)
    assert before == after, f"delete changed host files:\n{snapshot_diff(before, after)}\n{r.stdout}{r.stderr}"
    assert host_root_state() == host_before
    assert r.returncode == 0, r
    assert_no_guest(vs, name)
    assert not os.path.lexists(vs.cachebase / name)


# ---- the same against the real / : read-only host in a private namespace ----------------------

def test_etc_link_to_root_template(vs, tmp_path, need_unshare):
    """A template whose etc is a symlink to /: build, rename and delete,
    with the real / read-only."""
    tree = tmp_path / "tree"
    make_tree(tree, {"etc": sym("/"), "sbin/init": "x", "etc-real": None})
    tb = make_tarball(tree, tmp_path / "etc-root.tar")
    host_before = host_root_state()
    steps = run_with_readonly_host(vs, tmp_path, [
        ["er", "build", "-m", "template", "--", "-t", str(tb)],
        ["er", "check"],
        ["er", "rename", "es"],
        ["es", "delete", "--force"],
    ])
    assert host_root_state() == host_before
    for s in steps:
        no_erofs(s)
    build, check, rename, delete = steps
    if build["rc"] == 0:
        assert check["rc"] == 0, check
        assert rename["rc"] == 0, rename
        assert delete["rc"] == 0, delete
    else:
        assert build["rc"] in (1, 2), build


def test_etc_link_to_root_planted(vs, tmp_path, need_unshare):
    """A stopped guest whose root replaced its etc with a link to /: rename
    and delete, with the real / read-only."""
    host_before = host_root_state()
    steps = run_with_readonly_host(vs, tmp_path, [
        ["ep", "build", "-m", "skeleton"],
        ["plant", "ep"],
        ["ep", "rename", "eq"],
        ["eq", "rename", "ep"],
        ["ep", "delete", "--force"],
        ["list"],
    ])
    assert host_root_state() == host_before
    for s in steps:
        no_erofs(s)
    build, _, ren1, ren2, delete, lst = steps
    assert build["rc"] == 0, build
    for s in (ren1, ren2):
        assert s["rc"] in (0, 1, 2), s
    assert delete["rc"] == 0, delete
    assert lst["out"].splitlines()[1:] == [], lst


# ---- HS-05: no guest binary or library runs on the host ------------------------------------

FAKE_LIB = r'''
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void canary(void)
{
    int fd = open(CANARY, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) { write(fd, "loaded\n", 7); close(fd); }
}
'''


@pytest.fixture
def fake_nss(tmp_path, host_dir):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to build the fake NSS module")
    canary = host_dir / "vs-nss-canary"
    src = tmp_path / "fake.c"
    src.write_text(FAKE_LIB)
    so = tmp_path / "libnss_files.so.2"
    subprocess.run([cc, "-shared", "-fPIC", f'-DCANARY="{canary}"', "-o", str(so), str(src)], check=True)
    # control: the module does leave the canary when it is loaded
    subprocess.run(["/bin/true"], env={**os.environ, "LD_PRELOAD": str(so)}, check=True)
    assert canary.exists(), "the fake module does not work; the test would prove nothing"
    canary.unlink()
    return so, canary


def plant_guest_code(root, so, canary):
    """Fake NSS modules, libc and tools in every place a host process that
    entered the guest would load or run them from."""
    libdirs = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib64",
               "lib/i386-linux-gnu"]
    for d in libdirs:
        (root / d).mkdir(parents=True, exist_ok=True)
        for n in ("libnss_files.so.2", "libnss_compat.so.2", "libnss_systemd.so.2", "libnss_dns.so.2"):
            shutil.copy(so, root / d / n)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc" / "nsswitch.conf").write_text("passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n")
    (root / "etc" / "ld.so.preload").write_text("/lib/x86_64-linux-gnu/libnss_files.so.2\n")
    script = f"#!/bin/sh\necho ran >> {canary}\necho ran >> /vs-guest-canary\n"
    for t in ("bin/sh", "bin/bash", "bin/cp", "bin/tar", "bin/true", "usr/bin/env", "usr/sbin/chroot",
              "usr/sbin/useradd", "sbin/ldconfig", "usr/bin/dpkg", "usr/bin/apt-get", "sbin/init",
              "usr/bin/getent", "usr/bin/id", "usr/sbin/update-rc.d", "bin/systemctl", "usr/bin/hostname"):
        p = root / t
        p.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(p):
            os.unlink(p)
        p.write_text(script)
        os.chmod(p, 0o755)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n")
    (root / "etc" / "shadow").write_text("root::19000:0:99999:7:::\n")
    (root / "etc" / "init.d").mkdir(exist_ok=True)
    (root / "etc" / "init.d" / "rc").write_text(script)


def test_no_guest_code_runs_on_host(vs, tmp_path, fake_nss):
    so, canary = fake_nss
    tree = tmp_path / "tree"
    tree.mkdir()
    plant_guest_code(tree, so, canary)
    owned = tree / "home" / "u"
    owned.mkdir(parents=True)
    os.chown(owned, 4321, 4321)          # owners are extracted by number, not looked up in the guest
    tb = make_tarball(tree, tmp_path / "nss.tar.gz", "gz")

    def no_canary(where):
        for r in (vs.root(n) for n in ("nss", "nss2", "nss3")):
            assert not os.path.lexists(str(r) + str(canary)), where
            assert not os.path.lexists(r / "vs-guest-canary"), where
        assert not canary.exists(), f"a guest library or binary ran on the host during {where}"

    vs.build("nss", "--interface", "192.0.2.50", method="template", margs=["-t", tb])
    no_canary("build -m template")
    assert os.lstat(vs.root("nss") / "home" / "u").st_uid == 4321
    plant_guest_code(vs.root("nss"), so, canary)       # post-install replaced some of it
    for args in (["nss", "check"], ["nss", "config"], ["nss", "config", "--json"], ["list"], ["list", "--json"],
                 ["nss", "status"], ["nss", "running"]):
        vs.run(args, check=False, timeout=TIMEOUT)
        no_canary(" ".join(args))
    vs.build("nss2", method="clone", margs=["--source", "nss"], timeout=TIMEOUT)
    no_canary("build -m clone")
    vs.run(["nss", "rename", "nss3"], timeout=TIMEOUT)
    no_canary("rename")
    vs.run(["nss3", "delete", "--force"], timeout=TIMEOUT)
    vs.run(["nss2", "delete", "--force"], timeout=TIMEOUT)
    no_canary("delete")
