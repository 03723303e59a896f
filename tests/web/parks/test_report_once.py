"""Reports that one phone cannot game (issue 18.3), on both stores: a kind counts once per client per station
per day, "多人反映" needs two distinct clients within 12 hours, and only the sender can undo within 30 s."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from layers.parks import LOCKED_WINDOW, UNDO_WINDOW, ReportNotFound, UndoRefused
from tests.web.parks.test_pages import SLUG, page_ids, park_store  # noqa: F401  (park_store: the two-store fixture)
from tests.web.parks.test_reports import post, rapp, some_station  # noqa: F401  (rapp: the two-store app)

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


def test_a_kind_counts_once_per_client_per_station_per_day(park_store):  # noqa: F811
    first = park_store.add_report("s-1", "locked", "门锁着", NOW, client="phone-a")
    again = park_store.add_report("s-1", "locked", "还是锁着", NOW + timedelta(minutes=5), client="phone-a")
    assert not first.repeat and again.repeat and again.id == first.id and again.note == "门锁着"
    assert not park_store.add_report("s-1", "other", "", NOW, client="phone-a").repeat  # another kind counts
    assert not park_store.add_report("s-2", "locked", "", NOW, client="phone-a").repeat  # another station too
    next_day = NOW + timedelta(hours=16)  # 01:00 the next Shanghai day
    assert not park_store.add_report("s-1", "locked", "", next_day, client="phone-a").repeat
    assert [r.kind for r in park_store.list_reports(None, "s-1")].count("locked") == 2
    assert park_store.add_report("s-1", "locked", "", NOW, client=None).repeat is False  # no client: no dedupe


def test_several_people_means_two_distinct_clients_within_12_hours(park_store):  # noqa: F811
    for minutes in (0, 1, 2):
        park_store.add_report("s-1", "locked", "", NOW + timedelta(minutes=minutes), client="phone-a")
    assert park_store.locked_counts(NOW - LOCKED_WINDOW) == {"s-1": 1}
    assert park_store.flagged(NOW + timedelta(minutes=3)) == set()  # one phone tapping: one client
    park_store.add_report("s-1", "locked", "", NOW - timedelta(hours=13), client="phone-b")  # too long ago
    assert park_store.flagged(NOW + timedelta(minutes=3)) == set()
    park_store.add_report("s-1", "locked", "", NOW + timedelta(minutes=4), client="phone-c")
    assert park_store.flagged(NOW + timedelta(minutes=5)) == {"s-1"}
    assert park_store.flagged(NOW + timedelta(hours=12, minutes=1)) == set()  # the first phone's went stale
    assert LOCKED_WINDOW == timedelta(hours=12)


def test_only_the_sender_can_take_a_report_back_within_30_s(park_store):  # noqa: F811
    report = park_store.add_report("s-1", "locked", "", NOW, client="phone-a")
    with pytest.raises(UndoRefused) as other:
        park_store.withdraw_report(report.id, "phone-b", NOW + timedelta(seconds=5))
    assert other.value.status == 403
    with pytest.raises(UndoRefused) as late:
        park_store.withdraw_report(report.id, "phone-a", NOW + UNDO_WINDOW + timedelta(seconds=1))
    assert late.value.status == 409
    assert park_store.withdraw_report(report.id, "phone-a", NOW + UNDO_WINDOW).id == report.id
    with pytest.raises(ReportNotFound):
        park_store.get_report(report.id)
    assert not park_store.add_report("s-1", "locked", "", NOW, client="phone-a").repeat  # may report anew
    anonymous = park_store.add_report("s-1", "other", "", NOW)
    with pytest.raises(UndoRefused):
        park_store.withdraw_report(anonymous.id, None, NOW)


def test_one_phone_tapping_twice_does_not_flag_a_station_two_phones_do(rapp):  # noqa: F811
    c = rapp.test_client()
    first = page_ids(c.get(f"/p/{SLUG}").get_data(as_text=True))["rest_station"][0]
    for _ in range(2):
        answer = c.post(f"/p/{SLUG}/report", data={"station_id": first, "kind": "locked"},
                        environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert answer.status_code == 303
    assert "again=1" in answer.headers["Location"]
    page = c.get(answer.headers["Location"]).get_data(as_text=True)
    assert "每人每天只算一次" in page and "多人反映" not in page
    assert page_ids(page)["rest_station"][0] == first  # still first: one phone is one person
    assert rapp.extensions["yizhan.parks"].flagged() == set()
    api = post(c, {"station_id": first, "kind": "locked"}, ip="192.0.2.1")
    assert api.status_code == 200 and api.get_json()["repeat"] is True
    other = post(c, {"station_id": first, "kind": "locked"}, ip="192.0.2.2")
    assert other.status_code == 201 and other.get_json()["repeat"] is False
    assert rapp.extensions["yizhan.parks"].flagged() == {first}
    flagged = c.get(f"/p/{SLUG}").get_data(as_text=True)
    assert "2 人" in flagged and page_ids(flagged)["rest_station"][-1] == first


def test_undo_without_javascript_and_by_api_only_for_the_sender(rapp):  # noqa: F811
    c = rapp.test_client()
    sid = some_station(rapp).id
    sent = c.post(f"/p/{SLUG}/report", data={"station_id": sid, "kind": "locked"},
                  environ_base={"REMOTE_ADDR": "192.0.2.7"})
    page = c.get(sent.headers["Location"]).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]*/undo)"', page).group(1)
    report_id = int(re.search(r"/report/(\d+)/undo", action).group(1))
    refused = c.post(action, environ_base={"REMOTE_ADDR": "192.0.2.8"})
    assert refused.status_code == 403 and "<html" in refused.get_data(as_text=True)
    assert rapp.extensions["yizhan.parks"].get_report(report_id)
    done = c.post(action, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/p/{SLUG}?undone=1")
    assert "已撤销" in c.get(done.headers["Location"]).get_data(as_text=True)
    with pytest.raises(ReportNotFound):
        rapp.extensions["yizhan.parks"].get_report(report_id)
    created = post(c, {"station_id": sid, "kind": "other"}, ip="192.0.2.9").get_json()
    assert created["undo"] == f"/api/v1/reports/{created['id']}/undo" and created["undo_until"]
    assert c.post(created["undo"], environ_base={"REMOTE_ADDR": "192.0.2.10"}).get_json()["error"]["code"] \
        == "undo_refused"
    assert c.post(created["undo"], environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 204
    assert c.post(created["undo"], environ_base={"REMOTE_ADDR": "192.0.2.9"}).status_code == 404
    assert c.post("/api/v1/reports/99999999999999999999/undo").status_code == 404


def test_editors_see_each_report_with_its_time(rapp):  # noqa: F811
    from tests.web.parks.test_reports import editor

    c = rapp.test_client()
    sid = some_station(rapp).id
    for ip in ("192.0.2.21", "192.0.2.22"):
        post(c, {"station_id": sid, "kind": "locked"}, ip=ip)
    listed = c.get("/api/v1/reports", headers=editor()).get_json()["reports"]
    assert len(listed) == 2 and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", r["created_at"]) for r in listed)
    assert all("client" not in r for r in listed)  # the day's HMAC stays inside


def test_an_older_sqlite_park_file_is_upgraded_in_place(tmp_path):
    import sqlite3

    from layers.embedded.parks import DB_NAME, SqliteParkStore

    old = sqlite3.connect(tmp_path / DB_NAME)  # schema 1: reports without a sender
    old.executescript("""
        CREATE TABLE park_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, station_id TEXT NOT NULL, kind TEXT NOT NULL,
            note TEXT NOT NULL, created_at TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', resolved_at TEXT);
        CREATE TABLE park_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO park_meta VALUES ('schema', '1');
        INSERT INTO park_reports (station_id, kind, note, created_at)
            VALUES ('s-1', 'locked', 'old', '2026-12-04T00:59:00.000000+00:00');""")
    old.commit()
    old.close()
    for _ in range(2):  # and opening it again changes nothing
        store = SqliteParkStore(tmp_path)
        try:
            assert ("old", None) in [(r.note, r.client) for r in store.list_reports("open", "s-1")]
            store.add_report("s-1", "locked", "", NOW, client="phone-a")
            assert store.add_report("s-1", "locked", "", NOW, client="phone-a").repeat
            assert store.flagged(NOW + timedelta(minutes=1)) == {"s-1"}  # the old one counts as one client
        finally:
            store.close()
