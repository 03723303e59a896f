"""Closing an app writes its pending scan counts (issue 14.5): no "could not be written at exit" noise."""
from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO as ROOT
from tests.web.parks.test_pages import make_parks_app

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 MicroMessenger/8.0.47"
REPO = str(ROOT)


@pytest.fixture(params=["sqlite", "postgis"])
def config(request):
    return {"DATABASE_URL": request.getfixturevalue("postgis_url")} if request.param == "postgis" else {}


def scan(app, n: int = 3) -> None:
    c = app.test_client()
    for i in range(n):
        assert c.get("/p/guiyang-shawen?s=qr", environ_base={"REMOTE_ADDR": f"203.0.113.{i}"},
                     headers={"User-Agent": BROWSER}).status_code == 200


@pytest.mark.parametrize("first", ["yizhan.store", "yizhan.parks"])
def test_closing_either_store_writes_the_pending_scans(tmp_path, config, caplog, first):
    app = make_parks_app(tmp_path, SCAN_FLUSH_S=3600, **config)  # the flush thread never gets there
    scan(app)
    buffer = app.extensions["yizhan.scans"]
    assert buffer.pending() == 3
    with caplog.at_level(logging.WARNING):
        app.extensions[first].close()  # what a test fixture (or a worker's exit) does
        for name in ("yizhan.parks", "yizhan.store"):
            app.extensions[name].close()
    assert buffer.closed and buffer.pending() == 0
    assert not [r for r in caplog.records if "could not be written" in r.getMessage()]
    again = make_parks_app(tmp_path, SEED=False, **config)
    try:
        assert again.extensions["yizhan.parks"].scan_totals() == {"guiyang-shawen": 3}
    finally:
        again.extensions["yizhan.store"].close()


def test_a_real_failure_to_write_is_still_said_once(tmp_path, caplog):
    app = make_parks_app(tmp_path, SCAN_FLUSH_S=3600)
    scan(app, 2)
    parks = app.extensions["yizhan.parks"]
    parks.counters.close()
    (tmp_path / "blocked").write_text("a file where a folder should be")
    parks.counters.path = tmp_path / "blocked" / "parks.sqlite3"  # the counters' database is gone
    with caplog.at_level(logging.WARNING):
        app.extensions["yizhan.store"].close()
        parks.close()
    said = [r.getMessage() for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("2 scan counts could not be written when the store closed")


def test_a_process_that_closed_its_apps_exits_quietly(tmp_path, config):
    """What every test session does: apps made, scanned, closed, their data directories removed, exit."""
    script = textwrap.dedent(f"""
        import shutil, sys
        sys.path.insert(0, {REPO!r})
        from tests.web.parks.test_pages import make_parks_app
        from tests.web.parks.test_teardown import scan
        for i in range(3):
            folder = {str(tmp_path)!r} + f"/app{{i}}"
            app = make_parks_app(folder, SCAN_FLUSH_S=3600, **{config!r})
            scan(app)
            if i == 0:  # tests/web/parks/test_pages.py's close(): the park store first
                app.extensions["yizhan.parks"].close()
            app.extensions["yizhan.store"].close()
            shutil.rmtree(folder, ignore_errors=True)
        left = make_parks_app({str(tmp_path)!r} + "/open", SCAN_FLUSH_S=3600, **{config!r})
        scan(left, 1)  # never closed: flushed at exit, and that write works
    """)
    done = subprocess.run([sys.executable, "-c", script], check=False, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "could not be written" not in done.stderr + done.stdout, done.stderr[-3000:]
    check = make_parks_app(tmp_path / "open", SEED=False, **config)
    try:
        totals = check.extensions["yizhan.parks"].scan_totals()
        assert totals == {"guiyang-shawen": 1 if not config else 3}  # PostGIS: one database, the same 3 phones
    finally:
        check.extensions["yizhan.store"].close()
