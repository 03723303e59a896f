"""Shared hit counters (layers/counters.py) on both stores' databases: windows, secrets, limits across processes."""
from __future__ import annotations

import threading

import pytest

from layers.counters import RateLimiter
from layers.errors import StoreUnavailable


def open_parks(kind: str, where):
    if kind == "sqlite":
        from layers.embedded.parks import SqliteParkStore

        return SqliteParkStore(str(where))
    from layers.postgis.parks import PostgisParkStore

    return PostgisParkStore(where)


@pytest.fixture(params=["sqlite", "postgis"])
def two(request, tmp_path):
    """Two park stores on one database: what two gunicorn workers (or two machines) hold."""
    where = tmp_path if request.param == "sqlite" else request.getfixturevalue("postgis_url")
    stores = [open_parks(request.param, where), open_parks(request.param, where)]
    yield stores
    for store in stores:
        store.close()


def test_a_window_counts_every_hit_and_starts_again_after_it_ends(two):
    a, b = (s.counters for s in two)
    assert a.count_hits(["k"], 1000.0, 60) == [(1, 1060.0)]
    assert b.count_hits(["k"], 1010.0, 60) == [(2, 1060.0)]  # the other process sees the same counter
    assert a.count_hits(["k", "other"], 1059.0, 60) == [(3, 1060.0), (1, 1119.0)]
    assert b.count_hits(["k"], 1060.0, 60) == [(1, 1120.0)]  # the window ended: a new one


def test_the_day_secret_is_shared_and_other_days_are_forgotten(two):
    a, b = (s.counters for s in two)
    first = a.day_secret("2026-12-03")
    assert len(first) == 32 and b.day_secret("2026-12-03") == first
    second = b.day_secret("2026-12-04")
    assert second != first and a.day_secret("2026-12-04") == second
    assert a.day_secret("2026-12-03") != first  # made anew: yesterday's keys link to no one


def test_limit_holds_across_processes_and_threads(two):
    """N+k hits from one client through two processes, eight threads: exactly N allowed."""
    limiters = [RateLimiter(7, 600, store.counters, "report") for store in two]
    allowed = []
    lock = threading.Lock()

    def client(i: int) -> None:
        for j in range(5):
            wait = limiters[(i + j) % 2].hit("203.0.113.77")
            with lock:
                allowed.append(wait == 0)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(allowed) == 40 and sum(allowed) == 7
    assert limiters[0].hit("198.51.100.1") == 0  # another client has its own count
    wait = limiters[1].hit("203.0.113.77")
    assert 1 <= wait <= 601


def test_no_address_is_stored(two, tmp_path):
    limiter = RateLimiter(3, 600, two[0].counters, "report")
    limiter.hit("203.0.113.77")
    store = two[0]
    if store.kind == "embedded":
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("parks.sqlite3*"))
        assert b"203.0.113.77" not in raw and b"report:" in raw
    else:
        import psycopg2

        conn = psycopg2.connect(store.url)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT key FROM hit_counters")
            keys = [row[0] for row in cur.fetchall()]
        conn.close()
        assert len(keys) == 1 and keys[0].startswith("report:") and "203.0.113" not in keys[0]


def test_limiter_counts_in_memory_while_the_database_is_gone(tmp_path):
    from layers.embedded.parks import SqliteParkStore

    store = SqliteParkStore(str(tmp_path))
    limiter = RateLimiter(2, 600, store.counters, "report")
    assert limiter.hit("a") == 0
    store.close()
    (tmp_path / "afile").write_text("not a folder")
    store.counters.path = tmp_path / "afile" / "parks.sqlite3"  # cannot be opened again
    with pytest.raises(StoreUnavailable):
        store.counters.count_hits(["x"], 0.0, 1)
    results = [limiter.hit("b") for _ in range(3)]
    assert results[:2] == [0, 0] and results[2] >= 1  # still limited, in this process
