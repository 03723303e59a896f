"""Illustrative words for the sample data: roads, phones, opening hours, English place names."""
from __future__ import annotations

import numpy as np

# Road-name stems common in Chinese towns, with their pinyin for English names.
ROADS = {
    "人民": "Renmin", "解放": "Jiefang", "中山": "Zhongshan", "建设": "Jianshe", "新华": "Xinhua",
    "文化": "Wenhua", "和平": "Heping", "胜利": "Shengli", "延安": "Yan'an", "迎宾": "Yingbin",
    "环城": "Huancheng", "滨江": "Binjiang", "青年": "Qingnian", "工业": "Gongye", "学府": "Xuefu",
    "花园": "Huayuan", "振兴": "Zhenxing", "朝阳": "Chaoyang", "光明": "Guangming", "东风": "Dongfeng",
    "红旗": "Hongqi", "民主": "Minzhu", "友谊": "Youyi", "长江": "Changjiang", "黄河": "Huanghe",
    "府前": "Fuqian", "新村": "Xincun", "站前": "Zhanqian", "体育": "Tiyu", "财富": "Caifu",
    "幸福": "Xingfu", "兴业": "Xingye", "科技": "Keji", "创业": "Chuangye", "商贸": "Shangmao",
    "东湖": "Donghu", "西湖": "Xihu", "金山": "Jinshan", "城南": "Chengnan", "城北": "Chengbei",
}
ROAD_SUFFIXES = {"路": "Rd", "大道": "Ave", "街": "St", "东路": "Rd E", "西路": "Rd W",
                 "南路": "Rd S", "北路": "Rd N", "中路": "Rd C"}

# English names of the places whose stations carry `name_en`.
PLACE_EN = {
    "520102": "Nanming District", "520103": "Yunyan District", "520111": "Huaxi District",
    "520112": "Wudang District", "520113": "Baiyun District", "520115": "Guanshanhu District",
    "520181": "Qingzhen", "520322": "Tongzi County", "522622": "Huangping County",
    "520302": "Honghuagang District", "520303": "Huichuan District", "522701": "Duyun",
    "522601": "Kaili", "520402": "Xixiu District", "520502": "Qixingguan District",
    "331021": "Yuhuan", "330782": "Yiwu", "331081": "Wenling", "330382": "Yueqing",
    "441900": "Dongguan", "442000": "Zhongshan", "440306": "Bao'an District",
    "440307": "Longgang District", "350582": "Jinjiang", "350581": "Shishi",
    "320583": "Kunshan", "320581": "Changshu", "320506": "Wuzhong District",
    "310115": "Pudong New Area", "310112": "Minhang District",
}

# Area codes by prefecture (4 digits) or whole province (2 digits; Guizhou is all 0851 since 2015).
AREA_CODES = {
    "52": "0851", "46": "0898", "11": "010", "12": "022", "31": "021", "50": "023",
    "3301": "0571", "3302": "0574", "3303": "0577", "3304": "0573", "3305": "0572",
    "3306": "0575", "3307": "0579", "3308": "0570", "3309": "0580", "3310": "0576", "3311": "0578",
    "4401": "020", "4403": "0755", "4404": "0756", "4406": "0757", "4407": "0750",
    "4413": "0752", "4419": "0769", "4420": "0760",
    "3501": "0591", "3502": "0592", "3503": "0594", "3505": "0595", "3506": "0596",
    "3201": "025", "3202": "0510", "3204": "0519", "3205": "0512", "3206": "0513",
    "5101": "028", "4201": "027", "6101": "029", "2101": "024", "4101": "0371", "3401": "0551",
    "4301": "0731", "3601": "0791", "3701": "0531", "3702": "0532", "5301": "0871",
    "4501": "0771", "2301": "0451", "2201": "0431", "1301": "0311", "1401": "0351",
    "1501": "0471", "6201": "0931", "6301": "0971", "6401": "0951", "6501": "0991", "5401": "0891",
}
# Public hotlines used where no local number is given.
HOTLINES = {"rest_station": "12351", "rights_post": "12348", "service_window": "12345",
            "worker_center": "12333", "gig_market": "12333", "training_center": "12333"}

HOURS = {
    "rest_station": [("Mo-Su 07:00-21:00", 44), ("24/7", 15), ("Mo-Sa 08:00-20:00; Su off", 15),
                     ("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", 10),
                     ("Mo-Fr 08:30-12:00,14:00-17:30", 8), ("22:00-06:00", 3), (None, 5)],
    "rights_post": [("Mo-Fr 08:30-12:00,14:00-17:30", 55), ("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", 25),
                    ("Mo-Sa 08:00-20:00; Su off", 8), ("Mo-Su 07:00-21:00", 5), ("24/7", 2), (None, 5)],
    "service_window": [("Mo-Fr 08:30-12:00,14:00-17:30", 60),
                       ("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", 35), (None, 5)],
    "worker_center": [("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", 40), ("Mo-Sa 08:00-20:00; Su off", 30),
                      ("Mo-Fr 08:30-12:00,14:00-17:30", 20), ("Mo-Su 07:00-21:00", 5), (None, 5)],
    # gig markets open at dawn, when employers come to pick up a day's workers
    "gig_market": [("Mo-Su 05:30-12:00", 55), ("Mo-Sa 05:00-11:30", 20), ("Mo-Su 06:00-18:00", 20), (None, 5)],
    "training_center": [("Mo-Fr 08:30-12:00,14:00-17:30", 60),
                        ("Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off", 35), (None, 5)],
}


def pick(rng: np.random.Generator, weighted: list[tuple[object, int]]) -> object:
    """One value of a (value, weight) list, drawn with `rng`."""
    weights = np.array([w for _, w in weighted], dtype=float)
    return weighted[int(rng.choice(len(weighted), p=weights / weights.sum()))][0]


def road(rng: np.random.Generator) -> tuple[str, str]:
    """A random road name in Chinese and in English: ('人民南路', 'Renmin Rd S')."""
    stem = list(ROADS)[int(rng.integers(len(ROADS)))]
    suffix = list(ROAD_SUFFIXES)[int(rng.integers(len(ROAD_SUFFIXES)))]
    return stem + suffix, f"{ROADS[stem]} {ROAD_SUFFIXES[suffix]}"


def address(rng: np.random.Generator, city: str, county: str, street: str | None = None) -> str:
    """An illustrative address: city, county, road and house number."""
    street = street or road(rng)[0]
    prefix = city if city and city != county else ""
    return f"{prefix}{county}{street}{int(rng.integers(1, 400))}号"


def phone(rng: np.random.Generator, adcode: str, layer: str) -> str:
    """A local 8-digit number with the area's code, or the layer's public hotline if none is known."""
    area = AREA_CODES.get(adcode[:4]) or AREA_CODES.get(adcode[:2])
    if area is None:
        return HOTLINES[layer]
    first = 8 if adcode.startswith("52") else int(rng.integers(2, 9))
    return f"{area}-{first}{int(rng.integers(0, 10**7)):07d}"


def hours(rng: np.random.Generator, layer: str) -> str | None:
    """Opening hours (OSM syntax) drawn from the layer's mix; None means unknown."""
    return pick(rng, HOURS[layer])  # type: ignore[return-value]


def services(rng: np.random.Generator, vocabulary: list[str], required: tuple[str, ...] = ()) -> list[str]:
    """3-8 service words: the `required` ones plus random others, in vocabulary order."""
    size = int(rng.integers(max(3, len(required)), min(8, len(vocabulary)) + 1))
    rest = [w for w in vocabulary if w not in required]
    chosen = set(required) | set(rng.choice(rest, size=size - len(required), replace=False).tolist())
    return [w for w in vocabulary if w in chosen]


def status(rng: np.random.Generator) -> str:
    """Mostly open, about 2% temporarily closed."""
    return "temporarily_closed" if rng.random() < 0.02 else "open"


def access(rng: np.random.Generator, layer: str) -> str:
    """Mostly open; some rest stations open by QR scan, some offices by staff."""
    roll = rng.random()
    if layer == "rest_station":
        return "open" if roll < 0.9 else ("scan_qr" if roll < 0.96 else "staff")
    return "open" if roll < 0.95 else "staff"
