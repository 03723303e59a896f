"""Editors over HTTP and the CLI: tokens in the database, roles, history and revert; both stores."""
from __future__ import annotations

import re

import pytest

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, READER_TOKEN, TOKENS

FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.7, 26.57]},
           "properties": {"name": "测试驿站", "layer": "rest_station", "hours": "Mo-Fr 08:00-18:00",
                          "services": ["toilet", "hot_water"], "adcode": "520102"}}
NASTY = "<script>alert(1)</script>'; DROP TABLE stations;-- \"引号\" 🚧"


@pytest.fixture(params=["embedded", "postgis"])
def app(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path), "SEED": False, "TOKENS": TOKENS, "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    made = create_app(config)
    yield made
    made.extensions["yizhan.store"].close()
    made.extensions["yizhan.token_store"].close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def new_token(app, role, name):
    result = app.test_cli_runner().invoke(args=["token", "new", "--role", role, "--name", name])
    assert result.exit_code == 0, result.output
    return re.search(r"shown once: (\S+)$", result.output.strip()).group(1)


def test_cli_tokens_new_list_revoke(app):
    runner = app.test_cli_runner()
    token = new_token(app, "editor", "张三")
    new_token(app, "reader", "李四")
    listed = runner.invoke(args=["token", "list"])
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.output.strip().splitlines()[1:]]
    assert [(r[0], r[1], r[3]) for r in rows] == [("张三", "editor", "-"), ("李四", "reader", "-")]
    assert token not in listed.output
    assert not re.search(r"[0-9a-f]{64}", listed.output)  # never a digest
    again = runner.invoke(args=["token", "new", "--role", "editor", "--name", "张三"])
    assert again.exit_code == 1 and "in force already" in again.output
    assert runner.invoke(args=["token", "revoke", "张三"]).exit_code == 0
    revoked = runner.invoke(args=["token", "list"]).output.strip().splitlines()[1].split("\t")
    assert revoked[0] == "张三" and revoked[3] != "-"
    missing = runner.invoke(args=["token", "revoke", "张三"])
    assert missing.exit_code == 1 and "no token in force" in missing.output
    assert runner.invoke(args=["token", "new", "--role", "admin", "--name", "  "]).exit_code == 1


def test_roles_and_revocation_over_http(app):
    c = app.test_client()
    editor, reader = new_token(app, "editor", "编辑甲"), new_token(app, "reader", "读者乙")
    assert c.post("/api/v1/stations", json={**FEATURE, "id": "h-1"}).status_code == 401
    assert c.post("/api/v1/stations", json={**FEATURE, "id": "h-1"}, headers=bearer("nope")).status_code == 401
    answer = c.post("/api/v1/stations", json={**FEATURE, "id": "h-1"}, headers=bearer(reader))
    assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
    assert c.post("/api/v1/stations", json={**FEATURE, "id": "h-1"}, headers=bearer(editor)).status_code == 201
    assert c.get("/api/v1/stations/h-1/history").status_code == 401
    assert c.get("/api/v1/stations/h-1/history", headers=bearer(reader)).status_code == 200
    assert c.post("/api/v1/stations/h-1/revert", json={"seq": 1}, headers=bearer(reader)).status_code == 403
    assert app.test_cli_runner().invoke(args=["token", "revoke", "编辑甲"]).exit_code == 0
    refused = c.delete("/api/v1/stations/h-1", headers=bearer(editor))
    assert refused.status_code == 401 and "revoked" in refused.get_json()["error"]["message"]
    assert c.get("/api/v1/stations/h-1").status_code == 200
    assert c.delete("/api/v1/stations/h-1", headers=bearer(EDITOR_TOKEN)).status_code == 204  # YIZHAN_TOKENS


def test_history_and_revert_over_http(app):
    c = app.test_client()
    editor = new_token(app, "editor", NASTY)
    assert c.put("/api/v1/stations/h-2", json=FEATURE, headers=bearer(editor)).status_code == 201
    changed = {**FEATURE, "properties": {**FEATURE["properties"], "name": NASTY}}
    assert c.put("/api/v1/stations/h-2", json=changed, headers=bearer(EDITOR_TOKEN)).status_code == 200
    body = c.get("/api/v1/stations/h-2/history", headers=bearer(READER_TOKEN)).get_json()
    assert body["id"] == "h-2" and body["numberReturned"] == 2
    update, create = body["entries"]
    assert (update["action"], create["action"]) == ("update", "create")
    assert create["actor"] == NASTY and re.fullmatch(r"config:[0-9a-f]{8}", update["actor"])
    assert create["before"] is None and create["after"]["properties"]["name"] == "测试驿站"
    assert update["before"]["properties"]["name"] == "测试驿站"
    assert update["after"]["properties"]["name"] == NASTY  # data, not markup or SQL
    assert update["after"]["geometry"]["coordinates"] == [106.7, 26.57]
    assert update["seq"] > create["seq"] and update["at"].endswith("+08:00")

    restored = c.post("/api/v1/stations/h-2/revert", json={"seq": update["seq"]}, headers=bearer(editor))
    assert restored.status_code == 200 and restored.get_json()["properties"]["name"] == "测试驿站"
    assert c.get("/api/v1/stations/h-2").get_json()["properties"]["name"] == "测试驿站"
    gone = c.post("/api/v1/stations/h-2/revert", json={"seq": create["seq"]}, headers=bearer(editor))
    assert gone.status_code == 200 and gone.get_json() == {"id": "h-2", "deleted": True}
    assert c.get("/api/v1/stations/h-2").status_code == 404
    entries = c.get("/api/v1/stations/h-2/history?limit=2", headers=bearer(READER_TOKEN)).get_json()["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("revert", NASTY), ("revert", NASTY)]
    assert entries[0]["after"] is None and entries[0]["before"]["properties"]["name"] == "测试驿站"


def test_history_and_revert_errors(app):
    c = app.test_client()
    for sid in ("h-3", "h-4"):
        assert c.put(f"/api/v1/stations/{sid}", json=FEATURE, headers=bearer(EDITOR_TOKEN)).status_code == 201
    seq = c.get("/api/v1/stations/h-4/history", headers=bearer(READER_TOKEN)).get_json()["entries"][0]["seq"]
    cases = [({"seq": seq}, "h-3", 409), ({"seq": seq + 100}, "h-3", 404), ({"seq": seq}, "nope", 409),
             ({"seq": "1"}, "h-3", 400), ({"seq": 0}, "h-3", 400), ({"seq": 2**70}, "h-3", 400),
             ({"seq": True}, "h-3", 400), ({}, "h-3", 400), ([1], "h-3", 400)]
    for body, sid, status in cases:
        answer = c.post(f"/api/v1/stations/{sid}/revert", json=body, headers=bearer(EDITOR_TOKEN))
        assert answer.status_code == status, (body, sid, answer.get_json())
        assert answer.get_json()["error"]["code"]
    assert c.post("/api/v1/stations/h-3/revert", data="{", content_type="application/json",
                  headers=bearer(EDITOR_TOKEN)).status_code == 400
    assert c.get("/api/v1/stations/never/history", headers=bearer(READER_TOKEN)).status_code == 404
    for query in ("limit=0", "limit=abc", "limit=1001", "x=1"):
        assert c.get(f"/api/v1/stations/h-3/history?{query}", headers=bearer(READER_TOKEN)).status_code == 400
