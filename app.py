"""Yizhan (驿站): nearest help for migrant workers. `create_app()` wires; `python app.py` serves."""
from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from layers.factory import open_store
from layers.ingest.seed import SAMPLE_STATIONS
from layers.layerdefs import load_layers
from layers.places.outline import install as install_china_outline
from web import assets, meta
from web.api import geocode as geocode_api
from web.api import history as history_api
from web.api import stations as api
from web.api import verify as verify_api
from web.api.data import bp as data_api_bp
from web.api.data_cli import register_data_cli
from web.auth import init_auth
from web.cli import register_cli
from web.config import DEFAULTS, check_config
from web.errors import register_error_handlers
from web.jsonio import FastJSONProvider
from web.ogc import routes as ogc
from web.pages import routes as pages
from web.parks.pages import init_parks
from web.planner import api as planner
from web.planner import page as planner_page  # noqa: F401  (its /planner routes go on planner.bp)
from web.security import init_security


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask app: defaults, then YIZHAN_* environment variables, then `config`."""
    app = Flask(__name__, static_folder=None)
    app.json = FastJSONProvider(app)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("YIZHAN")
    if config:
        app.config.update(config)
    settings = check_config(app.config)
    install_china_outline()  # GCJ-02/BD-09 shift only inside mainland China's outline, not its rectangle
    app.json.ensure_ascii = False
    layers = load_layers()
    app.extensions["yizhan.tokens"] = settings["tokens"]
    init_auth(app, settings["database_url"], settings["data_dir"])  # tokens kept in the station database
    app.extensions["yizhan.store"] = open_store(
        layers, settings["data_dir"], settings["database_url"], settings["read_urls"],
        seed_path=SAMPLE_STATIONS if settings["seed"] else None, pg_mirror=settings["pg_mirror"],
    )
    for blueprint in (api.bp, meta.bp, geocode_api.bp, pages.bp, assets.bp, planner.bp, history_api.bp, ogc.bp,
                      verify_api.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.register_blueprint(data_api_bp)  # POST /api/v1/import, GET /api/v1/export
    register_cli(app)
    register_data_cli(app)  # flask stations import|export
    planner.register_plan_cli(app)
    init_parks(app)
    init_security(app)  # last: it wraps every registered blueprint's answers
    if settings["proxies"]:  # behind N reverse proxies: take the client address from X-Forwarded-For
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["proxies"], x_proto=settings["proxies"],
                                x_host=settings["proxies"])
    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    create_app().run(host=os.environ.get("YIZHAN_HOST", "127.0.0.1"), port=int(os.environ.get("YIZHAN_PORT", "5000")))
