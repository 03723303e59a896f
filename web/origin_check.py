"""Cross-site writes refused: a page elsewhere must not file reports from its visitors' browsers.

A browser tells where a POST comes from: `Origin` (every current browser sends it on a POST),
else `Referer`, and `Sec-Fetch-Site`. A write without an `Authorization` header (the public's
form posts and JSON calls; API clients with a token are not browsers acting for someone) is
refused with 403 when
- `Sec-Fetch-Site` says `cross-site`, or
- `Origin` is `null` (sandboxed frames, data: pages) or names another host, or
- there is no `Origin` and `Referer` names another host.
"Another host" means neither this request's host (after the proxies' X-Forwarded-Host when
YIZHAN_PROXIES is set) nor the host of YIZHAN_PUBLIC_URL. A write with neither Origin nor
Referer is let through: old browsers and privacy settings drop both, and no browser drops them
for a cross-site form post a third-party page could make (they send at least Origin).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _host_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.lower()
    except ValueError:
        return None
    if not parts.scheme or not netloc:
        return None
    default = {"http": ":80", "https": ":443"}.get(parts.scheme.lower(), "")
    return netloc[: -len(default)] if default and netloc.endswith(default) else netloc


def _own_hosts() -> set[str]:
    own = {request.host.lower()}
    public = current_app.config.get("PUBLIC_URL")
    if public:
        host = _host_of(str(public).strip())
        if host:
            own.add(host)
    return own


def cross_site_write() -> bool:
    """Whether this request is a write a browser made on behalf of another site."""
    if request.method not in UNSAFE or "Authorization" in request.headers:
        return False
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return True
    origin = request.headers.get("Origin")
    if origin is not None:
        host = _host_of(origin.strip()) if origin.strip().lower() != "null" else None
        return host is None or host not in _own_hosts()
    referer = request.headers.get("Referer")
    if referer:
        host = _host_of(referer.strip())
        return host is None or host not in _own_hosts()
    return False
