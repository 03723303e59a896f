"""Schemathesis (4.x) over the live `/openapi.json`: every documented operation, on both stores.

The real app serves on a free port from werkzeug's threaded server (a real HTTP socket, not the
test client), with a temporary data directory, an editor token and rate limits high enough for
a run. The schema is read from the server itself, so endpoints documented later (data, history,
…) are covered as soon as their paths are merged into the document. Every check schemathesis
offers runs except two that judge the *inputs* rather than the answers where the server has
rules JSON Schema cannot state (see `_config`). Phases: examples, coverage (boundary values,
missing and wrong-typed parameters, undeclared methods) and fuzzing, with a fixed seed.

The same run by hand against any server:
    schemathesis run http://127.0.0.1:5000/openapi.json --checks all \
        -H "Authorization: Bearer $TOKEN" --max-examples 25
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import schemathesis
from werkzeug.serving import WSGIRequestHandler, make_server

from app import create_app
from tests.web.conftest import EDITOR_TOKEN, TOKENS

MAX_EXAMPLES = 25
POSTGIS_EXAMPLES = 12
PLANNER_EXAMPLES = 8  # each planner request can solve a site plan: fewer, not smaller than the real limits
SEED = 20_261_130


# Operations whose inputs have rules JSON Schema cannot state, so a schema-valid request may rightly
# answer 400: the bbox order (min <= max), services from the chosen layer's vocabulary, opening_hours
# grammar, origins only on layers serving home counties, p <= number of candidates, a body's id or
# slug equal to the URL's.
NOT_EXPRESSIBLE = [("GET", "/api/v1/nearest"), ("GET", "/api/v1/stations"), ("POST", "/api/v1/stations"),
                   ("PUT", "/api/v1/stations/{station_id}"), ("PATCH", "/api/v1/stations/{station_id}"),
                   ("PUT", "/api/v1/parks/{slug}"),
                   ("POST", "/api/v1/plan/coverage"), ("POST", "/api/v1/plan/sites"),
                   ("POST", "/api/v1/import")]  # a file's rows are checked beyond what a schema says


def _config(store: str) -> schemathesis.Config:
    """The run's settings: all checks, bounded examples, the editor token where the document asks.

    Off: `negative_data_rejection` everywhere — the server deliberately reads an empty value as
    absent (`limit=`, `since=`) and takes the first of repeated parameters, which the check counts
    as accepting invalid input; `positive_data_acceptance` on NOT_EXPRESSIBLE. NUL characters are
    not generated: the server refuses them in any request (400, documented) by design. Parsing is
    shared by both stores, so the PostGIS run is shorter: fewer examples, and the planner (which
    reads the store once per request) without the coverage phase.
    """
    no_acceptance = {"checks": {"positive_data_acceptance": {"enabled": False}}}
    planner = {"generation": {"max-examples": PLANNER_EXAMPLES}}
    if store == "postgis":
        planner["phases"] = {"coverage": {"enabled": False}}
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {"max-examples": MAX_EXAMPLES if store == "embedded" else POSTGIS_EXAMPLES, "mode": "all",
                       "deterministic": True, "database": "none", "allow-x00": False},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": True, "negative_data_rejection": {"enabled": False}},
        "auth": {"openapi": {"bearer": {"bearer": EDITOR_TOKEN}}},
        "request-timeout": 60,
        "operations": [
            {"include-path-regex": "^/api/v1/plan/", **planner},
            *({"include-method": method, "include-path": path, **no_acceptance} for method, path in NOT_EXPRESSIBLE),
        ],
    })


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:  # the app logs each request already (yizhan.access)
        pass


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on 127.0.0.1:<free port> in a background thread (werkzeug's threaded WSGI server); its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="schemathesis-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def live_url(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("schemathesis")), "TOKENS": TOKENS, "TILES": "none",
              "REPORT_LIMIT": 1_000_000, "PLAN_LIMIT": 1_000_000,
              "EXPORT_LIMIT": 1_000_000}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    try:
        with serving(app) as url:
            yield request.param, url
    finally:
        app.extensions["yizhan.store"].close()


@pytest.fixture
def live_schema(live_url):
    store, url = live_url
    return schemathesis.openapi.from_url(f"{url}/openapi.json", config=_config(store))


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
def test_every_operation_conforms(case):
    """No 5xx; status, content type, headers and body as documented (plus the other checks)."""
    case.call_and_validate(timeout=60)
