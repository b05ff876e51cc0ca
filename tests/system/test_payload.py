# SPDX-License-Identifier: GPL-2.0-or-later
"""The test payload itself, outside any container: the static probe
(tests/payload/probe.c, /t in guests) run on the host, and the busybox
guest root (tests/payload/make-busybox-rootfs.sh) entered with chroot.
chroot is fine here: this is test tooling, not the product."""
import errno
import os
import select
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import PAYLOAD, elf_is_static, rmtree

# errno names the probe must know (security-catalogue.md §0.2)
REQUIRED_ERRNOS = ("EPERM EACCES EROFS ENOENT EEXIST EINVAL ENOSYS EBUSY ENOTDIR EISDIR ELOOP EXDEV "
                   "ENODEV ENXIO EFAULT EBADF ETXTBSY").split()


def probe(p, *args, check=0, timeout=30):
    r = subprocess.run([str(p), *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check is not None:
        assert r.returncode == check, (args, r)
    return r


def line(p, *args, **kw):
    return probe(p, *args, **kw).stdout.strip()


def in_chroot(root, *argv, timeout=30):
    return subprocess.run(["chroot", str(root), *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env={"PATH": "/bin:/sbin"})


# ---- the probe on the host -----------------------------------------------------------------

def test_probe_is_static(vs_probe):
    assert elf_is_static(vs_probe)


def test_probe_identity(vs_probe):
    u = os.uname()
    assert probe(vs_probe, "uname").stdout.splitlines() == [
        u.sysname, u.nodename, u.release, u.machine, open("/proc/sys/kernel/domainname").read().strip()]
    assert line(vs_probe, "hostname") == u.nodename
    assert line(vs_probe, "ppid") == str(os.getpid())
    p = subprocess.Popen([str(vs_probe), "pid"], stdout=subprocess.PIPE, text=True)
    assert p.communicate(timeout=30)[0].strip() == str(p.pid)
    assert line(vs_probe, "id") == f"uid={os.getuid()} euid={os.geteuid()} gid={os.getgid()} egid={os.getegid()}"
    assert line(vs_probe, "cwd") == os.getcwd()


def test_probe_proc_status(vs_probe):
    caps = probe(vs_probe, "caps").stdout.splitlines()
    assert [c.split(":")[0] for c in caps] == ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
    mine = {ln.split(":")[0]: ln for ln in open("/proc/self/status").read().splitlines()}
    assert caps == [mine[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")]
    st = probe(vs_probe, "status").stdout.splitlines()
    assert [s.split(":")[0] for s in st] == ["NoNewPrivs", "Seccomp"]
    assert probe(vs_probe, "status", "Name").stdout == "Name:\tvs-probe\n"
    mi = probe(vs_probe, "mountinfo").stdout.splitlines()
    assert any(m.split()[4] == "/" for m in mi)
    ns = dict(x.split(" ", 1) for x in probe(vs_probe, "ns").stdout.splitlines())
    assert ns["pid"] == os.readlink("/proc/self/ns/pid")


def test_probe_errno_results(vs_probe, tmp_path):
    assert line(vs_probe, "open", "/nonexistent") == "ENOENT"
    assert line(vs_probe, "open", "/etc/passwd") == "OK"
    assert line(vs_probe, "openwronly", tmp_path / "no" / "such") == "ENOENT"
    assert line(vs_probe, "mkdir", tmp_path) == "EEXIST"
    assert line(vs_probe, "mkdir", tmp_path / "d") == "OK"
    assert (tmp_path / "d").is_dir()
    assert line(vs_probe, "mkdir", "/etc/passwd/x") == "ENOTDIR"
    f = tmp_path / "f"
    assert line(vs_probe, "write", f, "hello world") == "OK"
    assert f.read_text() == "hello world\n"
    assert probe(vs_probe, "cat", f).stdout == "hello world\n"
    assert line(vs_probe, "write", tmp_path, "x") == "EISDIR"
    os.symlink("loop", tmp_path / "loop")
    assert line(vs_probe, "open", tmp_path / "loop") == "ELOOP"
    assert line(vs_probe, "mknod", tmp_path / "null") == "OK"
    st = os.lstat(tmp_path / "null")
    assert stat.S_ISCHR(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3)
    assert line(vs_probe, "mknod", tmp_path / "null") == "EEXIST"
    assert line(vs_probe, "mknod", tmp_path / "fifo", "p") == "OK"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    assert probe(vs_probe, "ls", tmp_path).stdout.splitlines() == sorted(os.listdir(tmp_path))
    # information commands: errno name and exit 1
    assert probe(vs_probe, "cat", "/nonexistent", check=1).stdout == "ENOENT\n"
    assert probe(vs_probe, "ls", "/nonexistent", check=1).stdout == "ENOENT\n"


def test_probe_errno_names(vs_probe):
    table = dict(ln.split(" ", 1)[::-1] for ln in probe(vs_probe, "errno-name").stdout.splitlines())
    for name in REQUIRED_ERRNOS:
        assert table.get(name) == str(getattr(errno, name)), name
    for name, num in table.items():
        assert getattr(errno, name, int(num)) == int(num), name
    assert probe(vs_probe, "errno-name", "1", "EROFS", "ENOTSUP", "999").stdout.splitlines() == [
        "EPERM", str(errno.EROFS), str(errno.ENOTSUP), "E999"]
    assert probe(vs_probe, "errno-name", "ENOSUCH", check=1).stdout == "?\n"


def test_probe_usage_and_exit(vs_probe):
    assert probe(vs_probe, "exit", "7", check=7).stdout == ""
    assert probe(vs_probe, check=2).stdout == ""
    assert "unknown command" in probe(vs_probe, "nosuch", check=2).stderr
    assert probe(vs_probe, "open", check=2).stdout == ""
    assert "errno-name" in probe(vs_probe, "help").stdout


def test_probe_processes(vs_probe):
    assert line(vs_probe, "kill", "2147483647", "0") == "ESRCH"
    assert line(vs_probe, "kill", str(os.getpid()), "0") == "OK"
    victim = subprocess.Popen(["sleep", "60"])
    try:
        # attach only once it runs `sleep`: an attach caught mid-exec can leave
        # the process stopped, and then SIGTERM waits for a SIGCONT
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(f"/proc/{victim.pid}/comm") as f:
                if f.read().strip() == "sleep":
                    break
            time.sleep(0.01)
        assert line(vs_probe, "ptrace", victim.pid, "seize") == "OK"
        assert victim.poll() is None
        assert line(vs_probe, "kill", victim.pid, "SIGTERM") == "OK"
        assert victim.wait(timeout=10) == -signal.SIGTERM
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert line(vs_probe, "ptrace", "2147483647") == "ESRCH"
    assert line(vs_probe, "forkbomb", "5") == "OK 5"
    assert line(vs_probe, "memhog", "4") == "OK 4"
    assert line(vs_probe, "spin", "0.1").startswith("OK ")
    t0 = time.monotonic()
    assert line(vs_probe, "sleep", "0.2") == ""
    assert time.monotonic() - t0 >= 0.2
    out = probe(vs_probe, "fds").stdout.splitlines()
    assert [o.split()[0] for o in out] == ["0", "1", "2"], out


def test_probe_pid1_wait(vs_probe):
    p = subprocess.Popen([str(vs_probe), "pid1-wait", "sh", "-c", "exit 3"], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        assert p.stdout.readline() == "READY\n"
        # the child is reaped: no zombie left among its children
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kids = open(f"/proc/{p.pid}/task/{p.pid}/children").read().split()
            if not kids:
                break
            time.sleep(0.05)
        assert kids == []
        os.kill(p.pid, signal.SIGHUP)       # ignored
        time.sleep(0.1)
        assert p.poll() is None
        os.kill(p.pid, signal.SIGTERM)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_probe_pid1_wait_as_namespace_init(vs_probe, need_unshare):
    # PID 1 of a new pid namespace: a SIGTERM from inside ends it (and the
    # kernel then kills the rest of the namespace: the "OK" of the kill may
    # never be printed, and the sleep does not hold it up)
    t0 = time.monotonic()
    r = subprocess.run(["unshare", "-pf", "--mount-proc", str(vs_probe), "pid1-wait", "sh", "-c",
                        f"{vs_probe} kill 1 TERM; sleep 30"], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stdout.startswith("READY\n"), r
    assert time.monotonic() - t0 < 20


def test_probe_listen_tcp(vs_probe):
    p = subprocess.Popen([str(vs_probe), "listen-tcp", "0", "20"], stdout=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, text=True)
    try:
        first = p.stdout.readline().split()
        assert first[0] == "LISTENING", first
        with socket.create_connection(("127.0.0.1", int(first[1])), timeout=10) as c:
            c.sendall(b"ping\n")
            c.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                select.select([c], [], [], 10)
                b = c.recv(100)
                if not b:
                    break
                got += b
        assert got == b"ping\n"
        assert p.wait(timeout=10) == 0
        assert p.stdout.read() == "OK 127.0.0.1\n"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert probe(vs_probe, "listen-tcp", "0", "0.1", check=1).stdout.splitlines()[-1] == "ETIMEDOUT"


# ---- the busybox guest root -----------------------------------------------------------------

def test_rootfs_script(tmp_path, vs_probe):
    if not os.path.isfile("/bin/busybox"):
        pytest.skip("busybox-static is not installed")
    root = tmp_path / "r"
    t0 = time.monotonic()
    subprocess.run(["sh", str(PAYLOAD / "make-busybox-rootfs.sh"), str(root), str(vs_probe)], check=True,
                   timeout=60)
    elapsed = time.monotonic() - t0
    assert elapsed < 3, f"make-busybox-rootfs.sh took {elapsed:.2f} s"
    for d in ("dev", "proc", "sys", "run", "tmp", "root", "var/log", "home/user", "etc/rc3.d"):
        assert (root / d).is_dir() and not (root / d).is_symlink(), d
    assert stat.S_IMODE(os.stat(root / "tmp").st_mode) == 0o1777
    assert os.stat(root / "home/user").st_uid == 1000
    for a in ("sh", "ls", "cat", "mknod", "ps", "mount", "hostname"):
        assert os.readlink(root / "bin" / a) == "busybox"
    for a in ("init", "halt", "reboot", "poweroff"):
        assert os.readlink(root / "sbin" / a) == "../bin/busybox"
    assert os.readlink(root / "etc/rc3.d/S01marker") == "../init.d/marker"
    assert os.readlink(root / "etc/rc6.d/K01marker") == "../init.d/marker"
    assert "user:x:1000:1000:" in (root / "etc/passwd").read_text()
    assert "respawn" not in (root / "etc/inittab").read_text().replace("# No gettys and nothing respawned", "")
    assert (root / "t").read_bytes() == vs_probe.read_bytes()
    # DEST must be empty
    r = subprocess.run(["sh", str(PAYLOAD / "make-busybox-rootfs.sh"), str(root)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and "not empty" in r.stderr


@pytest.fixture
def unpacked(tmp_path, busybox_rootfs_tarball):
    root = tmp_path / "unpacked"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-xpzf", str(busybox_rootfs_tarball)], check=True)
    try:
        yield root
    finally:
        rmtree(root)


def test_chroot_busybox_and_probe(unpacked):
    r = in_chroot(unpacked, "/bin/sh", "-c", "echo ok")
    assert (r.returncode, r.stdout) == (0, "ok\n"), r
    r = in_chroot(unpacked, "/t", "pid")
    assert r.returncode == 0 and r.stdout.strip().isdigit(), r
    r = in_chroot(unpacked, "/t", "ls", "/")
    assert "t" in r.stdout.split() and "etc" in r.stdout.split(), r
    assert in_chroot(unpacked, "/t", "open", "/nonexistent").stdout == "ENOENT\n"
    r = in_chroot(unpacked, "/bin/sh", "-c", "id -u user; id -un; echo $PATH")
    assert r.stdout.splitlines() == ["1000", "root", "/bin:/sbin"], r


def test_chroot_rc_scripts(unpacked, need_unshare):
    """rc 3 starts the marker service, rc 6 stops it; rcS/rcK (busybox
    init) leave their markers.  In private mount and pid namespaces, so the
    marker daemon ends with them."""
    script = ("mount -t proc proc \"$R/proc\" && mount -t tmpfs tmpfs \"$R/run\" && "
              "touch \"$R/dev/null\" && mount --bind /dev/null \"$R/dev/null\" && "
              "exec chroot \"$R\" /bin/sh -c '"
              "/etc/init.d/rc 3; /etc/init.d/marker status && echo up; cat /run/marker.started; "
              "/etc/init.d/rc 6; /etc/init.d/marker status || echo down; "
              "/etc/init.d/rcS; test -f /run/rcS.done && echo rcS; /etc/init.d/rcK; "
              "/etc/init.d/marker status || echo down'")
    r = subprocess.run(["unshare", "-m", "-p", "-f", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "R": str(unpacked)})
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == ["up", "marker started", "down", "rcS", "down"], r
    assert (unpacked / "var/log/marker.stopped").read_text() == "marker stopped\n"
    assert (unpacked / "var/log/rcK.done").exists()
    assert (unpacked / "var/log/rc.log").read_text().splitlines() == [
        "rc 3: begin", "rc 3: /etc/rc3.d/S01marker start", "rc 3: end",
        "rc 6: begin", "rc 6: /etc/rc6.d/K01marker stop", "rc 6: end",
        "rc 3: begin", "rc 3: /etc/rc3.d/S01marker start", "rc 3: end",
        "rc 0: begin", "rc 0: /etc/rc0.d/K01marker stop", "rc 0: end"]
    assert not os.path.ismount(unpacked / "proc")
    os.unlink(unpacked / "dev/null")


def test_bbguest_builds(vs, bbguest):
    root = vs.root(bbguest)
    assert (root / "t").is_file() and (root / "bin/busybox").is_file()
    assert vs.config_json(bbguest)["init"]["style"] == "sysv"
    assert (root / "etc/hostname").read_text().strip() == "bb"
    r = in_chroot(root, "/t", "cat", "/etc/hostname")
    assert r.stdout == "bb\n", r
