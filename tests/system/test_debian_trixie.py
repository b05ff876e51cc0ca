"""A real Debian 13 (trixie) guest with systemd 257: the current Debian
stable, which mounts a tmpfs on /tmp through systemd's own tmp.mount.
The guest's systemd has no CAP_SYS_ADMIN, so that mount failed and the
guest booted "degraded"; vserver now mounts it for the guest, with the
unit's options, and leaves it alone when the unit is masked
(lib/sdguest.h).  At shutdown the guest's systemd no longer tries to
unmount what vserver mounted ("Failed unmounting run-lock.mount").
Uses the session's trixie guest through the template method, so each test
has its own copy."""
import os

import pytest

from test_debian import systemd_guest, wait_running

pytestmark = pytest.mark.slow


def x(vs, name, *argv, check=0, timeout=60):
    return vs.run([name, "exec", "-T", *argv], check=check, timeout=timeout)


def tmp_mount(vs, name):
    """(fstype, options) of /tmp in the guest, or None when it is no mount point"""
    r = x(vs, name, "findmnt", "-n", "-o", "FSTYPE,OPTIONS", "--mountpoint", "/tmp", check=None)
    return tuple(r.stdout.split()) if r.returncode == 0 else None


def boot(vs, name):
    vs.run([name, "start"], timeout=60)
    state, r = wait_running(vs, name)
    failed = x(vs, name, "systemctl", "--failed", "--no-legend", "--plain", check=None).stdout
    assert state == "running", (state, r.stderr, failed)
    assert failed.strip() == ""


@pytest.fixture
def trx(vs, trixie_systemd_tarball):
    yield from systemd_guest(vs, "trx", trixie_systemd_tarball)


def test_trixie_boots_to_running_with_tmp_on_tmpfs(vs, trx):
    assert (vs.root(trx) / "usr/lib/systemd/system/local-fs.target.wants/tmp.mount").exists()
    boot(vs, trx)
    assert x(vs, trx, "systemctl", "is-active", "tmp.mount").stdout.strip() == "active"
    fstype, opts = tmp_mount(vs, trx)
    # tmp.mount's own options: nr_inodes=1m, nosuid, nodev, mode 1777
    assert fstype == "tmpfs" and "nr_inodes=1048576" in opts and "nosuid" in opts and "nodev" in opts, opts
    assert x(vs, trx, "stat", "-c", "%a", "/tmp").stdout.strip() == "1777"
    # what is written there lives in memory, not on the guest's disk
    x(vs, trx, "touch", "/tmp/in-memory")
    assert not (vs.root(trx) / "tmp" / "in-memory").exists()


def test_trixie_tmp_follows_the_guests_unit(vs, trx):
    """The admin's `systemctl edit tmp.mount` (a drop-in) sets the size; a
    drop-in asking for something an fstab line may not have falls back to
    the defaults with a warning on the console; `systemctl mask tmp.mount`
    keeps /tmp on the disk, as on a real machine."""
    dropins = vs.root(trx) / "etc/systemd/system/tmp.mount.d"
    dropins.mkdir(parents=True)
    (dropins / "override.conf").write_text("[Mount]\nOptions=mode=1777,size=8m,nosuid,nodev\n")
    boot(vs, trx)
    fstype, opts = tmp_mount(vs, trx)
    assert fstype == "tmpfs" and "size=8192k" in opts, opts
    vs.run([trx, "stop"], timeout=120)

    # refused by vserver (setuid programs on /tmp), or by the kernel (a
    # size it cannot parse): the defaults, a warning, and the guest boots
    for bad, why in (("mode=1777,suid", "'suid' refused"), ("size=lots", "Invalid argument")):
        (dropins / "override.conf").write_text(f"[Mount]\nOptions={bad}\n")
        boot(vs, trx)
        fstype, opts = tmp_mount(vs, trx)
        assert fstype == "tmpfs" and "nosuid" in opts and "nr_inodes=1048576" in opts, opts
        log = (vs.rundir / trx / "console.log").read_text(errors="replace")
        assert "vserver: warning: the guest's tmp.mount" in log and why in log, log[-2000:]
        vs.run([trx, "stop"], timeout=120)

    os.symlink("/dev/null", vs.root(trx) / "etc/systemd/system/tmp.mount")
    boot(vs, trx)
    assert tmp_mount(vs, trx) is None
    x(vs, trx, "touch", "/tmp/on-disk")
    assert (vs.root(trx) / "tmp" / "on-disk").exists()


def test_trixie_shutdown_leaves_vservers_mounts(vs, trx, host_dir):
    """systemd 257 tried to unmount /run/lock (its run-lock.mount), /tmp
    and the shared folders at every shutdown, and logged "Failed
    unmounting" for each: the guest cannot; vserver does, after."""
    shared = host_dir / "shared"
    shared.mkdir()
    (vs.cfg(trx) / "fstab").write_text(f"{shared} /srv/shared none bind,rw 0 0\n"
                                       "none /tmp/.X11-unix tmpfs size=1m,mode=1777 0 0\n")
    boot(vs, trx)
    assert x(vs, trx, "systemctl", "is-active", "run-lock.mount", "tmp.mount", "srv-shared.mount",
             "tmp-.X11\\x2dunix.mount").stdout.split() == ["active"] * 4
    # the fstab mount below /tmp is on top of vserver's /tmp, not hidden by it
    assert "size=1024k" in x(vs, trx, "findmnt", "-n", "-o", "OPTIONS", "/tmp/.X11-unix").stdout
    r = vs.run([trx, "stop", "--timeout", "60"], timeout=180)
    assert "did not stop" not in r.stdout, r.stdout
    assert vs.cgroup_dirs(trx) == []
    boot(vs, trx)
    j = x(vs, trx, "journalctl", "-b", "-1", "--no-pager", "-o", "cat").stdout
    assert "Reached target umount.target" in j or "Reached target shutdown.target" in j, j[-3000:]
    assert "Failed unmounting" not in j and "must be superuser to unmount" not in j, \
        [ln for ln in j.splitlines() if "mount" in ln.lower()]
