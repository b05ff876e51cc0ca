# SPDX-License-Identifier: GPL-2.0-or-later
"""Networking (issue 5): the modes isolated, private, none and host.

Safety: every test here runs vserver, the guests and the "host" side of
the traffic inside a network namespace the test made (a holder process
from `unshare --net`, joined with nsenter).  Inside it the test builds its
own simulated world: a veth pair `up0`/`up1` to a second namespace, the
"internet" (203.0.113.0/24), and addresses on lo or a bridge for the
shared stack.  No packet can reach a real interface of the machine, and
nothing is sent to an address outside those namespaces.  The holders are
killed by pid when the test ends; with them the namespaces go.
"""
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import VS, VSERVER_BIN, pid_alive, wait_until

PROBE = Path(os.environ.get("VSERVER_PROBE") or VSERVER_BIN.parent / "tests" / "vs-probe")


class NetNS:
    """A network namespace held by a sleeping process we started."""

    def __init__(self):
        self.proc = subprocess.Popen(["unshare", "--net", "--", "sleep", "3600"], stdin=subprocess.DEVNULL)
        path = f"/proc/{self.proc.pid}/ns/net"
        ok = wait_until(lambda: os.path.exists(path) and os.readlink(path) != os.readlink("/proc/self/ns/net"), 5)
        assert ok, "unshare --net did not start"
        self.path = path
        self.prefix = ["nsenter", f"--net={path}", "--"]

    def run(self, *argv, check=True, timeout=30, **kw):
        r = subprocess.run([*self.prefix, *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, **kw)
        if check:
            assert r.returncode == 0, f"{argv}: exit {r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def sh(self, script, check=True):
        return self.run("sh", "-ec", script, check=check)

    def popen(self, *argv):
        return subprocess.Popen([*self.prefix, *map(str, argv)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Server:
    """A probe server (`t tcp-serve` / `udp-serve` ...) started through a
    runner; waits for its LISTEN line."""

    def __init__(self, popen_argv, prefix_env=None):
        self.p = subprocess.Popen(popen_argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=prefix_env)
        self.first = self.p.stdout.readline().strip()

    def rest(self, timeout=20):
        out, err = self.p.communicate(timeout=timeout)
        return out, err

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.communicate()


@pytest.fixture
def net():
    """The simulated host: a private network namespace with lo up and an
    uplink veth (up0 203.0.113.1/24) to an "internet" namespace (up1
    203.0.113.2/24 with a route back to everything)."""
    host = NetNS()
    inet = NetNS()
    try:
        host.sh("ip link set lo up")
        inet.sh("ip link set lo up")
        host.run("ip", "link", "add", "up0", "type", "veth", "peer", "name", "up1", "netns", inet.path)
        host.sh("ip addr add 203.0.113.1/24 dev up0; ip link set up0 up")
        inet.sh("ip addr add 203.0.113.2/24 dev up1; ip link set up1 up; ip route add default via 203.0.113.1")
        host.inet = inet
        yield host
    finally:
        inet.close()
        host.close()


@pytest.fixture
def nvs(vs, net):
    """The private vserver world of `vs`, with every vserver command run
    inside the simulated host's namespace."""
    vs.cmd_prefix = net.prefix
    orig = vs.cmd

    def cmd(args, argv0=None):
        return [*net.prefix, *orig(args, argv0)]

    vs.cmd = cmd
    vs.net = net
    yield vs
    # stop the guests while the namespace exists (the vs fixture's cleanup
    # runs after this and finds them stopped)
    for name in (p.name for p in vs.rundir.iterdir() if not p.name.startswith(".")) if vs.rundir.is_dir() else ():
        st = vs.state(name)
        if st and pid_alive(st["monitor"], st["monitor_start"]):
            vs.run([name, "stop", "--timeout", "5"], check=False, timeout=60)


def build(vs, tarball, name, **cfg):
    vs.build(name, method="template", margs=("-t", tarball), timeout=120)
    for rel, text in cfg.items():
        p = vs.cfg(name) / rel.replace("__", "/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text + ("\n" if text and not text.endswith("\n") else ""))
    return name


def iface(vs, name, n, ip, dev=None, nodev=False):
    d = vs.cfg(name) / "interfaces" / str(n)
    d.mkdir(parents=True, exist_ok=True)
    (d / "ip").write_text(ip + "\n")
    if dev:
        (d / "dev").write_text(dev + "\n")
    if nodev:
        (d / "nodev").write_text("")


def gprobe(vs, name, *args, timeout=30):
    r = vs.run([name, "exec", "/t", *args], check=None, timeout=timeout)
    return r.stdout.strip()


def gserve(vs, name, *args):
    """A probe server inside the guest (vserver exec, in the background)."""
    return Server(vs.cmd([name, "exec", "/t", *args]), prefix_env=vs.env)


def hprobe(net, *args, timeout=30):
    return net.run(PROBE, *args, check=False, timeout=timeout).stdout.strip()


def hserve(net, *args):
    return Server([*net.prefix, str(PROBE), *args])


def nft_tables(net):
    out = net.run("nft", "-j", "list", "tables").stdout
    return sorted(f"{t['table']['family']} {t['table']['name']}" for t in json.loads(out)["nftables"] if "table" in t)


def links(net):
    return sorted(json.loads(net.run("ip", "-j", "link").stdout), key=lambda l: l["ifname"])


def addrs(net):
    out = []
    for l in json.loads(net.run("ip", "-j", "addr").stdout):
        for a in l.get("addr_info", []):
            out.append(f"{l['ifname']} {a['local']}/{a['prefixlen']}")
    return sorted(out)


def host_snapshot(net):
    return {"links": [l["ifname"] for l in links(net)], "addrs": addrs(net), "nft": nft_tables(net)}


# ---- shared stack: isolated --------------------------------------------------------------

@pytest.fixture
def shared(nvs, busybox_rootfs_tarball):
    """Two isolated guests on the simulated host's uplink: a (203.0.113.10,
    2001:db8::10) and b (203.0.113.11); the host has 203.0.113.1."""
    net = nvs.net
    net.sh("ip -6 addr add 2001:db8::1/64 dev up0 nodad")
    a = build(nvs, busybox_rootfs_tarball, "a", context="40010")
    iface(nvs, a, 0, "203.0.113.10/24", dev="up0")
    iface(nvs, a, 1, "2001:db8::10/64", dev="up0")
    b = build(nvs, busybox_rootfs_tarball, "b", context="40011")
    iface(nvs, b, 0, "203.0.113.11/24", dev="up0")
    nvs.run([a, "start"])
    nvs.run([b, "start"])
    return nvs


def test_isolated_wildcard_bind_serves_only_the_guest_address(shared):
    vs, net = shared, shared.net
    assert "up0 203.0.113.10/24" in addrs(net) and "up0 203.0.113.11/24" in addrs(net)
    srv = gserve(vs, "a", "tcp-serve", "0.0.0.0", "8080", "6")
    try:
        assert srv.first == "LISTEN 203.0.113.10:8080", srv.first
        r = hprobe(net, "tcp-connect", "203.0.113.10", "8080")
        assert r.startswith("OK ") and "PEER=203.0.113.1:" in r and "LOCAL=203.0.113.10:8080" in r, r
        for other in ("203.0.113.1", "203.0.113.11", "127.0.0.1"):
            assert hprobe(net, "tcp-connect", other, "8080") == "ECONNREFUSED", other
        # from the internet namespace too
        r = net.inet.run(PROBE, "tcp-connect", "203.0.113.10", "8080", check=False).stdout.strip()
        assert r.startswith("OK ") and "PEER=203.0.113.2:" in r, r
    finally:
        srv.close()


def test_isolated_bind_rules(shared):
    vs = shared
    assert gprobe(vs, "a", "bind", "203.0.113.11", "9000") == "EADDRNOTAVAIL"   # guest b's
    assert gprobe(vs, "a", "bind", "203.0.113.1", "9000") == "EADDRNOTAVAIL"    # the host's
    assert gprobe(vs, "a", "bind", "198.51.100.7", "9000") == "EADDRNOTAVAIL"   # nobody's
    assert gprobe(vs, "a", "bind", "203.0.113.10", "9000") == "OK 203.0.113.10:9000"
    assert gprobe(vs, "a", "bind", "0.0.0.0", "9000", "udp") == "OK 203.0.113.10:9000"
    assert gprobe(vs, "a", "bind", "::", "9000") == "OK [2001:db8::10]:9000"
    # a guest without IPv6: "::" serves its IPv4 address (dual stack)
    assert gprobe(vs, "b", "bind", "::", "9000") == "OK [::ffff:203.0.113.11]:9000"
    assert gprobe(vs, "b", "bind", "2001:db8::10", "9000") == "EADDRNOTAVAIL"


def test_isolated_guest_to_guest_and_source_address(shared):
    vs, net = shared, shared.net
    srv = gserve(vs, "b", "tcp-serve", "0.0.0.0", "8081", "6")
    hsrv = hserve(net, "tcp-serve", "203.0.113.1", "8082", "6")
    try:
        assert srv.first == "LISTEN 203.0.113.11:8081"
        r = gprobe(vs, "a", "tcp-connect", "203.0.113.11", "8081")
        assert r.startswith("OK 203.0.113.10:") and "PEER=203.0.113.10:" in r, r
        # outgoing to the host and to the internet: the guest's source address
        r = gprobe(vs, "a", "tcp-connect", "203.0.113.1", "8082")
        assert "PEER=203.0.113.10:" in r, r
    finally:
        srv.close()
        hsrv.close()
    isrv = Server([*net.inet.prefix, str(PROBE), "udp-serve", "203.0.113.2", "5353", "6"])
    try:
        assert isrv.first.startswith("LISTEN")
        r = gprobe(vs, "b", "udp-send", "203.0.113.2", "5353", "ping")
        # (an unbound UDP socket stays unbound: the source is set per datagram)
        assert r.startswith("OK ") and r.endswith("203.0.113.2:5353 ACK"), r
        out, _ = isrv.rest()
        assert out.startswith("FROM 203.0.113.11:"), out
    finally:
        isrv.close()


def test_isolated_loopback_is_the_guests_own(shared):
    vs, net = shared, shared.net
    hsrv = hserve(net, "tcp-serve", "127.0.0.1", "7777", "8")
    gsrv = gserve(vs, "a", "tcp-serve", "127.0.0.1", "7778", "8")
    try:
        assert hsrv.first == "LISTEN 127.0.0.1:7777"
        # the guest sees its loopback as 127.0.0.1
        assert gsrv.first == "LISTEN 127.0.0.1:7778", gsrv.first
        r = gprobe(vs, "a", "tcp-connect", "127.0.0.1", "7778")
        assert r.startswith("OK 127.0.0.1:") and "127.0.0.1:7778" in r, r
        # the host's 127.0.0.1 service is out of the guest's reach
        assert gprobe(vs, "a", "tcp-connect", "127.0.0.1", "7777") == "ECONNREFUSED"
        assert gprobe(vs, "a", "tcp-connect", "127.0.0.2", "7777") == "ECONNREFUSED"
        # and the guest's loopback service is out of b's and the host's reach
        assert gprobe(vs, "b", "tcp-connect", "127.0.0.1", "7778") == "ECONNREFUSED"
        assert hprobe(net, "tcp-connect", "127.0.0.1", "7778") == "ECONNREFUSED"
    finally:
        hsrv.close()
        gsrv.close()


def test_isolated_loopback_source_reaches_only_the_guests_loopback(shared):
    """A host service on the wildcard address trusts 127/8 peers: the
    guest's loopback address (its 127.0.0.1) must never be the source of
    anything that reaches the host."""
    vs, net = shared, shared.net
    hsrv = hserve(net, "tcp-serve", "0.0.0.0", "7779", "10")
    usrv = hserve(net, "udp-serve", "0.0.0.0", "5354", "10")
    try:
        assert hsrv.first == "LISTEN 0.0.0.0:7779" and usrv.first == "LISTEN 0.0.0.0:5354"
        # TCP bound to 127.0.0.1, then connected to the host's address
        assert gprobe(vs, "a", "tcp-connect-from", "127.0.0.1", "203.0.113.1", "7779") == "EINVAL"
        # what the guest may do: its own address as source
        r = gprobe(vs, "a", "tcp-connect-from", "203.0.113.10", "203.0.113.1", "7779")
        assert r.startswith("OK 203.0.113.10:") and "PEER=203.0.113.10:" in r, r
        # UDP choosing 127.0.0.1 with IP_PKTINFO, unconnected and connected
        assert gprobe(vs, "a", "udp-pktinfo", "127.0.0.1", "203.0.113.1", "5354", "x") == "EINVAL"
        assert gprobe(vs, "a", "udp-pktinfo", "127.0.0.1", "203.0.113.1", "5354", "x", "connect") == "EINVAL"
        # a connected socket sending with ancillary data and no source
        # keeps the guest's address (it was given the loopback one)
        r = gprobe(vs, "a", "udp-pktinfo", "0.0.0.0", "203.0.113.1", "5354", "y", "connect")
        assert r.startswith("OK 203.0.113.10:") and r.endswith("203.0.113.1:5354 ACK"), r
        out = usrv.rest()[0].strip()
        assert out.startswith("FROM 203.0.113.10:") and out.endswith(" y"), out
    finally:
        hsrv.close()
        usrv.close()


def test_isolated_only_tcp_mptcp_udp_sockets(shared):
    """UDP-Lite has no pre_connect, so the connect hooks never see it:
    refused at socket(), like every protocol the hooks do not cover."""
    vs = shared
    # AF_INET 2, AF_INET6 10; SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_SEQPACKET 5
    assert gprobe(vs, "a", "socket", "2", "1", "0") == "OK"       # TCP
    assert gprobe(vs, "a", "socket", "10", "2", "0") == "OK"      # UDP
    assert gprobe(vs, "a", "socket", "2", "1", "262") in ("OK", "EPROTONOSUPPORT")   # MPTCP if built
    for fam in ("2", "10"):
        assert gprobe(vs, "a", "socket", fam, "2", "136") == "EPROTONOSUPPORT"       # UDP-Lite
        # SCTP (ESOCKTNOSUPPORT from the kernel before the hook when not built)
        assert gprobe(vs, "a", "socket", fam, "5", "132") in ("EPROTONOSUPPORT", "ESOCKTNOSUPPORT")
    # the same socket outside isolated mode is the kernel's business
    r = shared.net.run(PROBE, "socket", "2", "2", "136", check=False).stdout.strip()
    assert r == "OK", r


def test_isolated_host_abstract_socket_is_unreachable(shared):
    vs, net = shared, shared.net
    h = hserve(net, "abstract-listen", "vs-test-host", "8")
    g = gserve(vs, "a", "abstract-listen", "vs-test-guest", "8")
    try:
        assert h.first == "LISTEN" and g.first == "LISTEN"
        assert hprobe(net, "abstract-connect", "vs-test-host") == "OK"     # it is there
        # Landlock refuses (EPERM; now and then the kernel reports the
        # refused connect as ECONNREFUSED)
        assert gprobe(vs, "a", "abstract-connect", "vs-test-host") in ("EPERM", "ECONNREFUSED")
        # the host still reaches the guest's (it is the admin's), other guests do not
        assert hprobe(net, "abstract-connect", "vs-test-guest") == "OK"
        assert gprobe(vs, "b", "abstract-connect", "vs-test-guest") in ("EPERM", "ECONNREFUSED")
    finally:
        h.close()
        g.close()


def test_isolated_status_list_json(shared):
    vs = shared
    st = json.loads(vs.run(["a", "status", "--json"]).stdout)
    assert st["network"]["mode"] == "isolated"
    assert st["network"]["addresses"] == ["203.0.113.10/24", "2001:db8::10/64"]
    assert st["network"]["lback"] == "127.1.156.74"     # context 40010
    assert "Network:             isolated 203.0.113.10/24,2001:db8::10/64" in vs.run(["a", "status"]).stdout
    lst = {g["name"]: g for g in vs.list_json()}
    assert lst["b"]["network"]["mode"] == "isolated"
    assert re.search(r"^b .* isolated +203\.0\.113\.11/24", vs.run(["list"]).stdout, re.M)


def test_isolated_stop_removes_addresses_and_programs(shared):
    vs, net = shared, shared.net
    vs.run(["a", "stop"])
    vs.run(["b", "stop"])
    assert addrs(net) == sorted(["lo 127.0.0.1/8", "lo ::1/128", "up0 203.0.113.1/24", "up0 2001:db8::1/64",
                                 *[a for a in addrs(net) if a.startswith("up0 fe80::")]])
    assert vs.cgroup_dirs("a") == []


# ---- validation ---------------------------------------------------------------------------

def test_check_refuses_host_conflicts(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    g = build(vs, busybox_rootfs_tarball, "g")
    iface(vs, g, 0, "203.0.113.1/24", dev="up0")           # the host's own
    iface(vs, g, 1, "203.0.113.20/24", dev="nosuch0")
    iface(vs, g, 2, "203.0.113.21/24", nodev=True)          # not on the host
    # check: warnings (the host as it is now), the configuration itself is fine
    r = vs.run([g, "check"], check=0)
    assert "interfaces/0/ip:1: address 203.0.113.1/24 is already on the host (device up0)" in r.stdout
    assert "interfaces/1/dev:1: device 'nosuch0' does not exist on the host" in r.stdout
    assert "interfaces/2/ip:1: address 203.0.113.21/24 is marked nodev" in r.stdout
    assert r.stdout.count("warning: ") == 3 and "(start refuses this)" in r.stdout
    before = host_snapshot(net)
    r = vs.run([g, "start"], check=2)
    assert "already on the host" in r.stderr
    assert host_snapshot(net) == before and vs.cgroup_dirs(g) == []


@pytest.mark.parametrize("rel,text,msg", [
    ("net/mode", "bridged", "unknown network mode 'bridged'; allowed: isolated, private, none, host"),
    ("net/forward", "tcp 10022", "is not a forward; write PROTO [HOSTADDR:]HOSTPORT GUESTPORT"),
    ("net/forward", "sctp 1 2", "protocol 'sctp' is not allowed: tcp or udp"),
    ("net/forward", "tcp 0 22", "host port '0' is not a port number 1..65535"),
    ("net/forward", "tcp 10022 65536", "guest port '65536' is not a port number 1..65535"),
    ("net/forward", "tcp 10022 22\ntcp 10022 23", "tcp port 10022 is already forwarded on line 1"),
    ("net/forward", "tcp 2001:db8::1:80 80", "write an IPv6 address in brackets"),
    ("net/gateway", "10.66.0.1", "needs a prefix /1../30"),
    ("net/bridge", "br;drop", "bridge name 'br;drop' is not allowed"),
    ("net/host-ports", "tcp", "'tcp' is not a host port; write PROTO PORT, e.g. 'udp 53'"),
    ("net/host-ports", "tcp 22 23", "'tcp 22 23' is not a host port; write PROTO PORT"),
    ("net/host-ports", "icmp 8", "protocol 'icmp' is not allowed: tcp or udp"),
    ("net/host-ports", "udp 0", "port '0' is not a port number 1..65535"),
    ("net/host-ports", "tcp 65536", "port '65536' is not a port number 1..65535"),
    ("net/host-ports", "tcp domain", "port 'domain' is not a port number 1..65535"),
    ("net/mtu", "9000000", "MTU '9000000' is not a number from 576 to 65535"),
    ("net/mtu", "jumbo", "MTU 'jumbo' is not a number from 576 to 65535"),
])
def test_net_config_negative(vs, busybox_rootfs_tarball, rel, text, msg):
    g = build(vs, busybox_rootfs_tarball, "g", **{"net__mode": "private", "net__gateway": "10.66.0.1/24"})
    iface(vs, g, 0, "10.66.0.2")
    p = vs.cfg(g) / rel
    p.write_text(text + "\n")
    r = vs.run([g, "check"], check=2)
    assert msg in r.stdout, r.stdout
    assert f"{rel}:" in r.stdout


def test_net_mtu_below_ipv6_minimum(vs, busybox_rootfs_tarball):
    g = build(vs, busybox_rootfs_tarball, "g", net__mode="private", net__routed="", net__mtu="1000")
    iface(vs, g, 0, "10.66.0.2")
    vs.run([g, "check"])                                  # IPv4 only: fine
    iface(vs, g, 1, "2001:db8::2")
    r = vs.run([g, "check"], check=2)
    assert "net/mtu: MTU 1000 is below IPv6's minimum of 1280, and the guest has IPv6 addresses" in r.stdout, r.stdout
    # on a bridge no IPv6 route carries it
    (vs.cfg(g) / "net" / "routed").unlink()
    (vs.cfg(g) / "net" / "gateway").write_text("10.66.0.1/24\n")
    vs.run([g, "check"])


def test_net_host_ports_check_names_file_and_line(vs, busybox_rootfs_tarball):
    """Every bad line of net/host-ports is reported with its line; the
    good ones do not count as errors; the key is private mode's only."""
    g = build(vs, busybox_rootfs_tarball, "g", net__mode="private", net__gateway="10.66.0.1/24",
              **{"net__host-ports": "udp 53\ntcp 53\nsctp 9\nudp 53\ntcp 99999\n"})
    iface(vs, g, 0, "10.66.0.2")
    r = vs.run([g, "check"], check=2)
    out = r.stdout
    assert "net/host-ports:3: protocol 'sctp' is not allowed: tcp or udp" in out, out
    assert "net/host-ports:4: udp port 53 is listed twice" in out, out
    assert "net/host-ports:5: port '99999' is not a port number 1..65535" in out, out
    assert "net/host-ports:1:" not in out and "net/host-ports:2:" not in out, out
    # fixed: accepted, and shown as it will be used
    (vs.cfg(g) / "net/host-ports").write_text("udp 53\ntcp 53\n")
    vs.run([g, "check"])
    assert vs.config_json(g)["network"]["host_ports"] == ["udp 53", "tcp 53"]
    # not in mode isolated
    (vs.cfg(g) / "net/mode").write_text("isolated\n")
    r = vs.run([g, "check"], check=2)
    assert "net/host-ports: only used in mode private (the mode is isolated)" in r.stdout, r.stdout


def test_net_mode_rules(vs, busybox_rootfs_tarball):
    g = build(vs, busybox_rootfs_tarball, "g", net__mode="host")
    iface(vs, g, 0, "10.66.0.2/24", dev="lo")
    r = vs.run([g, "check"], check=2)
    assert "mode host gives the guest no addresses, but interfaces/ configures some" in r.stdout
    (vs.cfg(g) / "net/mode").write_text("isolated\n")
    (vs.cfg(g) / "bcapabilities").write_text("NET_ADMIN\n")
    (vs.cfg(g) / "net/forward").write_text("tcp 1 2\n")
    r = vs.run([g, "check"], check=2)
    assert "NET_ADMIN cannot be granted in mode isolated" in r.stdout
    assert "net/forward: only used in mode private (the mode is isolated)" in r.stdout
    (vs.cfg(g) / "net/mode").write_text("private\n")
    (vs.cfg(g) / "bcapabilities").unlink()
    (vs.cfg(g) / "net/forward").unlink()
    r = vs.run([g, "check"], check=2)
    assert "interfaces/0: dev and name are not used in mode private" in r.stdout
    assert "net/gateway: missing: mode private on a bridge needs the bridge's address" in r.stdout


# ---- private namespace ------------------------------------------------------------------

@pytest.fixture
def private(nvs, busybox_rootfs_tarball):
    """Guest p on bridge vsbr0 (10.66.0.1/24), address 10.66.0.2, forwards
    tcp 10022 -> 22 and udp 10053 -> 53, NET_RAW for the spoofing test."""
    p = build(nvs, busybox_rootfs_tarball, "p", net__mode="private", net__gateway="10.66.0.1/24",
              net__forward="tcp 10022 22\nudp 10053 53\n", bcapabilities="NET_RAW")
    iface(nvs, p, 0, "10.66.0.2")
    nvs.run([p, "start"])
    return nvs


def test_private_guest_has_its_own_stack(private):
    vs, net = private, private.net
    st = vs.state("p")
    assert os.readlink(f"/proc/{st['init']}/ns/net") != os.readlink(net.path)
    out = vs.run(["p", "exec", "ip", "-o", "addr"]).stdout
    assert re.search(r"eth0\s+inet 10\.66\.0\.2/24", out) and re.search(r"lo\s+inet 127\.0\.0\.1/8", out), out
    out = vs.run(["p", "exec", "ip", "route"]).stdout
    assert "default via 10.66.0.1 dev eth0" in out, out
    assert "vs-p" in [l["ifname"] for l in links(net)]
    assert "vsbr0 10.66.0.1/24" in addrs(net)
    assert {"ip vserver-p", "netdev vserver-p"} <= set(nft_tables(net))
    caps = dict(l.split(":\t") for l in vs.run(["p", "exec", "/t", "caps"]).stdout.splitlines())
    assert int(caps["CapBnd"], 16) & (1 << 12), caps          # NET_ADMIN, in its own namespace


def test_private_net_tun_gives_the_guest_its_own_tun_devices(nvs, busybox_rootfs_tarball):
    """net/tun: /dev/net/tun in a private guest, which makes its own tun
    device (OpenVPN's TUNSETIFF) in its own namespace; without it, no node,
    and one made by a guest with MKNOD is refused by the device policy."""
    vs, net = nvs, nvs.net
    t = build(vs, busybox_rootfs_tarball, "t", net__mode="private", net__gateway="10.66.0.1/24", net__tun="",
              bcapabilities="MKNOD")
    iface(vs, t, 0, "10.66.0.2")
    vs.run([t, "start"])
    assert gprobe(vs, t, "tun", "vpn0", "persist") == "OK"
    assert "vpn0" in gip(vs, t, "-o", "link")
    assert "vpn0" not in [l["ifname"] for l in links(net)]          # not on the host
    assert vs.config_json(t)["network"]["tun"] is True
    vs.run([t, "stop"])
    (vs.cfg(t) / "net/tun").unlink()
    vs.run([t, "start"])
    assert gprobe(vs, t, "tun", "vpn0") == "open: ENOENT"
    # with MKNOD, a guest can make the nodes the device policy allows, not this one
    assert gprobe(vs, t, "mknod", "/dev/null2", "c", "1", "3") == "OK"
    assert gprobe(vs, t, "mknod", "/dev/tun", "c", "10", "200") == "EPERM"
    vs.run([t, "stop"])
    # only in mode private (the guest needs NET_ADMIN in a namespace of its own)
    (vs.cfg(t) / "net/tun").write_text("")
    (vs.cfg(t) / "net/mode").write_text("none\n")
    r = vs.run([t, "check"], check=2)
    assert "net/tun: only used in mode private (the mode is none)" in r.stdout, r.stdout
    (vs.cfg(t) / "net/mode").write_text("private\n")
    (vs.cfg(t) / "userns").write_text("")
    r = vs.run([t, "check"], check=2)
    assert "net/tun: a user-namespace guest cannot make tun devices" in r.stdout, r.stdout


def gip(vs, name, *args):
    """The host's ip(8) in a private guest's network namespace (busybox ip
    does not show MTU metrics)."""
    return subprocess.run(["nsenter", f"--net={vs.rundir / name / 'netns'}", "ip", *args],
                          capture_output=True, text=True, check=True).stdout


def test_private_veth_mtu_and_route_mtu(private, busybox_rootfs_tarball):
    """The veth has the largest MTU (guest <-> host at loopback speed); only
    the guest's default route carries the MTU of the way out: net/mtu, else
    the host default route's device, else 1500.  A bridge the admin made
    keeps its MTU."""
    vs, net = private, private.net
    assert "mtu 65535" in gip(vs, "p", "link", "show", "eth0")
    assert "mtu 65535" in net.run("ip", "link", "show", "vs-p").stdout
    assert "mtu 65535" in net.run("ip", "link", "show", "vsbr0").stdout
    out = gip(vs, "p", "route")
    assert re.search(r"default via 10\.66\.0\.1 dev eth0 .*mtu 1500", out), out    # no default route on the host
    assert not re.search(r"10\.66\.0\.0/24 .*mtu", out), out                     # the bridge's subnet: the link's
    # the host's default route's device gives the way out
    net.sh("ip link set up0 mtu 1480; ip route add default via 203.0.113.2 dev up0")
    q = build(vs, busybox_rootfs_tarball, "q", net__mode="private", net__gateway="10.66.0.1/24")
    iface(vs, q, 0, "10.66.0.3")
    vs.run([q, "start"])
    assert re.search(r"default via 10\.66\.0\.1 dev eth0 .*mtu 1480", gip(vs, q, "route"))
    vs.run([q, "stop"])
    # net/mtu wins; the outgoing path still works through it (masquerade)
    (vs.cfg(q) / "net" / "mtu").write_text("1400\n")
    assert vs.config_json(q)["network"]["mtu"] == 1400
    vs.run([q, "start"])
    assert re.search(r"default via 10\.66\.0\.1 dev eth0 .*mtu 1400", gip(vs, q, "route"))
    # a 3000-byte datagram to the internet is fragmented by the guest itself: the first one arrives
    # (sent whole with DF on the 65535 link, the host would drop it for the 1480 uplink)
    isrv = Server([*net.inet.prefix, str(PROBE), "udp-serve", "203.0.113.2", "5353", "10"])
    try:
        r = gprobe(vs, q, "udp-send", "203.0.113.2", "5353", "x" * 3000, "5")
        assert r.startswith("OK ") and r.endswith(" ACK"), r
        out, _ = isrv.rest()
        assert out.startswith("FROM 203.0.113.1:") and "xxxx" in out, out     # masqueraded
    finally:
        isrv.close()
    vs.run([q, "stop"])
    # a bridge the admin made (one port of MTU 1400): the veth takes its MTU, no route MTU
    net.sh("ip link add adm0 type bridge; ip link add ap0 mtu 1400 type veth peer name ap1 mtu 1400;"
           "ip link set ap0 master adm0; ip link set adm0 up; ip addr add 10.67.0.1/24 dev adm0")
    b = build(vs, busybox_rootfs_tarball, "b", net__mode="private", net__gateway="10.67.0.1/24", net__bridge="adm0")
    iface(vs, b, 0, "10.67.0.2")
    vs.run([b, "start"])
    assert "mtu 1400" in gip(vs, b, "link", "show", "eth0")
    assert "mtu" not in gip(vs, b, "route", "show", "default")
    vs.run([b, "stop"])
    assert "adm0" in [l["ifname"] for l in links(net)]      # the admin's bridge stays


def install_host_binary(root, path):
    """Copy a host program and the shared libraries it needs into a guest
    root (test tooling: the busybox guest has no nft)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True, check=True).stdout
    files = [path] + re.findall(r"(/\S+) \(0x", out)
    for f in files:
        dst = Path(str(root) + f)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(Path(f).read_bytes())
        dst.chmod(0o755)


def test_private_guest_applies_its_own_nftables_rules(private):
    vs, net = private, private.net
    install_host_binary(vs.root("p"), "/usr/sbin/nft")
    srv = gserve(vs, "p", "tcp-serve", "0.0.0.0", "22", "15")
    try:
        assert srv.first == "LISTEN 0.0.0.0:22"
        assert hprobe(net, "tcp-connect", "10.66.0.2", "22").startswith("OK ")
        # guest root, with NET_ADMIN in its own namespace only, loads a ruleset
        r = vs.run(["p", "exec", "/usr/sbin/nft", "add table inet guestfw; add chain inet guestfw in { type filter "
                    "hook input priority 0; policy accept; tcp dport 22 drop; }"], check=None)
        assert r.returncode == 0, r.stderr
        assert "guestfw" in vs.run(["p", "exec", "/usr/sbin/nft", "list", "tables"]).stdout
        assert hprobe(net, "tcp-connect", "10.66.0.2", "22", "1") == "ETIMEDOUT"
        # the host's ruleset is not the guest's, and the guest cannot see the host's
        assert "inet guestfw" not in nft_tables(net)
        assert "vserver-p" not in vs.run(["p", "exec", "/usr/sbin/nft", "list", "tables"]).stdout
        # its addresses and links likewise
        r = vs.run(["p", "exec", "ip", "addr", "add", "10.66.0.50/24", "dev", "eth0"], check=None)
        assert r.returncode == 0, r.stderr
        assert "10.66.0.50" not in "\n".join(addrs(net))
    finally:
        srv.close()


def test_private_forwards_tcp_udp_from_internet_and_host(private):
    vs, net = private, private.net
    srv = gserve(vs, "p", "tcp-serve", "0.0.0.0", "22", "10")
    try:
        assert srv.first == "LISTEN 0.0.0.0:22"
        r = net.inet.run(PROBE, "tcp-connect", "203.0.113.1", "10022", check=False).stdout.strip()
        assert r.startswith("OK ") and "PEER=203.0.113.2:" in r and "LOCAL=10.66.0.2:22" in r, r
        r = hprobe(net, "tcp-connect", "203.0.113.1", "10022")
        assert r.startswith("OK ") and "LOCAL=10.66.0.2:22" in r, r
    finally:
        srv.close()
    usrv = gserve(vs, "p", "udp-serve", "0.0.0.0", "53", "10")
    try:
        assert usrv.first == "LISTEN 0.0.0.0:53"
        r = net.inet.run(PROBE, "udp-send", "203.0.113.1", "10053", "q", check=False).stdout.strip()
        assert r.startswith("OK ") and r.endswith("203.0.113.1:10053 ACK"), r
        out, _ = usrv.rest()
        assert out.startswith("FROM 203.0.113.2:"), out
    finally:
        usrv.close()


def test_private_outgoing_traffic_is_masqueraded(private):
    vs, net = private, private.net
    isrv = Server([*net.inet.prefix, str(PROBE), "tcp-serve", "203.0.113.2", "80", "6"])
    try:
        r = gprobe(vs, "p", "tcp-connect", "203.0.113.2", "80")
        assert r.startswith("OK 10.66.0.2:") and "PEER=203.0.113.1:" in r, r
    finally:
        isrv.close()


def test_private_spoofed_source_is_dropped(private):
    vs, net = private, private.net
    isrv = Server([*net.inet.prefix, str(PROBE), "tcp-serve", "203.0.113.2", "81", "8"])
    try:
        # guest root (NET_ADMIN in its namespace) adds an address that is not its own
        vs.run(["p", "exec", "ip", "addr", "add", "10.66.0.99/24", "dev", "eth0"])
        r = vs.run(["p", "exec", "/t", "tcp-connect", "203.0.113.2", "81", "2"], check=None).stdout.strip()
        assert r.startswith("OK 10.66.0.2:"), r     # its own source still works
        r = vs.run(["p", "exec", "sh", "-c", "ip route replace default via 10.66.0.1 src 10.66.0.99 && "
                    "/t tcp-connect 203.0.113.2 81 2"], check=None).stdout.strip()
        assert r == "ETIMEDOUT", r
        out = net.run("nft", "-j", "list", "table", "netdev", "vserver-p").stdout
        pk = [int(m) for m in re.findall(r'"packets": (\d+)', out)]
        assert sum(pk) > 0, out
    finally:
        isrv.close()


def test_private_host_services_only_through_host_ports(nvs, busybox_rootfs_tarball):
    """NW-05: a private guest reaches no host service (here on the bridge's
    address, the gateway) unless net/host-ports lists its port; replies to
    the host's own connections into the guest and ping still work."""
    vs, net = nvs, nvs.net
    p = build(vs, busybox_rootfs_tarball, "p", net__mode="private", net__gateway="10.66.0.1/24",
              net__forward="tcp 10022 22", bcapabilities="NET_RAW")     # NET_RAW: busybox ping
    iface(vs, p, 0, "10.66.0.2")
    assert vs.config_json(p)["network"]["host_ports"] == []
    vs.run([p, "start"])
    s1 = hserve(net, "tcp-serve", "10.66.0.1", "7000", "60")
    s2 = hserve(net, "tcp-serve", "10.66.0.1", "7001", "60")
    s3 = hserve(net, "tcp-serve", "203.0.113.1", "7002", "60")
    gsrv = gserve(vs, p, "tcp-serve", "0.0.0.0", "22", "60")
    try:
        assert s1.first == "LISTEN 10.66.0.1:7000" and gsrv.first == "LISTEN 0.0.0.0:22", (s1.first, gsrv.first)
        # the host's services are there (the host reaches them) ...
        assert hprobe(net, "tcp-connect", "10.66.0.1", "7000").startswith("OK ")
        # ... but not for the guest: dropped (a timeout, not a refusal), on the
        # gateway and on the host's other addresses, and counted
        for addr, port in (("10.66.0.1", "7000"), ("10.66.0.1", "7001"), ("203.0.113.1", "7002")):
            assert gprobe(vs, p, "tcp-connect", addr, port, "1") == "ETIMEDOUT", (addr, port)
        out = net.run("nft", "list", "table", "ip", "vserver-p").stdout
        m = re.search(r"counter packets (\d+) bytes \d+ drop comment \"host service not in net/host-ports\"", out)
        assert m and int(m.group(1)) >= 3, out
        # the host's connections into the guest work (replies are established),
        # directly and through the forward; the guest pings its gateway
        r = hprobe(net, "tcp-connect", "10.66.0.2", "22")
        assert r.startswith("OK ") and "PEER=10.66.0.1:" in r, r
        assert hprobe(net, "tcp-connect", "203.0.113.1", "10022").startswith("OK ")
        r = vs.run([p, "exec", "/bin/busybox", "ping", "-c", "1", "-W", "3", "10.66.0.1"], check=None)
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        gsrv.close()
    vs.run([p, "stop"])
    # net/host-ports "tcp 7000": exactly that port opens
    (vs.cfg(p) / "net/host-ports").write_text("tcp 7000\n")
    cfg = vs.config_json(p)
    assert cfg["network"]["host_ports"] == ["tcp 7000"], cfg["network"]
    assert re.search(r"host_ports.*tcp 7000", vs.run([p, "config"]).stdout)
    vs.run([p, "start"])
    try:
        r = gprobe(vs, p, "tcp-connect", "10.66.0.1", "7000", "3")
        assert r.startswith("OK 10.66.0.2:") and "PEER=10.66.0.2:" in r, r
        assert gprobe(vs, p, "tcp-connect", "10.66.0.1", "7001", "1") == "ETIMEDOUT"
        # the port is open on every host address, as a host service listens
        # on any of them (the filter is by the guest's source)
        assert gprobe(vs, p, "tcp-connect", "203.0.113.1", "7002", "1") == "ETIMEDOUT"
        assert "tcp dport 7000 accept" in net.run("nft", "list", "table", "ip", "vserver-p").stdout
    finally:
        s1.close()
        s2.close()
        s3.close()


def test_private_routed_veth(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    r = build(vs, busybox_rootfs_tarball, "r", net__mode="private", net__routed="")
    iface(vs, r, 0, "198.51.100.5")
    vs.run([r, "start"])
    out = vs.run([r, "exec", "ip", "route"]).stdout
    assert "default via 169.254.0.1 dev eth0 onlink" in out, out
    routes = gip(vs, r, "-4", "route")
    assert re.search(r"^169\.254\.0\.1 dev eth0 .*scope link", routes, re.M), routes   # the host end: link MTU
    assert re.search(r"^default via 169\.254\.0\.1 dev eth0 .*mtu 1500", routes, re.M), routes
    assert "198.51.100.5 dev vs-r" in net.run("ip", "route").stdout
    srv = gserve(vs, r, "tcp-serve", "0.0.0.0", "80", "6")
    try:
        res = hprobe(net, "tcp-connect", "198.51.100.5", "80")
        assert res.startswith("OK ") and "LOCAL=198.51.100.5:80" in res, res
    finally:
        srv.close()
    vs.run([r, "stop"])
    assert "vs-r" not in [l["ifname"] for l in links(net)]


def test_private_failure_rolls_back(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    hsrv = hserve(net, "tcp-serve", "0.0.0.0", "10022", "20")   # the forward port is taken
    try:
        p = build(vs, busybox_rootfs_tarball, "p", net__mode="private", net__gateway="10.66.0.1/24",
                  net__forward="tcp 10022 22")
        iface(vs, p, 0, "10.66.0.2")
        before = host_snapshot(net)
        r = vs.run([p, "start"], check=2)
        assert "net/forward:1: tcp port 10022 is already in use on the host" in r.stderr, r.stderr
        assert host_snapshot(net) == before
    finally:
        hsrv.close()


def test_private_failure_midway_rolls_back(nvs, busybox_rootfs_tarball):
    """The bridge named in the configuration is a veth: the start fails at
    N4, after the namespace and the guest's veth exist; both go again."""
    vs, net = nvs, nvs.net
    net.run("ip", "link", "add", "brx", "type", "veth", "peer", "name", "brx-peer")
    p = build(vs, busybox_rootfs_tarball, "p", net__mode="private", net__gateway="10.66.0.1/24",
              net__bridge="brx")
    iface(vs, p, 0, "10.66.0.2")
    before = host_snapshot(net)
    r = vs.run([p, "start"], check=2)
    assert "net/bridge: device brx exists and is not a bridge (veth)" in r.stderr, r.stderr
    assert host_snapshot(net) == before
    assert not (vs.rundir / p / "net").exists() and not (vs.rundir / p / "netns").exists()
    assert vs.cgroup_dirs(p) == [] and vs.state(p) is None
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(vs.rundir) not in mounts


# ---- none and host ------------------------------------------------------------------------

def test_none_mode_has_only_loopback(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    g = build(vs, busybox_rootfs_tarball, "n")
    vs.run([g, "start"])
    assert json.loads(vs.run([g, "status", "--json"]).stdout)["network"]["mode"] == "none"
    out = vs.run([g, "exec", "ip", "-o", "link"]).stdout
    assert [l.split(":")[1].strip() for l in out.splitlines()] == ["lo"], out
    srv = gserve(vs, g, "tcp-serve", "127.0.0.1", "80", "5")
    try:
        assert gprobe(vs, g, "tcp-connect", "127.0.0.1", "80").startswith("OK ")
        assert hprobe(net, "tcp-connect", "127.0.0.1", "80") == "ECONNREFUSED"
        assert gprobe(vs, g, "tcp-connect", "203.0.113.2", "80") == "ENETUNREACH"
    finally:
        srv.close()


def test_host_mode_shares_the_host_stack(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    g = build(vs, busybox_rootfs_tarball, "h", net__mode="host")
    vs.run([g, "start"])
    out = vs.run([g, "exec", "ip", "-o", "link"]).stdout
    assert "up0" in out
    assert gprobe(vs, g, "bind", "203.0.113.1", "9999") == "OK 203.0.113.1:9999"


# ---- cycles ------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["isolated", "private", "private-routed", "none"])
def test_50_cycles_leave_nothing(nvs, busybox_rootfs_tarball, mode):
    vs, net = nvs, nvs.net
    cfg = {}
    if mode.startswith("private"):
        cfg["net__mode"] = "private"
        if mode == "private-routed":
            cfg["net__routed"] = ""
        else:
            cfg["net__gateway"] = "10.66.0.1/24"
            cfg["net__forward"] = "tcp 10022 22"
    g = build(vs, busybox_rootfs_tarball, "c", **cfg)
    if mode == "isolated":
        iface(vs, g, 0, "203.0.113.30/24", dev="up0")
    elif mode.startswith("private"):
        iface(vs, g, 0, "10.66.0.2")
    before = host_snapshot(net)
    cg2 = [d for d in vs.cgroup_parent_dirs() if (d / "cgroup.controllers").exists()]
    for i in range(50):
        vs.run([g, "start"])
        if i == 0 and mode == "isolated":
            assert "up0 203.0.113.30/24" in addrs(net)
        vs.run([g, "stop", "--timeout", "5"])
    assert host_snapshot(net) == before
    assert vs.cgroup_dirs(g) == []
    assert not (vs.rundir / g / "net").exists() and not (vs.rundir / g / "netns").exists()
    for d in cg2:
        assert not (d / g).exists()


def test_killed_guest_network_is_cleaned_by_stop(nvs, busybox_rootfs_tarball):
    vs, net = nvs, nvs.net
    before = host_snapshot(net)
    p = build(vs, busybox_rootfs_tarball, "p", net__mode="private", net__gateway="10.66.0.1/24")
    iface(vs, p, 0, "10.66.0.2")
    vs.run([p, "start"])
    st = vs.state(p)
    # SIGKILL the monitor (our own child's pid, verified), then the guest
    os.kill(st["monitor"], signal.SIGKILL)
    wait_until(lambda: not pid_alive(st["monitor"], st["monitor_start"]), 10)
    assert "vs-p" in [l["ifname"] for l in links(net)]
    vs.run([p, "stop", "--timeout", "3"])
    assert host_snapshot(net) == before
