"""Pages for people (Chinese first). The full map pages come with the pages issue."""
from __future__ import annotations

from flask import Blueprint, render_template_string

bp = Blueprint("pages", __name__)

_HOME = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>驿站 Yizhan</title></head>
<body style="font-size:20px;font-family:sans-serif;max-width:40em;margin:1em auto;padding:0 1em">
<h1>驿站：找附近的帮助</h1>
<p>户外劳动者服务站点、农民工维权岗、跨省通办窗口、农民工服务站。</p>
<p>接口示例：<a href="/api/v1/nearest?lat=26.58&amp;lon=106.71&amp;k=5">贵阳市中心最近的五处</a></p>
<p>维权热线 12333 · 法律援助 12348 · 政务服务 12345</p>
</body></html>"""


@bp.get("/")
def home():
    return render_template_string(_HOME)
