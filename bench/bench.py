#!/usr/bin/env python3
"""drill's benchmark: the runner side by side with the raw tools and the usual hand-written script.

Measured on one generated database (pgbench tables plus random text and numbers, so the dump compresses like real
data), several runs each, reported as median and range:
  1. limit   - raw `pg_restore -j N` from a local custom dump into an already-running server configured exactly like
               drill's scratch cluster for the profile (settings copied from drill's own report); and, for the durable
               profile, into a server started just before (untimed), as drill's scratch cluster is, to tell what a
               fresh server costs from what the runner costs;
  2. script  - bench/usual-script.sh: curl the dump from S3 (moto) to disk, createdb, pg_restore -j N, psql checks,
               dropdb, against an already-running server: one with PostgreSQL's stock settings (what a team's
               restore-test server usually is), and the durable limit server (drill's own settings, the strict case);
  3. drill   - `drill run` on the same dump in moto's S3, embedded scratch cluster: durable -j N, fast -j N, and
               streamed single-job (durable).
For drill it also records per-phase times, how long pg_restore itself ran inside the restore phase (the report's
restore.tool_seconds), and the runner's own CPU and peak RSS (`drill run --stats`: RUSAGE_SELF, so the scratch server
and pg_restore are not counted), with the CPU split by phase.
Every round runs each variant once, in the same order, so that a ratio can also be taken within a round (paired),
which cancels the machine's slow drifts.
"""
import argparse, json, os, platform, pwd, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = "/tmp/drill-bench"
BINDIR = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip() or "/usr/lib/postgresql/15/bin"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def as_server_user():
    """Command prefix that runs PostgreSQL server programs as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
            return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--init-groups", "--"], pw
        except KeyError:
            pass
    raise SystemExit("running as root but no postgres or nobody user")


class Cluster:
    """A PostgreSQL server in a private folder, unix socket only, with the given settings."""

    def __init__(self, name, settings):
        self.dir = tempfile.mkdtemp(prefix=f"{name}-", dir=WORK)
        os.chmod(self.dir, 0o700)
        self.prefix, pw = as_server_user()
        if pw:
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.port = free_port()
        self.data = os.path.join(self.dir, "data")
        subprocess.run(self.prefix + [f"{BINDIR}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync",
                                      "-E", "UTF8", "--no-locale", "--no-instructions"], check=True, capture_output=True)
        conf = dict(settings)
        conf.update({"listen_addresses": "", "port": str(self.port), "unix_socket_directories": self.dir})
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            for k, v in conf.items():
                f.write(f"{k} = '{v}'\n")
        subprocess.run(self.prefix + [f"{BINDIR}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"), "-w", "-s",
                                      "start"], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    @property
    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=self.dir, PGPORT=str(self.port), PGUSER="postgres", PGDATABASE="postgres")
        return env

    def psql(self, sql, db="postgres"):
        return subprocess.run(["psql", "-X", "-q", "-At", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql], env=self.env,
                              check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        subprocess.run(self.prefix + [f"{BINDIR}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "-s", "stop"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


def generate(size_mb):
    """A database of about size_mb MiB with indexes, dumped in custom format. Cached in WORK by size."""
    dump = os.path.join(WORK, f"db-{size_mb}mb.dump")
    meta = dump + ".json"
    if os.path.exists(dump) and os.path.exists(meta):
        log(f"reusing {dump}")
        return dump, json.load(open(meta))
    log(f"generating a {size_mb} MiB database")
    src = Cluster("source", {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off",
                             "max_wal_size": "8GB", "maintenance_work_mem": "512MB", "shared_buffers": "512MB"})
    try:
        src.psql("CREATE DATABASE bench")
        # About a quarter pgbench (compresses ~60:1), the rest random text and numbers (compresses ~2:1), so that the
        # custom-format dump is at least a quarter of the database's size.
        scale = max(1, int(size_mb * 0.25 / 15))
        subprocess.run(["pgbench", "-q", "-i", "-s", str(scale), "bench"], env=src.env, check=True, capture_output=True)
        src.psql("""CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(12,2) NOT NULL,
                     payload text NOT NULL, created_at timestamptz NOT NULL)""", "bench")
        rows, batch = 0, 500_000
        while int(src.psql("SELECT pg_database_size('bench')")) < size_mb * 1024 * 1024:
            src.psql(f"""INSERT INTO events SELECT i, (random()*1e6)::int, round((random()*1e4)::numeric, 2),
                          md5(random()::text) || md5(random()::text) || ' ' || md5(random()::text),
                          now() - random() * interval '90 days'
                        FROM generate_series({rows + 1}, {rows + batch}) i""", "bench")
            rows += batch
            if rows == batch:
                src.psql("CREATE INDEX events_created_at ON events (created_at)", "bench")
        src.psql("VACUUM ANALYZE", "bench")
        db_size = int(src.psql("SELECT pg_database_size('bench')"))
        subprocess.run(["pg_dump", "-Fc", "-d", "bench", "-f", dump], env=src.env, check=True)
    finally:
        src.stop()
    info = {"db_bytes": db_size, "dump_bytes": os.path.getsize(dump), "pgbench_scale": scale, "event_rows": rows}
    json.dump(info, open(meta, "w"))
    return dump, info


class Moto:
    """moto's S3 server as the tests run it (Tests/fixtures/drill_fixtures.py moto-server): a ranged GET reads only its
    range, as S3 does (stock moto 5.2 reads the whole object for each one), so ranged downloads are not penalised."""
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests", "fixtures", "drill_fixtures.py"),
                                      "moto-server", "--port", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)

    def upload(self, path, bucket, key):
        import boto3
        s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench-secret")
        s3.create_bucket(Bucket=bucket)
        s3.upload_file(path, bucket, key)
        return f"{self.endpoint}/{bucket}/{key}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def timed(cmd, env=None):
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return time.monotonic() - t0, r


def drill_run(drill, config_dir, name, archive, env):
    wall, r = timed([drill, "run", name, "--config", config_dir, "--archive", archive, "--stats"], env)
    if r.returncode != 0:
        raise SystemExit(f"drill run {name} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    stats_line = r.stderr.strip().splitlines()[-1]
    log(f"{name}: {stats_line}")
    stats = dict(kv.split("=", 1) for kv in stats_line.split(": ", 1)[1].split())
    # Cumulative runner CPU when each phase ended: fetch and provision overlap, so they are read together.
    marks = dict((k, float(v)) for k, v in (m.split(":") for m in stats.get("cpu_at", "").split(",") if m))
    reports = sorted((os.path.join(dp, f) for dp, _, fs in os.walk(archive) for f in fs if f.endswith(".json")),
                     key=os.path.getmtime)
    report = json.load(open(reports[-1]))
    phases = {p["name"]: p["seconds"] for p in report["phases"]}
    cpu = float(stats["cpu_user_s"]) + float(stats["cpu_sys_s"])
    ready = max(marks.get("fetch", 0), marks.get("provision", 0))
    split = {"cpu_ready": ready, "cpu_restore": marks["restore"] - ready, "cpu_checks": marks["checks"] - marks["restore"],
             "cpu_teardown": marks["teardown"] - marks["checks"], "cpu_after": cpu - marks["teardown"]} if marks else {}
    tool = report["restore"].get("tool_seconds")
    return {"wall": wall, "rto": report["measured"]["rto_seconds"], "cpu": cpu, **split,
            "rss_mib": int(stats["max_rss_kib"]) / 1024, **{f"phase_{k}": v for k, v in phases.items()},
            "restore_overhead": phases["restore"] - tool if tool is not None else None,
            "teardown": report["scratch"].get("teardown_seconds") or 0, "settings": report["restore"].get("settings") or {}}


def raw_restore(server, dump, jobs):
    """The limit: `pg_restore -j N` of the local dump into a new database limit_db on `server`, timed."""
    server.psql("CREATE DATABASE limit_db")
    t, r = timed(["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "-j", str(jobs), "-d", "limit_db", dump],
                 server.env)
    if r.returncode:
        raise SystemExit(r.stderr)
    return {"wall": t, "phase_restore": t}


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def rng(xs):
    return f"{min(xs):.2f}–{max(xs):.2f}" if xs else "—"


def main():
    # SIGTERM cleans up like Ctrl-C: the finally blocks stop the servers and moto.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drill", required=True)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--focus", choices=["restore", "end-to-end"],
                    help="one question only, for many rounds, answered with the median paired ratio and a bootstrap "
                         "interval: restore (drill-durable's restore phase against raw pg_restore, running and fresh "
                         "server) or end-to-end (drill durable and fast against the usual script, both servers)")
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    os.chmod(WORK, 0o755)
    dump, info = generate(a.size_mb)
    log(f"database {info['db_bytes'] / 2**20:.0f} MiB, dump {info['dump_bytes'] / 2**20:.0f} MiB "
        f"({info['dump_bytes'] / info['db_bytes']:.2f} of the database)")

    moto = Moto()
    clusters = []
    try:
        url = moto.upload(dump, "bench", "dumps/db.dump")
        cfg = os.path.join(WORK, "config")
        shutil.rmtree(cfg, ignore_errors=True)
        os.makedirs(os.path.join(cfg, "drills"))
        shutil.copy(os.path.join(ROOT, "tiers.json"), cfg)
        checks = [{"name": "accounts", "sql": "SELECT count(*) FROM pgbench_accounts", "expect": {"min": 1}},
                  {"name": "events", "sql": "SELECT count(*) FROM events", "expect": {"min": 1}}]
        variants = {"drill-durable": ("durable", a.jobs), "drill-fast": ("fast", a.jobs), "drill-streamed": ("durable", 1)}
        for name, (profile, jobs) in variants.items():
            json.dump({"version": 1, "tier": "standard",
                       "backup": {"location": "s3://bench/dumps/", "pattern": "*.dump", "endpoint": moto.endpoint},
                       "restore": {"jobs": jobs, "profile": profile}, "checks": checks},
                      open(os.path.join(cfg, "drills", f"{name}.json"), "w"))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench-secret", AWS_REGION="us-east-1",
                   TMPDIR=WORK)
        archive = os.path.join(WORK, "archive")
        shutil.rmtree(archive, ignore_errors=True)

        log("warm-up drill run (also yields the scratch cluster's exact settings per profile)")
        durable_settings = drill_run(a.drill, cfg, "drill-durable", archive, env)["settings"]
        fast_settings = drill_run(a.drill, cfg, "drill-fast", archive, env)["settings"]
        limit_servers = {"durable": Cluster("limit-durable", durable_settings), "fast": Cluster("limit-fast", fast_settings)}
        clusters += limit_servers.values()
        stock = Cluster("stock", {})  # PostgreSQL's defaults: what the usual script usually restores into
        clusters.append(stock)
        scripts = {"script-stock": stock, "script-tuned": limit_servers["durable"]}

        results = {k: [] for k in ["limit-durable", "limit-fast", "limit-durable-fresh", *scripts, *variants]}
        for i in range(a.runs):
            log(f"run {i + 1}/{a.runs}")
            for profile, server in limit_servers.items():
                if a.focus == "end-to-end" or (a.focus == "restore" and profile != "durable"):
                    continue
                server.psql("DROP DATABASE IF EXISTS limit_db")
                results[f"limit-{profile}"].append(raw_restore(server, dump, a.jobs))
                server.psql("DROP DATABASE limit_db")
            if a.focus != "end-to-end":
                fresh = Cluster("limit-fresh", durable_settings)
                try:
                    results["limit-durable-fresh"].append(raw_restore(fresh, dump, a.jobs))
                finally:
                    fresh.stop()
            for name, server in ({} if a.focus == "restore" else scripts).items():
                t, r = timed([os.path.join(ROOT, "bench", "usual-script.sh"), url, str(a.jobs)], server.env)
                if r.returncode:
                    raise SystemExit(f"usual script ({name}) failed: {r.stderr}")
                results[name].append({"wall": t})
            focused = {"restore": ["drill-durable"], "end-to-end": ["drill-durable", "drill-fast"]}
            for name in focused.get(a.focus, variants):
                results[name].append(drill_run(a.drill, cfg, name, archive, env))
    finally:
        for c in clusters:
            c.stop()
        moto.stop()

    if a.focus:
        return focus_report(results, info, a)
    limit = {"durable": med([r["wall"] for r in results["limit-durable"]]), "fast": med([r["wall"] for r in results["limit-fast"]])}
    script = {k: med([r["wall"] for r in results[k]]) for k in scripts}

    def col(rs, key, fmt="{:.2f}"):
        xs = [r[key] for r in rs if r.get(key) is not None]
        return f"{fmt.format(med(xs))} ({rng(xs)})" if xs else "—"

    def paired(name, base, key="wall"):
        """Median (min–max) of the per-round ratios name/base: each round measured both, one after the other."""
        xs = [r[key] / b["wall"] for r, b in zip(results[name], results[base])]
        return f"{med(xs):.3f} ({min(xs):.2f}–{max(xs):.2f})"

    lines = [f"Database {info['db_bytes'] / 2**20:.0f} MiB (pgbench scale {info['pgbench_scale']} + {info['event_rows']:,} "
             f"random event rows, with indexes); custom-format dump {info['dump_bytes'] / 2**20:.0f} MiB "
             f"({info['dump_bytes'] / info['db_bytes']:.2f} of the database). {a.runs} runs each, -j {a.jobs}; "
             f"median (min–max), seconds.", "",
             "| Variant | End to end | Fetch | Provision | Restore | of which pg_restore | Checks | Teardown |",
             "|---|---|---|---|---|---|---|---|"]
    for name, rs in results.items():
        if name.startswith("drill"):
            tool = [{"t": r["phase_restore"] - r["restore_overhead"]} for r in rs if r.get("restore_overhead") is not None]
            lines.append(f"| {name} | {col(rs, 'wall')} | {col(rs, 'phase_fetch')} | {col(rs, 'phase_provision')} | "
                         f"{col(rs, 'phase_restore')} | {col(tool, 't')} | "
                         f"{col(rs, 'phase_checks')} | {col(rs, 'teardown')} |")
        elif name.startswith("limit"):
            what = "pg_restore only, into a server started just before" if name.endswith("fresh") else "pg_restore only"
            lines.append(f"| {name} ({what}) | {col(rs, 'wall')} | — | — | {col(rs, 'wall')} | {col(rs, 'wall')} | — | — |")
        else:
            server = "stock PostgreSQL settings" if name == "script-stock" else "drill's durable settings"
            lines.append(f"| usual script, {server} (curl, createdb, pg_restore, psql, dropdb) | {col(rs, 'wall')} | — | — | — | — | — | — |")

    lines += ["", "Ratios: of medians, and the median (min–max) of the per-round ratios (paired: same round, back to back).", "",
              "| Variant | Restore vs limit (same profile, -j) | paired | Restore vs limit on a fresh server | paired | End to end vs script, stock server | paired | End to end vs script, drill's settings | paired |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name in variants:
        rs = results[name]
        profile, jobs = variants[name]
        if jobs == a.jobs:
            restore = f"{med([r['phase_restore'] for r in rs]) / limit[profile]:.3f}"
            restore_p = paired(name, f"limit-{profile}", "phase_restore")
        else:
            restore, restore_p = "(1 job)", "—"
        if jobs == a.jobs and profile == "durable":
            fresh_ratio = f"{med([r['phase_restore'] for r in rs]) / med([r['wall'] for r in results['limit-durable-fresh']]):.3f}"
            fresh_p = paired(name, "limit-durable-fresh", "phase_restore")
        else:
            fresh_ratio, fresh_p = "—", "—"
        wall = med([r["wall"] for r in rs])
        lines.append(f"| {name} | {restore} | {restore_p} | {fresh_ratio} | {fresh_p} | {wall / script['script-stock']:.3f} | {paired(name, 'script-stock')} | "
                     f"{wall / script['script-tuned']:.3f} | {paired(name, 'script-tuned')} |")

    lines += ["", "Runner cost (the drill process only: not the scratch server, pg_restore or cp). CPU seconds, median; "
              "the split is the runner's CPU while fetch and provision ran (download, SHA-256, start-up), during restore, "
              "checks, teardown (deleting the scratch cluster) and after it (report, archive).", "",
              "| Variant | Runner CPU | % of wall | fetch ∥ provision | restore | checks | teardown | report | Runner's share of the restore phase | Peak RSS |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name in variants:
        rs = results[name]
        rss_runs = ", ".join(f"{r['rss_mib']:.0f}" for r in rs)
        split = " | ".join(f"{med([r[k] for r in rs if k in r]):.2f}" if any(k in r for r in rs) else "—"
                           for k in ["cpu_ready", "cpu_restore", "cpu_checks", "cpu_teardown", "cpu_after"])
        overhead = [r["restore_overhead"] for r in rs if r.get("restore_overhead") is not None]
        share = f"{1000 * med(overhead):.1f} ms ({1000 * min(overhead):.1f}–{1000 * max(overhead):.1f})" if overhead else "—"
        lines.append(f"| {name} | {med([r['cpu'] for r in rs]):.2f} s | {100 * med([r['cpu'] / r['wall'] for r in rs]):.1f}% | "
                     f"{split} | {share} | {max(r['rss_mib'] for r in rs):.0f} MiB (runs: {rss_runs}) |")
    lines += ["", f"Machine: {platform.node()}, {os.cpu_count()} cores, "
              f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}."]
    out = "\n".join(lines)
    print(out)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "latest.md"), "w") as f:
        f.write(out + "\n")


def focus_report(results, info, a):
    """One question, paired by round: the median of the per-round ratios and a 90% bootstrap interval of it."""
    import random

    def row(label, name, key, base):
        ratios = [r[key] / b["wall"] for r, b in zip(results[name], results[base])]
        rnd = random.Random(1)
        boots = sorted(med([rnd.choice(ratios) for _ in ratios]) for _ in range(10_000))
        return f"| {label} | {med(ratios):.3f} | {boots[500]:.3f}–{boots[9499]:.3f} | {min(ratios):.2f}–{max(ratios):.2f} |"

    head = ["| Comparison | median of per-round ratios | 90% bootstrap interval of that median | per-round range |",
            "|---|---|---|---|"]
    n = len(results["drill-durable"])
    intro = (f"{n} rounds, -j {a.jobs}; dump {info['dump_bytes'] / 2**20:.0f} MiB of a "
             f"{info['db_bytes'] / 2**20:.0f} MiB database.")
    if a.focus == "restore":
        drill = results["drill-durable"]
        overhead = [r["restore_overhead"] for r in drill if r.get("restore_overhead") is not None]
        lines = [f"Restore phase only, durable profile: {intro} Each round: raw pg_restore into the running limit server, "
                 f"into a fresh one, then drill run.", "", *head,
                 row("drill's restore phase / pg_restore into the running limit server", "drill-durable", "phase_restore", "limit-durable"),
                 row("drill's restore phase / pg_restore into a server started just before", "drill-durable", "phase_restore", "limit-durable-fresh"),
                 "", f"Medians, seconds: limit {med([r['wall'] for r in results['limit-durable']]):.2f}, fresh "
                 f"{med([r['wall'] for r in results['limit-durable-fresh']]):.2f}, drill's restore phase "
                 f"{med([r['phase_restore'] for r in drill]):.2f}; the runner's share of that phase (phase minus "
                 f"pg_restore's own run time) {1000 * med(overhead):.1f} ms (max {1000 * max(overhead):.1f})."]
        name = "restore-focus.md"
    else:
        lines = [f"End to end only: {intro} Each round: the usual script on a stock server and on drill's settings, "
                 f"then drill run durable and fast.", "", *head]
        for variant in ["drill-durable", "drill-fast"]:
            for base, label in [("script-stock", "the usual script, stock server"), ("script-tuned", "the usual script, drill's settings")]:
                lines.append(row(f"{variant} / {label}", variant, "wall", base))
        lines += ["", "Medians, seconds: " + ", ".join(f"{k} {med([r['wall'] for r in results[k]]):.2f}"
                                                     for k in ["script-stock", "script-tuned", "drill-durable", "drill-fast"]) + "."]
        name = "end-to-end-focus.md"
    out = "\n".join(lines)
    print(out)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", name), "w") as f:
        f.write(out + "\n")


if __name__ == "__main__":
    main()
