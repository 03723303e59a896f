"""Sample gig-labour markets (destination cities, Guizhou's prefecture seats) and training centres
(Guizhou's counties, 雁归兴贵: courses such as 牛肉粉, 苗绣, 蜡染 as items)."""
from __future__ import annotations

import numpy as np

from data.places import Place
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

GIG_SEED, TRAINING_SEED = 2022, 2125

# Destination counties with gig markets and how many each gets (Beijing has at least 12 markets).
GIG_HUBS = {
    "110105": 3, "110106": 2, "110108": 1, "110112": 2, "110114": 2, "110115": 2,
    "310112": 2, "310115": 2, "310117": 1, "440106": 1, "440111": 2, "440113": 1,
    "440306": 2, "440307": 2, "441900": 3, "442000": 2, "440606": 1, "330110": 1,
    "330782": 2, "331021": 1, "320583": 2, "320506": 1, "350582": 2, "350206": 1,
    "510107": 1, "500112": 1, "420111": 1,
}
# Guizhou's prefecture seats (Guiyang: two districts).
GUIZHOU_SEATS = ("520102", "520113", "520201", "520302", "520402", "520502", "520602", "522301",
                 "522601", "522701")
GIGS = [
    Template("{c}零工市场", "{D} Gig Market", "{c}人力资源和社会保障局", ("day_labour", "job_board"), 4),
    Template("{c}{r}零工驿站", "{D} {R} Gig Station", "{c}公共就业和人才服务中心", ("job_board", "rest_area"), 4),
    Template("{c}劳务市场", "{D} Labour Market", "{c}人力资源和社会保障局", ("day_labour", "employer_matching"), 2),
    Template("{c}{r}社区零工服务站", "{D} {R} Community Gig Point", "{c}总工会", ("job_board", "drinking_water"), 2),
]
GIG_ITEMS = ["装修小工", "搬运装卸", "保洁", "建筑工地", "家政钟点工", "餐饮帮厨", "园林绿化", "快递分拣"]
TRAININGS = [
    Template("{c}职业技能培训中心", "{D} Vocational Skills Training Centre", "{c}人力资源和社会保障局",
             ("skills_course", "training_subsidy", "certificate"), 3),
    Template("{c}返乡创业服务中心", "{D} Return-home Entrepreneurship Centre", "{c}人力资源和社会保障局",
             ("startup_advice", "microloan_help"), 2),
    Template("{c}{r}帮扶车间", "{D} {R} Assistance Workshop", "{c}乡村振兴局", ("workshop_jobs", "skills_course"), 2),
]
COURSES = ["牛肉粉", "苗绣", "蜡染", "刺梨加工", "茶叶加工", "家政服务", "育婴员", "养老护理", "电工", "焊工",
           "挖掘机", "中式烹调", "电商直播", "汽车维修"]
RENHUAI, CHANGGANG = "520382", (106.42854, 27.6682)  # 仁怀市长岗镇, the town's centre in the shipped towns


def _gig_in(ctx: Context, rng: np.random.Generator, place: Place, n: int, counters: dict) -> list[Record]:
    """n gig markets within a few km of a county's centre, with the kinds of work on offer as items."""
    used: set[str] = set()
    out = []
    for i in range(n):
        template, zh, en, operator, street = draw_name(
            rng, GIGS, used, forced=GIGS[0] if i == 0 else None, c=place.name, D=PLACE_EN.get(place.adcode))
        lon, lat = scatter(rng, place, 300, 5000)
        items = sorted(rng.choice(GIG_ITEMS, size=int(rng.integers(2, 5)), replace=False).tolist(),
                       key=GIG_ITEMS.index)
        p = props(ctx, rng, "gig_market", place, name=zh, name_en=en, operator=operator, street=street,
                  required=template.required, items=items)
        out.append(Record(station_id("gm", place.adcode, counters), lon, lat, p))
    return out


def gig_markets(ctx: Context) -> list[Record]:
    """Gig markets in the big destination counties and in each of Guizhou's prefecture seats."""
    rng = np.random.default_rng(GIG_SEED)
    counters: dict = {}
    out: list[Record] = []
    for code, n in {**GIG_HUBS, **dict.fromkeys(GUIZHOU_SEATS, 1)}.items():
        out += _gig_in(ctx, rng, ctx.gaz.county(code), n, counters)
    return out


def _courses(rng: np.random.Generator) -> list[str]:
    return sorted(rng.choice(COURSES, size=int(rng.integers(3, 6)), replace=False).tolist(), key=COURSES.index)


def _training_in(ctx: Context, rng: np.random.Generator, place: Place, n: int, counters: dict) -> list[Record]:
    """n training centres in a Guizhou county; the first is its skills training centre."""
    used: set[str] = set()
    out = []
    for i in range(n):
        template, zh, en, operator, street = draw_name(
            rng, TRAININGS, used, forced=TRAININGS[0] if i == 0 else None, c=place.name,
            D=PLACE_EN.get(place.adcode))
        lon, lat = scatter(rng, place, 300, 1500) if i == 0 else scatter(rng, place, 500, 8000)
        p = props(ctx, rng, "training_center", place, name=zh, name_en=en, operator=operator, street=street,
                  required=template.required, items=_courses(rng))
        out.append(Record(station_id("tc", place.adcode, counters), lon, lat, p))
    return out


def _changgang(ctx: Context, rng: np.random.Generator, counters: dict) -> Record:
    """仁怀市长岗镇返乡创业服务中心: the seed's returning worker came home to 长岗镇."""
    p = props(ctx, rng, "training_center", ctx.gaz.county(RENHUAI), name="仁怀市长岗镇返乡创业服务中心",
              name_en="Changgang Town Return-home Entrepreneurship Centre, Renhuai", operator="仁怀市长岗镇人民政府",
              street="长岗大道", hours="Mo-Fr 08:30-12:00,14:00-17:30", status="open", access="open",
              services=["skills_course", "training_subsidy", "startup_advice", "microloan_help", "workshop_jobs"],
              items=["酱香酒酿造", "牛肉粉", "电商直播", "养殖技术"])
    return Record(station_id("tc", RENHUAI, counters), CHANGGANG[0], CHANGGANG[1], p)


def training_centres(ctx: Context) -> list[Record]:
    """One to three training centres in each of Guizhou's county-level areas, 长岗镇's among them."""
    rng = np.random.default_rng(TRAINING_SEED)
    counters: dict = {}
    out: list[Record] = []
    for place in ctx.gaz.in_province("52"):
        roll = rng.random()
        out += _training_in(ctx, rng, place, 3 if roll < 0.15 else (2 if roll < 0.5 else 1), counters)
        if place.adcode == RENHUAI:
            out.append(_changgang(ctx, rng, counters))
    return out
