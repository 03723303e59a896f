"""The public address that QR codes and posters print: YIZHAN_PUBLIC_URL, never a request's Host.

A QR code is cached for a day (`Cache-Control: public`) and printed on paper, so an address taken
from the Host header would let anyone put their own site into it (`Host: evil.example`). Without
YIZHAN_PUBLIC_URL the QR codes and posters answer 503 with a page saying how to set it, except
for local development: a request to a loopback host (127.0.0.1, localhost, ::1) from a loopback
client gets codes for that loopback address (the README's first command serves 127.0.0.1:5000;
such a code cannot send anyone anywhere else).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import quote

from flask import current_app, request, url_for

from layers.errors import YizhanError

QR_MARKER = "s=qr"  # added to the URL inside a QR code: only those visits count as scans
HOW_TO = ("set YIZHAN_PUBLIC_URL to the https:// address the service is reached at "
          "(for example YIZHAN_PUBLIC_URL=https://yizhan.example.cn) and restart")


class NoPublicUrl(YizhanError):
    """Posters and QR codes need YIZHAN_PUBLIC_URL (outside local development)."""

    status = 503
    code = "no_public_url"

    def __init__(self) -> None:
        super().__init__(f"posters and QR codes need a public address: {HOW_TO}")


def configured_base() -> str:
    """YIZHAN_PUBLIC_URL without a trailing slash ('' when unset)."""
    return (current_app.config.get("PUBLIC_URL") or "").strip().rstrip("/")


def _loopback(host: str | None) -> bool:
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def printable_url(slug: str) -> str:
    """The landing URL a poster prints: YIZHAN_PUBLIC_URL + /p/<slug>, a loopback one in local
    development, else NoPublicUrl."""
    base = configured_base()
    if base:
        return f"{base}/p/{quote(slug)}"
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if _loopback(host) and _loopback(request.remote_addr):
        return url_for("parks.landing", slug=slug, _external=True)
    raise NoPublicUrl()


def qr_url(slug: str) -> str:
    """The URL inside a park's QR code: `printable_url` with the scan marker."""
    return f"{printable_url(slug)}?{QR_MARKER}"


def link_url(slug: str) -> str:
    """The landing URL for API links: the public one when set, else this request's (not printed)."""
    base = configured_base()
    return f"{base}/p/{quote(slug)}" if base else url_for("parks.landing", slug=slug, _external=True)
