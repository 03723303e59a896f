"""A live Yizhan server on a free port and headless Chromium (Debian's) driven by Playwright.

Locally the browser tests skip, with the reason, when Chromium or Playwright is missing; with
CI=true they fail instead (a skip there would hide a broken CI). No request may leave the
machine: every non-localhost request is aborted and recorded, and the tests assert none was made.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from tests.browser.pagedata import make_app

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("YIZHAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}


def _missing(reason: str):
    if IN_CI:
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install playwright)")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not executable:
        _missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class LiveServer:
    """The app served by werkzeug in a thread; `url(path)` gives absolute URLs."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.app.extensions["yizhan.store"].close()


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    server = LiveServer(make_app(str(tmp_path_factory.mktemp("live"))))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_amap(tmp_path_factory):
    """The same data drawn on Amap tiles (GCJ-02); tile requests are blocked, the page must still work."""
    server = LiveServer(make_app(str(tmp_path_factory.mktemp("live-amap")), tiles="amap"))
    yield server
    server.stop()


class Watched:
    """A page with its console errors, page errors, dialogs and blocked outside requests recorded."""

    def __init__(self, page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("dialog", self._dialog)
        page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith("data:") or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def clean(self, allow_blocked_hosts: set[str] = frozenset()) -> None:
        """No script error, no console error, no dialog; no outside request but to allowed hosts."""
        outside = [u for u in self.blocked if (urlsplit(u).hostname or "") not in allow_blocked_hosts]
        errors = [e for e in self.console_errors if not (allow_blocked_hosts and "ERR_FAILED" in e)]
        assert not self.page_errors, self.page_errors
        assert not errors, errors
        assert not self.dialogs, self.dialogs
        assert not outside, outside


@pytest.fixture
def phone(browser):
    """A phone-sized page (390x844, touch) in Chinese, watched."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN", geolocation={"latitude": 28.1392, "longitude": 121.2276},
                                  permissions=["geolocation"])
    watched = Watched(context.new_page())
    yield watched
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/ (gitignored) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path
