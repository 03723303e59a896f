"""Command-line tools: `flask --app app token new`, `db upgrade`, `db copy SOURCE TARGET`."""
from __future__ import annotations

import click
from flask import Flask, current_app

from layers.factory import open_store
from web.auth import ROLES, digest, new_token


def _open(where: str):
    """A store from a `postgresql://` URL or an embedded-store directory, never seeded."""
    layers = current_app.extensions["yizhan.store"].layers
    if where.startswith(("postgresql://", "postgres://")):
        from layers.postgis import PostgisStore

        return PostgisStore(where, layers)
    return open_store(layers, where, seed_path=None)


def register_cli(app: Flask) -> None:
    """Attach the CLI groups to the app."""

    @app.cli.group("token")
    def token_group() -> None:
        """API tokens."""

    @token_group.command("new")
    @click.option("--role", type=click.Choice(ROLES), default="editor", show_default=True)
    def token_new(role: str) -> None:
        """Print a new token and the YIZHAN_TOKENS entry that enables it (only the digest is stored)."""
        token = new_token()
        click.echo(f"token (give to the editor, shown once): {token}")
        click.echo(f"add to YIZHAN_TOKENS (comma-separated): {digest(token)}:{role}")

    @app.cli.group("db")
    def db_group() -> None:
        """Database schema and data moves."""

    @db_group.command("upgrade")
    @click.option("--url", envvar="YIZHAN_DATABASE_URL", required=True, help="postgresql://… (default: YIZHAN_DATABASE_URL)")
    def db_upgrade(url: str) -> None:
        """Create the postgis extension if missing and apply pending migrations (idempotent)."""
        from layers.pg_pool import describe
        from layers.pg_schema import upgrade

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
                result = dst.import_rows(rows)
            click.echo(f"written: {result.inserted:,} new, {result.updated:,} updated; target now holds {dst.count():,}")
        finally:
            src.close()
            dst.close()
