"""Sample cross-province service windows and origin counties' worker centres in destination cities."""
from __future__ import annotations

import numpy as np

from data import texts
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

WINDOW_SEED, CENTRE_SEED = 331021, 520322

# Destination counties where many migrants work (windows and worker centres cluster here).
HUBS = {
    "33": ["331021", "330782", "331081", "330382", "330381", "330282", "330681", "330783", "330784", "330110"],
    "35": ["350582", "350581", "350583", "350206", "350211", "350102"],
    "44": ["441900", "442000", "440306", "440307", "440111", "440113", "440606", "440605", "441302"],
    "32": ["320583", "320581", "320582", "320281", "320506", "320505", "320211", "320412", "320115"],
    "31": ["310115", "310112", "310117", "310114", "310120"],
}
# Which home provinces (Guizhou, Sichuan, Henan, Anhui) send workers to each destination province.
ORIGIN_MIX = {
    "33": {"52": 5, "51": 2, "41": 1, "34": 2}, "44": {"52": 3, "51": 4, "41": 2, "34": 1},
    "35": {"52": 3, "51": 3, "41": 1, "34": 1}, "32": {"52": 1, "51": 1, "41": 3, "34": 5},
    "31": {"52": 1, "51": 2, "41": 3, "34": 5},
}
CENTRE_PROVINCES = {"33": 4, "44": 4, "35": 2, "32": 2}
# Items a window offers (Chinese), each with the service word it belongs to.
ITEMS = {
    "新生儿入户": "newborn_registration", "新生儿参保": "medical_insurance", "户口迁移": "household_registration",
    "户籍证明": "certificates", "居民身份证换领": "id_card", "临时居民身份证": "id_card",
    "城乡居民养老保险参保登记": "pension", "养老保险待遇资格认证": "pension",
    "医保异地就医备案": "medical_insurance", "城乡居民医保缴费": "medical_insurance",
    "社会保障卡申领": "social_insurance", "社保关系转移接续": "social_insurance",
    "无犯罪记录证明": "certificates", "婚姻登记预约": "marriage_registration",
    "居住证办理": "residence_permit", "随迁子女入学材料审核": "children_schooling",
    "就业登记": "employment_services", "失业登记": "employment_services",
}
WINDOWS = [
    Template("{c}政务服务中心跨省通办窗口", "{D} Government Service Centre Cross-province Window",
             "{c}政务服务管理办公室", (), 3),
    Template("{c}{r}便民服务中心跨省通办专窗", "{D} {R} Service Centre Cross-province Window",
             "{c}政务服务管理办公室", (), 3),
    Template("{c}公安局{r}派出所户籍跨省通办窗口", "{D} {R} Police Station Household Registration Window",
             "{c}公安局", ("household_registration", "id_card"), 2),
    Template("{c}社保医保跨省通办窗口", "{D} Social and Medical Insurance Cross-province Window",
             "{c}人力资源和社会保障局", ("social_insurance", "medical_insurance"), 2),
]
CENTRE_ITEMS = ["务工信息登记", "岗位推荐", "欠薪调解", "社保转移接续", "家乡证明代办", "留守儿童视频连线",
                "老乡互助", "技能培训报名"]


def _window_items(rng: np.random.Generator, required: tuple[str, ...]) -> tuple[list[str], tuple[str, ...]]:
    """3-6 items and the service words they need (at least the template's, 3-8 in all)."""
    names = list(ITEMS)
    items = sorted(rng.choice(names, size=int(rng.integers(3, 7)), replace=False).tolist(), key=names.index)
    words = list(dict.fromkeys(list(required) + [ITEMS[i] for i in items]))
    for word in ("employment_services", "certificates", "residence_permit"):
        if len(words) < 3 and word not in words:
            words.append(word)
    return items, tuple(words[:8])


def _origins(ctx: Context, rng: np.random.Generator, dest: Place, n: int) -> list[str]:
    """n home counties (not urban districts) from the provinces that send workers to `dest`."""
    mix = ORIGIN_MIX[dest.province_code]
    province = texts.pick(rng, [(p, w) for p, w in mix.items()])
    pool = [p.adcode for p in ctx.gaz.in_province(str(province)) if not p.is_district]
    return sorted(rng.choice(pool, size=n, replace=False).tolist())


def _yuhuan_window(ctx: Context, rng: np.random.Generator, counters: dict) -> Record:
    """玉环市's joint window with 桐梓县: newborns registered and insured without going home."""
    yuhuan = ctx.gaz.county("331021")
    lon, lat = scatter(rng, yuhuan, 300, 1200)
    p = props(ctx, rng, "service_window", yuhuan, name="玉环市政务服务中心桐梓县跨省联办窗口",
              name_en="Yuhuan Government Service Centre, Tongzi County Joint Window",
              operator="玉环市政务服务管理办公室", street="广陵路", origins=["520322"],
              items=["新生儿入户", "新生儿参保"], status="open", hours="Mo-Fr 08:30-12:00,14:00-17:30",
              services=["household_registration", "newborn_registration", "social_insurance",
                        "medical_insurance"])
    return Record(station_id("sw", "331021", counters), lon, lat, p)


def _windows_in(ctx: Context, rng: np.random.Generator, dest: Place, n: int, counters: dict,
                used: set[str]) -> list[Record]:
    """n windows in one destination county, each serving 1-4 home counties."""
    out = []
    for _ in range(n):
        origins = _origins(ctx, rng, dest, int(rng.integers(1, 5)))
        template, zh, en, operator, street = draw_name(rng, WINDOWS, used, c=dest.name, D=PLACE_EN.get(dest.adcode))
        if len(origins) == 1 and template is WINDOWS[0]:
            home = ctx.gaz.county(origins[0]).name
            zh = zh.replace("跨省通办窗口", f"{home}跨省联办窗口")
            en = None
        items, words = _window_items(rng, template.required)
        lon, lat = scatter(rng, dest, 300, 4000)
        p = props(ctx, rng, "service_window", dest, name=zh, name_en=en, operator=operator, street=street,
                  origins=origins, items=items, services=list(words))
        out.append(Record(station_id("sw", dest.adcode, counters), lon, lat, p))
    return out


def service_windows(ctx: Context) -> list[Record]:
    """The 玉环 window first, then 2-4 windows per hub and one in about a fifth of other counties."""
    rng = np.random.default_rng(WINDOW_SEED)
    counters: dict = {}
    out = [_yuhuan_window(ctx, rng, counters)]
    hubs = {code for codes in HUBS.values() for code in codes}
    for dest in ctx.gaz.in_province(*sorted(HUBS)):
        used = {r.props["name"] for r in out if r.props["adcode"] == dest.adcode}
        if dest.adcode in hubs:
            n = int(rng.integers(2, 5))
        else:
            n = 1 if rng.random() < 0.22 else 0
        out += _windows_in(ctx, rng, dest, n, counters, used)
    return out


def _centre(ctx: Context, rng: np.random.Generator, home: Place, dest: Place, party: bool) -> Record:
    """One home county's centre in one destination county: wc-<dest>-<home>."""
    kind = "党群服务站" if party else "农民工服务站"
    zh = f"{home.name}驻{ctx.gaz.short(dest.name)}{kind}"
    en = None
    if home.adcode in PLACE_EN and dest.adcode in PLACE_EN:
        what = "Community Centre" if party else "Migrant Workers' Centre"
        en = f"{PLACE_EN[home.adcode]} {what} in {PLACE_EN[dest.adcode]}"
    operator = f"中共{home.name}委组织部" if party else f"{home.name}人力资源和社会保障局"
    required = ("party_services", "home_county_services") if party else ("job_matching", "home_county_services")
    items = sorted(rng.choice(CENTRE_ITEMS, size=int(rng.integers(2, 5)), replace=False).tolist(),
                   key=CENTRE_ITEMS.index)
    lon, lat = scatter(rng, dest, 500, 6000)
    p = props(ctx, rng, "worker_center", dest, name=zh, name_en=en, operator=operator,
              street=texts.road(rng)[0], required=required, origins=[home.adcode], items=items)
    return Record(f"wc-{dest.adcode}-{home.adcode}", lon, lat, p)


def worker_centres(ctx: Context) -> list[Record]:
    """Each Guizhou county's centres in 1-3 hub counties of Zhejiang, Guangdong, Fujian and Jiangsu."""
    rng = np.random.default_rng(CENTRE_SEED)
    out = []
    pairs = {("520322", "331021")}
    for home in ctx.gaz.in_province("52"):
        if home.adcode[:4] == "5201" and home.is_district:
            continue  # Guiyang's urban districts send few workers away
        for _ in range(int(rng.integers(1, 4))):
            province = str(texts.pick(rng, list(CENTRE_PROVINCES.items())))
            pairs.add((home.adcode, HUBS[province][int(rng.integers(len(HUBS[province])))]))
    for home_code, dest_code in sorted(pairs):
        party = rng.random() < 0.3 and (home_code, dest_code) != ("520322", "331021")
        out.append(_centre(ctx, rng, ctx.gaz.county(home_code), ctx.gaz.county(dest_code), party))
    return out
