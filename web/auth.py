"""Bearer-token checks for write endpoints. Tokens are configured as SHA-256 digests with a role."""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from flask import current_app, request

from layers.errors import YizhanError

ROLES = ("reader", "editor", "admin")


class Unauthorized(YizhanError):
    """No usable bearer token."""

    status = 401
    code = "unauthorized"


class Forbidden(YizhanError):
    """A valid token whose role lacks the right."""

    status = 403
    code = "forbidden"


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is configured."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token (URL-safe, 256 bits)."""
    return secrets.token_urlsafe(32)


def parse_tokens(raw: str | None) -> dict[str, str]:
    """`digest:role,digest:role` into {digest: role}; ValueError on a malformed entry."""
    tokens: dict[str, str] = {}
    for entry in (raw or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        hexdigest, _, role = entry.partition(":")
        if len(hexdigest) != 64 or role not in ROLES:
            raise ValueError(f"YIZHAN_TOKENS entry {entry[:12]}… must be <sha256 hex>:<{'|'.join(ROLES)}>")
        tokens[hexdigest.lower()] = role
    return tokens


def role_of_request() -> str | None:
    """The role of the request's bearer token; Unauthorized when absent or unknown."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
    wanted = digest(token.strip())
    for known, role in current_app.extensions["yizhan.tokens"].items():
        if hmac.compare_digest(known, wanted):
            return role
    raise Unauthorized("the bearer token is not valid")


def require_token(role: str):
    """Decorator: the request needs a token of `role` or higher."""
    needed = ROLES.index(role)

    def wrap(view):
        @functools.wraps(view)
        def checked(*args, **kwargs):
            have = role_of_request()
            if ROLES.index(have) < needed:
                raise Forbidden(f"this endpoint needs the {role} role")
            return view(*args, **kwargs)

        return checked

    return wrap
