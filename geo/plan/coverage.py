"""Coverage of weighted demand points by stations: shares, nearest distances and their distribution.

Pure functions on arrays: WGS-84 (lon, lat) degrees in, geodesic metres on the WGS-84 ellipsoid out.
A demand point is covered when its nearest station is at most `radius_m` geodesic metres away.
"""
from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo.plan.index import nearest_m

LOGGER = logging.getLogger(__name__)
PERCENTILES = (50, 75, 90, 95, 100)
BIN_FACTORS = (0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)  # default bin edges, in multiples of the radius


@dataclass(frozen=True)
class Bin:
    """Demand whose nearest station lies in [lower_m, upper_m) geodesic metres (upper_m may be inf)."""

    lower_m: float
    upper_m: float
    weight: float
    count: int


@dataclass(frozen=True)
class Coverage:
    """What share of the demand weight has a station within radius_m, and how far each point is."""

    radius_m: float
    total_weight: float
    covered_weight: float
    covered_share: float | None  # None when the total weight is 0
    nearest_index: np.ndarray  # per demand point, index into the stations, -1 when there is none
    nearest_m: np.ndarray  # per demand point, geodesic metres to that station, inf when there is none
    covered: np.ndarray  # per demand point, bool
    bins: tuple[Bin, ...]
    percentiles_m: dict[int, float | None]  # weighted; None when undefined (no weight, or no station)


def covered_share(weight: np.ndarray, covered: np.ndarray) -> float | None:
    """Covered weight over total weight (None when the total is 0)."""
    total = float(np.sum(weight))
    return float(np.sum(weight[covered])) / total if total > 0 else None


def weighted_percentile_m(distance_m: np.ndarray, weight: np.ndarray, percent: float) -> float | None:
    """The smallest distance d (metres) such that points at most d away hold >= percent % of the weight.

    None when the total weight is 0 or the answer is infinite (part of the demand has no station).
    """
    positive = weight > 0
    d, w = np.asarray(distance_m)[positive], np.asarray(weight)[positive]
    if d.size == 0:
        return None
    order = np.argsort(d, kind="stable")
    cumulative = np.cumsum(w[order])
    target = cumulative[-1] * percent / 100.0
    k = int(np.searchsorted(cumulative, target * (1 - 1e-12), side="left"))
    value = float(d[order][min(k, d.size - 1)])
    return value if math.isfinite(value) else None


def distance_bins(distance_m: np.ndarray, weight: np.ndarray, edges_m: Sequence[float]) -> tuple[Bin, ...]:
    """Weight and count of demand per [edge_k, edge_k+1) metres; the last bin is open-ended (to inf)."""
    edges = [float(e) for e in edges_m] + [math.inf]
    out = []
    for lower, upper in itertools.pairwise(edges):
        inside = (distance_m >= lower) & (distance_m < upper) if math.isfinite(upper) else distance_m >= lower
        out.append(Bin(lower, upper, float(np.sum(weight[inside])), int(np.count_nonzero(inside))))
    return tuple(out)


def default_edges_m(radius_m: float) -> tuple[float, ...]:
    """Histogram edges in metres scaled to the radius: 0, r/4, r/2, r, 2r, 5r, 10r (then open)."""
    return tuple(f * radius_m for f in BIN_FACTORS)


def assess_coverage(demand_lon: np.ndarray, demand_lat: np.ndarray, weight: np.ndarray,
                    station_lon: np.ndarray, station_lat: np.ndarray, radius_m: float,
                    edges_m: Sequence[float] | None = None) -> Coverage:
    """Coverage of WGS-84 demand points (weights >= 0) by WGS-84 stations within radius_m geodesic metres."""
    weight = np.asarray(weight, dtype=float)
    index, dist = nearest_m(np.asarray(demand_lon, float), np.asarray(demand_lat, float),
                            np.asarray(station_lon, float), np.asarray(station_lat, float))
    covered = dist <= radius_m
    total = float(weight.sum())
    return Coverage(
        radius_m=float(radius_m), total_weight=total, covered_weight=float(weight[covered].sum()),
        covered_share=covered_share(weight, covered), nearest_index=index, nearest_m=dist, covered=covered,
        bins=distance_bins(dist, weight, edges_m if edges_m is not None else default_edges_m(radius_m)),
        percentiles_m={p: weighted_percentile_m(dist, weight, p) for p in PERCENTILES},
    )
