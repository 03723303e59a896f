"""Issue 22 in a real browser at 390x844 on the bundled sample data: work and skills are two more layers.

A worker in central Guiyang at 06:00 finds the nearest gig market that is open then (the oracle is
a brute-force geodesic scan of every gig market with its hours evaluated at 06:00), and a returning
worker who types "仁怀 学手艺" finds 仁怀's training centres, 长岗镇's among them, with their courses.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app import create_app
from layers.store import NearestQuery
from tests.browser.conftest import PHONE, LiveServer, Watched, screenshot
from tests.stations import brute_nearest

GUIYANG = (106.71, 26.58)  # (lon, lat) WGS-84
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAWN = datetime(2026, 12, 4, 6, 0, tzinfo=SHANGHAI)  # a Friday


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("work")), "TESTING": True, "TILES": "none"})
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["yizhan.parks"].close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    watched = Watched(context.new_page())
    yield watched
    context.close()


def every_station(store, layer: str) -> list:
    found, offset = [], 0
    while True:
        got = store.in_bbox(None, layers=(layer,), limit=1000, offset=offset)
        found += got.stations
        offset += 1000
        if offset >= got.number_matched:
            return found


def cards(live, page) -> list:
    store = live.app.extensions["yizhan.store"]
    return [store.get(el.get_attribute("id")[2:]) for el in page.query_selector_all("li.card[id^='s-']")]


def at_param(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


def test_the_nearest_gig_market_open_at_six_in_the_morning(sample, page):
    store = sample.app.extensions["yizhan.store"]
    gigs = every_station(store, "gig_market")
    query = NearestQuery(lon=GUIYANG[0], lat=GUIYANG[1], k=1, layers=("gig_market",), open_now=True, at=DAWN)
    (expected, distance_m), = brute_nearest(gigs, query, DAWN)
    page.page.goto(sample.url(f"/near?lat={GUIYANG[1]}&lon={GUIYANG[0]}&need=找活干&at={at_param(DAWN)}"))
    first = page.page.locator("li.card").first
    assert first.get_attribute("id") == f"s-{expected}" and first.get_attribute("data-state") == "open"
    assert distance_m < 30_000 and {s.layer for s in cards(sample, page.page)} == {"gig_market"}
    assert "营业中" in first.inner_text() or first.locator(".state.open").is_visible()
    screenshot(page.page, "work-gig-0600-390.png")
    # at 04:00 no market is open yet: the same need answers honestly, with no card claiming to be open
    early = DAWN.replace(hour=4)
    page.page.goto(sample.url(f"/near?lat={GUIYANG[1]}&lon={GUIYANG[0]}&need=找活干&at={at_param(early)}"))
    states = page.page.eval_on_selector_all("li.card", "els => els.map(e => e.dataset.state)")
    assert states and "open" not in states
    page.clean()


def test_typing_renhuai_learn_a_trade_finds_its_training_centres(sample, page):
    page.page.goto(sample.url("/"))
    page.page.fill("#yz-q", "仁怀 学手艺")
    with page.page.expect_navigation():
        page.page.press("#yz-q", "Enter")
    assert "仁怀" in page.page.inner_text("h1")
    found = cards(sample, page.page)
    assert found and {s.layer for s in found} == {"training_center"}
    assert found[0].adcode == "520382"
    names = [s.name for s in found]
    assert "仁怀市长岗镇返乡创业服务中心" in names
    card = page.page.locator(f"li.card#s-{found[names.index('仁怀市长岗镇返乡创业服务中心')].id}")
    assert "牛肉粉" in card.inner_text()  # the courses are the items a card shows
    screenshot(page.page, "work-renhuai-390.png")
    page.clean()
