"""Import benchmark: a generated CSV (GCJ-02, every station field) through the full import — read,
check every row, convert to WGS-84, look for duplicates, write all or nothing — into each store.

    python -m bench.ingest --rows 1000000
    python -m bench.ingest --rows 20000 --no-write          # a quick look, RESULTS.md untouched

Each measurement runs in its own child process, so its peak RSS (ru_maxrss) is its own. Beside
the import, in the same run: `pandas.read_csv` of the file (parsing alone), raw SQLite
`executemany` of the same rows into a bare table (what the embedded store's write costs without
checks or audit), and raw `COPY ... FROM STDIN (FORMAT csv)` of the file into a bare PostgreSQL
table. PostgreSQL is a throwaway cluster (tests/pgfixtures.PgCluster), as in bench/postgis.py.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.results import machine, write_section

LAYERS = ("rest_station", "rights_post", "service_window", "worker_center")
HOURS = ("", "24/7", "Mo-Fr 08:30-12:00,14:00-17:30", "Mo-Su 07:00-21:00", "Mo-Sa 08:00-20:00; Su off; PH off")
ORIGINS = ("520322", "522622;520102", "", "411502")
ITEMS = ("", "新生儿入户;社保转移", "居住证")


def log(message: str) -> None:
    print(f"[ingest] {message}", file=sys.stderr, flush=True)


def make_csv(path: Path, n: int, seed: int = 3) -> None:
    """n stations as a CSV in GCJ-02 with every station field filled in a realistic way."""
    from geo.crs import convert_many
    from layers.layerdefs import load_layers

    layers = load_layers()
    rng = np.random.default_rng(seed)
    lon, lat = convert_many(rng.uniform(98, 122, n), rng.uniform(21, 41, n), "wgs84", "gcj02")
    layer_pick = rng.integers(0, 4, n)
    pick = rng.integers(0, 1 << 30, size=(n, 4))
    vocab = {lid: list(layers[lid].services) for lid in LAYERS}
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("id,name,name_en,layer,lon,lat,address,adcode,phone,hours,services,access,status,origins,items,"
                  "operator,source,verified_at\r\n")
        lines = []
        for i in range(n):
            lid = LAYERS[layer_pick[i]]
            words = vocab[lid]
            services = ";".join(words[b] for b in range(len(words)) if pick[i, 0] >> b & 1 and b < 6)
            has_origins = layers[lid].has_origins
            lines.append(
                f"b{i:07d},测试站{pick[i, 1] % 200_000},,{lid},{lon[i]:.6f},{lat[i]:.6f},某市某区某路{i % 997}号,"
                f"{520102 + (i % 50) * 100},0851-{86000000 + i % 999_999},\"{HOURS[pick[i, 2] % 5]}\",{services},open,"
                f"open,{ORIGINS[pick[i, 3] % 4] if has_origins else ''},{ITEMS[i % 3] if lid == 'service_window' else ''},"
                f"某县总工会,bench,2026-0{1 + i % 9}-1{i % 10}\r\n")
            if len(lines) == 50_000:
                out.writelines(lines)
                lines.clear()
        out.writelines(lines)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- children -----------------------------------------------------------------------------------
def child_import(kind: str, csv_path: str, where: str) -> dict:
    """Full import of the CSV (crs gcj02) into a fresh store; seconds per phase, rows/s, peak RSS."""
    from layers.ingest.importer import CHUNK_ROWS, import_table
    from layers.ingest.read import read_file
    from layers.layerdefs import load_layers

    layers = load_layers()
    if kind == "embedded":
        from layers.embedded.store import EmbeddedStore

        store = EmbeddedStore(where, layers, seed=None)
    else:
        from layers.postgis.store import PostgisStore

        store = PostgisStore(where, layers, seed=None)
    marks: dict[str, float] = {}
    start = time.perf_counter()
    table = read_file(Path(csv_path), stream_rows=CHUNK_ROWS)  # read chunk by chunk as it is checked
    marks["read"] = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(stage, time.perf_counter())

    report = import_table(table, store, crs="gcj02", actor="bench", progress=progress)
    end = time.perf_counter()
    store.close()  # the embedded store waits here for its background WAL checkpoint
    closed = time.perf_counter()
    if not report.ok:
        raise SystemExit(f"bench rows rejected: {report.rejected[:3]}")
    checked = marks.get("writing", end)
    return {"rows": report.rows_read, "inserted": report.inserted, "seconds": end - start,
            "read_s": marks["read"] - start, "check_s": checked - marks["read"], "write_s": end - checked,
            "after_s": closed - end, "rss_mb": _rss_mb()}


def child_pandas(csv_path: str) -> dict:
    import pandas as pd

    start = time.perf_counter()
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return {"rows": len(frame), "seconds": time.perf_counter() - start, "rss_mb": _rss_mb()}


def child_sqlite(csv_path: str, where: str) -> dict:
    """The rows (id, layer, lon, lat, the other fields as one JSON text) by executemany, one transaction."""
    import csv
    import sqlite3

    start = time.perf_counter()
    db = sqlite3.connect(Path(where) / "raw.sqlite3")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE raw (id TEXT PRIMARY KEY, layer TEXT, lon REAL, lat REAL, props TEXT)")
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rest = [i for i, name in enumerate(header) if name not in ("id", "layer", "lon", "lat")]
        rows = [(r[0], r[3], float(r[4]), float(r[5]), json.dumps([r[i] for i in rest], ensure_ascii=False))
                for r in reader]
    with db:
        db.executemany("INSERT INTO raw VALUES (?,?,?,?,?)", rows)
    db.close()
    return {"rows": len(rows), "seconds": time.perf_counter() - start, "rss_mb": _rss_mb()}


def child_copy(csv_path: str, url: str) -> dict:
    """COPY the CSV file as it is into a bare table of text columns (no geometry, no index)."""
    import psycopg2

    start = time.perf_counter()
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur, open(csv_path, encoding="utf-8") as handle:
        header = handle.readline().strip().split(",")
        cur.execute(f"CREATE TABLE raw ({', '.join(f'{name} text' for name in header)})")
        cur.copy_expert("COPY raw FROM STDIN WITH (FORMAT csv)", handle, size=1 << 16)
        cur.execute("SELECT count(*) FROM raw")
        (rows,) = cur.fetchone()
    conn.close()
    return {"rows": rows, "seconds": time.perf_counter() - start, "rss_mb": _rss_mb()}


def _run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.ingest", "--child", *args], capture_output=True, text=True,
                         check=False, cwd=Path(__file__).resolve().parent.parent)
    if out.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


CHILDREN = {"import": lambda a: child_import(*a), "pandas": lambda a: child_pandas(*a),
            "sqlite": lambda a: child_sqlite(*a), "copy": lambda a: child_copy(*a)}


# ---- the run ------------------------------------------------------------------------------------
def run(n: int, stores: list[str]) -> tuple[list[tuple[str, dict]], str]:
    results: list[tuple[str, dict]] = []
    version = ""
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-ingest-") as tmp:
        csv_path = Path(tmp) / "stations.csv"
        started = time.perf_counter()
        make_csv(csv_path, n)
        log(f"wrote {n:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
        results.append(("pandas.read_csv (parse only)", _run_child("pandas", str(csv_path))))
        if "embedded" in stores:
            (Path(tmp) / "emb").mkdir()
            results.append(("import → embedded store", _run_child("import", "embedded", str(csv_path),
                                                                     str(Path(tmp) / "emb"))))
            log(f"embedded: {results[-1][1]}")
            (Path(tmp) / "raw").mkdir()
            results.append(("raw SQLite executemany", _run_child("sqlite", str(csv_path), str(Path(tmp) / "raw"))))
        if "postgis" in stores:
            version = _postgis(csv_path, results)
    return results, version


def _postgis(csv_path: Path, results: list) -> str:
    from tests.pgfixtures import PgCluster

    cluster = PgCluster(settings={"shared_buffers": "'1GB'", "max_wal_size": "'8GB'", "wal_level": "minimal",
                                  "max_wal_senders": "0"})
    cluster.init()
    cluster.start()
    try:
        (version,), = cluster.execute("SELECT version()")
        url = cluster.create_database("bench_ingest")
        cluster.execute("CREATE EXTENSION postgis", dbname="bench_ingest")
        results.append(("import → PostGIS store", _run_child("import", "postgis", str(csv_path), url)))
        log(f"postgis: {results[-1][1]}")
        results.append(("raw COPY (FORMAT csv) into text columns", _run_child("copy", str(csv_path),
                                                                              cluster.create_database("bench_raw"))))
    finally:
        cluster.cleanup()
    return version.split(",")[0]


def table(results: list[tuple[str, dict]]) -> str:
    lines = ["| what | rows/s | seconds | read / check (+ write beside) / rest of write s | after s | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results:
        phases = f"{r['read_s']:.1f} / {r['check_s']:.1f} / {r['write_s']:.1f}" if "read_s" in r else "–"
        after = f"{r['after_s']:.1f}" if "after_s" in r else "–"
        lines.append(f"| {name} | {r['rows'] / r['seconds']:,.0f} | {r['seconds']:.1f} | {phases} | {after} | "
                     f"{r['rss_mb']:,.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="embedded,postgis")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](args.child[1:])))
        return
    results, version = run(args.rows, args.stores.split(","))
    text = table(results)
    print(text)
    if not args.no_write:
        write_section("ingest", (
            f"## Import (`python -m bench.ingest --rows {args.rows}`)\n\n{machine()}, {version or 'no PostgreSQL'}"
            f" (local cluster, fsync off); {os.cpu_count()} cores shared with other work\n\n{text}\n\n"
            "*import*: `layers.ingest.importer.import_table` end to end from the CSV file (GCJ-02, all 18 fields, ~200,000 "
            "distinct names): read (pandas), check every row (coordinates, swap, China box, layer, services, hours, "
            "adcode, phone, dates, ids, same name within 10 m), convert to WGS-84, and write all or nothing with "
            "audit rows into an empty store. The file is read 100,000 rows at a time (`CsvStream`; *read* is the "
            "encoding check and the first 25,000 rows) and the store's bulk load (`layers.ingest.bulk`) writes each "
            "checked chunk inside the one open transaction while the next chunk is read and checked, so *check* "
            "includes the reading and writing of all chunks but the last; *rest of write* is the last chunk, index "
            "builds and the commit "
            "(nothing is visible before it; a file rejected by a whole-file check is rolled back). *after*: what "
            "runs once the import has returned — for the embedded store the WAL checkpoint (the committed data is "
            "already durable in the WAL, fsynced), run by a connection of its own beside the serving one; "
            "measured as the wait in `store.close()`. *raw*: the same rows with no check "
            "and no conversion — SQLite `executemany` into a bare table (WAL, synchronous=FULL), PostgreSQL `COPY` "
            "of the file into text columns. Each line is its own process (its own peak RSS)."))


if __name__ == "__main__":
    main()
