"""The planner (issue #8): coverage of demand by stations and suggested new sites.

`POST /api/v1/plan/coverage`, `POST /api/v1/plan/sites` (JSON in, GeoJSON out, `?format=csv` for a
file). The `/planner` page lives in `web.planner.page` (on the same blueprint, `web.planner.plans.bp`:
app.py imports both), the `flask plan …` commands in `web.planner.cli`. Thin: parse, call `geo.plan.coverage` / `geo.plan.sites`, render. Existing stations are
the chosen layers' open stations (open at `open_at` if given) near the demand (`layers.plan_stations`).
"""
from __future__ import annotations

import time

from flask import request

from web import params
from web.planner.cli import register_plan_cli
from web.planner.plans import (
    COMMON,
    SITES_ONLY,
    _answer,
    _json_body,
    bp,
    coverage_result,
    parse_setting,
    sites_result,
)

__all__ = ["bp", "register_plan_cli"]  # app.py registers these; web.planner.page puts /planner on `bp` too


@bp.post("/api/v1/plan/coverage")
def plan_coverage():
    params.reject_unknown(request.args, ("format",))
    body = _json_body(COMMON)
    return _answer(coverage_result(parse_setting(body)), "coverage")


@bp.post("/api/v1/plan/sites")
def plan_sites():
    params.reject_unknown(request.args, ("format",))
    started = time.monotonic()
    body = _json_body(COMMON + SITES_ONLY)
    return _answer(sites_result(body, parse_setting(body), started=started), "sites")

