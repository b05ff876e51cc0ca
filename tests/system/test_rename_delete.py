# SPDX-License-Identifier: GPL-2.0-or-later
"""vserver OLD rename NEW and vserver NAME delete."""
import fcntl
import os
import pty
import shutil
import subprocess

import pytest

from conftest import FakeRunning, assert_no_guest, no_erofs, run_with_readonly_host, snapshot, snapshot_diff


def read(p):
    with open(p) as f:
        return f.read()


def content_snapshot(*roots, rename=None):
    """Names, types, modes, owners, contents and link targets (not inodes
    or times), relative to each root."""
    out = {}
    for root in roots:
        snap = snapshot(root)
        for p, e in snap.items():
            rel = (os.path.basename(str(root)), os.path.relpath(p, root)) if e is not None else (str(root), None)
            out[rel] = None if e is None else {k: v for k, v in e.items()
                                               if k in ("type", "mode", "uid", "gid", "sha", "link", "rdev")}
    return out


def world(vs, *names):
    return content_snapshot(*[x for n in names for x in (vs.cfg(n), vs.root(n), vs.cachebase / n)])


@pytest.fixture
def guest_a(vs):
    vs.build("a", "--interface", "192.0.2.60", "--hostname", "a.example.org")
    (vs.cfg("a") / "name").write_text("a\n")
    (vs.cfg("a") / "fstab").write_text("none /tmp tmpfs size=8m 0 0\n")
    (vs.root("a") / "marker").write_text("guest a\n")
    with open(vs.root("a") / "etc" / "hosts", "a") as f:
        f.write("10.9.8.7 db.internal db\n")
    (vs.cachebase / "a" / "cached").write_text("cache of a\n")
    vs.run(["a", "check"])
    return vs


# ---- rename --------------------------------------------------------------------------------

def test_rename_round_trip(guest_a):
    vs = guest_a
    orig = world(vs, "a")
    ctx = read(vs.cfg("a") / "context")
    r = vs.run(["a", "rename", "b"])
    assert "renamed guest 'a' to 'b'" in r.stdout
    assert_no_guest(vs, "a")
    assert not os.path.lexists(vs.cachebase / "a")
    cfg, root = vs.cfg("b"), vs.root("b")
    assert read(cfg / "name") == "b\n"
    assert read(cfg / "uts" / "nodename") == "b.example.org\n"
    assert read(cfg / "context") == ctx
    assert os.readlink(cfg / "vdir") == str(root)
    assert os.readlink(cfg / "cache") == str(vs.cachebase / "b")
    assert read(vs.cachebase / "b" / "cached") == "cache of a\n"
    assert read(root / "marker") == "guest a\n"
    assert read(root / "etc" / "hostname") == "b.example.org\n"
    hosts = read(root / "etc" / "hosts").splitlines()
    assert "127.0.1.1\tb.example.org b" in hosts and "192.0.2.60\tb.example.org b" in hosts
    assert "10.9.8.7 db.internal db" in hosts
    assert not any("a.example.org" in h for h in hosts)
    # (a warning about the host may come first: its address is not on this host)
    assert vs.run(["b", "check"]).stdout.splitlines()[-1] == "b: configuration OK"
    assert [g["name"] for g in vs.list_json()] == ["b"]
    c = vs.config_json("b")
    assert c["name"] == "b" and c["display_name"] == "b" and c["vdir"] == str(root)

    vs.run(["b", "rename", "a"])
    assert_no_guest(vs, "b")
    back = world(vs, "a")
    assert back == orig, snapshot_diff(orig, back)


def test_rename_keeps_foreign_nodename(vs):
    vs.build("a", "--hostname", "mail.example.org")
    r = vs.run(["a", "rename", "b"])
    assert "mail.example.org" in r.stdout and "kept" in r.stdout
    assert read(vs.cfg("b") / "uts" / "nodename") == "mail.example.org\n"
    assert read(vs.root("b") / "etc" / "hostname") == "mail.example.org\n"
    assert not (vs.cfg("b") / "name").exists()


def test_rename_moves_root_in_its_rootdir(vs, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    vs.build("a", "--rootdir", str(other))
    vs.run(["a", "rename", "b"])
    assert (other / "b" / "etc" / "hostname").is_file() and not os.path.lexists(other / "a")
    assert os.readlink(vs.cfg("b") / "vdir") == str(other / "b")
    assert not os.path.lexists(vs.root("b"))


def test_rename_lists_references(vs, guest_a):
    vs.build("c")
    vs.build("d")
    aroot = vs.root("a")
    (vs.cfg("c") / "fstab").write_text(f"# shared\n{aroot}/srv /srv none bind,ro 0 0\n")
    (vs.cfg("d") / "fstab.remote").write_text(f"{aroot}/x /mnt/x none bind 0 0\n")
    (vs.cfg("d") / "apps" / "init" / "depends").write_text("a\n")
    r = vs.run(["a", "rename", "b"])
    assert f"{vs.cfg('c')}/fstab:2" in r.stdout
    assert f"{vs.cfg('d')}/fstab.remote:1" in r.stdout
    assert f"{vs.cfg('d')}/apps/init/depends" in r.stdout
    # it lists them; it does not edit other guests
    assert read(vs.cfg("c") / "fstab") == f"# shared\n{aroot}/srv /srv none bind,ro 0 0\n"


def test_rename_refuses_existing_target(vs, guest_a):
    vs.build("b")
    before = vs.snapshot()
    r = vs.run(["a", "rename", "b"], check=6)
    assert "'b'" in r.stderr and "exists" in r.stderr
    assert vs.snapshot() == before
    # an existing root alone is enough
    (vs.vdirbase / "c").mkdir()
    before = vs.snapshot()
    r = vs.run(["a", "rename", "c"], check=6)
    assert str(vs.vdirbase / "c") in r.stderr
    assert vs.snapshot() == before


@pytest.mark.parametrize("new", ["", "B", "a b", "../x", "x/y", ".", "..", "-x", "abcdefghijklm", "x\x1b"])
def test_rename_refuses_invalid_name(guest_a, new):
    vs = guest_a
    before = vs.snapshot()
    r = vs.run(["a", "rename", new], check=2)
    assert "invalid guest name" in r.stderr and "\x1b" not in r.stderr
    after = vs.snapshot()
    assert before == after, snapshot_diff(before, after)


def test_rename_other_refusals(vs, guest_a):
    before = vs.snapshot()
    vs.run(["a", "rename", "a"], check=2)
    vs.run(["nosuch", "rename", "x"], check=5)
    assert vs.snapshot() == before
    with FakeRunning(vs, "a"):
        r = vs.run(["a", "rename", "x"], check=1)
        assert "running" in r.stderr
    assert not os.path.lexists(vs.cfg("x")) and vs.cfg("a").is_dir() and vs.root("a").is_dir()


@pytest.fixture
def hold_lock(vs):
    fds = []

    def hold(name):
        d = vs.rundir / ".locks"
        d.mkdir(parents=True, exist_ok=True)
        fd = os.open(d / name, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fds.append(fd)
    yield hold
    for fd in fds:
        os.close(fd)


def test_busy_guest(vs, guest_a, hold_lock):
    vs.rundir.mkdir(mode=0o700, exist_ok=True)
    hold_lock("a")
    before = world(vs, "a")
    for args in (["a", "rename", "b"], ["b", "rename", "a"], ["a", "delete", "--force"], ["a", "build", "--force",
                                                                                            "-m", "skeleton"]):
        r = vs.run(args, check=4)
        assert "busy" in r.stderr
    assert world(vs, "a") == before
    assert not os.path.lexists(vs.cfg("b"))


# rename failing half-way: everything is rolled back

def fail_hostname_dir(vs):
    os.unlink(vs.root("a") / "etc" / "hostname")
    (vs.root("a") / "etc" / "hostname").mkdir()


def fail_hosts_dir(vs):
    # etc/hostname is rewritten first; then etc/hosts fails
    os.unlink(vs.root("a") / "etc" / "hosts")
    (vs.root("a") / "etc" / "hosts").mkdir()


def chattr(path, flag):
    r = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"chattr {flag} does not work here: {r.stderr.strip()}")


@pytest.mark.parametrize("how", ["hostname-dir", "hosts-dir", "immutable-confdir", "immutable-cachebase",
                                 "immutable-cfg-uts", "cache-target-exists"])
def test_rename_rolls_back(guest_a, how, tmp_path):
    vs = guest_a
    undo = []
    if how == "hostname-dir":
        fail_hostname_dir(vs)
    elif how == "hosts-dir":
        fail_hosts_dir(vs)
    elif how == "immutable-confdir":
        chattr(vs.confdir, "+i")        # the configuration cannot move (after the root did)
        undo.append(vs.confdir)
    elif how == "immutable-cachebase":
        chattr(vs.cachebase, "+i")      # the cache cannot move (after root and configuration did)
        undo.append(vs.cachebase)
    elif how == "immutable-cfg-uts":
        chattr(vs.cfg("a") / "uts", "+i")   # uts/nodename cannot be rewritten
        undo.append(vs.cfg("a") / "uts")
    elif how == "cache-target-exists":
        # in the way, but not seen by the up-front checks: the cache target
        # (found only when the cache is moved, after root and configuration)
        (vs.cachebase / "b").mkdir()
        (vs.cachebase / "b" / "foreign").write_text("not a's\n")
    try:
        before = world(vs, "a", "b")
        hn = read(vs.root("a") / "etc" / "hostname") if how == "hosts-dir" else None
        r = vs.run(["a", "rename", "b"], check=False)
        assert r.returncode != 0, r
        assert r.stderr.startswith("vserver: ")
    finally:
        for p in undo:
            subprocess.run(["chattr", "-i", str(p)], check=False)
    after = world(vs, "a", "b")
    assert before == after, snapshot_diff(before, after)
    if hn is not None:
        assert read(vs.root("a") / "etc" / "hostname") == hn
    assert not os.path.lexists(vs.cfg("b")) and not os.path.lexists(vs.root("b"))
    # no temporary files left behind
    for d in (vs.confdir, vs.vdirbase, vs.cachebase, vs.cfg("a"), vs.root("a") / "etc"):
        if d.is_dir():
            assert not [n for n in os.listdir(d) if n.endswith("~")], os.listdir(d)
    vs.run(["a", "check"])
    # and the rename works once the obstacle is gone
    if how in ("hostname-dir", "hosts-dir"):
        shutil.rmtree(vs.root("a") / "etc" / ("hostname" if how == "hostname-dir" else "hosts"))
    if how == "cache-target-exists":
        shutil.rmtree(vs.cachebase / "b")
    vs.run(["a", "rename", "b"])
    vs.run(["b", "check"])


# ---- delete --------------------------------------------------------------------------------

def test_delete_force(vs, guest_a):
    vs.build("keep")
    keep = world(vs, "keep")
    st = vs.rundir / "a"
    st.mkdir(mode=0o700)
    (st / "stale").write_text("left over\n")
    r = vs.run(["a", "delete", "--force"])
    for p in (vs.root("a"), vs.cachebase / "a", vs.cfg("a")):
        assert f"removed {p}" in r.stdout
    assert_no_guest(vs, "a")
    assert not os.path.lexists(vs.cachebase / "a") and not os.path.lexists(st)
    assert world(vs, "keep") == keep
    assert [g["name"] for g in vs.list_json()] == ["keep"]
    vs.run(["a", "delete", "--force"], check=5)


def test_delete_without_tty_does_not_prompt(vs, guest_a):
    r = vs.run(["a", "delete"], stdin=subprocess.DEVNULL)
    assert "sure" not in r.stdout and "(y/N)" not in r.stdout
    assert_no_guest(vs, "a")


@pytest.mark.parametrize("answer,deleted", [("n\n", False), ("\n", False), ("y\n", True), ("yes\n", True)])
def test_delete_prompts_on_a_tty(vs, guest_a, answer, deleted):
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode())
        r = vs.run(["a", "delete"], stdin=slave, check=0 if deleted else 1, timeout=30)
    finally:
        os.close(slave)
        os.close(master)
    assert "(y/N)" in r.stdout
    if deleted:
        assert_no_guest(vs, "a")
    else:
        assert "not deleted" in r.stdout
        assert vs.cfg("a").is_dir() and (vs.root("a") / "marker").is_file()


def test_delete_refuses_running_guest(vs, guest_a):
    before = world(vs, "a")
    with FakeRunning(vs, "a"):
        r = vs.run(["a", "delete", "--force"], check=1)
        assert "running" in r.stderr
    assert world(vs, "a") == before


def other_guest_root(vs, tmp_path):
    vs.build("o")
    (vs.root("o") / "precious").write_text("o's data\n")
    return str(vs.root("o"))


def host_dir_not_named(vs, tmp_path):
    d = tmp_path / "hostdata"
    d.mkdir()
    (d / "precious").write_text("host data\n")
    return str(d)


def host_dir_named_like_guest_via_link(vs, tmp_path):
    # vdir -> .../links/a, where links/a is itself a symlink to a host dir
    d = tmp_path / "hostdata"
    d.mkdir()
    (d / "precious").write_text("host data\n")
    (tmp_path / "links").mkdir()
    os.symlink(d, tmp_path / "links" / "a")
    return str(tmp_path / "links" / "a")


def dotdot_path(vs, tmp_path):
    d = tmp_path / "hostdata"
    d.mkdir()
    (d / "precious").write_text("host data\n")
    return f"{vs.vdirbase}/../../hostdata/../a"


@pytest.mark.parametrize("target", [other_guest_root, host_dir_not_named, host_dir_named_like_guest_via_link,
                                    dotdot_path, lambda vs, t: "a", lambda vs, t: "../a"],
                         ids=["other-guest", "host-dir", "link-named-like-guest", "dotdot", "relative",
                              "relative-dotdot"])
def test_delete_refuses_bad_vdir(vs, guest_a, tmp_path, target):
    t = target(vs, tmp_path)
    os.unlink(vs.cfg("a") / "vdir")
    os.symlink(t, vs.cfg("a") / "vdir")
    watch = [vs.cfg("a"), vs.root("a"), vs.cachebase / "a", tmp_path / "hostdata", tmp_path / "links"]
    if vs.root("o").exists():
        watch.append(vs.root("o"))
    before = snapshot(*watch)
    r = vs.run(["a", "delete", "--force"], check=False, timeout=30)
    assert r.returncode != 0, r
    assert "vdir" in r.stderr or "link" in r.stderr, r.stderr
    after = snapshot(*watch)
    assert before == after, snapshot_diff(before, after)


@pytest.mark.parametrize("target", ["/", "/etc", "/usr/../etc", "/var/lib"])
def test_delete_refuses_vdir_to_system_dir(vs, tmp_path, need_unshare, target):
    """vdir -> /, /etc, ...: run with the real / read-only, so that a failing
    defence cannot damage the host."""
    steps = run_with_readonly_host(vs, tmp_path, [
        ["v", "build", "-m", "skeleton"],
        ["ln", target, "etc-vservers/v/vdir"],
        ["v", "delete", "--force"],
        ["v", "check"],
    ])
    for s in steps:
        no_erofs(s)
    build, _, delete, check = steps
    assert build["rc"] == 0, build
    assert delete["rc"] == 2, delete
    assert "vdir" in delete["err"], delete
    assert check["rc"] == 2, check          # the configuration is still there


def test_delete_does_not_follow_links_in_root(vs, guest_a, host_dir):
    (host_dir / "precious").write_text("host data\n")
    (host_dir / "sub").mkdir()
    (host_dir / "sub" / "more").write_text("more host data\n")
    root = vs.root("a")
    os.symlink(host_dir, root / "hostlink")
    os.symlink(f"{'../' * 20}{host_dir}", root / "var" / "rel-hostlink")
    os.symlink(host_dir / "precious", root / "etc" / "filelink")
    os.link(host_dir / "precious", root / "hardlink")
    before = snapshot(host_dir)
    vs.run(["a", "delete", "--force"], timeout=30)
    assert_no_guest(vs, "a")
    after = snapshot(host_dir)
    for e in list(before.values()) + list(after.values()):
        e.pop("nlink", None)
    assert before == after, snapshot_diff(before, after)


@pytest.mark.parametrize("where", ["cache-link", "cachebase-entry", "run-state"])
def test_delete_does_not_follow_cache_or_run_links(vs, guest_a, host_dir, where):
    (host_dir / "precious").write_text("host data\n")
    (host_dir / "state").write_text("not a state file\n")
    if where == "cache-link":
        # the cache link points somewhere that is not cachebase/NAME
        os.unlink(vs.cfg("a") / "cache")
        os.symlink(host_dir, vs.cfg("a") / "cache")
    elif where == "cachebase-entry":
        # the guest's own cache directory replaced by a link to a host dir
        shutil.rmtree(vs.cachebase / "a")
        os.symlink(host_dir, vs.cachebase / "a")
    else:
        vs.rundir.mkdir(mode=0o700, exist_ok=True)
        os.symlink(host_dir, vs.rundir / "a")
    before = snapshot(host_dir)
    r = vs.run(["a", "delete", "--force"], check=False, timeout=30)
    assert snapshot(host_dir) == before, snapshot_diff(before, snapshot(host_dir))
    assert r.returncode == 0, r
    assert not os.path.lexists(vs.cfg("a")) and not os.path.lexists(vs.root("a"))


def unshare_script(script):
    return subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_delete_refuses_mount_point_in_root(vs, guest_a, need_unshare):
    """A file system mounted in the guest root (here a tmpfs, in a private
    mount namespace): delete refuses instead of emptying it."""
    mnt = vs.root("a") / "mnt"
    mnt.mkdir()
    env = " ".join(f"{k}='{v}'" for k, v in vs.env.items() if k.startswith("VSERVER_"))
    r = unshare_script(f"mount -t tmpfs tmpfs '{mnt}' && echo data > '{mnt}/precious' && "
                       f"env {env} '{vs.bin}' a delete --force; echo \"rc=$?\"; "
                       f"cat '{mnt}/precious'")
    assert "rc=0" not in r.stdout, r
    assert "mount point" in r.stderr, r
    assert r.stdout.rstrip().endswith("data"), r
    assert vs.cfg("a").is_dir()


def test_delete_refuses_bind_mount_in_root(vs, guest_a, host_dir, need_unshare):
    (host_dir / "precious").write_text("host data\n")
    mnt = vs.root("a") / "mnt"
    mnt.mkdir()
    env = " ".join(f"{k}='{v}'" for k, v in vs.env.items() if k.startswith("VSERVER_"))
    r = unshare_script(f"mount --bind '{host_dir}' '{mnt}' && env {env} '{vs.bin}' a delete --force; "
                       f"echo \"rc=$?\"")
    assert "mount --bind" not in r.stderr, r
    assert (host_dir / "precious").exists(), f"delete removed the host's files through a bind mount\n{r}"
    assert "rc=0" not in r.stdout
