"""Sample parks (places where a QR code is posted): approximate WGS-84 positions, illustrative details."""
from __future__ import annotations

from typing import Any, NamedTuple

KINDS = ("logistics_park", "construction_site", "service_area", "industrial_park")


class Park(NamedTuple):
    """One park: URL-safe slug, names, kind, address, 6-digit adcode, WGS-84 lon/lat in degrees."""

    slug: str
    name: str
    name_en: str
    kind: str
    address: str
    adcode: str
    lon: float
    lat: float


PARKS = [
    Park("guiyang-shuanglong", "双龙航空港物流园区", "Shuanglong Airport Logistics Park", "logistics_park",
         "贵阳市南明区龙洞堡机场路", "520102", 106.7985, 26.5472),
    Park("guiyang-shawen", "贵阳国家高新区沙文科技园", "Guiyang Hi-tech Zone Shawen Park", "industrial_park",
         "贵阳市白云区沙文镇高新大道", "520113", 106.662, 26.706),
    Park("guiyang-east-station-site", "贵阳东站片区安置房项目工地", "Guiyang East Station resettlement housing site",
         "construction_site", "贵阳市乌当区新添大道北段", "520112", 106.772, 26.628),
    Park("longli-service-area", "沪昆高速龙里服务区", "Longli Service Area, G60 Shanghai-Kunming Expressway",
         "service_area", "黔南布依族苗族自治州龙里县沪昆高速", "522730", 106.962, 26.441),
    Park("yuhuan-economic-zone", "玉环经济开发区", "Yuhuan Economic Development Zone", "industrial_park",
         "台州市玉环市经济开发区", "331021", 121.262, 28.118),
    Park("yuhuan-damaiyu-port", "大麦屿港区物流园", "Damaiyu Port Logistics Park", "logistics_park",
         "台州市玉环市大麦屿街道", "331021", 121.283, 28.072),
    Park("yiwu-land-port", "义乌国际陆港物流园", "Yiwu International Land Port Logistics Park", "logistics_park",
         "金华市义乌市稠江街道", "330782", 120.098, 29.335),
    Park("yiwu-service-area", "沪昆高速义乌服务区", "Yiwu Service Area, G60 Shanghai-Kunming Expressway",
         "service_area", "金华市义乌市沪昆高速", "330782", 120.021, 29.272),
    Park("dongguan-songshanhu", "松山湖高新技术产业开发区", "Songshan Lake Hi-tech Industrial Park",
         "industrial_park", "东莞市松山湖大道", "441900", 113.884, 22.918),
    Park("shenzhen-pinghu", "平湖物流园", "Pinghu Logistics Park", "logistics_park",
         "深圳市龙岗区平湖街道", "440307", 114.122, 22.690),
    Park("suzhou-new-district", "苏州高新区浒墅关经济开发区", "Suzhou New District Xushuguan Development Zone",
         "industrial_park", "苏州市虎丘区浒墅关镇", "320505", 120.476, 31.381),
    Park("quanzhou-jinjiang", "晋江经济开发区", "Jinjiang Economic Development Zone", "industrial_park",
         "泉州市晋江市经济开发区", "350582", 118.600, 24.800),
]


def park_features() -> list[dict[str, Any]]:
    """Every park as a GeoJSON Feature (WGS-84), id = slug, sorted by slug."""
    out = []
    for park in sorted(PARKS):
        props = {"slug": park.slug, "name": park.name, "name_en": park.name_en, "kind": park.kind,
                 "address": park.address, "adcode": park.adcode}
        out.append({"type": "Feature", "id": park.slug,
                    "geometry": {"type": "Point", "coordinates": [round(park.lon, 6), round(park.lat, 6)]},
                    "properties": props})
    return out
