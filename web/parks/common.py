"""What the park pages and the parks API share: the park store, the scan buffer, the report rate check, a park's links."""
from __future__ import annotations

from datetime import date

from flask import (
    current_app,
    request,
    url_for,
)

from layers.errors import YizhanError
from layers.parks import (
    ParkStore,
)
from layers.scans import ScanBuffer
from layers.store import StationStore
from web.parks.public_url import link_url

EXTENSION = "yizhan.parks"


def park_store() -> ParkStore:
    """The configured park store."""
    return current_app.extensions[EXTENSION]


def store() -> StationStore:
    """The configured station store."""
    return current_app.extensions["yizhan.store"]


def scan_buffer() -> ScanBuffer:
    """Scan counts waiting to be written (see `layers.parks.ScanBuffer`)."""
    return current_app.extensions["yizhan.scans"]


def scan_totals(since: date | None = None) -> dict[str, int]:
    """Scans per park slug since `since` (Asia/Shanghai date), for the planner's demand weights."""
    scan_buffer().flush()
    return park_store().scan_totals(since)


class RateLimited(YizhanError):
    """Too many reports from one client; `retry_after_s` says when to try again."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many reports; try again in {int(retry_after_s) + 1} s")
        self.retry_after_s = int(retry_after_s) + 1
        self.headers["Retry-After"] = str(self.retry_after_s)


def check_rate() -> None:
    wait = current_app.extensions["yizhan.report_limiter"].hit(request.remote_addr or "unknown")
    if wait:
        raise RateLimited(wait)


def park_links(slug: str) -> list[dict[str, str]]:
    return [{"rel": "alternate", "type": "text/html", "href": link_url(slug)},
            {"rel": "qr", "type": "image/svg+xml", "href": url_for("parks.qr_svg", slug=slug, _external=True)}]
