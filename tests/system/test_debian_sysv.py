"""A real Debian 12 guest with sysvinit (issue 3): in the sysv style
(vserver-init runs its rc 3) and in the plain style (its own /sbin/init),
its daemons start, invoke-rc.d (apt's way to start a package's daemon)
knows the runlevel, and the guest's own reboot, halt and shutdown
restart or stop it through an orderly rc 6 / rc 0; `vserver stop` is
quick and clean.
Uses the session's debootstrap guest (minbase plus sysvinit-core and
cron) through the template method, so each test has its own copy."""
import time

import pytest

from conftest import wait_until

pytestmark = pytest.mark.slow


def x(vs, name, *argv, check=0, timeout=60):
    return vs.run([name, "exec", "-T", *argv], check=check, timeout=timeout)


def cron_up(vs, name, timeout=20):
    return wait_until(lambda: x(vs, name, "pidof", "cron", check=None).returncode == 0, timeout, interval=0.1)


def console(vs, name):
    return (vs.rundir / name / "console.log").read_text(errors="replace")


def wait_new_init(vs, name, before, timeout=30):
    ok = wait_until(lambda: (vs.state(name) or {}).get("init") not in (None, before["init"]), timeout)
    after = vs.state(name)
    assert ok and after["monitor"] == before["monitor"], (before, after, console(vs, name)[-2000:])
    return after


def wait_stopped(vs, name, timeout=30):
    ok = wait_until(lambda: vs.run([name, "running"], check=None).returncode == 1, timeout)
    assert ok, console(vs, name)[-2000:]
    assert vs.state(name) is None and vs.cgroup_dirs(name) == []


@pytest.fixture
def dsv(vs, debian_sysvinit_tarball):
    vs.build("dsv", method="template", margs=["-t", str(debian_sysvinit_tarball)], timeout=900)
    yield "dsv"
    vs.run(["dsv", "stop", "--timeout", "20"], check=False, timeout=120)


def test_sysvinit_guest_in_the_sysv_style(vs, dsv):
    """Detected as sysv: vserver-init runs rc 3; sysvinit's own reboot
    and shutdown reach it through /run/initctl (before: "/run/initctl: No
    such file or directory", and the guest went on running)."""
    assert vs.config_json(dsv)["init"]["style"] == "sysv"
    vs.run([dsv, "start"], timeout=60)
    assert cron_up(vs, dsv)
    # bootlogs (dmesg into /var/log/dmesg) is disabled: a guest cannot read the kernel's log
    assert "read kernel buffer failed" not in console(vs, dsv)
    assert x(vs, dsv, "runlevel").stdout.strip() == "N 3"
    # what apt runs for a package's daemon: it acts only in a known
    # runlevel (before: "could not determine current runlevel", and no
    # installed or upgraded service was ever started)
    r = x(vs, dsv, "invoke-rc.d", "cron", "restart")
    assert "Starting periodic command scheduler" in r.stdout and "runlevel" not in r.stderr, (r.stdout, r.stderr)
    before = vs.state(dsv)
    # (its exit status may be PID 1's SIGTERM to everything after rc 6)
    r = x(vs, dsv, "reboot", check=None)
    assert "initctl" not in r.stderr and "runlevel" not in r.stderr, r.stderr
    wait_new_init(vs, dsv, before)
    assert cron_up(vs, dsv)
    log = console(vs, dsv)
    assert "boot in runlevel 6" in log and "reboot requested inside the guest: restarting" in log, log[-2000:]
    r = x(vs, dsv, "shutdown", "-h", "now", check=None)
    assert "initctl" not in r.stderr, r.stderr
    wait_stopped(vs, dsv)
    assert console(vs, dsv).rstrip().endswith("[vserver] PID 1 exited with status 0")
    # and the host's stop: rc 6, then a clean exit
    vs.run([dsv, "start"], timeout=60)
    assert cron_up(vs, dsv)
    t0 = time.monotonic()
    r = vs.run([dsv, "stop"], timeout=60)
    assert time.monotonic() - t0 < 20 and "did not stop" not in r.stdout, r.stdout
    assert console(vs, dsv).rstrip().endswith("[vserver] PID 1 exited with status 0")


def test_sysvinit_guest_switched_to_the_plain_style(vs, dsv):
    """The sysv post-install removed halt and reboot from rc0.d / rc6.d;
    switched to plain, the guest's own init would hang in runlevel 0 (stop
    waits its timeout) or 6 (sulogin): check and start say so and how to
    restore them.  Restored, the guest reboots and halts as sysvinit does."""
    (vs.cfg(dsv) / "apps" / "init" / "style").write_text("plain\n")
    r = vs.run([dsv, "check"])
    assert "/etc/rc0.d has no halt script" in r.stdout and "/etc/rc6.d has no reboot script" in r.stdout, r.stdout
    assert "running guest with: vserver dsv exec update-rc.d halt defaults" in r.stdout, r.stdout
    r = vs.run([dsv, "start"], timeout=60)
    assert "warning: /etc/rc0.d has no halt script" in r.stdout + r.stderr, (r.stdout, r.stderr)
    # the plain style's start does not wait for the boot (sysvinit reports
    # nothing): update-rc.d (insserv renames the rc?.d links) while rc 2
    # still walks them can make it miss cron, so the boot first
    assert cron_up(vs, dsv), console(vs, dsv)[-2000:]
    for svc in ("halt", "reboot"):
        x(vs, dsv, "update-rc.d", svc, "defaults")
    r = vs.run([dsv, "check"])
    assert "warning" not in r.stdout, r.stdout
    assert x(vs, dsv, "runlevel").stdout.strip() == "N 2"
    before = vs.state(dsv)
    x(vs, dsv, "reboot", check=None)
    wait_new_init(vs, dsv, before)
    assert cron_up(vs, dsv)
    assert "Will now restart." in console(vs, dsv)
    t0 = time.monotonic()
    r = vs.run([dsv, "stop"], timeout=60)
    assert time.monotonic() - t0 < 20 and "did not stop" not in r.stdout, r.stdout
    log = console(vs, dsv)
    assert "Will now halt." in log and log.rstrip().endswith("[vserver] PID 1 ended by signal 2 (Interrupt)"), \
        log[-2000:]
