"""The duplicate check of an import is linear: each row reported once, against its first twin (the
earliest earlier row of the same name within 10 m), equal to the all-pairs definition on small
inputs, and many rows on one point (one town centre) checked in bounded memory, on both stores."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import destination, geodesic_m
from layers.ingest import twins as ingest_twins
from layers.ingest.dupes import near_duplicates_in_file
from layers.ingest.twins import DUPLICATE_RADIUS_M, first_twins
from tests.conftest import REPO

CENTRES = [(106.7, 26.5), (121.23, 28.13), (87.6, 43.8)]


def all_pairs_first_twins(lon, lat, names, usable):
    """The definition: every (later, earlier) pair of usable rows with equal names within 10 m, by
    brute force; each later row kept once, with its smallest earlier row."""
    out = {}
    rows = np.flatnonzero(usable).tolist()
    for b in rows:
        for a in rows:
            if a >= b:
                break
            if names[a] == names[b]:
                metres = geodesic_m(lon[a], lat[a], lon[b], lat[b])
                if metres <= DUPLICATE_RADIUS_M:
                    out[b] = (a, metres)
                    break
    return [(b, a, m) for b, (a, m) in sorted(out.items())]


rows_strategy = st.lists(st.tuples(st.integers(0, 2), st.floats(0, 360), st.floats(0, 25),
                                   st.sampled_from(["甲站", "乙站", "丙站"]), st.booleans(), st.booleans()),
                         min_size=0, max_size=40)


@settings(max_examples=300, deadline=None)
@given(rows=rows_strategy)
def test_first_twins_equal_the_all_pairs_definition(rows):
    """Rows scattered 0-25 m around a few centres (some on the very same point): the same rows are
    found, each against the same first twin at the same distance."""
    lon, lat, names, usable = [], [], [], []
    for centre, azimuth, metres, name, on_centre, ok in rows:
        x, y = CENTRES[centre] if on_centre else destination(*CENTRES[centre], azimuth, metres)
        lon.append(x), lat.append(y), names.append(name), usable.append(ok)
    lon, lat = np.array(lon, dtype=float), np.array(lat, dtype=float)
    names, usable = np.array(names, dtype=object), np.array(usable, dtype=bool)
    expected = all_pairs_first_twins(lon, lat, names, usable)
    for batch in (ingest_twins.BATCH_ENTRIES, 2):  # close pairs listed at once, and point by point in batches
        with mock.patch.object(ingest_twins, "BATCH_ENTRIES", batch):
            got = near_duplicates_in_file(lon, lat, names, usable)
        assert [(b, a) for b, a, _ in got] == [(b, a) for b, a, _ in expected]
        assert np.allclose([m for *_, m in got], [m for *_, m in expected], atol=1e-6)


def test_first_twin_is_the_earliest_close_row_not_the_nearest():
    """Row 2 is 8 m from row 0 and 1 m from row 1: its first twin is row 0."""
    x1, y1 = destination(106.7, 26.5, 90.0, 7.0)
    x2, y2 = destination(106.7, 26.5, 90.0, 8.0)
    twin, metres = first_twins(np.array([106.7, x1, x2]), np.array([26.5, y1, y2]),
                               np.array(["站", "站", "站"], dtype=object))
    assert twin.tolist() == [-1, 0, 0]
    assert metres[2] == pytest.approx(8.0, abs=1e-6)


_CHILD = textwrap.dedent("""
    import json, re, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))  # the old all-pairs check fails here, not the machine
    from layers.embedded.store import EmbeddedStore
    from layers.ingest.importer import import_table
    from layers.ingest.csv_file import read_csv
    from layers.layerdefs import load_layers
    from layers.model import Station
    kind, where, n, same_name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
    layers = load_layers()
    twin = [Station(id="stored-1", lon=106.7, lat=26.5, name="同名站", layer="rest_station")]
    if kind == "embedded":
        store = EmbeddedStore(where, layers, seed=twin)
    else:
        from layers.postgis.store import PostgisStore
        store = PostgisStore(where, layers, seed=twin)
    lines = ["name,layer,lon,lat"] + [f"{'同名站' if same_name else '站' + str(i)},rest_station,106.7,26.5"
                                      for i in range(n)]
    body = ("\\n".join(lines) + "\\n").encode()
    report = import_table(read_csv(body), store, dry_run=True)
    store.close()
    out = report.to_json()
    # VmHWM, this process's own peak: ru_maxrss survives exec, so it would report the test runner's
    # size at fork time (519 MB late in a full run) instead of the import's
    hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({"peak_mb": hwm_kb / 1024,
                      "rows_rejected": out["rows_rejected"], "by_code": out["rejected_by_code"],
                      "ids_matched": out["ids_matched"], "first": out["rejected"][:2]}))
""")


def run_child(kind: str, where: str, n: int, same_name: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, kind, where, str(n), "1" if same_name else "0"],
                          check=False, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(params=["embedded", "postgis"])
def where(request, tmp_path):
    """Where the child process opens its store: a data directory, or a fresh PostGIS database."""
    return ("embedded", str(tmp_path)) if request.param == "embedded" else \
        ("postgis", request.getfixturevalue("postgis_url"))


def test_sixty_thousand_rows_of_one_name_on_one_point_in_bounded_memory(where):
    """The audit's 1.6 MB file (it grew a worker to 15 GB): every row but the first is a likely
    duplicate of line 2, reported once; the first takes the stored twin's id."""
    found = run_child(*where, 60_000, True)
    assert found["peak_mb"] < 500, found
    assert found["rows_rejected"] == 59_999
    assert found["by_code"] == {"likely_duplicate": 59_999, "duplicate_id": 59_999}  # no id given: each
    assert found["ids_matched"] == 60_000  # row resolves to the stored twin, so all share its id
    assert "line 2 " in found["first"][0]["message"] and found["first"][0]["line"] == 3


def test_ten_thousand_names_on_one_point_in_bounded_memory(where):
    """Different names on one point are no duplicates; the check must not pair them up."""
    found = run_child(*where, 10_000, False)
    assert found["peak_mb"] < 500, found
    assert found["rows_rejected"] == 0 and found["ids_matched"] == 0
