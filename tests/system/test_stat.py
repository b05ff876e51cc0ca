# SPDX-License-Identifier: GPL-2.0-or-later
"""The host's view (issue 4): vserver-stat figures against reality, vps's
CONTEXT column for two running guests and the host, vkill confined to one
guest, and guest-chosen process names and display names that cannot put
terminal escape sequences on the admin's screen (HS-11).

Busybox guests (tests/payload/make-busybox-rootfs.sh, the probe as /t) in the
`vs` fixture's private world.  Every subprocess has a timeout; processes are
only signalled by pid when this test started them (or through vkill, which is
what is tested)."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import pid_alive, proc_stat, wait_until

HEADER = "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME"
ESC_TITLE = "\x1b]0;pwned\x07"   # sets the terminal title if printed raw


# ---- helpers -------------------------------------------------------------------------------

@pytest.fixture
def tool(vs, tmp_path):
    """argv0 of each host-view command: symlinks to the binary."""
    d = tmp_path / "bin"
    d.mkdir()
    paths = {}
    for t in ("vserver-stat", "vps", "vkill"):
        os.symlink(vs.bin, d / t)
        paths[t] = d / t
    return paths


def run_tool(vs, tool, name, *args, check=0, timeout=30):
    return vs.run(list(args), argv0=tool[name], check=check, timeout=timeout)


def start(vs, name, timeout=60):
    vs.run([name, "start"], timeout=timeout)
    st = vs.state(name)
    assert st and "init" in st, st
    return st


def second_guest(vs, tarball, name="bb2"):
    vs.build(name, method="template", margs=("-t", tarball), timeout=120)
    return name


def parse_mem(field):
    m = re.fullmatch(r"\s*(\d+(?:\.\d)?)([ KMGT]?)", field)
    assert m, repr(field)
    mult = {"": 1, " ": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2)]
    return float(m.group(1)) * mult


def parse_time(field):
    """A time field back to (approximate) milliseconds."""
    f = field.strip()
    m = re.fullmatch(r"(\d+)m(\d\d)s(\d\d)", f)
    if m:
        return int(m.group(1)) * 60000 + int(m.group(2)) * 1000 + int(m.group(3)) * 10
    m = re.fullmatch(r"(\d+)h(\d\d)m(\d\d)", f)
    if m:
        return ((int(m.group(1)) * 60 + int(m.group(2))) * 60 + int(m.group(3))) * 1000
    m = re.fullmatch(r"(\d+)d(\d\d)h(\d\d)", f)
    if m:
        return ((int(m.group(1)) * 24 + int(m.group(2))) * 60 + int(m.group(3))) * 60000
    m = re.fullmatch(r"(\d+)y(\d+)d(\d\d)", f)
    assert m, repr(field)
    return ((int(m.group(1)) * 365 + int(m.group(2))) * 24 + int(m.group(3))) * 3600000


def stat_lines(vs, tool):
    """vserver-stat as {name: dict}, checked against the fixed columns."""
    r = run_tool(vs, tool, "vserver-stat")
    assert r.stderr == ""
    lines = r.stdout.splitlines()
    assert lines[0] == HEADER, lines
    out = {}
    for ln in lines[1:]:
        assert len(ln) >= 56 and ln[54] == " " and ln[55] != " ", repr(ln)
        ctx, procs = ln[:10].split()
        for a, b in ((24, 34), (34, 44), (44, 54)):
            assert ln[b - 1] == " ", repr(ln)   # time fields end with a blank
        out[ln[55:]] = {
            "context": int(ctx), "processes": int(procs),
            "vsz": parse_mem(ln[10:17]), "rss": parse_mem(ln[17:24]),
            "user": parse_time(ln[24:34]), "sys": parse_time(ln[34:44]), "uptime": parse_time(ln[44:54]),
            "line": ln,
        }
    return out


def stat_json(vs, tool):
    r = run_tool(vs, tool, "vserver-stat", "--json")
    data = json.loads(r.stdout)
    return {e["guest"]: e for e in data}


def status_count(vs, name):
    out = vs.run([name, "status"], timeout=30).stdout
    m = re.search(r"Number of processes: (\d+)", out)
    assert m, out
    return int(m.group(1))


def guest_pids_named(vs, name, comm):
    """Host pids of the guest's processes called `comm`."""
    out = []
    for pid in vs.cgroup_procs(name):
        st = proc_stat(pid)
        if st and st[0] == comm:
            out.append(pid)
    return out


# ---- vserver-stat --------------------------------------------------------------------------

def test_stat_lists_the_running_guest_and_the_host(vs, bbguest, tool):
    # stopped: only the host line
    lines = stat_lines(vs, tool)
    assert list(lines) == ["root server"], lines
    st = start(vs, bbguest)
    # the guest's process count: the same as `status`, while the guest is quiet
    def agree():
        a = status_count(vs, bbguest)
        got = stat_lines(vs, tool)
        b = status_count(vs, bbguest)
        return (a == b == got[bbguest]["processes"]) and got
    got = wait_until(agree, timeout=20, interval=0.3)
    assert got, (status_count(vs, bbguest), stat_lines(vs, tool))
    g = got[bbguest]
    assert g["context"] == st["context"]
    assert g["processes"] >= 1 and g["vsz"] > 0 and g["rss"] > 0
    # the host: context 0, first, with the rest of the system
    host = got["root server"]
    assert host["context"] == 0 and host["line"].startswith("0 ")
    assert next(iter(got)) == "root server"
    assert host["processes"] > g["processes"]
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    assert host["uptime"] <= (up + 2) * 1000
    vs.run([bbguest, "stop"], timeout=120)
    assert list(stat_lines(vs, tool)) == ["root server"]


def test_stat_json_figures(vs, bbguest, tool):
    st = start(vs, bbguest)
    # let the guest's boot (rc 3 and its service) settle: the two listings
    # below are compared with each other
    assert wait_until(lambda: vs.run([bbguest, "exec", "/bin/cat", "/run/marker.started"], check=None,
                                     timeout=30).returncode == 0, 10)
    time.sleep(0.3)
    data = json.loads(run_tool(vs, tool, "vserver-stat", "--json").stdout)
    assert data[0]["context"] == 0 and data[0]["guest"] is None and data[0]["name"] == "root server"
    keys = {"context", "guest", "name", "processes", "vsz_bytes", "rss_bytes", "user_ms", "sys_ms", "uptime_s",
            "usage"}
    for e in data:
        assert set(e) == keys, e
        assert (e["usage"] is None) == (e["guest"] is None), e
        for k in keys - {"guest", "name", "usage"}:
            assert isinstance(e[k], int) and e[k] >= 0, (k, e)
    g = [e for e in data if e["guest"] == bbguest]
    assert len(g) == 1
    g = g[0]
    assert g["context"] == st["context"] and g["name"] == bbguest
    assert g["processes"] >= 1 and g["vsz_bytes"] >= g["rss_bytes"] > 0
    assert 0 <= g["uptime_s"] <= time.time() - st["started"] + 2
    # the text shows the same figures in its own units
    text = stat_lines(vs, tool)[bbguest]
    assert text["context"] == g["context"]
    assert abs(text["rss"] - g["rss_bytes"]) <= max(g["rss_bytes"] * 0.2, 1 << 20)


def test_stat_rss_of_a_64m_process(vs, bbguest, tool, bg):
    start(vs, bbguest)
    before = stat_json(vs, tool)[bbguest]["rss_bytes"]
    hog = bg(vs, bbguest, "/t", "memhog", "64", "30")
    assert hog.line(timeout=30) == "OK 64"
    after = stat_json(vs, tool)[bbguest]
    assert after["rss_bytes"] >= 64 << 20, after
    assert after["rss_bytes"] >= before + (60 << 20), (before, after)
    text = stat_lines(vs, tool)[bbguest]
    assert text["rss"] >= 64 << 20, text["line"]
    assert text["line"][17:24].strip().endswith("M"), text["line"]


def test_stat_user_time_of_a_cpu_bound_process_grows(vs, bbguest, tool, bg):
    start(vs, bbguest)
    t0 = stat_json(vs, tool)[bbguest]["user_ms"]
    text0 = stat_lines(vs, tool)[bbguest]["user"]
    spin = bg(vs, bbguest, "/t", "spin", "3")
    assert wait_until(lambda: guest_pids_named(vs, bbguest, "t"), timeout=10)
    time.sleep(2.2)
    t1 = stat_json(vs, tool)[bbguest]["user_ms"]
    text1 = stat_lines(vs, tool)[bbguest]["user"]
    assert t1 - t0 >= 500, (t0, t1)
    assert text1 - text0 >= 500, (text0, text1)
    line = spin.line(timeout=20)
    assert line.startswith("OK "), line


def test_stat_uptime_grows(vs, bbguest, tool):
    st = start(vs, bbguest)
    a = stat_json(vs, tool)[bbguest]["uptime_s"]
    ta = stat_lines(vs, tool)[bbguest]["uptime"]
    time.sleep(2.5)
    b = stat_json(vs, tool)[bbguest]["uptime_s"]
    tb = stat_lines(vs, tool)[bbguest]["uptime"]
    assert b >= a + 2, (a, b)
    assert tb - ta >= 1500, (ta, tb)
    assert b <= time.time() - st["started"] + 1


def test_stat_options(vs, tool):
    run_tool(vs, tool, "vserver-stat", "--sort", "ctx")
    run_tool(vs, tool, "vserver-stat", "-O", "ctx")
    r = run_tool(vs, tool, "vserver-stat", "--bogus", check=2)
    assert r.stderr.startswith("vserver-stat: ")
    run_tool(vs, tool, "vserver-stat", "extra", check=2)


# ---- vps -----------------------------------------------------------------------------------

def vps_rows(vs, tool, *args):
    """vps ARGS as {pid: (context, name, rest of the row)}; the header's
    CONTEXT column follows PID."""
    r = run_tool(vs, tool, "vps", *args)
    lines = r.stdout.splitlines()
    head = lines[0].split()
    i = head.index("PID")
    assert head[i + 1] == "CONTEXT", lines[0]
    rows = {}
    for ln in lines[1:]:
        f = ln.split()
        rows[int(f[i])] = (int(f[i + 1]), f[i + 2], f[i + 3:])
    return rows, r


def test_vps_names_the_guest_of_each_process(vs, bbguest, busybox_rootfs_tarball, tool, bg):
    other = second_guest(vs, busybox_rootfs_tarball)
    sa, sb = start(vs, bbguest), start(vs, other)
    assert sa["context"] != sb["context"]
    bg(vs, bbguest, "/t", "sleep", "60")
    bg(vs, other, "/t", "sleep", "60")
    assert wait_until(lambda: guest_pids_named(vs, bbguest, "t") and guest_pids_named(vs, other, "t"), timeout=15)
    host = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        for args in (["aux"], ["-e", "-o", "pid,comm"], ["-ef"]):
            rows, r = vps_rows(vs, tool, *args)
            assert r.stderr == ""
            for name, st in ((bbguest, sa), (other, sb)):
                for pid in [st["init"]] + guest_pids_named(vs, name, "t"):
                    assert rows[pid][:2] == (st["context"], name), (args, pid, rows.get(pid))
            for pid in (host.pid, os.getpid(), 1):
                assert rows[pid][:2] == (0, "MAIN"), (args, pid, rows.get(pid))
        # the column sits right after PID, 20 characters wide (reference 5.2)
        out = run_tool(vs, tool, "vps", "aux").stdout.splitlines()
        h = out[0]
        p = h.index(" PID ") + 4
        assert h[p:p + 20] == " CONTEXT            ", h
        row = [ln for ln in out[1:] if ln.split()[1] == str(sa["init"])][0]
        assert row[p:p + 20] == f" {sa['context']:5d} {bbguest:<13s}", row
    finally:
        host.kill()
        host.wait(timeout=10)


def test_vps_passes_options_and_exit_status(vs, tool):
    # a selection with no match: ps exits 1, and so does vps
    with open("/proc/sys/kernel/pid_max") as f:
        free = int(f.read()) - 1
    while os.path.exists(f"/proc/{free}"):
        free -= 1
    r = run_tool(vs, tool, "vps", "-p", str(free), check=None)
    ps = subprocess.run(["ps", "-p", str(free)], capture_output=True, text=True, timeout=30)
    assert r.returncode == ps.returncode != 0
    # a format without PID is passed through unchanged
    r = run_tool(vs, tool, "vps", "-o", "comm=", "-p", str(os.getpid()))
    assert r.stdout.strip() == proc_stat(os.getpid())[0]
    # the header alone
    r = run_tool(vs, tool, "vps", "-o", "pid,ppid", "-p", str(os.getpid()))
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["PID", "CONTEXT", "PPID"], lines
    assert lines[1].split() == [str(os.getpid()), "0", "MAIN", str(os.getppid())], lines


# ---- vkill ---------------------------------------------------------------------------------

def test_vkill_signals_only_the_targeted_guest(vs, bbguest, busybox_rootfs_tarball, tool, bg):
    other = second_guest(vs, busybox_rootfs_tarball)
    sa, sb = start(vs, bbguest), start(vs, other)
    # the same command in both guests: each prints its pid inside its guest
    cmd = ["/bin/sh", "-c", "echo $$; exec /t sleep 60"]
    a, b = bg(vs, bbguest, *cmd), bg(vs, other, *cmd)
    pa, pb = int(a.line()), int(b.line())
    assert wait_until(lambda: len(guest_pids_named(vs, bbguest, "t")) == 1
                      and len(guest_pids_named(vs, other, "t")) == 1, timeout=15)
    ha, hb = guest_pids_named(vs, bbguest, "t")[0], guest_pids_named(vs, other, "t")[0]
    hb_start = proc_stat(hb)[2]

    # refused: a host process, given directly or as if it were the guest's
    host = subprocess.Popen(["sleep", "60"], stdin=subprocess.DEVNULL)
    try:
        host_start = proc_stat(host.pid)[2]
        r = run_tool(vs, tool, "vkill", "-s", "KILL", str(host.pid), check=1)
        assert "host" in r.stderr, r.stderr
        r = run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "KILL", str(host.pid), check=1)
        assert str(host.pid) in r.stderr
        r = run_tool(vs, tool, "vkill", "--xid", "0", "-s", "KILL", str(host.pid), check=2)
        time.sleep(0.2)
        assert pid_alive(host.pid, host_start)
    finally:
        host.kill()
        host.wait(timeout=10)
    # refused: the other guest's process (its host pid), and a pid the guest does not have
    r = run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "KILL", str(hb), check=1)
    run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "KILL", str(pa), "99999", check=1)
    time.sleep(0.2)
    assert pid_alive(ha) and pid_alive(hb, hb_start), "a refused vkill signalled something"
    # no such guest, a stopped guest, bad arguments
    run_tool(vs, tool, "vkill", "--xid", "nosuch", "1", check=5)
    run_tool(vs, tool, "vkill", "--xid", "49000", "1", check=5)
    run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "NOSUCHSIG", str(pa), check=2)
    run_tool(vs, tool, "vkill", "--xid", bbguest, "x", check=2)

    # by name, with the guest's own pid: only guest A's process dies
    run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "TERM", str(pa))
    assert wait_until(lambda: not pid_alive(ha), timeout=10), "the targeted process survived"
    time.sleep(0.3)
    assert pid_alive(hb, hb_start), "the other guest's process was hit"
    assert b.running()
    # by context number, -c, a signal by number and with SIG
    run_tool(vs, tool, "vkill", "-c", str(sb["context"]), "-s", "SIGKILL", "--", str(pb))
    assert wait_until(lambda: not pid_alive(hb, hb_start), timeout=10)
    # both guests still run
    vs.run([bbguest, "running"], timeout=30)
    vs.run([other, "running"], timeout=30)
    # a stopped guest
    vs.run([other, "stop"], timeout=120)
    r = run_tool(vs, tool, "vkill", "--xid", other, "1", check=1)
    assert "not running" in r.stderr


def test_vkill_host_pid_of_a_guest_process_and_all(vs, bbguest, busybox_rootfs_tarball, tool, bg):
    other = second_guest(vs, busybox_rootfs_tarball)
    start(vs, bbguest)
    sb = start(vs, other)
    bg(vs, bbguest, "/t", "sleep", "60")
    bg(vs, other, "/t", "sleep", "60")
    assert wait_until(lambda: guest_pids_named(vs, bbguest, "t") and guest_pids_named(vs, other, "t"), timeout=15)
    ha = guest_pids_named(vs, bbguest, "t")[0]
    hb = guest_pids_named(vs, other, "t")[0]
    hb_start = proc_stat(hb)[2]
    # without --xid the pids are host pids, of guest processes only
    run_tool(vs, tool, "vkill", "-s", "9", str(ha))
    assert wait_until(lambda: not pid_alive(ha), timeout=10)
    assert pid_alive(hb, hb_start)
    # no pid: every process of the guest (its init too: the guest goes down)
    run_tool(vs, tool, "vkill", "--xid", bbguest, "-s", "KILL")
    assert wait_until(lambda: vs.run([bbguest, "running"], check=None, timeout=30).returncode == 1, timeout=30)
    assert pid_alive(hb, hb_start)
    vs.run([other, "running"], timeout=30)
    assert sb["context"]


# ---- hostile names (HS-11) -----------------------------------------------------------------

def test_escape_sequences_never_reach_the_terminal(vs, bbguest, tool, bg):
    start(vs, bbguest)
    # a display name with an escape (`check` refuses it, but vserver-stat
    # reads the `name` file of a running guest as it is)
    (vs.cfg(bbguest) / "name").write_text("evil\x1b[31mred\n")
    # a guest process named like a terminal title escape
    script = ('n="/tmp/$(printf "\\033]0;pwned\\007")"; cp /t "$n" && echo ready && exec "$n" sleep 60')
    p = bg(vs, bbguest, "/bin/sh", "-c", script)
    assert p.line() == "ready"
    assert wait_until(lambda: guest_pids_named(vs, bbguest, ESC_TITLE), timeout=15), \
        [proc_stat(x) for x in vs.cgroup_procs(bbguest)]
    hostile = guest_pids_named(vs, bbguest, ESC_TITLE)[0]
    for args in (["aux"], ["-e", "-o", "pid,comm"], ["-eo", "pid,args"], ["-e", "-o", "pid,comm,args"]):
        r = run_tool(vs, tool, "vps", *args)
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout, args
        rows = {ln.split()[0 if args != ["aux"] else 1]: ln for ln in r.stdout.splitlines()[1:]}
        assert str(hostile) in rows and bbguest in rows[str(hostile)], args
    r = run_tool(vs, tool, "vserver-stat")
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "evil\\x1b[31mred" in r.stdout
    r = run_tool(vs, tool, "vserver-stat", "--json")
    assert "\x1b" not in r.stdout
    assert [e["name"] for e in json.loads(r.stdout) if e["guest"] == bbguest] == ["evil\x1b[31mred"]


def test_status_and_list_show_the_figures(vs, bbguest, bg):
    """`vserver NAME status` and `vserver list` carry the process count,
    memory, CPU time and uptime of a running guest (issue 4), the same
    figures as vserver-stat."""
    start(vs, bbguest)
    hog = bg(vs, bbguest, "/t", "memhog", "32", "30")
    assert hog.line(timeout=30) == "OK 32"
    r = vs.run([bbguest, "status"], timeout=30)
    assert re.search(r"^Memory:\s+RSS [\d.]+M, VSZ [\d.]+[MG]$", r.stdout, re.M), r.stdout
    assert re.search(r"^CPU time:\s+user \S+, sys \S+$", r.stdout, re.M), r.stdout
    js = json.loads(vs.run([bbguest, "status", "--json"], timeout=30).stdout)
    assert js["state"] == "running" and js["context"] == 40000
    assert js["processes"] >= 3 and js["rss_bytes"] >= 32 << 20 and js["uptime_s"] >= 0
    assert js["init_pid"] == vs.state(bbguest)["init"]
    lst = {g["name"]: g for g in vs.list_json()}
    assert lst[bbguest]["processes"] >= 3 and lst[bbguest]["rss_bytes"] >= 32 << 20
    line = [ln for ln in vs.run(["list"], timeout=30).stdout.splitlines() if ln.startswith(bbguest + " ")][0]
    f = line.split()
    assert f[2] == "running" and int(f[4]) >= 3 and f[5].endswith("M"), line
    # stopped: no figures, exit 3 for status --json too
    vs.run([bbguest, "stop"], timeout=60)
    js = json.loads(vs.run([bbguest, "status", "--json"], check=3, timeout=30).stdout)
    assert js == {"name": bbguest, "state": "stopped", "network": {"mode": "none", "addresses": []}, "disk": None}
