"""What a station file becomes before it is checked: the raw table of text columns, header aliases, the file-level error."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from layers.errors import YizhanError

# Header variants (compared after lower-casing and dropping spaces and anything in brackets).
ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lon", "lng", "long", "longitude", "x", "经度", "东经"),
    "lat": ("lat", "latitude", "y", "纬度", "北纬"),
    "location": ("location", "coordinates", "lnglat", "lonlat", "坐标", "经纬度"),
    "id": ("id", "station_id", "编号", "站点编号", "站点id"),
    "name": ("name", "名称", "站点名称", "站名"),
    "name_en": ("name_en", "英文名", "英文名称", "english_name"),
    "layer": ("layer", "图层", "类型", "类别"),
    "address": ("address", "地址", "详细地址"),
    "adcode": ("adcode", "行政区划代码", "区划代码", "区县代码"),
    "phone": ("phone", "tel", "telephone", "电话", "联系电话"),
    "hours": ("hours", "opening_hours", "opening_ho", "开放时间", "营业时间", "服务时间"),
    "services": ("services", "服务", "服务项目", "设施"),
    "access": ("access", "进入方式"),
    "status": ("status", "状态"),
    "origins": ("origins", "服务县", "服务地区代码"),
    "items": ("items", "事项", "办理事项", "可办事项"),
    "operator": ("operator", "运营单位", "管理单位", "主管单位"),
    "source": ("source", "来源", "数据来源"),
    "verified_at": ("verified_at", "verified_a", "核实日期", "核验日期"),  # verified_a: Shapefile's 10 characters
}


_LOOKUP = {alias: name for name, aliases in ALIASES.items() for alias in aliases}


_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


class InvalidImportFile(YizhanError):
    """The file as a whole cannot be read (format, encoding, columns, CRS): nothing is imported."""

    status = 400
    code = "invalid_import_file"


@dataclass
class RawTable:
    """Rows of a station file before validation; x/y are in the file's (or declared) CRS."""

    format: str
    columns: dict[str, np.ndarray]
    x: np.ndarray
    y: np.ndarray
    positions: np.ndarray
    position_kind: str = "feature"  # "line" for CSV
    file_crs: str | None = None
    encoding: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    geometry_errors: dict[int, str] = field(default_factory=dict)  # row -> why its geometry is unusable

    def __len__(self) -> int:
        return len(self.positions)


def canonical_column(header: str) -> str | None:
    """The station field a header names (`经度` -> lon, `lng` -> lon, ...), or None."""
    key = _BRACKETS.sub("", str(header).replace("\ufeff", "")).strip().lower().replace(" ", "")
    return _LOOKUP.get(key)


def map_columns(headers: list[str]) -> tuple[dict[str, str], list[str]]:
    """{field: header} for known headers, and the ignored headers; two headers for one field fail."""
    chosen: dict[str, str] = {}
    ignored = []
    for header in headers:
        name = canonical_column(header)
        if name is None:
            ignored.append(str(header))
        elif name in chosen:
            raise InvalidImportFile(f"columns {chosen[name]!r} and {header!r} both give {name}", "body")
        else:
            chosen[name] = header
    return chosen, ignored


def xy_from_columns(cells: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """x/y from lon/lat columns, or from one `location` column holding "lon,lat"."""
    location = cells.pop("location", None)
    if "lon" in cells and "lat" in cells:
        return cells.pop("lon"), cells.pop("lat")
    if location is None:
        raise InvalidImportFile("the file needs lon and lat columns (lon/lng/经度 and lat/纬度) "
                                "or one location column holding 'lon,lat'", "body")
    cells.pop("lon", None)
    cells.pop("lat", None)
    x = np.full(n, None, dtype=object)
    y = np.full(n, None, dtype=object)
    for i, value in enumerate(location):
        parts = [p for p in re.split(r"[,，\s]+", str(value or "").strip()) if p]
        if len(parts) == 2:
            x[i], y[i] = parts
        elif parts:
            x[i] = value  # not a pair: reported as invalid coordinates
    return x, y
