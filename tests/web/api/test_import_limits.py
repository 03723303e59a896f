"""Every import is bounded: more rows than YIZHAN_IMPORT_MAX_ROWS, or a zip unpacking past
YIZHAN_IMPORT_MAX_UNZIPPED_BYTES, answers 413 in the contract's error form naming the setting, and
nothing is written; the CLI has its own, larger bounds. Both stores."""
from __future__ import annotations

import pytest

from app import create_app
from tests.ingest_files import csv_bytes, geojson_bytes, rows_in, write_file, zipped
from tests.web.conftest import EDITOR_TOKEN, TOKENS

EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
LIMITS = {"IMPORT_MAX_ROWS": 4, "CLI_IMPORT_MAX_ROWS": 4}


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    """An app with an empty store of each kind, the test tokens and a 4-row import bound."""
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True, **LIMITS}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()


def post(app, body: bytes, content_type: str | None, query: str = ""):
    headers = {**EDITOR, **({"Content-Type": content_type} if content_type else {})}
    return app.test_client().post(f"/api/v1/import{query}", data=body, headers=headers)


def body_of(fmt: str, rows: list[dict], tmp_path) -> tuple[bytes, str | None]:
    if fmt == "csv":
        return csv_bytes(rows), "text/csv"
    if fmt == "geojson":
        return geojson_bytes(rows), "application/geo+json"
    path = write_file(rows, fmt, tmp_path)
    return (zipped(path), None) if fmt == "shp" else (path.read_bytes(), None)


def assert_too_large(answer, setting: str) -> None:
    assert answer.status_code == 413, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["code"] == "too_large" and setting in error["message"] and error["parameter"] == "body"


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg", "shp"])
def test_more_rows_than_the_bound_answer_413_naming_it(app, tmp_path, fmt):
    five = rows_in("wgs84")  # five stations, one more than the bound
    body, media = body_of(fmt, five, tmp_path)
    for query in ("?dry_run=1", ""):
        assert_too_large(post(app, body, media, query), "YIZHAN_IMPORT_MAX_ROWS")
    assert app.extensions["yizhan.store"].count() == 0
    body, media = body_of(fmt, five[:4], tmp_path / "four")
    answer = post(app, body, media)
    assert answer.status_code == 200 and answer.get_json()["inserted"] == 4


def test_a_zip_unpacking_past_the_bound_answers_413(app, tmp_path):
    app.config["IMPORT_MAX_UNZIPPED_BYTES"] = 1000
    body = zipped(write_file(rows_in("wgs84")[:2], "shp", tmp_path))
    assert_too_large(post(app, body, None), "YIZHAN_IMPORT_MAX_UNZIPPED_BYTES")
    assert app.extensions["yizhan.store"].count() == 0


@pytest.mark.parametrize("fmt", ["csv", "shp"])
def test_the_cli_has_its_own_bound(app, tmp_path, fmt):
    path = write_file(rows_in("wgs84"), fmt, tmp_path)
    done = app.test_cli_runner().invoke(args=["stations", "import", str(path)])
    assert done.exit_code != 0 and "YIZHAN_CLI_IMPORT_MAX_ROWS" in done.output
    assert app.extensions["yizhan.store"].count() == 0
    app.config["CLI_IMPORT_MAX_ROWS"] = 5
    done = app.test_cli_runner().invoke(args=["stations", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert app.extensions["yizhan.store"].count() == 5


def test_a_bad_bound_fails_at_start(tmp_path):
    from web.config import ConfigError

    with pytest.raises(ConfigError, match="YIZHAN_IMPORT_MAX_ROWS"):
        create_app({"DATA_DIR": str(tmp_path), "SEED": False, "IMPORT_MAX_ROWS": "many"})
