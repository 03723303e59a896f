"""One-tap reports: JSON and form posts, listing and resolving (verified_at), 429, escaping, no raw IP stored."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from geo.hours import SHANGHAI
from tests.web.conftest import EDITOR_TOKEN, READER_TOKEN
from tests.web.parks.test_pages import SLUG, close, make_parks_app, page_ids

IP = "203.0.113.77"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(params=["sqlite", "postgis"])
def rapp(request, tmp_path):
    config = {"REPORT_LIMIT": 3, "REPORT_WINDOW_S": 600}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_url")
    app = make_parks_app(tmp_path, **config)
    app.config["kind"] = request.param
    yield app
    close(app)


def editor():
    return {"Authorization": f"Bearer {EDITOR_TOKEN}"}


def some_station(app, layer="rest_station"):
    return next(s for s in app.extensions["yizhan.store"].iter_all() if s.layer == layer and s.status == "open")


def post(client, body, ip=IP):
    return client.post("/api/v1/reports", json=body, environ_base={"REMOTE_ADDR": ip})


def test_report_listed_resolved_and_station_verified(rapp):
    c = rapp.test_client()
    station = some_station(rapp)
    created = post(c, {"station_id": station.id, "kind": "locked", "note": "晚上九点锁门"})
    assert created.status_code == 201
    report = created.get_json()
    assert report["station_id"] == station.id and report["status"] == "open" and report["note"] == "晚上九点锁门"
    assert c.get("/api/v1/reports").status_code == 401
    assert c.get("/api/v1/reports", headers={"Authorization": f"Bearer {READER_TOKEN}"}).status_code == 403
    listed = c.get("/api/v1/reports?status=open", headers=editor()).get_json()
    assert [r["id"] for r in listed["reports"]] == [report["id"]]
    assert listed["reports"][0]["station_name"] == station.name
    assert c.post(f"/api/v1/reports/{report['id']}/resolve").status_code == 401
    done = c.post(f"/api/v1/reports/{report['id']}/resolve", headers=editor())
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"
    today = datetime.now(SHANGHAI).date().isoformat()
    assert done.get_json()["station_verified_at"] == today
    assert rapp.extensions["yizhan.store"].get(station.id).verified_at == today
    assert c.get(f"/api/v1/stations/{station.id}").get_json()["properties"]["verified_at"] == today
    assert c.get("/api/v1/reports?status=open", headers=editor()).get_json()["reports"] == []
    assert len(c.get("/api/v1/reports?status=resolved", headers=editor()).get_json()["reports"]) == 1
    assert c.post("/api/v1/reports/99999/resolve", headers=editor()).status_code == 404


@pytest.mark.parametrize("body, parameter", [
    ({"station_id": "no-such-station", "kind": "locked"}, "id"),
    ({"station_id": "x", "kind": "broken"}, "kind"),
    ({"station_id": "<b>", "kind": "locked"}, "station_id"),
    ({"station_id": "x", "kind": "other", "note": "长" * 501}, "note"),
    ({"station_id": "x", "kind": "other", "note": 5}, "note"),
])
def test_bad_reports_are_400_or_404(rapp, body, parameter):
    if body["station_id"] == "x":
        body = {**body, "station_id": some_station(rapp).id}
    response = post(rapp.test_client(), body)
    assert response.status_code in (400, 404)
    assert response.get_json()["error"]["parameter"] == parameter


def test_reports_are_rate_limited_per_client(rapp):
    c = rapp.test_client()
    sid = some_station(rapp).id
    for kind in ("other", "wrong_info", "missing_facility"):  # three kinds: a repeat of one would count once
        assert post(c, {"station_id": sid, "kind": kind}).status_code == 201
    limited = post(c, {"station_id": sid, "kind": "locked"})
    assert limited.status_code == 429
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 600
    assert post(c, {"station_id": sid, "kind": "other"}, ip="198.51.100.9").status_code == 201  # another client
    form = c.post(f"/p/{SLUG}/report", data={"station_id": sid, "kind": "locked"}, environ_base={"REMOTE_ADDR": IP})
    assert form.status_code == 429 and "Retry-After" in form.headers and "<html" in form.get_data(as_text=True)


def test_note_is_escaped_on_every_page(rapp):
    c = rapp.test_client()
    station = some_station(rapp)
    assert post(c, {"station_id": station.id, "kind": "wrong_info", "note": HOSTILE}).status_code == 201
    assert c.get("/api/v1/reports", headers=editor()).get_json()["reports"][0]["note"] == HOSTILE  # JSON: as sent
    for path in (f"/p/{SLUG}", f"/station/{station.id}", "/reports/editor"):
        html = c.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    editor_page = c.get("/reports/editor").get_data(as_text=True)
    assert "token=" not in editor_page and "sessionStorage" in c.get(
        re.search(r'src="([^"]*park_reports\.js[^"]*)"', editor_page).group(1)).get_data(as_text=True)


def test_form_post_from_the_no_js_page_and_the_locked_flag(rapp):
    c = rapp.test_client()
    park = rapp.extensions["yizhan.parks"].get_park(SLUG)
    before = page_ids(c.get(f"/p/{SLUG}").get_data(as_text=True))["rest_station"]
    first = before[0]
    for ip in ("192.0.2.1", "192.0.2.2"):
        answer = c.post(f"/p/{SLUG}/report", data={"station_id": first, "kind": "locked", "note": ""},
                        environ_base={"REMOTE_ADDR": ip})
        assert answer.status_code == 303
        assert re.search(rf"/p/{SLUG}\?reported=\d+#thanks$", answer.headers["Location"])
    thanks = c.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已转告运营方" in thanks and "多人反映锁门" in thanks
    after = page_ids(thanks)["rest_station"]
    assert after[-1] == first and after[:2] == before[1:3]  # the open alternatives move up
    assert len(after) == 4  # three alternatives, then the flagged one, marked
    assert rapp.extensions["yizhan.parks"].flagged() == {first}
    station_form = c.post(f"/station/{first}/report", data={"kind": "other", "note": "x"},
                          environ_base={"REMOTE_ADDR": "192.0.2.3"})
    assert station_form.status_code == 303 and f"/station/{first}?reported=1" in station_form.headers["Location"]
    assert park.slug == SLUG


def database_text(app) -> bytes:
    """Every byte the park and station stores hold: the SQLite files, or every table dumped as text."""
    if app.config["kind"] == "sqlite":
        from pathlib import Path

        return b"".join(p.read_bytes() for p in Path(app.config["DATA_DIR"]).glob("*.sqlite3*"))
    import psycopg2

    conn = psycopg2.connect(app.config["DATABASE_URL"])
    out = []
    with conn, conn.cursor() as cur:
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        for (table,) in cur.fetchall():
            cur.execute(f'SELECT t::text FROM "{table}" t')
            out += [row[0] for row in cur.fetchall()]
    conn.close()
    return "\n".join(out).encode("utf-8")


def test_no_raw_ip_reaches_the_database(rapp):
    c = rapp.test_client()
    sid = some_station(rapp).id
    assert post(c, {"station_id": sid, "kind": "missing_facility", "note": "没有热水"}).status_code == 201
    c.post(f"/p/{SLUG}/report", data={"station_id": sid, "kind": "locked"}, environ_base={"REMOTE_ADDR": IP})
    c.get(f"/p/{SLUG}", environ_base={"REMOTE_ADDR": IP})
    c.post("/api/v1/reports/1/resolve", headers=editor(), environ_base={"REMOTE_ADDR": IP})
    text = database_text(rapp)
    assert "没有热水".encode() in text  # the dump does see what was stored
    assert IP.encode() not in text


# ---- cross-site form posts (issue 15.10) -----------------------------------------------------
CROSS_SITE = [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Origin": "http://localhost.evil.example"},
              {"Referer": "https://evil.example/page.html"}, {"Sec-Fetch-Site": "cross-site"},
              {"Origin": "https://evil.example", "Referer": "http://localhost/p/x"}]
SAME_SITE = [{}, {"Origin": "http://localhost"}, {"Referer": f"http://localhost/p/{SLUG}?s=qr"},
             {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}]


def _open_reports(app):
    return app.extensions["yizhan.parks"].list_reports()


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_report_posts_are_refused(rapp, headers):
    c = rapp.test_client()
    sid = some_station(rapp).id
    for path, data in ((f"/p/{SLUG}/report", {"station_id": sid, "kind": "locked"}),
                       (f"/station/{sid}/report", {"kind": "other", "note": "x"})):
        answer = c.post(path, data=data, headers=headers, environ_base={"REMOTE_ADDR": IP})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 403 and answer.mimetype == "text/html", (path, headers)
        assert "不是从驿站自己的页面发出的" in html and "没有收下" in html
    api = c.post("/api/v1/reports", json={"station_id": sid, "kind": "other"}, headers=headers)
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "cross_origin"
    english = c.post(f"/p/{SLUG}/report?lang=en", data={"station_id": sid, "kind": "locked"}, headers=headers)
    assert english.status_code == 403 and "not sent from a page of this site" in english.get_data(as_text=True)
    assert _open_reports(rapp) == []


@pytest.mark.parametrize("headers", SAME_SITE)
def test_same_site_posts_and_posts_without_origin_still_work(rapp, headers):
    c = rapp.test_client()
    sid = some_station(rapp).id
    answer = c.post(f"/p/{SLUG}/report", data={"station_id": sid, "kind": "locked"}, headers=headers)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:300]
    assert len(_open_reports(rapp)) == 1


def test_origin_of_the_public_url_is_own_behind_a_proxy(rapp):
    rapp.config["PUBLIC_URL"] = "https://yizhan.example.cn/"
    c = rapp.test_client()
    sid = some_station(rapp).id
    ok = c.post(f"/p/{SLUG}/report", data={"station_id": sid, "kind": "locked"},
                headers={"Origin": "https://yizhan.example.cn"}, base_url="http://10.0.0.5:8000")
    assert ok.status_code == 303
    # an editor's API client (a token) is no browser acting for another site
    station = some_station(rapp)
    patched = c.patch(f"/api/v1/stations/{station.id}", json={"properties": {"operator": "某工会"}},
                      headers={**editor(), "Origin": "https://tools.example.org"})
    assert patched.status_code == 200
