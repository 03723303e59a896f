"""The /planner page: translated in both languages, a language switch, heat.js from the app, no CDN."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from web import i18n

WEB = Path(i18n.__file__).parent
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("planner_page")), "TESTING": True, "TILES": "none"})
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _visible(html: str) -> str:
    """The page without scripts, data: links and the language switch (which names the other language)."""
    html = re.sub(r"<script.*?</script>", "", html, flags=re.DOTALL)
    html = re.sub(r'href="data:[^"]*"', "", html)
    return re.sub(r'<a class="lang"[^>]*>.*?</a>', "", html, flags=re.DOTALL)


def test_english_page_has_no_chinese_labels(client):
    res = client.get("/planner?lang=en")
    html = res.data.decode()
    assert res.status_code == 200 and '<html lang="en">' in html and res.headers["Content-Language"] == "en"
    for key in ("planner.title", "planner.radius", "planner.objective.coverage", "planner.submit",
                "planner.coverage.title", "planner.sites.title", "planner.download.title", "planner.map_note"):
        assert i18n.translate("en", key) in html.replace("&#39;", "'"), key
    assert not HAN.findall(_visible(html)), HAN.findall(_visible(html))[:20]
    assert '"Uncovered demand (heat)"' in html and "未覆盖" not in html  # the map's layer control too


def test_chinese_page_by_default_with_a_switch_link(client):
    html = client.get("/planner").data.decode()
    assert '<html lang="zh-CN">' in html and i18n.translate("zh", "planner.title") in html
    assert re.search(r'<a class="lang" href="/planner\?lang=en"', html)
    assert "Station planner" not in html
    en = client.get("/planner?lang=en").data.decode()
    assert re.search(r'<a class="lang" href="/planner\?lang=zh"', en)
    assert 'action="/planner?lang=en"' in en  # the form keeps the reader's language


def test_english_error_page_is_translated(client):
    res = client.post("/planner?lang=en", data={"radius_m": "0"}, content_type="multipart/form-data")
    html = res.data.decode()
    assert res.status_code == 400 and "Cannot compute" in html and '<html lang="en">' in html


def test_heat_js_comes_from_the_app_and_no_foreign_host(client):
    html = client.get("/planner").data.decode()
    refs = re.findall(r'<script src="([^"]+)"', html)
    heat = [r for r in refs if "/heat.js" in r]
    assert heat and heat[0].startswith("/static/heat.js")
    assert refs.index(heat[0]) > refs.index(next(r for r in refs if r.split("?")[0].endswith("leaflet.js")))
    assert "L.yizhanHeat(" in html and "leaflet-heat" not in html and "HeatMap" not in html
    hosts = {urlsplit(u).netloc for u in re.findall(r'(?:src|href)="([^"]+)"', html)} - {""}
    assert hosts == set(), hosts
    body = client.get(heat[0])
    assert body.status_code == 200 and "javascript" in body.mimetype
    js = body.get_data(as_text=True)
    assert "L.YizhanHeat = L.Layer.extend" in js and not re.search(r"https?://", js)
    assert not re.search(r"=>|\blet\b|\bconst\b|`", js)  # plain ES5 for old in-app browsers


def test_uncovered_demand_goes_to_the_heat_layer(app):
    from web.planner.page import planner_map
    from web.planner.plans import coverage_result, parse_setting

    with app.test_request_context("/planner"):
        coverage = coverage_result(parse_setting({"demand": "parks"}))
        parts = planner_map(coverage, None, 1000.0)
    uncovered = coverage["summary"]["uncovered_points"]
    assert uncovered > 0
    heat = re.search(r"L\.yizhanHeat\((\[\[.*?\]\])", str(parts.scripts), flags=re.DOTALL)
    assert heat and heat.group(1).count("],") + 1 == uncovered
    assert '"radiusMeters": 1000.0' in str(parts.scripts)


def test_planner_messages_exist_in_both_catalogs():
    zh, en = i18n.catalog("zh"), i18n.catalog("en")
    assert set(zh) == set(en)
    pattern = r"""(?:_|gettext|translate\(lang,)\(?\s*f?["']([a-z0-9_]+\.[a-z0-9_.{}]+)["']"""
    used: set[str] = set()
    for path in (WEB / "templates" / "planner.html", WEB / "planner" / "page.py"):
        used |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    expanded = set()
    for key in used:
        if "{name}" in key:
            expanded |= {key.replace("{name}", n) for n in ("coverage", "sites")}
        elif "{key}" in key:
            expanded |= {key.replace("{key}", k) for k in ("stations", "uncovered", "covered", "sites")}
        else:
            expanded.add(key)
    assert {"planner.title", "planner.group.sites", "planner.download.coverage"} <= expanded
    assert expanded <= set(zh), expanded - set(zh)
    for key in (k for k in zh if k.startswith("planner.")):
        assert zh[key] != en[key] or key == "planner.api", key
        assert set(re.findall(r"{(\w+)}", zh[key])) == set(re.findall(r"{(\w+)}", en[key])), key


def test_modules_stay_small():
    for name in ("planner/api.py", "planner/page.py", "planner/cli.py"):
        assert len((WEB / name).read_text(encoding="utf-8").splitlines()) <= 320, name


@pytest.mark.parametrize(("lang", "words"), [("zh", "已到时间上限（10 秒）"), ("en", "Stopped at the time limit (10 s)")])
def test_page_says_in_words_when_the_time_limit_stopped_the_search(app, client, lang, words):
    from web.pages import routes as pages

    sites = client.post("/api/v1/plan/sites", json={"demand": "parks", "p": 2}).get_json()
    assert sites["summary"]["time_limited"] is False
    with app.test_request_context(f"/planner?lang={lang}"):
        calm = pages.render("planner.html", sites=sites, coverage=None, parts=None, downloads=[], error=None)[0]
        sites["summary"].update(time_limited=True, time_limit_s=10.0)
        cut = pages.render("planner.html", sites=sites, coverage=None, parts=None, downloads=[], error=None)[0]
    assert words in cut and words not in calm
