"""API tokens kept in the station database: a name, the SHA-256 digest (never the token), a role.

`TokenStore` is the contract; `layers.embedded.tokens` (the embedded store's file) and
`layers.postgis.tokens` (a table made by migration 0003) implement it.
"""
from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from datetime import datetime

from layers.errors import Conflict, InvalidQuery, YizhanError

ROLES = ("reader", "editor", "admin")
DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class TokenRecord:
    """One token as listed: who holds it, its role, when made and revoked (UTC; None: in force)."""

    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None


class TokenNotFound(YizhanError):
    """No token in force with that name."""

    status = 404
    code = "not_found"


def check_name(name: str) -> str:
    """A token holder's name: 1-64 characters without control characters, trimmed."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 64 or _CONTROL.search(name):
        raise InvalidQuery("a token name must be 1-64 characters without control characters", parameter="name")
    return name


def check_new(name: str, digest: str, role: str) -> str:
    """Validate a new token's fields; the trimmed name."""
    if role not in ROLES:
        raise InvalidQuery(f"role must be one of {', '.join(ROLES)}", parameter="role")
    if not DIGEST_RE.match(digest):
        raise InvalidQuery("digest must be 64 lowercase hex digits", parameter="digest")
    return check_name(name)


def name_taken(name: str) -> Conflict:
    return Conflict(f"a token named {name!r} is in force already; revoke it first", parameter="name")


class TokenStore(abc.ABC):
    """Where tokens made by `flask token new` live."""

    @abc.abstractmethod
    def add(self, name: str, digest: str, role: str) -> TokenRecord:
        """Keep a new token's digest; Conflict when a token in force has that name."""

    @abc.abstractmethod
    def find(self, digest: str) -> TokenRecord | None:
        """The token with this digest (revoked ones too), or None."""

    @abc.abstractmethod
    def list(self) -> list[TokenRecord]:
        """Every token, revoked ones too, oldest first."""

    @abc.abstractmethod
    def revoke(self, name: str) -> TokenRecord:
        """Revoke the token in force named `name`; TokenNotFound when there is none."""

    def close(self) -> None:
        """Release connections (nothing by default)."""
