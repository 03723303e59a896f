"""geo/ is pure: its tests see the rectangle-only China test, whatever an app installed before."""
from __future__ import annotations

import pytest

from geo import crs


@pytest.fixture(autouse=True)
def _rectangle_only():
    saved = crs._OUTLINE[0]
    crs.use_outline(None)
    yield
    crs._OUTLINE[0] = saved
