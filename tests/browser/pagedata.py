"""A small, known station set for the page tests (and the browser tests), with hostile names in it."""
from __future__ import annotations

from app import create_app
from layers.model import Station
from tests.stations import random_stations

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TEMPLATE = "${alert(2)}`</script><script>alert(3)</script>"
YUHUAN = (121.2276, 28.1392)  # (lon, lat) WGS-84, centre of 玉环市
GUIYANG = (106.71, 26.58)


def known_stations(layers) -> list[Station]:
    """Stations around 玉环 and 贵阳 plus randomly spread ones; two carry hostile names."""
    out = random_stations(layers, 400, seed=11)
    out += [
        Station(id="yh-rest-1", lon=121.2301, lat=28.1405, name="玉环城关工会驿站", layer="rest_station",
                name_en="Yuhuan town union rest stop", address="玉环市城关街道广陵路 1 号", phone="0576-87220000",
                hours="24/7", services=("drinking_water", "phone_charging", "toilet"), source="test"),
        Station(id="yh-window-1", lon=121.2350, lat=28.1300, name="玉环市桐梓籍务工人员跨省通办窗口",
                layer="service_window", address="玉环市政务服务中心 2 楼", phone="0576-87230000",
                hours="Mo-Fr 08:30-12:00,14:00-17:30", services=("social_insurance", "certificates"),
                origins=("520322",), items=("新生儿入户", "社保转移", "无犯罪记录证明"), source="test"),
        Station(id="gy-window-1", lon=106.72, lat=26.59, name="贵阳桐梓老乡服务站", layer="worker_center",
                hours="Mo-Sa 09:00-18:00", services=("job_matching",), origins=("520322", "520321"),
                items=("就业推荐",), source="test"),
        Station(id="xss-1", lon=121.2290, lat=28.1395, name=XSS_NAME, layer="rest_station", hours="24/7",
                address=XSS_TEMPLATE, source="test"),
        Station(id="xss-2", lon=121.2280, lat=28.1380, name=XSS_TEMPLATE, layer="rights_post", source="test"),
    ]
    return out


def make_app(data_dir: str, tiles: str = "none", **config):
    """The app on an empty embedded store filled with `known_stations`."""
    app = create_app({"DATA_DIR": data_dir, "SEED": False, "TESTING": True, "TILES": tiles, **config})
    store = app.extensions["yizhan.store"]
    store.import_rows(known_stations(store.layers))
    return app
