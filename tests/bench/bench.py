#!/usr/bin/env python3
"""bench.py: measuring and reporting helpers for tests/bench/run.sh (standard library only).

Subcommands:
  hyperfine JSON                 median, spread of one hyperfine --export-json result (ms)
  median FILE                    the median of the numbers in FILE, one a line
  timed RESULT -- CMD...         run CMD once under /usr/bin/time: "wall_s rss_kb rc" into RESULT
  reqlog API [--since T]         summary of dosnap-mock's request log as key=value lines
  clearlog API                   empty dosnap-mock's request log
  first-request API RUNS -- CMD  start CMD RUNS times (a fresh {tmp} each), time to the mock's
                                 first logged request, wall time and request count (medians)
  report RESULTS OUT [SVG]       write the Markdown report from RESULTS (key=value lines)
"""
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CONTROL = "/__mock/"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fetch_log(api):
    with urllib.request.urlopen(api + "/__mock/requests", timeout=30) as f:
        d = json.load(f)
    reqs = [r for r in d["requests"] if not r["path"].startswith(CONTROL)]
    if d["total"] > len(d["requests"]):
        # The mock keeps the newest 100,000; say so rather than undercount silently.
        print("bench.py: the mock's request log overflowed (%d total, %d kept)"
              % (d["total"], len(d["requests"])), file=sys.stderr)
    return reqs


def clear_log(api):
    req = urllib.request.Request(api + "/__mock/requests", method="DELETE")
    with urllib.request.urlopen(req, timeout=30) as f:
        f.read()


def cmd_hyperfine(path):
    d = json.load(open(path))
    t = [x * 1000 for x in d["results"][0]["times"]]
    t.sort()
    q = statistics.quantiles(t, n=10) if len(t) >= 2 else [t[0]] * 9
    print("%.3f %.3f %.3f %.3f %.3f %.3f %.3f %d" % (
        median(t), statistics.mean(t), statistics.pstdev(t), t[0], t[-1], q[0], q[8], len(t)))


def cmd_median(path):
    xs = [float(x) for x in open(path).read().split()]
    print("%g" % median(xs))


def cmd_timed(result, argv):
    """Wall time from this process; peak RSS from GNU time (its child is the program itself)."""
    rss = "nan"
    with tempfile.NamedTemporaryFile("r") as tf:
        have_time = os.access("/usr/bin/time", os.X_OK)
        full = (["/usr/bin/time", "-q", "-f", "%M", "-o", tf.name] if have_time else []) + argv
        t0 = time.perf_counter()
        p = subprocess.run(full, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - t0
        if have_time:
            lines = [l for l in open(tf.name).read().split("\n") if l.strip().isdigit()]
            if lines:
                rss = lines[-1].strip()
    with open(result, "w") as f:
        f.write("%.4f %s %d\n" % (wall, rss, p.returncode))


def summarize(reqs):
    out = {"requests": len(reqs), "n429": sum(1 for r in reqs if r["status"] == 429)}
    if reqs:
        ts = [r["time"] for r in reqs]
        out["first"] = "%.6f" % min(ts)
        out["last"] = "%.6f" % max(ts)
    kinds = {}
    for r in reqs:
        k = r["method"] + " " + re.sub(r"/[0-9]+", "/{id}", r["path"])
        kinds[k] = kinds.get(k, 0) + 1
    out["kinds"] = ";".join("%s=%d" % kv for kv in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return out


def cmd_reqlog(api):
    for k, v in summarize(fetch_log(api)).items():
        print("%s=%s" % (k, v))


def cmd_first_request(api, runs, argv):
    firsts, walls, counts = [], [], []
    for _ in range(runs):
        clear_log(api)
        tmp = tempfile.mkdtemp(prefix="dosnap-bench.")
        os.chmod(tmp, 0o700)
        cmd = [a.replace("{tmp}", tmp) for a in argv]
        t0 = time.time()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
        t1 = time.time()
        shutil.rmtree(tmp, ignore_errors=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode(errors="replace"))
            sys.exit("bench.py: %s exited %d" % (cmd[0], p.returncode))
        reqs = fetch_log(api)
        if not reqs:
            sys.exit("bench.py: %s sent no request" % cmd[0])
        firsts.append((min(r["time"] for r in reqs) - t0) * 1000)
        walls.append((t1 - t0) * 1000)
        counts.append(len(reqs))
    print("%.2f %.2f %.2f %.2f %g %d" % (median(firsts), min(firsts), max(firsts),
                                          median(walls), median(counts), runs))


# --- the report ---------------------------------------------------------------

def load(path):
    r = {}
    for line in open(path):
        line = line.rstrip("\n")
        if "=" in line:
            k, v = line.split("=", 1)
            r[k] = v
    return r


def num(r, k):
    try:
        return float(r[k])
    except (KeyError, ValueError):
        return float("nan")


def verdict(ok):
    if ok is None:
        return "n/a"
    return "met" if ok else "**MISSED**"


def fmt(x, nd=1):
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    return "{:,.{}f}".format(x, nd)


def table(rows, head):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def le(x, lim):
    return None if math.isnan(x) else x <= lim


def ge(x, lim):
    return None if math.isnan(x) else x >= lim


def cmd_report(path, out, svg):
    r = load(path)
    smoke = r.get("smoke") == "1"
    S = num(r, "flow_scale")
    L = []
    w = L.append
    w("# dosnap benchmarks%s\n\n" % (" (smoke run: tiny sizes, not for quoting)" if smoke else ""))
    w("Written by `make %s` (tests/bench/run.sh); do not edit by hand. Every figure below was "
      "measured in this run; a target that was not reached says **MISSED**.\n\n"
      % ("bench-smoke" if smoke else "bench"))
    w(table([
        ["date", r.get("date", "")],
        ["commit", "`%s`" % r.get("commit", "")],
        ["CPU", "%s (%s logical CPUs)" % (r.get("cpu", "?"), r.get("nproc", "?"))],
        ["memory", r.get("mem", "?")],
        ["kernel", r.get("kernel", "?")],
        ["compiler flags", "`-O2 -g -DNDEBUG`"],
        ["tools", r.get("tools", "")],
        ["load average (1, 5, 15 min) at start / end", "%s / %s" % (r.get("load_start", "?"), r.get("load_end", "?"))],
        ["`make %s` took" % ("bench-smoke" if smoke else "bench"), "%s s" % r.get("total_s", "?")],
    ], ["machine", ""]))

    # 1. invocation cost
    w("\n## 1. Invocation cost when nothing is due\n\n")
    w("`dosnap run -f SCHEDULE --state-dir DIR --now %s` on a generated %s-entry schedule "
      "(`M H * * * ID keep=3` lines across %s `CRON_TZ` zones), nothing due, the state file "
      "written by a warm-up run first. Wall time: %s runs (%s). Peak RSS: `/usr/bin/time -f %%M`, "
      "median of %s runs. An empty C program (`int main(void){return 0;}`, `-O2`) measured the "
      "same way for reference.\n\n"
      % (r.get("inv_now"), r.get("inv_entries"), r.get("inv_zones"), r.get("inv_runs"),
         r.get("inv_method"), r.get("inv_rss_runs")))
    med, rss = num(r, "inv_median_ms"), num(r, "inv_rss_kb") / 1024
    w(table([
        ["wall time, median", fmt(med, 2) + " ms", fmt(num(r, "empty_median_ms"), 2) + " ms",
         "<= 2 ms", verdict(le(med, 2))],
        ["wall time, mean ± sd", "%s ± %s ms" % (fmt(num(r, "inv_mean_ms"), 2), fmt(num(r, "inv_sd_ms"), 2)),
         "%s ± %s ms" % (fmt(num(r, "empty_mean_ms"), 2), fmt(num(r, "empty_sd_ms"), 2)), "", ""],
        ["wall time, 10th–90th percentile", "%s – %s ms" % (fmt(num(r, "inv_p10_ms"), 2), fmt(num(r, "inv_p90_ms"), 2)),
         "%s – %s ms" % (fmt(num(r, "empty_p10_ms"), 2), fmt(num(r, "empty_p90_ms"), 2)), "", ""],
        ["wall time, min – max", "%s – %s ms" % (fmt(num(r, "inv_min_ms"), 2), fmt(num(r, "inv_max_ms"), 2)),
         "%s – %s ms" % (fmt(num(r, "empty_min_ms"), 2), fmt(num(r, "empty_max_ms"), 2)), "", ""],
        ["peak RSS, median", fmt(rss, 2) + " MiB", fmt(num(r, "empty_rss_kb") / 1024, 2) + " MiB",
         "<= 3 MiB", verdict(le(rss, 3))],
    ], ["", "dosnap run", "empty program", "target", ""]))
    w("\nShared libraries `dosnap` is linked against (`ldd`): %s. libcurl is not among them: "
      "dosnap opens it with `dlopen()` only when it has network work.%s\n"
      % (r.get("ldd", "?"), "" if r.get("ldd_curl") == "0" else
         " **But ldd lists libcurl: it is loaded at every start.**"))

    # 2. time to first request
    w("\n## 2. Invocation cost when something is due: time to the first request\n\n")
    w("From just before the process is started (Python `subprocess`, which adds its own fork "
      "and exec) to the first request in dosnap-mock's log (its wall-clock receive time), "
      "median of %s runs each. `curl` (linked with libcurl at build time) is the reference for "
      "what any libcurl program pays. `dosnap run` has the %s-entry schedule plus one entry due "
      "now for one droplet, a fresh state directory each run, and `--time-scale 0.01` so its "
      "flow ends quickly.\n\n" % (r.get("fr_runs"), r.get("inv_entries")))
    rows = []
    for key, label in (("fr_curl", "`curl -s $API/v2/account`"),
                       ("fr_list", "`dosnap list` (%s droplets)" % r.get("fr_droplets", "?")),
                       ("fr_run", "`dosnap run` (one entry due)")):
        v = r.get(key, "").split()
        if len(v) == 6:
            rows.append([label, v[0] + " ms", "%s – %s ms" % (v[1], v[2]), v[3] + " ms", v[4]])
        else:
            rows.append([label, "n/a", "", "", ""])
    w(table(rows, ["command", "to first request, median", "min – max", "whole run, median",
                   "requests"]))
    w("\nNo numeric target; the point is that start-up (schedule, state, `dlopen` of libcurl) "
      "costs a few milliseconds against flows that take minutes.\n")

    # 3. next fire time
    w("\n## 3. Next fire time throughput\n\n")
    w("`build/bench/bench_next`: `sched_next()` in-process on one core, from 4,096 start "
      "instants spread over 2020–2040, at least 0.3 s per row.\n\n")
    rows = []
    for line in r.get("next_lines", "").split("|"):
        m = re.match(r"next_fire (.*) (\S+) (\d+)$", line.strip())
        if not m:
            continue
        expr, zone, rate = m.group(1), m.group(2), float(m.group(3))
        lim = 2e6 if zone == "UTC" else 5e5
        rows.append(["`%s`" % expr, zone, fmt(rate / 1e6, 2) + " M/s",
                     ">= %s M/s" % fmt(lim / 1e6, 1), verdict(ge(rate, lim))])
    if not rows:
        rows.append(["bench_next gave no figures", "", "", "", "**MISSED**"])
    w(table(rows, ["expression", "zone", "computations/s", "target", ""]))

    # 4. the mock
    w("\n## 4. dosnap-mock throughput\n\n")
    rps = num(r, "mock_rps")
    w("`%s` on `GET /v2/droplets/{id}` (mock with `--rate-limit-minute off --rate-limit-hour "
      "off`, default 2 server threads).\n\n" % r.get("mock_cmd", "?"))
    w(table([["requests/s", fmt(rps, 0), ">= 10,000", verdict(ge(rps, 10000))],
             ["non-2xx answers", r.get("mock_non2xx", "?"), "0",
              verdict(le(num(r, "mock_non2xx"), 0))],
             ["latency, mean", r.get("mock_latency", "?"), "", ""]],
            ["", "measured", "target", ""]))

    # 5. flow at scale
    w("\n## 5. The flow at scale\n\n")
    w("`dosnap snapshot --power off --rate-limit off` (the default flow: shutdown, snapshot, "
      "power_on; dosnap's own 240-a-minute budget off, as the mock's limits are) against "
      "`dosnap-mock --droplets N --action-time shutdown=2s --action-time snapshot=5s "
      "--action-time power_on=2s --rate-limit-minute off --rate-limit-hour off`, "
      "targets `tag:env:prod tag:env:staging` (all generated droplets). Both the mock and "
      "dosnap run at `--time-scale %s`: one simulated second is %s ms of wall time. "
      "**Times below are simulated seconds** (measured wall time / %s). Requests are counted "
      "in the mock's log (control requests excluded) and divided by N. Peak RSS from "
      "`/usr/bin/time -f %%M`. dosnap rows are the median of %s runs for N <= %s, one run above.\n\n"
      % (r.get("flow_scale"), fmt(S * 1000, 0), r.get("flow_scale"), r.get("flow_reps"),
         r.get("flow_reps_max_n")))
    w("The baseline is tests/bench/baseline.sh: one droplet after another, POST shutdown, GET "
      "the droplet every 10 s (scaled) until off, POST snapshot, GET the action every 10 s until "
      "completed, POST power_on, GET every 10 s until active; one `curl` process a request. "
      "It runs in the same `make bench`, against a fresh mock with the same settings.%s\n\n"
      % (" At 1,000 droplets it is **extrapolated** (10 x its 100-droplet time and requests), "
         "not measured, to keep `make bench` short." if r.get("base_extrap_1000") == "1" else ""))
    Ns = [int(x) for x in r.get("flow_ns", "").split()]
    one = num(r, "flow_1_10_wall") / S
    rows = []
    for n in Ns:
        for j in ([10, n] if n > 10 else [10]):
            if "flow_%d_%d_wall" % (n, j) not in r:
                continue
            wall = num(r, "flow_%d_%d_wall" % (n, j)) / S
            req = num(r, "flow_%d_%d_req" % (n, j)) / n
            rssm = num(r, "flow_%d_%d_rss" % (n, j)) / 1024
            ideal = math.ceil(n / j) * one
            rows.append(["dosnap --jobs %d" % j, n, fmt(wall, 1) + " s",
                         fmt(wall * S, 3) + " s",
                         fmt(wall / one, 2) + "x", fmt(wall / ideal, 2) + "x",
                         fmt(req, 2), fmt(rssm, 1) + " MiB",
                         r.get("flow_%d_%d_rc" % (n, j), "?")])
        bw = num(r, "base_%d_wall" % n) / S
        if not math.isnan(bw):
            ex = " (extrapolated)" if r.get("base_%d_extrap" % n) == "1" else ""
            dw = num(r, "flow_%d_10_wall" % n) / S
            rows.append(["baseline, one at a time" + ex, n, fmt(bw, 1) + " s" + ex,
                         fmt(bw * S, 2) + " s" + ex,
                         fmt(bw / one, 2) + "x", "", fmt(num(r, "base_%d_req" % n) / n, 2), "",
                         "%s; dosnap --jobs 10 is %sx faster" % (r.get("base_%d_rc" % n, "?"), fmt(bw / dw, 1))])
    w(table(rows, ["how", "droplets", "wall (simulated)", "wall (measured)", "vs 1 droplet", "vs ideal",
                   "requests/droplet", "peak RSS", "exit"]))
    w("\n\"vs ideal\": wall time over ceil(N / jobs) x the 1-droplet time (%s s).\n\n"
      % fmt(one, 1))
    # Targets.
    t_rows = []
    if "flow_100_100_wall" in r:
        x = num(r, "flow_100_100_wall") / S / one
        t_rows.append(["100 droplets, `--jobs 100`, wall vs 1 droplet", fmt(x, 2) + "x", "<= 1.3x",
                       verdict(le(x, 1.3))])
    if "real_100_wall" in r and "real_1_wall" in r:
        x = num(r, "real_100_wall") / num(r, "real_1_wall")
        t_rows.append(["the same at real speed (`--time-scale 1`): %s s against %s s"
                       % (fmt(num(r, "real_100_wall"), 2), fmt(num(r, "real_1_wall"), 2)),
                       fmt(x, 2) + "x", "<= 1.3x", verdict(le(x, 1.3))])
    if "flow_100_10_wall" in r:
        x = num(r, "flow_100_10_wall") / S / (10 * one)
        t_rows.append(["100 droplets, `--jobs 10`, wall vs ideal (10 x 1 droplet)", fmt(x, 2) + "x",
                       "<= 1.1x", verdict(le(x, 1.1))])
    if "real_100_10_wall" in r and "real_1_wall" in r:
        x = num(r, "real_100_10_wall") / (10 * num(r, "real_1_wall"))
        t_rows.append(["the same at real speed (`--time-scale 1`): %s s against 10 x %s s"
                       % (fmt(num(r, "real_100_10_wall"), 1), fmt(num(r, "real_1_wall"), 2)),
                       fmt(x, 2) + "x", "<= 1.1x", verdict(le(x, 1.1))])
        for j in (10, 100):
            if "flow_100_%d_req" % j in r:
                x = num(r, "flow_100_%d_req" % j) / 100
                t_rows.append(["100 droplets, `--jobs %d`, API requests per droplet" % j,
                               fmt(x, 2), "<= 8", verdict(le(x, 8))])
    nmax = max(Ns) if Ns else 0
    for j in ([10, nmax] if nmax > 10 else [10]):
        k = "flow_%d_%d_rss" % (nmax, j)
        if nmax >= 1000 and k in r:
            x = num(r, k) / 1024
            t_rows.append(["1,000 droplets, `--jobs %d`, peak RSS" % j, fmt(x, 1) + " MiB",
                           "<= 16 MiB", verdict(le(x, 16))])
    if t_rows:
        w(table(t_rows, ["target (issue 5)", "measured", "target", ""]))
    if r.get("flow_kinds_100_100"):
        w("\nWhere the requests go at 100 droplets, `--jobs 100` (from the mock's log of the "
          "last run): %s.\n" % ", ".join("`%s` %s" % tuple(kv.split("=")) for kv in
                                          r["flow_kinds_100_100"].split(";") if "=" in kv))
    if r.get("flow_kinds_100_10"):
        w("\nAnd at 100 droplets, `--jobs 10`: %s.\n" % ", ".join("`%s` %s" % tuple(kv.split("=")) for kv in
                                                             r["flow_kinds_100_10"].split(";") if "=" in kv))
    if r.get("flow_kinds_1_10"):
        w("\nAt 1 droplet: %s.\n" % ", ".join("`%s` %s" % tuple(kv.split("=")) for kv in
                                              r["flow_kinds_1_10"].split(";") if "=" in kv))
    if r.get("diag_tmpfs_wall"):
        dn = int(r.get("diag_n", "0"))
        dw, dd = num(r, "diag_tmpfs_wall"), num(r, "flow_%d_%d_wall" % (dn, dn if dn > 10 else 10))
        w("\n**Where the time goes.** The same %d-droplet, `--jobs %d` flow with `--state-dir` "
          "on tmpfs (`/dev/shm`) instead of the disk (%s): %s s of wall time (%s simulated s, %sx "
          "the 1-droplet time, %s requests/droplet) against %s s (%s simulated s) with the state "
          "directory on disk. The difference, %s s of wall time, is storage: dosnap writes the "
          "intent journal (with `fsync`) in its event loop at each droplet step, and that time is "
          "not scaled, so at `--time-scale %s` each millisecond of it counts %s simulated ms.\n"
          % (dn, dn, r.get("disk_fs", "?"), fmt(dw, 3), fmt(dw / S, 1), fmt(dw / S / one, 2),
             fmt(num(r, "diag_tmpfs_req") / dn, 2), fmt(dd, 3), fmt(dd / S, 1),
             fmt(dd - dw, 3), r.get("flow_scale"), fmt(1 / S, 0)))
    if r.get("sens_wall"):
        wall = num(r, "sens_wall")
        w("\n**Time-scale sensitivity.** The same 1,000-droplet, `--jobs 1000` flow at "
          "`--time-scale %s` took %s s of wall time (%s simulated s; %s requests, exit %s), "
          "against %s s of wall time at `--time-scale %s`. %s\n"
          % (r.get("sens_scale"), fmt(wall, 2), fmt(wall / num(r, "sens_scale"), 0),
             r.get("sens_req"), r.get("sens_rc"),
             fmt(num(r, "flow_%d_%d_wall" % (nmax, nmax)), 2), r.get("flow_scale"),
             r.get("sens_note", "")))
    if r.get("real_100_wall"):
        w("\n**At real speed.** Without a time scale (the mock's actions really take 2 s, 5 s "
          "and 2 s), one droplet took %s s and 100 droplets at `--jobs 100` %s s (%s requests a "
          "droplet). At `--time-scale %s` every millisecond of dosnap's own work (HTTP round "
          "trips on loopback, the journal's fsyncs) counts %s times over, which is what the "
          "scaled ratios above show; at real speed the 100 droplets take %s s longer than one.\n"
          % (fmt(num(r, "real_1_wall"), 2), fmt(num(r, "real_100_wall"), 2),
             fmt(num(r, "real_100_req") / 100, 2), r.get("flow_scale"), fmt(1 / S, 0),
             fmt(num(r, "real_100_wall") - num(r, "real_1_wall"), 2)))
    if svg:
        w("\n![flow wall time against droplet count](%s)\n" % svg)

    # 6. rate limits
    w("\n## 6. Under the mock's default rate limits\n\n")
    w("%s droplets, the same flow and action times, with the mock's default limits (250 "
      "requests a minute, 5,000 an hour, per token), at `--time-scale %s`, so the mock's minute "
      "is %s s of wall time. The floor is the requests sent divided by 250 a minute: no client "
      "can finish sooner. Times in simulated seconds.\n\n"
      % (r.get("rl_n"), r.get("flow_scale"), fmt(60 * S, 2)))
    rows = []
    for j in r.get("rl_jobs", "").split():
        wall = num(r, "rl_%s_wall" % j) / S
        req = num(r, "rl_%s_req" % j)
        floor = req / 250 * 60
        n429 = num(r, "rl_%s_429" % j)
        rows.append(["`--jobs %s`" % j, fmt(wall, 0) + " s", fmt(floor, 0) + " s",
                     fmt(wall / floor, 2) + "x", fmt(req, 0), fmt(n429, 0),
                     verdict(le(n429, 0)), r.get("rl_%s_rc" % j, "?")])
    w(table(rows, ["", "wall (simulated)", "floor", "wall / floor", "requests", "429 answers",
                   "target: 0 429s", "exit"]))
    if r.get("rl_note"):
        w("\n%s\n" % r["rl_note"])
    w("\n## Notes\n\n%s\n" % r.get("notes", "").strip("|").replace("|", "\n"))
    open(out, "w").write("".join(L))


def main():
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    c = a[0]
    if "--" in a:
        i = a.index("--")
        rest = a[i + 1:]
        a = a[:i]
    if c == "hyperfine":
        cmd_hyperfine(a[1])
    elif c == "median":
        cmd_median(a[1])
    elif c == "timed":
        cmd_timed(a[1], rest)
    elif c == "reqlog":
        cmd_reqlog(a[1])
    elif c == "clearlog":
        clear_log(a[1])
    elif c == "first-request":
        cmd_first_request(a[1], int(a[2]), rest)
    elif c == "report":
        cmd_report(a[1], a[2], a[3] if len(a) > 3 else "")
    else:
        sys.exit("bench.py: unknown subcommand '%s'" % c)


if __name__ == "__main__":
    main()
