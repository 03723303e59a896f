"""Pages that answer at a glance, in a real browser at 390x844 with the clock fixed by `at=`.

The bundled sample data at 01:00 on a Friday, as a new user meets it: the first card is open now,
its call and navigation buttons are on the first screen, no card is taller than 300 px, the map
never leaves an empty box, axe-core finds nothing serious, no page mixes languages, and the
English poster prints on one A4 page. Screenshots go to artifacts/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from tests.browser.conftest import PHONE, LiveServer, Watched, screenshot

AT = "2026-12-04T01:00:00%2B08:00"  # a Friday, 01:00 in Asia/Shanghai
GUIYANG_NEAR = f"/near?lat=26.58&lon=106.71&at={AT}"
SLUG = "guiyang-shuanglong"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
CJK = re.compile(r"[\u3400-\u9fff]")
# latin words a Chinese page may show: brands, units, standards, the language switch itself
LATIN_OK = {"english", "app", "api", "ogc", "json", "geojson", "html", "openapi", "km", "wgs", "gcj", "bd",
            "qr", "gdal", "qgis", "owslib", "osm", "openstreetmap", "oapif", "csv", "gpkg", "url", "crs",
            "bbox", "id", "yizhan", "leaflet", "tianditu", "amap", "features", "core", "oas",
            "collections", "conformance", "items", "limit", "offset", "javascript", "gps", "ph", "pdf", "a4",
            "lon", "lat", "weight", "greedy", "swap",  # the planner's CSV columns and method names
            "text", "accept", "language", "zh", "en", "crs84"}  # HTTP header and parameter words on /ogc/api
TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || el.closest('script, style, noscript, [data-place], [translate=no], code, .leaflet-control-attribution')) continue;
    if (el.closest('[lang]') && el.closest('[lang]') !== document.documentElement) continue;  // the switch link
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The app on its bundled sample stations and parks (what a new user sees)."""
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("glance")), "TESTING": True, "TILES": "none"})
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["yizhan.parks"].close()


def _context(browser, js: bool = True, lang: str = "zh-CN", bypass_csp: bool = False):
    return browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale=lang,
                               java_script_enabled=js, bypass_csp=bypass_csp)


@pytest.fixture
def glance(browser):
    context = _context(browser)
    watched = Watched(context.new_page())
    yield watched
    context.close()


def _boxes(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(selector, "els => els.map(e => { const r = e.getBoundingClientRect();"
                                               " return {top: r.top, bottom: r.bottom, left: r.left, width: r.width,"
                                               " height: r.height}; })")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_at_one_am_the_first_card_is_open_with_its_buttons_on_the_first_screen(sample, glance, lang):
    page = glance.page
    page.goto(sample.url(f"{GUIYANG_NEAR}&lang={lang}"))
    first = page.locator("li.card").first
    assert first.get_attribute("data-state") == "open"
    assert first.locator(".state.open").is_visible()
    call = first.locator("a.call").bounding_box()
    nav = _boxes(page, "li.card:first-child .nav3 a")
    assert call["y"] + call["height"] <= PHONE["height"]
    assert len(nav) == 3 and all(b["bottom"] <= PHONE["height"] for b in nav)
    assert len({round(b["top"]) for b in nav}) == 1  # one row ...
    assert max(b["width"] for b in nav) - min(b["width"] for b in nav) < 1.5  # ... of three equal buttons
    heights = [b["height"] for b in _boxes(page, "li.card")]
    assert heights and max(heights) <= 300, heights
    states = page.eval_on_selector_all("li.card", "els => els.map(e => e.dataset.state)")
    order = ["open", "reported", "unknown", "closed", "temporarily_closed"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
    small = page.evaluate("""() => Array.from(document.querySelectorAll('a.btn, button, .tools a, .lang'))
        .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect())
        .filter(r => r.height < 48 || r.width < 48).length""")
    assert small == 0
    assert float(page.evaluate("parseFloat(getComputedStyle(document.querySelector('.card .line')).lineHeight)"
                               " / parseFloat(getComputedStyle(document.querySelector('.card .line')).fontSize)")) >= 1.3
    screenshot(page, f"near-0100-{lang}.png")
    glance.clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_park_page_puts_the_open_station_first(sample, glance, lang):
    page = glance.page
    page.goto(sample.url(f"/p/{SLUG}?at={AT}&lang={lang}"))
    assert page.locator("li.card").first.get_attribute("data-state") == "open"
    screenshot(page, f"park-{lang}.png")
    glance.clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pins_show_the_state_by_shape_and_popups_clear_the_controls(sample, glance, lang):
    page = glance.page
    page.goto(sample.url(f"{GUIYANG_NEAR}&lang={lang}"))
    page.wait_for_selector(".yz-pin", state="attached")
    shapes = page.eval_on_selector_all(".yz-pin-dot", "els => els.map(e => e.className)")
    assert any("shape-open" in s for s in shapes) and any("shape-closed" in s for s in shapes)
    page.locator("li.card").first.locator("a[data-station]").click()
    popup = page.locator(".leaflet-popup").first
    popup.wait_for()
    page.wait_for_timeout(400)  # the pan animation
    box = popup.bounding_box()
    for control in _boxes(page, ".leaflet-control-zoom, .leaflet-control-layers"):
        overlap = not (box["x"] + box["width"] <= control["left"] or control["left"] + control["width"] <= box["x"]
                       or box["y"] + box["height"] <= control["top"] or control["bottom"] <= box["y"])
        assert not overlap, (box, control)
    glance.clean()


def test_large_text_switch_is_remembered(sample, glance):
    page = glance.page
    page.goto(sample.url(GUIYANG_NEAR))
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    page.click("#yz-big")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "25px"
    page.goto(sample.url(f"/station/rs-520102-0005?at={AT}"))
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "25px"
    assert page.get_attribute("#yz-big", "aria-pressed") == "true"
    # 朗读 is offered exactly where the browser has a Chinese voice (headless Chromium usually has none)
    page.wait_for_timeout(300)
    has_zh = page.evaluate("() => !!window.speechSynthesis && speechSynthesis.getVoices()"
                           ".some(v => /^zh([-_](CN|Hans))?/i.test(v.lang))")
    assert page.locator("#yz-read").is_visible() == has_zh
    glance.clean()


@pytest.mark.parametrize("path", ["/", GUIYANG_NEAR, f"/station/rs-520102-0005?at={AT}"])
def test_without_javascript_no_empty_box(sample, browser, path):
    context = _context(browser, js=False)
    page = context.new_page()
    page.goto(sample.url(path))
    box = page.locator("#yz-map-box").bounding_box()
    assert box["height"] < 80  # a one-line note, not a screen-high grey box
    assert page.locator("#yz-map-box .map-off").is_visible()
    assert not page.locator("#yz-or").is_visible()  # no lone 或者 before the place field
    if path == "/":  # the home page's first screen is the search and the need buttons (its cards explain kinds)
        need = page.locator("#yz-needs .need").first.bounding_box()
        assert need["y"] + need["height"] < PHONE["height"]
    elif page.locator("li.card").count():
        assert page.locator("li.card").first.bounding_box()["y"] < PHONE["height"]
    context.close()


@pytest.mark.parametrize("path", ["/", GUIYANG_NEAR, f"/station/rs-520102-0005?at={AT}", f"/p/{SLUG}?at={AT}"])
def test_axe_finds_no_serious_violation(sample, browser, path):
    context = _context(browser, bypass_csp=True)  # axe is injected by the test, not served by the app
    page = context.new_page()
    page.goto(sample.url(path))
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
          .map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))]);
    }""")
    context.close()
    assert found == []


PAGES = ["/", GUIYANG_NEAR, f"/station/rs-520102-0005?at={AT}", f"/station/sw-440983-0001?at={AT}",
         f"/p/{SLUG}?at={AT}", f"/p/{SLUG}/poster?at={AT}", "/windows", "/windows?origin=520322", "/planner",
         "/ogc?f=html", "/ogc/api?f=html", "/ogc/conformance?f=html", "/ogc/collections?f=html", "/ogc/collections/rest_station?f=html",
         "/ogc/collections/rest_station/items?f=html&limit=3", "/station/no-such-place"]


def _foreign(lang: str, texts: list[str]) -> list[str]:
    if lang == "en":
        return [t for t in texts if CJK.search(t)]
    words = [w for t in texts for w in re.findall(r"[A-Za-z]{2,}", t)]
    return [w for w in words if w.lower() not in LATIN_OK]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_speaks_one_language(sample, browser, lang):
    context = _context(browser, js=False, lang="zh-CN" if lang == "zh" else "en")
    page = context.new_page()
    problems = {}
    for path in PAGES:
        page.goto(sample.url(path + ("&" if "?" in path else "?") + f"lang={lang}"))
        bad = _foreign(lang, page.evaluate(TEXT_JS))
        if bad:
            problems[path] = bad[:8]
    context.close()
    assert problems == {}


def test_english_poster_fits_one_a4_page(sample, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(sample.url(f"/p/{SLUG}/poster?lang=en&at={AT}"))
    pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    context.close()
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, pages


def test_read_aloud_shows_with_a_chinese_voice(sample, browser):
    context = _context(browser)
    page = context.new_page()
    page.add_init_script("""if (window.speechSynthesis) {
        window.__spoken = [];
        speechSynthesis.getVoices = () => [{lang: 'zh-CN', name: 'test voice', localService: true}];
        speechSynthesis.speak = (u) => window.__spoken.push(u.text);
    }""")
    page.goto(sample.url(GUIYANG_NEAR))
    if not page.evaluate("!!window.speechSynthesis"):
        pytest.fail("this Chromium has no speechSynthesis")
    assert page.locator("#yz-read").is_visible()
    page.click("#yz-read")
    spoken = page.evaluate("window.__spoken")
    first_title = page.locator("li.card h2").first.inner_text()
    assert len(spoken) == 1 and first_title in spoken[0]
    context.close()
