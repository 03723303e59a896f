"""A real Excel sheet of an office's station list (title row, Chinese headers, addresses without
coordinates, Chinese hours, broken rows) through the CLI and POST /api/v1/import, on both stores."""
from __future__ import annotations

import io

import openpyxl
import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS

EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["序号", "驿站名称", "详细地址", "联系电话", "开放时间", "类型", "服务内容"]
GOOD = [
    [1, "文新街道爱心驿站", "杭州市西湖区文新街道文一西路12号", 57188881234, "周一至周五 9:00-17:00，节假日休息",
     "户外劳动者服务站点", "饮用水、手机充电"],
    [2, "南明区工会驿站", "贵阳市南明区兴业西路1号", "0851-85551234", "看情况而定", "rest_station", None],
    [3, "西湖法律援助工作站", "浙江省杭州市西湖区", "0571-12348", "全天24小时", "rights_post", None],
]
BROKEN = [
    [4, "火星驿站", "火星某地", None, "全天", "rest_station", None],  # cannot be placed
    [5, "坏坐标驿站", None, None, "Mo-Fr 25:00-26:00", "rest_station", None],  # no address, bad syntax
]


def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "站点名单"
    sheet.append(["西湖区、南明区户外劳动者服务站点一览表（2026年）"])
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    sheet.append([None] * len(HEADERS))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path / "data"), "SEED": False, "TOKENS": TOKENS, "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()


def post(client, body: bytes, query: str = ""):
    return client.post(f"/api/v1/import{query}", data=body, headers={**EDITOR, "Content-Type": XLSX})


def test_api_dry_run_shows_the_header_mapping_and_rejects_the_broken_rows(app):
    answer = post(app.test_client(), workbook(GOOD + BROKEN), "?dry_run=1")
    assert answer.status_code == 400
    report = answer.get_json()["report"]
    assert report["format"] == "xlsx" and report["header_row"] == 3 and report["rows_read"] == 5
    assert report["columns"] == {"驿站名称": "name", "详细地址": "address", "联系电话": "phone", "开放时间": "hours",
                                 "类型": "layer", "服务内容": "services"}
    rejected = {(e["row"], e["code"]) for e in report["rejected"]}
    assert (7, "unplaced_address") in rejected and (8, "invalid_hours") in rejected
    assert (8, "missing_coordinates") in rejected
    assert not any(e["row"] in (4, 5, 6) for e in report["rejected"])
    warned = {(e.get("row"), e["code"]) for e in report["warnings"]}
    assert (5, "hours_as_written") in warned and (4, "placed_from_address") in warned


def test_api_imports_the_sheet_with_honest_positions_and_hours(app):
    client = app.test_client()
    answer = post(client, workbook(GOOD))
    assert answer.status_code == 200, answer.get_json()
    report = answer.get_json()
    assert report["written"] and report["inserted"] == 3 and report["placed"] == {"county": 2, "town": 1}
    features = {f["properties"]["name"]: f for f in client.get("/api/v1/stations?bbox=100,20,125,35").get_json()["features"]}
    wenxin = features["文新街道爱心驿站"]["properties"]
    assert wenxin["location_precision"] == "town" and wenxin["hours"] == "Mo-Fr 09:00-17:00; PH off"
    assert wenxin["adcode"] == "330106" and wenxin["phone"] == "57188881234"
    assert wenxin["services"] == ["drinking_water", "phone_charging"]
    nanming = features["南明区工会驿站"]["properties"]
    assert nanming["location_precision"] == "county" and nanming["hours"] is None
    assert nanming["hours_text"] == "看情况而定"
    assert features["西湖法律援助工作站"]["properties"]["hours"] == "24/7"
    again = post(client, workbook(GOOD)).get_json()
    assert again["unchanged"] == 3  # the same sheet again changes nothing


def test_cli_imports_a_sheet_and_prints_the_mapping(app, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(workbook(GOOD + BROKEN))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["stations", "import", str(path), "--dry-run"])
    assert dry.exit_code == 1
    assert "columns (headers on row 3): 驿站名称 -> name, 详细地址 -> address" in dry.output
    assert "row 7: address: unplaced_address" in dry.output
    path.write_bytes(workbook(GOOD))
    done = runner.invoke(args=["stations", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "placed from the address (county): 2" in done.output and "written: 3 new" in done.output


def test_a_named_sheet_and_an_unknown_one(app):
    client = app.test_client()
    assert post(client, workbook(GOOD), "?sheet=站点名单&dry_run=1").status_code == 200
    missing = post(client, workbook(GOOD), "?sheet=别的&dry_run=1")
    assert missing.status_code == 400 and missing.get_json()["error"]["parameter"] == "sheet"
