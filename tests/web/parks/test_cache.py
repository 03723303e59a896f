"""The landing page's speed parts: scan counts written in batches, rendered pages reused within a minute."""
from __future__ import annotations

import time
from datetime import date, datetime

import pytest

from geo.hours import SHANGHAI
from layers.embedded.parks import SqliteParkStore
from layers.errors import YizhanError
from layers.scans import ScanBuffer
from tests.web.conftest import EDITOR_TOKEN
from tests.web.parks.test_pages import AT, SLUG, close, make_parks_app

DAY = date(2026, 11, 30)


@pytest.fixture(params=["sqlite", "postgis"])
def park_store(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteParkStore(str(tmp_path))
    else:
        from layers.postgis.parks import PostgisParkStore

        store = PostgisParkStore(request.getfixturevalue("postgis_url"))
    yield store
    store.close()


def test_add_scans_lands_whole_batches(park_store):
    park_store.add_scans({("a", DAY): 3, ("b", DAY): 1})
    park_store.add_scans({("a", DAY): 2, ("a", date(2026, 12, 1)): 4})
    assert park_store.scan_days("a") == [(DAY, 5), (date(2026, 12, 1), 4)]
    assert park_store.scan_totals() == {"a": 9, "b": 1}


def test_buffer_counts_in_memory_until_flushed(tmp_path):
    store = SqliteParkStore(str(tmp_path))
    buffer = ScanBuffer(store, flush_s=3600)  # the thread never gets to it: only explicit flushes
    try:
        for _ in range(250):
            buffer.add("gate", DAY)
        buffer.add("other", DAY)
        assert buffer.pending() == 251
        assert store.scan_totals() == {}  # nothing written yet: no write per scan
        buffer.flush()
        assert buffer.pending() == 0
        assert store.scan_totals() == {"gate": 250, "other": 1}
    finally:
        store.close()


def test_buffer_keeps_counts_when_the_store_fails(tmp_path):
    store = SqliteParkStore(str(tmp_path))
    buffer = ScanBuffer(store, flush_s=3600)
    buffer.add("gate", DAY)
    store.close()  # the database is gone
    with pytest.raises(YizhanError):
        buffer.flush()
    assert buffer.pending() == 1  # kept for the next flush that succeeds
    reopened = SqliteParkStore(str(tmp_path))
    try:
        buffer._parks = reopened  # the same database file, back again
        buffer.flush()
        assert reopened.scan_totals() == {"gate": 1}
    finally:
        reopened.close()


def test_buffer_flushes_by_itself(tmp_path):
    store = SqliteParkStore(str(tmp_path))
    buffer = ScanBuffer(store, flush_s=0.05)
    try:
        buffer.add("gate", DAY)
        for _ in range(200):
            if store.scan_totals():
                break
            time.sleep(0.02)
        assert store.scan_totals() == {"gate": 1}
    finally:
        store.close()


def test_page_reused_within_the_minute_and_redone_after_a_write(tmp_path):
    app = make_parks_app(tmp_path)
    c = app.test_client()
    try:
        first = c.get(f"/p/{SLUG}?at={AT}")
        again = c.get(f"/p/{SLUG}?at={AT}")
        assert first.status_code == again.status_code == 200
        assert first.get_data() == again.get_data()
        cache = app.extensions["yizhan.pages"]
        generation = cache.generation
        # rename the first listed station through the API: the next landing must show it at once
        with app.app_context():
            from web.parks.common import park_store
            from web.parks.pages import park_picks

            park = park_store().get_park(SLUG)
            picks = park_picks(park, datetime.fromisoformat(AT).replace(tzinfo=SHANGHAI), set())
        feature = picks[0][1][0]
        sid = feature["id"]
        props = {k: v for k, v in feature["properties"].items()
                 if k not in ("distance_m", "open_now", "nav", "hours_today", "next_open")}
        props["name"] = "改名后的驿站"
        answer = c.put(f"/api/v1/stations/{sid}", headers={"Authorization": f"Bearer {EDITOR_TOKEN}"},
                       json={"type": "Feature", "geometry": feature["geometry"], "properties": props})
        assert answer.status_code == 200, answer.get_json()
        assert cache.generation == generation + 1
        after = c.get(f"/p/{SLUG}?at={AT}")
        assert "改名后的驿站" in after.get_data(as_text=True)
        assert "改名后的驿站" not in first.get_data(as_text=True)
        # another language is another page; an unknown park is never cached as a page
        assert c.get(f"/p/{SLUG}?at={AT}&lang=en").get_data() != after.get_data()
        assert c.get("/p/no-such-park").status_code == 404
        assert c.get("/p/no-such-park").status_code == 404
    finally:
        close(app)


def test_cached_landings_still_count_scans(tmp_path):
    app = make_parks_app(tmp_path)
    c = app.test_client()
    try:
        for i in range(5):  # five phones scanning the poster; the page is made once and still counted
            assert c.get(f"/p/{SLUG}?s=qr", environ_base={"REMOTE_ADDR": f"203.0.113.{i}"},
                         headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0"}).status_code == 200
        c.get(f"/p/{SLUG}?s=qr&reported=1")  # the page after a report is not a new landing
        stats = c.get(f"/api/v1/parks/{SLUG}/stats").get_json()
        assert stats["total"] == 5
    finally:
        close(app)
