# SPDX-License-Identifier: GPL-2.0-or-later
"""Accounting (issue 6): what a running guest uses, from its cgroup, in
`vserver NAME status` (text and --json), `vserver list --json` and
`vserver-stat --json`: memory current/peak/limit, CPU time, pids, block
I/O bytes and OOM kills, on this host's cgroup layout (v1/hybrid here,
pure v2 elsewhere).

Busybox guests (the probe as /t) in the `vs` fixture's private world and
its private cgroup parent: the only cgroup files written are the guest's
own (the memory limit of the OOM test).  A figure the host cannot
report is null in JSON; the tests that need it skip with the reason."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import pid_alive, proc_stat, wait_until

KEYS = ("memory_bytes", "memory_peak_bytes", "memory_limit_bytes", "swap_bytes", "cpu_usec", "cpu_user_usec",
        "cpu_system_usec", "pids", "pids_limit", "io_read_bytes", "io_write_bytes", "oom_kills", "oom_events")
LIMITS = ("memory_limit_bytes", "pids_limit")
MiB = 1 << 20


# ---- helpers -------------------------------------------------------------------------------

def start(vs, name):
    vs.run([name, "start"], timeout=60)
    st = vs.state(name)
    assert st and "init" in st, st
    return st


def usage(vs, name):
    js = json.loads(vs.run([name, "status", "--json"], timeout=30).stdout)
    assert js["state"] == "running", js
    u = js["usage"]
    assert sorted(u) == sorted(KEYS), u
    return u


def need(u, *keys):
    missing = [k for k in keys if u[k] is None]
    if missing:
        pytest.skip(f"this host's cgroups do not report {', '.join(missing)}")


def cg_file(vs, name, *files):
    """The first of `files` (cgroup v2 name first, then v1) in one of the
    guest's cgroup dirs: (path, name), or (None, None)."""
    for f in files:
        for d in vs.cgroup_dirs(name):
            if (d / f).is_file():
                return d / f, f
    return None, None


def check_usage_object(u):
    assert sorted(u) == sorted(KEYS), u
    for k, v in u.items():
        if k in LIMITS and v == "max":
            continue
        assert v is None or (isinstance(v, int) and v >= 0), (k, v)


# ---- the figures in every output ----------------------------------------------------------

def test_status_list_stat_show_usage(vs, bbguest, tmp_path):
    """status gains the accounting lines after the existing ones; status
    --json, list --json and vserver-stat --json carry the same "usage"
    object (plain units, null when unavailable, "max" for no limit)."""
    start(vs, bbguest)
    r = vs.run([bbguest, "status"], timeout=30)
    lines = r.stdout.splitlines()
    assert lines[0] == f"Vserver '{bbguest}' is running at context '40000'", r.stdout
    assert lines[1].startswith("Number of processes: ") and lines[2].startswith("Uptime:"), r.stdout
    size = r"(?:[\d.]+[ KMGT]?|n/a)"
    secs = r"(?:\d+\.\d\ds|n/a)"
    for pat in (rf"^Memory usage:\s+{size}, peak {size}, limit (?:{size}|none), swap {size}$",
                rf"^CPU usage:\s+{secs} \(user {secs}, system {secs}\)$",
                r"^Processes:\s+(?:\d+|\d+ of \d+|\d+ \(no limit\)|n/a)$",
                rf"^I/O:\s+read {size}, written {size}$",
                r"^OOM kills:\s+(?:\d+|\d+ \(OOM events \d+\)|n/a)$"):
        assert re.search(pat, r.stdout, re.M), (pat, r.stdout)
    assert r.stderr == "", r.stderr
    u = usage(vs, bbguest)
    check_usage_object(u)
    # what every Linux host with cgroups can tell (v2 core cpu.stat or v1 cpuacct)
    assert u["cpu_usec"] is not None
    lst = {g["name"]: g for g in vs.list_json()}
    check_usage_object(lst[bbguest]["usage"])
    d = tmp_path / "bin"
    d.mkdir()
    os.symlink(vs.bin, d / "vserver-stat")
    st = json.loads(vs.run(["--json"], argv0=d / "vserver-stat", timeout=30).stdout)
    host = [e for e in st if e["context"] == 0]
    guest = [e for e in st if e["guest"] == bbguest]
    assert len(host) == 1 and host[0]["usage"] is None, host
    assert len(guest) == 1, st
    check_usage_object(guest[0]["usage"])
    # the figures the host has are the same kind in all three
    for k in KEYS:
        assert (u[k] is None) == (lst[bbguest]["usage"][k] is None) == (guest[0]["usage"][k] is None), k
    # stopped: no usage
    vs.run([bbguest, "stop"], timeout=60)
    js = json.loads(vs.run([bbguest, "status", "--json"], check=3, timeout=30).stdout)
    assert "usage" not in js
    assert "usage" not in {g["name"]: g for g in vs.list_json()}[bbguest]


def test_limits_are_the_cgroup_files(vs, bbguest):
    """The limits shown are the values in the guest's cgroup files,
    exactly; "max" when unlimited."""
    start(vs, bbguest)
    u = usage(vs, bbguest)
    need(u, "pids_limit", "memory_limit_bytes")
    assert u["pids_limit"] == "max" and u["memory_limit_bytes"] == "max", u
    pmax, _ = cg_file(vs, bbguest, "pids.max")
    pmax.write_text("1000\n")
    mem, f = cg_file(vs, bbguest, "memory.max", "memory.limit_in_bytes")
    mem.write_text(str(512 * MiB) + "\n")
    u = usage(vs, bbguest)
    assert u["pids_limit"] == 1000 and u["memory_limit_bytes"] == 512 * MiB, u
    out = vs.run([bbguest, "status"], timeout=30).stdout
    assert re.search(r"^Processes:\s+\d+ of 1000$", out, re.M), out
    assert re.search(r"^Memory usage:\s+.*, limit 512M, ", out, re.M), out


# ---- the figures follow what the guest does ---------------------------------------------

def test_memory_hog_raises_current_and_peak(vs, bbguest, bg):
    start(vs, bbguest)
    u0 = usage(vs, bbguest)
    need(u0, "memory_bytes", "memory_peak_bytes")
    hog = bg(vs, bbguest, "/t", "memhog", "64", "6")
    assert hog.line() == "OK 64"
    u1 = usage(vs, bbguest)
    assert u1["memory_bytes"] >= u0["memory_bytes"] + 60 * MiB, (u0, u1)
    assert u1["memory_peak_bytes"] >= u1["memory_bytes"] - MiB, u1
    assert u1["memory_peak_bytes"] >= 64 * MiB, u1
    text = vs.run([bbguest, "status"], timeout=30).stdout
    m = re.search(r"^Memory usage:\s+([\d.]+)M, peak ([\d.]+)M,", text, re.M)
    assert m and float(m.group(1)) >= 60 and float(m.group(2)) >= 64, text
    # the hog ends after its 6 s: current falls back, the peak stays
    assert hog.wait(60) == 0
    assert wait_until(lambda: usage(vs, bbguest)["memory_bytes"] < u1["memory_bytes"] - 48 * MiB, 20), (
        u1, usage(vs, bbguest))
    assert usage(vs, bbguest)["memory_peak_bytes"] >= 64 * MiB


def test_spin_raises_cpu_time(vs, bbguest):
    start(vs, bbguest)
    u0 = usage(vs, bbguest)
    need(u0, "cpu_usec")
    r = vs.run([bbguest, "exec", "/t", "spin", "1.5"], timeout=60)
    m = re.fullmatch(r"OK (\d+)\n", r.stdout)
    assert m, r.stdout
    spun_usec = int(m.group(1)) * 1000
    u1 = usage(vs, bbguest)
    # the cgroup counts the spinner's CPU time (and a little more: the exec)
    assert u1["cpu_usec"] - u0["cpu_usec"] >= spun_usec * 0.9, (u0, u1, spun_usec)
    assert spun_usec >= 500000, spun_usec
    if u1["cpu_user_usec"] is not None:
        assert u1["cpu_user_usec"] - u0["cpu_user_usec"] >= spun_usec * 0.5, (u0, u1, spun_usec)
        assert u1["cpu_system_usec"] is not None
        # user + system is the total (each rounded down on its own)
        assert abs(u1["cpu_user_usec"] + u1["cpu_system_usec"] - u1["cpu_usec"]) <= 0.05 * u1["cpu_usec"] + 20000


def test_pids_counts_the_guest_processes(vs, bbguest, bg):
    start(vs, bbguest)
    u0 = usage(vs, bbguest)
    need(u0, "pids")
    # the guest's own processes (busybox init, its sleeper ...): the cgroup's
    # list, once the boot scripts are through
    assert wait_until(lambda: usage(vs, bbguest)["pids"] == len(vs.cgroup_procs(bbguest)), 15), (
        usage(vs, bbguest), vs.cgroup_procs(bbguest))
    u0 = usage(vs, bbguest)
    bomb = bg(vs, bbguest, "/t", "forkbomb", "20", "30")
    assert bomb.line() == "OK 20"
    u1 = usage(vs, bbguest)
    # 20 children + the probe itself (+ the vserver exec helper, if it stays in the guest)
    assert u1["pids"] >= u0["pids"] + 21, (u0, u1)
    assert wait_until(lambda: usage(vs, bbguest)["pids"] == len(vs.cgroup_procs(bbguest)), 10), (
        usage(vs, bbguest), vs.cgroup_procs(bbguest))
    out = vs.run([bbguest, "status"], timeout=30).stdout
    m = re.search(r"^Processes:\s+(\d+)", out, re.M)
    assert m and int(m.group(1)) >= u0["pids"] + 21, out


def whole_disk(dev):
    """MAJ:MIN of the disk that holds device number `dev` (a partition's
    parent), or None."""
    sys_dev = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not sys_dev.exists():
        return None
    d = sys_dev.resolve()
    if (d / "partition").exists():
        d = d.parent
    return (d / "dev").read_text().strip()


def test_io_written_bytes(vs, bbguest):
    """Direct writes (O_DIRECT: the guest's own bios, charged to its
    cgroup on v1 as on v2) raise the written bytes."""
    start(vs, bbguest)
    u0 = usage(vs, bbguest)
    need(u0, "io_write_bytes")
    root = vs.root(bbguest)
    fstype = subprocess.run(["findmnt", "-n", "-o", "FSTYPE", "-T", str(root)],
                            capture_output=True, text=True).stdout.strip()
    if fstype in ("tmpfs", "ramfs", "overlay", ""):
        pytest.skip(f"the guest tree is on {fstype or 'an unknown file system'}: no block I/O to account")

    def write():
        r = vs.run([bbguest, "exec", "/bin/busybox", "dd", "if=/dev/zero", "of=/ddtest", "bs=1M", "count=16",
                    "oflag=direct", "conv=fsync"], check=None, timeout=120)
        if r.returncode != 0:
            # O_DIRECT refused by the file system: buffered, then synced
            vs.run([bbguest, "exec", "/bin/busybox", "dd", "if=/dev/zero", "of=/ddtest", "bs=1M", "count=16",
                    "conv=fsync"], timeout=120)
        u = usage(vs, bbguest)
        (root / "ddtest").unlink()
        return u

    u1 = write()
    written = u1["io_write_bytes"] - u0["io_write_bytes"]
    wbps, _ = cg_file(vs, bbguest, "blkio.throttle.write_bps_device")
    disk = whole_disk(os.stat(root).st_dev)
    if written == 0 and wbps is not None and disk:
        # v1 on recent kernels: blk-throttle (and its statistics) is only
        # set up on a disk once a throttle rule exists for it; a rule that
        # limits nothing (1 TiB/s) on the guest's own cgroup starts it
        wbps.write_text(f"{disk} {1 << 40}\n")
        u0 = usage(vs, bbguest)
        u1 = write()
        written = u1["io_write_bytes"] - u0["io_write_bytes"]
    if written == 0:
        pytest.skip(f"this host's block I/O accounting did not count the guest's writes to {fstype} "
                    f"on {disk}")
    assert written >= 16 * MiB, (u0, u1)
    out = vs.run([bbguest, "status"], timeout=30).stdout
    m = re.search(r"^I/O:\s+read \S+, written ([\d.]+)([KMG])$", out, re.M)
    assert m and float(m.group(1)) * {"K": 1 << 10, "M": MiB, "G": 1 << 30}[m.group(2)] >= 16 * MiB, out


def test_oom_kill_is_counted(vs, bbguest, tmp_path):
    """A memory hog over the guest's memory limit (written to its own
    cgroup by the test: 64 MiB, no swap) is OOM-killed inside the guest;
    the OOM-kill count rises; the guest and host processes stay."""
    st = start(vs, bbguest)
    u0 = usage(vs, bbguest)
    need(u0, "oom_kills")
    mem, f = cg_file(vs, bbguest, "memory.max", "memory.limit_in_bytes")
    assert mem is not None
    mem.write_text(str(64 * MiB) + "\n")
    # no escape into swap (v2 memory.swap.max, v1 memsw: limit + swap)
    for sw in ("memory.swap.max", "memory.memsw.limit_in_bytes"):
        p, _ = cg_file(vs, bbguest, sw)
        if p is not None:
            p.write_text(("0" if sw == "memory.swap.max" else str(64 * MiB)) + "\n")
    host = subprocess.Popen(["sleep", "120"], stdin=subprocess.DEVNULL)
    try:
        hstart = proc_stat(host.pid)[2]
        r = vs.run([bbguest, "exec", "/t", "memhog", "256"], check=None, timeout=120)
        assert "OK 256" not in r.stdout, r
        u1 = wait_until(lambda: (lambda u: u if u["oom_kills"] > u0["oom_kills"] else None)(usage(vs, bbguest)),
                        10)
        assert u1, (u0, usage(vs, bbguest), r)
        assert u1["memory_limit_bytes"] == 64 * MiB
        assert u1["memory_peak_bytes"] is None or u1["memory_peak_bytes"] <= 64 * MiB + MiB, u1
        if u1["oom_events"] is not None:
            assert u1["oom_events"] > u0["oom_events"], (u0, u1)
        out = vs.run([bbguest, "status"], timeout=30).stdout
        m = re.search(r"^OOM kills:\s+(\d+)", out, re.M)
        assert m and int(m.group(1)) >= 1, out
        # only the hog went: the guest runs on, the host process too
        assert pid_alive(st["init"], st["init_start"])
        assert vs.run([bbguest, "running"], check=None, timeout=30).returncode == 0
        assert pid_alive(host.pid, hstart)
    finally:
        host.kill()
        host.wait()
