"""The planner page in a real browser with hostile station and demand names (issue 15.8): text, never markup."""
from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest

from app import create_app
from layers.model import Station
from tests.browser.conftest import LiveServer, screenshot

LINK_NAME = '<a href="https://evil.example/x" id="evil-link">点我领补贴</a><img src=x id="evil-img" onerror=alert(1)>'
TEMPLATE_NAME = "${alert(2)}`</script><script>alert(3)</script><b id=evil-bold>粗</b>"
NAMES = {"evil-1": LINK_NAME, "evil-2": TEMPLATE_NAME}
INJECTED = "#evil-link, #evil-img, #evil-bold, img[src=x], a[href^='https://evil.example']"

OPEN_TOOLTIP_JS = """(id) => {
  const cfg = JSON.parse(document.getElementById('yz-config').textContent);
  const map = window[cfg.map];
  let text = null;
  map.eachLayer(l => {
    if (l.options && l.options.stationId === id && l.getTooltip && l.getTooltip()) {
      map.setView(l.getLatLng(), 15, {animate: false});
      l.openTooltip();
      text = l.getTooltip().getElement().textContent;
    }
  });
  return text;
}"""


@pytest.fixture(scope="module")
def live_planner(tmp_path_factory):
    """The sample parks as demand, and two stations with hostile names right beside the first parks."""
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("live-planner")), "TESTING": True, "TILES": "none",
                      "PLAN_LIMIT": 1000})
    parks = app.extensions["yizhan.parks"].list_parks()
    store = app.extensions["yizhan.store"]
    for (sid, name), park in zip(NAMES.items(), parks, strict=False):
        store.put(Station(id=sid, lon=park.lon + 0.0004, lat=park.lat + 0.0003, name=name, layer="rest_station",
                          hours="24/7", address=TEMPLATE_NAME, source="test"))
    server = LiveServer(app)
    yield server
    server.stop()


def assert_nothing_injected(watched) -> None:
    page = watched.page
    assert page.locator(INJECTED).count() == 0
    page.wait_for_timeout(300)  # an onerror handler or a timer would have fired by now
    assert watched.dialogs == []
    watched.clean()


def test_station_names_in_the_planner_map_tooltips_are_text(live_planner, phone):
    page = phone.page
    page.goto(live_planner.url("/planner?radius_m=1000&p=3"))
    page.wait_for_selector(".yz-pin", state="attached", timeout=20000)
    for sid, name in NAMES.items():
        text = page.evaluate(OPEN_TOOLTIP_JS, sid)
        assert text == name, (sid, text)  # the whole name, as text
        assert page.locator(".leaflet-tooltip").filter(has_text="点我领补贴" if sid == "evil-1" else "alert(2)").count()
        assert page.locator(".leaflet-tooltip a, .leaflet-tooltip img, .leaflet-tooltip b").count() == 0
    screenshot(page, "planner-hostile-names.png")
    assert_nothing_injected(phone)


def test_uploaded_demand_names_run_nothing(live_planner, phone, tmp_path):
    parks = live_planner.app.extensions["yizhan.parks"].list_parks()
    rows = ["lon,lat,weight,name,id"] + [
        f'{p.lon},{p.lat},{10 + i},"{(LINK_NAME if i % 2 else TEMPLATE_NAME).replace(chr(34), chr(34) * 2)}",d{i}'
        for i, p in enumerate(parks[:6])]
    upload = tmp_path / "demand.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page = phone.page
    page.goto(live_planner.url("/planner"))
    page.set_input_files("input[name=demand_file]", str(upload))
    page.fill("input[name=p]", "2")
    with page.expect_navigation():
        page.locator("form button[type=submit], form input[type=submit]").first.click()
    page.wait_for_selector(".yz-pin", state="attached", timeout=20000)
    assert "evil-1" in page.content() or page.evaluate(OPEN_TOOLTIP_JS, "evil-1") == LINK_NAME
    # the names travel on in the downloads (data: URIs), as data
    hrefs = [a.get_attribute("href") for a in page.locator("ul.downloads a").all()]
    geojson = next(h for h in hrefs if h.startswith("data:application/geo+json") or "json" in h.split(",")[0])
    head, data = geojson.split(",", 1)
    decoded = base64.b64decode(data).decode("utf-8") if head.endswith(";base64") else unquote(data)
    assert "evil.example" in decoded
    assert_nothing_injected(phone)
