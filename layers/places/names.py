"""Name forms a person types: without spaces, without the administrative suffix, near-miss keys."""
from __future__ import annotations

import hashlib
import re

# Longest first, so 自治县 is stripped before 县 and 社区服务中心 before 中心.
SUFFIXES = ("社区服务中心", "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "民族乡", "民族镇",
            "自治区", "自治州", "自治县", "自治旗", "街道办事处", "街道", "办事处", "地区", "林区", "新区", "矿区",
            "苏木", "盟", "省", "市", "县", "区", "旗", "镇", "乡")
_SPACE_RE = re.compile(r"[\s\u3000]+")
_PUNCT = "，,。.;；、!！?？:：\"'“”‘’()（）[]【】<>《》"


def short_name(name: str) -> str | None:
    """The name without its administrative suffix (沙南街道 -> 沙南, 玉环市 -> 玉环), or None when
    nothing would be left of at least two characters."""
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def tokens(query: str) -> list[str]:
    """The query split at spaces and punctuation (full-width too), empty pieces dropped."""
    text = "".join(" " if ch in _PUNCT else ch for ch in (query or ""))
    return [t for t in _SPACE_RE.split(text) if t]


def compact(query: str) -> str:
    """The query without spaces and punctuation (' 玉 环 ' -> '玉环')."""
    return "".join(tokens(query))


def is_pinyin(text: str) -> bool:
    """True for plain Latin letters (guiyang, GY), which are read as pinyin."""
    return bool(text) and text.isascii() and text.isalpha()


def deletions(name: str) -> list[str]:
    """Every form of `name` with one character left out (the near-miss keys)."""
    return [name[:i] + name[i + 1:] for i in range(len(name))]


def one_edit_apart(a: str, b: str) -> bool:
    """True when a and b differ by exactly one changed, missing or extra character."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def stable_hash(text: str) -> int:
    """A 64-bit signed hash of `text` that is the same in every process (the shipped near-miss keys)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)
