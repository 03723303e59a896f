"""Per-layer distance caps are layer data (`cap_m` in layers/defs/*.json), read by the result ordering."""
from __future__ import annotations

import json
import shutil

import pytest

from layers.layerdefs import DEFAULT_CAP_M, DEFS_DIR, load_layers
from web.pages import results


def test_the_four_layers_carry_their_caps():
    layers = load_layers()
    assert {lid: layers[lid].cap_m for lid in ("rest_station", "rights_post", "service_window", "worker_center")} \
        == {"rest_station": 10_000, "rights_post": 50_000, "service_window": 100_000, "worker_center": 100_000}
    assert layers["rest_station"].to_json()["cap_m"] == 10_000


def test_results_read_the_cap_from_the_layer_file_and_default_without_one(tmp_path):
    for path in DEFS_DIR.glob("*.json"):
        shutil.copy(path, tmp_path / path.name)
    rest = json.loads((tmp_path / "rest_station.json").read_text(encoding="utf-8"))
    rest["cap_m"] = 2500
    (tmp_path / "rest_station.json").write_text(json.dumps(rest, ensure_ascii=False), encoding="utf-8")
    new = {**rest, "id": "gig_market", "name": {"zh": "零工市场", "en": "Gig market"}}
    del new["cap_m"]
    (tmp_path / "gig_market.json").write_text(json.dumps(new, ensure_ascii=False), encoding="utf-8")
    layers = load_layers(tmp_path)
    assert results.cap_m(layers["rest_station"]) == 2500  # the data, not a table in the code
    assert results.cap_m(layers["gig_market"]) == DEFAULT_CAP_M == 50_000  # a new layer without a cap


@pytest.mark.parametrize("bad", [0, -5, "10km", True, 2_000_000])
def test_a_cap_that_is_not_a_distance_is_refused(tmp_path, bad):
    raw = json.loads((DEFS_DIR / "rest_station.json").read_text(encoding="utf-8"))
    raw["cap_m"] = bad
    (tmp_path / "rest_station.json").write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="cap_m"):
        load_layers(tmp_path)
