# SPDX-License-Identifier: GPL-2.0-or-later
"""The guest's system call filter (issue 7, lib/sysfilter.h): the default
profile refuses a sample of every class with EPERM in the guest's init (a
boot script, a descendant of it) and in a process started by `vserver NAME
exec`, for x86_64 and i386 binaries; numbers above the reviewed table fail
with ENOSYS; the guest's `seccomp` file lifts and adds rules; `nonewprivs`
sets no_new_privs for the init and exec; `vserver NAME config` shows the
profile.

The calls are made by a tiny static helper compiled here (gcc -static, and
-m32 for i386) into the guest root as /sc: `sc NR,ARG,... ...` prints one
line per call, OK or the errno's name.  Every call is made so that it is
harmless if it reaches the kernel (bad pointers, fd -1, reads only): the
invalid-pointer trick of security-catalogue.md 0.2."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import snapshot_diff

SC_SOURCE = r'''
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* sc NR[,ARG...] ...: one line per call, "OK" or the errno's name.
 * An argument "self" is the caller's pid. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long a[7] = { 0 };
		int n = 0;
		char *save = NULL;
		for (char *t = strtok_r(argv[i], ",", &save); t && n < 7; t = strtok_r(NULL, ",", &save))
			a[n++] = !strcmp(t, "self") ? (long)getpid() : (long)strtoull(t, NULL, 0);
		errno = 0;
		long r = syscall(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
		const char *e = r == -1 ? strerrorname_np(errno) : NULL;
		printf("%s\n", r != -1 ? "OK" : e ? e : "E?");
	}
	return 0;
}
'''

# (class, x86_64 call, i386 call, expected errno); numbers from the kernel's
# syscall_64.tbl / syscall_32.tbl.  Bad pointers are 1, fds -1.
CALLS = [
    ("kernel: kexec_load", "246,0,1,1,0", "283,0,1,1,0", "EPERM"),
    ("kernel: finit_module", "313,-1,1,0", "350,-1,1,0", "EPERM"),
    ("attack surface: io_uring_setup", "425,1,1", "425,1,1", "EPERM"),
    ("attack surface: perf_event_open", "298,1,0,-1,-1,0", "336,1,0,-1,-1,0", "EPERM"),
    ("attack surface: bpf", "321,0,1,0", "357,0,1,0", "EPERM"),
    ("file handles: open_by_handle_at", "304,-1,1,0", "342,-1,1,0", "EPERM"),
    ("keyring: keyctl GET_KEYRING_ID @u", "250,0,-4,0", "288,0,-4,0", "EPERM"),
    ("keyring: add_key", "248,1,1,0,0,-4", "286,1,1,0,0,-4", "EPERM"),
    ("host state: swapon", "167,1,0", "87,1,0", "EPERM"),
    ("ptrace: kcmp", "312,self,self,0,0,0", "349,self,self,0,0,0", "EPERM"),
    ("ptrace: process_vm_readv", "310,self,1,1,1,1,0", "347,self,1,1,1,1,0", "EPERM"),
    ("mount: mount", "165,1,1,1,0,0", "21,1,1,1,0,0", "EPERM"),
    ("mount: fsopen", "430,1,0", "430,1,0", "EPERM"),
    ("mount: open_tree_attr (unknown to libseccomp 2.5)", "467,-1,1,0,1,0", "467,-1,1,0,1,0", "EPERM"),
    ("clock: clock_settime", "227,0,1", "264,0,1", "EPERM"),
    ("clock: settimeofday", "164,1,0", "79,1,0", "EPERM"),
    ("kernel log: syslog SIZE_BUFFER", "103,10,0,0", "103,10,0,0", "EPERM"),
    ("namespaces: unshare(CLONE_NEWUSER)", "272,0x10000000", "310,0x10000000", "EPERM"),
    ("namespaces: clone3 -> ENOSYS (fallback to clone)", "435,1,88", "435,1,88", "ENOSYS"),
    ("disk quota: file_setattr", "469,-1,1,1,0,0", "469,-1,1,1,0,0", "EPERM"),
    ("above the reviewed table: 470", "470", "470", "ENOSYS"),
    ("above the reviewed table: 1000", "1000", "1000", "ENOSYS"),
    # controls: allowed, they reach the kernel
    ("allowed: getpid", "39", "20", "OK"),
    ("allowed: sysinfo (bad pointer)", "99,1", "116,1", "EFAULT"),
    ("allowed: statmount (bad pointer)", "457,1,1,0,0", "457,1,1,0,0", "EFAULT"),
    ("allowed: reboot with bad magic (the guest's own reboot stays)", "169,0,0,0,0", "88,0,0,0,0", "EINVAL"),
]


def compile_sc(tmp_path, dest, m32=False):
    """Build the helper into dest; None, or the reason it cannot be built."""
    cc = shutil.which("gcc")
    if not cc:
        return "gcc is not installed"
    src = tmp_path / "sc.c"
    src.write_text(SC_SOURCE)
    r = subprocess.run([cc, "-static", "-O2", *(["-m32"] if m32 else []), "-o", str(dest), str(src)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        return f"gcc {'-m32 ' if m32 else ''}-static failed (install gcc-multilib for i386): {r.stderr.strip()[-300:]}"
    return None


def gx(vs, name, *argv, check=0, timeout=30):
    return vs.run([name, "exec", *argv], check=check, timeout=timeout)


def start(vs, name):
    vs.run([name, "start"], timeout=60)
    st = vs.state(name)
    assert st and "init" in st, st


def stop(vs, name):
    vs.run([name, "stop"], timeout=120)


def write_cfg(vs, name, rel, text):
    p = vs.cfg(name) / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def sc_args(column):
    return [c[column] for c in CALLS]


def check_results(text, column, label, expect=None):
    got = text.split()
    assert len(got) == len(CALLS), (label, text)
    bad = []
    for (what, *_rest), g in zip(CALLS, got):
        want = (expect or {}).get(what, _rest[2])
        if g != want:
            bad.append(f"{what}: {g}, expected {want}")
    assert not bad, f"{label}:\n" + "\n".join(bad)


# the boot script: runs as a descendant of the guest's init, before any exec
BOOT_SCRIPT = """#!/bin/sh
case "$1" in
start)
	/sc {a64} > /run/sc64.boot 2>&1
	[ -x /sc32 ] && /sc32 {a32} > /run/sc32.boot 2>&1
	cat /proc/self/status > /run/status.boot
	;;
esac
exit 0
"""


@pytest.fixture
def scguest(vs, bbguest, tmp_path):
    """The busybox guest with /sc (x86_64), /sc32 (i386, if gcc-multilib is
    installed) and a boot script S02sc in runlevel 3 that runs both.
    Returns (name, reason why there is no /sc32 or None)."""
    name = bbguest
    root = vs.root(name)
    why = compile_sc(tmp_path, root / "sc")
    if why:
        pytest.skip(why)
    why32 = compile_sc(tmp_path, root / "sc32", m32=True)
    script = root / "etc" / "rc3.d" / "S02sc"
    script.write_text(BOOT_SCRIPT.format(a64=" ".join(sc_args(1)), a32=" ".join(sc_args(2))))
    script.chmod(0o755)
    return name, why32


def wait_boot(vs, name, f="/run/status.boot"):
    import time
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if gx(vs, name, "/bin/cat", f, check=None).returncode == 0:
            return
        time.sleep(0.05)
    pytest.fail(f"the boot script did not write {f}")


def status_field(text, key):
    for ln in text.splitlines():
        k, _, v = ln.partition(":")
        if k == key:
            return v.strip()
    return None


# ---- the default profile ------------------------------------------------------------------

def test_default_profile_init_and_exec_x86_64(vs, scguest):
    name, _ = scguest
    start(vs, name)
    wait_boot(vs, name)
    check_results(gx(vs, name, "/bin/cat", "/run/sc64.boot").stdout, 1, "boot script (init's filter), x86_64")
    check_results(gx(vs, name, "/sc", *sc_args(1)).stdout, 1, "vserver exec, x86_64")
    # both are filtered; no_new_privs is off by default (setuid works)
    for text in (gx(vs, name, "/bin/cat", "/run/status.boot").stdout,
                 gx(vs, name, "/bin/cat", "/proc/self/status").stdout,
                 gx(vs, name, "/bin/cat", "/proc/1/status").stdout):
        assert status_field(text, "Seccomp") == "2", text
        assert status_field(text, "NoNewPrivs") == "0", text


def test_default_profile_i386_binaries(vs, scguest):
    name, why32 = scguest
    if why32:
        pytest.skip(why32)
    start(vs, name)
    wait_boot(vs, name)
    check_results(gx(vs, name, "/bin/cat", "/run/sc32.boot").stdout, 2, "boot script (init's filter), i386")
    check_results(gx(vs, name, "/sc32", *sc_args(2)).stdout, 2, "vserver exec, i386")


# ---- per-guest rules ------------------------------------------------------------------------

def test_guest_rules_allow_and_deny(vs, scguest):
    name, why32 = scguest
    write_cfg(vs, name, "seccomp", "# a database that wants io_uring\nallow io_uring_setup\n"
              "deny sysinfo\ndeny statmount ENOSYS\n")
    write_cfg(vs, name, "bcapabilities", "SYS_PTRACE\n")
    write_cfg(vs, name, "userns", "")     # SYS_PTRACE: user-namespace guests only
    start(vs, name)
    wait_boot(vs, name)
    expect = {
        "attack surface: io_uring_setup": "EFAULT",      # lifted: the kernel sees the bad pointer
        "allowed: sysinfo (bad pointer)": "EPERM",         # added
        "allowed: statmount (bad pointer)": "ENOSYS",      # added with its errno
        "ptrace: kcmp": "OK",                              # SYS_PTRACE lifts the ptrace class
        "ptrace: process_vm_readv": "EFAULT",
        # a user-namespace guest (for SYS_PTRACE): its PID namespace is the
        # host user namespace's, where it has no SYS_BOOT to be asked first
        "allowed: reboot with bad magic (the guest's own reboot stays)": "EPERM",
    }
    check_results(gx(vs, name, "/bin/cat", "/run/sc64.boot").stdout, 1, "boot script, x86_64", expect)
    check_results(gx(vs, name, "/sc", *sc_args(1)).stdout, 1, "vserver exec, x86_64", expect)
    if not why32:
        check_results(gx(vs, name, "/sc32", *sc_args(2)).stdout, 2, "vserver exec, i386", expect)
    prof = vs.config_json(name)["seccomp"]
    assert prof["allow"] == ["io_uring_setup"]
    assert prof["deny"] == ["sysinfo", "statmount:ENOSYS"]
    assert "io_uring_setup" not in prof["effective_deny"] and "io_uring_enter" in prof["effective_deny"]
    assert "ptrace" not in prof["default_deny"]
    # the cached program of exec follows the configuration of the running guest
    write_cfg(vs, name, "seccomp", "deny getppid EXDEV\n")
    assert gx(vs, name, "/sc", "110", "425,1,1").stdout.split() == ["EXDEV", "EPERM"]
    # the next start loads the program of the rules it reads (start takes the program from
    # the guest's run directory only when its rules are the same): the cache holds sysinfo
    # denied, the guest goes back to the defaults
    write_cfg(vs, name, "seccomp", "deny sysinfo\n")
    assert gx(vs, name, "/sc", "99,1,1").stdout.split() == ["EPERM"]
    stop(vs, name)
    (vs.cfg(name) / "seccomp").unlink()
    (vs.cfg(name) / "bcapabilities").unlink()
    (vs.cfg(name) / "userns").unlink()
    start(vs, name)
    wait_boot(vs, name)
    check_results(gx(vs, name, "/bin/cat", "/run/sc64.boot").stdout, 1, "boot script after the change, x86_64")


def test_bad_seccomp_file_refuses_the_start(vs, bbguest):
    name = bbguest
    write_cfg(vs, name, "seccomp", "allow io_uring_setup\ndeny no_such_call\ndeny getpid EFOO\n")
    before = vs.snapshot()
    r = vs.run([name, "start"], check=None, timeout=60)
    assert r.returncode != 0
    assert "seccomp:2" in r.stderr and "no_such_call" in r.stderr, r.stderr
    r = vs.run([name, "check"], check=None, timeout=30)
    assert "seccomp:2: unknown system call 'no_such_call'" in r.stdout, r.stdout
    assert "seccomp:3: 'EFOO' is not an errno" in r.stdout, r.stdout
    assert vs.run([name, "running"], check=None, timeout=30).returncode == 1
    after = vs.snapshot()
    assert after == before, snapshot_diff(before, after)


# ---- no_new_privs ---------------------------------------------------------------------------

def test_nonewprivs_for_init_and_exec(vs, scguest):
    name, _ = scguest
    write_cfg(vs, name, "nonewprivs", "")
    start(vs, name)
    wait_boot(vs, name)
    for label, text in (("boot script", gx(vs, name, "/bin/cat", "/run/status.boot").stdout),
                        ("init", gx(vs, name, "/bin/cat", "/proc/1/status").stdout),
                        ("exec", gx(vs, name, "/bin/cat", "/proc/self/status").stdout),
                        ("suexec", vs.run([name, "suexec", "user", "/bin/cat", "/proc/self/status"],
                                          timeout=30).stdout)):
        assert status_field(text, "NoNewPrivs") == "1", (label, text)
        assert status_field(text, "Seccomp") == "2", (label, text)
    # the filter is the same as without nonewprivs
    check_results(gx(vs, name, "/sc", *sc_args(1)).stdout, 1, "vserver exec, x86_64, nonewprivs")
    assert vs.config_json(name)["seccomp"]["no_new_privs"] is True


# ---- vserver NAME config ----------------------------------------------------------------------

def test_config_shows_the_profile(vs, bbguest):
    name = bbguest
    prof = vs.config_json(name)["seccomp"]
    for call in ("kexec_load", "init_module", "open_by_handle_at", "bpf", "perf_event_open", "userfaultfd",
                 "io_uring_setup", "keyctl", "ptrace", "kcmp", "mount", "fsopen", "settimeofday", "swapon"):
        assert call in prof["default_deny"], call
        assert call in prof["effective_deny"], call
    assert "reboot" not in prof["effective_deny"]
    assert prof["allow"] == [] and prof["deny"] == []
    assert "clone3:ENOSYS" in prof["argument_rules"]
    assert prof["no_new_privs"] is False
    text = vs.run([name, "config"], timeout=30).stdout
    line = [ln for ln in text.splitlines() if ln.startswith("seccomp/effective_deny")]
    assert line and " kexec_load " in line[0] + " ", text
    assert any(ln.split() == ["seccomp/no_new_privs", "false"] for ln in text.splitlines()), text
