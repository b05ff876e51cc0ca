# SPDX-License-Identifier: GPL-2.0-or-later
"""util-vserver's scriptlets (CONFDIR/NAME/scripts/PHASE[.d/*], and
.defaults/scripts): the administrator's host-side programs around a guest's
start and stop, with the busybox test guest.

Each scriptlet here appends one line to a log file of the test (on the host)
saying what it saw: its phase and arguments, its cwd, the VSERVER_* variables,
whether the guest's cgroup and PID 1 existed at that moment."""
import os
import subprocess
import stat
import time
from pathlib import Path

import pytest

from conftest import pid_alive, wait_until
from test_run import assert_guest_gone, gx, start, wait_guest_up

PHASES = ("initialize", "prepre-start", "pre-start", "post-start", "pre-stop", "post-stop", "postpost-stop")


def put_script(path, body, mode=0o755):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(mode)


def recorder(log, cgdir, extra=""):
    """A scriptlet that logs: $1 $2 | cwd | pid | cgroup there? | PID 1 alive? | stdin | umask | VSERVER_*."""
    return f"""#!/bin/sh
cg=no; [ -d '{cgdir}' ] && cg=yes
alive=-; [ -n "$VSERVER_INIT_PID" ] && {{ alive=no; kill -0 "$VSERVER_INIT_PID" 2>/dev/null && alive=yes; }}
echo "$1 $2|$(pwd)|pid=${{VSERVER_INIT_PID-}}|cg=$cg|alive=$alive|in=$(readlink /proc/$$/fd/0)|umask=$(umask)|ctx=$VSERVER_CONTEXT|dir=$VSERVER_DIR|phase=$VSERVER_PHASE|path=$PATH" >> '{log}'
{extra}"""


def log_lines(log):
    return log.read_text().splitlines() if log.exists() else []


def phases_of(log):
    return [ln.split("|")[0].split()[0] for ln in log_lines(log)]


def field(line, key):
    for f in line.split("|"):
        if f.startswith(key + "="):
            return f[len(key) + 1:]
    return None


def cg2_dir(vs, name):
    """The guest's cgroup directory in one hierarchy (the first that exists
    at this point: the directories are made per hierarchy)."""
    return vs.cgroup_parent_dirs()[0] / name


def test_scriptlets_run_in_order_with_their_environment(vs, bbguest, tmp_path, vs_probe):
    name = bbguest
    log = tmp_path / "scripts.log"
    cg = cg2_dir(vs, name)
    for ph in PHASES:
        put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg))
    # a .d directory: after the PHASE file, by name, and a sourced (non-executable) file
    put_script(vs.cfg(name) / "scripts/pre-start.d/20-exec", recorder(log, cg))
    put_script(vs.cfg(name) / "scripts/pre-start.d/10-sourced",
               f'echo "sourced $1 $2 name=$VSERVER_NAME" >> \'{log}\'\n', mode=0o644)
    # only fds 0-2 (the probe lists what it inherited)
    fds = tmp_path / "fds"
    put_script(vs.cfg(name) / "scripts/pre-start.d/30-fds", f"#!/bin/sh\nexec '{vs_probe}' fds > '{fds}'\n")
    # a scriptlet calling vserver sees the same guests (the caller's VSERVER_* settings)
    put_script(vs.cfg(name) / "scripts/post-start.d/10-running",
               f"#!/bin/sh\n'{vs.bin}' \"$2\" running; echo \"running=$?\" >> '{log}'\n")
    r = vs.run([name, "start"], timeout=60)
    st = vs.state(name)
    lines = log_lines(log)
    assert phases_of(log) == ["initialize", "prepre-start", "pre-start", "sourced", "pre-start", "post-start",
                              "running=0"], (lines, r.stdout, r.stderr)
    init, prepre, pre, sourced, pre_d, post, _ = lines
    # arguments PHASE NAME; cwd: the configuration directory, then the guest root
    assert init.split("|")[0] == f"initialize {name}"
    assert sourced == f"sourced pre-start {name} name={name}"
    assert init.split("|")[1] == prepre.split("|")[1] == str(vs.cfg(name))
    assert pre.split("|")[1] == post.split("|")[1] == str(vs.root(name))
    # the cgroup is made between prepre-start and pre-start; PID 1 only in post-start
    assert field(init, "cg") == field(prepre, "cg") == "no"
    assert field(pre, "cg") == "yes" and field(pre, "pid") == ""
    assert field(post, "pid") == str(st["init"]) and field(post, "alive") == "yes"
    assert [ln.split()[0] for ln in fds.read_text().splitlines()] == ["0", "1", "2"], fds.read_text()
    for ln in lines[:3] + lines[4:6]:
        assert field(ln, "in") == "/dev/null" and field(ln, "umask") == "0022", ln
        assert field(ln, "ctx") == str(st["context"]) and field(ln, "dir") == str(vs.root(name)), ln
        assert field(ln, "path") == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ln
    assert field(pre, "phase") == "pre-start"
    log.unlink()
    vs.run([name, "stop"], timeout=60)
    lines = log_lines(log)
    assert phases_of(log) == ["pre-stop", "post-stop", "postpost-stop"], lines
    prestop, poststop, postpost = lines
    # pre-stop: the guest still runs; post-stop: its processes are gone but
    # its cgroup is still there; postpost-stop: everything is gone
    assert field(prestop, "pid") == str(st["init"]) and field(prestop, "alive") == "yes"
    assert field(poststop, "cg") == "yes" and field(poststop, "pid") == ""
    assert not pid_alive(st["init"], st["init_start"])
    assert field(postpost, "cg") == "no"
    assert_guest_gone(vs, name, st)


@pytest.mark.parametrize("phase", ["initialize", "prepre-start", "pre-start"])
def test_failing_start_scriptlet_fails_the_start_and_leaves_nothing(vs, bbguest, tmp_path, phase):
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts" / phase, "#!/bin/sh\necho 'no disk today' >&2\nexit 3\n")
    for ph in ("pre-start", "post-start", "post-stop", "postpost-stop"):
        if ph != phase:
            put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg2_dir(vs, name)))
    r = vs.run([name, "start"], check=1, timeout=60)
    script = vs.cfg(name) / "scripts" / phase
    assert f"{phase} scriptlet {script} exited with status 3" in r.stderr, r.stderr
    assert "no disk today" in r.stderr  # the scriptlet's own output reaches the admin
    assert phases_of(log) == [], log_lines(log)  # nothing after it, no stop scriptlets
    assert_guest_gone(vs, name)
    assert not (vs.rundir / name / "net").exists()
    # and the guest starts once the scriptlet is fixed
    put_script(script, "#!/bin/sh\nexit 0\n")
    start(vs, name)


def test_failing_post_start_stops_the_guest_again(vs, bbguest, tmp_path):
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts/post-start", "#!/bin/sh\nexit 1\n")
    for ph in ("pre-stop", "post-stop", "postpost-stop"):
        put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg2_dir(vs, name)))
    r = vs.run([name, "start"], check=1, timeout=60)
    assert "stopped again" in r.stderr and "post-start scriptlet" in r.stderr and "status 1" in r.stderr, r.stderr
    assert phases_of(log) == ["pre-stop", "post-stop", "postpost-stop"]
    assert_guest_gone(vs, name)


def test_failing_stop_scriptlets_are_warnings(vs, bbguest, tmp_path):
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts/pre-stop", "#!/bin/sh\nexit 4\n")
    put_script(vs.cfg(name) / "scripts/post-stop.d/10-fails", "#!/bin/sh\nkill -9 $$\n")
    put_script(vs.cfg(name) / "scripts/post-stop.d/20-runs", recorder(log, cg2_dir(vs, name)))
    st = start(vs, name)
    r = vs.run([name, "stop"], timeout=60)
    assert "warning: pre-stop scriptlet" in r.stdout and "exited with status 4" in r.stdout, r.stdout
    assert "post-stop scriptlet" in r.stdout and "killed by signal 9" in r.stdout, r.stdout
    assert phases_of(log) == ["post-stop"]  # the others ran after the failure
    assert_guest_gone(vs, name, st)


def test_guest_that_halts_itself_runs_the_stop_scriptlets_from_its_monitor(vs, bbguest, tmp_path):
    name = bbguest
    log = tmp_path / "scripts.log"
    cg = cg2_dir(vs, name)
    for ph in ("pre-stop", "post-stop", "postpost-stop"):
        put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg, extra=f"echo 'output of {ph}'"))
    st = start(vs, name)
    wait_guest_up(vs, name)
    gx(vs, name, "/sbin/poweroff", "-f", check=None, timeout=30)
    assert wait_until(lambda: vs.state(name) is None, 15), (vs.rundir / name / "console.log").read_text()[-2000:]
    # no pre-stop: the guest stopped by itself, nobody asked first
    assert phases_of(log) == ["post-stop", "postpost-stop"], log_lines(log)
    post, postpost = log_lines(log)
    assert field(post, "cg") == "yes" and field(postpost, "cg") == "no"
    # their output is in the console log
    console = (vs.rundir / name / "console.log").read_text()
    assert "output of post-stop" in console and "output of postpost-stop" in console
    assert_guest_gone(vs, name, st)


def test_a_reboot_inside_the_guest_runs_no_scriptlets(vs, bbguest, tmp_path):
    name = bbguest
    log = tmp_path / "scripts.log"
    for ph in PHASES:
        put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg2_dir(vs, name)))
    st = start(vs, name)
    wait_guest_up(vs, name)
    log.unlink()
    gx(vs, name, "/sbin/reboot", "-f", check=None, timeout=30)
    assert wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, st["init"]), 10)
    wait_guest_up(vs, name)
    assert phases_of(log) == []


def test_defaults_run_unless_the_guest_has_its_own(vs, busybox_rootfs_tarball, tmp_path):
    log = tmp_path / "scripts.log"
    for g in ("da", "db", "dc"):
        vs.build(g, method="template", margs=("-t", busybox_rootfs_tarball), timeout=120)
    put_script(vs.confdir / ".defaults/scripts/pre-start", f"#!/bin/sh\necho \"default $2\" >> '{log}'\n")
    # db has its own: the default is skipped
    put_script(vs.cfg("db") / "scripts/pre-start", f"#!/bin/sh\necho \"own $2\" >> '{log}'\n")
    # dc has its own, sourced, which asks for the defaults as well
    put_script(vs.cfg("dc") / "scripts/pre-start",
               f"echo \"own $2\" >> '{log}'\nDONT_SKIP_DEFAULTS=1\n", mode=0o644)
    for g in ("da", "db", "dc"):
        vs.run([g, "start"], timeout=60)
    assert log_lines(log) == ["default da", "own db", "own dc", "default dc"]
    cfg = vs.config_json("dc")["scripts"]["pre-start"]
    assert [(e["path"], e["run"], e["default"]) for e in cfg] == [
        (str(vs.confdir / ".defaults/scripts/pre-start"), "executed", True),
        (str(vs.cfg("dc") / "scripts/pre-start"), "sourced", False)]
    for g in ("da", "db", "dc"):
        vs.run([g, "stop"], timeout=60)


def test_scriptlets_that_others_could_change_are_refused(vs, bbguest, tmp_path):
    """HS-09: a scriptlet runs as host root, so it, its directory and, for a
    link, every directory on the way to the target must be root's alone."""
    name = bbguest
    log = tmp_path / "scripts.log"
    script = vs.cfg(name) / "scripts/pre-start"
    put_script(script, f"#!/bin/sh\necho ran >> '{log}'\n")
    script.chmod(0o775)
    r = vs.run([name, "start"], check=2, timeout=60)
    assert str(script) in r.stderr and "not trusted" in r.stderr and "chmod go-w" in r.stderr, r.stderr
    script.chmod(0o755)
    (vs.cfg(name) / "scripts").chmod(0o777)
    r = vs.run([name, "start"], check=2, timeout=60)
    assert str(vs.cfg(name) / "scripts") in r.stderr and "not trusted" in r.stderr, r.stderr
    (vs.cfg(name) / "scripts").chmod(0o755)
    # a link into a directory anyone may write to (not sticky)
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    put_script(open_dir / "pre-start", f"#!/bin/sh\necho ran >> '{log}'\n")
    script.unlink()
    script.symlink_to(open_dir / "pre-start")
    r = vs.run([name, "start"], check=2, timeout=60)
    assert str(open_dir) in r.stderr and "not trusted" in r.stderr and "scripts/pre-start" in r.stderr, r.stderr
    assert not log.exists()
    assert vs.state(name) is None and vs.cgroup_dirs(name) == []
    # a link into root's own directory is fine (the sticky /tmp on the way too)
    safe = tmp_path / "safe"
    safe.mkdir(mode=0o755)
    put_script(safe / "pre-start", f"#!/bin/sh\necho \"ran $0\" >> '{log}'\n")
    script.unlink()
    script.symlink_to(safe / "pre-start")
    vs.run([name, "start"], timeout=60)
    assert log_lines(log) == [f"ran {script}"]  # run by the link's name, as util-vserver did


@pytest.mark.parametrize("entry,kind,message", [
    ("scripts/pre-strat", "file", "unknown scriptlet phase 'pre-strat'; the phases are initialize, prepre-start"),
    ("scripts/post-stop.d/10-dir", "dir", "is not a regular file"),
    ("scripts/pre-start.d", "file", "must be a directory of scriptlets"),
    ("scripts", "file", "must be a directory of scriptlets"),
])
def test_check_names_bad_scriptlet_entries(vs, bbguest, entry, kind, message):
    name = bbguest
    p = vs.cfg(name) / entry
    p.parent.mkdir(parents=True, exist_ok=True)
    if kind == "dir":
        p.mkdir()
    else:
        put_script(p, "#!/bin/sh\n")
    r = vs.run([name, "check"], check=2, timeout=30)
    assert entry in r.stdout + r.stderr and message in r.stdout + r.stderr, (r.stdout, r.stderr)
    r = vs.run([name, "start"], check=2, timeout=60)
    assert message in r.stderr
    assert_guest_gone(vs, name)


def test_pre_start_prepares_a_host_folder_that_fstab_shares(vs, bbguest, tmp_path):
    """The safe way to give a guest something from the host: pre-start
    prepares a host folder, the guest's fstab binds it (resolved inside the
    guest root, C3), post-stop removes what pre-start made.  (A scriptlet
    must not mount or write below $VSERVER_DIR itself: that tree is the
    guest's, and a link planted there would redirect host root.)"""
    name = bbguest
    share = tmp_path / "share"
    share.mkdir(mode=0o755)
    (vs.root(name) / "srv/data").mkdir(parents=True)
    (vs.cfg(name) / "fstab").write_text(f"{share} /srv/data none bind,ro 0 0\n")
    put_script(vs.cfg(name) / "scripts/pre-start", f"#!/bin/sh\necho \"hello $2\" > '{share}/greeting'\n")
    put_script(vs.cfg(name) / "scripts/post-stop", f"#!/bin/sh\nrm '{share}/greeting'\n")
    start(vs, name)
    assert gx(vs, name, "/t", "cat", "/srv/data/greeting").stdout == f"hello {name}\n"
    vs.run([name, "stop"], timeout=60)
    assert not (share / "greeting").exists()


def test_exec_from_post_start_and_pre_stop_is_not_blocked_by_the_lock(vs, bbguest, tmp_path):
    """util-vserver's classic pre-stop: `vserver $2 exec` a dump before the
    guest goes down.  The start or stop holds the guest's lock meanwhile; its
    scriptlets' exec must not wait for it."""
    name = bbguest
    log = tmp_path / "scripts.log"
    for ph in ("post-start", "pre-stop"):
        put_script(vs.cfg(name) / "scripts" / ph,
                   f"#!/bin/sh\ntimeout 20 '{vs.bin}' \"$2\" exec /t pid >> '{log}'; echo \"$1 rc=$?\" >> '{log}'\n")
    t0 = time.monotonic()
    start(vs, name)
    vs.run([name, "stop"], timeout=60)
    lines = log_lines(log)
    assert [ln for ln in lines if "rc=" in ln] == ["post-start rc=0", "pre-stop rc=0"], lines
    assert lines[0].isdigit() and lines[2].isdigit(), lines   # the probe's pid in the guest
    assert time.monotonic() - t0 < 15


def test_links_that_anyone_but_root_could_redirect_are_refused(vs, bbguest, tmp_path):
    """Every step of a scriptlet link is checked as execve would follow it:
    a directory of another user on the way (even behind '..'), or a target
    inside a guest root (the guest's root can change it), is refused."""
    name = bbguest
    log = tmp_path / "scripts.log"
    good_dir = tmp_path / "rootbin"
    good_dir.mkdir(mode=0o755)
    put_script(good_dir / "good", f"#!/bin/sh\necho good >> '{log}'\n")
    alice = tmp_path / "alice"
    (alice / "sub").mkdir(parents=True)
    os.chown(alice, 65534, 65534)
    (alice / "hook").symlink_to(good_dir / "good")
    script = vs.cfg(name) / "scripts/pre-start"
    script.parent.mkdir()
    for target in (alice / "hook", f"{alice}/sub/../../rootbin/good"):
        if script.is_symlink():
            script.unlink()
        script.symlink_to(target)
        r = vs.run([name, "start"], check=2, timeout=60)
        assert f"{alice}: owner uid 65534" in r.stderr and "scripts/pre-start" in r.stderr, r.stderr
        assert not log.exists() and vs.state(name) is None
    # a target in the guest's own tree
    put_script(vs.root(name) / "usr/local/sbin/hook", "#!/bin/sh\n")
    script.unlink()
    script.symlink_to(vs.root(name) / "usr/local/sbin/hook")
    r = vs.run([name, "start"], check=2, timeout=60)
    assert f"is {vs.vdirbase}, whose files guests can change" in r.stderr, r.stderr
    # the same tree through another path (a link to the vdirbase), and
    # another guest's root wherever --rootdir put it
    alias = tmp_path / "alias"
    alias.symlink_to(vs.vdirbase)
    script.unlink()
    script.symlink_to(alias / name / "usr/local/sbin/hook")
    r = vs.run([name, "start"], check=2, timeout=60)
    assert "whose files guests can change" in r.stderr, r.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    vs.build("other", "--rootdir", str(elsewhere))
    put_script(elsewhere / "other/hook", "#!/bin/sh\n")
    script.unlink()
    script.symlink_to(elsewhere / "other/hook")
    r = vs.run([name, "start"], check=2, timeout=60)
    assert f"is {elsewhere / 'other'}, whose files guests can change" in r.stderr, r.stderr
    # /proc's links lead where readlink does not say (/proc/PID/root of a guest)
    script.unlink()
    script.symlink_to(f"/proc/{os.getpid()}/root{good_dir}/good")
    r = vs.run([name, "start"], check=2, timeout=60)
    assert "on /proc, which a scriptlet may not go through" in r.stderr, r.stderr
    # the same chain, root's alone, is fine
    script.unlink()
    script.symlink_to(f"{tmp_path}/rootbin/../rootbin/good")
    start(vs, name)
    assert log_lines(log) == ["good"]


def test_exec_from_post_stop_does_not_wait_for_the_lock(vs, bbguest, tmp_path):
    """post-stop runs under the lock of its monitor (or of the stop waiting
    for it): a scriptlet's `vserver NAME exec` there says "not running" at
    once instead of waiting for that lock."""
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts/post-stop",
               f"#!/bin/sh\ntimeout 20 '{vs.bin}' \"$2\" exec /t pid 2>/dev/null; echo \"rc=$?\" >> '{log}'\n")
    for how in ("stop", "poweroff"):
        st = start(vs, name)
        wait_guest_up(vs, name)
        t0 = time.monotonic()
        if how == "stop":
            vs.run([name, "stop"], timeout=60)
        else:
            gx(vs, name, "/sbin/poweroff", "-f", check=None, timeout=30)
        assert wait_until(lambda: vs.state(name) is None, 15)
        assert time.monotonic() - t0 < 10, how
        assert_guest_gone(vs, name, st)
    assert log_lines(log) == ["rc=125", "rc=125"]            # could not run (not running), no timeout (124)


def test_a_stop_that_reaches_its_kill_sequence_still_waits_for_post_stop(vs, bbguest, tmp_path):
    """A guest process that ignores SIGTERM makes stop kill; once the guest
    is down, its monitor in post-stop is waited for, not killed."""
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts/post-stop", f"#!/bin/sh\nsleep 4\necho post-stop-done >> '{log}'\n")
    put_script(vs.cfg(name) / "scripts/postpost-stop", f"#!/bin/sh\necho postpost-done >> '{log}'\n")
    (vs.cfg(name) / "apps/init").mkdir(parents=True, exist_ok=True)
    (vs.cfg(name) / "apps/init/killseq").write_text("9\n")
    st = start(vs, name)
    wait_guest_up(vs, name)
    p = vs.popen([name, "exec", "/t", "pid1-wait"])     # a process of the guest; holds on
    try:
        r = vs.run([name, "stop", "--timeout", "0"], timeout=60)
    finally:
        p.kill()
        p.wait(timeout=30)
    assert "waiting for its stop scriptlets" in r.stdout, r.stdout
    assert log_lines(log) == ["post-stop-done", "postpost-done"]
    assert_guest_gone(vs, name, st)


def test_a_stop_during_the_monitors_stop_scriptlets_waits_for_them(vs, bbguest, tmp_path):
    """The guest powers off; while its monitor runs post-stop, a host stop
    comes: it waits, and no scriptlet runs twice or out of order."""
    name = bbguest
    log = tmp_path / "scripts.log"
    cg = cg2_dir(vs, name)
    for ph in ("pre-stop", "postpost-stop"):
        put_script(vs.cfg(name) / "scripts" / ph, recorder(log, cg))
    put_script(vs.cfg(name) / "scripts/post-stop", recorder(log, cg, extra="sleep 2"))
    st = start(vs, name)
    wait_guest_up(vs, name)
    gx(vs, name, "/sbin/poweroff", "-f", check=None, timeout=30)
    assert wait_until(lambda: phases_of(log) == ["post-stop"], 10)
    r = vs.run([name, "stop"], timeout=60)
    assert "is not running" in r.stdout, r.stdout
    assert phases_of(log) == ["post-stop", "postpost-stop"], log_lines(log)
    assert_guest_gone(vs, name, st)


def test_a_killed_stop_still_gets_the_guest_torn_down(vs, bbguest, tmp_path):
    """The monitor, not the stop command, runs post-stop, removes the cgroup
    and the network and runs postpost-stop: killing `vserver stop` midway
    loses none of it."""
    name = bbguest
    log = tmp_path / "scripts.log"
    cg = cg2_dir(vs, name)
    put_script(vs.cfg(name) / "scripts/post-stop", recorder(log, cg, extra="sleep 1"))
    put_script(vs.cfg(name) / "scripts/postpost-stop", recorder(log, cg))
    st = start(vs, name)
    wait_guest_up(vs, name)
    p = vs.popen([name, "stop"])
    try:
        assert wait_until(lambda: phases_of(log) == ["post-stop"], 15)
    finally:
        p.kill()
        p.wait(timeout=30)
    assert wait_until(lambda: phases_of(log) == ["post-stop", "postpost-stop"], 15), log_lines(log)
    assert wait_until(lambda: vs.state(name) is None, 10)
    assert_guest_gone(vs, name, st)


def test_a_stop_waits_for_slow_stop_scriptlets_beyond_its_timeout(vs, bbguest, tmp_path):
    """The timeout is the guest's: post-stop scriptlets (no time limit) are
    not killed with it."""
    name = bbguest
    log = tmp_path / "scripts.log"
    put_script(vs.cfg(name) / "scripts/post-stop", f"#!/bin/sh\nsleep 3\necho slow-done >> '{log}'\n")
    st = start(vs, name)
    wait_guest_up(vs, name)
    r = vs.run([name, "stop", "--timeout", "1"], timeout=60)
    assert "waiting for its stop scriptlets" in r.stdout, r.stdout
    assert log_lines(log) == ["slow-done"]
    assert_guest_gone(vs, name, st)
