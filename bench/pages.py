"""Page weight and render time of `/`, `/near` (20 results) and `/station/<id>` in headless Chromium.

Serves the app on the bundled sample data (a fresh embedded store in a temp dir, tiles `none`
so nothing leaves the machine) and loads each page in a new browser context (cold cache) at a
phone's size. Bytes are what went over the wire (gzip on), from the navigation and resource
timing entries; times from the navigation timing entry. Writes the `pages` section of RESULTS.md.

    python -m bench.pages [--runs 7]
    python -m bench.pages --slow [--runs 5]   # first-card paint on slow 3G (bench/pages_slow.py)
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit

from werkzeug.serving import make_server

from app import create_app
from bench.results import machine, write_section

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {bytes: res.reduce((s, e) => s + e.transferSize, nav.transferSize), html: nav.transferSize,
          requests: res.length + 1, ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd};
}"""


def _pages(app) -> dict[str, str]:
    store = app.extensions["yizhan.store"]
    first = next(s for s in store.iter_all() if s.status == "open")
    return {"/": "/", "/near (20 results)": "/near?lat=26.58&lon=106.71&k=20",
            "/station/<id>": f"/station/{first.id}"}


def _measure(browser, url: str, wait_for: str | None) -> dict:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname == "127.0.0.1" else r.abort())
    page.goto(url, wait_until="load")
    ready = None
    if wait_for:
        ready = page.wait_for_function(f"() => ({wait_for}) && performance.now()", timeout=30000,
                                       polling="raf").json_value()
        page.wait_for_load_state("networkidle")
    numbers = page.evaluate(TIMING_JS)
    if ready is not None:
        numbers["ready"] = ready
    context.close()
    return numbers


def run(runs: int, slow: bool = False) -> str:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": tmp, "TILES": "none"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        rows = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                if slow:
                    from bench.pages_slow import table

                    result = table(browser, base, runs, machine())
                    browser.close()
                    return result
                for label, path in _pages(app).items():
                    wait = "document.querySelectorAll('.yz-cluster, .yz-pin').length > 0" if path == "/" else None
                    samples = [_measure(browser, base + path, wait) for _ in range(runs)]
                    rows.append((label, samples))
                browser.close()
        finally:
            server.shutdown()
            app.extensions["yizhan.store"].close()
    return _table(rows, runs)


def _median(samples: list[dict], key: str) -> float:
    return statistics.median(s[key] for s in samples if key in s)


def _table(rows, runs: int) -> str:
    lines = [(f"Pages in headless Chromium 390x844, cold cache, gzip, tiles `none`, sample data; median of {runs} "
             f"loads ({machine()})."), "",
             "| page | transferred | of which HTML | requests | first byte | DOM ready | load | dots shown |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, samples in rows:
        ready = f"{_median(samples, 'ready'):.0f} ms" if any("ready" in s for s in samples) else "—"
        lines.append(f"| {label} | {_median(samples, 'bytes') / 1024:.1f} KiB | {_median(samples, 'html') / 1024:.1f} KiB"
                     f" | {_median(samples, 'requests'):.0f} | {_median(samples, 'ttfb'):.0f} ms"
                     f" | {_median(samples, 'dcl'):.0f} ms | {_median(samples, 'load'):.0f} ms | {ready} |")
    lines += ["", ("`/` counts the station feed (`/map/points`, every station of the first view) in its bytes; "
              "\"dots shown\" is when the clustered markers are on the map. Budget for `/near` with 20 results: "
              "150 KB without tiles.")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--slow", action="store_true", help="first-card paint on emulated slow 3G (bench.pages_slow)")
    options = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not found: apt-get install chromium")
    body = run(options.runs, options.slow)
    write_section("pages_slow" if options.slow else "pages", body)
    print(body)


if __name__ == "__main__":
    main()
