# SPDX-License-Identifier: GPL-2.0-or-later
"""vserver NAME build: skeleton, template, clone, rsync, debootstrap; contexts,
--force, --keep, post-install, init style detection, concurrency."""
import errno
import os
import platform
import re
import shutil
import stat
import struct
import subprocess
import time

import pytest

from conftest import FAKE_HOST_RESOLV, FakeRunning, assert_no_guest, make_tarball, snapshot, snapshot_diff

PHASES = ("[1/4]", "[2/4]", "[3/4]", "[4/4]")


def read(p):
    with open(p) as f:
        return f.read()


def assert_built(vs, name, method, r):
    for ph in PHASES:
        assert ph in r.stdout, r.stdout
    assert re.search(rf"built guest '{name}' with {method} in \d+\.\d s", r.stdout), r.stdout
    assert vs.leftovers(name) == []
    assert os.readlink(vs.cfg(name) / "vdir") == str(vs.root(name))
    assert os.readlink(vs.cfg(name) / "cache") == str(vs.cachebase / name)
    assert vs.run([name, "check"]).stdout == f"{name}: configuration OK\n"


# ---- skeleton ------------------------------------------------------------------

def test_skeleton(vs):
    r = vs.build("sk")
    assert_built(vs, "sk", "skeleton", r)
    cfg, root = vs.cfg("sk"), vs.root("sk")
    assert read(cfg / "context") == "40000\n"
    assert read(cfg / "uts" / "nodename") == "sk\n"
    assert read(cfg / "apps" / "init" / "style") == "sysv\n"
    assert (cfg / "fstab").is_file()
    assert vs.config_json("sk")["fstab"] == []
    assert (vs.cachebase / "sk").is_dir()
    st = os.lstat(root)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o755
    modes = {"dev": 0o755, "proc": 0o555, "sys": 0o555, "run": 0o755, "tmp": 0o1777, "etc": 0o755,
             "root": 0o700, "var": 0o755}
    for d, m in modes.items():
        st = os.lstat(root / d)
        assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == m, (d, oct(st.st_mode))
    assert read(root / "etc" / "hostname") == "sk\n"
    assert read(root / "etc" / "resolv.conf") == FAKE_HOST_RESOLV
    assert os.readlink(root / "etc" / "mtab") == "../proc/self/mounts"
    # every file it writes is the guest's: nothing else in the root
    assert sorted(os.listdir(root)) == sorted(modes)
    assert sorted(os.listdir(root / "etc")) == ["hostname", "hosts", "mtab", "resolv.conf"]
    c = vs.config_json("sk")
    assert c["context"] == 40000 and c["uts"]["nodename"] == "sk" and c["vdir"] == str(root)
    assert c["uts"]["machine"] == platform.machine()


def test_skeleton_options(vs):
    vs.build("web", "--context", "1234", "--hostname", "web.example.org", "--interface", "192.0.2.10/24",
             "--interface", "lbl=eth0:192.0.2.11", "--interface", "nodev:2001:db8::5/64", "--initstyle", "plain")
    cfg, root = vs.cfg("web"), vs.root("web")
    assert read(cfg / "context") == "1234\n"
    assert read(cfg / "uts" / "nodename") == "web.example.org\n"
    assert read(cfg / "apps" / "init" / "style") == "plain\n"
    c = vs.config_json("web")
    ifs = {i["id"]: i for i in c["interfaces"]}
    assert ifs["0"]["ip"] == "192.0.2.10/24"
    assert ifs["1"]["ip"] == "192.0.2.11" and ifs["1"]["dev"] == "eth0" and ifs["1"]["label"] == "lbl"
    assert ifs["2"]["ip"] == "2001:db8::5/64" and ifs["2"]["nodev"] is True
    assert c["init"]["style"] == "plain"
    assert read(root / "etc" / "hostname") == "web.example.org\n"
    hosts = read(root / "etc" / "hosts").splitlines()
    assert "127.0.0.1\tlocalhost" in hosts
    assert "127.0.1.1\tweb.example.org web" in hosts
    assert "192.0.2.10\tweb.example.org web" in hosts
    assert "2001:db8::5\tweb.example.org web" in hosts


def test_rootdir(vs, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    vs.build("rd", "--rootdir", str(other) + "/")
    assert (other / "rd" / "etc" / "hostname").is_file()
    assert not os.path.lexists(vs.root("rd"))
    assert os.readlink(vs.cfg("rd") / "vdir") == str(other / "rd")
    assert vs.config_json("rd")["vdir"] == str(other / "rd")
    vs.run(["rd", "check"])
    vs.run(["rd", "delete", "--force"])
    assert not os.path.lexists(other / "rd") and other.is_dir()


# ---- template ------------------------------------------------------------------

def set_acl(path, uid=1234):
    """Give path an access ACL (user:uid:r--) with setfacl, or through the
    raw system.posix_acl_access xattr when setfacl is missing."""
    if shutil.which("setfacl"):
        subprocess.run(["setfacl", "-m", f"u:{uid}:r", str(path)], check=True)
        return
    undef = 0xFFFFFFFF
    entries = [(0x01, 6, undef), (0x02, 4, uid), (0x04, 4, undef), (0x10, 4, undef), (0x20, 4, undef)]
    blob = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)
    try:
        os.setxattr(path, "system.posix_acl_access", blob)
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.ENOTSUP):
            pytest.skip("the filesystem has no POSIX ACLs")
        raise


def get_acl(path):
    try:
        return os.getxattr(path, "system.posix_acl_access", follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.ENODATA:
            return None
        raise


def make_tree(d):
    """A small root file system with the things a copy must keep."""
    for sub in ("etc", "bin", "usr/bin", "var/lib/x", "dev", "srv/private"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    (d / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n")
    sh = d / "etc" / "shadow"
    sh.write_text("root::19000:0:99999:7:::\nuser:$6$salt$hash:19000:0:99999:7:::\n")
    os.chown(sh, 0, 42)
    os.chmod(sh, 0o640)
    (d / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 oldname\n10.1.2.3 db.internal db\n"
                                     "# admin comment\n")
    (d / "etc" / "hostname").write_text("oldname\n")
    (d / "bin" / "a").write_bytes(b"hard-linked content\n")
    os.link(d / "bin" / "a", d / "bin" / "b")
    os.link(d / "bin" / "a", d / "usr" / "bin" / "c")
    os.symlink("../../bin/a", d / "usr" / "bin" / "rel-link")
    os.symlink("/etc/passwd", d / "usr" / "bin" / "abs-link")
    su = d / "usr" / "bin" / "setuid"
    su.write_bytes(b"\x7fELF-not-really\n")
    os.chown(su, 0, 0)
    os.chmod(su, 0o4755)
    owned = d / "var" / "lib" / "x" / "owned"
    owned.write_text("owned by 1234:5678\n")
    os.chown(owned, 1234, 5678)
    os.chmod(d / "srv" / "private", 0o700)
    os.mkfifo(d / "var" / "lib" / "x" / "fifo")
    os.mknod(d / "dev" / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    x = d / "var" / "lib" / "x" / "xattr"
    x.write_text("has a user.x xattr\n")
    os.setxattr(x, "user.x", b"hello")
    os.utime(d / "bin" / "a", ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    with open(d / "var" / "lib" / "x" / "sparse", "wb") as f:
        f.seek(1 << 20)
        f.write(b"tail")


def check_tree_copy(src, dst, acl=False):
    """dst keeps what make_tree put into src."""
    a, b = dst / "bin" / "a", dst / "bin" / "b"
    assert read(a) == "hard-linked content\n"
    ia = os.lstat(a).st_ino
    assert os.lstat(b).st_ino == ia and os.lstat(dst / "usr" / "bin" / "c").st_ino == ia
    assert os.lstat(a).st_nlink == 3
    assert os.lstat(a).st_mtime_ns == 1_500_000_000_000_000_000
    assert os.readlink(dst / "usr" / "bin" / "rel-link") == "../../bin/a"
    assert os.readlink(dst / "usr" / "bin" / "abs-link") == "/etc/passwd"
    st = os.lstat(dst / "usr" / "bin" / "setuid")
    assert stat.S_IMODE(st.st_mode) == 0o4755 and st.st_uid == 0
    st = os.lstat(dst / "var" / "lib" / "x" / "owned")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert stat.S_IMODE(os.lstat(dst / "srv" / "private").st_mode) == 0o700
    assert stat.S_ISFIFO(os.lstat(dst / "var" / "lib" / "x" / "fifo").st_mode)
    st = os.lstat(dst / "dev" / "null")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert os.getxattr(dst / "var" / "lib" / "x" / "xattr", "user.x") == b"hello"
    assert os.path.getsize(dst / "var" / "lib" / "x" / "sparse") == (1 << 20) + 4
    if acl:
        assert get_acl(dst / "var" / "lib" / "x" / "owned") == get_acl(src / "var" / "lib" / "x" / "owned")
        assert get_acl(dst / "var" / "lib" / "x" / "owned") is not None
    # the copy shares nothing with its source
    assert os.lstat(a).st_ino != os.lstat(src / "bin" / "a").st_ino


def check_postinstall(root, name):
    assert read(root / "etc" / "hostname") == f"{name}\n"
    hosts = read(root / "etc" / "hosts").splitlines()
    assert hosts[0] == "127.0.0.1\tlocalhost"
    assert hosts[1] == f"127.0.1.1\t{name}"
    assert "10.1.2.3 db.internal db" in hosts and "# admin comment" in hosts
    assert not any("oldname" in h for h in hosts)
    assert any(h.startswith("::1") for h in hosts)
    assert read(root / "etc" / "resolv.conf") == FAKE_HOST_RESOLV
    assert os.readlink(root / "etc" / "mtab") == "../proc/self/mounts"
    assert read(root / "etc" / "shadow") == "root:*:19000:0:99999:7:::\nuser:$6$salt$hash:19000:0:99999:7:::\n"
    st = os.lstat(root / "etc" / "shadow")
    assert stat.S_IMODE(st.st_mode) == 0o640 and (st.st_uid, st.st_gid) == (0, 42)


@pytest.fixture
def tree(tmp_path):
    d = tmp_path / "tree"
    d.mkdir()
    make_tree(d)
    return d


@pytest.mark.parametrize("compression,suffix", [(None, ".tar"), ("gz", ".tar.gz"), ("gz", ".tgz"),
                                                ("xz", ".tar.xz"), ("zst", ".tar.zst")])
def test_template(vs, tree, tmp_path, compression, suffix):
    if compression == "zst" and not shutil.which("zstd"):
        pytest.skip("zstd is not installed")
    tb = make_tarball(tree, tmp_path / f"rootfs{suffix}", compression)
    r = vs.build("tp", method="template", margs=["-t", tb])
    assert_built(vs, "tp", "template", r)
    check_tree_copy(tree, vs.root("tp"))
    check_postinstall(vs.root("tp"), "tp")
    out = r.stdout
    for what in ("etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab", "root's empty password locked"):
        assert what in out, what
    assert stat.S_IMODE(os.lstat(vs.root("tp")).st_mode) == 0o755


def test_template_keeps_acl(vs, tree, tmp_path):
    set_acl(tree / "var" / "lib" / "x" / "owned")
    tb = tmp_path / "acl.tar"
    subprocess.run(["tar", "-C", str(tree), "--numeric-owner", "--acls", "--xattrs", "-cpf", str(tb), "."],
                   check=True)
    vs.build("ta", method="template", margs=["-t", tb])
    check_tree_copy(tree, vs.root("ta"), acl=True)


def test_template_refuses_escaping_entries(vs, tmp_path, host_dir):
    """An archive with ../ or absolute names, or a symlink it then writes
    through, cannot put files outside the guest root."""
    import io
    import tarfile
    tb = tmp_path / "evil.tar"
    with tarfile.open(tb, "w") as t:
        def add(name, data=b"pwned\n", **kw):
            ti = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(ti, k, v)
            if ti.type == tarfile.REGTYPE:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
        add("./etc", type=tarfile.DIRTYPE, mode=0o755)
        add("./link", type=tarfile.SYMTYPE, linkname=str(host_dir))
        add("./link/through-link")
        add(f"../../../../../../..{host_dir}/dotdot")
        add(f"{host_dir}/absolute")
    before = snapshot(host_dir)
    r = vs.build("ev", method="template", margs=["-t", tb], check=False)
    assert snapshot(host_dir) == before, snapshot_diff(before, snapshot(host_dir))
    assert os.listdir(host_dir) == []
    if r.returncode == 0:
        assert os.path.islink(vs.root("ev") / "link")
    else:
        assert_no_guest(vs, "ev")


@pytest.mark.slow
def test_template_debian(vs, debian_guest, debian_rootfs_tarball):
    r = vs.build("dt", method="template", margs=["-t", debian_rootfs_tarball], timeout=900)
    assert_built(vs, "dt", "template", r)
    src, dst = debian_guest.root, vs.root("dt")
    assert read(dst / "etc" / "debian_version") == read(src / "etc" / "debian_version")
    assert read(dst / "etc" / "hostname") == "dt\n"
    assert read(dst / "etc" / "resolv.conf") == FAKE_HOST_RESOLV
    # the same tree: names, types, owners, modes, link targets, sizes
    changed = {"", "etc/hostname", "etc/hosts", "etc/resolv.conf", "etc/mtab", "etc/shadow", "etc"}

    def norm(snap, base):
        out = {}
        for p, e in snap.items():
            rel = os.path.relpath(p, base) if p != str(base) else ""
            if rel in changed or e is None:
                continue
            out[rel] = {k: v for k, v in e.items() if k in ("type", "mode", "uid", "gid", "link", "size", "nlink",
                                                            "rdev")}
        return out
    a = norm(snapshot(src, content=False), src)
    b = norm(snapshot(dst, content=False), dst)
    assert a == b, snapshot_diff(a, b)[:5000]
    assert vs.config_json("dt")["init"]["style"] == debian_guest.vs.config_json("deb")["init"]["style"]


# ---- clone ---------------------------------------------------------------------

def test_clone(vs):
    vs.build("src", "--initstyle", "plain", "--interface", "192.0.2.20", "--hostname", "src.example.org")
    sroot = vs.root("src")
    make_tree(sroot)
    set_acl(sroot / "var" / "lib" / "x" / "owned")
    (vs.cfg("src") / "fstab").write_text("none /tmp tmpfs size=16m 0 0\n")
    vs.run(["src", "check"])
    before = snapshot(vs.cfg("src"), sroot, vs.cachebase / "src")
    r = vs.build("dst", method="clone", margs=["--source", "src"])
    assert_built(vs, "dst", "clone", r)
    after = snapshot(vs.cfg("src"), sroot, vs.cachebase / "src")
    assert before == after, "the clone source changed:\n" + snapshot_diff(before, after)

    droot = vs.root("dst")
    check_tree_copy(sroot, droot, acl=True)
    # same hard-link structure: as many distinct inodes, grouped the same way
    def groups(root):
        g = {}
        for dp, dns, fns in os.walk(root):
            for n in fns:
                p = os.path.join(dp, n)
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode):
                    g.setdefault(st.st_ino, set()).add(os.path.relpath(p, root))
        return sorted(sorted(v) for v in g.values())
    assert groups(sroot) == groups(droot)
    # new identity
    src_c, dst_c = vs.config_json("src"), vs.config_json("dst")
    assert dst_c["context"] != src_c["context"] and dst_c["context"] == 40001
    assert dst_c["uts"]["nodename"] == "dst"
    assert dst_c["interfaces"] == []
    assert dst_c["init"]["style"] == "plain"
    assert [e["target"] for e in dst_c["fstab"]] == ["/tmp"]
    assert read(droot / "etc" / "hostname") == "dst\n"
    hosts = read(droot / "etc" / "hosts")
    assert "127.0.1.1\tdst\n" in hosts and "src" not in hosts
    assert read(sroot / "etc" / "hostname") == "oldname\n"      # make_tree's, untouched
    vs.run(["src", "check"])


def test_clone_keeps_symlinks_unfollowed(vs, host_dir):
    vs.build("src")
    (host_dir / "secret").write_text("host data\n")
    os.symlink(str(host_dir), vs.root("src") / "hostlink")
    vs.build("dst", method="clone", margs=["--source", "src"])
    assert os.readlink(vs.root("dst") / "hostlink") == str(host_dir)
    assert sorted(os.listdir(host_dir)) == ["secret"]


def test_clone_errors(vs):
    vs.build("src")
    before = vs.snapshot(dir_mtime=False)
    r = vs.build("dst", method="clone", margs=["--source", "nosuch"], check=5)
    assert "nosuch" in r.stderr
    assert_no_guest(vs, "dst")
    r = vs.build("src", method="clone", margs=["--source", "src"], check=(2, 6))
    r = vs.build("dst", method="clone", margs=["--source", "../src"], check=2)
    assert vs.snapshot(dir_mtime=False) == before
    with FakeRunning(vs, "src"):
        vs.run(["src", "status"], check=0)
        r = vs.build("dst", method="clone", margs=["--source", "src"], check=1)
        assert "running" in r.stderr
    assert_no_guest(vs, "dst")


# ---- rsync ------------------------------------------------------------------------

@pytest.mark.parametrize("opts", [(), ("--disk-size", "32M")], ids=["dir", "disk-image"])
def test_rsync_from_a_directory(vs, tmp_path, opts):
    """util-vserver's rsync method (a server's tree becomes a guest): hard
    links, owners, modes, ACLs, xattrs, devices, FIFOs, sparse files kept;
    then the same post-install as every method.  Also onto a disk image
    (mounted on the new root while rsync writes it)."""
    src = tmp_path / "server"
    make_tree(src)
    set_acl(src / "var" / "lib" / "x" / "owned")
    before = snapshot(src)
    r = vs.build("moved", *opts, method="rsync", margs=["--source", str(src)])
    assert_built(vs, "moved", "rsync", r)
    assert snapshot(src) == before, "the rsync source changed"
    check_tree_copy(src, vs.root("moved"), acl=True)
    check_postinstall(vs.root("moved"), "moved")


def test_rsync_options_and_source_holding_the_roots(vs, tmp_path):
    """-o replaces the default options; a source that holds the guest roots
    (a copy of the host itself) leaves them out instead of copying itself."""
    src = tmp_path / "host"
    (src / "etc").mkdir(parents=True)
    (src / "etc" / "hostname").write_text("oldhost\n")
    (src / "data").write_text("x" * 100)
    roots = src / "srv" / "roots[1]"                         # rsync wildcards in the name
    roots.mkdir(parents=True, mode=0o700)
    vs.build("other", "--rootdir", str(roots))           # a guest root inside the source
    (src / "opt" / "g").mkdir(parents=True, mode=0o700)
    vs.build("third", "--rootdir", str(src / "opt" / "g"))  # another, where no copy is built
    r = vs.build("copy", "--rootdir", str(roots), method="rsync",
                 margs=["--source", str(src), "-o", "-rlt", "--", "--exclude=/data"])
    assert re.search(r"built guest 'copy' with rsync in \d+\.\d s", r.stdout), r.stdout
    croot = roots / "copy"
    assert os.readlink(vs.cfg("copy") / "vdir") == str(croot)
    assert read(croot / "etc" / "hostname") == "copy\n"
    assert not (croot / "data").exists()                    # the rsync argument after --
    assert not (croot / "srv" / "roots[1]").exists()
    assert (croot / "opt" / "g").is_dir() and not (croot / "opt" / "g" / "third").exists()
    # the same tree through a bind mount of it (as `mount --bind / /mnt` for a live root)
    alias = tmp_path / "alias"
    alias.mkdir()
    subprocess.run(["mount", "--bind", str(src), str(alias)], check=True)
    try:
        vs.build("copy2", "--rootdir", str(roots), method="rsync", margs=["--source", str(alias)])
    finally:
        subprocess.run(["umount", str(alias)], check=True)
    assert not (roots / "copy2" / "srv" / "roots[1]").exists()
    assert (roots / "copy2" / "data").exists()


def test_rsync_runs_with_the_host_read_only(vs, tmp_path):
    """rsync (fed by a source that may be hostile) can write the new root
    only: a log file it is told to write elsewhere is refused."""
    src = tmp_path / "server"
    (src / "etc").mkdir(parents=True)
    (src / "etc" / "motd").write_text("hello\n")
    log, tmp = tmp_path / "rsync.log", tmp_path / "rsync-tmp"
    tmp.mkdir()
    r = vs.build("g", method="rsync", margs=["--source", str(src), "--", f"--log-file={log}", f"--temp-dir={tmp}"],
                 check=1)
    assert "rsync failed" in r.stderr and "Read-only file system" in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert not log.exists() and list(tmp.iterdir()) == []
    assert_no_guest(vs, "g")


def test_rsync_confinement_holds_against_a_hostile_rsync(vs, tmp_path):
    """What a compromised rsync (a hostile sender exploiting the client) gets:
    a stand-in rsync, first in PATH, probes its confinement and writes what
    it found into the new root, the one place it may write."""
    src = tmp_path / "server"
    (src / "etc").mkdir(parents=True)
    fake = tmp_path / "fakebin"
    fake.mkdir()
    dev = tmp_path / "host-dev-null"
    os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    import socket
    sock = tmp_path / "daemon.sock"                              # a host daemon outside /run
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(sock))
    srv.listen(1)
    probe = fake / "rsync"
    probe.write_text(f"""#!/bin/sh
for a; do dest=$a; done
{{
grep -E '^(CapEff|CapBnd|NoNewPrivs):' /proc/self/status
v=$(cat /proc/sys/kernel/core_pattern); (printf '%s\\n' "$v" > /proc/sys/kernel/core_pattern) 2>/dev/null && echo procsys=written || echo procsys=refused
(echo x > '{dev}') 2>/dev/null && echo hostdev=written || echo hostdev=refused
(echo x > '{tmp_path}/outside') 2>/dev/null && echo outside=written || echo outside=refused
mknod "$dest/nod" c 1 3 && ((echo x > "$dest/nod") 2>/dev/null && echo stagedev=written || echo stagedev=refused)
rm -f "$dest/nod"
echo "null=$(echo ok > /dev/null && echo ok)"
echo "net=$(readlink /proc/self/ns/net)"
echo "run=$(ls -A /run | wc -l)"
python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("{sock}")' 2>/dev/null && echo sock=connected || echo sock=refused
}} > "$dest/confined.txt"
exit 0
""")
    probe.chmod(0o755)
    env = dict(vs.env, PATH=f"{fake}:{os.environ.get('PATH', '/usr/bin:/bin')}")
    try:
        vs.build("g", method="rsync", margs=["--source", str(src)], env=env)
    finally:
        srv.close()
    got = dict(ln.split("=", 1) if "=" in ln else ln.split(":\t") for ln in
               (vs.root("g") / "confined.txt").read_text().splitlines())
    keep = {0, 1, 2, 3, 4, 27, 31}   # CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID MKNOD SETFCAP
    assert int(got["CapEff"], 16) == sum(1 << c for c in keep), got
    assert int(got["CapBnd"], 16) == sum(1 << c for c in keep), got
    assert got["NoNewPrivs"].strip() == "1"
    assert got["procsys"] == "refused" and got["hostdev"] == "refused" and got["outside"] == "refused", got
    assert got["stagedev"] == "refused" and got["null"] == "ok", got
    assert got["net"] != os.readlink("/proc/self/ns/net"), got      # a local source: no network
    assert got["run"] == "0", got                                    # host daemons' sockets out of reach
    assert got["sock"] == "refused", got
    assert not (tmp_path / "outside").exists()


def test_rsync_errors(vs, tmp_path):
    vs.build("other")
    before = vs.snapshot(dir_mtime=False)
    r = vs.build("g", method="rsync", margs=[], check=2)
    assert "build method rsync needs -- --source DIR" in r.stderr
    r = vs.build("g", method="rsync", margs=["--source", str(tmp_path / "nosuch")], check=2)
    assert "must be an absolute path to a directory" in r.stderr
    r = vs.build("g", method="rsync", margs=["--source", "relative/dir"], check=2)
    assert "must be an absolute path to a directory" in r.stderr
    r = vs.build("g", method="rsync", margs=["--source", str(tmp_path), "-o"], check=2)
    assert "'-o' needs an rsync option" in r.stderr
    assert vs.snapshot(dir_mtime=False) == before
    assert_no_guest(vs, "g")


# ---- contexts ----------------------------------------------------------------------

def ctx(vs, name):
    return int(read(vs.cfg(name) / "context"))


def test_context_allocation(vs):
    vs.build("a")
    vs.build("b")
    assert (ctx(vs, "a"), ctx(vs, "b")) == (40000, 40001)
    vs.build("c", "--context", "40003")
    vs.build("d")
    assert ctx(vs, "d") == 40002
    vs.build("e")
    assert ctx(vs, "e") == 40004
    r = vs.build("f", "--context", "40001", check=2)
    assert "40001" in r.stderr and "'b'" in r.stderr
    assert_no_guest(vs, "f")
    vs.run(["a", "delete", "--force"])
    vs.build("g")
    assert ctx(vs, "g") == 40000
    (vs.confdir / ".defaults").mkdir()
    (vs.confdir / ".defaults" / "context.next").write_text("45000\n")
    vs.build("h")
    assert ctx(vs, "h") == 45000
    vs.build("i")
    assert ctx(vs, "i") == 45001
    (vs.confdir / ".defaults" / "context.next").write_text("0x10\n")
    r = vs.build("j", check=2)
    assert "context.next" in r.stderr
    assert_no_guest(vs, "j")
    ctxs = [g["context"] for g in vs.list_json()]
    assert len(ctxs) == len(set(ctxs))


def test_parallel_builds_get_unique_contexts(vs):
    vs.build("seed")
    names = [f"p{i}" for i in range(8)]
    procs = [vs.popen([n, "build", "-m", "skeleton"]) for n in names]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, (out, err)
    ctxs = [ctx(vs, n) for n in ["seed", *names]]
    assert len(set(ctxs)) == len(ctxs), ctxs
    for n in names:
        vs.run([n, "check"])


# ---- existing guests: exit 6, --force ----------------------------------------------------

def test_build_existing_fails(vs):
    vs.build("ex", "--hostname", "first")
    (vs.root("ex") / "marker").write_text("old guest\n")
    before = vs.snapshot(dir_mtime=False)
    for method, margs in (("skeleton", ()), ("clone", ("--source", "ex"))):
        r = vs.build("ex", method=method, margs=margs, check=(6, 2) if method == "clone" else 6)
        assert "'ex'" in r.stderr or "itself" in r.stderr
    r = vs.build("ex", check=6)
    assert "already exists" in r.stderr and "--force" in r.stderr
    after = vs.snapshot(dir_mtime=False)
    assert before == after, snapshot_diff(before, after)
    # only the configuration or only the root is enough to be "existing"
    vs.build("half")
    shutil.rmtree(vs.cfg("half"))
    vs.build("half", check=6)
    assert not vs.cfg("half").exists()


def test_build_force_moves_old_aside(vs):
    vs.build("fo", "--hostname", "first")
    (vs.root("fo") / "marker").write_text("old guest\n")
    old_ctx = ctx(vs, "fo")
    t0 = int(time.time())
    r = vs.build("fo", "--force", "--hostname", "second")
    t1 = int(time.time())
    aside = [p for p in os.listdir(vs.vdirbase) if p.startswith("fo.~")]
    aside_cfg = [p for p in os.listdir(vs.confdir) if p.startswith("fo.~")]
    assert len(aside) == 1 and aside == aside_cfg, (aside, aside_cfg)
    m = re.fullmatch(r"fo\.~(\d+)~", aside[0])
    assert m and t0 <= int(m.group(1)) <= t1
    assert read(vs.vdirbase / aside[0] / "marker") == "old guest\n"
    assert read(vs.confdir / aside[0] / "uts" / "nodename") == "first\n"
    assert read(vs.confdir / aside[0] / "context") == f"{old_ctx}\n"
    assert not (vs.root("fo") / "marker").exists()
    assert read(vs.root("fo") / "etc" / "hostname") == "second\n"
    assert aside[0] in r.stdout
    assert [g["name"] for g in vs.list_json()] == ["fo"]
    vs.run(["fo", "check"])


def test_build_force_refuses_running_guest(vs):
    vs.build("fr")
    (vs.root("fr") / "marker").write_text("x\n")
    with FakeRunning(vs, "fr"):
        r = vs.build("fr", "--force", check=1)
        assert "running" in r.stderr
    assert (vs.root("fr") / "marker").exists()
    assert not [p for p in os.listdir(vs.vdirbase) if p.startswith("fr.~")]
    assert vs.leftovers("fr") == []


# ---- failing builds: cleanup and --keep ---------------------------------------------------

@pytest.fixture
def corrupt_tarball(tmp_path):
    p = tmp_path / "corrupt.tar.gz"
    p.write_bytes(os.urandom(4096))
    return p


def test_failed_build_removes_everything(vs, corrupt_tarball):
    vs.build("other")
    before = vs.snapshot(dir_mtime=False)
    r = vs.build("bad", method="template", margs=["-t", corrupt_tarball], check=2)
    assert str(corrupt_tarball) in r.stderr
    assert "removed everything" in r.stdout
    assert_no_guest(vs, "bad")
    assert not (vs.cachebase / "bad").exists()
    after = vs.snapshot(dir_mtime=False)
    assert before == after, snapshot_diff(before, after)


def test_failed_build_keep(vs, corrupt_tarball):
    r = vs.build("bad", "--keep", method="template", margs=["-t", corrupt_tarball], check=2)
    left = vs.leftovers("bad")
    assert len(left) == 2, left
    assert any(l.startswith(str(vs.confdir) + "/") for l in left)
    assert any(l.startswith(str(vs.vdirbase) + "/") for l in left)
    for l in left:
        assert l in r.stdout
    assert not os.path.lexists(vs.cfg("bad")) and not os.path.lexists(vs.root("bad"))
    assert vs.list_json() == []
    # a later build of the same name is not disturbed by the kept staging dirs
    vs.build("bad")
    assert sorted(vs.leftovers("bad")) == sorted(left)


def test_missing_tarball(vs, tmp_path):
    r = vs.build("mt", "--keep", method="template", margs=["-t", tmp_path / "nope.tar.gz"], check=2)
    assert "nope.tar.gz" in r.stderr
    assert_no_guest(vs, "mt")


def test_truncated_tarball_fails_cleanly(vs, tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    (src / "f1").write_bytes(os.urandom(3 << 20))
    tb = make_tarball(src, tmp_path / "big.tar.gz", "gz")
    tr = tmp_path / "truncated.tar.gz"
    tr.write_bytes(tb.read_bytes()[: tb.stat().st_size // 2])
    r = vs.build("tr", method="template", margs=["-t", tr], check=2)
    assert str(tr) in r.stderr
    assert_no_guest(vs, "tr")


def test_truncated_tarball_message(vs, tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    (src / "f1").write_bytes(os.urandom(3 << 20))
    tb = make_tarball(src, tmp_path / "big.tar.gz", "gz")
    tr = tmp_path / "truncated.tar.gz"
    tr.write_bytes(tb.read_bytes()[: tb.stat().st_size // 2])
    r = vs.build("tr", method="template", margs=["-t", tr], check=2)
    assert "(null)" not in r.stderr, r.stderr


def test_text_file_is_not_a_template(vs, tmp_path):
    p = tmp_path / "notes.tar.gz"
    p.write_text("garbage\n")
    vs.build("tx", method="template", margs=["-t", p], check=2)
    assert_no_guest(vs, "tx")


def test_empty_file_is_not_a_template(vs, tmp_path):
    p = tmp_path / "empty.tar.gz"
    p.write_bytes(b"")
    vs.build("em", method="template", margs=["-t", p], check=2)
    assert_no_guest(vs, "em")


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_interrupted_build_cleans_up(vs, tmp_path, sig):
    import select
    import signal
    fifo = tmp_path / "slow.tar"
    os.mkfifo(fifo)        # extraction blocks reading it: the build is caught mid-way
    p = vs.popen(["it", "build", "-m", "template", "--", "-t", str(fifo)])
    try:
        seen = ""
        deadline = time.monotonic() + 30
        while "[2/4]" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 1)
            if ready:
                seen += p.stdout.readline()
        assert "[2/4]" in seen, seen
        time.sleep(0.5)            # the extraction is now blocked reading the FIFO
        p.send_signal(getattr(signal, sig))
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
    finally:
        # let the extraction see end-of-file, then make sure ours is gone
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as e:
            if e.errno != errno.ENXIO:    # ENXIO: nobody reads it any more
                raise
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    time.sleep(0.5)
    assert p.returncode != 0
    assert vs.leftovers("it") == []
    assert not os.path.lexists(vs.cfg("it")) and not os.path.lexists(vs.root("it"))


def test_debootstrap_failure_cleans_up(vs, tmp_path):
    # a file: mirror that does not exist: debootstrap fails at once, offline
    r = vs.build("db", method="debootstrap", margs=["-d", "bookworm", "-m", f"file://{tmp_path}/no-mirror"],
                 check=1)
    assert "debootstrap" in r.stderr
    assert_no_guest(vs, "db")
    r = vs.build("db", "--keep", method="debootstrap",
                 margs=["-d", "bookworm", "-m", f"file://{tmp_path}/no-mirror"], check=1)
    assert len(vs.leftovers("db")) == 2
    assert not os.path.lexists(vs.cfg("db"))


@pytest.mark.parametrize("margs,env,expect", [
    (["-d", "Bad;Suite"], None, "'Bad;Suite'"),
    (["-d", "../x"], None, "'../x'"),
    (["-m", "ftp://example.invalid/debian"], None, "'ftp://example.invalid/debian'"),
    (["-m", "-oops"], None, "'-oops'"),
    (["-a", "i3 86"], None, "'i3 86'"),
    (["-a", "--foreign"], None, "'--foreign'"),
    ([], {"ARCH": "i3;86"}, "'i3;86'"),
    (["-x"], None, "'-x'"),
    (["-d"], None, "'-d'"),
])
def test_debootstrap_bad_arguments(vs, margs, env, expect):
    r = vs.build("db", method="debootstrap", margs=margs, env=env, check=2)
    assert expect in r.stderr, r.stderr
    assert_no_guest(vs, "db")


# ---- post-install ------------------------------------------------------------------------

def template_from(tmp_path, name, files):
    """A tar of a tree described by {relpath: content | callable(path)}."""
    d = tmp_path / f"tree-{name}"
    d.mkdir()
    for rel, v in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if callable(v):
            v(p)
        elif v is None:
            p.mkdir(exist_ok=True)
        else:
            p.write_text(v)
    return make_tarball(d, tmp_path / f"{name}.tar")


def test_postinstall_root_password(vs, tmp_path):
    locked = "root:$6$abc$def:19000:0:99999:7:::\nuser::19000::::::\n"
    tb = template_from(tmp_path, "pw", {"etc/shadow": locked})
    r = vs.build("pw", method="template", margs=["-t", tb])
    assert read(vs.root("pw") / "etc" / "shadow") == locked
    assert "password locked" not in r.stdout
    tb = template_from(tmp_path, "pw2", {"etc/shadow": "daemon:*:1::::::\nroot::19000:0:99999:7:::\n"})
    r = vs.build("pw2", method="template", margs=["-t", tb])
    assert read(vs.root("pw2") / "etc" / "shadow") == "daemon:*:1::::::\nroot:*:19000:0:99999:7:::\n"
    assert "password locked" in r.stdout


def test_postinstall_host_resolv_conf_link(vs, tmp_path):
    real = tmp_path / "real-resolv.conf"
    real.write_text("nameserver 198.51.100.1\n")
    link = tmp_path / "resolv-link"
    os.symlink(real, link)
    vs.build("rs", env={"VSERVER_HOST_RESOLV_CONF": str(link)})
    assert read(vs.root("rs") / "etc" / "resolv.conf") == "nameserver 198.51.100.1\n"
    assert not os.path.islink(vs.root("rs") / "etc" / "resolv.conf")


def test_postinstall_hosts_with_domain_and_addresses(vs, tmp_path):
    tb = template_from(tmp_path, "hd", {"etc/hosts": "127.0.1.1 hd\n192.0.2.30 hd.example.net\n"
                                                     "192.0.2.32\thd\n10.0.0.9 keep.me\n"})
    vs.build("hd", "--hostname", "hd.example.net", "--interface", "192.0.2.31/24",
             method="template", margs=["-t", tb])
    hosts = read(vs.root("hd") / "etc" / "hosts").splitlines()
    assert "127.0.1.1\thd.example.net hd" in hosts
    assert "192.0.2.31\thd.example.net hd" in hosts
    assert "10.0.0.9 keep.me" in hosts
    assert "192.0.2.30 hd.example.net" not in hosts
    assert hosts.index("127.0.1.1\thd.example.net hd") < hosts.index("192.0.2.32\thd")
    vs.build("hs", method="template", margs=["-t", tb])
    hosts = read(vs.root("hs") / "etc" / "hosts").splitlines()
    assert hosts[:2] == ["127.0.0.1\tlocalhost", "127.0.1.1\ths"]
    assert "192.0.2.32\thd" in hosts


# ---- init style detection and disabled services ---------------------------------------------

STYLE_TREES = {
    "systemd-abs-link": ({"lib/systemd/systemd": "x", "sbin/init": lambda p: os.symlink("/lib/systemd/systemd", p)},
                         "systemd"),
    "systemd-usr": ({"usr/lib/systemd/systemd": "x",
                     "sbin/init": lambda p: os.symlink("../usr/lib/systemd/systemd", p)}, "systemd"),
    "systemd-hardlink": ({"lib/systemd/systemd": "x",
                          "sbin/init": lambda p: os.link(p.parent.parent / "lib/systemd/systemd", p)}, "systemd"),
    "sysv": ({"sbin/init": "x", "etc/init.d/rc": "x"}, "sysv"),
    "plain": ({"sbin/init": "x"}, "plain"),
    "empty": ({"etc": None}, "sysv"),
    # a link that leaves the guest is resolved inside it: not systemd
    "systemd-link-outside": ({"sbin/init": lambda p: os.symlink("/lib/systemd/systemd", p)}, "sysv"),
}


@pytest.mark.parametrize("tree_id", list(STYLE_TREES))
def test_init_style_detection(vs, tmp_path, tree_id):
    files, want = STYLE_TREES[tree_id]
    tb = template_from(tmp_path, "st", files)
    r = vs.build("st", method="template", margs=["-t", tb])
    assert f"init style: {want} (detected)" in r.stdout
    assert read(vs.cfg("st") / "apps" / "init" / "style") == f"{want}\n"
    assert vs.config_json("st")["init"]["style"] == want


def test_initstyle_option_wins(vs, tmp_path):
    tb = template_from(tmp_path, "st", STYLE_TREES["systemd-abs-link"][0])
    r = vs.build("st", "--initstyle", "sysv", method="template", margs=["-t", tb])
    assert "(detected)" not in r.stdout
    assert read(vs.cfg("st") / "apps" / "init" / "style") == "sysv\n"


def test_systemd_units_masked(vs, tmp_path):
    files = dict(STYLE_TREES["systemd-abs-link"][0])
    for u in ("systemd-udevd.service", "getty@.service", "systemd-timesyncd.service", "ssh.service",
              "systemd-journald.service"):
        files[f"lib/systemd/system/{u}"] = "[Unit]\n"
    tb = template_from(tmp_path, "sd", files)
    r = vs.build("sd", method="template", margs=["-t", tb])
    d = vs.root("sd") / "etc" / "systemd" / "system"
    masked = {n for n in os.listdir(d) if os.path.islink(d / n) and os.readlink(d / n) == "/dev/null"}
    want = {"systemd-udevd.service", "systemd-timesyncd.service", *{f"getty@tty{i}.service" for i in range(1, 7)}}
    assert masked == want, masked
    for u in want:
        assert f"{u}: masked" in r.stdout


def sysv_files():
    return {
        "sbin/init": "x", "etc/init.d/rc": "x",
        "etc/rc2.d/S01udev": lambda p: os.symlink("../init.d/udev", p),
        "etc/rc2.d/S02ssh": lambda p: os.symlink("../init.d/ssh", p),
        "etc/rcS.d/S03hwclock.sh": lambda p: os.symlink("../init.d/hwclock.sh", p),
        "etc/rcS.d/S04procps": lambda p: os.symlink("../init.d/procps", p),
        "etc/rc2.d/S01bootlogs": lambda p: os.symlink("../init.d/bootlogs", p),
        "etc/rc0.d/K05halt": lambda p: os.symlink("../init.d/halt", p),
        "etc/rc6.d/K05reboot": lambda p: os.symlink("../init.d/reboot", p),
        "etc/rc2.d/README": "not a link\n",
        "etc/inittab": "id:2:initdefault:\n1:2345:respawn:/sbin/getty 38400 tty1\n"
                       "#2:23:respawn:/sbin/getty 38400 tty2\nca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\n",
    }


def test_sysv_services_disabled(vs, tmp_path):
    tb = template_from(tmp_path, "sv", sysv_files())
    r = vs.build("sv", method="template", margs=["-t", tb])
    root = vs.root("sv") / "etc"
    present = {f"{d}/{n}" for d in ("rc0.d", "rc2.d", "rc6.d", "rcS.d") for n in os.listdir(root / d)}
    assert present == {"rc2.d/S02ssh", "rc2.d/README"}, present
    assert "/etc/rc2.d/S01udev: removed" in r.stdout
    assert read(root / "inittab") == ("id:2:initdefault:\n#1:2345:respawn:/sbin/getty 38400 tty1\n"
                                      "#2:23:respawn:/sbin/getty 38400 tty2\n"
                                      "ca:12345:ctrlaltdel:/sbin/shutdown -t1 -a -r now\n")


def test_plain_keeps_halt_and_reboot(vs, tmp_path):
    files = sysv_files()
    del files["etc/init.d/rc"]
    for d in ("rc0.d", "rc6.d"):
        files[f"etc/{d}/K01sendsigs"] = lambda p: os.symlink("../init.d/sendsigs", p)
        files[f"etc/{d}/K03umountfs"] = lambda p: os.symlink("../init.d/umountfs", p)
        files[f"etc/{d}/K04umountroot"] = lambda p: os.symlink("../init.d/umountroot", p)
    tb = template_from(tmp_path, "pl", files)
    vs.build("pl", method="template", margs=["-t", tb])
    root = vs.root("pl") / "etc"
    present = {f"{d}/{n}" for d in ("rc0.d", "rc2.d", "rc6.d", "rcS.d") for n in os.listdir(root / d)}
    # umountfs and umountroot only fail in a guest (no unmounting, no
    # read-only remount of its root)
    assert present == {"rc2.d/S02ssh", "rc2.d/README", "rc0.d/K05halt", "rc6.d/K05reboot",
                       "rc0.d/K01sendsigs", "rc6.d/K01sendsigs"}, present


def elf_header(cls, machine):
    """The first bytes of an ELF executable: class 1 (32-bit) or 2, e_machine."""
    return lambda p: p.write_bytes(b"\x7fELF" + bytes([cls, 1, 1]) + b"\0" * 9 + struct.pack("<HH", 2, machine)
                                   + b"\0" * 44)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="32-bit x86 guests are an x86_64 host's")
@pytest.mark.parametrize("files,machine", [
    ({"bin/sh": elf_header(1, 3)}, "i686"),                                    # i386 /bin/sh
    ({"bin/dash": elf_header(1, 3), "bin/sh": lambda p: os.symlink("dash", p)}, "i686"),
    # an absolute link is the guest's /usr/bin/dash, not the host's
    ({"usr/bin/dash": elf_header(1, 3), "bin/sh": lambda p: os.symlink("/usr/bin/dash", p)}, "i686"),
    ({"bin/busybox": elf_header(1, 3)}, "i686"),
    ({"bin/sh": elf_header(2, 62)}, None),                                     # x86_64
    ({"bin/sh": elf_header(1, 40)}, None),                                     # 32-bit ARM
    ({"bin/sh": "#!/bin/false\n"}, None),
])
def test_build_detects_a_32bit_guest(vs, tmp_path, files, machine):
    """However a 32-bit x86 root arrives (here a template; also
    debootstrap's own --arch=i386, a clone), build writes uts/machine
    i686, so that uname -m, config.guess and the like say i686 inside."""
    r = vs.build("m32", method="template", margs=["-t", template_from(tmp_path, "m32", files)])
    p = vs.cfg("m32") / "uts" / "machine"
    assert (read(p).strip() if p.exists() else None) == machine, r.stdout
    assert ("uts/machine: i686 (a 32-bit guest)" in r.stdout) == bool(machine)
    vs.run(["m32", "check"])


@pytest.mark.parametrize("tab,warned", [
    ("l0:0:wait:/etc/init.d/rc 0\nl6:6:wait:/etc/init.d/rc 6\n", ["halt", "reboot"]),
    ("l0:0:wait:/etc/init.d/rc 0\n#l6:6:wait:/etc/init.d/rc 6\n", ["halt"]),
    ("l0:06:wait:/etc/init.d/rc 0 extra\n", ["halt"]),
    ("l0:0:once:/etc/init.d/rc 0\nl6:6:wait:/etc/init.d/rc 66\n", []),
    ("l0:0:wait:/etc/init.d/rc 0\r\n  # l6:6:wait:/etc/init.d/rc 6\n", ["halt"]),   # CRLF, indented comment
    ("::shutdown:/etc/init.d/rcK\n::restart:/sbin/init\n", []),   # busybox init
])
def test_plain_style_missing_halt_or_reboot_is_reported(vs, tmp_path, tab, warned):
    """A guest built for sysv (halt and reboot removed) and switched to
    plain: `check` names each runlevel whose script sysvinit would miss."""
    files = sysv_files()
    files["etc/inittab"] = "id:2:initdefault:\n" + tab
    vs.build("sw", method="template", margs=["-t", template_from(tmp_path, "sw", files)])
    assert read(vs.cfg("sw") / "apps" / "init" / "style") == "sysv\n"
    assert vs.run(["sw", "check"]).stdout.count("warning") == 0
    (vs.cfg("sw") / "apps" / "init" / "style").write_text("plain\n")
    out = vs.run(["sw", "check"]).stdout
    got = [svc for svc, d in (("halt", "rc0.d"), ("reboot", "rc6.d")) if f"/etc/{d} has no {svc} script" in out]
    assert got == warned, out
    assert ("restore it in the running guest with: vserver sw exec update-rc.d" in out) == bool(warned), out


def test_plain_style_old_debian_start_links_count(vs, tmp_path):
    """Before insserv, Debian linked halt and reboot as S90halt / S90reboot."""
    files = sysv_files()
    del files["etc/init.d/rc"]
    files["etc/inittab"] = "id:2:initdefault:\nl0:0:wait:/etc/init.d/rc 0\nl6:6:wait:/etc/init.d/rc 6\n"
    del files["etc/rc0.d/K05halt"], files["etc/rc6.d/K05reboot"]
    files["etc/rc0.d/S90halt"] = lambda p: os.symlink("../init.d/halt", p)
    files["etc/rc6.d/S90reboot"] = lambda p: os.symlink("../init.d/reboot", p)
    vs.build("old", "--initstyle", "plain", method="template", margs=["-t", template_from(tmp_path, "old", files)])
    assert (vs.root("old") / "etc/rc0.d/S90halt").is_symlink()
    assert "warning" not in vs.run(["old", "check"]).stdout


# ---- concurrency ------------------------------------------------------------------------------

def race(vs, name, method, margs, rounds=1, timeout=900):
    for i in range(rounds):
        n = f"{name}{i}"
        procs = [vs.popen([n, "build", "-m", method, "--", *margs]) for _ in range(2)]
        res = []
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            res.append((p.returncode, out, err))
        codes = sorted(r[0] for r in res)
        assert codes[0] == 0 and codes[1] in (4, 6), res
        loser = [r for r in res if r[0] != 0][0]
        assert ("busy" in loser[2]) if loser[0] == 4 else ("already exists" in loser[2]), loser
        assert vs.leftovers(n) == []
        assert [p for p in os.listdir(vs.vdirbase) if p.startswith(n)] == [n]
        assert [p for p in os.listdir(vs.confdir) if p.startswith(n)] == [n]
        vs.run([n, "check"])


def test_concurrent_builds_one_name(vs, tmp_path):
    src = tmp_path / "many"
    for i in range(40):
        d = src / f"d{i}"
        d.mkdir(parents=True)
        for j in range(50):
            (d / f"f{j}").write_bytes(os.urandom(512))
    tb = make_tarball(src, tmp_path / "many.tar.gz", "gz")
    race(vs, "cc", "template", ["-t", str(tb)], rounds=3)
    race(vs, "cs", "skeleton", [], rounds=3)


@pytest.mark.slow
def test_concurrent_builds_one_name_debian(vs, debian_rootfs_tarball):
    race(vs, "cd", "template", ["-t", str(debian_rootfs_tarball)])
    assert (vs.root("cd0") / "etc" / "debian_version").is_file()


# ---- the real debootstrap guest ---------------------------------------------------------

def host_apt_uris():
    text = ""
    for p in ["/etc/apt/sources.list", *(os.path.join("/etc/apt/sources.list.d", n)
                                           for n in (os.listdir("/etc/apt/sources.list.d")
                                                     if os.path.isdir("/etc/apt/sources.list.d") else []))]:
        if p.endswith((".list", ".sources")) and os.path.isfile(p):
            text += read(p)
    return set(re.findall(r"(?:https?|file):/\S+", text))


@pytest.mark.slow
def test_debootstrap_guest(debian_guest):
    vs, r, root = debian_guest.vs, debian_guest.build, debian_guest.root
    out = r.stdout
    for ph in PHASES:
        assert ph in out
    m = re.search(r"\[2/4\] installing Debian bookworm \((\S+)\) from (\S+) with debootstrap", out)
    assert m, out[:3000]
    uris = host_apt_uris()
    if uris:
        assert m.group(2).rstrip("/") in {u.rstrip("/") for u in uris}, (m.group(2), uris)
    assert "I: Base system installed successfully." in out       # the bootstrapper's progress
    assert re.search(r"built guest 'deb' with debootstrap in \d+\.\d s", out)
    assert read(root / "etc" / "debian_version").startswith("12.")
    assert (root / "usr" / "bin" / "apt-get").is_file()
    assert read(root / "etc" / "hostname") == "deb\n"
    assert "127.0.1.1\tdeb" in read(root / "etc" / "hosts")
    assert read(root / "etc" / "resolv.conf") == FAKE_HOST_RESOLV
    assert os.readlink(root / "etc" / "mtab") == "../proc/self/mounts"
    assert not read(root / "etc" / "shadow").startswith("root::")
    c = vs.config_json("deb")
    assert c["name"] == "deb" and c["context"] == 40000
    assert c["uts"]["nodename"] == "deb" and c["uts"]["machine"] == platform.machine()
    assert c["vdir"] == str(root) and c["cfgdir"] == str(debian_guest.cfg)
    assert c["init"]["style"] in ("sysv", "plain", "systemd")
    assert read(debian_guest.cfg / "apps" / "init" / "style") == c["init"]["style"] + "\n"
    assert f"init style: {c['init']['style']} (detected)" in out
    assert vs.run(["deb", "check"]).stdout == "deb: configuration OK\n"
    text = vs.run(["deb", "config"]).stdout
    assert re.search(r"^context\s+40000$", text, re.M) and re.search(r"^init/style\s+\S+$", text, re.M)
    assert [g["name"] for g in vs.list_json()] == ["deb"]
    assert vs.leftovers("deb") == []
    # the bootstrapper's mounts (proc, sys in the target) died with its namespace
    with open("/proc/self/mountinfo") as f:
        assert str(root) not in f.read()


def ia32_supported():
    if platform.machine() != "x86_64":
        return False
    import gzip
    for p in ("/proc/config.gz", f"/boot/config-{os.uname().release}"):
        try:
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rt") as f:
                cfg = f.read()
            return "CONFIG_IA32_EMULATION=y" in cfg
        except OSError:
            continue
    return True


@pytest.mark.slow
def test_debootstrap_i386(vs, debian_guest):
    # debian_guest: the 64-bit build must have worked first (same mirror)
    if not ia32_supported():
        pytest.skip("no 32-bit x86 support on this host")
    r = vs.build("d32", method="debootstrap", margs=["-d", "bookworm", "-a", "i386", "--", "--variant=minbase"],
                 timeout=3600)
    assert "(i386)" in r.stdout
    assert read(vs.cfg("d32") / "uts" / "machine") == "i686\n"
    c = vs.config_json("d32")
    assert c["uts"]["machine"] == "i686" and c["personality"]["type"] == "LINUX_32BIT"
    true = vs.root("d32") / "usr" / "bin" / "true"
    with open(true, "rb") as f:
        hdr = f.read(20)
    assert hdr[:4] == b"\x7fELF" and hdr[4] == 1, hdr          # ELFCLASS32
    assert struct.unpack("<H", hdr[18:20])[0] == 3               # EM_386
    assert read(vs.root("d32") / "etc" / "debian_version").startswith("12.")
    vs.run(["d32", "check"])
