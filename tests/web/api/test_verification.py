"""Issue 19.4-19.5 on both stores: approximate positions said on cards and drawn as a dashed ring,
verified_at/verified_by set only by an editor's explicit confirmation, stale entries shown as such."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from app import create_app
from geo.hours import SHANGHAI
from tests.web.conftest import EDITOR_TOKEN, TOKENS

EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True, "TILES": "none"}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()


def feature(**props):
    base = {"name": "南明区工会驿站", "layer": "rest_station", "address": "贵阳市南明区兴业西路1号",
            "phone": "0851-85551234"}
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.710608, 26.571469]},
            "properties": {**base, **props}}


def test_an_approximate_station_says_so_on_its_card_and_map(app):
    client = app.test_client()
    made = client.put("/api/v1/stations/nm-1", json=feature(location_precision="county"), headers=EDITOR)
    assert made.status_code == 201
    assert made.get_json()["properties"]["location_precision"] == "county"
    page = client.get("/station/nm-1").get_data(as_text=True)
    assert "位置大致在南明区，到附近请打电话问" in page
    assert "approx-ring" in page and '"dashArray": "6 6"' in page
    near = client.get("/near?lat=26.57&lon=106.71").get_data(as_text=True)
    assert "位置大致在南明区" in near
    item = client.get("/ogc/collections/rest_station/items/nm-1").get_json()
    assert item["properties"]["location_precision"] == "county"
    client.put("/api/v1/stations/nm-2", json={**feature(), "properties": {**feature()["properties"], "name": "精确"}},
               headers=EDITOR)
    exact = client.get("/station/nm-2").get_data(as_text=True)
    assert "位置大致在" not in exact and "approx-ring" not in exact


def test_only_the_verify_call_sets_verified_at_and_by(app):
    client = app.test_client()
    created = client.post("/api/v1/stations", json={**feature(verified_at="2026-01-01", verified_by="me"), "id": "v-1"},
                          headers=EDITOR).get_json()
    assert created["properties"]["verified_at"] is None and created["properties"]["verified_by"] is None
    done = client.post("/api/v1/stations/v-1/verify", headers=EDITOR)
    assert done.status_code == 200
    today = datetime.now(SHANGHAI).date().isoformat()
    props = done.get_json()["properties"]
    assert props["verified_at"] == today and props["verified_by"]
    patched = client.patch("/api/v1/stations/v-1", json={"properties": {"phone": "0851-1", "verified_at": "2020-01-01",
                                                                          "verified_by": "x"}}, headers=EDITOR)
    assert patched.get_json()["properties"]["verified_at"] == today and patched.get_json()["properties"]["phone"] == "0851-1"
    put = client.put("/api/v1/stations/v-1", json=feature(verified_at="2020-01-01"), headers=EDITOR).get_json()
    assert put["properties"]["verified_at"] == today and put["properties"]["verified_by"] == props["verified_by"]
    assert client.post("/api/v1/stations/none/verify", headers=EDITOR).status_code == 404
    assert client.post("/api/v1/stations/v-1/verify").status_code == 401


def test_an_entry_unchecked_for_more_than_180_days_is_shown_as_stale(app):
    store = app.extensions["yizhan.store"]
    from layers.model import station_from_feature

    old = (date.today() - timedelta(days=200)).isoformat()
    recent = (date.today() - timedelta(days=10)).isoformat()
    for sid, when in (("old-1", old), ("new-1", recent)):
        store.put(station_from_feature({**feature(verified_at=when), "id": sid}, store.layers), actor="test")
    client = app.test_client()
    assert f"信息可能过期（上次核实：{old}）" in client.get("/station/old-1").get_data(as_text=True)
    assert "信息可能过期" not in client.get("/station/new-1").get_data(as_text=True)


def test_list_cards_leave_the_stale_note_to_the_station_page(app):
    store = app.extensions["yizhan.store"]
    from layers.model import station_from_feature

    old = (date.today() - timedelta(days=200)).isoformat()
    store.put(station_from_feature({**feature(verified_at=old), "id": "old-2"}, store.layers), actor="test")
    near = app.test_client().get("/near?lat=26.57&lon=106.71").get_data(as_text=True)
    assert "南明区工会驿站" in near and "信息可能过期" not in near
