#!/usr/bin/env python3
"""drill's physical-restore benchmark: `drill run` of a basebackup drill side by side with the same recovery by hand.

One generated source (pgbench tables plus random rows, archive_mode = on), one `pg_basebackup -Ft -z -X stream`, then
some seconds of pgbench writes so that replay has archived WAL to fetch. Cached under /tmp/drill-bench/physical-*.
Four variants, alternating in every round (so ratios can be taken within a round, paired):
  hand-local  tar -xzf base and pg_wal, restore_command = 'cp <archive>/%f %p', recovery.signal, start, wait until
              promoted (no verification);
  drill-local drill run on the same folders (verification included);
  hand-s3     the same, after downloading every object from moto's S3 with `curl --aws-sigv4`, one after another;
  drill-s3    drill run with base backup and WAL archive on moto's S3 (one connection per file, the default);
  drill-s3-4  the same with backup.connections = 4 (base.tar.gz in ranged 2 MiB chunks over 4 connections): what
              the ranged download changes.
Prints, per variant, the median and range of the wall time, drill's per-phase split (and how much of it overlapped:
the sum of the phases minus their union), extract's throughput (MiB of the backup per second), the paired ratios, the
runner's peak RSS (drill run --stats) and the load average before and after.
moto runs as the tests run it (a ranged GET reads only its range, as S3 does; see docs/storage.md).
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the shared helpers: Cluster, Moto, log, free_port, as_server_user)
from bench import BINDIR, WORK, Cluster, Moto, log  # noqa: E402

KEY, SECRET = "bench", "bench-secret"


def generate(scale, rows, write_seconds):
    """Source cluster, base backup and archived WAL; cached by their parameters."""
    root = os.path.join(WORK, f"physical-s{scale}-r{rows}-w{write_seconds}")
    meta = os.path.join(root, "meta.json")
    if os.path.exists(meta):
        log(f"reusing {root}")
        return root, json.load(open(meta))
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    os.chmod(root, 0o755)
    wal = os.path.join(root, "wal")
    base = os.path.join(root, "base", "base-1")
    os.makedirs(wal)
    prefix, pw = bench.as_server_user()
    if pw:
        os.chown(wal, pw.pw_uid, pw.pw_gid)
    log(f"generating a source: pgbench scale {scale} + {rows} rows, then {write_seconds} s of pgbench writes")
    src = Cluster("phys-source", {"wal_level": "replica", "archive_mode": "on", "max_wal_senders": "4",
                                  "archive_command": f"test ! -f ''{wal}/%f'' && cp ''%p'' ''{wal}/%f''",  # quotes doubled: Cluster writes 'v'
                                  "max_wal_size": "4GB", "shared_buffers": "256MB"})
    try:
        src.psql("CREATE DATABASE bench")
        subprocess.run(["pgbench", "-q", "-i", "-s", str(scale), "bench"], env=src.env, check=True, capture_output=True)
        src.psql(f"""CREATE TABLE events AS SELECT i AS id, md5(random()::text) || md5(random()::text) AS payload,
                     now() - random() * interval '90 days' AS created_at FROM generate_series(1, {rows}) i""", "bench")
        src.psql("CHECKPOINT")
        subprocess.run(["pg_basebackup", "-D", base, "-Ft", "-z", "-X", "stream", "-c", "fast"], env=src.env, check=True,
                       capture_output=True)
        subprocess.run(["pgbench", "-n", "-c", "2", "-T", str(write_seconds), "bench"], env=src.env, check=True,
                       capture_output=True)
        src.psql("SELECT pg_switch_wal()")
        for _ in range(600):
            if src.psql("SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == "0":
                break
            time.sleep(0.1)
    finally:
        src.stop()
    segments = sorted(n for n in os.listdir(wal) if len(n) == 24)
    info = {"base_bytes": sum(os.path.getsize(os.path.join(base, f)) for f in os.listdir(base)),
            "wal_segments": len(segments), "wal_bytes": sum(os.path.getsize(os.path.join(wal, n)) for n in os.listdir(wal))}
    json.dump(info, open(meta, "w"))
    return root, info


def hand_recovery(base, wal_dir):
    """tar -x, restore_command cp, recovery.signal, start, wait until promoted. Returns seconds (timed inside)."""
    prefix, pw = bench.as_server_user()
    t0 = time.monotonic()
    d = tempfile.mkdtemp(prefix="hand-", dir=WORK)
    try:
        data = os.path.join(d, "data")
        os.makedirs(data, mode=0o700)
        subprocess.run(["tar", "-xzf", os.path.join(base, "base.tar.gz"), "-C", data], check=True)
        subprocess.run(["tar", "-xzf", os.path.join(base, "pg_wal.tar.gz"), "-C", os.path.join(data, "pg_wal")], check=True)
        port = bench.free_port()
        with open(os.path.join(data, "postgresql.auto.conf"), "a") as f:
            f.write(f"restore_command = 'cp {wal_dir}/%f %p'\narchive_mode = off\nlisten_addresses = ''\n"
                    f"port = {port}\nunix_socket_directories = '{d}'\nhot_standby = off\n")
        open(os.path.join(data, "recovery.signal"), "w").close()
        if pw:
            subprocess.run(["chown", "-R", f"{pw.pw_uid}:{pw.pw_gid}", d], check=True)
        subprocess.run(prefix + [f"{BINDIR}/pg_ctl", "-D", data, "-l", os.path.join(d, "log"), "-w", "-s", "-t", "3600",
                                 "start"], check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(PGHOST=d, PGPORT=str(port), PGUSER="postgres", PGDATABASE="postgres")
        while subprocess.run(["psql", "-XAtc", "SELECT pg_is_in_recovery()"], env=env, capture_output=True,
                             text=True).stdout.strip() != "f":
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        subprocess.run(prefix + [f"{BINDIR}/pg_ctl", "-D", data, "-m", "immediate", "-w", "-s", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return seconds
    finally:
        shutil.rmtree(d, ignore_errors=True)


def hand_s3(endpoint, base_keys, wal_keys):
    """curl --aws-sigv4 every object, one after another, then the hand recovery. Returns seconds."""
    t0 = time.monotonic()
    d = tempfile.mkdtemp(prefix="hand-s3-", dir=WORK)
    os.chmod(d, 0o755)
    try:
        base, wal = os.path.join(d, "base"), os.path.join(d, "wal")
        os.makedirs(base)
        os.makedirs(wal)
        for key, folder in [(k, base) for k in base_keys] + [(k, wal) for k in wal_keys]:
            # The key goes through a curl config file on stdin, not argv.
            cfg = f'user = "{KEY}:{SECRET}"\n'
            subprocess.run(["curl", "-sSf", "-K", "-", "--aws-sigv4", "aws:amz:us-east-1:s3",
                            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-o", os.path.join(folder, key.split("/")[-1]),
                            f"{endpoint}/bench/{key}"], input=cfg, text=True, check=True)
        os.chmod(wal, 0o755)
        for n in os.listdir(wal):
            os.chmod(os.path.join(wal, n), 0o644)
        return time.monotonic() - t0 + hand_recovery(base, wal)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def drill_run(drill, cfg, name, archive, env):
    t0 = time.monotonic()
    r = subprocess.run([drill, "run", name, "--config", cfg, "--archive", archive, "--stats"], env=env,
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise SystemExit(f"drill run {name} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    stats_line = r.stderr.strip().splitlines()[-1]
    stats = dict(kv.split("=", 1) for kv in stats_line.split(": ", 1)[1].split())
    reports = sorted((os.path.join(dp, f) for dp, _, fs in os.walk(archive) for f in fs if f.endswith(".json")),
                     key=os.path.getmtime)
    report = json.load(open(reports[-1]))
    phases = [p for p in report["phases"] if p["name"] != "checks"]
    spans = sorted((p["start_offset_seconds"], p["start_offset_seconds"] + p["seconds"]) for p in phases)
    union, end = 0.0, None
    for s, e in spans:
        if end is None or s > end:
            union += e - s
            end = e
        elif e > end:
            union += e - end
            end = e
    out = {"wall": wall, "rto": report["measured"]["rto_seconds"], "rss_mib": int(stats["max_rss_kib"]) / 1024,
           "overlap": sum(p["seconds"] for p in phases) - union}
    out.update({f"phase_{p['name']}": p["seconds"] for p in phases})
    out.update({f"mibs_{p['name']}": p["mib_per_second"] for p in phases if p.get("mib_per_second")})
    return out


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drill", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=int, default=30, help="pgbench scale of the source (default 30)")
    ap.add_argument("--rows", type=int, default=1_000_000, help="random rows besides pgbench (default 1,000,000)")
    ap.add_argument("--write-seconds", type=int, default=25, help="pgbench writes after the base backup (default 25)")
    ap.add_argument("--quick", action="store_true", help="a small source (scale 3, 100,000 rows, 5 s of writes), 1 round")
    a = ap.parse_args()
    if a.quick:
        a.scale, a.rows, a.write_seconds, a.runs = 3, 100_000, 5, 1
    os.makedirs(WORK, exist_ok=True)
    os.chmod(WORK, 0o755)
    root, info = generate(a.scale, a.rows, a.write_seconds)
    base, wal = os.path.join(root, "base", "base-1"), os.path.join(root, "wal")
    log(f"base backup {info['base_bytes'] / 2**20:.0f} MiB (tar.gz), {info['wal_segments']} archived WAL segments")

    moto = Moto()
    try:
        import boto3
        s3 = boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET)
        s3.create_bucket(Bucket="bench")
        base_keys, wal_keys = [], []
        for f in sorted(os.listdir(base)):
            s3.upload_file(os.path.join(base, f), "bench", f"base/base-1/{f}")
            base_keys.append(f"base/base-1/{f}")
        for f in sorted(os.listdir(wal)):
            s3.upload_file(os.path.join(wal, f), "bench", f"wal/{f}")
            wal_keys.append(f"wal/{f}")

        cfg = os.path.join(WORK, "physical-config")
        shutil.rmtree(cfg, ignore_errors=True)
        os.makedirs(os.path.join(cfg, "drills"))
        shutil.copy(os.path.join(bench.ROOT, "tiers.json"), cfg)
        drills = {"drill-local": ({"location": os.path.dirname(base)}, {"location": wal}),
                  "drill-s3": ({"location": "s3://bench/base/", "endpoint": moto.endpoint},
                               {"location": "s3://bench/wal/", "endpoint": moto.endpoint}),
                  "drill-s3-4": ({"location": "s3://bench/base/", "endpoint": moto.endpoint, "connections": 4},
                                 {"location": "s3://bench/wal/", "endpoint": moto.endpoint})}
        for name, (b, w) in drills.items():
            json.dump({"version": 1, "tier": "standard", "backup": dict(b, format="basebackup", settle="0s"), "wal": w,
                       "recovery": {"target": "latest"}, "database": "bench", "restore": {"profile": "durable"},
                       "checks": [{"name": "accounts", "sql": "SELECT count(*) FROM pgbench_accounts",
                                   "expect": {"min": 1}}]},
                      open(os.path.join(cfg, "drills", f"{name}.json"), "w"))
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="us-east-1", TMPDIR=WORK)
        archive = os.path.join(WORK, "physical-archive")
        shutil.rmtree(archive, ignore_errors=True)

        log("warm-up: one hand recovery and one drill run (untimed)")
        load_before = os.getloadavg()
        hand_recovery(base, wal)
        drill_run(a.drill, cfg, "drill-local", archive, env)
        results = {k: [] for k in ["hand-local", "drill-local", "hand-s3", "drill-s3", "drill-s3-4"]}
        for i in range(a.runs):
            log(f"round {i + 1}/{a.runs}")
            results["hand-local"].append({"wall": hand_recovery(base, wal)})
            results["drill-local"].append(drill_run(a.drill, cfg, "drill-local", archive, env))
            results["hand-s3"].append({"wall": hand_s3(moto.endpoint, base_keys, wal_keys)})
            results["drill-s3"].append(drill_run(a.drill, cfg, "drill-s3", archive, env))
            results["drill-s3-4"].append(drill_run(a.drill, cfg, "drill-s3-4", archive, env))
        load_after = os.getloadavg()
    finally:
        moto.stop()

    def fmt(xs):
        return f"{med(xs):.2f} ({min(xs):.2f}–{max(xs):.2f})" if xs else "—"

    print(f"\nSource: pgbench scale {a.scale} + {a.rows} rows, {a.write_seconds} s of writes after the base backup; "
          f"base {info['base_bytes'] / 2**20:.0f} MiB tar.gz, {info['wal_segments']} WAL segments; {a.runs} round(s), "
          f"median (min–max), seconds. Load average (1, 5, 15 min) before: "
          f"{' '.join(f'{x:.1f}' for x in load_before)}, after: {' '.join(f'{x:.1f}' for x in load_after)}; "
          f"{os.cpu_count()} cores.\n")
    names = ["fetch", "provision", "extract", "verify", "wal_fetch", "wal_replay"]
    print("| Variant | Wall | RTO | " + " | ".join(names) + " | overlapped | extract MiB/s | peak RSS MiB |")
    print("|---" * (len(names) + 6) + "|")
    for k, rs in results.items():
        cells = [fmt([r[f"phase_{n}"] for r in rs if f"phase_{n}" in r]) for n in names]
        mibs = [r["mibs_extract"] for r in rs if "mibs_extract" in r]
        print(f"| {k} | {fmt([r['wall'] for r in rs])} | {fmt([r['rto'] for r in rs if 'rto' in r])} | "
              + " | ".join(cells) + f" | {fmt([r['overlap'] for r in rs if 'overlap' in r])} | "
              + (f"{med(mibs):.0f}" if mibs else "—") + " | "
              + (f"{max(r['rss_mib'] for r in rs):.1f}" if "rss_mib" in rs[0] else "—") + " |")
    print("\nRatios over the hand recovery's time (paired: same round). RTO: drill's measured RTO (the report's, "
          "verification included; the goal's measure); wall: the whole `drill run` process, start-up, teardown and "
          "report included.\n")
    for d, h, goal in [("drill-local", "hand-local", 1.00), ("drill-s3", "hand-s3", 0.80), ("drill-s3-4", "hand-s3", 0.80)]:
        for key in ("rto", "wall"):
            paired = [x[key] / y["wall"] for x, y in zip(results[d], results[h])]
            ratio = med([r[key] for r in results[d]]) / med([r["wall"] for r in results[h]])
            verdict = f"; goal ≤ {goal:.2f}: {'met' if med(paired) <= goal else 'missed'}" if key == "rto" else ""
            print(f"- {d} {key} / {h}: {ratio:.3f} of medians, paired {med(paired):.3f} "
                  f"({min(paired):.3f}–{max(paired):.3f}){verdict}")
    paired = [x["rto"] / y["rto"] for x, y in zip(results["drill-s3-4"], results["drill-s3"])]
    print(f"- drill-s3-4 rto / drill-s3 rto (4 connections over 1): paired {med(paired):.3f} ({min(paired):.3f}–{max(paired):.3f})")
    print(f"- peak RSS of the runner: {max(r['rss_mib'] for d in ('drill-local', 'drill-s3', 'drill-s3-4') for r in results[d]):.1f} MiB "
          f"(goal < 64 MiB)")


if __name__ == "__main__":
    main()
