"""Command-line tools: `flask --app app token new|list|revoke`, `db upgrade`, `db copy SOURCE TARGET`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app

from layers.errors import YizhanError
from layers.factory import open_store
from layers.tokens import TokenStore
from web.auth import ROLES, digest, new_token, token_store


def _open(where: str):
    """A store from a `postgresql://` URL or an embedded-store directory, never seeded."""
    layers = current_app.extensions["yizhan.store"].layers
    if where.startswith(("postgresql://", "postgres://")):
        from layers.postgis.store import PostgisStore

        return PostgisStore(where, layers)
    return open_store(layers, where, seed_path=None)


def _tokens(action: Callable[[TokenStore], Any]) -> Any:
    """Run `action` on the app's token store; a domain error becomes a CLI error (exit status 1)."""
    try:
        return action(token_store())
    except YizhanError as exc:
        raise click.ClickException(exc.message) from None


def register_cli(app: Flask) -> None:
    """Attach the CLI groups to the app."""

    @app.cli.group("token")
    def token_group() -> None:
        """API tokens."""

    @token_group.command("new")
    @click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
    @click.option("--name", default=None, help="who holds it (kept in the database; shown in the audit trail)")
    def token_new(role: str, name: str | None) -> None:
        """Print a new token once. With --name only its digest is kept, in the database; without,
        print the YIZHAN_TOKENS entry that enables it instead."""
        token = new_token()
        if name is None:
            click.echo(f"token (give to the editor, shown once): {token}")
            click.echo(f"add to YIZHAN_TOKENS (comma-separated): {digest(token)}:{role}")
            return
        record = _tokens(lambda tokens: tokens.add(name, digest(token), role))
        click.echo(f"token for {record.name} ({record.role}), shown once: {token}")

    @token_group.command("list")
    def token_list() -> None:
        """Tokens kept in the database: name, role, created, revoked (never a digest)."""
        records = _tokens(lambda tokens: tokens.list())
        click.echo("name\trole\tcreated\trevoked")
        for r in records:
            revoked = r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "-"
            click.echo(f"{r.name}\t{r.role}\t{r.created_at.isoformat(timespec='seconds')}\t{revoked}")

    @token_group.command("revoke")
    @click.argument("name")
    def token_revoke(name: str) -> None:
        """Revoke the token in force named NAME: requests with it answer 401 from now on."""
        record = _tokens(lambda tokens: tokens.revoke(name))
        click.echo(f"revoked the {record.role} token of {record.name}")

    @app.cli.group("db")
    def db_group() -> None:
        """Database schema and data moves."""

    @db_group.command("upgrade")
    @click.option("--url", envvar="YIZHAN_DATABASE_URL", required=True, help="postgresql://… (default: YIZHAN_DATABASE_URL)")
    def db_upgrade(url: str) -> None:
        """Create the postgis extension if missing and apply pending migrations (idempotent)."""
        from layers.postgis.pool import describe
        from layers.postgis.schema import upgrade

        applied = upgrade(url)
        click.echo(f"{describe(url)}: applied {', '.join(applied)}" if applied else f"{describe(url)}: up to date")

    @db_group.command("copy")
    @click.argument("source")
    @click.argument("target")
    def db_copy(source: str, target: str) -> None:
        """Copy every station from SOURCE to TARGET (each a postgresql:// URL or an embedded-store directory).

        The target is upserted by id in one transaction: it gets all rows or none.
        """
        src, dst = _open(source), _open(target)
        try:
            total = src.count()
            with click.progressbar(src.iter_all(), length=total, label=f"reading {total:,} stations") as rows:
                result = dst.import_rows(rows, actor="cli:db copy")
            click.echo(f"written: {result.inserted:,} new, {result.updated:,} updated, {result.unchanged:,} unchanged; "
                       f"target now holds {dst.count():,}")
        finally:
            src.close()
            dst.close()
