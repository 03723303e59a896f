"""Bearer-token checks. A token is known by its SHA-256 digest, from two places: the
`YIZHAN_TOKENS` setting (digest:role; actor `config:<first 8 hex>`) and the token table in the
station database (made by `flask token new`; actor: the token's name, revoked ones refused).
The acting name of a request is on `flask.g`; `current_actor()` reads it for the audit trail.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from flask import Flask, current_app, g, request

from layers.errors import YizhanError
from layers.tokens import ROLES, TokenStore

TOKEN_STORE = "yizhan.token_store"


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


def init_auth(app: Flask, database_url: str | None, data_dir: str) -> TokenStore:
    """Put the token store beside the station store (PostGIS when a URL is set); opens nothing yet."""
    if database_url:
        from layers.postgis.tokens import PostgisTokenStore

        tokens: TokenStore = PostgisTokenStore(database_url)
    else:
        from layers.embedded.tokens import SqliteTokenStore

        tokens = SqliteTokenStore(data_dir)
    app.extensions[TOKEN_STORE] = tokens
    return tokens


def token_store() -> TokenStore:
    """The configured token store."""
    return current_app.extensions[TOKEN_STORE]


def current_actor() -> str | None:
    """Who is acting in this request (a token's name, or `config:<digest prefix>`), None if nobody."""
    return g.get("yizhan_actor")


def role_of_request() -> str | None:
    """The role of the request's bearer token; Unauthorized when absent, unknown or revoked."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
    wanted = digest(token.strip())
    for known, role in current_app.extensions["yizhan.tokens"].items():
        if hmac.compare_digest(known, wanted):
            g.yizhan_actor = f"config:{known[:8]}"
            return role
    record = token_store().find(wanted) if TOKEN_STORE in current_app.extensions else None
    if record is None:
        raise Unauthorized("the bearer token is not valid")
    if record.revoked_at is not None:
        raise Unauthorized("the bearer token has been revoked")
    g.yizhan_actor = record.name
    return record.role


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
