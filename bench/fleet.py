#!/usr/bin/env python3
"""drill's fleet benchmark: the archive at scale, and --parallel against one drill at a time.

1. archive - a generated archive of DRILLS x MONTHS reports (default 400 x 50 = 20,000), chained exactly as drill
             appends (`drill-bench make-archive`), cached in /tmp/drill-bench. Each round times, in the same order:
             `drill due`, `drill plan`, `drill history --since 12m`, `drill report --period <last full year>`,
             `drill archive verify`, and the hashing floor `sha256sum -c` of every chain entry. Goals (issue 13):
             due <= 1 s, history 12m <= 2 s, report for a year <= 4 s, verify <= 2 x sha256sum -c.
2. fleet   - 12 small drills (a pg_dump each, of a real PostgreSQL started here), `drill run --all` one at a time
             against `--parallel 4`, alternating, a fresh archive each run: wall time, and that every report landed.
Prints a table per part, median and range over the rounds, and writes bench/results/fleet-latest.md.
"""
import argparse, glob, json, os, shutil, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import Cluster, WORK, log  # noqa: E402  (the same server fixture as the main benchmark)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, **kw):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    return time.monotonic() - t0, p


def med(xs):
    return statistics.median(xs)


def archive_part(a, drill, bench_bin):
    base = os.path.join(WORK, f"archive-{a.drills}x{a.months}")
    archive, config = base + "/archive", base + "/archive-config"
    chain = glob.glob(archive + "/chain/*.sha256") if os.path.isdir(archive + "/chain") else []
    if len(chain) != a.drills * a.months or not os.path.isdir(config):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        log(f"generating an archive of {a.drills * a.months} reports (once; cached in {base})")
        subprocess.run([bench_bin, "make-archive", archive, "--template",
                        os.path.join(ROOT, "Tests/DrillCoreTests/Golden/report-dump.json"),
                        "--drills", str(a.drills), "--months", str(a.months), "--until", "2026-12-01"], check=True)
    else:
        log(f"reusing the archive in {base}")
    year = "2025"
    common = ["--config", config, "--archive", archive]
    variants = [
        ("drill due", [drill, "due"] + common, None),
        ("drill plan", [drill, "plan"] + common, None),
        ("drill history --since 12m", [drill, "history", "--since", "12m"] + common, None),
        (f"drill report --period {year}", [drill, "report", "--period", year, "--output", base + "/audit.html"] + common, None),
        ("drill archive verify", [drill, "archive", "verify"] + common, None),
        ("sha256sum -c (chain entries)", ["sh", "-c", "cat chain/*.sha256 | sha256sum -c --quiet"], archive),
    ]
    times = {name: [] for name, _, _ in variants}
    for r in range(a.rounds):
        for name, cmd, cwd in variants:
            secs, p = timed(cmd, cwd=cwd)
            if p.returncode not in (0, 1):  # plan exits 1 when a drill's backup is missing (it is: none exist)
                crash = os.path.join(WORK, "fleet-crash.txt")
                open(crash, "w").write(p.stderr)
                raise SystemExit(f"{name} failed ({p.returncode}); its stderr is in {crash}: {p.stderr[:2000]}")
            if name == "drill archive verify" and "intact" not in p.stdout:
                raise SystemExit(f"verify did not find the chain intact: {p.stdout[-500:]}")
            times[name].append(secs)
        log(f"archive round {r + 1}/{a.rounds}: " + ", ".join(f"{n.split(' (')[0]} {t[-1]:.2f}s" for n, t in times.items()))
    floor = med(times["sha256sum -c (chain entries)"])
    goals = {"drill due": ("<= 1 s", lambda m: m <= 1.0), "drill history --since 12m": ("<= 2 s", lambda m: m <= 2.0),
             f"drill report --period {year}": ("<= 4 s", lambda m: m <= 4.0),
             "drill archive verify": ("<= 2 x sha256sum", lambda m: m <= 2 * floor)}
    rows = [f"| command ({a.drills * a.months} reports) | median s | range s | goal | met |", "|---|---|---|---|---|"]
    for name, ts in times.items():
        goal, ok = goals.get(name, ("", None))
        extra = f" ({med(ts) / floor:.2f} x floor)" if name == "drill archive verify" else ""
        rows.append(f"| {name} | {med(ts):.2f}{extra} | {min(ts):.2f}-{max(ts):.2f} | {goal} | "
                    f"{'' if ok is None else ('yes' if ok(med(ts)) else 'NO')} |")
    return "\n".join(rows)


def fleet_part(a, drill):
    base = os.path.join(WORK, "fleet")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base + "/config/drills")
    src = Cluster("fleet-source", {"fsync": "off"})
    try:
        src.psql("CREATE DATABASE app")
        subprocess.run(["pgbench", "-q", "-i", "-s", str(a.fleet_scale), "app"], env=src.env, check=True, capture_output=True)
        for i in range(a.fleet_drills):
            folder = f"{base}/backups/db{i:02d}"
            os.makedirs(folder)
            dump = f"{folder}/app-20261201T000000Z.dump"
            subprocess.run(["pg_dump", "-Fc", "-d", "app", "-f", dump], env=src.env, check=True)
            old = time.time() - 3600  # settled (backup.settle): written an hour ago
            os.utime(dump, (old, old))
    finally:
        src.stop()
    with open(base + "/config/tiers.json", "w") as f:
        json.dump({"version": 1, "tiers": {"standard": {"rto": "24h", "rpo": "3650d", "schedule": "@monthly"}}}, f)
    for i in range(a.fleet_drills):
        with open(f"{base}/config/drills/db{i:02d}.json", "w") as f:
            json.dump({"version": 1, "tier": "standard",
                       "backup": {"location": f"{base}/backups/db{i:02d}", "pattern": "*.dump"},
                       "target": {"kind": "embedded"}, "restore": {"jobs": 1},
                       "checks": [{"name": "accounts", "sql": "SELECT count(*) FROM pgbench_accounts",
                                   "expect": {"min": 1}}]}, f)
    times = {"one at a time": [], "--parallel 4": []}
    for r in range(a.rounds):
        for name, extra in (("one at a time", []), ("--parallel 4", ["--parallel", "4"])):
            archive = f"{base}/archive-{r}-{len(extra)}"
            secs, p = timed([drill, "run", "--all", "--config", base + "/config", "--archive", archive] + extra)
            landed = len(glob.glob(archive + "/chain/*.sha256"))
            if p.returncode != 0 or landed != a.fleet_drills:
                raise SystemExit(f"{name}: exit {p.returncode}, {landed} reports: {p.stderr[-2000:]}")
            times[name].append(secs)
        log(f"fleet round {r + 1}/{a.rounds}: " + ", ".join(f"{n} {t[-1]:.1f}s" for n, t in times.items()))
    one, par = med(times["one at a time"]), med(times["--parallel 4"])
    rows = [f"| {a.fleet_drills} drills (pgbench scale {a.fleet_scale} dumps, embedded) | median s | range s |", "|---|---|---|"]
    for name, ts in times.items():
        rows.append(f"| drill run --all {name} | {med(ts):.1f} | {min(ts):.1f}-{max(ts):.1f} |")
    rows.append(f"| speed-up | {one / par:.2f} x | ({os.cpu_count()} cores) |")
    shutil.rmtree(base, ignore_errors=True)
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drill", required=True)
    ap.add_argument("--bench-bin", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--drills", type=int, default=400)
    ap.add_argument("--months", type=int, default=50)
    ap.add_argument("--fleet-drills", type=int, default=12)
    ap.add_argument("--fleet-scale", type=int, default=5)
    ap.add_argument("--only", choices=["archive", "fleet"])
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    out = [f"# drill fleet benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
           f"{a.rounds} rounds", ""]
    if a.only in (None, "archive"):
        out += ["## Archive at scale", "", archive_part(a, a.drill, a.bench_bin), ""]
    if a.only in (None, "fleet"):
        out += ["## --parallel", "", fleet_part(a, a.drill), ""]
    text = "\n".join(out)
    print(text)
    os.makedirs(os.path.join(ROOT, "bench/results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench/results/fleet-latest.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
