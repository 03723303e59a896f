"""The QR landing page `/p/<slug>`: bytes over the wire (gzip) and server time.

Serves the app on the bundled sample data (a fresh embedded store and park store in a temp
dir). Server time is the median over N requests of every park in turn, measured twice: through
Flask's test client (no network) and over HTTP to a live werkzeug server with urllib (the
request's round trip on loopback). Every landing writes its scan count (one fsync'd SQLite
transaction), so that cost is included. Writes the `park` section of bench/RESULTS.md.

    python -m bench.park_page [--requests 200]
"""
from __future__ import annotations

import argparse
import gzip
import logging
import statistics
import tempfile
import threading
import time
import urllib.request

from werkzeug.serving import make_server

from app import create_app
from bench.results import machine, write_section
from web.parks.pages import init_parks

HEADERS = {"Accept-Encoding": "gzip", "Accept-Language": "zh-CN"}


def _header_bytes(headers) -> int:
    return sum(len(k) + len(v) + 4 for k, v in headers.items()) + len("HTTP/1.1 200 OK\r\n\r\n")


def run(requests: int) -> str:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": tmp, "TILES": "none"})
        parks = init_parks(app)
        slugs = [p.slug for p in parks.list_parks()]
        client = app.test_client()
        sizes, raw_sizes, header_sizes = [], [], []
        for slug in slugs:
            response = client.get(f"/p/{slug}", headers=HEADERS)
            sizes.append(len(response.data))
            raw_sizes.append(len(gzip.decompress(response.data)))
            header_sizes.append(_header_bytes(response.headers))
        inproc = []
        for i in range(requests):
            start = time.perf_counter()
            client.get(f"/p/{slugs[i % len(slugs)]}", headers=HEADERS).close()
            inproc.append((time.perf_counter() - start) * 1000)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        http = []
        try:
            for i in range(requests):
                url = f"http://127.0.0.1:{server.server_port}/p/{slugs[i % len(slugs)]}"
                start = time.perf_counter()
                with urllib.request.urlopen(urllib.request.Request(url, headers=HEADERS), timeout=10) as answer:
                    answer.read()
                http.append((time.perf_counter() - start) * 1000)
            etag = client.get(f"/p/{slugs[0]}", headers=HEADERS).headers["ETag"]
            not_modified = client.get(f"/p/{slugs[0]}", headers={**HEADERS, "If-None-Match": etag})
        finally:
            server.shutdown()
            parks.close()
            app.extensions["yizhan.store"].close()
    q = statistics.quantiles
    return "\n".join([
        "## QR landing page `/p/<slug>` (python -m bench.park_page)",
        "",
        f"{machine()}; {len(slugs)} sample parks, {requests} requests each way; no map, no script, CSS inline.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| transferred, gzip body (median / max over parks) | {statistics.median(sizes):,.0f} B / {max(sizes):,} B |",
        f"| + response headers | ~{statistics.median(header_sizes):,.0f} B |",
        f"| uncompressed HTML (median) | {statistics.median(raw_sizes):,.0f} B |",
        "| other requests the page makes | 0 |",
        f"| repeat scan with If-None-Match (same minute) | HTTP {not_modified.status_code}, {len(not_modified.data)} B body |",
        f"| server time, test client (median / p95) | {statistics.median(inproc):.1f} ms / {q(inproc, n=20)[18]:.1f} ms |",
        f"| server time + loopback HTTP, urllib (median / p95) | {statistics.median(http):.1f} ms / {q(http, n=20)[18]:.1f} ms |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    text = run(parser.parse_args().requests)
    print(text)
    write_section("park", text)


if __name__ == "__main__":
    main()
