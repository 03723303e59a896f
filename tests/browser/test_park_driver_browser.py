"""The park page for a driver and reports one phone cannot game (issue 18.3, 18.5), in Chromium at 390x844.

On /p/guiyang-shuanglong at 01:00 on a Friday, in both languages: the open rest station with its call
button is on the first screen, hotlines are one tap away, every card is at most 300 px tall with its
navigation in one row and the report buttons folded behind "到了有问题？", and the windows and worker
centres (the bundled ones are 580+ km away in Guangdong) are one line each. Reports: two phones are two
browser contexts behind a trusted proxy (YIZHAN_PROXIES=1, each with its own X-Forwarded-For).
"""
from __future__ import annotations

import pytest

from app import create_app
from tests.browser.conftest import ARTIFACTS, PHONE, LiveServer, Watched

AT = "2026-12-04T01:00:00%2B08:00"  # a Friday, 01:00 in Asia/Shanghai
SLUG = "guiyang-shuanglong"
PAGE = f"/p/{SLUG}?at={AT}"


@pytest.fixture(scope="module")
def driver_app(tmp_path_factory):
    """The bundled sample stations and parks behind one trusted proxy."""
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("driver")), "TESTING": True, "TILES": "none",
                      "PROXIES": 1})
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["yizhan.parks"].close()


def _phone(browser, address: str, js: bool = True, lang: str = "zh-CN"):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale=lang,
                                  java_script_enabled=js, extra_http_headers={"X-Forwarded-For": address})
    return context, Watched(context.new_page())


def _boxes(page, selector: str) -> list[dict]:
    return page.eval_on_selector_all(selector, "els => els.map(e => { const r = e.getBoundingClientRect();"
                                               " return {top: r.top, bottom: r.bottom, width: r.width,"
                                               " height: r.height}; })")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_first_screen_answers_a_driver(driver_app, browser, lang):
    context, watched = _phone(browser, "198.51.100.10", lang="zh-CN" if lang == "zh" else "en-US")
    try:
        page = watched.page
        page.goto(driver_app.url(f"{PAGE}&lang={lang}"))
        first = page.locator("li.card").first
        assert first.get_attribute("data-state") == "open"
        card = first.bounding_box()
        assert card["y"] + card["height"] <= PHONE["height"]  # the whole open-now card on the first screen
        call = page.locator("main a[href^='tel:']").first.bounding_box()  # the first call button: the hotline
        assert call["y"] + call["height"] <= PHONE["height"]  # answering now (this rest station has no phone)
        nav = first.locator(".nav3 a").evaluate_all("els => els.map(e => { const r = e.getBoundingClientRect();"
                                                    " return {top: r.top, bottom: r.bottom, width: r.width}; })")
        assert len(nav) == 3 and len({round(b["top"]) for b in nav}) == 1
        assert max(b["width"] for b in nav) - min(b["width"] for b in nav) < 1.5
        heights = [b["height"] for b in _boxes(page, "li.card")]
        assert heights and max(heights) <= 300, heights
        assert page.locator("li.card .report button:visible").count() == 0  # folded behind one button
        assert page.locator("li.card .report summary").first.is_visible()
        for lid in ("service_window", "worker_center"):  # 580+ km away: one line, no card
            section = page.locator(f"#l-{lid}")
            assert section.locator("li.card").count() == 0 and section.locator("p").count() == 1
        jump = page.locator("header a[href='#hotlines']")
        box = jump.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"] and box["height"] >= 48
        total = page.evaluate("document.documentElement.scrollHeight")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"park-driver-{lang}.png"))
        page.screenshot(path=str(ARTIFACTS / f"park-driver-{lang}-full.png"), full_page=True)
        jump.click()  # one tap: the hotlines' call buttons are on screen
        page.wait_for_function("() => { const r = document.querySelector('.hotlines a[href^=\"tel:\"]')"
                               ".getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
        # was 7,987 px with four layers and cards from another province; now six layer sections
        # (issue 22's gig markets and training centres), each at most PER_LAYER cards
        assert total < 900 * len(driver_app.app.extensions["yizhan.store"].layers), total
        watched.clean()
    finally:
        context.close()


def _report_locked(page, url: str, station_id: str) -> None:
    page.goto(url)
    card = page.locator(f"#s-{station_id}")
    card.locator(".report summary").click()
    card.get_by_role("button", name="锁门了").click()
    page.wait_for_url("**reported=*")


def test_two_reports_from_one_phone_do_not_flag_two_phones_do_and_undo_works(driver_app, browser):
    a, phone_a = _phone(browser, "198.51.100.21", js=False)
    b, phone_b = _phone(browser, "198.51.100.22")
    c, phone_c = _phone(browser, "198.51.100.23")
    try:
        url = driver_app.url(PAGE)
        phone_a.page.goto(url)
        first = phone_a.page.locator("li.card").first.get_attribute("id").removeprefix("s-")
        for _ in range(2):
            _report_locked(phone_a.page, url, first)
        assert "again=1" in phone_a.page.url and phone_a.page.locator(".thanks").is_visible()
        phone_a.page.goto(url)
        card = phone_a.page.locator("li.card").first
        assert card.get_attribute("id") == f"s-{first}" and card.get_attribute("data-state") == "open"

        _report_locked(phone_c.page, url, first)  # a third phone reports, then takes it back
        phone_c.page.get_by_role("button", name="撤销").click()
        phone_c.page.wait_for_url("**undone=1*")
        assert "已撤销" in phone_c.page.locator(".thanks").inner_text()
        phone_c.page.goto(url)
        assert phone_c.page.locator(f"#s-{first}").get_attribute("data-state") == "open"

        _report_locked(phone_b.page, url, first)  # a second phone: now two people found it locked
        phone_b.page.goto(url)
        flagged = phone_b.page.locator(f"#s-{first}")
        assert flagged.get_attribute("data-state") == "reported"
        assert "2 人" in flagged.inner_text() and flagged.bounding_box()["height"] <= 300
        assert phone_b.page.locator("li.card").first.get_attribute("id") != f"s-{first}"
        for watched in (phone_a, phone_b, phone_c):
            watched.clean()
    finally:
        for context in (a, b, c):
            context.close()
