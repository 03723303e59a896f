"""Read-modify-write and If-Match in the store's own transaction (layers.revision), on every store."""
from __future__ import annotations

import threading

import pytest

from layers.errors import InvalidStation, PreconditionFailed, StationNotFound
from layers.model import Station
from layers.revision import ANY, etag
from tests.layers.test_store_contract import STORES, make_store


@pytest.fixture(params=STORES[:2])
def store(request, tmp_path_factory, layers):
    made = make_store(request.param, request, tmp_path_factory, layers, None, "postgis_url")
    yield made
    made.close()


BASE = Station(id="c-1", layer="rest_station", lon=106.7, lat=26.57, name="条件驿站", address="甲", operator="乙")


def test_patch_changes_what_is_stored_when_it_runs(store):
    store.put(BASE)
    patched = store.patch("c-1", lambda s: s.with_changes(address=s.address + "+"), actor="t")
    assert patched.address == "甲+" and store.get("c-1") == patched
    assert [e.action for e in store.history("c-1")] == ["update", "create"]
    with pytest.raises(StationNotFound):
        store.patch("absent", lambda s: s)


def test_patches_from_many_threads_are_serialised(store):
    store.put(BASE.with_changes(address="0"))
    threads = [threading.Thread(target=lambda: [store.patch("c-1", lambda s: s.with_changes(
        address=str(int(s.address) + 1))) for _ in range(10)]) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert store.get("c-1").address == "40"  # each increment saw the one before it


def test_if_match_is_checked_in_the_write(store):
    store.put(BASE)
    tag = etag(store.get("c-1"))
    assert tag == etag(BASE) and tag.startswith('"')
    store.put(BASE.with_changes(address="丙"), expect={tag})
    for write in (lambda: store.put(BASE, expect={tag}), lambda: store.delete("c-1", expect={tag}),
                  lambda: store.patch("c-1", lambda s: s.with_changes(operator="丁"), expect={tag})):
        with pytest.raises(PreconditionFailed) as caught:
            write()
        assert caught.value.status == 412
    assert store.get("c-1").address == "丙" and store.get("c-1").operator == "乙"
    with pytest.raises(PreconditionFailed):
        store.put(BASE.with_changes(id="c-2"), expect={ANY})  # * needs a stored station
    with pytest.raises(StationNotFound):
        store.get("c-2")
    store.delete("c-1", expect={ANY, '"other"'})
    with pytest.raises(StationNotFound):
        store.get("c-1")


def test_a_failing_change_writes_nothing(store):
    store.put(BASE)

    def refuse(_):
        raise InvalidStation("no", "name")

    with pytest.raises(InvalidStation):
        store.patch("c-1", refuse)
    assert store.get("c-1") == BASE and len(store.history("c-1")) == 1
