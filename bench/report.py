#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""bench/report.py RESULTS_DIR OUT.md: the benchmark report from the raw
results of bench/run.sh (hyperfine JSON exports, kv.tsv, phases.txt,
boot.txt).  Ratios are taken between medians (the machines these run on
are shared; the median is less sensitive to a neighbour's burst than the
mean).  Text below the ANALYSIS marker of an existing OUT.md is kept."""
import json
import math
import os
import statistics
import sys

ANALYSIS = "<!-- analysis: everything below this line is kept by bench/run.sh -->"
MIB_KIB = 1024


def load_kv(d):
    kv = {}
    p = os.path.join(d, "kv.tsv")
    if os.path.exists(p):
        for line in open(p):
            k, _, v = line.rstrip("\n").partition("\t")
            kv[k] = v
    return kv


def load_hf(d, name):
    p = os.path.join(d, name + ".json")
    if not os.path.exists(p):
        return None
    return {r["command"]: r for r in json.load(open(p))["results"]}


def ms(x):
    return "%.2f ms" % (x * 1e3) if x is not None and not math.isnan(x) else "n/a"


def sec(x):
    return "%.2f s" % x if x is not None and not math.isnan(x) else "n/a"


def ratio(a, b):
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return None
    return a / b


def rfmt(r):
    return "%.2f×" % r if r is not None else "n/a"


def verdict(ok):
    if ok is None:
        return "n/a"
    return "**PASS**" if ok else "**FAIL**"


def hf_row(r, base=None):
    med = r["median"]
    return "| `%s` | %s ± %s | %s | %s | %s | %d | %s |" % (
        r["command"], ms(r["mean"]), ms(r["stddev"]), ms(med), ms(r["min"]), ms(r["max"]),
        len(r["times"]), rfmt(ratio(med, base)) if base else "1.00×")


HF_HEAD = ("| command | mean ± σ | median | min | max | runs | ratio (medians) |\n"
           "|---|---|---|---|---|---|---|")


def main():
    d, out = sys.argv[1], sys.argv[2]
    kv = load_kv(d)
    ex_vs = load_hf(d, "exec_vs") or {}
    ex_lxc = load_hf(d, "exec_lxc") or {}
    cyc = load_hf(d, "cycle") or {}
    st = load_hf(d, "startup") or {}
    exi_vs = load_hf(d, "exec_idle_vs") or {}
    exi_lxc = load_hf(d, "exec_idle_lxc") or {}
    cg = dict(load_hf(d, "cgroup") or {})
    cg.update(load_hf(d, "cgroup_idle") or {})

    def med(tab, prefix):
        for k, r in tab.items():
            if k.startswith(prefix):
                return r
        return None

    r_vs = med(ex_vs, "vserver")
    r_ns = med(ex_vs, "nsenter")
    r_la = med(ex_lxc, "lxc-attach")
    c_bare = med(cyc, "bare")
    c_vs = med(cyc, "vserver")
    c_lxc = med(cyc, "LXC")
    m = lambda r: r["median"] if r else None

    # systemd boots
    boots = {"vs": [], "lxc": []}
    stops = {"vs": [], "lxc": []}
    users = {"vs": [], "lxc": []}     # systemd's own "Startup finished ... (userspace)"
    outside = {"vs": [], "lxc": []}   # boot minus that: runtime start and the polling
    fails = {"vs": 0, "lxc": 0}
    bp = os.path.join(d, "boot.txt")
    if os.path.exists(bp):
        for line in open(bp):
            f = line.split() + ["nan"]
            k, b, s, u = f[:4]
            if b == "fail":
                fails[k] += 1
                continue
            boots[k].append(float(b))
            if s != "nan":
                stops[k].append(float(s))
            if u != "nan":
                users[k].append(float(u))
                outside[k].append(float(b) - float(u))
    smed = lambda xs: statistics.median(xs) if xs else None

    # phases
    phases = {"vs": [[], [], []], "lxc": [[], [], []]}
    pp = os.path.join(d, "phases.txt")
    if os.path.exists(pp):
        for line in open(pp):
            f = line.split()
            t = [float(x) for x in f[1:]]
            for i in range(3):
                phases[f[0]][i].append(t[i + 1] - t[i])

    rows = []
    # 1. exec
    x = ratio(m(r_vs), m(r_ns))
    rows.append(("1", "exec latency: `vserver G exec /bin/true` vs `nsenter -t PID -a /bin/true`",
                 ms(m(r_vs)), ms(m(r_ns)), rfmt(x), "≤ 1.2×", verdict(x <= 1.2 if x else None)))
    x2 = ratio(m(r_vs), m(r_la))
    rows.append(("1", "exec latency: vserver vs `lxc-attach -- /bin/true`",
                 ms(m(r_vs)), ms(m(r_la)), rfmt(x2), "—", "info"))
    ri_vs, ri_ns, ri_la = med(exi_vs, "vserver"), med(exi_vs, "nsenter"), med(exi_lxc, "lxc-attach")
    if ri_vs and ri_ns:
        x = ratio(m(ri_vs), m(ri_ns))
        rows.append(("1b", "exec latency after %s s idle: vserver vs nsenter (same target)" % kv.get(
            "idle_s", "?"), ms(m(ri_vs)), ms(m(ri_ns)), rfmt(x), "≤ 1.2×",
            verdict(x <= 1.2 if x else None)))
    if ri_vs and ri_la:
        rows.append(("1b", "exec latency after %s s idle: vserver vs lxc-attach" % kv.get(
            "idle_s", "?"), ms(m(ri_vs)), ms(m(ri_la)), rfmt(ratio(m(ri_vs), m(ri_la))), "—",
            "info"))
    # 2. cycles
    x = ratio(m(c_vs), m(c_bare))
    rows.append(("2", "start + ready + stop: vserver vs bare `unshare … chroot ROOT /bin/true`",
                 ms(m(c_vs)), ms(m(c_bare)), rfmt(x), "≤ 1.5×", verdict(x <= 1.5 if x else None)))
    x = ratio(m(c_lxc), m(c_vs))
    rows.append(("2", "start + ready + stop: LXC vs vserver (how many times faster vserver is)",
                 ms(m(c_vs)), ms(m(c_lxc)), rfmt(x), "≥ 3×", verdict(x >= 3 if x else None)))
    # 3. systemd
    bv, bl = smed(boots["vs"]), smed(boots["lxc"])
    if "note_boot" in kv:
        rows.append(("3", "Debian systemd guest start → `running`", "n/a", "n/a", "n/a", "≤ 0.8×",
                     "skipped"))
    elif bl is None:
        rows.append(("3", "Debian systemd guest start → `running`: vserver vs LXC", sec(bv),
                     "n/a", "n/a", "≤ 0.8×", "LXC skipped"))
    else:
        x = ratio(bv, bl)
        rows.append(("3", "Debian systemd guest start → `running`: vserver vs LXC", sec(bv),
                     sec(bl), rfmt(x), "≤ 0.8×", verdict(x <= 0.8 if x else None)))
    # 4. monitor
    for key, what in (("bb", "busybox guest"), ("sd", "systemd guest")):
        rv, rl = kv.get("mon_vs_%s_rss_kib" % key), kv.get("mon_lxc_%s_rss_kib" % key)
        if rv is None:
            continue
        rv = int(rv)
        rows.append(("4", "monitor RSS (%s): vserver-monitor vs `[lxc monitor]`" % what,
                     "%d KiB" % rv, "%s KiB" % rl if rl else "n/a",
                     rfmt(ratio(rv, int(rl))) if rl else "n/a", "< 1 MiB",
                     verdict(rv < MIB_KIB)))

    L = []
    w = L.append
    w("# vserver benchmark results")
    w("")
    w("Generated by `bash bench/run.sh` on %s (see [README.md](README.md) for what each number "
      "means). One run, one busybox guest root shared by vserver, LXC and the bare "
      "`unshare`+`chroot`; one Debian systemd guest root shared by vserver and LXC." % kv.get("date", "?"))
    w("")
    w("## Results")
    w("")
    w("| # | measurement | vserver | peer | ratio | target | verdict |")
    w("|---|---|---|---|---|---|---|")
    for r in rows:
        w("| %s |" % " | ".join(r))
    w("")
    w("Times are medians; ratios are vserver ÷ peer, except \"LXC vs vserver\" (LXC ÷ vserver).")
    errs = {k: v for k, v in kv.items() if k.startswith(("error_", "note_"))}
    for k, v in errs.items():
        w("")
        w("- %s: %s" % (k, v))
    w("")

    w("### 1. exec latency (hyperfine, %s runs after %s warm-up runs, no shell)" % (
        kv.get("runs_exec", "?"), kv.get("warmup_exec", "?")))
    w("")
    w(HF_HEAD)
    base = m(r_ns)
    for r in list(ex_vs.values()) + list(ex_lxc.values()):
        w(hf_row(r, base))
    w("")
    w("Ratio column: to `nsenter`. PID is the host pid of the guest's PID 1 (`init` in "
      "`RUNDIR/bb/state`).")
    w("")
    if exi_vs or exi_lxc:
        w("#### 1b. the same after %s s of idleness before each run (`--prepare 'sleep %s'`, "
          "%s runs)" % (kv.get("idle_s", "?"), kv.get("idle_s", "?"), kv.get("runs_idle", "?")))
        w("")
        w(HF_HEAD)
        base = m(ri_ns)
        for r in list(exi_vs.values()) + list(exi_lxc.values()):
            w(hf_row(r, base))
        w("")
        w("An administrator's `exec` usually comes after a pause, not 100 back to back. See "
          "\"cgroup migration cost\" below for why the pause matters.")
        w("")

    w("### 2. start until ready, plus stop (hyperfine, %s runs after %s warm-up runs)" % (
        kv.get("runs_cycle", "?"), kv.get("warmup_cycle", "?")))
    w("")
    w(HF_HEAD)
    base = m(c_bare)
    for r in cyc.values():
        w(hf_row(r, base))
    w("")
    w("Ratio column: to the bare `unshare`. The vserver guest has init style `%s` "
      "(vserver-init runs `/etc/init.d/rc 3`, which starts one service); the LXC guest runs "
      "the same vserver-init binary with the same arguments as its `lxc.init.cmd`, stopped by "
      "SIGTERM (`lxc.signal.halt`). \"Ready\" = a `/bin/true` executed inside." % kv.get("bb_style", "?"))
    w("")
    if phases["vs"][0]:
        w("Phases of the same cycles, timed separately (median of %d runs each, wall clock from "
          "bash):" % len(phases["vs"][0]))
        w("")
        w("| runtime | start | ready (`/bin/true` inside) | stop | sum |")
        w("|---|---|---|---|---|")
        for k, name in (("vs", "vserver (`start` / `exec` / `stop`)"),
                        ("lxc", "LXC (`lxc-start -d` / `lxc-attach` / `lxc-stop`)")):
            p = [statistics.median(x) for x in phases[k]]
            w("| %s | %s | %s | %s | %s |" % (name, ms(p[0]), ms(p[1]), ms(p[2]), ms(sum(p))))
        w("")

    w("### 3. Debian systemd guest: start to `systemctl is-system-running` = `running`")
    w("")
    if "note_boot" in kv:
        w(kv["note_boot"])
    else:
        w("Guest: `vserver sd build -m debootstrap -- -d %s -- --variant=minbase "
          "--include=systemd-sysv` (built in %s s; systemd %s; init style `%s`). LXC boots the "
          "same root with `lxc.init.cmd = /sbin/init`, `lxc.signal.halt = SIGRTMIN+3`. One "
          "warm-up boot each, then %s boots each, alternating. Clock: from just before "
          "`vserver sd start` / `lxc-start -d` until `systemctl is-system-running --wait` "
          "(polled through `vserver sd exec -T` / `lxc-attach` every 20 ms until systemd "
          "answers) prints `running`." % (
              kv.get("sd_suite", "?"), kv.get("sd_build_s", "?"), kv.get("v_systemd_guest", "?"),
              kv.get("sd_style", "?"), kv.get("runs_boot", "?")))
        w("")
        w("| runtime | boots to `running` (s) | median | mean | min | failed | "
          "systemd userspace (median) | the rest (median) | stop (median) |")
        w("|---|---|---|---|---|---|---|---|---|")
        for k, name in (("vs", "vserver"), ("lxc", "LXC")):
            b = boots[k]
            if not b and not fails[k]:
                w("| %s | skipped | | | | | | | |" % name)
                continue
            w("| %s | %s | %s | %s | %s | %d | %s | %s | %s |" % (
                name, " ".join("%.3f" % x for x in b), sec(smed(b)),
                sec(statistics.mean(b)) if b else "n/a", sec(min(b)) if b else "n/a",
                fails[k], sec(smed(users[k])), sec(smed(outside[k])), sec(smed(stops[k]))))
        w("")
        w("\"systemd userspace\" is systemd's own count (`systemd-analyze time`, read after "
          "each boot): from its start as PID 1 to the end of its boot transaction. \"The rest\" "
          "is the measured boot minus that: the runtime's start of the guest up to PID 1, plus "
          "the latency of the polling.")
    w("")

    w("### 4. per-guest monitor memory")
    w("")
    w("| process | guest | RSS (VmRSS) | PSS (smaps_rollup) |")
    w("|---|---|---|---|")
    for key, guest in (("bb", "busybox"), ("sd", "systemd")):
        for who in ("vs", "lxc"):
            k = "mon_%s_%s" % (who, key)
            if k + "_rss_kib" in kv:
                w("| `%s` | %s | %s KiB | %s KiB |" % (
                    kv.get(k + "_cmd", "?").strip(), guest, kv[k + "_rss_kib"], kv[k + "_pss_kib"]))
    w("")
    w("Measured half a second after the guest became ready (idle guest). The LXC monitor is the "
      "parent of the container's init, checked to be `[lxc monitor]`.")
    w("")

    if st:
        w("### Process start-up (diagnostic, not a target)")
        w("")
        w(HF_HEAD)
        base = m(med(st, "nsenter"))
        for r in st.values():
            w(hf_row(r, base))
        w("")
        w("vserver's DT_NEEDED: `%s` (%s shared objects once resolved by ldd). The two empty "
          "programs isolate what loading those libraries costs each process start." % (
              kv.get("vs_needed", "?").strip(), kv.get("vs_ldd_count", "?")))
        w("")

    if cg:
        w("### cgroup migration cost (diagnostic, not a target)")
        w("")
        w(HF_HEAD)
        base = m(med(cg, "sh: echo $$ > /dev/null"))
        for r in cg.values():
            w(hf_row(r, base))
        w("")
        w("A shell writing its own pid into `cgroup.procs` of an empty cgroup (`%s`), compared "
          "with the same shell writing it to /dev/null. vserver's `exec` and `start` (and "
          "`lxc-attach`, `lxc-start`) move a process into the guest's cgroup in every "
          "hierarchy; `nsenter` does not." % kv.get("cg_probe", "?"))
        w("")

    w("## Machine")
    w("")
    w("| | |")
    w("|---|---|")
    for k, name in (("date", "date"), ("nproc", "nproc"), ("cpu", "CPU"), ("memory", "memory"),
                    ("kernel", "kernel (`uname -r`)"), ("os", "OS"), ("pid1", "PID 1"),
                    ("cgroups", "cgroup layout"), ("loadavg_start", "load average at start"),
                    ("loadavg_end", "load average at end"), ("v_vserver", "vserver"),
                    ("v_lxc", "LXC"), ("v_hyperfine", "hyperfine"),
                    ("v_utillinux", "util-linux (nsenter, unshare)"),
                    ("v_busybox", "busybox-static (guest)"),
                    ("v_systemd_guest", "systemd (Debian guest)")):
        if k in kv:
            w("| %s | %s |" % (name, kv[k]))
    w("")

    old_tail = ""
    if os.path.exists(out):
        txt = open(out).read()
        i = txt.find(ANALYSIS)
        if i >= 0:
            old_tail = txt[i + len(ANALYSIS):]
    w(ANALYSIS + old_tail.rstrip("\n"))
    with open(out + ".tmp", "w") as f:
        f.write("\n".join(L) + "\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
