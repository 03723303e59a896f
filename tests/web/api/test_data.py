"""POST /api/v1/import, GET /api/v1/export and `flask stations import|export`, on both stores."""
from __future__ import annotations

import io
import json

import pyogrio
import pytest

from app import create_app
from geo.distance import geodesic_m
from tests.ingest_files import (
    KNOWN,
    csv_bytes,
    geojson_bytes,
    rows_in,
    write_file,
    zipped,
)
from tests.web.conftest import EDITOR_TOKEN, READER_TOKEN, TOKENS

EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    """An app with an empty store of each kind and the test tokens."""
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()


def post(client, body: bytes, query: str = "", content_type: str | None = "text/csv", headers=EDITOR):
    return client.post(f"/api/v1/import{query}", data=body, headers={**headers, **(
        {"Content-Type": content_type} if content_type else {})})


def test_import_needs_an_editor_token(writable_app):
    client = writable_app.test_client()
    body = csv_bytes(rows_in("wgs84"))
    missing = post(client, body, headers={})
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "unauthorized"
    reader = post(client, body, headers={"Authorization": f"Bearer {READER_TOKEN}"})
    assert reader.status_code == 403 and reader.get_json()["error"]["code"] == "forbidden"
    assert writable_app.extensions["yizhan.store"].count() == 0


def test_import_takes_more_than_the_small_json_limit_and_413_beyond_the_max(writable_app):
    client = writable_app.test_client()
    rows = [dict(r, id=f"big-{i}", name=f"测试站{i}", lon=100 + i * 1e-4) for i, r in
            enumerate(rows_in("wgs84")[:1] * 2000)]
    body = csv_bytes(rows)
    assert len(body) > 64 * 1024
    assert post(client, body, "?dry_run=1").status_code == 200
    huge = body + b"x" * (writable_app.config["MAX_CONTENT_LENGTH"] + 1 - len(body))
    answer = post(client, huge)
    assert answer.status_code == 413
    assert answer.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_api_imports_csv_and_geojson_in_each_crs(app, crs):
    client = app.test_client()
    answer = post(client, csv_bytes(rows_in(crs)), f"?crs={crs}")
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["written"] and report["inserted"] == len(KNOWN) and report["crs"] == crs
    again = post(client, geojson_bytes(rows_in(crs)), f"?crs={crs}", "application/geo+json").get_json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, len(KNOWN))
    for sid, _, _, lon, lat, _, _ in KNOWN:
        got = client.get(f"/api/v1/stations/{sid}").get_json()["geometry"]["coordinates"]
        assert geodesic_m(lon, lat, *got) < 0.5


def test_api_imports_a_geopackage_and_a_zipped_shapefile_sniffed(app, tmp_path):
    client = app.test_client()
    gpkg = write_file(rows_in("wgs84"), "gpkg", tmp_path / "g").read_bytes()
    assert post(client, gpkg, content_type=None).get_json()["inserted"] == len(KNOWN)
    shp = zipped(write_file(rows_in("gcj02"), "shp", tmp_path / "s", crs_label=None))
    report = post(client, shp, "?crs=gcj02", content_type="application/zip").get_json()
    assert report["format"] == "shp" and report["inserted"] == 0  # GCJ-02 back to WGS-84: equal within ~1e-11 deg
    assert report["updated"] + report["unchanged"] == len(KNOWN)


def test_rejected_rows_answer_400_with_the_report_and_nothing_is_written(app):
    client = app.test_client()
    rows = rows_in("gcj02")
    rows[2]["lon"], rows[2]["lat"] = rows[2]["lat"], rows[2]["lon"]
    rows[3]["services"] = "wifi"
    answer = post(client, csv_bytes(rows), "?crs=gcj02")
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"]["code"] == "import_rejected"
    assert [(e["line"], e["id"], e["field"], e["code"]) for e in body["report"]["rejected"]] == [
        (4, "imp-bj-1", "lat", "swapped_coordinates"), (5, "imp-dg-1", "services", "unknown_service")]
    assert body["report"]["rows_read"] == len(KNOWN) and not body["report"]["written"]
    assert app.extensions["yizhan.store"].count() == 0


def test_dry_run_and_bad_parameters(app):
    client = app.test_client()
    body = csv_bytes(rows_in("wgs84"))
    report = post(client, body, "?dry_run=1").get_json()
    assert report["dry_run"] and not report["written"] and report["rows_valid"] == len(KNOWN)
    assert app.extensions["yizhan.store"].count() == 0
    for query, parameter in (("?crs=mars", "crs"), ("?layer=bus", "layer"), ("?dry_run=maybe", "dry_run"),
                             ("?x=1", "x")):
        answer = post(client, body, query)
        assert answer.status_code == 400 and answer.get_json()["error"]["parameter"] == parameter
    for junk, media in ((b"", "text/csv"), (b"\xff\xfe\x00garbage", None), (b"[1, 2", "application/json"),
                        (b"PK\x03\x04broken", "application/zip"), (b"SQLite format 3\x00" + b"\x00" * 64, None)):
        answer = post(client, junk, content_type=media)
        assert answer.status_code == 400, (junk, answer.get_json())
        assert set(answer.get_json()) == {"error"}


def test_export_formats(app):
    client = app.test_client()
    post(client, csv_bytes(rows_in("wgs84")))
    store = app.extensions["yizhan.store"]
    store.put(store.get("imp-wl-1").with_changes(status="removed"))
    geo = client.get("/api/v1/export")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    assert len(geo.get_json()["features"]) == len(KNOWN) - 1
    assert len(client.get("/api/v1/export?include_removed=1").get_json()["features"]) == len(KNOWN)
    one = client.get("/api/v1/export?format=geojson&layer=rights_post").get_json()
    assert [f["id"] for f in one["features"]] == ["imp-bj-1"]
    csv = client.get("/api/v1/export?format=csv")
    assert csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv.headers["Content-Disposition"]
    assert csv.data.startswith(b"\xef\xbb\xbfid,layer,name")
    assert "南明区测试驿站" in csv.data.decode("utf-8-sig")
    gpkg = client.get("/api/v1/export?format=gpkg")
    assert gpkg.status_code == 200 and gpkg.data.startswith(b"SQLite format 3\x00")
    info = pyogrio.read_info(io.BytesIO(gpkg.data))
    assert info["crs"] == "EPSG:4326" and info["features"] == len(KNOWN) - 1 and info["geometry_type"] == "Point"
    assert client.get("/api/v1/export?format=xlsx").status_code == 400


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_export_then_import_through_the_api_is_a_no_op(app, fmt):
    client = app.test_client()
    post(client, csv_bytes(rows_in("bd09")), "?crs=bd09")
    before = client.get("/api/v1/export?include_removed=1").get_json()
    data = client.get(f"/api/v1/export?format={fmt}").data
    media = {"csv": "text/csv", "geojson": "application/geo+json", "gpkg": None}[fmt]
    report = post(client, data, content_type=media).get_json()
    assert (report["inserted"], report["updated"], report["unchanged"]) == (0, 0, len(KNOWN))
    after = client.get("/api/v1/export?include_removed=1").get_json()
    assert after["features"] == before["features"]


def test_cli_import_and_export(app, tmp_path):
    runner = app.test_cli_runner()
    path = write_file(rows_in("gcj02"), "csv", tmp_path)
    dry = runner.invoke(args=["stations", "import", str(path), "--crs", "gcj02", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output and app.extensions["yizhan.store"].count() == 0
    done = runner.invoke(args=["stations", "import", str(path), "--crs", "gcj02"])
    assert done.exit_code == 0, done.output
    assert f"written: {len(KNOWN)} new, 0 updated, 0 unchanged" in done.output
    assert "writing" in done.stderr
    history = app.extensions["yizhan.store"].history("imp-gy-1")
    assert history[0].actor.startswith("cli:")
    rows = rows_in("gcj02")
    rows[0]["hours"] = "sometimes"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows))
    report_file = tmp_path / "report.json"
    rejected = runner.invoke(args=["stations", "import", str(bad), "--crs", "gcj02", "--report", str(report_file)])
    assert rejected.exit_code == 1
    assert "line 2 (id imp-gy-1): hours: invalid_hours" in rejected.output
    assert json.loads(report_file.read_text(encoding="utf-8"))["rejected"][0]["code"] == "invalid_hours"
    conflict = runner.invoke(args=["stations", "import", str(path), "--crs", "mars"])
    assert conflict.exit_code == 1 and "unknown CRS" in conflict.output
    out = tmp_path / "all.gpkg"
    exported = runner.invoke(args=["stations", "export", "--out", str(out)])
    assert exported.exit_code == 0 and f"exported {len(KNOWN)} stations" in exported.output
    again = runner.invoke(args=["stations", "import", str(out)])
    assert f"written: 0 new, 0 updated, {len(KNOWN)} unchanged" in again.output
    csv_out = tmp_path / "rest.csv"
    one = runner.invoke(args=["stations", "export", "--format", "csv", "--out", str(csv_out), "--layer", "rest_station"])
    assert one.exit_code == 0 and csv_out.read_bytes().count(b"\r\n") == 3


def test_json_values_of_the_wrong_kind_are_reported_not_a_500(writable_app):
    client = writable_app.test_client()
    feature = {"type": "Feature", "id": {"a": 1}, "geometry": {"type": "Point", "coordinates": [{"x": 1}, [2]]},
               "properties": {"name": {"x": 1}, "layer": ["rest_station"], "services": [{"x": 1}],
                              "hours": {"y": 2}, "origins": {"k": 1}, "items": [[1]], "status": []}}
    answer = post(client, json.dumps({"type": "FeatureCollection", "features": [feature, "junk"]}).encode(),
                  content_type="application/json")
    assert answer.status_code == 400
    fields = {(e["feature"], e["field"]) for e in answer.get_json()["report"]["rejected"]}
    assert {(0, "id"), (0, "lon"), (0, "lat"), (0, "name"), (0, "layer"), (0, "services"), (0, "hours"),
            (0, "origins"), (0, "items"), (0, "status"), (1, "geometry")} <= fields
