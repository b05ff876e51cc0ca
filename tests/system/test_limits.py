# SPDX-License-Identifier: GPL-2.0-or-later
"""Resource limits (issue 6, vserver(8) LIMITS): limits/ and util-vserver's
keys written into the guest's cgroup before its first process, enforced
(pids, memory, CPU), changed live with `vserver NAME limit`, kept across
stop/start, and every bad value refused with file, line and reason.

Busybox guests (the probe as /t) in the `vs` fixture's private world and
its private cgroup parent, on this host's real cgroups (hybrid here:
v1 controllers; pure v2 elsewhere).  Only the guests' own cgroup files
are read; only processes this test started are ever signalled."""
import json
import os
import resource
import subprocess
from pathlib import Path

import pytest

from conftest import Background, pid_alive

MiB = 1 << 20


# ---- helpers -------------------------------------------------------------------------------

def start(vs, name):
    vs.run([name, "start"], timeout=60)
    st = vs.state(name)
    assert st and "init" in st, st
    return st


def set_limit(vs, name, key, value):
    p = vs.cfg(name) / key
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(value + "\n")


def cg_file(vs, name, *files):
    """The first of `files` that exists in one of the guest's cgroup dirs
    (give the v2 name first, then v1's): a Path, or None."""
    for f in files:
        for d in vs.cgroup_dirs(name):
            p = d / f
            if p.is_file():
                # on a hybrid host the cgroup2 dir has no controllers: its
                # core files are not the controller's
                if f.startswith("memory.") and (d / "cgroup.controllers").is_file() and \
                        "memory" not in (d / "cgroup.controllers").read_text().split():
                    continue
                return p
    return None


def read(p):
    return p.read_text().strip()


def cfg_files(vs, name):
    """Every file of the guest's configuration with its content."""
    out = {}
    for dirpath, _, files in os.walk(vs.cfg(name)):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[p] = fh.read()
    return out


def memory_limit_file(vs, name):
    p = cg_file(vs, name, "memory.max", "memory.limit_in_bytes")
    assert p, "no memory controller for the guest"
    return p


def cpu_quota(vs, name):
    """(quota, period) of the guest's cgroup; quota None: no cap."""
    p = cg_file(vs, name, "cpu.max")
    if p and "cpu" in (p.parent / "cgroup.controllers").read_text().split():
        q, per = read(p).split()
        return (None if q == "max" else int(q)), int(per)
    q = cg_file(vs, name, "cpu.cfs_quota_us")
    per = cg_file(vs, name, "cpu.cfs_period_us")
    assert q and per, "no cpu controller for the guest"
    qv = int(read(q))
    return (None if qv < 0 else qv), int(read(per))


def spin_share(vs, name, seconds=3.0):
    """Fraction of one CPU a spinner in the guest got over `seconds`."""
    r = vs.run([name, "exec", "/t", "spin", str(seconds)], timeout=60)
    word, ms = r.stdout.split()
    assert word == "OK", r.stdout
    return int(ms) / (seconds * 1000)


# ---- enforcement ------------------------------------------------------------------------------

def test_forkbomb_stops_at_pids_limit(vs, bbguest):
    set_limit(vs, bbguest, "limits/pids", "40")
    start(vs, bbguest)
    pids_max = cg_file(vs, bbguest, "pids.max")
    assert pids_max and read(pids_max) == "40"
    bomb = Background(vs, bbguest, "/t", "forkbomb", "1000", "5")
    try:
        word, made = bomb.line().split()
        assert word == "EAGAIN", (word, made)
        assert 0 < int(made) < 40
        # the host keeps forking meanwhile
        for _ in range(30):
            subprocess.run(["true"], check=True)
        assert vs.run([bbguest, "running"], check=False).returncode == 0
    finally:
        bomb.finish()


def test_memory_hog_is_oom_killed_in_the_guest_only(vs, bbguest):
    set_limit(vs, bbguest, "limits/memory", "64M")
    set_limit(vs, bbguest, "limits/swap", "0")
    st = start(vs, bbguest)
    assert read(memory_limit_file(vs, bbguest)) == str(64 * MiB)
    # a host process of ours that must survive
    sentinel = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL)
    try:
        r = vs.run([bbguest, "exec", "/t", "memhog", "256"], check=None, timeout=120)
        assert r.stdout.strip() != "OK 256", r.stdout
        assert r.returncode != 0
        assert sentinel.poll() is None
        # the guest and its init live on
        assert vs.run([bbguest, "running"], check=False).returncode == 0
        assert pid_alive(st["init"], st["init_start"])
        ev = cg_file(vs, bbguest, "memory.events", "memory.oom_control")
        # v1 counts an OOM kill in the killed process's cgroup only: the
        # guest's processes live in its payload sub-cgroup (v2's
        # memory.events is hierarchical, so the guest dir's is enough there)
        counts = {}
        for f in (ev, ev.parent / "payload" / ev.name):
            c = dict(l.split() for l in read(f).splitlines() if len(l.split()) == 2) if f.is_file() else {}
            if int(c.get("oom_kill", "0")) > int(counts.get("oom_kill", "0")):
                counts = c
        assert int(counts.get("oom_kill", "0")) >= 1, counts
    finally:
        sentinel.kill()     # the process this test started, by pid
        sentinel.wait()


def test_cpu_cap_gives_its_share(vs, bbguest):
    set_limit(vs, bbguest, "limits/cpu.max", "20000 100000")
    start(vs, bbguest)
    assert cpu_quota(vs, bbguest) == (20000, 100000)
    share = spin_share(vs, bbguest, 3.0)
    assert 0.10 <= share <= 0.30, share


def test_util_vserver_keys(vs, bbguest):
    """rlimits/ in pages, sched/ token bucket, cgroup/ verbatim, ulimits/
    and ionice/ in the guest's PID 1."""
    page = os.sysconf("SC_PAGESIZE")
    set_limit(vs, bbguest, "rlimits/rss", str(96 * MiB // page))
    set_limit(vs, bbguest, "rlimits/nproc", "50")
    set_limit(vs, bbguest, "sched/fill-rate", "1")
    set_limit(vs, bbguest, "sched/interval", "4")
    set_limit(vs, bbguest, "ulimits/nofile", "512")
    set_limit(vs, bbguest, "ionice/class", "3")
    swp = "memory.swappiness"
    set_limit(vs, bbguest, f"cgroup/{swp}", "7")
    js = vs.config_json(bbguest)["limits"]
    assert js["memory_bytes"] == 96 * MiB and js["pids"] == 50
    assert js["cpu_max"] == {"quota_us": 25000, "period_us": 100000, "burst_us": None}
    st = start(vs, bbguest)
    assert read(memory_limit_file(vs, bbguest)) == str(96 * MiB)
    assert read(cg_file(vs, bbguest, "pids.max")) == "50"
    assert cpu_quota(vs, bbguest) == (25000, 100000)
    sw = cg_file(vs, bbguest, swp)
    if sw:  # v1, or v2 kernels that have it
        assert read(sw) == "7"
    limits = vs.run([bbguest, "exec", "/bin/cat", "/proc/1/limits"]).stdout
    line = [l for l in limits.splitlines() if l.startswith("Max open files")]
    assert line and line[0].split()[3:5] == ["512", "512"], line
    r = subprocess.run(["ionice", "-p", str(st["init"])], capture_output=True, text=True)
    if r.returncode == 0:
        assert r.stdout.strip() == "idle", r.stdout


def nofile(limits_text):
    line = [ln for ln in limits_text.splitlines() if ln.startswith("Max open files")]
    return line[0].split()[3:5]


def test_nofile_default_is_a_systemd_hosts_not_the_callers(vs, bbguest):
    """Without ulimits/nofile, a guest used to get the open-file limits of
    whoever started it: a sysvinit host's 1024:4096, an admin shell's,
    which the guest's systemd and daemons cannot raise (no
    CAP_SYS_RESOURCE).  Now it gets what a systemd host gives every
    service, 1024:524288, for its PID 1 and for `exec` alike."""
    def low_limits():
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 4096))

    # raising a hard limit needs CAP_SYS_RESOURCE, which host root lacks
    # in some sandboxes (this project's CI machine): then the caller's
    # hard limit stays, and only the soft one is the default
    can_raise = subprocess.run(["prlimit", "--nofile=1024:524288", "true"], preexec_fn=low_limits,
                               capture_output=True).returncode == 0
    want = ["1024", "524288" if can_raise else "4096"]
    r = subprocess.run(vs.cmd([bbguest, "start"]), env=vs.env, capture_output=True, text=True, timeout=60,
                       preexec_fn=low_limits)
    assert r.returncode == 0, r.stderr
    st = vs.state(bbguest)
    assert nofile(open(f"/proc/{st['init']}/limits").read()) == want
    r = subprocess.run(vs.cmd([bbguest, "exec", "/bin/cat", "/proc/self/limits"]), env=vs.env,
                       capture_output=True, text=True, timeout=60, preexec_fn=low_limits)
    assert nofile(r.stdout) == want, r.stdout
    vs.run([bbguest, "stop"], timeout=60)
    # ulimits/nofile, when set, is what the guest gets
    set_limit(vs, bbguest, "ulimits/nofile.hard", "8192")
    start(vs, bbguest)
    assert nofile(vs.run([bbguest, "exec", "/bin/cat", "/proc/1/limits"]).stdout)[1] == "8192"


def test_io_weight_file(vs, bbguest):
    set_limit(vs, bbguest, "limits/io.weight", "200")
    r = vs.run([bbguest, "start"], check=None, timeout=60)
    if r.returncode != 0:
        assert "limits/io.weight" in r.stderr, r.stderr
        pytest.skip(f"this host offers no I/O weight to the guest: {r.stderr.strip()}")
    p = cg_file(vs, bbguest, "io.weight", "io.bfq.weight", "blkio.bfq.weight", "blkio.weight")
    assert p
    want = {"io.weight": "default 200", "io.bfq.weight": "200", "blkio.bfq.weight": "200",
            "blkio.weight": "1000"}[p.name]
    assert read(p).splitlines()[0] == want, read(p)


def test_io_weight_behaviour():
    pytest.skip("no behavioural I/O weight or cap test: the disks here are virtual (virtio, zram) and loop "
                "devices inherit the host file system's caching, so weights and caps have no reliable "
                "measurable effect; test_io_weight_file checks the control file")


# ---- live changes -----------------------------------------------------------------------------

def test_live_change_memory_and_cpu(vs, bbguest):
    start(vs, bbguest)
    init = vs.state(bbguest)
    r = vs.run([bbguest, "limit", "memory", "128M"])
    assert "applied to the running guest" in r.stdout
    assert read(memory_limit_file(vs, bbguest)) == str(128 * MiB)
    assert read(vs.cfg(bbguest) / "limits" / "memory") == "128M"
    # the new limit acts: a 200 MiB hog is killed, 64 MiB pass
    assert vs.run([bbguest, "exec", "/t", "memhog", "64"], timeout=60).stdout.strip() == "OK 64"
    r = vs.run([bbguest, "exec", "/t", "memhog", "200"], check=None, timeout=120)
    assert r.stdout.strip() != "OK 200"
    # CPU cap on and off, without a restart
    vs.run([bbguest, "limit", "cpu.max", "20000 100000"])
    assert cpu_quota(vs, bbguest) == (20000, 100000)
    assert 0.10 <= spin_share(vs, bbguest, 3.0) <= 0.30
    vs.run([bbguest, "limit", "cpu.max", "max"])
    assert cpu_quota(vs, bbguest)[0] is None
    assert spin_share(vs, bbguest, 1.5) >= 0.6
    # listing
    out = vs.run([bbguest, "limit"]).stdout.splitlines()
    assert f"memory {128 * MiB}" in out and "cpu.max max 100000" in out and "pids -" in out
    # none: removed from the configuration, the cgroup back to no limit
    vs.run([bbguest, "limit", "memory", "none"])
    assert not (vs.cfg(bbguest) / "limits" / "memory").exists()
    assert read(memory_limit_file(vs, bbguest)) in ("max", "9223372036854771712")
    assert vs.state(bbguest)["init"] == init["init"]  # never restarted


def test_limits_survive_stop_start(vs, bbguest):
    r = vs.run([bbguest, "limit", "pids", "64"])
    assert "applied" not in r.stdout          # stopped: only saved
    vs.run([bbguest, "limit", "memory", "256M"])
    for _ in range(2):
        start(vs, bbguest)
        assert read(cg_file(vs, bbguest, "pids.max")) == "64"
        assert read(memory_limit_file(vs, bbguest)) == str(256 * MiB)
        vs.run([bbguest, "stop", "--timeout", "10"], timeout=60)
    assert vs.run([bbguest, "limit", "pids"]).stdout == "pids 64\n"


def test_limit_errors_change_nothing(vs, bbguest):
    set_limit(vs, bbguest, "limits/memory", "128M")
    start(vs, bbguest)
    mem = memory_limit_file(vs, bbguest)
    before_cfg = cfg_files(vs, bbguest)

    def unchanged():
        assert read(mem) == str(128 * MiB)
        assert cfg_files(vs, bbguest) == before_cfg

    for args, code, words in [
        (["memory", "10m"], 2, "upper case"),
        (["memory", "1M"], 2, "the guest's init cannot start"),
        (["memory", "unlimited"], 2, "the only spelling for no limit is max"),
        (["memory", "18446744073709551616"], 2, "too large"),
        (["memory.high", "256M"], 2, "must not exceed"),
        (["pids", "0"], 2, "below 8"),
        (["cpu.max", "999 100000"], 2, "below 1000"),
        (["bogus", "1"], 2, "unknown resource"),
        (["io.max", "8:0 wbps=1M"], 2, "unknown resource"),
        (["cpuset.cpus", "999"], 1, "the kernel refused"),
    ]:
        r = vs.run([bbguest, "limit", *args], check=code)
        assert words in r.stderr, (args, r.stderr)
        unchanged()
    # a value the kernel refuses because the guest uses more: EBUSY
    hog = Background(vs, bbguest, "/t", "memhog", "80", "20")
    try:
        assert hog.line(timeout=60) == "OK 80"
        r = vs.run([bbguest, "limit", "memory", "32M"], check=1, timeout=120)
        assert "the kernel refused" in r.stderr, r.stderr
        unchanged()
    finally:
        hog.finish()


def test_limit_rolls_back_when_saving_fails(vs, bbguest):
    set_limit(vs, bbguest, "limits/pids", "100")
    start(vs, bbguest)
    limits = vs.cfg(bbguest) / "limits"
    r = subprocess.run(["chattr", "+i", str(limits)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot make {limits} immutable here: {r.stderr.strip()}")
    try:
        r = vs.run([bbguest, "limit", "pids", "200"], check=1)
        assert "keeps its old pids" in r.stderr, r.stderr
        assert read(cg_file(vs, bbguest, "pids.max")) == "100"
    finally:
        subprocess.run(["chattr", "-i", str(limits)], check=True)
    assert read(limits / "pids") == "100"


# ---- validation ------------------------------------------------------------------------------

CATALOGUE = ["inf", "infinity", "information", "unlimited", "-1", "0", "18446744073709551616",
             "9223372036854775808", "1e9", "10m", "10 M", " 10", "", "123bogus", "-12345678"]


def check(vs, name):
    return vs.run([name, "check"], check=None)


def test_check_refuses_bad_values(vs):
    vs.build("g", method="skeleton")
    cfg = vs.cfg("g")
    (cfg / "limits").mkdir()
    for key in ("limits/memory", "limits/pids", "limits/memory.high"):
        for v in CATALOGUE:
            (cfg / key).write_text(v + "\n")
            r = check(vs, "g")
            assert r.returncode == 2, (key, v, r.stdout, r.stderr)
            out = r.stdout + r.stderr
            assert f"{cfg}/{key}:1: " in out, (key, v, out)
            (cfg / key).unlink()
    assert check(vs, "g").returncode == 0
    # floors and relations, with the reason
    cases = [
        ({"limits/memory": "1M"}, "limits/memory:1: ", "the guest's init cannot start"),
        ({"limits/pids": "7"}, "limits/pids:1: ", "below 8"),
        ({"limits/cpu.max": "500 100000"}, "limits/cpu.max:1: ", "below 1000"),
        ({"limits/cpu.max": "50000 2000000"}, "limits/cpu.max:1: ", "1000..1000000"),
        ({"limits/cpu.weight": "0"}, "limits/cpu.weight:1: ", "1..10000"),
        ({"limits/io.weight": "10001"}, "limits/io.weight:1: ", "1..10000"),
        ({"limits/memory": "64M", "limits/memory.high": "128M"}, "limits/memory.high:1: ", "must not exceed"),
        ({"rlimits/rss.hard": "10000", "rlimits/rss.soft": "20000"}, "rlimits/rss.soft:1: ", "must not exceed"),
        ({"ulimits/nofile.hard": "100", "ulimits/nofile.soft": "200"}, "ulimits/nofile.soft:1: ", "soft <= hard"),
        ({"limits/memory": "64M", "rlimits/rss": "100000"}, "rlimits/rss:1: ", "already set by limits/memory"),
        ({"rlimits/as": "1000"}, "rlimits/as: ", "use ulimits/as for a per-process limit"),
        ({"rlimits/nofile": "1000"}, "rlimits/nofile: ", "use ulimits/nofile"),
        ({"sched/prio-bias": "1"}, "sched/prio-bias: ", "no cgroup equivalent"),
        ({"sched/fill-rate": "1"}, "sched/fill-rate:1: ", "go together"),
        ({"cgroup/devices.allow": "a"}, "cgroup/devices.allow: ", "vserver's own"),
        ({"limits/io.max": "8:0 wbps=10m"}, "limits/io.max:1: ", "upper case"),
        ({"badness": "1001"}, "badness:1: ", "-1000 (never OOM-killed) .. 1000"),
        ({"badness": "high"}, "badness:1: ", "the guest's oom_score_adj"),
    ]
    if (vs.cgroup_parent_dirs() and not (vs.cgroup_parent_dirs()[0].parent / "cgroup.controllers").is_file()
            and os.path.isdir("/sys/fs/cgroup/memory")):
        cases.append(({"limits/swap": "1G"}, "limits/swap:1: ", "memory + swap"))
    for files, where, why in cases:
        for k, v in files.items():
            (cfg / k).parent.mkdir(parents=True, exist_ok=True)
            (cfg / k).write_text(v + "\n")
        r = check(vs, "g")
        out = r.stdout + r.stderr
        assert r.returncode == 2 and f"{cfg}/{where}" in out and why in out, (files, out)
        for k in files:
            (cfg / k).unlink()
    assert check(vs, "g").returncode == 0
    # and start refuses the same, before anything exists
    (cfg / "limits" / "pids").write_text("0\n")
    r = vs.run(["g", "start"], check=2)
    assert "limits/pids:1: " in r.stderr
    assert vs.cgroup_dirs("g") == []


def test_config_json_limits(vs):
    vs.build("g", method="skeleton")
    for k, v in {"limits/memory": "1G", "limits/swap": "max", "limits/cpu.max": "50000 100000",
                 "limits/io.max": "8:0 wbps=1M", "ulimits/core": "0", "limits/cpuset.cpus": "0"}.items():
        set_limit(vs, "g", k, v)
    js = vs.config_json("g")["limits"]
    assert js["memory_bytes"] == 1 << 30 and js["swap_bytes"] == "max" and js["pids"] is None
    assert js["cpu_max"]["quota_us"] == 50000 and js["cpuset_cpus"] == "0"
    assert js["io_max"] == [{"device": "8:0", "rbps": None, "wbps": MiB, "riops": None, "wiops": None}]
    assert js["ulimits"] == {"core": {"soft": 0, "hard": 0}}
    assert json.dumps(js)


def test_start_fails_cleanly_when_a_limit_cannot_be_written(vs, bbguest):
    """A control file the kernel does not offer: start stops at S5 with the
    key named, and nothing of the guest is left (no cgroup, no process)."""
    set_limit(vs, bbguest, "cgroup/memory.no_such_knob", "1")
    r = vs.run([bbguest, "start"], check=1, timeout=60)
    assert "cgroup/memory.no_such_knob" in r.stderr and "does not exist" in r.stderr, r.stderr
    assert vs.run([bbguest, "running"], check=False).returncode != 0
    assert vs.cgroup_dirs(bbguest) == []
    assert vs.cgroup_procs(bbguest) == []


def test_badness_is_the_guests_oom_score_adj(vs, bbguest):
    """util-vserver's badness (vmemctrl --badness, the context's OOM bias)
    is the oom_score_adj of the guest's init and of what `exec` starts.  A
    value below the caller's needs CAP_SYS_RESOURCE: where vserver lacks it
    (this project's CI machine), start refuses with the reason and leaves
    nothing."""
    set_limit(vs, bbguest, "badness", "500")
    st = start(vs, bbguest)
    assert read(Path(f"/proc/{st['init']}/oom_score_adj")) == "500"
    assert vs.run([bbguest, "exec", "/bin/cat", "/proc/self/oom_score_adj"]).stdout.strip() == "500"
    assert vs.config_json(bbguest)["limits"]["badness"] == 500
    vs.run([bbguest, "stop"], timeout=60)
    # -1000 (never OOM-killed) without a memory limit: check warns
    set_limit(vs, bbguest, "badness", "-1000")
    out = vs.run([bbguest, "check"]).stdout
    assert "warning: " in out and "badness: -1000 exempts the guest's processes from the OOM killer" in out, out
    set_limit(vs, bbguest, "limits/memory", "256M")
    assert "badness" not in vs.run([bbguest, "check"]).stdout
    (vs.cfg(bbguest) / "limits" / "memory").unlink()
    set_limit(vs, bbguest, "badness", "-300")
    can_lower = subprocess.run(["choom", "-n", "-300", "--", "true"], capture_output=True).returncode == 0
    r = vs.run([bbguest, "start"], check=None, timeout=60)
    if can_lower:
        assert r.returncode == 0, r.stderr
        assert read(Path(f"/proc/{vs.state(bbguest)['init']}/oom_score_adj")) == "-300"
    else:
        assert r.returncode == 1 and "badness -300" in r.stderr and "CAP_SYS_RESOURCE" in r.stderr, r.stderr
        assert vs.state(bbguest) is None and vs.cgroup_dirs(bbguest) == [] and vs.cgroup_procs(bbguest) == []
