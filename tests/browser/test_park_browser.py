"""The QR landing page in a real browser: no JavaScript, one-tap report, offline after the first load; the editor view."""
from __future__ import annotations

import pytest

from app import create_app
from tests.browser.conftest import PHONE, LiveServer, Watched, screenshot
from tests.web.conftest import EDITOR_TOKEN, TOKENS

SLUG = "guiyang-shuanglong"


@pytest.fixture(scope="module")
def live_parks(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("live-parks")), "TESTING": True, "TILES": "none",
                      "TOKENS": TOKENS})
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["yizhan.parks"].close()


@pytest.fixture
def phone_nojs(browser):
    """A phone without JavaScript and without location permission (what a cautious WeChat user has)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", java_script_enabled=False)
    watched = Watched(context.new_page())
    yield watched
    context.close()


def test_landing_works_without_js_and_reports_in_one_tap(live_parks, phone_nojs):
    page = phone_nojs.page
    page.goto(live_parks.url(f"/p/{SLUG}"))
    assert page.locator("h1").inner_text().startswith("双龙航空港物流园区")
    cards = page.locator("li.card")
    assert cards.count() >= 4  # rest stations and rights posts; the windows are beyond their cap
    first = cards.first
    assert first.locator(".state").is_visible() and "步行约" in first.inner_text()
    assert first.locator("a.btn").filter(has_text="高德").is_visible()
    screenshot(page, "park-phone.png")
    assert not first.get_by_role("button", name="锁门了").is_visible()  # folded behind 到了有问题？
    first.locator("summary").filter(has_text="到了有问题？").click()
    first.get_by_role("button", name="锁门了").click()
    page.wait_for_url(f"**/p/{SLUG}?reported=*")
    assert page.locator(".thanks").is_visible() and page.get_by_role("button", name="撤销").is_visible()
    phone_nojs.clean()


def test_landing_stays_readable_when_the_network_drops(live_parks, browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_parks.url(f"/p/{SLUG}"))
        title = page.locator("h1").inner_text()
        page.goto(live_parks.url("/p/guiyang-shawen"))
        context.set_offline(True)
        page.go_back()
        assert page.locator("h1").inner_text() == title
        assert page.locator("li.card").count() >= 4
        assert page.locator(".hotlines a[href='tel:12333']").is_visible()
    finally:
        context.close()


def test_editor_view_lists_and_resolves_reports(live_parks, phone):
    import json
    import urllib.request

    store = live_parks.app.extensions["yizhan.store"]
    station = next(s for s in store.iter_all() if s.layer == "rights_post")
    request = urllib.request.Request(live_parks.url("/api/v1/reports"), method="POST",
                                     data=json.dumps({"station_id": station.id, "kind": "wrong_info",
                                                      "note": "<b>电话打不通</b>"}).encode(),
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=10).status == 201
    page = phone.page
    page.goto(live_parks.url("/reports/editor"))
    page.fill("#yz-token", EDITOR_TOKEN)
    page.click("#yz-reports-form button[type=submit]")
    row = page.locator("#yz-reports tbody tr").filter(has_text=station.name)
    row.wait_for()
    assert "<b>电话打不通</b>" in row.inner_text()  # shown as text, not markup
    assert page.evaluate("sessionStorage.getItem('yizhan.editorToken')") == EDITOR_TOKEN
    assert EDITOR_TOKEN not in page.url
    row.get_by_role("button").click()
    row.wait_for(state="detached")
    from layers.parks import shanghai_date

    assert store.get(station.id).verified_at == shanghai_date().isoformat()
    phone.clean()
