"""The pages in a real browser (headless Chromium at a phone's size): maps, lists, language, safety."""
from __future__ import annotations

import re
from datetime import datetime

import pytest

from geo.crs import from_wgs84
from layers.store import NearestQuery
from tests.browser.conftest import screenshot
from tests.browser.pagedata import XSS_NAME, XSS_TEMPLATE, YUHUAN
from web.pages import results

MARKERS_JS = """() => {
  const cfg = JSON.parse(document.getElementById('yz-config').textContent);
  const out = [];
  for (const name of Object.values(cfg.groups)) {
    window[name].eachLayer(m => { if (m.options.stationId) out.push([m.options.stationId, m.getLatLng().lat, m.getLatLng().lng]); });
  }
  return out;
}"""
OPEN_POPUP_JS = """(id) => {
  // take the marker out of its cluster (so no zoom animation is involved) and open its popup
  const cfg = JSON.parse(document.getElementById('yz-config').textContent);
  const map = window[cfg.map];
  let opened = false;
  for (const name of Object.values(cfg.groups)) {
    const group = window[name];
    group.eachLayer(m => {
      if (m.options.stationId !== id) return;
      group.removeLayer(m); m.addTo(map); map.setView(m.getLatLng(), 16, {animate: false}); m.openPopup();
      opened = true;
    });
  }
  return opened;
}"""
NEAR_YUHUAN = f"/near?lat={YUHUAN[1]}&lon={YUHUAN[0]}&k=20"


def shown(live) -> int:
    """How many stations the big map should show (all but removed ones; the first view is all of China)."""
    return sum(1 for s in live.app.extensions["yizhan.store"].iter_all() if s.status != "removed")


def wait_for_dots(page, count: int) -> None:
    page.wait_for_function(f"() => ({MARKERS_JS})().length >= {count}", timeout=15000)


def test_home_shows_clustered_markers_from_the_feed(live, phone):
    page = phone.page
    page.goto(live.url("/"))
    page.wait_for_function("document.querySelectorAll('.yz-cluster, .yz-pin').length > 0", timeout=15000)
    wait_for_dots(page, shown(live))
    assert len(page.evaluate(MARKERS_JS)) == shown(live)
    assert page.evaluate("getComputedStyle(document.body).fontSize") in ("20px",)
    screenshot(page, "home-phone.png")
    phone.clean()


def test_near_lists_the_nearest_and_the_map_follows_the_list(live, phone):
    page = phone.page
    at = "2026-12-04T10:00:00+08:00"
    page.goto(live.url(NEAR_YUHUAN + "&at=" + at.replace("+", "%2B")))
    page.wait_for_selector(".yz-pin")
    store = live.app.extensions["yizhan.store"]
    query = NearestQuery(lon=YUHUAN[0], lat=YUHUAN[1], k=20, at=datetime.fromisoformat(at))
    expected = [f["id"] for f in results.answer(store, query, {}).features]  # open first, then by state
    listed = page.eval_on_selector_all("li.card", "cards => cards.map(c => c.id.slice(2))")
    assert listed == expected
    assert {m[0] for m in page.evaluate(MARKERS_JS)} == set(expected)
    assert page.locator(".yz-here").count() == 1
    screenshot(page, "near-phone.png")
    third = page.locator("li.card").nth(2)
    title = third.locator("h2 a").inner_text()
    third.locator("a[data-station]").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert title in popup.inner_text()
    assert "current" in (third.get_attribute("class") or "")
    phone.clean()


def test_language_switch_on_every_page(live, phone):
    page = phone.page
    for path in ("/", NEAR_YUHUAN, "/station/yh-rest-1", "/windows?origin=520322"):
        page.goto(live.url(path))
        assert page.get_attribute("html", "lang") == "zh-CN"
        page.click("a.lang")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "en"
        assert "lang=en" in page.url
        page.click("a.lang")
        page.wait_for_load_state()
        assert page.get_attribute("html", "lang") == "zh-CN"
    phone.clean()


def test_hostile_names_are_shown_as_text_and_run_nothing(live, phone):
    page = phone.page
    page.goto(live.url(NEAR_YUHUAN))
    page.wait_for_selector(".yz-pin")
    assert XSS_NAME in page.locator("#s-xss-1 h2").inner_text()
    assert XSS_TEMPLATE in page.locator("#s-xss-2 h2").inner_text()
    for sid, name in (("xss-1", XSS_NAME), ("xss-2", XSS_TEMPLATE)):
        page.locator(f"#s-{sid} a[data-station]").click()
        page.wait_for_function("(n) => { const p = document.querySelector('.leaflet-popup-content');"
                               " return p && p.textContent.indexOf(n) >= 0; }", arg=name)
    assert page.locator("img[src=x]").count() == 0
    page.goto(live.url("/"))  # the big map's popups are filled from the API as text
    wait_for_dots(page, shown(live))
    assert page.evaluate(OPEN_POPUP_JS, "xss-1")
    page.wait_for_function("(n) => { const p = document.querySelector('.leaflet-popup-content');"
                           " return p && p.textContent.indexOf(n) >= 0; }", arg=XSS_NAME)
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_timeout(300)
    assert phone.dialogs == []
    phone.clean()


def test_locate_me_uses_the_browsers_position(live, phone):
    page = phone.page
    page.goto(live.url("/"))
    page.click("#yz-locate")
    page.wait_for_url(re.compile(r"/near\?"))
    assert "lat=28.139200" in page.url and "lon=121.227600" in page.url
    assert page.locator("li.card").count() == 10
    phone.clean()


def test_lists_work_without_javascript(browser, live):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live.url("/near?q=玉环"))
    assert page.locator("li.card").count() == 10
    assert page.locator("li.card a[href^='tel:']").count() >= 1
    page.goto(live.url("/"))
    page.fill("#yz-q", "桐梓")
    page.click("#yz-search button[type=submit]")
    page.wait_for_load_state()
    assert "桐梓县" in page.inner_text("h1")
    context.close()


@pytest.mark.parametrize("server,crs", [("live", "wgs84"), ("live_amap", "gcj02")])
def test_markers_sit_at_the_tiles_crs_position(request, phone, server, crs):
    live_server = request.getfixturevalue(server)
    page = phone.page
    page.goto(live_server.url("/station/yh-rest-1"))
    page.wait_for_selector(".yz-pin", state="attached")
    (sid, lat, lon), = page.evaluate(MARKERS_JS)
    want_lon, want_lat = from_wgs84(121.2301, 28.1405, crs)
    assert sid == "yh-rest-1"
    assert (lon, lat) == pytest.approx((want_lon, want_lat), abs=1e-6)
    if crs == "gcj02":  # tiles are asked for (and blocked here); the page still works
        page.wait_for_timeout(500)
        assert any("autonavi.com" in url for url in phone.blocked)
        # no tile loads: the map folds to its one-line note, no empty grey box
        page.wait_for_selector("#yz-map-box.no-tiles .map-off", state="visible")
        assert page.locator("#yz-map-box").bounding_box()["height"] < 120
        phone.clean(allow_blocked_hosts={f"webrd0{i}.is.autonavi.com" for i in range(1, 5)})
    else:
        phone.clean()


def test_tap_targets_and_print_size(live, phone):
    page = phone.page
    for path in ("/", NEAR_YUHUAN, "/windows?origin=520322"):
        page.goto(live.url(path))
        small = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.btn, button, select, input[type=search], input[type=text], .check, .leaflet-bar a'))
          .filter(e => e.offsetParent !== null)
          .map(e => [e.className || e.tagName, e.getBoundingClientRect().height])
          .filter(p => p[1] < 48)""")
        assert small == [], (path, small)
        assert float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")) >= 18
    phone.clean()


def test_near_with_20_results_weighs_under_150_kb(live, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live.url(NEAR_YUHUAN))
    page.wait_for_load_state("load")
    total = page.evaluate("""() => performance.getEntriesByType('navigation').concat(
        performance.getEntriesByType('resource')).reduce((s, e) => s + e.transferSize, 0)""")
    assert page.locator("li.card").count() == 20
    assert 10_000 < total <= 150_000, total
    context.close()
