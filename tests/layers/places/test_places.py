"""The place search engine (layers/places): shipped data, needs, pinyin, near-misses, where-am-I,
and mainland China's outline for GCJ-02/BD-09."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geo import crs
from layers.layerdefs import load_layers
from layers.places.index import NameIndex
from layers.places.names import one_edit_apart, short_name
from layers.places.needs import default_vocabulary
from layers.places.outline import china_outline, install
from layers.places.reverse import default_boundaries
from layers.places.search import default_search
from layers.places.towns import load_areas

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"
SEOUL, BANGKOK, SHANGHAI = (126.978, 37.5665), (100.5018, 13.7563), (121.4737, 31.2304)


@pytest.fixture(scope="module")
def engine():
    return default_search()


def test_the_shipped_towns_cover_the_country(engine):
    areas = load_areas()
    assert len(areas) == 42_868
    assert (areas.xy[:, 0] != np.iinfo(np.int32).min).sum() > 35_000
    town = engine.by_code("520102410000")
    assert (town.name, town.province, town.city, town.county) == ("沙南社区服务中心", "贵州省", "贵阳市", "南明区")


@pytest.mark.parametrize("name,short", [("沙南社区服务中心", "沙南"), ("花溪街道", "花溪"), ("城关镇", "城关"),
                                        ("玉环市", "玉环"), ("云关乡", "云关"), ("乡", None)])
def test_short_names_drop_the_suffix(name, short):
    assert short_name(name) == short


@pytest.mark.parametrize("a,b,apart", [("南名区", "南明区", True), ("南明", "南明区", True), ("南明区区", "南明区", True),
                                       ("南明区", "南明区", False), ("北名县", "南明区", False)])
def test_one_edit(a, b, apart):
    assert one_edit_apart(a, b) is apart


ISSUE_NEEDS = {
    "rights_post": "讨薪 欠薪 欠工资 拖欠工资 要工钱 工伤 劳动合同 仲裁 打官司 法律援助",
    "rest_station": "喝水 热水 热饭 微波炉 充电 换电 厕所 歇脚 休息 避暑 取暖",
    "service_window": "上户口 新生儿 社保 医保 异地就医 居住证",
    "worker_center": "老乡 家乡",
}


@pytest.mark.parametrize("layer", sorted(ISSUE_NEEDS))
def test_every_need_word_of_the_issue_maps_to_its_layer_and_a_real_service(layer):
    vocabulary, layers = default_vocabulary(), load_layers()
    for word in ISSUE_NEEDS[layer].split():
        need = vocabulary.get(word)
        assert need is not None and need.layer == layer, word
        assert not need.service or need.service in layers[layer].services


def test_need_buttons_are_six_to_eight_and_name_needs():
    buttons = default_vocabulary().buttons
    assert 6 <= len(buttons) <= 8
    assert all(default_vocabulary().get(b.need) and 2 <= len(b.label["zh"]) <= 5 for b in buttons)


def test_a_new_need_is_a_data_change(tmp_path):
    from layers.places.needs import read_vocabulary

    for path in (REPO / "layers" / "defs").glob("*.json"):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw["id"] == "rest_station":
            raw["needs"]["找水喝"] = "drinking_water"
        (tmp_path / path.name).write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    assert read_vocabulary(tmp_path).split("玉环找水喝")[0].service == "drinking_water"


def test_need_and_place_are_split(engine):
    answer = engine.search("玉环 上户口")
    assert (answer.need.layer, answer.need.service) == ("service_window", "household_registration")
    assert answer.place.name == "玉环市"


def test_pinyin_and_initials(engine):
    assert engine.search("guiyang").place.name == "贵阳市"
    assert engine.search("GuiYang").place.name == "贵阳市"
    initials = engine.search("gy")
    assert initials.place is None and "贵阳市" in [f.name for f in initials.choices]


def test_near_misses_put_homophones_first_and_are_only_suggestions(engine):
    answer = engine.search("南名区")
    assert answer.place is None and answer.suggestions[0].name == "南明区"
    assert engine.search("花西区").suggestions[0].name == "花溪区"
    assert engine.search("南名").suggestions == []  # two characters: too short to guess


def test_ambiguous_towns_and_qualified_ones(engine):
    answer = engine.search("城关镇")
    assert answer.place is None and answer.choices_total > 100 and len(answer.choices) == 12
    assert all(f.province and f.county for f in answer.choices)
    assert engine.search("南明 沙南").place.code == "520102410000"


def test_near_miss_index_finds_one_edit_only():
    found = [type("F", (), {"name": n, "kind": "town", "code": str(i)})() for i, n in enumerate(["南明区", "南开区"])]
    index = NameIndex(found.__getitem__)
    for i, f in enumerate(found):
        index.add(f.name, i)
    index.freeze()
    assert {f.name for f in index.near_misses("南名区")} == {"南明区", "南开区"}
    assert index.near_misses("北名县") == []


def test_where_am_i():
    here = default_boundaries().where(106.7135, 26.5725)
    assert (here.adcode, here.area) == ("520102", "贵州省贵阳市南明区") and here.town
    assert default_boundaries().where(*SEOUL) is None


@pytest.fixture
def outline_installed():
    saved = crs._OUTLINE[0]
    install()
    yield
    crs._OUTLINE[0] = saved


@pytest.mark.parametrize("point", [SEOUL, BANGKOK, (114.17, 22.30), (113.54, 22.19), (121.5654, 25.033)])
@pytest.mark.parametrize("source", ["gcj02", "bd09"])
def test_points_outside_mainland_china_are_never_shifted(outline_installed, point, source):
    assert crs.to_wgs84(*point, source) == point
    assert crs.from_wgs84(*point, source) == point
    lons, lats = crs.convert_many(np.array([point[0]]), np.array([point[1]]), source, "wgs84")
    assert (lons[0], lats[0]) == point


def test_points_inside_are_shifted_and_the_vector_test_agrees(outline_installed):
    assert crs.to_wgs84(*SHANGHAI, "gcj02") != SHANGHAI
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(72, 138, 3000), rng.uniform(0.8, 55.8, 3000)
    many = crs.shifts_here_many(lons, lats)
    assert many.tolist() == [crs.shifts_here(x, y) for x, y in zip(lons.tolist(), lats.tolist())]
    assert 0 < many.sum() < len(many)


def test_outline_cells_agree_with_the_polygon():
    import shapely

    outline = china_outline()
    rng = np.random.default_rng(3)
    lons, lats = rng.uniform(95, 125, 2000), rng.uniform(18, 45, 2000)
    assert outline.contains_many(lons, lats).tolist() == shapely.contains_xy(outline.geometry, lons, lats).tolist()


def test_search_engine_fits_the_memory_budget():
    """Issue 17: <= 60 MB per worker for the gazetteer (measured in a fresh interpreter)."""
    code = ("import os, numpy, shapely, flask\n"
            "def rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE')\n"
            "before = rss()\nfrom layers.places.search import default_search\ndefault_search()\n"
            "print((rss() - before) / 1e6)")
    grown = float(subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                                 check=True, timeout=120).stdout)
    assert grown < 60


def _shared_or_skip(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        if IN_CI:
            pytest.fail(f"CI=true and {path} is missing")
        pytest.skip(f"{path} is absent (a fresh clone has no ../shared)")
    return path


def test_shipped_towns_are_what_the_build_script_makes_of_the_source():
    from data.build_places import TOWNS_SRC, build_towns

    built = build_towns(_shared_or_skip(TOWNS_SRC))
    with np.load(REPO / "data" / "gazetteer" / "towns.npz") as shipped:
        for key in ("codes", "names", "xy", "area_codes", "exact_hashes", "exact_values", "pinyin_hashes"):
            assert np.array_equal(built[key], shipped[key]), key
