# SPDX-License-Identifier: GPL-2.0-or-later
"""The attack suite (issue 7): the 50 cases of security-catalogue.md §1, run
from inside real running guests (the busybox guest with the probe /t), as
guest root and, where the catalogue says so, as the guest's unprivileged
user (uid 1000, `vserver NAME suexec user ...`).  Every case asserts the safe
outcome and that the host is unchanged (HostWatch: marker files, host
sysctls, the host mount table, the realtime clock, hostname/domainname).

Payloads are benign (catalogue §0.2): open-for-write-then-close, calls with a
bogus pointer or fd -1 (probe.c `t sys`), `echo h` to sysrq, a setuid copy of
the probe; the reboot probe refuses to run outside the guest's pid namespace.
Network cases run inside network namespaces the test makes (test_net.py's
`nvs`); nothing is sent outside them.

A case whose defence is not there yet is marked xfail(strict, raises=
DefenceMissing): only the assertions that depend on that defence raise
DefenceMissing, every other assertion of the case still fails it, and once
the defence lands the case XPASSes, which fails: unmark it then.

| id    | what the guest does                                          | safe outcome asserted |
|-------|--------------------------------------------------------------|-----------------------|
| FS-01 | chroot ../../.. escape, looks for the host markers; mountinfo | ENOENT; no host root mount, no old root |
| FS-02 | lists fds and cwd of its init and of an exec'd process        | fds 0-2 only, cwd inside |
| FS-03 | open_by_handle_at on a handle of its own root                 | EPERM |
| FS-04 | opens /proc/PID/exe for writing while the host execs 30x       | never OK; host binaries unchanged |
| FS-05 | (stopped) fstab bind target replaced by a symlink to a host dir | no mount on the host dir, dir unchanged |
| FS-06 | (stopped) /dev and /proc replaced by symlinks to a host dir    | refused or replaced; host dir unchanged |
| FS-07 | readlink /proc/*/root and cwd during an exec; host marker via /proc/*/root | roots "/", marker ENOENT |
| FS-08 | mknod sda/mem, opens them; iopl, ioperm                       | EPERM |
| FS-09 | mount ext4 and tmpfs, fsopen                                  | EPERM |
| FS-10 | mounts in the guest                                           | EPERM; no "shared:" mounts; host table same |
| FS-11 | two guests of one template: shared inodes? chattr capability   | no cross-guest links; no LINUX_IMMUTABLE |
| KI-01 | open /proc/sys/vm/drop_caches, randomize_va_space for write; ip_forward | EROFS; host sysctls unchanged |
| KI-02 | echo h > /proc/sysrq-trigger                                  | refused or /dev/null; no "sysrq" in dmesg |
| KI-03 | reads kcore/keys, dmesg -C, umount a mask, remount /proc/sys rw; (user) unshare | empty; EPERM |
| KI-04 | opens sysfs files for write                                   | EROFS/ENOENT |
| KI-05 | core_pattern, modprobe, binfmt_misc                           | EROFS/EPERM/ENOENT |
| KI-06 | init/finit/delete_module; SCTP socket; ip link add ipip        | EPERM; /proc/modules unchanged |
| KI-07 | kexec_load, kexec_file_load                                   | EPERM |
| KI-08 | keyctl, add_key, request_key (root and user)                  | EPERM |
| KI-09 | perf_event_open (root and user)                               | EPERM |
| KI-10 | bpf (root and user)                                           | EPERM |
| KI-11 | userfaultfd (root and user)                                   | EPERM |
| KI-12 | io_uring_setup (root and user)                                | EPERM |
| KI-13 | release_agent, user namespace, cgroup v1 mount                | ENOENT/EROFS; EPERM |
| KI-14 | devices.allow, bpf, then FS-08 again; host devices cgroup     | refused; devices still denied |
| KI-15 | /proc/self/cgroup, memory.max, mkdir, cgroup2 mount           | "/"; refused; host limit unchanged |
| PI-01 | sees/signals a host process, kill -9 -1, SysV shm, mqueue     | invisible, alive, not listed |
| PI-02 | ptrace/process_vm_readv of a host pid; (user) of a root process | ESRCH / EPERM |
| PI-03 | watches new pids while the host execs 40x: links, PTRACE_SEIZE | no host path; no seize before exec |
| PI-04 | kill -KILL 1, kill -TERM -1                                   | guest init lives |
| PI-05 | reboot CAD_ON, RESTART, HALT                                  | EINVAL; restart = new init; halt = stopped |
| PI-06 | TIOCSTI (also with bit 32 set) on a host terminal given to exec | refused; nothing typed on the host side |
| RS-01 | fork bomb at pids.max (root and user); host uid 1000 forks    | EAGAIN below the limit; host fine |
| RS-02 | memory hog, /dev/shm fill at limits/memory                    | OOM kill in the guest; host process alive |
| RS-03 | disk fill as root and user, on the guest's own file system    | ENOSPC at its size; host keeps its space |
| RS-04 | inode fill on the guest's own file system                     | ENOSPC at its inodes; host creates files |
| RS-05 | opens /dev/ptmx until it fails; host opens a pty              | ENOSPC at devpts max; host gets its pty |
| RS-06 | date -s, settimeofday, clock_settime, adjtimex; /dev/rtc      | EPERM; host time unchanged |
| RS-07 | hostname, sethostname, setdomainname, /proc/sys/kernel/hostname | EPERM/EROFS; host name unchanged |
| RS-08 | SCHED_FIFO; spinners at limits/cpu.max; host latency          | EPERM; capped; host responsive |
| NW-01 | binds/claims another guest's address                          | EADDRNOTAVAIL; ip addr add fails |
| NW-02 | raw and packet sockets                                        | EPERM |
| NW-03 | MAC change (isolated); other guest's MAC on a bridge (private) | refused; bridge fdb unchanged |
| NW-04 | host 127.0.0.1 listener and abstract socket; host sockets in the tree | ECONNREFUSED; none |
| NW-05 | host service on the bridge address, port not in net/host-ports; 169.254.169.254 | not answered (dropped) |
| NW-06 | ip route add, ip_forward (shared and own stack)               | refused or confined; host unchanged |
| PR-01 | (user) NoNewPrivs; setuid copy of /t                          | CapEff within the bounding set |
| PR-02 | (user) unshare/clone/clone3 a user namespace                  | EPERM (ENOSYS for clone3) |
| PR-03 | cap sets of init and exec; a file-capability binary; capset    | Bnd = default; Inh=Amb=0; raise EPERM |
| PR-04 | host user in the vdir base; setuid file in a shared dir run by a host user | EACCES; no euid 0 |
"""
import os
import pty
import re
import select
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import VSERVER_BIN, VSERVER_INIT, VSERVER_MONITOR, file_digest, pid_alive, shared_dir, snapshot, \
    snapshot_diff, wait_until
from test_net import build as net_build, iface, links
from test_net import net, nvs  # noqa: F401 - fixtures used through request.getfixturevalue

MiB = 1 << 20

# The profiles the suite runs in.  Only "default" exists (privileged guest,
# reduced bounding set, seccomp deny-list, masks); the user-namespace
# profile of issue 7 is the second entry once it exists: add "userns" here
# and its configuration to PROFILE_CONFIG, and every case runs in both.
PROFILES = ["default", "userns"]
PROFILE_CONFIG = {"default": {}, "userns": {"userns": ""}}

# The bounding set of the default profile (catalogue §5.7, lib/caps.c vs_caps_default)
DEFAULT_CAPS = sum(1 << c for c in (0, 1, 3, 4, 5, 6, 7, 8, 10, 15, 18, 22, 26, 28, 29, 31))
CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_LINUX_IMMUTABLE = 21, 16, 9


class DefenceMissing(AssertionError):
    """An assertion that depends on a defence that is not there yet."""


def missing(reason):
    return pytest.mark.xfail(raises=DefenceMissing, strict=True, reason=reason)


def need(cond, msg):
    """Assert a safe outcome whose defence is still being written (see xfail marks)."""
    if not cond:
        raise DefenceMissing(msg)


# ---- the host side --------------------------------------------------------------------------

HOST_SYSCTLS = ("kernel/core_pattern", "kernel/modprobe", "kernel/hostname", "kernel/domainname",
                "kernel/randomize_va_space", "net/ipv4/ip_forward", "kernel/printk", "kernel/ctrl-alt-del",
                "dev/tty/legacy_tiocsti", "kernel/perf_event_paranoid", "kernel/unprivileged_bpf_disabled")


def read_sysctl(name):
    try:
        return Path("/proc/sys", name).read_text()
    except OSError as e:
        return f"<{e.errno}>"


def host_mounts():
    """The host's mount table without what concurrent tests churn (temp
    dirs, netns and cgroup test parents)."""
    out = set()
    tmp = tempfile.gettempdir()
    for ln in Path("/proc/self/mountinfo").read_text().splitlines():
        f = ln.split()
        mp = f[4]
        if mp.startswith(tmp + "/") or mp.startswith("/run/netns") or "vstest-" in mp or "vserver" in mp:
            continue
        sep = f.index("-")
        out.add((mp, f[3], f[sep + 1], f[sep + 2]))
    return out


class HostWatch:
    """What a guest must never change on the host, read before and after."""

    def __init__(self, marker_dir):
        self.marker = Path(f"/.vs-host-marker-{os.getpid()}")
        self.marker.write_text("host\n")
        self.tmp_marker = Path(marker_dir) / ".vs-host-marker"
        self.tmp_marker.write_text("host\n")
        self.before = self.read()
        self.t0 = (time.time(), time.monotonic())

    def read(self):
        return {"sysctl": {s: read_sysctl(s) for s in HOST_SYSCTLS},
                "uname": os.uname().nodename,
                "mounts": host_mounts(),
                "modules": Path("/proc/modules").read_text() if Path("/proc/modules").exists() else None,
                "markers": [p.read_text() for p in (self.marker, self.tmp_marker)]}

    def check(self):
        after = self.read()
        for k in ("sysctl", "uname", "modules", "markers"):
            assert after[k] == self.before[k], f"host {k} changed: {self.before[k]} -> {after[k]}"
        assert after["mounts"] - self.before["mounts"] == set(), \
            f"new host mounts: {after['mounts'] - self.before['mounts']}"
        drift = (time.time() - self.t0[0]) - (time.monotonic() - self.t0[1])
        assert abs(drift) < 2, f"host realtime clock moved by {drift:.1f}s"

    def close(self):
        self.marker.unlink(missing_ok=True)


# ---- the guest side -------------------------------------------------------------------------

class Guest:
    def __init__(self, vs, name, profile):
        self.vs, self.name, self.profile = vs, name, profile
        self.root = vs.root(name)
        self.cfg = vs.cfg(name)

    def configure(self, **files):
        for rel, text in {**PROFILE_CONFIG[self.profile], **files}.items():
            p = self.cfg / rel.replace("__", "/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text + ("\n" if text and not text.endswith("\n") else ""))

    def start(self, check=True):
        r = self.vs.run([self.name, "start"], check=check, timeout=60)
        if check:
            self.state = self.vs.state(self.name)
        return r

    def run(self, *argv, user=False, timeout=60, check=None, **kw):
        args = [self.name, "suexec", "user", *argv] if user else [self.name, "exec", *argv]
        return self.vs.run(args, check=check, timeout=timeout, **kw)

    def t(self, *args, user=False, timeout=60):
        return self.run("/t", *args, user=user, timeout=timeout).stdout.strip()

    def sys(self, *names, user=False):
        out = self.t("sys", *names, user=user).splitlines()
        assert len(out) == len(names), out
        return dict(zip(names, out))

    def sh(self, script, user=False, timeout=60):
        return self.run("sh", "-c", script, user=user, timeout=timeout)

    def popen(self, *argv):
        return self.vs.popen([self.name, "exec", *argv])

    def init_ns(self, kind):
        return os.readlink(f"/proc/{self.state['init']}/ns/{kind}")

    def running(self):
        return self.vs.run([self.name, "running"], check=False).returncode == 0

    def cg_file(self, *files):
        for f in files:
            for d in self.vs.cgroup_dirs(self.name):
                p = d / f
                # on a hybrid host the cgroup2 directory has no controllers: its core files are not theirs
                ctl = d / "cgroup.controllers"
                if p.is_file() and not (f.startswith(("memory.", "pids.", "cpu.")) and ctl.is_file()
                                        and f.split(".")[0] not in ctl.read_text().split()):
                    return p
        return None


def expect(results, allowed, what=""):
    """Every probe result in `results` (a dict name -> line) is allowed."""
    bad = {k: v for k, v in results.items() if v not in allowed}
    assert not bad, f"{what} unsafe results {bad}, allowed {sorted(allowed)}"


def eperm_or_nosys(results, what=""):
    """EPERM; ENOSYS (the kernel lacks the call) is reported, and skips
    the case only if every call of it is missing."""
    expect(results, {"EPERM", "ENOSYS"}, what)
    if all(v == "ENOSYS" for v in results.values()):
        pytest.skip(f"the kernel lacks {sorted(results)}")


@pytest.fixture(params=PROFILES)
def profile(request):
    # a defence known to be missing in this profile: xfail (strict) this case
    spec = getattr(request.node, "callspec", None)
    reason = XFAIL.get((request.param, spec.params.get("case") if spec else None))
    if reason:
        request.applymarker(missing(reason))
    return request.param


@pytest.fixture
def host(tmp_path):
    w = HostWatch(tmp_path)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture
def guest(vs, bbguest, profile):
    g = Guest(vs, bbguest, profile)
    g.configure()
    return g


# ---- FS ---------------------------------------------------------------------------------------

def case_FS_01(g, host, **_):
    g.start()
    for marker in (host.marker, host.tmp_marker):
        assert g.t("chroot-escape", str(marker)) in ("EPERM", "ENOENT")
    root_dev = next(l.split()[2] for l in Path("/proc/1/mountinfo").read_text().splitlines() if l.split()[4] == "/")
    for ln in g.t("mountinfo").splitlines():
        f = ln.split()
        assert not (f[2] == root_dev and f[3] == "/"), f"the host root is mounted in the guest: {ln}"
    for old in ("/.oldroot", "/old_root", "/.pivot_root"):
        assert g.t("open", old) == "ENOENT"


def case_FS_02(g, host, **_):
    g.start()
    fds = g.t("ls", "/proc/1/fd").split()
    # 0-2, and the sysv style's /run/initctl FIFO, which vserver-init
    # makes in the guest and reads (sysvinit's request channel)
    extra = [f for f in fds if f not in ("0", "1", "2")]
    assert [g.sh(f"readlink /proc/1/fd/{f}").stdout.strip() for f in extra] in ([], ["/run/initctl"]), fds
    assert g.sh("readlink /proc/1/cwd; readlink /proc/1/root").stdout.split() == ["/", "/"]
    lines = g.t("fds").splitlines()
    assert [l.split()[0] for l in lines] == ["0", "1", "2"], lines
    cwd = g.t("cwd")
    assert cwd.startswith("/") and "unreachable" not in cwd and str(g.vs.base) not in cwd, cwd


def case_FS_03(g, host, **_):
    g.start()
    assert g.sys("open_by_handle_at") == {"open_by_handle_at": "EPERM"}
    assert g.sys("open_by_handle_at", user=True) == {"open_by_handle_at": "EPERM"}


def case_FS_04(g, host, **_):
    g.start()
    bins = [VSERVER_BIN, VSERVER_INIT, VSERVER_MONITOR]
    before = [file_digest(b) for b in bins]
    watcher = g.popen("sh", "-c", "end=$(($(date +%s)+6)); while [ $(date +%s) -lt $end ]; do "
                      "for p in /proc/[0-9]*; do /t openwronly $p/exe; done; done 2>/dev/null")
    try:
        for _ in range(30):
            g.run("/bin/true", check=0)
        out, _ = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert "OK" not in out.split(), "a /proc/PID/exe opened for writing"
    assert [file_digest(b) for b in bins] == before


def case_FS_05(g, host, tmp_path, **_):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("host\n")
    src = tmp_path / "data"
    src.mkdir()
    g.configure(fstab=f"{src} /mnt/data none bind 0 0")
    (g.root / "mnt").mkdir(exist_ok=True)
    os.symlink(str(outside), g.root / "mnt" / "data")
    snap = snapshot(outside)
    r = g.start(check=False)
    assert not any(l.split()[4] == str(outside) for l in Path("/proc/self/mountinfo").read_text().splitlines())
    if r.returncode == 0:
        g.state = g.vs.state(g.name)
        assert g.t("ls", "/mnt/data").split() != ["keep"] or not (outside / "keep").exists()
    assert snapshot_diff(snap, snapshot(outside)) == ""


def case_FS_06(g, host, tmp_path, **_):
    outside = tmp_path / "outside"
    outside.mkdir()
    snap = snapshot(outside)
    shutil.rmtree(g.root / "dev")
    os.symlink(str(outside), g.root / "dev")
    r = g.start(check=False)
    assert snapshot_diff(snap, snapshot(outside)) == "", "start populated a host directory through /dev"
    if r.returncode == 0:
        g.vs.run([g.name, "stop"], timeout=60)
    os.unlink(g.root / "dev") if os.path.islink(g.root / "dev") else None
    (g.root / "dev").mkdir(exist_ok=True)
    shutil.rmtree(g.root / "proc")
    os.symlink(str(outside), g.root / "proc")
    r = g.start(check=False)
    assert snapshot_diff(snap, snapshot(outside)) == "", "start populated a host directory through /proc"
    assert not any(l.split()[4] == str(outside) for l in Path("/proc/self/mountinfo").read_text().splitlines())


def case_FS_07(g, host, **_):
    g.start()
    bg = g.popen("/t", "sleep", "3")
    try:
        time.sleep(0.3)
        out = g.sh("for p in /proc/[0-9]*; do echo \"$p $(readlink $p/root) $(readlink $p/cwd)\"; done").stdout
        for m in (host.marker, host.tmp_marker):
            assert g.sh(f"ls /proc/*/root{m} 2>/dev/null; true").stdout.strip() == ""
    finally:
        bg.kill()
        bg.communicate()
    for ln in out.splitlines():
        f = ln.split()
        if len(f) == 3:
            assert f[1] == "/" and f[2].startswith("/") and str(g.vs.base) not in f[2], ln


def case_FS_08(g, host, **_):
    g.start()
    for node, spec in (("/tmp/sda", ("b", "8", "0")), ("/tmp/mem", ("c", "1", "1"))):
        r = g.t("mknod", node, *spec)
        assert r == "EPERM" or (r == "OK" and g.t("open", node) == "EPERM"), (node, r)
    eperm_or_nosys(g.sys("iopl", "ioperm"))


def case_FS_09(g, host, **_):
    g.start()
    g.t("mkdir", "/mnt")
    assert g.t("mount", "/dev/vda", "/mnt", "ext4") == "EPERM"
    assert g.t("mount", "t", "/mnt", "tmpfs") == "EPERM"
    expect(g.sys("mount", "fsopen", "fsopen-ext4", "fsmount", "fspick", "open_tree", "move_mount",
                 "mount_setattr"), {"EPERM"})


def case_FS_10(g, host, **_):
    g.configure(fstab="none /tmp tmpfs size=8m 0 0")
    g.start()
    g.t("mkdir", "/mnt")
    assert g.t("mount", "t", "/mnt", "tmpfs") == "EPERM"
    shared = [l for l in g.t("mountinfo").splitlines() if "shared:" in l]
    assert not shared, f"guest mounts that propagate: {shared}"


def case_FS_11(g, host, vs=None, busybox_rootfs_tarball=None, **_):
    vs.build("bb2", method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
    a, b = os.lstat(g.root / "bin/busybox"), os.lstat(vs.root("bb2") / "bin/busybox")
    assert (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) and a.st_nlink == 1, "guests share a file"
    g.start()
    assert g.t("capbset", str(CAP_LINUX_IMMUTABLE)) == "0"


# ---- KI ---------------------------------------------------------------------------------------

def case_KI_01(g, host, **_):
    g.start()
    for p in ("/proc/sys/vm/drop_caches", "/proc/sys/kernel/randomize_va_space", "/proc/sys/kernel/printk"):
        assert g.t("openwronly", p) in ("EROFS", "EACCES"), p
    before = read_sysctl("net/ipv4/ip_forward")
    # (EPERM: /proc/sys/net is the guest's own namespace's, and it holds no NET_ADMIN there)
    assert g.t("write", "/proc/sys/net/ipv4/ip_forward", "1" if before.strip() == "0" else "0") in (
        "OK", "EROFS", "EACCES", "EPERM")
    assert read_sysctl("net/ipv4/ip_forward") == before


def dmesg_count(word):
    r = subprocess.run(["dmesg"], capture_output=True, text=True, check=False)
    return r.stdout.count(word)


def case_KI_02(g, host, **_):
    g.start()
    before = dmesg_count("sysrq")
    r = g.t("write", "/proc/sysrq-trigger", "h")
    if r == "OK":
        # masked: bound to /dev/null
        assert g.sh("stat -c %t:%T /proc/sysrq-trigger").stdout.strip() == "1:3"
    else:
        assert r in ("EROFS", "EACCES", "ENOENT", "EPERM"), r
    time.sleep(0.2)
    assert dmesg_count("sysrq") == before, "the host kernel ran a sysrq command"


def case_KI_03(g, host, **_):
    g.start()
    for p in ("/proc/kcore", "/proc/keys", "/proc/kallsyms", "/proc/timer_list", "/proc/sched_debug",
              "/proc/interrupts"):
        r = g.run("/t", "cat", p)
        assert r.stdout.strip() in ("", "EACCES", "ENOENT", "EPERM"), (p, r.stdout[:200])
    assert g.t("open", "/dev/kmsg") == "ENOENT"
    # the host's kernel log: no CAP_SYSLOG (and not an empty file either,
    # which a syslog daemon read in a loop at 100% CPU)
    # (EACCES in a user-namespace guest: the file's owner is not mapped)
    assert g.t("open", "/proc/kmsg") in ("EPERM", "EACCES")
    assert g.sys("syslog") == {"syslog": "EPERM"}
    assert g.t("umount", "/proc/keys") == "EPERM"         # a mask (this kernel has no kcore)
    assert g.t("remount-rw", "/proc/sys") == "EPERM"
    expect(g.sys("unshare-user", "unshare-mnt", user=True), {"EPERM"}, "user:")
    assert g.run("unshare", "-mrpf", "sh", "-c", "mount -t proc p /proc", user=True).returncode != 0


def case_KI_04(g, host, **_):
    g.start()
    for p in ("/sys/kernel/uevent_helper", "/sys/kernel/mm/ksm/run", "/sys/kernel/mm/transparent_hugepage/enabled",
              "/sys/class/net/lo/mtu"):
        assert g.t("openwronly", p) in ("EROFS", "ENOENT", "EACCES"), p
    assert g.t("ls", "/sys/firmware") == ""


def case_KI_05(g, host, **_):
    g.start()
    assert g.t("openwronly", "/proc/sys/kernel/core_pattern") in ("EROFS", "EACCES")
    # ENOENT: a kernel without modules has no modprobe sysctl
    assert g.t("openwronly", "/proc/sys/kernel/modprobe") in ("EROFS", "EACCES", "ENOENT")
    g.t("mkdir", "/mnt")
    assert g.t("mount", "b", "/mnt", "binfmt_misc") == "EPERM"
    assert g.t("openwronly", "/proc/sys/fs/binfmt_misc/register") in ("EROFS", "ENOENT", "EACCES")


def case_KI_06(g, host, **_):
    g.start()
    eperm_or_nosys(g.sys("finit_module", "init_module", "delete_module"))
    g.t("socket", "2", "1", "132")          # SCTP: autoloads a module on a host that has it
    assert g.run("ip", "link", "add", "t0", "type", "ipip").returncode != 0
    # /proc/modules is compared by HostWatch


def case_KI_07(g, host, **_):
    g.start()
    eperm_or_nosys(g.sys("kexec_load", "kexec_file_load"))


def _root_and_user(g, *names):
    g.start()
    eperm_or_nosys(g.sys(*names), "root:")
    eperm_or_nosys(g.sys(*names, user=True), "user:")


def case_KI_08(g, host, **_):
    _root_and_user(g, "keyctl", "add_key", "request_key")


def case_KI_09(g, host, **_):
    _root_and_user(g, "perf_event_open")


def case_KI_10(g, host, **_):
    _root_and_user(g, "bpf")


def case_KI_11(g, host, **_):
    _root_and_user(g, "userfaultfd")


def case_KI_12(g, host, **_):
    _root_and_user(g, "io_uring_setup")


def case_KI_13(g, host, **_):
    g.start()
    assert g.sh("ls /sys/fs/cgroup/*/release_agent 2>/dev/null; true").stdout.strip() == ""
    for ctrl in ("memory", "pids", "devices", "rdma"):
        assert g.t("openwronly", f"/sys/fs/cgroup/{ctrl}/release_agent") in ("EROFS", "EACCES", "ENOENT")
    assert g.sys("unshare-user") == {"unshare-user": "EPERM"}
    g.t("mkdir", "/mnt")
    assert g.t("mount", "c", "/mnt", "cgroup") == "EPERM"


def case_KI_14(g, host, **_):
    g.start()
    assert g.t("openwronly", "/sys/fs/cgroup/devices/devices.allow") in ("EROFS", "EACCES", "ENOENT")
    assert g.sys("bpf") == {"bpf": "EPERM"}
    r = g.t("mknod", "/tmp/sda", "b", "8", "0")
    assert r == "EPERM" or g.t("open", "/tmp/sda") == "EPERM"
    lst = g.cg_file("devices.list")
    if lst:
        assert "a *:* rwm" not in lst.read_text(), "the guest's device cgroup allows everything"


def case_KI_15(g, host, **_):
    g.configure(limits__memory="64M")
    g.start()
    mem = g.cg_file("memory.max", "memory.limit_in_bytes")
    before = mem.read_text()
    for ln in g.t("cat", "/proc/self/cgroup").splitlines():
        assert ln.endswith(":/"), f"the guest sees its place in the host's tree: {ln}"
    for f in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
              "/sys/fs/cgroup/../cgroup.procs"):
        assert g.t("write", f, "max") in ("EROFS", "ENOENT", "EACCES"), f
    assert g.t("mkdir", "/sys/fs/cgroup/x") in ("EROFS", "ENOENT", "EACCES")
    g.t("mkdir", "/mnt")
    assert g.t("mount", "c", "/mnt", "cgroup2") == "EPERM"
    assert mem.read_text() == before == f"{64 * MiB}\n"


# ---- PI ---------------------------------------------------------------------------------------

def case_PI_01(g, host, **_):
    g.start()
    victim = subprocess.Popen(["vs-host-marker-sleep", "600"], executable="/bin/sleep", stdin=subprocess.DEVNULL)
    shm = None
    if shutil.which("ipcmk"):
        m = re.search(r"(\d+)", subprocess.run(["ipcmk", "-M", "4096"], capture_output=True, text=True).stdout)
        shm = m and m.group(1)
    try:
        assert "vs-host-marker" not in g.sh("ps -o args").stdout
        r = g.t("kill", str(victim.pid), "0")
        assert r == "ESRCH" or g.t("ls", f"/proc/{victim.pid}") != "ENOENT"
        g.t("kill", "-1", "KILL")
        time.sleep(0.3)
        assert victim.poll() is None, "a host process died"
        if shm:
            assert shm not in g.t("cat", "/proc/sysvipc/shm").split()
        assert g.t("ls", "/dev/mqueue") == ""
        assert pid_alive(g.state["init"], g.state["init_start"])
    finally:
        victim.kill()
        victim.wait()
        if shm:
            subprocess.run(["ipcrm", "-m", shm], check=False)


def case_PI_02(g, host, **_):
    g.start()
    victim = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL)
    try:
        # ESRCH: not in its PID namespace; EPERM: the filter refuses the call first (no SYS_PTRACE)
        assert g.t("ptrace", str(victim.pid)) in ("ESRCH", "EPERM")
        assert g.t("vmread", str(victim.pid)) in ("ESRCH", "EPERM")
        rootpid = g.sh("pidof sleep").stdout.split()[0]        # the marker service's daemon, guest root's
        assert g.t("ptrace", rootpid, user=True) == "EPERM"
        assert g.t("vmread", rootpid, user=True) == "EPERM"
    finally:
        victim.kill()
        victim.wait()


def case_PI_03(g, host, **_):
    g.start()
    bins = [VSERVER_BIN, VSERVER_INIT, VSERVER_MONITOR]
    before = [file_digest(b) for b in bins]
    watcher = g.popen("sh", "-c", "seen=' '; end=$(($(date +%s)+8)); while [ $(date +%s) -lt $end ]; do "
                      "for d in /proc/[0-9]*; do p=${d#/proc/}; case \"$seen\" in *\" $p \"*) continue;; esac; "
                      "seen=\"$seen$p \"; echo \"$p|$(readlink $d/exe)|$(readlink $d/cwd)|$(readlink $d/root)|"
                      "$(ls -l $d/fd 2>/dev/null | sed -n 's/.*-> //p' | tr '\\n' ' ')|$(/t ptrace $p seize)\"; "
                      "done; done")
    try:
        time.sleep(0.5)
        for _ in range(40):
            g.run("/t", "sleep", "0", check=0)
        out, _ = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    hostish = [str(g.vs.base), str(VSERVER_BIN.parent), "(unreachable)"]
    # the guest's init and the helpers run from sealed memfd copies (FS-04's defence)
    sealed = re.compile(r"^/memfd:vserver-[a-z]+ \(deleted\)$")
    for ln in out.splitlines():
        f = ln.split("|")
        if len(f) != 6:
            continue
        pid, exe, cwd, root, fds, seize = f
        assert not any(h in x for h in hostish for x in (exe, cwd, root, fds)), f"host path seen: {ln}"
        if seize == "OK":
            assert exe in ("/bin/busybox", "/t") or (pid == "1" and sealed.match(exe)) or \
                exe == "/memfd:vserver-exec (deleted)", \
                f"a process was seized before it was the guest binary: {ln}"
    assert [file_digest(b) for b in bins] == before


def case_PI_04(g, host, **_):
    g.start()
    assert g.t("kill", "1", "KILL") == "OK"
    g.t("kill", "-1", "TERM")
    time.sleep(0.5)
    assert pid_alive(g.state["init"], g.state["init_start"]), "the guest init died of a signal from inside"
    assert g.running()
    assert proc_start(1) == HOST_INIT_START


def proc_start(pid):
    data = Path(f"/proc/{pid}/stat").read_text()
    return int(data[data.rindex(")") + 2:].split()[19])


HOST_INIT_START = proc_start(1)


def case_PI_05(g, host, profile=None, **_):
    g.start()
    ns = g.init_ns("pid")
    assert ns != os.readlink("/proc/self/ns/pid"), "the guest shares the host's pid namespace"
    up = float(Path("/proc/uptime").read_text().split()[0])
    assert g.sys("reboot-cad-on")["reboot-cad-on"] in ("EINVAL", "EPERM")
    old = dict(g.state)
    if profile == "userns":
        # the guest's PID namespace belongs to the host's user namespace:
        # reboot(2) in it needs SYS_BOOT there, guest root gets EPERM and
        # the guest runs on (SECURITY.md; restart from the host)
        g.run("/t", "reboot-ns", ns, "restart")
        time.sleep(0.5)
        assert g.running() and g.vs.state(g.name)["init"] == old["init"]
        assert proc_start(1) == HOST_INIT_START
        return
    g.run("/t", "reboot-ns", ns, "restart")
    assert wait_until(lambda: (st := g.vs.state(g.name)) and st.get("init") and st["init"] != old["init"]
                      and g.running(), 30), "the guest was not restarted"
    g.state = g.vs.state(g.name)
    g.run("/t", "reboot-ns", g.init_ns("pid"), "halt")
    assert wait_until(lambda: not g.running(), 30), "the guest did not stop"
    assert wait_until(lambda: g.vs.cgroup_procs(g.name) == [], 10)
    assert float(Path("/proc/uptime").read_text().split()[0]) >= up


def case_PI_06(g, host, **_):
    g.start()
    for user in (False, True):
        for variant in ((), ("hi",)):
            m, s = pty.openpty()
            try:
                r = g.vs.run([g.name, *(["suexec", "user"] if user else ["exec"]), "/t", "tiocsti", *variant],
                             stdin=s, check=None)
                res = r.stdout.strip()
                os.set_blocking(s, False)
                try:
                    got = os.read(s, 100)
                except BlockingIOError:
                    got = b""
                assert b"#" not in got, f"TIOCSTI{variant} typed into the host terminal ({res})"
                assert res in ("EPERM", "EIO", "OK", "ENOTTY"), res
            finally:
                os.close(m)
                os.close(s)


# ---- RS ---------------------------------------------------------------------------------------

class Background:
    def __init__(self, g, *argv, user=False):
        self.p = g.vs.popen([g.name, *(["suexec", "user"] if user else ["exec"]), *argv])

    def line(self, timeout=30):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        assert r, f"no output from {self.p.args}"
        return self.p.stdout.readline().strip()

    def finish(self):
        try:
            self.p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.communicate()


def case_RS_01(g, host, **_):
    g.configure(limits__pids="40")
    g.start()
    for user in (False, True):
        bomb = Background(g, "/t", "forkbomb", "1000", "4", user=user)
        try:
            word, made = bomb.line().split()
            assert word == "EAGAIN" and 0 < int(made) < 40, (user, word, made)
            for _ in range(20):
                subprocess.run(["true"], check=True)
            r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "sh", "-c", "true"],
                               check=False)
            assert r.returncode == 0, "host uid 1000 cannot fork"
        finally:
            bomb.finish()
    assert g.running()


def case_RS_02(g, host, **_):
    g.configure(limits__memory="64M", limits__swap="0")
    g.start()
    ev = g.cg_file("memory.events", "memory.oom_control")
    sentinel = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    try:
        r = g.run("/t", "memhog", "256", timeout=120)
        assert r.stdout.strip() != "OK 256" and r.returncode != 0
        # the guest's processes live in its payload child: count there too
        total = 0
        for f in (ev, ev.parent / "payload" / ev.name):
            if f.is_file():
                counts = dict(l.split() for l in f.read_text().splitlines() if len(l.split()) == 2)
                total += int(counts.get("oom_kill", "0"))
        assert total >= 1, (ev, total)
        r = g.sh("dd if=/dev/zero of=/dev/shm/f bs=1M count=256", timeout=120)
        assert r.returncode != 0, "256 MiB of shm under a 64 MiB limit"
        g.sh("rm -f /dev/shm/f")
        assert sentinel.poll() is None
        assert pid_alive(g.state["init"], g.state["init_start"])
    finally:
        sentinel.kill()
        sentinel.wait()


def disk_guest(g, vs, tarball):
    """A second guest of the profile on its own 64 MiB file system with 4096
    inodes (build --disk-size: lib/disk.h; this kernel has no project
    quotas).  Started; the caller stops and deletes it."""
    vs.build("bd", "--disk-size", "64M", "--disk-inodes", "4096", method="template", margs=("-t", tarball),
             timeout=120)
    d = Guest(vs, "bd", g.profile)
    d.configure()
    d.start()
    return d


def drop_disk_guest(vs):
    vs.run(["bd", "stop", "--timeout", "10"], check=False, timeout=60)
    vs.run(["bd", "delete"], timeout=60)


def case_RS_03(g, host, vs=None, busybox_rootfs_tarball=None, **_):
    d = disk_guest(g, vs, busybox_rootfs_tarball)
    try:
        free = [os.statvfs(p).f_bavail * os.statvfs(p).f_frsize for p in (vs.vdirbase, "/")]
        # bounded payloads: 128 MiB at most, twice the guest's file system;
        # a guest user first (it gets the whole file system: no reserved
        # blocks to fall back on), then guest root on the full one
        word, n = d.t("diskfill", "/home/user/fill", "128", user=True, timeout=120).split()
        assert word in ("ENOSPC", "EDQUOT") and 48 <= int(n) < 64, (word, n)
        word, n = d.t("diskfill", "/fill", "128", timeout=120).split()
        assert word in ("ENOSPC", "EDQUOT") and int(n) < 2, (word, n)
        after = [os.statvfs(p).f_bavail * os.statvfs(p).f_frsize for p in (vs.vdirbase, "/")]
        for b, a in zip(free, after):
            assert a > b - 32 * MiB, f"the host lost {(b - a) >> 20} MiB"
        # the host and the guest next door still write
        (vs.base / "host-write").write_bytes(b"x" * MiB)
        g.start()
        assert g.t("write", "/root-write", "ok") == "OK"
    finally:
        drop_disk_guest(vs)


def case_RS_04(g, host, vs=None, busybox_rootfs_tarball=None, **_):
    d = disk_guest(g, vs, busybox_rootfs_tarball)
    try:
        d.t("mkdir", "/many")
        word, n = d.t("inodefill", "/many", "20000", timeout=120).split()
        assert word in ("ENOSPC", "EDQUOT") and 3500 <= int(n) <= 4096, (word, n)
        # the host and the guest next door (on the host's file system) still create files
        for i in range(100):
            (vs.base / f"host-file-{i}").write_text("")
        g.start()
        g.t("mkdir", "/many")
        assert g.t("inodefill", "/many", "100") == "OK 100"
    finally:
        drop_disk_guest(vs)


def case_RS_05(g, host, **_):
    g.start()
    hog = Background(g, "/t", "ptmx", "5000", "3")
    try:
        word, n = hog.line().split()
        assert word == "ENOSPC" and int(n) <= 1024, (word, n)
        m, s = pty.openpty()            # the host still gets a pty
        os.close(m)
        os.close(s)
    finally:
        hog.finish()


def case_RS_06(g, host, **_):
    g.start()
    r = g.run("date", "-s", "2001-01-01")        # busybox reports the failure but exits 0
    assert r.returncode != 0 or "not permitted" in r.stderr, r
    r = g.sys("settimeofday", "adjtimex", "clock_settime")
    expect({k: r[k] for k in ("settimeofday", "adjtimex")}, {"EPERM"})
    need(r["clock_settime"] == "EPERM", f"clock_settime reaches the kernel ({r['clock_settime']}): "
         "no seccomp gate on the clock calls without CAP_SYS_TIME")
    assert not [n for n in g.t("ls", "/dev").split() if n.startswith("rtc")]


def case_RS_07(g, host, **_):
    g.start()
    assert g.init_ns("uts") != os.readlink("/proc/self/ns/uts"), "the guest shares the host's UTS namespace"
    name = g.t("hostname")
    assert g.run("hostname", "evil").returncode != 0
    expect(g.sys("sethostname", "setdomainname"), {"EPERM"})
    for p in ("/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"):
        assert g.t("openwronly", p) in ("EROFS", "EACCES")
    assert g.t("hostname") == name


def case_RS_08(g, host, **_):
    g.configure(**{"limits__cpu.max": "20000 100000"})
    g.start()
    assert g.t("sched-fifo") == "EPERM"
    assert g.run("chrt", "-f", "99", "true").returncode != 0
    spinners = [Background(g, "/t", "spin", "3") for _ in range(3)]
    try:
        worst = 0.0
        end = time.monotonic() + 2.5
        while time.monotonic() < end:
            t0 = time.monotonic()
            time.sleep(0.01)
            worst = max(worst, time.monotonic() - t0)
        total = sum(int(s.line(30).split()[1]) for s in spinners) / 3000
        assert total <= 0.35, f"the guest got {total:.2f} CPUs under a 0.2 cap"
        assert worst < 0.5, f"host latency {worst:.2f}s"
    finally:
        for s in spinners:
            s.finish()


# ---- NW (inside the network namespaces of test_net.py's nvs) -----------------------------------

def net_guests(world, tarball, profile):
    """Two isolated guests a (203.0.113.10) and b (.11) on the simulated uplink."""
    out = []
    for name, ip, ctx in (("a", "203.0.113.10/24", "40010"), ("b", "203.0.113.11/24", "40011")):
        net_build(world, tarball, name, context=ctx)
        iface(world, name, 0, ip, dev="up0")
        g = Guest(world, name, profile)
        g.configure()
        g.start()
        out.append(g)
    return out


def private_guest(world, tarball, profile, name="p", ip="10.66.0.2", ctx="40020"):
    net_build(world, tarball, name, context=ctx, net__mode="private", net__gateway="10.66.0.1/24")
    iface(world, name, 0, ip)
    g = Guest(world, name, profile)
    g.configure()
    g.start()
    return g


def net_state(ns):
    return {"links": sorted((l["ifname"], l.get("address")) for l in links(ns)),
            "addrs": ns.run("ip", "-o", "addr").stdout,
            "routes": ns.run("ip", "route").stdout,
            "nft": ns.run("nft", "list", "ruleset").stdout,
            "fwd": ns.run("cat", "/proc/sys/net/ipv4/ip_forward").stdout}


def case_NW_01(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    a, b = net_guests(nv, busybox_rootfs_tarball, profile)
    before = net_state(nv.net)
    assert a.t("bind", "203.0.113.11", "80") == "EADDRNOTAVAIL"
    assert a.run("ip", "addr", "add", "203.0.113.11/24", "dev", "up0").returncode != 0
    assert net_state(nv.net) == before


def case_NW_02(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    a, _b = net_guests(nv, busybox_rootfs_tarball, profile)
    p = private_guest(nv, busybox_rootfs_tarball, profile)
    for x in (a, p):
        assert x.t("socket", "2", "3", "255") == "EPERM"          # AF_INET SOCK_RAW IPPROTO_RAW
        assert x.t("socket", "17", "3", "0") == "EPERM"           # AF_PACKET


def case_NW_03(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    a, _b = net_guests(nv, busybox_rootfs_tarball, profile)
    before = net_state(nv.net)
    assert a.run("ip", "link", "set", "up0", "address", "02:00:00:00:00:01").returncode != 0
    assert net_state(nv.net) == before
    p = private_guest(nv, busybox_rootfs_tarball, profile)
    q = private_guest(nv, busybox_rootfs_tarball, profile, "q", "10.66.0.3", "40021")
    qmac = q.sh("cat /sys/class/net/eth0/address").stdout.strip()

    def fdb_port(mac):
        out = nv.net.run("bridge", "fdb", "show").stdout
        return [l.split()[2] for l in out.splitlines() if l.startswith(mac + " ") and " dev " in l]

    q.t("tcp-connect", "10.66.0.1", "9", "1")       # the bridge learns q's MAC on vs-q
    assert "vs-q" in fdb_port(qmac)
    r = p.sh(f"ip link set eth0 address {qmac}")
    if r.returncode == 0:       # NET_ADMIN in its own namespace: the frames must be dropped
        p.t("tcp-connect", "10.66.0.1", "9", "1")
        need("vs-p" not in fdb_port(qmac), f"guest p took over guest q's MAC on the bridge: {fdb_port(qmac)}")
    else:
        assert "not permitted" in r.stderr, r
    assert "vs-q" in fdb_port(qmac)


def case_NW_04(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    from test_net import hserve
    a, _b = net_guests(nv, busybox_rootfs_tarball, profile)
    srv = hserve(nv.net, "tcp-serve", "127.0.0.1", "7777", "8")
    asrv = hserve(nv.net, "abstract-listen", "vs-test", "8")
    try:
        for x in (a, g):
            if x is g:
                g.start()                       # mode none: its own namespace
            assert x.t("tcp-connect", "127.0.0.1", "7777", "2") in ("ECONNREFUSED", "EPERM")
            assert x.t("abstract-connect", "vs-test") in ("ECONNREFUSED", "EPERM")
            socks = x.sh("find / -xdev -type s 2>/dev/null").stdout.split()
            assert socks == [], socks
    finally:
        srv.close()
        asrv.close()


def case_NW_05(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    from test_net import hserve
    inet = nv.net.inet
    inet.sh("ip addr add 169.254.169.254/32 dev lo")
    nv.net.sh("ip route add 169.254.169.254/32 via 203.0.113.2")
    p = private_guest(nv, busybox_rootfs_tarball, profile)
    srv = hserve(nv.net, "tcp-serve", "10.66.0.1", "2222", "10")
    meta = subprocess.Popen([*inet.prefix, str(VSERVER_BIN.parent / "tests" / "vs-probe"), "tcp-serve",
                             "169.254.169.254", "80", "10"], stdout=subprocess.PIPE, text=True)
    try:
        meta.stdout.readline()
        r1 = p.t("tcp-connect", "10.66.0.1", "2222", "2")
        r2 = p.t("tcp-connect", "169.254.169.254", "80", "2")
        need(not r1.startswith("OK"), f"a host service on the bridge address answers the guest: {r1}")
        need(not r2.startswith("OK"), f"the metadata address answers the guest: {r2}")
    finally:
        srv.close()
        meta.kill()
        meta.communicate()


def case_NW_06(g, host, request=None, busybox_rootfs_tarball=None, profile=None, **_):
    nv = request.getfixturevalue("nvs")
    a, _b = net_guests(nv, busybox_rootfs_tarball, profile)
    before = net_state(nv.net)
    assert a.run("ip", "route", "add", "1.2.3.0/24", "dev", "up0").returncode != 0
    assert a.t("write", "/proc/sys/net/ipv4/ip_forward", "1") in ("EROFS", "EACCES")   # the host's stack
    p = private_guest(nv, busybox_rootfs_tarball, profile)
    before = net_state(nv.net)
    p.run("ip", "route", "add", "1.2.3.0/24", "dev", "eth0")
    r = p.t("write", "/proc/sys/net/ipv4/ip_forward", "1")
    assert r in ("OK", "EROFS", "EACCES"), r
    assert net_state(nv.net) == before, "a guest changed the host's network"


# ---- PR ---------------------------------------------------------------------------------------

def status_caps(text):
    return {l.split(":")[0]: int(l.split()[1], 16) for l in text.splitlines() if l.startswith("Cap")}


def case_PR_01(g, host, **_):
    g.start()
    assert g.t("status", "NoNewPrivs", user=True) == "NoNewPrivs:\t0"
    g.sh("cp /t /tmp/suid && chown 0:0 /tmp/suid && chmod 4755 /tmp/suid")
    ident = g.run("/tmp/suid", "id", user=True).stdout
    caps = status_caps(g.run("/tmp/suid", "caps", user=True).stdout)
    assert "euid=0" in ident, ident           # no no_new_privs by default: setuid works
    assert caps["CapEff"] & ~caps["CapBnd"] == 0 and caps["CapBnd"] == DEFAULT_CAPS, caps


def case_PR_02(g, host, **_):
    g.start()
    r = g.sys("unshare-user", "clone-newuser", "clone3-newuser", user=True)
    expect({k: r[k] for k in ("unshare-user", "clone-newuser")}, {"EPERM"})
    assert r["clone3-newuser"] in ("EPERM", "ENOSYS")
    assert g.run("unshare", "-Urn", "true", user=True).returncode != 0
    assert g.run("unshare", "-Urm", "sh", "-c", "mount -t tmpfs t /tmp", user=True).returncode != 0


def case_PR_03(g, host, **_):
    fcap = g.root / "tmp" / "fcap"
    shutil.copy2(g.root / "t", fcap)
    # security.capability v2: effective, permitted = CAP_SYS_MODULE
    os.setxattr(fcap, "security.capability",
                (0x02000001).to_bytes(4, "little") + (1 << CAP_SYS_MODULE).to_bytes(4, "little") + bytes(12))
    g.start()
    init = status_caps(Path(f"/proc/{g.state['init']}/status").read_text())
    ex = status_caps(g.t("caps"))
    for c in (init, ex):
        assert c["CapBnd"] == DEFAULT_CAPS and c["CapInh"] == 0 and c["CapAmb"] == 0, c
    assert g.t("capbset", str(CAP_SYS_ADMIN)) == "0"
    assert g.t("capraise", str(CAP_SYS_ADMIN)) == "EPERM"
    for user in (False, True):
        # either execve refuses (EPERM: an effective file capability the
        # bounding set cannot give) or the capabilities stay within the set
        r = g.run("/tmp/fcap", "caps", user=user)
        if r.returncode != 0:
            assert "not permitted" in r.stderr, r
            continue
        fc = status_caps(r.stdout)
        assert fc["CapEff"] & ~DEFAULT_CAPS == 0 and fc["CapPrm"] & ~DEFAULT_CAPS == 0, fc


def case_PR_04(g, host, profile=None, request=None, **_):
    vdir = g.vs.vdirbase
    r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "ls", str(g.root)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr, r
    assert stat.S_IMODE(os.stat(vdir).st_mode) & 0o077 == 0, oct(os.stat(vdir).st_mode)
    if profile == "userns":
        return pr04_userns(g)
    # default profile: guest root is host root, so a read-write share that host users can reach on a
    # filesystem without nosuid is refused before anything exists ...
    exposed = request.getfixturevalue("exposed_dir")
    g.configure(fstab=f"{exposed} /shared none bind 0 0")
    (g.root / "shared").mkdir(exist_ok=True)
    r = g.start(check=2)
    assert f"{g.cfg}/fstab:1: read-write bind of {exposed}" in r.stderr and "not mounted nosuid" in r.stderr, r
    assert "root-owned mode 0700" in r.stderr and "(userns)" in r.stderr, r
    assert not g.running() and g.vs.state(g.name) is None
    assert g.vs.cgroup_dirs(g.name) == [], g.vs.cgroup_dirs(g.name)
    # ... and accepted behind a root-owned 0700 directory, which keeps host users from what guest root puts there
    shared = shared_dir(exposed)
    g.configure(fstab=f"{shared} /shared none bind 0 0")
    g.start()
    opts = [l.split()[5] for l in g.t("mountinfo").splitlines() if l.split()[4] == "/shared"]
    assert opts and all("nosuid" in o.split(",") and "nodev" in o.split(",") for o in opts), opts
    g.sh("cp /t /shared/sh && chmod 4755 /shared/sh")
    st = os.stat(shared / "sh")
    assert (st.st_uid, st.st_mode & 0o4000) == (0, 0o4000), "the setuid copy is not there to attack with"
    # (through env: setpriv itself still holds host root's capabilities when it executes its command)
    user = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "env", str(shared / "sh"), "id"]
    r = subprocess.run(user, capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr and "euid=0" not in r.stdout, r
    # control: with the barrier open the same user does get euid 0 (the test can see a failure)
    os.chmod(shared.parent, 0o755)
    try:
        r = subprocess.run(user, capture_output=True, text=True)
        assert "euid=0" in r.stdout, r
    finally:
        os.chmod(shared.parent, 0o700)
        (shared / "sh").unlink()


def pr04_userns(g):
    shared = Path(tempfile.mkdtemp(prefix="vs-h7e-shared."))
    try:
        os.chmod(shared, 0o755)
        # writable for guest root: host root's inodes are read-only through the id-mapped bind
        os.chown(shared, 1000, 1000)
        os.chmod(shared, 0o777)
        g.configure(fstab=f"{shared} /shared none bind 0 0")
        (g.root / "shared").mkdir(exist_ok=True)
        g.start()
        opts = [l.split()[5] for l in g.t("mountinfo").splitlines() if l.split()[4] == "/shared"]
        assert opts and all("nosuid" in o.split(",") and "nodev" in o.split(",") for o in opts), opts
        g.sh("cp /t /shared/sh && chmod 4755 /shared/sh")
        base = int((g.cfg / "context").read_text()) * 65536
        assert (os.stat(shared / "sh").st_uid, os.stat(shared / "sh").st_mode & 0o4000) == (base, 0o4000)
        r = subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", str(shared / "sh"), "id"],
                           capture_output=True, text=True)
        need("euid=0" not in r.stdout,
             f"a setuid file a guest root made in a shared directory gives a host user euid 0: {r.stdout}")
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# ---- the table ------------------------------------------------------------------------------

# (profile, case): the reason, for cases whose defence is missing in that profile
XFAIL = {}

CASES = {n.replace("case_", "").replace("_", "-"): f for n, f in sorted(globals().items()) if n.startswith("case_")}
assert len(CASES) == 50, len(CASES)


@pytest.mark.parametrize("case", [pytest.param(k, id=k) for k in CASES])
def test_attack(case, profile, vs, bbguest, busybox_rootfs_tarball, host, tmp_path, request):
    g = Guest(vs, bbguest, profile)
    g.configure()
    CASES[case](g, host, vs=vs, tmp_path=tmp_path, request=request,
                busybox_rootfs_tarball=busybox_rootfs_tarball, profile=profile)
    host.check()
