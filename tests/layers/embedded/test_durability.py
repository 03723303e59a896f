"""The embedded store survives a restart and a kill -9 in the middle of writing."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

from layers.embedded.store import DB_NAME, EmbeddedStore
from layers.store import NearestQuery
from tests.conftest import REPO
from tests.stations import random_stations

WRITER = textwrap.dedent("""
    import sys
    from layers.embedded.store import EmbeddedStore
    from layers.layerdefs import load_layers
    from tests.stations import random_stations
    layers = load_layers()
    store = EmbeddedStore(sys.argv[1], layers)
    batch = random_stations(layers, 60, seed=99)
    i = 0
    while True:
        s = batch[i % 60].with_changes(id=f"w{i:06d}", name=f"写入 {i}")
        if i % 10 == 9:
            store.import_rows([s.with_changes(id=f"b{i:06d}-{j}") for j in range(50)])
        store.put(s)
        print(s.id, flush=True)
        i += 1
""")


def test_kill_9_during_writes_keeps_every_acknowledged_write(tmp_path, layers):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= 150:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = sqlite3.connect(tmp_path / DB_NAME)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = EmbeddedStore(tmp_path, layers)
    stored = {s.id for s in store.iter_all()}  # every row parses back into a whole Station
    assert set(acknowledged) <= stored
    batches = {sid.split("-")[0] for sid in stored if sid.startswith("b")}
    for prefix in batches:  # an import lands whole or not at all
        assert sum(1 for sid in stored if sid.startswith(prefix + "-")) == 50
    store.close()


def test_restart_rebuilds_the_index(tmp_path, layers):
    stations = random_stations(layers, 400, seed=21)
    store = EmbeddedStore(tmp_path, layers, seed=stations)
    q = NearestQuery(lon=106.71, lat=26.58, k=7)
    before = [(h.station.id, h.distance_m) for h in store.nearest(q)]
    store.close()
    again = EmbeddedStore(tmp_path, layers, seed=random_stations(layers, 10, seed=1))  # seed ignored: not empty
    assert again.count() == 400
    assert [(h.station.id, h.distance_m) for h in again.nearest(q)] == before
    again.close()


def test_second_process_sees_writes(tmp_path, layers):
    """Two stores on one file (as two gunicorn workers): a write in one shows in the other's nearest."""
    stations = random_stations(layers, 200, seed=4)
    a = EmbeddedStore(tmp_path, layers, seed=stations)
    b = EmbeddedStore(tmp_path, layers)
    new = stations[0].with_changes(id="fresh-1", lon=120.0, lat=30.0, status="open")
    a.put(new)
    assert b.nearest(NearestQuery(lon=120.0, lat=30.0, k=1))[0].station.id == "fresh-1"
    a.delete("fresh-1")
    assert all(h.station.id != "fresh-1" for h in b.nearest(NearestQuery(lon=120.0, lat=30.0, k=1)))
    a.close()
    b.close()


def test_records_read_before_another_process_writes_are_not_served_again(tmp_path, layers):
    """Each store keeps the records it read; a change committed by another store must still show."""
    stations = random_stations(layers, 200, seed=5)
    a = EmbeddedStore(tmp_path, layers, seed=stations)
    b = EmbeddedStore(tmp_path, layers)
    target = stations[3]
    q = NearestQuery(lon=target.lon, lat=target.lat, k=1)
    assert b.get(target.id).name == target.name          # b has read (and kept) the record
    assert b.nearest(q)[0].station.name == target.name
    a.put(target.with_changes(name="新名字"))
    assert b.get(target.id).name == "新名字"
    assert b.nearest(q)[0].station.name == "新名字"
    b.put(target.with_changes(name="又改了"))             # and a write of its own
    assert b.get(target.id).name == "又改了"
    assert a.nearest(q)[0].station.name == "又改了"
    a.close()
    b.close()


class _Interleaved(EmbeddedStore):
    """Runs `between` (another store's write) right after this store's next refresh outside a
    transaction: the moment a second process can commit before this one takes the write lock."""

    between = None

    def _refresh(self) -> None:
        super()._refresh()
        if self.between is not None and not self._db.in_transaction:
            run, self.between = self.between, None
            run()


def test_a_commit_between_refresh_and_write_lock_is_not_skipped(tmp_path, layers):
    """Two workers on one new file: b's write must not jump its revision past a's commit."""
    stations = random_stations(layers, 300, seed=6)
    a = EmbeddedStore(tmp_path, layers)
    b = _Interleaved(tmp_path, layers)
    b.between = lambda: a.import_rows(stations[:200])
    b.import_rows(stations[200:])
    if b.between is not None:  # the store never refreshes outside its write lock: a commits after
        b.between()
    visible = sorted(s.id for s in stations if s.status != "removed")
    assert [s.id for s in b.in_bbox(None, limit=1000).stations] == visible
    q = NearestQuery(lon=stations[0].lon, lat=stations[0].lat, k=1)
    assert b.nearest(q)[0].station.id == a.nearest(q)[0].station.id
    a.close()
    b.close()
