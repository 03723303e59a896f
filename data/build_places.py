"""Build the shipped gazetteer files in data/gazetteer/ from Vonng/adcode (CC BY 4.0, 2016).

Reads `../shared/data/vonng_towns_cn_gcj02.csv.gz` and
`../shared/data/vonng_admin_finest_cn_gcj02_simplified.geojson.gz` (GCJ-02), converts every
coordinate to WGS-84 once, and writes:

- `towns.npz`: every town (乡/镇/街道) as columns: 12-digit code, name, centre (WGS-84, int32 in
  1e-5 degrees, a sentinel when the source has none); the provinces, cities and counties above
  them (code, name, pinyin, initials); and the towns' name index as sorted stable 64-bit hashes:
  exact forms (full name, the name without 镇/乡/街道/社区服务中心..., 沙南社区服务中心 also as
  沙南街道), full pinyin of the short name (pypinyin, tones dropped), and the near-miss keys (each
  name of 3+ characters and each form with one character left out), each with its town number;
- `chars.tsv.gz`: the pinyin of every common character (one reading, no tones), to put
  homophones first among near-misses (南名区 -> 南明区 before 南开区);
- `fences.npz`: the 2,867 finest boundaries as int32 coordinates in 1e-5 degrees (WGS-84) with
  ragged offsets (shapely.to_ragged_array), their 6-digit adcodes and names;
- `outline.npz`: the outline of mainland China (the union of those boundaries, closed over the
  ~200 m gaps of the simplification, lakes filled, widened by ~3 km over sea and land borders but
  reaching at most ~1 km into Hong Kong and Taiwan (~200 m into Macao), simplified to ~500 m), same encoding.

Run from the repository root: `python -m data.build_places [SHARED_DATA_DIR]`.
"""
from __future__ import annotations

import csv
import gzip
import json
import sys
from pathlib import Path

import numpy as np
import shapely
from pypinyin import Style, lazy_pinyin

from geo.crs import convert_many
from layers.places.index import ALIAS, FULL, SHORT
from layers.places.names import deletions, short_name, stable_hash

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "gazetteer"
SHARED = REPO.parent / "shared" / "data"
TOWNS_SRC = "vonng_towns_cn_gcj02.csv.gz"
FENCES_SRC = "vonng_admin_finest_cn_gcj02_simplified.geojson.gz"
LEVELS = {"province": "p", "city": "c", "county": "k", "town": "t"}
SCALE = 1e5  # int32 units per degree
NO_CENTRE = np.iinfo(np.int32).min
NOT_MAINLAND = ("71", "81", "82")  # Taiwan, Hong Kong, Macao: GCJ-02 does not apply there
COAST_BAND_DEG = 0.03  # ~3 km
# how far the band may reach into Taiwan, Hong Kong, Macao (degrees): Macao is only ~3 km wide;
# Hong Kong's data border runs ~300 m north of the Shenzhen River in places (a sample station)
OTHERS_MARGIN_DEG = {"71": 0.01, "81": 0.01, "82": 0.002}
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def pinyin_of(name: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Chinese name, lower case, tones dropped: 贵阳 -> (guiyang, gy)."""
    syllables = [s for s in lazy_pinyin(name, style=Style.NORMAL, errors="ignore") if s.isascii() and s.isalpha()]
    return "".join(syllables).lower(), "".join(s[0] for s in syllables).lower()


def read_areas(src: Path) -> list[dict[str, str]]:
    """The source rows above the country level, placeholders (市辖区...) left out, in code order."""
    with gzip.open(src, "rt", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["level"] in LEVELS and r["name"] not in _PLACEHOLDERS]
    return sorted(rows, key=lambda r: r["code"])


def _keys(pairs: list[tuple[str, int]]) -> tuple[np.ndarray, np.ndarray]:
    hashes = np.array([stable_hash(form) for form, _ in pairs], dtype=np.int64)
    values = np.array([value for _, value in pairs], dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    return hashes[order], values[order]


def build_towns(src: Path) -> dict[str, np.ndarray]:
    """The arrays of towns.npz (see the module text)."""
    rows = read_areas(src)
    has = [i for i, r in enumerate(rows) if r["lon_gcj02"] and r["lat_gcj02"]]
    lons, lats = convert_many([float(rows[i]["lon_gcj02"]) for i in has],
                              [float(rows[i]["lat_gcj02"]) for i in has], "gcj02", "wgs84")
    xy = np.full((len(rows), 2), NO_CENTRE, dtype=np.int32)
    xy[has] = np.round(np.column_stack([lons, lats]) * SCALE).astype(np.int32)
    towns = [i for i, r in enumerate(rows) if r["level"] == "town"]
    above = [i for i, r in enumerate(rows) if r["level"] != "town"]
    exact: list[tuple[str, int]] = []
    sounds: list[tuple[str, int]] = []
    fuzzy: list[tuple[str, int]] = []
    for number, i in enumerate(towns):
        name = rows[i]["name"]
        short = short_name(name)
        exact.append((name, number * 4 + FULL))
        if short:
            exact.append((short, number * 4 + SHORT))
            if name.endswith(("社区服务中心", "办事处")):
                exact.append((short + "街道", number * 4 + ALIAS))
        sounds.append((pinyin_of(short or name)[0], number))
        if len(name) >= 3:
            fuzzy += [(form, number) for form in (name, *deletions(name))]
    out = {"codes": np.array([int(rows[i]["code"]) for i in towns], dtype=np.int64),
           "names": np.array([rows[i]["name"] for i in towns]), "xy": xy[towns],
           "area_codes": np.array([int(rows[i]["code"]) for i in above], dtype=np.int64),
           "area_names": np.array([rows[i]["name"] for i in above])}
    pinyin = [pinyin_of(short_name(rows[i]["name"]) or rows[i]["name"]) for i in above]
    out["area_pinyin"] = np.array([full for full, _ in pinyin])
    out["area_initials"] = np.array([initials for _, initials in pinyin])
    for key, pairs in (("exact", exact), ("pinyin", [p for p in sounds if p[0]]), ("fuzzy", fuzzy)):
        out[f"{key}_hashes"], out[f"{key}_values"] = _keys(pairs)
    return out


def _encode(geoms: np.ndarray) -> dict[str, np.ndarray]:
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    assert kind == shapely.GeometryType.MULTIPOLYGON
    out = {"coords": np.round(coords * SCALE).astype(np.int32)}
    for n, off in enumerate(offsets):
        out[f"offsets{n}"] = off.astype(np.int32)
    return out


def _multi(geoms: np.ndarray) -> np.ndarray:
    return np.array([g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object)


def _to_wgs84(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(convert_many(xy[:, 0], xy[:, 1], "gcj02", "wgs84")))


def build_fences(src: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(fences arrays, outline arrays) for the two .npz files."""
    with gzip.open(src, "rt", encoding="utf-8") as handle:
        features = json.load(handle)["features"]
    geoms = np.array([_to_wgs84(shapely.geometry.shape(f["geometry"])) for f in features], dtype=object)
    geoms = shapely.make_valid(geoms)
    geoms = np.array([shapely.MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
                      if g.geom_type == "GeometryCollection" else g for g in geoms], dtype=object)
    fences = _encode(_multi(geoms))
    fences["adcode"] = np.array([f["properties"]["adcode"] for f in features])
    fences["name"] = np.array([f["properties"]["name"] or "" for f in features])
    codes = np.array([f["properties"]["adcode"][:2] for f in features])
    land = shapely.union_all(shapely.buffer(shapely.simplify(geoms[~np.isin(codes, NOT_MAINLAND)], 0.002), 0.004))
    # exterior rings only: a lake no county covers (洪泽湖) is still inside China
    land = shapely.union_all([shapely.Polygon(p.exterior) for p in shapely.get_parts(land) if p.area > 1e-6])
    # a band of ~3 km off the coast and the land borders (harbours, bridges, sample points in the sea),
    # but never more than ~1 km into Hong Kong or Taiwan, ~200 m into Macao
    others = shapely.union_all([shapely.buffer(shapely.union_all(geoms[codes == code]), -margin)
                                for code, margin in OTHERS_MARGIN_DEG.items()])
    land = shapely.simplify(shapely.difference(shapely.buffer(land, COAST_BAND_DEG), others), 0.004)
    parts = [p for p in shapely.get_parts(land) if p.geom_type == "Polygon"]
    outline = _encode(_multi(np.array([shapely.MultiPolygon(parts)], dtype=object)))
    return fences, outline


def write_chars(path: Path) -> None:
    by_sound: dict[str, list[str]] = {}
    for point in range(0x4E00, 0x9FA6):
        char = chr(point)
        sound = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
        if sound and sound[0].isascii() and sound[0].isalpha():
            by_sound.setdefault(sound[0].lower(), []).append(char)
    text = "".join(f"{sound}\t{''.join(chars)}\n" for sound, chars in sorted(by_sound.items()))
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.encode("utf-8"))


def main(shared: Path = SHARED) -> None:
    OUT.mkdir(exist_ok=True)
    np.savez_compressed(OUT / "towns.npz", **build_towns(shared / TOWNS_SRC))
    write_chars(OUT / "chars.tsv.gz")
    fences, outline = build_fences(shared / FENCES_SRC)
    np.savez_compressed(OUT / "fences.npz", **fences)
    np.savez_compressed(OUT / "outline.npz", **outline)
    for name in ("towns.npz", "chars.tsv.gz", "fences.npz", "outline.npz"):
        print(f"{name}: {(OUT / name).stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED)
