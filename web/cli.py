"""Command-line tools: `flask --app app token new --role editor`."""
from __future__ import annotations

import click
from flask import Flask

from web.auth import ROLES, digest, new_token


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
