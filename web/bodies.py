"""Request bodies are read whole or refused whole (413), never cut short, whatever their framing.

Werkzeug caps a body that comes without a Content-Length (`Transfer-Encoding: chunked`) at the
request's `max_content_length` by *truncating* it: its limited stream stops at the limit and
then looks like the end of the body, so an import of a 22 MB chunked CSV read its first 16 MiB
and stored a row cut mid-field, and a chunked JSON write over 64 KiB failed to parse (400).
`take_whole` runs before anything reads the body: a body of declared length is checked against
the endpoint's limit; a chunked one is read into memory up to limit + 1 bytes, and either
becomes an ordinary body with a Content-Length (everything after sees it whole) or is refused.

After a refusal the unread rest would desynchronise a kept-alive connection; gunicorn drains
at most 64 KiB of it and otherwise closes the socket even though the answer said
`Connection: keep-alive`. `settle` therefore reads and discards up to DRAIN_MAX bytes of the
rest, so the connection stays usable; a longer rest makes the server close the connection and
*say so*: gunicorn.conf.py's `pre_request` hook gives the body stream a `yizhan_close` callable
for that (an application may not send hop-by-hop headers itself, PEP 3333). The development
server answers every request with `Connection: close` anyway.
"""
from __future__ import annotations

import io
import logging
from typing import Any

LOGGER = logging.getLogger(__name__)
DRAIN_MAX = 1024 * 1024  # bytes of a refused body read and dropped to keep the connection usable
_BLOCK = 64 * 1024
_UNREAD = "yizhan.body_unread"  # environ key: how much of a refused body is still on the wire


def declared_length(environ: dict[str, Any]) -> int | None:
    """The Content-Length in bytes, None when absent or not a number."""
    raw = (environ.get("CONTENT_LENGTH") or "").strip()
    return int(raw) if raw.isdigit() else None


def is_chunked(environ: dict[str, Any]) -> bool:
    """Whether the body comes with Transfer-Encoding: chunked (its length known only at its end)."""
    return "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()


def _read_up_to(stream: Any, size: int) -> bytes:
    """At most `size` bytes of `stream`, fewer only when the body ends first."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(min(_BLOCK, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def take_whole(environ: dict[str, Any], limit: int) -> bool:
    """Make the body readable whole within `limit` bytes; False (nothing kept) when it is longer.

    A chunked body that fits is read into memory and handed on as a plain body with its length."""
    if is_chunked(environ):
        raw = environ["wsgi.input"]
        data = _read_up_to(raw, limit + 1)
        if len(data) > limit:
            environ[_UNREAD] = None  # unknown: the rest of the chunks
            return False
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["yizhan.raw_input"] = raw
        return True
    length = declared_length(environ)
    if length is not None and length > limit:
        environ[_UNREAD] = length
        return False
    return True


def settle(environ: dict[str, Any]) -> None:
    """After a refusal by `take_whole`: drop the unread rest (at most DRAIN_MAX bytes) so the
    connection can serve the next request, or have the server close it (and say so)."""
    if _UNREAD not in environ:
        return
    left = environ.pop(_UNREAD)
    raw = environ["wsgi.input"]
    # a declared length is read exactly; a chunked rest only from a stream the server ends at the
    # body's end (gunicorn's, and the development server's for chunked bodies)
    if (left is not None and left <= DRAIN_MAX) or (left is None and environ.get("wsgi.input_terminated")):
        try:
            _read_up_to(raw, DRAIN_MAX if left is None else left)
            if left is not None or not raw.read(1):
                return
        except (OSError, ValueError):
            pass
    close = getattr(raw, "yizhan_close", None)
    if close is not None:
        close()
