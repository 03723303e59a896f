"""Issue 22: a layer is a file in layers/defs/, and every face of the service picks each file up.

Parametrized by the layer files themselves, so a seventh file is tested here without an edit: the
JSON API's filters, the home page's filters and legend colours, the OGC collections, the planner's
layer choice, the park page's sections, and import (by the layer's Chinese name) and export on both
stores.
"""
from __future__ import annotations

import csv
import io
import json

import pytest

from app import create_app
from layers.layerdefs import load_layers, read_definitions
from layers.places.needs import read_vocabulary
from tests.web.conftest import EDITOR_TOKEN, TOKENS
from web.pages import results

LAYERS = [raw for _path, raw in read_definitions()]
IDS = [raw["id"] for raw in LAYERS]
GUIYANG = (106.71, 26.58)


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def empty_app(request, tmp_path_factory):
    config = {"DATA_DIR": str(tmp_path_factory.mktemp("every-layer")), "SEED": False, "TOKENS": TOKENS,
              "TESTING": True}
    if request.param == "postgis":
        config["DATABASE_URL"] = request.getfixturevalue("postgis_module_url")
    app = create_app(config)
    yield app
    app.extensions["yizhan.store"].close()


def test_the_six_built_in_layers_are_the_six_files():
    assert len(IDS) == 6 and {"gig_market", "training_center"} <= set(IDS)


@pytest.mark.parametrize("raw", LAYERS, ids=IDS)
def test_api_filters_by_the_layer_and_its_services(client, raw):
    service = next(iter(raw["services"]))
    answer = client.get(f"/api/v1/nearest?lat={GUIYANG[1]}&lon={GUIYANG[0]}&k=5&layer={raw['id']}")
    assert answer.status_code == 200
    found = answer.get_json()["features"]
    assert len(found) == 5 and {f["properties"]["layer"] for f in found} == {raw["id"]}
    with_service = client.get(f"/api/v1/nearest?lat={GUIYANG[1]}&lon={GUIYANG[0]}&k=3&layer={raw['id']}"
                              f"&service={service}").get_json()["features"]
    assert with_service and all(service in f["properties"]["services"] for f in with_service)


@pytest.mark.parametrize("raw", LAYERS, ids=IDS)
def test_pages_and_ogc_show_the_layer(client, raw):
    home = client.get("/").get_data(as_text=True)
    assert f'name="layer" value="{raw["id"]}"' in home and raw["colour"] in home and raw["name"]["zh"] in home
    for button in raw.get("need_buttons", ()):
        assert f'value="{button["need"]}"' in home
    planner = client.get("/planner").get_data(as_text=True)
    assert f'<option value="{raw["id"]}"' in planner
    park = client.get("/p/guiyang-shuanglong").get_data(as_text=True)
    assert f'<section id="l-{raw["id"]}">' in park
    collection = client.get(f"/ogc/collections/{raw['id']}").get_json()
    assert collection["id"] == raw["id"] and collection["title"]
    items = client.get(f"/ogc/collections/{raw['id']}/items?limit=2")
    assert items.status_code == 200 and items.get_json()["numberMatched"] > 0


@pytest.mark.parametrize("raw", LAYERS, ids=IDS)
def test_import_by_chinese_name_and_export_by_layer(empty_app, raw):
    client = empty_app.test_client()
    service = next(iter(raw["services"]))
    sid = f"every-{raw['id'].replace('_', '-')}"
    body = ("id,name,layer,lon,lat,services,hours\n"
            f"{sid},测试{raw['short_name']['zh']},{raw['name']['zh']},106.7,26.6,{service},Mo-Su 05:30-12:00\n")
    answer = client.post("/api/v1/import", data=body.encode("utf-8"),
                         headers={"Authorization": f"Bearer {EDITOR_TOKEN}", "Content-Type": "text/csv"})
    assert answer.status_code == 200 and answer.get_json()["written"], answer.get_json()
    exported = client.get(f"/api/v1/export?format=csv&layer={raw['id']}").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [(r["id"], r["layer"]) for r in rows] == [(sid, raw["id"])]


def test_a_new_layer_file_brings_its_own_cap_and_place(tmp_path):
    """The two things that needed code to add a layer are data now: the open-station cap (web/pages/results.py
    kept caps by layer id) and the display order (layers followed their file names)."""
    for path, raw in read_definitions():
        (tmp_path / path.name).write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    new = {"id": "zz_shelter", "order": 5, "name": {"zh": "避寒点", "en": "Winter shelter"}, "colour": "#5f3dc4",
           "icon": "house", "default_radius_m": 5000, "cap_m": 12345, "services": {"bed": {"zh": "床位"}},
           "needs": {"避寒": "bed"}, "need_buttons": [{"need": "避寒", "icon": "home", "label": {"zh": "避寒"}}]}
    (tmp_path / "zz_shelter.json").write_text(json.dumps(new, ensure_ascii=False), encoding="utf-8")
    layers = load_layers(tmp_path)
    assert list(layers) == ["zz_shelter", *IDS]
    assert results.cap_m(layers["zz_shelter"]) == 12345
    assert [results.cap_m(layers[lid]) for lid in ("rest_station", "gig_market", "training_center")] == [
        10_000, 30_000, 100_000]
    assert read_vocabulary(tmp_path).buttons[0].need == "避寒"
