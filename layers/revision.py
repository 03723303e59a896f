"""A station's revision tag (its HTTP ETag) and the If-Match check, the same for every store.

The tag is a digest of the station as stored (id, layer, WGS-84 lon/lat and its props JSON,
`layers.memory.stored_rows.props_json`): every change of the station changes it, both stores give the
same tag for the same station, and no store needs a column for it. Writes compare it inside
their transaction, with the station read under the write lock, so a write made on a stale copy
is refused (PreconditionFailed, HTTP 412) instead of overwriting a change it never saw.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection

from layers.errors import PreconditionFailed
from layers.memory.stored_rows import props_json
from layers.model import Station

ANY = "*"


def etag(station: Station) -> str:
    """The station's strong ETag, quoted as HTTP writes it: `"<24 hex digits>"`."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{station.id}\x00{station.layer}\x00{station.lon!r}\x00{station.lat!r}\x00".encode())
    digest.update(props_json(station))
    return f'"{digest.hexdigest()}"'


def check_match(current: Station | None, expect: Collection[str] | None) -> None:
    """Raise PreconditionFailed unless `current` matches one of the `expect`ed tags (None: no
    condition; `*`: any stored station). Weak tags (W/"...") never match: the comparison is strong."""
    if expect is None:
        return
    if current is not None and (ANY in expect or etag(current) in expect):
        return
    if current is None:
        raise PreconditionFailed("If-Match: the station does not exist", parameter="If-Match")
    raise PreconditionFailed("If-Match: the station has changed since that ETag was read "
                             "(GET it again for the current ETag)", parameter="If-Match")
