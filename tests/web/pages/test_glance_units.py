"""The small pieces behind the glance pages: state order, hours in words, hotlines that answer now."""
from __future__ import annotations

from datetime import datetime

from geo.hours import SHANGHAI
from web.pages import hotlines, results
from web.pages.hours_words import hours_sentence, week_groups

FRIDAY_0100 = datetime(2026, 12, 4, 1, 0, tzinfo=SHANGHAI)


def _feature(sid: str, distance: float, open_now, status: str = "open") -> dict:
    return {"id": sid, "properties": {"distance_m": distance, "open_now": open_now, "status": status}}


def test_order_is_open_reported_unknown_closed_paused_and_never_removed():
    features = [_feature("closed", 10, False), _feature("paused", 1, False, "temporarily_closed"),
                _feature("unknown", 20, None), _feature("far-open", 900, True), _feature("flagged", 5, True),
                _feature("gone", 0, True, "removed"), _feature("near-open", 800, True)]
    ordered = [f["id"] for f in results.order(features, {"flagged": results.Flag(2)})]
    assert ordered == ["near-open", "far-open", "flagged", "unknown", "closed", "paused"]


def test_hours_in_words_with_holidays_and_today():
    assert hours_sentence("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", FRIDAY_0100, "zh") == \
        "周一至周五 09:00–17:00，周六 09:00–12:00，周日 休息，法定节假日 休息"
    groups = week_groups("Mo-Fr 09:00-17:00; Sa 09:00-12:00", FRIDAY_0100, "en")
    assert [g.today for g in groups] == [True, False, False]
    assert hours_sentence("24/7", FRIDAY_0100, "zh") == "每天 全天 24 小时"
    assert week_groups(None, FRIDAY_0100, "zh") is None and week_groups("nonsense ###", FRIDAY_0100, "zh") is None


def test_hotlines_answering_now_come_first_and_the_need_decides_among_them():
    at_night = [h.number for h in hotlines.ranked(FRIDAY_0100)]
    assert at_night[:2] == ["12348", "12345"]  # the 24-hour lines (sample data) first at 01:00
    assert hotlines.ranked(FRIDAY_0100, ("service_window",))[0].number == "12345"
    office = datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI)
    assert hotlines.ranked(office, ("rest_station",))[0].number == "12351"
    panel = hotlines.panel(FRIDAY_0100, "zh")
    assert panel["illustrative"] and panel["first_now"]["number"] == "12348"
    assert all(item["verified_at"] for item in panel["items"])


def test_near_says_when_nothing_is_open_within_the_cap(tmp_path):
    from app import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True, "TILES": "none"})
    client = app.test_client()
    body = client.get("/near?lat=40.0&lon=90.0&layer=rest_station&at=2026-12-04T01:00:00%2B08:00").get_data(as_text=True)
    assert 'id="yz-nothing-open"' in body and "10 公里以内现在没有开门的地方" in body
    assert "最近一处开门的在" in body and 'href="tel:12348"' in body.split('id="yz-nothing-open"')[1][:2000]
    near = client.get("/near?lat=26.58&lon=106.71&k=3&at=2026-12-04T01:00:00%2B08:00").get_data(as_text=True)
    assert 'id="yz-nothing-open"' not in near and near.index('data-state="open"') < near.index('data-state="closed"')
    app.extensions["yizhan.store"].close()
    app.extensions["yizhan.parks"].close()


def test_large_text_without_javascript_sets_the_cookie_and_stays_on_site(tmp_path):
    from app import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True, "TILES": "none", "SEED": False})
    client = app.test_client()
    answer = client.get("/text-size?big=1&next=/windows%3Forigin%3D520322")
    assert answer.status_code == 303 and answer.headers["Location"] == "/windows?origin=520322"
    assert "yz_big=1" in answer.headers["Set-Cookie"]
    assert '<html lang="zh-CN" class="big">' in client.get("/windows").get_data(as_text=True)
    for hostile in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert client.get("/text-size", query_string={"big": "1", "next": hostile}).headers["Location"] == "/"
    app.extensions["yizhan.store"].close()
    app.extensions["yizhan.parks"].close()


def test_cards_are_honest_about_unknown_hours_and_temporary_closure(tmp_path):
    from layers.model import Station
    from tests.browser.pagedata import make_app

    app = make_app(str(tmp_path))
    store = app.extensions["yizhan.store"]
    store.import_rows([Station(id="paused-1", lon=121.2277, lat=28.1393, name="暂停的驿站", layer="rest_station",
                               hours="24/7", phone="0576-1", status="temporarily_closed", source="test")])
    body = app.test_client().get("/near?lat=28.1392&lon=121.2276&k=12&at=2026-12-04T10:00:00%2B08:00"
                                 ).get_data(as_text=True)

    def card(sid: str) -> str:
        part = body[body.index(f'id="s-{sid}"'):]
        return part[: part.index("</li>")]

    unknown = card("xss-2")  # no hours, no phone
    assert 'data-state="unknown"' in unknown and "请先打电话问" not in unknown and 'href="tel:' in unknown
    paused = card("paused-1")  # the nearest of all, yet last, greyed, nothing to call or navigate to
    assert 'data-state="temporarily_closed"' in paused and "暂停开放" in paused
    assert 'href="tel:' not in paused and "amap" not in paused
    assert body.index('id="s-paused-1"') > max(body.index(f'id="s-{sid}"') for sid in ("xss-2", "yh-rest-1"))
    store.close()
    app.extensions["yizhan.parks"].close()
