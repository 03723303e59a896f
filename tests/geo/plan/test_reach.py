"""reach_box holds every point within the radius of any of the points (the planner's station fetch
relies on it to miss no station)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import destination
from geo.plan.reach import reach_box


@settings(max_examples=300, deadline=None)
@given(points=st.lists(st.tuples(st.floats(-170, 170), st.floats(-80, 80)), min_size=1, max_size=5),
       radius_m=st.floats(1, 3_000_000), azimuth=st.floats(0, 360), share=st.floats(0, 1))
def test_every_point_within_the_radius_is_in_the_box(points, radius_m, azimuth, share):
    lon, lat = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    box = reach_box(lon, lat, radius_m)
    for x, y in points:
        qx, qy = destination(x, y, azimuth, radius_m * share)
        if box is not None:
            assert box[0] <= qx <= box[2] and box[1] <= qy <= box[3], (box, qx, qy)


def test_a_box_that_would_wrap_is_none():
    assert reach_box(np.array([179.9]), np.array([10.0]), 50_000) is None
    assert reach_box(np.array([0.0]), np.array([89.9]), 50_000) is None
    assert reach_box(np.array([]), np.array([]), 1000) is None
    box = reach_box(np.array([106.7]), np.array([26.5]), 10_000)
    assert box is not None and box[0] < 106.7 < box[2]
