# SPDX-License-Identifier: GPL-2.0-or-later
"""Command-line surface: --help, --version, usage errors, `vserver list`."""
import json
import os
import re
import subprocess

import pytest

TOOLS = ("vserver", "vserver-stat", "vps", "vkill")


@pytest.fixture
def tool(vs, tmp_path):
    """argv0 for each command: symlinks named like the commands."""
    d = tmp_path / "bin"
    d.mkdir()
    paths = {}
    for t in TOOLS:
        p = d / t
        os.symlink(vs.bin, p)
        paths[t] = p
    return paths


def version_of(vs):
    r = vs.run(["--version"])
    m = re.fullmatch(r"vserver (\S+)\n", r.stdout)
    assert m, r.stdout
    return m.group(1)


@pytest.mark.parametrize("name", TOOLS)
@pytest.mark.parametrize("opt", ["--help", "-h"])
def test_help(vs, tool, name, opt):
    r = vs.run([opt], argv0=tool[name])
    assert r.stdout.startswith(f"Usage: {name}"), r.stdout
    assert r.stderr == ""


@pytest.mark.parametrize("name", TOOLS)
@pytest.mark.parametrize("opt", ["--version", "-V"])
def test_version(vs, tool, name, opt):
    v = version_of(vs)
    assert re.fullmatch(r"\d+(\.\d+)+\S*", v), v
    r = vs.run([opt], argv0=tool[name])
    assert r.stdout == f"{name} {v}\n"
    assert r.stderr == ""


def test_vserver_help_lists_commands_and_methods(vs):
    out = vs.run(["--help"]).stdout
    for word in ("build", "check", "config", "rename", "delete", "list", "--json",
                 "debootstrap", "mmdebstrap", "skeleton", "template", "clone",
                 "--context", "--hostname", "--interface", "--initstyle", "--rootdir", "--force", "--keep",
                 "VSERVER_CONFDIR"):
        assert word in out, word


def test_build_help_lists_methods(vs):
    out = vs.run(["x", "build", "--help"]).stdout
    for m in ("debootstrap", "mmdebstrap", "skeleton", "template", "clone"):
        assert f"-m {m}" in out
    # --help must not create anything
    assert not vs.cfg("x").exists() and not vs.root("x").exists()


@pytest.mark.parametrize("args", [
    ["g", "frobnicate"],
    ["g", "delete", "--bogus"],
    ["g", "rename"],
    ["g", "rename", "a", "b"],
    ["g", "check", "extra"],
    ["g", "config", "--yaml"],
    ["g", "status", "x"],
    ["g", "build"],                       # no method
    ["g", "build", "-m", "nosuch"],
    ["g", "build", "--bogus", "-m", "skeleton"],
    ["g", "build", "-m"],
    ["g", "build", "-m", "skeleton", "--context"],
    ["g", "build", "-m", "template"],       # needs -- -t
    ["g", "build", "-m", "template", "--", "-x", "y"],
    ["g", "build", "-m", "clone"],          # needs -- --source
    ["list", "--bogus"],
    ["--bogus"],
    ["g"],                                # no command
    [],
])
def test_usage_errors_exit_2(vs, args):
    r = vs.run(args, check=2)
    assert r.stderr.startswith("vserver: "), r.stderr
    assert r.stdout == ""
    assert not vs.cfg("g").exists() and not vs.root("g").exists()
    assert vs.leftovers("g") == []


def test_unknown_command_message(vs):
    r = vs.run(["g", "frobnicate"], check=2)
    assert "unknown command 'frobnicate'" in r.stderr


def test_console_of_stopped_guest_fails(vs):
    vs.build("g")
    r = vs.run(["g", "console"], check=1)
    assert "not running" in r.stderr


def test_no_such_guest_exit_5(vs):
    for cmd in (["check"], ["config"], ["config", "--json"], ["delete", "--force"], ["rename", "h"]):
        r = vs.run(["nosuch", *cmd], check=5)
        assert "nosuch" in r.stderr


@pytest.mark.parametrize("tool_name", ["vserver-stat", "vps", "vkill"])
def test_host_view_tools_without_guests_do_not_crash(vs, tool, tool_name):
    r = vs.run([], argv0=tool[tool_name], check=False)
    assert r.returncode in (0, 1), r
    assert "Segmentation" not in r.stderr


def test_list_empty(vs):
    r = vs.run(["list"])
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].split()[:3] == ["NAME", "CONTEXT", "STATE"], r.stdout
    assert r.stderr == ""


def test_list_empty_json(vs):
    r = vs.run(["list", "--json"])
    assert json.loads(r.stdout) == []


def test_list_without_confdir(vs):
    assert not vs.confdir.exists()
    assert json.loads(vs.run(["list", "--json"]).stdout) == []
    assert not vs.confdir.exists(), "list must not create the configuration directory"


def test_list_guests(vs):
    vs.build("alpha", "--interface", "192.0.2.10/24")
    vs.build("beta", "--context", "1234", "--initstyle", "plain")
    (vs.cfg("beta") / "apps" / "init" / "mark").write_text("default\n")
    text = vs.run(["list"]).stdout.splitlines()
    assert [l.split()[0] for l in text[1:]] == ["alpha", "beta"]
    alpha = text[1].split()
    assert alpha[1] == "40000" and alpha[2] == "stopped" and alpha[3] == "sysv"
    assert "192.0.2.10/24" in text[1]
    beta = text[2].split()
    # NAME CONTEXT STATE INIT PROC RSS CPU UPTIME MARK ADDRESSES: figures are "-" when stopped
    assert beta[1:4] == ["1234", "stopped", "plain"] and beta[4:8] == ["-"] * 4 and beta[8] == "default"
    assert "processes" not in vs.list_json()[1]

    js = vs.list_json()
    assert [g["name"] for g in js] == ["alpha", "beta"]
    a, b = js
    assert a["context"] == 40000 and a["state"] == "stopped" and a["init_style"] == "sysv"
    assert a["addresses"] == ["192.0.2.10/24"] and a["mark"] is None and a["valid"] is True
    assert b["context"] == 1234 and b["init_style"] == "plain" and b["mark"] == "default"
    assert a["vdir"] == str(vs.root("alpha"))


def test_list_shows_invalid_guest_and_skips_non_guests(vs):
    vs.build("good")
    vs.build("bad")
    (vs.cfg("bad") / "context").write_text("010\n")
    # things in the configuration directory that are not guests
    (vs.confdir / ".defaults").mkdir()
    (vs.confdir / "README").write_text("not a guest\n")
    (vs.confdir / "good.~123~").mkdir()
    (vs.confdir / ".x.build-1").mkdir()
    r = vs.run(["list"])
    names = [l.split()[0] for l in r.stdout.splitlines()[1:]]
    assert names == ["bad", "good"]
    assert "invalid configuration" in r.stdout
    js = {g["name"]: g for g in vs.list_json()}
    assert set(js) == {"bad", "good"}
    assert js["bad"]["valid"] is False and "context" in js["bad"]["problem"]
    assert js["good"]["valid"] is True and js["good"]["problem"] is None


def test_error_messages_escape_control_characters(vs):
    # HS-11: a hostile name must not reach the terminal raw
    r = vs.run(["a\x1b]0;pwned\x07", "check"], check=2)
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr
    assert "invalid guest name" in r.stderr


def test_settings_file_redirects_paths(vs, tmp_path):
    """VSERVER_SETTINGS: the same redirection through a settings file."""
    alt = tmp_path / "alt"
    alt.mkdir()
    s = tmp_path / "settings"
    s.write_text(f"# test\nconfdir={alt}/etc\nvdirbase={alt}/vs\ncachebase={alt}/cache\nrundir={alt}/run\n")
    e = {k: v for k, v in vs.env.items() if k not in
         ("VSERVER_CONFDIR", "VSERVER_VDIRBASE", "VSERVER_CACHEBASE", "VSERVER_RUNDIR")}
    e["VSERVER_SETTINGS"] = str(s)
    r = subprocess.run([str(vs.bin), "g", "build", "-m", "skeleton"], env=e, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r
    assert (alt / "etc" / "g" / "context").is_file()
    assert (alt / "vs" / "g" / "etc" / "hostname").is_file()
    assert os.readlink(alt / "etc" / "g" / "vdir") == f"{alt}/vs/g"
    # a bad settings file is a usage error with file and line
    s.write_text("confdir=relative/path\n")
    r = subprocess.run([str(vs.bin), "list"], env=e, capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and f"{s}:1" in r.stderr, r
