# SPDX-License-Identifier: GPL-2.0-or-later
"""Table-driven negative tests for the configuration tree (issue 2,
security-catalogue.md section 3).

For every bad input: write it into a guest made with `build -m skeleton`,
run `vserver NAME check` (and `config`): exit 2, the message names the
file (and line where there is one) and the bad value, and nothing on disk
changed.  The same bad values given as build options fail with exit 2 and
leave no guest behind.
"""
import os
import stat

import pytest

from conftest import assert_no_guest, snapshot_diff

G = "g"
OTHER = "other"
OTHER_CONTEXT = "4242"
OTHER_IP = "192.0.2.77"


class Case:
    def __init__(self, id, rel, content=None, line=None, expect=(), make=None, files=None, other=False,
                 remove=(), xfail=None, cross=False):
        self.id = id
        self.rel = rel            # the file the message must name (relative to the config dir)
        self.content = content    # str or bytes written to rel (None: `make` does it)
        self.line = line          # line number the message must carry (None: no line)
        self.expect = (expect,) if isinstance(expect, str) else tuple(expect)
        self.make = make          # callable(path) that creates rel
        self.files = files or {}  # other files written first (valid values)
        self.other = other        # a second guest OTHER (context 4242, address 192.0.2.77) is needed
        self.remove = remove      # files removed from the clean guest
        self.xfail = xfail
        self.cross = cross        # a conflict with other guests: only `check` looks across guests

    def param(self):
        marks = [pytest.mark.xfail(reason=self.xfail, strict=True)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


def fifo(p):
    os.mkfifo(p)


def null_device(p):
    os.mknod(p, stat.S_IFCHR | 0o644, os.makedev(1, 3))


def link_dev_zero(p):
    os.symlink("/dev/zero", p)


def link_host_file(p):
    os.symlink("/etc/hostname", p)


def sym_to(target):
    return lambda p: os.symlink(target, p)


def huge(p):
    p.write_bytes(b"1" * (64 * 1024 + 10))


def sparse_10g(p):
    with open(p, "wb") as f:
        f.truncate(10 << 30)


def directory(p):
    p.mkdir()
    (p / "x").write_text("1\n")


IFACE_OK = {"interfaces/0/ip": "192.0.2.5\n"}

CASES = [
    # ---- context ---------------------------------------------------------
    *[Case(f"context-{i}", "context", v + "\n", 1, f"'{v}'") for i, v in enumerate([
        "abc", "010", "05", "0x10", "0X1F", "-5", "+5", "0", "1", "49152", "65535", "4294967296",
        "18446744073709551617", "1e3", "5.0", "5a", "٣"])],
    Case("context-empty", "context", "", 1, "empty value"),
    Case("context-only-newline", "context", "\n", 1, "empty value"),
    Case("context-leading-blank", "context", " 5\n", 1, "' 5'"),
    Case("context-trailing-blank", "context", "5 \n", 1, "'5 '"),
    Case("context-tab", "context", "5\t\n", 1, "'5\t'"),
    Case("context-two-lines", "context", "5\n6\n", 2, "'6'"),
    Case("context-crlf", "context", "40000\r\n", 1, "carriage return"),
    Case("context-missing", "context", None, None, "missing", make=lambda p: None, remove=("context",)),
    Case("context-used-by-other", "context", OTHER_CONTEXT + "\n", 1, ("already used", f"'{OTHER}'"),
         other=True, cross=True),
    # ---- names (display name, and guest names in apps/init/depends) --------
    *[Case(f"depends-{i}", "apps/init/depends", "# first line is a comment\n" + v + "\n", 2, exp)
      for i, (v, exp) in enumerate([
          ("a/b", "'a/b'"), ("..", "'..'"), (".", "'.'"), ("../x", "'../x'"), ("/abs", "'/abs'"),
          ("a b", "'a b'"), ("-rf", "'-rf'"), ("Web", "'Web'"), ("abcdefghijklm", "'abcdefghijklm'"),
          ("a\x01b", "control character 0x01"), ("a\x1b[0mb", "control character 0x1b"),
          ("a\x7fb", "control character 0x7f")])],
    Case("depends-self", "apps/init/depends", G + "\n", 1, "itself"),
    Case("depends-twice", "apps/init/depends", f"{OTHER}\n{OTHER}\n", 2, "twice", other=True),
    Case("depends-unknown-guest", "apps/init/depends", "nosuch\n", None, "'nosuch'", cross=True),
    Case("name-too-long", "name", "n" * 65 + "\n", 1, "65 characters"),
    Case("name-control", "name", "a\x1bb\n", 1, "control character 0x1b"),
    # ---- host names ---------------------------------------------------------
    *[Case(f"nodename-{i}", "uts/nodename", v + "\n", 1, exp) for i, (v, exp) in enumerate([
        ("a..b", "'a..b'"), ("-a", "'-a'"), ("a-", "'a-'"), ("a_b", "'a_b'"), ("a b", "'a b'"),
        ("x" * 65, "'" + "x" * 65 + "'"), ("a" * 64, "label longer than 63"), ("a.", "'a.'"),
        (".a", "'.a'"), ("a/b", "'a/b'"), ("ä", "host name")])],
    Case("nodename-empty", "uts/nodename", "", 1, "empty value"),
    Case("nodename-two-lines", "uts/nodename", "a\nb\n", 2, "'b'"),
    Case("nodename-control", "uts/nodename", "a\x1bb\n", 1, "control character 0x1b"),
    Case("domainname-bad", "uts/domainname", "bad_domain\n", 1, "'bad_domain'"),
    Case("machine-bad", "uts/machine", "sparc64\n", 1, "'sparc64'"),
    Case("machine-i386", "uts/machine", "i386\n", 1, "'i386'"),
    # ---- capabilities --------------------------------------------------------
    *[Case(f"bcaps-{i}", "bcapabilities", "# caps\nCHOWN\n" + v + "\n", 3, f"'{v}'")
      for i, v in enumerate(["CAP_FOO", "FOO", "~CAP_BAR", "!BAR", "41", "ALL", "CAP_", "~", "cap_sys admin"])],
    *[Case(f"bcaps-forbidden-{i}", "bcapabilities", v + "\n", 1, "cannot be granted")
      for i, v in enumerate(["SYS_ADMIN", "CAP_SYS_MODULE", "sys_rawio", "DAC_READ_SEARCH", "BPF", "PERFMON",
                             "MAC_ADMIN"])],
    *[Case(f"bcaps-forbidden-catalogue-{v}", "bcapabilities", v + "\n", 1, "cannot be granted")
      for v in ("SYS_TIME", "SYSLOG")],
    # SYS_PTRACE in the host's user namespace reaches vserver's joining process
    Case("bcaps-ptrace-without-userns", "bcapabilities", "SYS_PTRACE\n", None, "user-namespace guest"),
    # ---- fstab ----------------------------------------------------------------
    *[Case(f"fstab-{i}", "fstab", "# comment\n\n" + v + "\n", 3, exp) for i, (v, exp) in enumerate([
        ("none /tmp", "2 fields"),
        ("none", "1 field"),
        ("a /b tmpfs defaults 0 0 x", "too many fields"),
        ("none tmp tmpfs defaults 0 0", "'tmp'"),
        ("/srv /mnt/../../etc none bind 0 0", "'..'"),
        ("none / tmpfs defaults 0 0", "'/'"),
        ("none /proc/sys tmpfs defaults 0 0", "'/proc/sys'"),
        ("none /sys/fs/cgroup tmpfs defaults 0 0", "'/sys/fs/cgroup'"),
        ("none /dev/sda tmpfs defaults 0 0", "'/dev/sda'"),
        ("/ /mnt none rbind 0 0", "'/'"),
        ("/srv /mnt none bind,suid 0 0", "'suid'"),
        ("/srv /mnt none bind,dev 0 0", "'dev'"),
        ("/srv /mnt none bind,shared 0 0", "'shared'"),
        ("/srv /mnt none rbind,rshared 0 0", "'rshared'"),
        ("none /tmp tmpfs ro,rw 0 0", "'ro' and 'rw'"),
        ("none /tmp tmpfs bogusopt 0 0", "'bogusopt'"),
        ("none /tmp tmpfs size 0 0", "'size'"),
        ("none /tmp tmpfs size= 0 0", "'size='"),
        ("none /tmp bogusfs defaults 0 0", "'bogusfs'"),
        ("proc /mnt proc defaults 0 0", "/proc"),
        ("sysfs /mnt sysfs defaults 0 0", "/sys"),
        ("none /tmp tmpfs defaults 0 3", "'3'"),
        ("none /tmp tmpfs defaults x 0", "'x'"),
        ("none /a\\x tmpfs defaults 0 0", "escape"),
        ("none /a\\000 tmpfs defaults 0 0", "NUL"),
        ("srv /mnt none bind 0 0", "'srv'"),
        ("none /mnt/\\056\\056/etc tmpfs defaults 0 0", "'..'"),
        ("none /t\x01 tmpfs defaults 0 0", "control character 0x01"),
        ("/proc /mnt none bind 0 0", "'/proc'"),
        ("//proc/sys /mnt none rbind 0 0", "'//proc/sys'"),
        ("/sys /mnt none bind 0 0", "'/sys'"),
        ("/dev/sda /mnt none bind 0 0", "'/dev/sda'"),
        ("/srv/../etc /mnt none bind 0 0", "'/srv/../etc'"),
        ("/usr/.. /mnt none rbind 0 0", "'/'"),
        ("//. /mnt none bind 0 0", "'/'"),
        ("none /proc tmpfs defaults 0 0", "/proc"),
        ("none /sys tmpfs defaults 0 0", "/sys"),
    ])],
    Case("fstab-duplicate-target", "fstab", "none /tmp tmpfs defaults 0 0\nnone /tmp/ tmpfs defaults 0 0\n", 2,
         ("'/tmp'", "line 1")),
    Case("fstab-long-line", "fstab", "none /" + "a" * 5000 + " tmpfs defaults 0 0\n", 1, "bytes long"),
    Case("fstab-remote-bad", "fstab.remote", "server:/x /mnt/x nfs4 vers=4,suid 0 0\n", 1, "'suid'"),
    # ---- interfaces ----------------------------------------------------------
    *[Case(f"ip-{i}", "interfaces/0/ip", v + "\n", 1, exp) for i, (v, exp) in enumerate([
        ("999.1.1.1", "'999.1.1.1'"), ("1.2.3", "'1.2.3'"), ("010.0.0.1", "'010.0.0.1'"),
        ("0x7f.0.0.1", "'0x7f.0.0.1'"), ("1.2.3.4.5", "'1.2.3.4.5'"), ("1.2.3.4/33", "prefix '33'"),
        ("1.2.3.4/", "prefix ''"), ("1.2.3.4/024", "prefix '024'"), ("1.2.3.4/-1", "prefix '-1'"),
        ("1.2.3.4/8/8", "prefix '8/8'"), ("::1/129", "prefix '129'"), ("fe80::1%eth0", "'fe80::1%eth0'"),
        ("1.2.3.4 5.6.7.8", "'1.2.3.4 5.6.7.8'"), ("12345::1", "'12345::1'"), ("localhost", "'localhost'")])],
    Case("ip-empty", "interfaces/0/ip", "", 1, "empty value"),
    Case("ip-missing", "interfaces/0", None, None, "no 'ip' file",
         make=lambda p: (p.mkdir(parents=True), (p / "dev").write_text("eth0\n"))),
    Case("ip-duplicate-in-guest", "interfaces/1", "192.0.2.5\n", None, ("192.0.2.5", "interfaces/0"),
         files=IFACE_OK, make=lambda p: (p.mkdir(parents=True), (p / "ip").write_text("192.0.2.5\n"))),
    Case("ip-used-by-other", "interfaces/0/ip", OTHER_IP + "\n", 1, (OTHER_IP, f"'{OTHER}'"), other=True,
         cross=True),
    Case("mask-not-contiguous", "interfaces/0/mask", "255.0.255.0\n", 1, "'255.0.255.0'", files=IFACE_OK),
    Case("mask-bad", "interfaces/0/mask", "300.0.0.0\n", 1, "'300.0.0.0'", files=IFACE_OK),
    Case("prefix-not-number", "interfaces/0/prefix", "abc\n", 1, "'abc'", files=IFACE_OK),
    Case("prefix-129", "interfaces/0/prefix", "129\n", 1, "'129'", files=IFACE_OK),
    Case("prefix-33-ipv4", "interfaces/0/prefix", "33\n", 1, "33", files=IFACE_OK),
    Case("prefix-mask-disagree", "interfaces/0/mask", "255.255.0.0\n", 1, "disagree",
         files={"interfaces/0/ip": "192.0.2.5/24\n"}),
    Case("dev-slash", "interfaces/0/dev", "eth0/x\n", 1, "'eth0/x'", files=IFACE_OK),
    Case("dev-colon", "interfaces/0/dev", "eth0:1\n", 1, "'eth0:1'", files=IFACE_OK),
    Case("dev-too-long", "interfaces/0/dev", "averyveryverylongname\n", 1, "'averyveryverylongname'",
         files=IFACE_OK),
    Case("dev-dotdot", "interfaces/dev", "..\n", 1, "'..'"),
    Case("label-bad", "interfaces/0/name", "bad label!\n", 1, "'bad label!'", files=IFACE_OK),
    Case("iface-dir-name", "interfaces/a b", None, None, "'a b'",
         make=lambda p: (p.mkdir(parents=True), (p / "ip").write_text("192.0.2.9\n"))),
    Case("lback-not-loopback", "interfaces/lback", "10.0.0.1\n", 1, "127"),
    Case("nodev-not-empty", "interfaces/0/nodev", "yes\n", 1, "'yes'", files=IFACE_OK),
    # ---- other scalars and lists ------------------------------------------------
    *[Case(f"nice-{i}", "nice", v + "\n", 1, f"'{v}'") for i, v in enumerate(["20", "-21", "abc", "5k", "--5"])],
    Case("style-unknown", "apps/init/style", "upstart\n", 1, "'upstart'"),
    Case("style-openrc", "apps/init/style", "openrc\n", 1, "'openrc'"),
    Case("runlevel-bad", "apps/init/runlevel", "7\n", 1, "'7'"),
    Case("mark-bad", "apps/init/mark", "bad mark\n", 1, "'bad mark'"),
    Case("shell-relative", "shell", "bin/sh\n", 1, "'bin/sh'"),
    Case("disk-image-relative", "disk/image", "img/g.img\n", 1, "'img/g.img'"),
    Case("disk-image-dotdot", "disk/image", "/vservers/../etc/g.img\n", 1, "'/vservers/../etc/g.img'"),
    Case("personality-bad", "personality", "BOGUS\n", 1, "'BOGUS'"),
    Case("personality-flag-bad", "personality", "LINUX\nNO_SUCH_FLAG\n", 2, "'NO_SUCH_FLAG'"),
    Case("killseq-bad-signal", "apps/init/killseq", "TERM\n5\nSIGFOO\n", 3, "'SIGFOO'"),
    Case("killseq-bad-wait", "apps/init/killseq", "TERM\nlong\nKILL\n", 2, "'long'"),
    Case("environment-bad", "apps/init/environment", "PATH=/bin\n1X=y\n", 2, "'1X=y'"),
    Case("cmd-start-relative", "apps/init/cmd.start", "sbin/init\n", 1, "'sbin/init'"),
    Case("disabled-yes", "disabled", "yes\n", 1, "'yes'"),
    Case("disabled-1", "disabled", "1\n", 1, "'1'"),
    # ---- odd files in the tree ----------------------------------------------------
    Case("fifo-nice", "nice", make=fifo, expect="FIFO"),
    Case("fifo-context", "context", make=fifo, expect="FIFO", remove=("context",)),
    Case("fifo-fstab", "fstab", make=fifo, expect="FIFO", remove=("fstab",)),
    Case("device-nice", "nice", make=null_device, expect="device"),
    Case("device-context", "context", make=null_device, expect="device", remove=("context",)),
    Case("devzero-link-nice", "nice", make=link_dev_zero, expect="symbolic link"),
    Case("devzero-link-context", "context", make=link_dev_zero, expect="symbolic link", remove=("context",)),
    Case("devzero-link-fstab", "fstab", make=link_dev_zero, expect="symbolic link", remove=("fstab",)),
    Case("host-file-link-nodename", "uts/nodename", make=link_host_file, expect="symbolic link",
         remove=("uts/nodename",)),
    Case("link-directory", "apps", make=lambda p: os.symlink("/etc", p), expect="symbolic link",
         remove=("apps",)),
    Case("huge-nice", "nice", make=huge, expect="too large"),
    Case("huge-sparse-fstab", "fstab", make=sparse_10g, expect="too large", remove=("fstab",)),
    Case("nul-nice", "nice", b"5\x00\n", None, "NUL"),
    Case("nul-fstab", "fstab", b"none /tmp tmpfs defaults 0 0\n\x00\n", None, "NUL"),
    Case("nul-context", "context", b"\x0040000\n", None, "NUL"),
    Case("directory-context", "context", make=directory, expect="directory", remove=("context",)),
    Case("directory-nice", "nice", make=directory, expect="directory"),
    Case("vdir-not-link", "vdir", make=lambda p: p.mkdir(), expect="directory", remove=("vdir",)),
    Case("vdir-to-root", "vdir", make=lambda p: os.symlink("/", p), expect="'/'", remove=("vdir",)),
    Case("vdir-to-etc", "vdir", make=lambda p: os.symlink("/etc", p), expect="'/etc'", remove=("vdir",)),
    *[Case(f"vdir-system-{i}", "vdir", make=sym_to(t), expect=f"'{t}'", remove=("vdir",))
      for i, t in enumerate(["/etc/g", "/g", "/tmp/g", "/usr/g", "/proc/g"])],
    Case("vdir-relative-dotdot", "vdir", make=lambda p: os.symlink("/x/../g", p), expect="normalised",
         remove=("vdir",)),
    Case("vdir-relative", "vdir", make=lambda p: os.symlink("somewhere/g", p), expect="absolute",
         remove=("vdir",)),
    Case("typo-file", "contxt", "40000\n", None, "unknown configuration file"),
    Case("typo-nested-file", "uts/nodname", "g\n", None, "unknown configuration file"),
    Case("typo-init", "apps/init/styel", "sysv\n", None, "unknown configuration file"),
    Case("typo-iface", "interfaces/0/pi", "192.0.2.5\n", None, "unknown configuration file", files=IFACE_OK),
    Case("unknown-directory", "bogus", make=directory, expect="unknown configuration directory"),
    Case("unsupported-key", "spaces", make=lambda p: (p.mkdir(), (p / "net").write_text("")),
         expect="not supported"),
    Case("scripts-unknown-phase", "scripts/pre-strat", "#!/bin/sh\n", None, "unknown scriptlet phase 'pre-strat'"),
    Case("scripts-not-a-dir", "scripts", "#!/bin/sh\n", None, "must be a directory of scriptlets"),
]


def write_rel(cfg, rel, content):
    p = cfg / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_bytes(content.encode())


def remove_rel(cfg, rel):
    p = cfg / rel
    if p.is_dir() and not p.is_symlink():
        import shutil
        shutil.rmtree(p)
    else:
        p.unlink()


def test_case_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.fixture
def guest(vs):
    vs.build(G)
    r = vs.run([G, "check"])
    assert "configuration OK" in r.stdout
    return vs.cfg(G)


def test_check_clean_guest(vs, guest):
    r = vs.run([G, "check"], timeout=10)
    assert r.stdout == f"{G}: configuration OK\n"
    assert r.stderr == ""


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_check_rejects(vs, guest, case):
    if case.other:
        vs.build(OTHER, "--context", OTHER_CONTEXT, "--interface", OTHER_IP)
    for rel in case.remove:
        remove_rel(guest, rel)
    for rel, content in case.files.items():
        write_rel(guest, rel, content)
    if (case.files or case.remove) and "context" not in case.remove:
        # control: the valid part alone passes
        vs.run([G, "check"], timeout=10)
    p = guest / case.rel
    if case.make:
        p.parent.mkdir(parents=True, exist_ok=True)
        case.make(p)
    else:
        write_rel(guest, case.rel, case.content)

    before = vs.snapshot()
    r = vs.run([G, "check"], check=2, timeout=10)
    out = r.stdout
    where = f"{guest}/{case.rel}"
    if case.line is not None:
        assert f"{where}:{case.line}: " in out, out
    else:
        assert f"{where}: " in out or f"{where}:" in out, out
    mine = [l for l in out.splitlines() if l.startswith(where)]
    for e in case.expect:
        assert any(e in l for l in mine), f"{e!r} not in {mine}"
    assert out.rstrip().splitlines()[-1].startswith(f"{G}: "), out
    assert "problem" in out.rstrip().splitlines()[-1]
    assert "\x1b" not in out and "\x00" not in out
    after = vs.snapshot()
    assert before == after, snapshot_diff(before, after)

    if not case.cross:
        # every other reader of the guest's configuration refuses it too
        r = vs.run([G, "config"], check=2, timeout=10)
        assert str(guest) in r.stderr and r.stdout == ""
        r = vs.run([G, "config", "--json"], check=2, timeout=10)
        assert str(guest) in r.stderr and r.stdout == ""
        # the listing still works and flags the guest
        js = {x["name"]: x for x in vs.list_json()}
        assert js[G]["valid"] is False and js[G]["problem"]
    after2 = vs.snapshot()
    assert before == after2, snapshot_diff(before, after2)


def test_check_reports_every_problem_at_once(vs, guest):
    write_rel(guest, "context", "010\n")
    write_rel(guest, "uts/nodename", "a..b\n")
    write_rel(guest, "bcapabilities", "CAP_FOO\nSYS_ADMIN\n")
    write_rel(guest, "contxt", "1\n")
    os.mkfifo(guest / "nice")
    r = vs.run([G, "check"], check=2, timeout=10)
    for frag in (f"{guest}/context:1:", f"{guest}/uts/nodename:1:", f"{guest}/bcapabilities:1:",
                 f"{guest}/bcapabilities:2:", f"{guest}/contxt:", f"{guest}/nice:"):
        assert frag in r.stdout, (frag, r.stdout)
    assert r.stdout.splitlines()[-1] == f"{G}: 6 problems"


def test_fifo_does_not_hang_any_reader(vs, guest):
    os.mkfifo(guest / "nice")
    os.unlink(guest / "context")
    os.mkfifo(guest / "context")
    for args, rc in (([G, "check"], 2), ([G, "config"], 2), ([G, "config", "--json"], 2), ([G, "status"], 3),
                     (["list"], 0), (["list", "--json"], 0), ([G, "rename", "h"], 2)):
        vs.run(args, check=rc, timeout=10)
    # nothing was renamed
    assert (guest / "nice").exists() and vs.root(G).is_dir() and not vs.cfg("h").exists()
    # a broken guest can still be deleted, without hanging on the FIFOs
    vs.run([G, "delete", "--force"], timeout=10)
    assert not os.path.lexists(guest) and not os.path.lexists(vs.root(G))


def test_missing_final_newline_keeps_last_line(vs, guest):
    write_rel(guest, "bcapabilities", "# drop two\n~CHOWN\n~KILL")
    write_rel(guest, "fstab", "none /tmp tmpfs size=1m 0 0\nnone /var/tmp tmpfs size=2m 0 0")
    write_rel(guest, "apps/init/environment", "A=1\nB=2")
    write_rel(guest, "nice", "5")
    vs.run([G, "check"])
    c = vs.config_json(G)
    assert set(c["capabilities"]["remove"]) == {"CHOWN", "KILL"}
    assert [e["target"] for e in c["fstab"]] == ["/tmp", "/var/tmp"]
    assert c["init"]["environment"] == ["A=1", "B=2"]
    assert c["nice"] == 5


def test_valid_spellings_are_accepted(vs, guest):
    """Control for the table: the accepted spellings of the same keys."""
    vs.build(OTHER, "--context", OTHER_CONTEXT, "--interface", OTHER_IP)
    write_rel(guest, "context", "49151\n")
    write_rel(guest, "name", "My Guest\n")
    write_rel(guest, "uts/nodename", "web-1.example.org\n")
    write_rel(guest, "uts/domainname", "example.org\n")
    write_rel(guest, "bcapabilities", "# comment\n\nCAP_SYS_NICE\nmknod\n~CHOWN\n!KILL\n")
    write_rel(guest, "fstab", "# c\n\nnone\t/tmp tmpfs size=16m,mode=1777 0 0\n/srv/a\\040b /srv none bind,ro\n")
    write_rel(guest, "interfaces/0/ip", "192.0.2.6/24\n")
    write_rel(guest, "interfaces/0/dev", "eth0\n")
    write_rel(guest, "interfaces/1/ip", "2001:db8::6\n")
    write_rel(guest, "interfaces/1/prefix", "64\n")
    write_rel(guest, "interfaces/1/nodev", "")
    write_rel(guest, "apps/init/depends", f"{OTHER}\n")
    write_rel(guest, "apps/init/killseq", "SIGPWR\n10\nKILL\n")
    write_rel(guest, "nice", "-5\n")
    write_rel(guest, "disabled", "")
    write_rel(guest, "context.rpmsave", "garbage\n")
    write_rel(guest, "fstab~", "garbage\n")
    r = vs.run([G, "check"])
    assert "configuration OK" in r.stdout
    c = vs.config_json(G)
    assert c["context"] == 49151 and c["display_name"] == "My Guest"
    assert c["uts"]["nodename"] == "web-1.example.org"
    assert set(c["capabilities"]["add"]) == {"SYS_NICE", "MKNOD"}
    assert set(c["capabilities"]["remove"]) == {"CHOWN", "KILL"}
    assert [e["source"] for e in c["fstab"]] == ["none", "/srv/a b"]
    ips = {i["id"]: i for i in c["interfaces"]}
    assert ips["0"]["ip"] == "192.0.2.6/24" and ips["0"]["dev"] == "eth0"
    assert ips["1"]["ip"] == "2001:db8::6/64" and ips["1"]["nodev"] is True
    assert c["nice"] == -5 and c["disabled"] is True


# ---- the same bad values as build options ---------------------------------------

BUILD_CASES = [
    *[pytest.param(["--context", v], f"'{v}'", id=f"context-{i}") for i, v in enumerate(
        ["010", "0x10", "-5", "+5", "0", "1", "49152", "4294967296", "abc", "", " 5", "5 ", "1e3"])],
    pytest.param(["--context", OTHER_CONTEXT], f"'{OTHER}'", id="context-used"),
    *[pytest.param(["--hostname", v], f"'{v}'", id=f"hostname-{i}") for i, v in enumerate(
        ["a..b", "-a", "a-", "a_b", "a b", "x" * 65, "", "a/b"])],
    pytest.param(["--hostname", "a\nb"], "'a\\x0ab'", id="hostname-newline"),
    *[pytest.param(["--interface", v], f"'{v}'", id=f"interface-{i}") for i, v in enumerate(
        ["999.1.1.1", "1.2.3", "010.0.0.1", "0x7f.0.0.1", "1.2.3.4/33", "eth0:999.1.1.1", "fe80::1%eth0", "",
         "lbl=eth0:1.2.3"])],
    pytest.param(["--interface", "eth/0:192.0.2.1"], "'eth/0'", id="interface-dev-slash"),
    pytest.param(["--interface", "averyveryverylongname:192.0.2.1"], "'averyveryverylongname'",
                 id="interface-dev-long"),
    pytest.param(["--interface", "bad label=192.0.2.1"], "'bad label'", id="interface-label"),
    pytest.param(["--interface", OTHER_IP], f"'{OTHER}'", id="interface-used"),
    pytest.param(["--interface", "192.0.2.8", "--interface", "192.0.2.8/24"], "192.0.2.8", id="interface-twice"),
    pytest.param(["--initstyle", "upstart"], "'upstart'", id="initstyle"),
    pytest.param(["--rootdir", "relative/dir"], "'relative/dir'", id="rootdir-relative"),
]


@pytest.mark.parametrize("opts,expect", BUILD_CASES)
def test_build_rejects_bad_option(vs, opts, expect):
    vs.build(OTHER, "--context", OTHER_CONTEXT, "--interface", OTHER_IP)
    # a failed build may create and remove its staging directories (the
    # parent directories' mtimes change), nothing else
    before = vs.snapshot(dir_mtime=False)
    r = vs.build("new", *opts, check=2)
    assert expect in r.stderr, r.stderr
    assert_no_guest(vs, "new")
    assert not (vs.cachebase / "new").exists()
    after = vs.snapshot(dir_mtime=False)
    assert before == after, snapshot_diff(before, after)
    assert [g["name"] for g in vs.list_json()] == [OTHER]


@pytest.mark.parametrize("name", ["a b", "../x", "a/b", "..", ".", "Web", "abcdefghijklm", "a\x1bb", "x\ny"])
def test_build_rejects_bad_name(vs, name):
    r = vs.run([name, "build", "-m", "skeleton"], check=2)
    assert "invalid guest name" in r.stderr
    assert "\x1b" not in r.stderr
    assert not vs.confdir.exists() or list(vs.confdir.iterdir()) == []
    assert not vs.vdirbase.exists() or list(vs.vdirbase.iterdir()) == []


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "/abs", "./rel", "a b", "a\nb", "A",
                                  "abcdefghijklm", "a\x1b[31m"])
@pytest.mark.parametrize("cmd", [["check"], ["config"], ["delete", "--force"], ["rename", "ok"]])
def test_commands_reject_bad_name(vs, name, cmd):
    vs.build("ok2")
    before = vs.snapshot()
    r = vs.run([name, *cmd], check=2)
    assert "invalid guest name" in r.stderr
    assert "\x1b" not in r.stderr and "\n" not in r.stderr.rstrip("\n")
    assert vs.snapshot() == before


def test_option_injection_as_name(vs):
    r = vs.run(["-rf", "delete"], check=2)
    assert "unknown option" in r.stderr
