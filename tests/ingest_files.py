"""Station files for the import tests, written for real: CSV (UTF-8, BOM, GBK), GeoJSON, GeoPackage, Shapefile."""
from __future__ import annotations

import csv
import io
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import shapely

from geo.crs import from_wgs84

# Known WGS-84 positions (lon, lat) across China, with a station for each.
KNOWN = [
    ("imp-gy-1", "南明区测试驿站", "rest_station", 106.709974, 26.575633, "toilet;hot_water", "24/7"),
    ("imp-yh-1", "玉环市测试办事窗口", "service_window", 121.231, 28.135, "household_registration", "Mo-Fr 09:00-17:00"),
    ("imp-bj-1", "东城区测试维权岗", "rights_post", 116.412814, 39.9275, "legal_aid", "Mo-Fr 08:30-12:00,14:00-17:30"),
    ("imp-dg-1", "东莞测试老乡站", "worker_center", 113.7518, 23.0205, "", None),
    ("imp-wl-1", "乌鲁木齐测试驿站", "rest_station", 87.6168, 43.8256, "drinking_water", "Mo-Su 07:00-21:00; PH off"),
]
FIELDS = ("id", "name", "layer", "lon", "lat", "services", "hours")


def rows_in(crs: str) -> list[dict]:
    """The KNOWN stations with their points converted forward from WGS-84 to `crs`."""
    out = []
    for sid, name, layer, lon, lat, services, hours in KNOWN:
        x, y = from_wgs84(lon, lat, crs)
        out.append({"id": sid, "name": name, "layer": layer, "lon": x, "lat": y, "services": services,
                    "hours": hours})
    return out


def csv_bytes(rows: list[dict], encoding: str = "utf-8", header: tuple[str, ...] = FIELDS,
              keys: tuple[str, ...] = FIELDS) -> bytes:
    """CSV of `rows` (columns `keys` under the names `header`) in `encoding` (utf-8-sig for a BOM)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(k) is None else (repr(row[k]) if isinstance(row[k], float) else row[k])
                         for k in keys])
    return buffer.getvalue().encode(encoding)


def geojson_bytes(rows: list[dict]) -> bytes:
    features = [{"type": "Feature", "id": r["id"], "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {"name": r["name"], "layer": r["layer"],
                                "services": [w for w in r["services"].split(";") if w], "hours": r["hours"]}}
                for r in rows]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode("utf-8")


def _frame(rows: list[dict], crs: str | None) -> gpd.GeoDataFrame:
    warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)  # on purpose: GCJ-02 has no code
    points = shapely.points([r["lon"] for r in rows], [r["lat"] for r in rows])
    data = {k: [r[k] for r in rows] for k in ("id", "name", "layer", "services", "hours")}
    return gpd.GeoDataFrame(data, geometry=points, crs=crs)


def write_file(rows: list[dict], fmt: str, folder: Path, crs_label: str | None = "EPSG:4326") -> Path:
    """`rows` written as `fmt` (csv, geojson, gpkg, shp) in `folder`; GIS formats labelled `crs_label`."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        path = folder / "stations.csv"
        path.write_bytes(csv_bytes(rows))
    elif fmt == "geojson":
        path = folder / "stations.geojson"
        path.write_bytes(geojson_bytes(rows))
    elif fmt == "gpkg":
        path = folder / "stations.gpkg"
        _frame(rows, crs_label).to_file(path, driver="GPKG", layer="stations", engine="pyogrio")
    else:
        path = folder / "stations.shp"
        _frame(rows, crs_label).to_file(path, driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
    return path


def zipped(shp: Path) -> bytes:
    """A Shapefile and its sidecar files as one zip (what a GIS user uploads)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            archive.write(part, part.name)
    return buffer.getvalue()
