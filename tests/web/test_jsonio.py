"""The orjson provider writes what Flask's own provider writes."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from web.jsonio import FastJSONProvider


@dataclass
class Point:
    lon: float
    lat: float


VALUES = [
    {"b": 1, "a": [1.5, None, True, "驿站"], "c": {"z": "<script>", "y": -0.0}},
    {"when": datetime(2026, 11, 28, 8, 30, tzinfo=UTC), "day": date(2026, 11, 28)},
    {"n": Decimal("1.25"), "id": uuid.UUID(int=7), "p": Point(106.71, 26.58), "m": Markup("<b>x</b>")},
    {1: "int key", 2: "another"},
    [2**70, "big integer"],
    "tab\t\"quote\" \u2028 line separator",
]


@pytest.mark.parametrize("value", VALUES)
def test_same_json_as_flask(value):
    app = Flask(__name__)
    fast, plain = FastJSONProvider(app), DefaultJSONProvider(app)
    plain.ensure_ascii = False
    assert json.loads(fast.dumps(value)) == json.loads(plain.dumps(value))
    with app.app_context():
        a, b = fast.response(value), plain.response(value)
    assert json.loads(a.get_data()) == json.loads(b.get_data())
    assert a.mimetype == b.mimetype == "application/json"
    assert a.get_data().endswith(b"\n")


def test_keys_sorted_and_chinese_unescaped():
    app = Flask(__name__)
    text = FastJSONProvider(app).dumps({"b": "贵阳", "a": 1})
    assert text == '{"a":1,"b":"贵阳"}'
