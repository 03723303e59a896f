"""`flask plan coverage FILE …` and `flask plan sites FILE …`: the planner on the command line.

Reads a CSV or GeoJSON demand file, calls the same functions as the API (`web.planner`), prints a
short summary and writes the full answer to `--out` (.geojson or .csv).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from geo.plan.grid import GRID_KINDS
from geo.plan.sites import METHODS, OBJECTIVES
from layers.errors import InvalidQuery
from layers.ingest import demand as demand_io
from layers.ingest.demand import MAX_CANDIDATES, PointSet, TooLarge
from web.planner.plans import (
    DEFAULT_LAYER,
    MAX_TIME_LIMIT_S,
    Setting,
    coverage_result,
    parse_setting,
    sites_result,
    to_csv,
)


def _read_points(path: str, crs: str, param: str, limit: int, weighted: bool) -> PointSet:
    with open(path, "rb") as handle:
        return demand_io.from_bytes(handle.read(), path, crs, param, limit, weighted)


def _write(collection: dict[str, Any], out: str | None) -> None:
    if not out:
        return
    text = to_csv(collection) if out.lower().endswith(".csv") else json.dumps(collection, ensure_ascii=False, indent=1)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(text)


def _fmt_share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def register_plan_cli(app: Any) -> None:
    """`flask plan coverage FILE …` and `flask plan sites FILE …` (CSV or GeoJSON demand files)."""
    import click

    common = [
        click.argument("demand_file", type=click.Path(exists=True, dir_okay=False)),
        click.option("--crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84", show_default=True),
        click.option("--radius-m", type=float, default=None, help="default: the layer's coverage radius"),
        click.option("--layer", default=DEFAULT_LAYER, show_default=True, help="comma-separated layer ids"),
        click.option("--open-at", default=None, help="ISO time (Asia/Shanghai), e.g. 2026-11-28T20:30"),
        click.option("--out", default=None, help="write the result to this .geojson or .csv file"),
    ]

    def with_common(func: Callable) -> Callable:
        for decorator in reversed(common):
            func = decorator(func)
        return func

    def setting_of(demand_file: str, crs: str, radius_m: float | None, layer: str, open_at: str | None) -> Setting:
        demand = _read_points(demand_file, crs, "demand", demand_io.MAX_DEMAND, True)
        return parse_setting({"crs": crs, "radius_m": radius_m, "layer": layer, "open_at": open_at}, demand)

    @app.cli.group("plan")
    def plan_group() -> None:
        """Planner: coverage of demand by stations, and suggested new sites."""

    @plan_group.command("coverage")
    @with_common
    def plan_coverage_cmd(demand_file, crs, radius_m, layer, open_at, out) -> None:
        """What share of the demand has a station within the radius."""
        try:
            result = coverage_result(setting_of(demand_file, crs, radius_m, layer, open_at))
        except (InvalidQuery, TooLarge) as exc:
            raise click.ClickException(exc.message) from None
        s = result["summary"]
        click.echo(f"demand points: {s['demand_points']}, stations considered: {s['stations_considered']}")
        click.echo(f"covered within {s['radius_m']:g} m: {_fmt_share(s['covered_share'])} of the weight "
                   f"({s['covered_weight']:g} of {s['total_weight']:g}); uncovered points: {s['uncovered_points']}")
        click.echo("weighted percentiles (m): " + ", ".join(f"{k}={v}" for k, v in s["percentiles_m"].items()))
        _write(result, out)

    @plan_group.command("sites")
    @with_common
    @click.option("--p", "p", type=int, default=10, show_default=True, help="how many new sites")
    @click.option("--objective", type=click.Choice(OBJECTIVES), default="coverage", show_default=True)
    @click.option("--method", type=click.Choice(METHODS), default="auto", show_default=True)
    @click.option("--candidates", "cand_file", type=click.Path(exists=True, dir_okay=False), default=None,
                  help="candidate sites file (CSV/GeoJSON); default: a grid")
    @click.option("--grid", type=click.Choice(GRID_KINDS), default="hex", show_default=True)
    @click.option("--spacing-m", type=float, default=None, help="grid spacing; default: half the radius")
    @click.option("--time-limit-s", type=float, default=30.0, show_default=True)
    def plan_sites_cmd(demand_file, crs, radius_m, layer, open_at, out, p, objective, method, cand_file, grid,
                       spacing_m, time_limit_s) -> None:
        """Choose p new sites (maximal covering or least weighted distance)."""
        stages = ["existing", "pairs", "greedy", "swap", "bound", "mip", "report"]
        try:
            setting = setting_of(demand_file, crs, radius_m, layer, open_at)
            body: dict[str, Any] = {"p": p, "objective": objective, "method": method,
                                    "time_limit_s": min(time_limit_s, MAX_TIME_LIMIT_S)}
            given = _read_points(cand_file, crs, "candidates", MAX_CANDIDATES, False) if cand_file else None
            body["candidates"] = {"grid": grid, **({"spacing_m": spacing_m} if spacing_m else {})}
            with click.progressbar(length=len(stages), label="planning", show_eta=False) as bar:
                def progress(stage: str) -> None:
                    done = stages.index(stage) + 1 if stage in stages else 0
                    bar.update(max(0, done - bar.pos))
                result = sites_result(body, setting, progress, given)
                bar.update(len(stages) - bar.pos)
        except (InvalidQuery, TooLarge) as exc:
            raise click.ClickException(exc.message) from None
        s = result["summary"]
        click.echo(f"{s['objective']}: value {s['value']}, bound {s['bound']}, gap {100 * s['gap']:.3f}% "
                   f"({s['method']}, {s['seconds']} s); candidates {s['candidates']}")
        if s["time_limited"]:
            click.echo(f"stopped at the time limit ({s['time_limit_s']} s): the best found in the time given")
        click.echo(f"covered share: {_fmt_share(s['before']['covered_share'])} -> {_fmt_share(s['after']['covered_share'])}")
        for f in result["features"]:
            q = f["properties"]
            lon, lat = f["geometry"]["coordinates"]
            click.echo(f"  #{q['rank']}: {lon:.6f}, {lat:.6f}  gain {q['gain']}")
        _write(result, out)

