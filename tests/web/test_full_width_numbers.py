"""Full-width digits are read as numbers on purpose, in every numeric parameter (issue 15.17):
a phone's Chinese input method types them. Digits of other scripts are refused."""
from __future__ import annotations

import pytest

from web import params

FULL = str.maketrans("0123456789+-.,", "０１２３４５６７８９＋－．，")


def full_width(text: str) -> str:
    return text.translate(FULL)


def features(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [f["id"] for f in response.get_json()["features"]]


@pytest.mark.parametrize("query", [
    "/api/v1/nearest?lat=26.57&lon=106.71&k=5&radius_m=50000",
    "/api/v1/nearest?lat=31.23&lon=121.47&k=3&crs=gcj02",
    "/api/v1/stations?bbox=73,18,135,54&limit=7&offset=2",
    "/ogc/collections/rest_station/items?bbox=73,18,135,54&limit=4&offset=1",
])
def test_full_width_numbers_answer_as_ascii_ones(client, query):
    path, _, args = query.partition("?")
    converted = "&".join(f"{k}={full_width(v) if k != 'crs' else v}" for k, v in
                         (pair.split("=") for pair in args.split("&")))
    assert converted != args
    assert features(client.get(f"{path}?{converted}")) == features(client.get(query))


def test_a_full_width_origin_adcode_and_ideographic_space(client):
    ascii_answer = client.get("/api/v1/nearest?lat=31.23&lon=121.47&k=3&layer=service_window&origin=411221")
    wide = client.get("/api/v1/nearest?lat=\u3000３１．２３&lon=１２１．４７&k=３&layer=service_window&origin=４１１２２１")
    assert features(wide) == features(ascii_answer) != []


def test_pages_take_full_width_numbers(client):
    assert client.get("/near?lat=２６．５７&lon=１０６．７１").status_code == 200


def test_the_planner_takes_full_width_numbers_in_its_body(client):
    ascii_answer = client.post("/api/v1/plan/coverage", json={"demand": "parks", "radius_m": "2500"})
    wide = client.post("/api/v1/plan/coverage", json={"demand": "parks", "radius_m": "２５００"})
    assert ascii_answer.status_code == wide.status_code == 200
    assert wide.get_json()["summary"] == ascii_answer.get_json()["summary"]


@pytest.mark.parametrize(("query", "parameter"), [
    ("/api/v1/nearest?lat=٢٦&lon=106.7", "lat"),              # Arabic-Indic digits
    ("/api/v1/nearest?lat=26.5&lon=१०६", "lon"),              # Devanagari
    ("/api/v1/nearest?lat=26.5&lon=106.7&k=٥", "k"),
    ("/api/v1/stations?bbox=٧٣,18,135,54", "bbox"),
    ("/api/v1/nearest?lat=26.5&lon=106.7&origin=٣٣٠٥٢١", "origin"),
    ("/ogc/collections/rest_station/items?limit=٥", "limit"),
])
def test_digits_of_other_scripts_are_refused(client, query, parameter):
    response = client.get(query)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.get_json()["error"]["parameter"] == parameter


def test_ascii_number_maps_only_the_full_width_forms():
    assert params.ascii_number("－１２３．４５ｅ＋２，６\u3000") == "-123.45e+2,6 "
    assert params.ascii_number("٢٦ 二十六") == "٢٦ 二十六"
    assert params.to_float("２６．５") == 26.5
    with pytest.raises(ValueError):
        params.to_float("٢٦")
