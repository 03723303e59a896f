"""Sample rights posts (Guizhou's 461 and others) and rest stations (Guiyang and urban districts)."""
from __future__ import annotations

import numpy as np

from data.places import MUNICIPALITIES, Place
from data.records import (
    Context,
    Record,
    Template,
    draw_name,
    props,
    scatter,
    station_id,
)
from data.texts import PLACE_EN

GUIZHOU_POSTS = 461  # published count of Guizhou's rights-protection posts
RIGHTS_SEED, REST_SEED = 461, 851

RIGHTS = [
    Template("{c}法律援助中心", "{D} Legal Aid Centre", "{c}司法局", ("legal_aid", "legal_consultation"), 4),
    Template("{c}农民工维权岗", "{D} Migrant Workers' Rights Post", "{c}人力资源和社会保障局",
             ("wage_claim", "labour_inspection"), 4),
    Template("{c}总工会职工法律援助站", "{D} Trade Union Legal Aid Station", "{c}总工会",
             ("legal_consultation", "wage_claim"), 2),
    Template("{c}劳动人事争议仲裁院农民工维权岗", "{D} Labour Arbitration Rights Post",
             "{c}人力资源和社会保障局", ("arbitration_help", "mediation"), 2),
    Template("{c}公共法律服务中心", "{D} Public Legal Service Centre", "{c}司法局",
             ("legal_consultation", "legal_aid"), 2),
    Template("{c}劳动保障监察大队维权岗", "{D} Labour Inspection Rights Post", "{c}人力资源和社会保障局",
             ("labour_inspection", "wage_claim"), 2),
    Template("{c}人民法院农民工讨薪绿色通道", "{D} People's Court Wage-Claim Fast Track", "{c}人民法院",
             ("litigation_support", "wage_claim"), 1),
    Template("{c}{r}社区法律援助工作站", "{D} {R} Community Legal Aid Station", "{c}司法局", ("legal_aid",), 3),
    Template("{c}{r}项目工地农民工维权岗", "{D} {R} Construction Site Rights Post", "{c}住房和城乡建设局",
             ("wage_claim",), 3),
    Template("{c}工业园区农民工维权岗", "{D} Industrial Park Rights Post", "{c}人力资源和社会保障局",
             ("wage_claim", "contract_review"), 2),
]

REST = [
    Template("{d}环卫工人爱心驿站", "{D} Sanitation Workers' Rest Stop", "{d}城市管理局",
             ("drinking_water", "hot_water", "seats"), 3),
    Template("{d}{r}环卫工人爱心驿站", "{D} {R} Sanitation Workers' Rest Stop", "{d}城市管理局",
             ("drinking_water", "hot_water"), 3),
    Template("中国邮政{ds}{r}支局户外劳动者服务站", "China Post {R} Branch Outdoor Workers' Station, {D}",
             "中国邮政集团有限公司{city}分公司", ("drinking_water", "phone_charging"), 4),
    Template("中国石化{ds}{r}加油站司机之家", "Sinopec {R} Filling Station Drivers' Home, {D}",
             "中国石化销售股份有限公司{prov}石油分公司", ("toilet", "hot_water", "parking"), 3),
    Template("中国石油{ds}{r}加油站司机之家", "PetroChina {R} Filling Station Drivers' Home, {D}",
             "中国石油天然气股份有限公司{prov}销售分公司", ("toilet", "hot_water", "parking"), 2),
    Template("{d}{r}社区工会驿站", "{D} {R} Community Trade Union Rest Stop", "{d}总工会",
             ("drinking_water", "seats"), 4),
    Template("中国建设银行{ds}{r}支行劳动者港湾", "CCB {R} Sub-branch Workers' Harbour, {D}",
             "中国建设银行{city}分行", ("drinking_water", "air_conditioning", "toilet"), 2),
    Template("中国工商银行{ds}{r}支行爱心驿站", "ICBC {R} Sub-branch Rest Stop, {D}", "中国工商银行{city}分行",
             ("drinking_water", "seats"), 2),
    Template("{d}新就业形态劳动者暖心驿站", "{D} Gig Workers' Rest Stop", "{d}总工会",
             ("phone_charging", "ebike_charging"), 2),
    Template("{ds}{r}快递外卖小哥暖心驿站", "{R} Couriers' Rest Stop, {D}", "{d}总工会",
             ("ebike_charging", "phone_charging"), 2),
    Template("{d}{r}户外劳动者服务站点", "{D} {R} Outdoor Workers' Station", "{city}总工会",
             ("drinking_water", "microwave"), 4),
    Template("{d}总工会职工驿站", "{D} Trade Union Workers' Rest Stop", "{d}总工会", ("drinking_water", "reading"), 2),
]
# Guiyang's urban districts and how many rest stations each gets (several dozen in all).
GUIYANG_REST = {"520102": 12, "520103": 12, "520115": 8, "520111": 6, "520112": 5, "520113": 5}
SHUANGLONG = (106.7985, 26.5472)  # 双龙航空港物流园区, WGS-84, near Longdongbao airport
BIG_CITIES = ("2102", "3302", "3502", "3702", "4403")  # sub-provincial cities besides capitals


def _rights_in(ctx: Context, rng: np.random.Generator, place: Place, n: int,
               counters: dict) -> list[Record]:
    """n rights posts in one county; the first is always its legal aid centre."""
    used: set[str] = set()
    out = []
    for i in range(n):
        template, zh, en, operator, street = draw_name(
            rng, RIGHTS, used, forced=RIGHTS[0] if i == 0 else None, c=place.name, D=PLACE_EN.get(place.adcode))
        lon, lat = scatter(rng, place, 200, 1500) if i == 0 else scatter(rng, place, 300, 5000)
        p = props(ctx, rng, "rights_post", place, name=zh, name_en=en, operator=operator,
                  street=street, required=template.required)
        out.append(Record(station_id("rp", place.adcode, counters), lon, lat, p))
    return out


def rights_posts(ctx: Context) -> list[Record]:
    """Exactly 461 posts over Guizhou's county-level areas, plus posts in about a third of the rest."""
    rng = np.random.default_rng(RIGHTS_SEED)
    counters: dict = {}
    guizhou = ctx.gaz.in_province("52")
    weights = np.array([2.0 if p.is_district else 1.0 for p in guizhou])
    extra = rng.multinomial(GUIZHOU_POSTS - 4 * len(guizhou), weights / weights.sum())
    out: list[Record] = []
    for place, more in zip(guizhou, extra):
        out += _rights_in(ctx, rng, place, 4 + int(more), counters)
    for place in ctx.gaz.counties.values():
        if place.province_code == "52":
            continue
        roll = rng.random()
        n = 2 if roll < 0.04 else (1 if roll < 0.3 else 0)
        out += _rights_in(ctx, rng, place, n, counters)
    return out


def _words(ctx: Context, place: Place) -> dict[str, str | None]:
    """The words a rest-station template needs for one district."""
    city = ctx.gaz.city_name(place.adcode) or place.name
    return {"d": place.name, "ds": ctx.gaz.short(place.name), "city": city,
            "prov": ctx.gaz.province_short(place.adcode), "D": PLACE_EN.get(place.adcode)}


def _rest_in(ctx: Context, rng: np.random.Generator, place: Place, n: int, counters: dict,
             used: set[str] | None = None) -> list[Record]:
    """n rest stations a few hundred metres to a few km from a district's centre."""
    used = set() if used is None else used
    out = []
    for _ in range(n):
        template, zh, en, operator, street = draw_name(rng, REST, used, **_words(ctx, place))
        lon, lat = scatter(rng, place, 250, 4000)
        p = props(ctx, rng, "rest_station", place, name=zh, name_en=en, operator=operator,
                  street=street, required=template.required)
        out.append(Record(station_id("rs", place.adcode, counters), lon, lat, p))
    return out


def _guiyang_named(ctx: Context, rng: np.random.Generator, counters: dict) -> list[Record]:
    """The Shuanglong logistics-park station and 南明区环卫工人爱心驿站."""
    nanming = ctx.gaz.county("520102")
    p = props(ctx, rng, "rest_station", nanming, name="双龙航空港物流园区货车司机之家",
              name_en="Shuanglong Airport Logistics Park Truck Drivers' Home", operator="贵阳市总工会",
              street="机场路", hours="24/7", status="open", access="open",
              services=["drinking_water", "hot_water", "microwave", "phone_charging", "toilet", "seats",
                        "first_aid", "parking"])
    first = Record(station_id("rs", "520102", counters), SHUANGLONG[0] + 0.0012, SHUANGLONG[1] + 0.0009, p)
    lon, lat = scatter(rng, nanming, 300, 900)
    p = props(ctx, rng, "rest_station", nanming, name="南明区环卫工人爱心驿站",
              name_en="Nanming District Sanitation Workers' Rest Stop", operator="南明区城市管理局",
              street="遵义路", required=REST[0].required, status="open", hours="Mo-Su 07:00-21:00")
    return [first, Record(station_id("rs", "520102", counters), round(lon, 6), round(lat, 6), p)]


def rest_stations(ctx: Context) -> list[Record]:
    """Several dozen stations in Guiyang and 2-8 in every other urban district of the country."""
    rng = np.random.default_rng(REST_SEED)
    counters: dict = {}
    out = _guiyang_named(ctx, rng, counters)
    for code, n in GUIYANG_REST.items():
        used = {r.props["name"] for r in out if r.props["adcode"] == code}
        out += _rest_in(ctx, rng, ctx.gaz.county(code), n - len(used), counters, used)
    for place in ctx.gaz.counties.values():
        if place.adcode in GUIYANG_REST or not place.is_district:
            continue
        big = place.adcode[:2] in MUNICIPALITIES or place.adcode[2:4] == "01" or place.adcode[:4] in BIG_CITIES
        out += _rest_in(ctx, rng, place, int(rng.integers(3, 9) if big else rng.integers(2, 7)), counters)
    return out
