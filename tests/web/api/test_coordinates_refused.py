"""3-D points and coordinates written as text are refused with a clear reason, never changed in
silence (issue 15.14); import errors never show the server's temporary paths (15.13). Both stores."""
from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pytest
import shapely

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS

AUTH = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


@pytest.fixture(params=["embedded", "postgis"])
def client(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path), "SEED": False, "TOKENS": TOKENS, "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    app = create_app(config)
    yield app.test_client()
    app.extensions["yizhan.store"].close()


def station(coords, sid: str = "coord-1") -> dict:
    return {"type": "Feature", "id": sid, "geometry": {"type": "Point", "coordinates": coords},
            "properties": {"name": "坐标驿站", "layer": "rest_station"}}


def stored(client) -> int:
    return client.get("/api/v1/stations?bbox=73,18,135,54").get_json()["numberMatched"]


@pytest.mark.parametrize("crs", ["wgs84", "gcj02"])
@pytest.mark.parametrize(("coords", "field", "words"), [
    ([106.7, 26.5, 1200.0], "geometry", "3-D point"),
    (["106.7", 26.5], "lon", "not text"),
    ([106.7, "26.5"], "lat", "not text"),
    ([106.7, 10 ** 400], "lat", "between"),
])
def test_one_station_with_z_or_text_coordinates_is_refused(client, crs, coords, field, words):
    body = json.dumps(station(coords))  # json writes 10**400 as its digits
    for method, url in (("POST", "/api/v1/stations"), ("PUT", "/api/v1/stations/coord-1")):
        response = client.open(f"{url}?crs={crs}", method=method, data=body, headers=AUTH,
                               content_type="application/json")
        error = response.get_json()["error"]
        if coords[-1] == 10 ** 400:  # not JSON any double can hold: refused as a body
            assert response.status_code == 400 and error["parameter"] == "body"
            continue
        assert response.status_code == 400, response.get_json()
        assert error["parameter"] == field and words in error["message"]
    assert stored(client) == 0


def test_a_park_with_z_or_text_coordinates_is_refused(client):
    for coords in ([106.7, 26.5, 10.0], ["106.7", 26.5]):
        park = {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords},
                "properties": {"name": "园区", "kind": "logistics_park"}}
        response = client.put("/api/v1/parks/coord-park", json=park, headers=AUTH)
        assert response.status_code == 400, response.get_json()
    assert client.get("/api/v1/parks/coord-park").status_code == 404


def geojson(*features) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def test_an_import_reports_z_and_text_coordinates_row_by_row(client):
    body = geojson(station([106.7, 26.5], "fine-1"), station([106.71, 26.5, 900], "z-1"),
                   station(["106.72", "26.5"], "text-1"))
    for query in ("?dry_run=1", ""):
        response = client.post(f"/api/v1/import{query}", data=body, headers=AUTH, content_type="application/geo+json")
        assert response.status_code == 400, response.get_json()
        rejected = response.get_json()["report"]["rejected"]  # one clear reason a row
        assert [(r["id"], r["code"]) for r in rejected] == [("z-1", "invalid_geometry"), ("text-1", "invalid_geometry")]
        assert "3-D point" in rejected[0]["message"] and "not text" in rejected[1]["message"]
    assert stored(client) == 0


def test_a_geopackage_with_z_points_is_refused_with_the_reason(client, tmp_path):
    path = tmp_path / "z.gpkg"
    frame = gpd.GeoDataFrame({"id": ["gz-1"], "name": ["高程驿站"], "layer": ["rest_station"]},
                             geometry=[shapely.Point(106.7, 26.5, 1100.0)], crs="EPSG:4326")
    frame.to_file(path, layer="stations", driver="GPKG")
    response = client.post("/api/v1/import", data=path.read_bytes(), headers=AUTH)
    assert response.status_code == 400
    assert "3-D point" in json.dumps(response.get_json(), ensure_ascii=False)
    assert stored(client) == 0


def _broken_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("stations.shp", b"not a shapefile " * 20)
        archive.writestr("stations.dbf", b"nor a table")
    return buffer.getvalue()


@pytest.mark.parametrize("body", [_broken_zip(), b"SQLite format 3\x00" + b"\x01" * 600], ids=["zip", "gpkg"])
def test_import_errors_never_show_server_paths(client, body):
    response = client.post("/api/v1/import", data=body, headers=AUTH)
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert "/tmp" not in message and "yizhan-import" not in message and "/vsi" not in message, message
