"""Parks: the store contract on SQLite and PostGIS, the API, the landing page, QR codes (decoded), posters."""
from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta

import pytest

from app import create_app
from geo.hours import SHANGHAI
from layers.parks import (
    LOCKED_WINDOW,
    InvalidPark,
    Park,
    ParkNotFound,
    ReportNotFound,
    park_from_feature,
    read_geojson_parks,
    travel_minutes,
)
from layers.present import station_answer
from layers.store import NearestQuery
from tests.pgfixtures import unavailable
from tests.web.conftest import EDITOR_TOKEN, READER_TOKEN, TOKENS
from web.parks.pages import FETCH_PER_LAYER, PER_LAYER

SLUG = "guiyang-shuanglong"
AT = "2026-11-30T10:00"  # a Monday morning, Asia/Shanghai
PUBLIC = "https://yizhan.example.cn"


def make_parks_app(data_dir, **config):
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "TOKENS": TOKENS, **config})
    return app


def close(app):
    app.extensions["yizhan.parks"].close()
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="module")
def papp(tmp_path_factory):
    app = make_parks_app(tmp_path_factory.mktemp("parks"), PUBLIC_URL=PUBLIC)
    yield app
    close(app)


@pytest.fixture(scope="module")
def pc(papp):
    return papp.test_client()


def auth(token=EDITOR_TOKEN):
    return {"Authorization": f"Bearer {token}"}


# ---- the store contract, on both backends ------------------------------------------------
@pytest.fixture(params=["sqlite", "postgis"])
def park_store(request, tmp_path):
    if request.param == "sqlite":
        from layers.embedded.parks import SqliteParkStore

        store = SqliteParkStore(tmp_path)
    else:
        from layers.postgis.parks import PostgisParkStore

        store = PostgisParkStore(request.getfixturevalue("postgis_url"))
    yield store
    store.close()


def test_store_seeds_once_and_reads_writes_parks(park_store):
    parks = list(read_geojson_parks())
    assert len(parks) == 12
    assert park_store.seed(parks) == 12
    assert park_store.seed(parks[:1]) == 0  # only into an empty store
    assert [p.slug for p in park_store.list_parks()] == sorted(p.slug for p in parks)
    got = park_store.get_park(SLUG)
    assert got == next(p for p in parks if p.slug == SLUG)
    moved = Park(slug=SLUG, name="改名", kind="logistics_park", lon=106.8, lat=26.55, adcode="520102")
    assert park_store.put_park(moved) is False
    assert park_store.get_park(SLUG) == moved
    new = Park(slug="new-site", name="新工地", kind="construction_site", lon=120.0, lat=30.0)
    assert park_store.put_park(new) is True
    park_store.delete_park("new-site")
    with pytest.raises(ParkNotFound):
        park_store.get_park("new-site")
    with pytest.raises(ParkNotFound):
        park_store.delete_park("new-site")
    assert park_store.health()["ok"] and park_store.health()["parks"] == 12


def test_store_counts_scans_per_day(park_store):
    d1, d2 = date(2026, 11, 29), date(2026, 11, 30)
    for day, slug in [(d1, "a"), (d1, "a"), (d2, "a"), (d2, "b")]:
        park_store.count_scan(slug, day)
    assert park_store.scan_days("a") == [(d1, 2), (d2, 1)]
    assert park_store.scan_days("a", since=d2) == [(d2, 1)]
    assert park_store.scan_totals() == {"a": 3, "b": 1}
    assert park_store.scan_totals(d2) == {"a": 1, "b": 1}
    assert park_store.scan_days("none") == []


def test_store_reports_flags_and_resolves(park_store):
    now = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    old = park_store.add_report("s-1", "locked", "", now - LOCKED_WINDOW - timedelta(minutes=1))
    first = park_store.add_report("s-1", "locked", "门锁着 <b>", now - timedelta(hours=1))
    park_store.add_report("s-2", "locked", "", now)
    park_store.add_report("s-2", "other", "", now)
    assert first.note == "门锁着 <b>" and first.status == "open" and first.created_at == now - timedelta(hours=1)
    assert park_store.flagged(now) == set()  # s-1: one inside the window; s-2: one locked
    park_store.add_report("s-1", "locked", "", now)
    assert park_store.flagged(now) == {"s-1"}
    assert park_store.locked_counts(now - LOCKED_WINDOW) == {"s-1": 2, "s-2": 1}
    listed = park_store.list_reports("open")
    assert len(listed) == 5 and listed[0].created_at >= listed[-1].created_at
    assert [r.id for r in park_store.list_reports("open", "s-2")] == sorted(
        (r.id for r in listed if r.station_id == "s-2"), reverse=True)
    done = park_store.resolve_report(first.id, now)
    assert done.status == "resolved" and done.resolved_at == now
    assert park_store.resolve_report(first.id, now + timedelta(hours=1)).resolved_at == now  # idempotent
    assert park_store.flagged(now) == set()
    assert old.id in [r.id for r in park_store.list_reports(None)]
    with pytest.raises(ReportNotFound):
        park_store.resolve_report(999999, now)


def test_postgis_schema_is_versioned_and_idempotent(postgis_url):
    import psycopg2

    from layers.postgis.parks import PostgisParkStore

    for _ in range(2):
        store = PostgisParkStore(postgis_url)
        assert store.list_parks() == []
        store.close()
    conn = psycopg2.connect(postgis_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM park_schema_migrations ORDER BY version")
        assert cur.fetchall() == [("0001",), ("0002",), ("0003",)]
    conn.close()


# ---- validation --------------------------------------------------------------------------
def feature(**props):
    base = {"name": "测试园区", "kind": "logistics_park", "adcode": "520102"}
    base.update(props)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.8, 26.5]}, "properties": base}


@pytest.mark.parametrize("slug, body, parameter", [
    ("Bad_Slug", feature(), "slug"), ("-x", feature(), "slug"), ("ok", feature(kind="mine"), "kind"),
    ("ok", feature(adcode="12345"), "adcode"), ("ok", feature(name=""), "name"),
    ("ok", {**feature(), "geometry": {"type": "Point", "coordinates": [200, 26]}}, "lon"),
    ("ok", {**feature(), "geometry": {"type": "Point", "coordinates": [106, "x"]}}, "lat"),
    ("ok", feature(slug="other"), "slug"), ("ok", [], "type"),
])
def test_invalid_parks_are_refused(slug, body, parameter):
    with pytest.raises(InvalidPark) as info:
        park_from_feature(body, slug)
    assert info.value.parameter == parameter


def test_travel_estimate_states_its_speeds():
    assert travel_minutes(4500) == (60, 9)  # 4.5 km/h walking, 30 km/h driving
    assert travel_minutes(10) == (1, 1)


# ---- API ---------------------------------------------------------------------------------
def test_api_lists_and_gets_parks(pc):
    body = pc.get("/api/v1/parks").get_json()
    assert body["type"] == "FeatureCollection" and body["numberReturned"] == 12
    one = pc.get(f"/api/v1/parks/{SLUG}")
    assert one.mimetype == "application/geo+json"
    data = one.get_json()
    assert data["id"] == SLUG and data["properties"]["kind"] == "logistics_park"
    assert data["geometry"]["coordinates"] == [106.7985, 26.5472]
    assert {"rel": "alternate", "type": "text/html", "href": f"{PUBLIC}/p/{SLUG}"} in data["links"]
    missing = pc.get("/api/v1/parks/no-such-park")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "unknown_park"


def test_api_writes_parks_with_an_editor_token(tmp_path):
    app = make_parks_app(tmp_path)
    c = app.test_client()
    try:
        body = feature(name="新港物流园")
        assert c.put("/api/v1/parks/xingang", json=body).status_code == 401
        assert c.put("/api/v1/parks/xingang", json=body, headers=auth(READER_TOKEN)).status_code == 403
        assert c.put("/api/v1/parks/xingang", json=body, headers=auth()).status_code == 201
        assert c.put("/api/v1/parks/xingang", json=feature(name="新港"), headers=auth()).status_code == 200
        assert c.get("/api/v1/parks/xingang").get_json()["properties"]["name"] == "新港"
        bad = c.put("/api/v1/parks/xingang", json=feature(kind="x"), headers=auth())
        assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "kind"
        assert c.put("/api/v1/parks/Bad_Slug", json=body, headers=auth()).get_json()["error"]["parameter"] == "slug"
        assert c.delete("/api/v1/parks/xingang", headers=auth()).status_code == 204
        assert c.delete("/api/v1/parks/xingang", headers=auth()).status_code == 404
        assert c.get("/p/xingang").status_code == 404
    finally:
        close(app)


# ---- the landing page ----------------------------------------------------------------------
def expected_ids(app, park, at):
    """Per layer: the store's own nearest within the layer's cap (same query), open-now first, then by distance."""
    store = app.extensions["yizhan.store"]
    moment = datetime.fromisoformat(at).replace(tzinfo=SHANGHAI)
    out = {}
    for lid in store.layers:
        hits = store.nearest(NearestQuery(lon=park.lon, lat=park.lat, k=FETCH_PER_LAYER, layers=(lid,), at=moment,
                                          radius_m=store.layers[lid].cap_m))
        answers = [station_answer(h.station, moment, h.distance_m) for h in hits]
        answers.sort(key=lambda f: (f["properties"]["open_now"] is not True, f["properties"]["distance_m"], f["id"]))
        out[lid] = [f["id"] for f in answers[:PER_LAYER]]
    return out


def page_ids(html):
    sections = re.findall(r'<section id="l-([a-z_]+)">(.*?)</section>', html, re.DOTALL)
    return {lid: re.findall(r'<li class="card[^"]*" id="s-([^"]+)"', body) for lid, body in sections}


@pytest.mark.parametrize("slug", [SLUG, "dongguan-songshanhu", "longli-service-area"])
def test_landing_lists_the_nearest_help_per_layer(papp, pc, slug):
    park = papp.extensions["yizhan.parks"].get_park(slug)
    html = pc.get(f"/p/{slug}?at={AT}").get_data(as_text=True)
    got = page_ids(html)
    assert got == expected_ids(papp, park, AT)
    assert all(len(ids) <= PER_LAYER for ids in got.values())
    assert park.name in html and "12333" in html and "12348" in html and "12345" in html
    assert "uri.amap.com" in html and "api.map.baidu.com" in html and "步行约" in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_section_with_nothing_inside_its_cap_is_one_line(papp, pc, lang):
    """Guiyang's park: the bundled windows and worker centres are 582-748 km away (Guangdong), beyond their
    100 km cap: each section is one line saying so, no card from another province."""
    park = papp.extensions["yizhan.parks"].get_park(SLUG)
    store = papp.extensions["yizhan.store"]
    html = pc.get(f"/p/{SLUG}?at={AT}&lang={lang}").get_data(as_text=True)
    sections = dict(re.findall(r'<section id="l-([a-z_]+)">(.*?)</section>', html, re.DOTALL))
    for lid in ("service_window", "worker_center"):
        assert store.layers[lid].cap_m == 100_000
        assert store.nearest(NearestQuery(lon=park.lon, lat=park.lat, k=1, layers=(lid,)))[0].distance_m > 500_000
        assert 'class="card' not in sections[lid]
        label = store.layers[lid].label(lang)
        line = f"100 公里内没有{label}。" if lang == "zh" else f"No {label} within 100 km."
        assert line in sections[lid] and sections[lid].count("<p") == 1
    for lid, ids in page_ids(html).items():
        far = [h.station.id for h in store.nearest(NearestQuery(lon=park.lon, lat=park.lat, k=50, layers=(lid,)))
               if h.distance_m > store.layers[lid].cap_m]
        assert not set(ids) & set(far), lid


def test_landing_names_the_county_and_needs_nothing_else(pc):
    response = pc.get(f"/p/{SLUG}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "public, max-age=60" and response.headers["ETag"]
    assert len(response.data) < 60_000
    html = gzip.decompress(response.data).decode("utf-8")
    assert "南明区" in html
    assert "<script" not in html and 'rel="stylesheet"' not in html and "leaflet" not in html.lower()
    assert not re.search(r'src="(?!data:)', html)  # no other file to fetch: readable offline once loaded
    again = pc.get(f"/p/{SLUG}", headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code in (200, 304)  # 304 unless the minute in the page changed


def test_landing_in_english_and_unknown_park(pc):
    html = pc.get(f"/p/{SLUG}?lang=en").get_data(as_text=True)
    assert "Shuanglong Airport Logistics Park" in html and '<html lang="en">' in html
    missing = pc.get("/p/no-such-park")
    assert missing.status_code == 404 and "没有找到这个园区" in missing.get_data(as_text=True)


BROWSER = "Mozilla/5.0 (Linux; Android 14; V2302A) AppleWebKit/537.36 (KHTML, like Gecko) MicroMessenger/8.0.47"
TOOLS = ["curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "", "Mozilla/5.0 (compatible; Googlebot/2.1)",
         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36"]


@pytest.fixture(params=["sqlite", "postgis"])
def two_workers(request, tmp_path):
    """Two apps on one database (two gunicorn workers), no public URL set."""
    config = {"DATABASE_URL": request.getfixturevalue("postgis_url")} if request.param == "postgis" else {}
    apps = [make_parks_app(tmp_path, **config), make_parks_app(tmp_path, SEED=False, **config)]
    yield apps
    for app in apps:
        close(app)


def qr_path(client, slug: str) -> str:
    """The path inside the park's QR code, decoded from the PNG by zbarimg."""
    tool = zbarimg()
    png = client.get(f"/p/{slug}/qr.png").data
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(png)
        f.flush()
        url = subprocess.run([tool, "--raw", "-q", f.name], capture_output=True, text=True, timeout=30,
                             check=True).stdout.strip()
    assert url == f"http://localhost/p/{slug}?s=qr"  # the loopback development default (no public URL)
    return url.removeprefix("http://localhost")


def test_scans_count_once_per_client_per_hour_only_from_the_qr(two_workers, tmp_path):
    a, b = (app.test_client() for app in two_workers)
    path = qr_path(a, "guiyang-shawen")

    def scan(client, ip="203.0.113.77", ua=BROWSER, url=path):
        response = client.get(url, environ_base={"REMOTE_ADDR": ip},
                              headers={"User-Agent": ua, "Cookie": "x=secret-cookie"})
        assert response.status_code == 200

    for client in (a, b, a, b):  # one phone, four loads through two workers: one scan
        scan(client)
    scan(b, ip="203.0.113.78")  # another phone
    scan(a, ua=BROWSER.replace("V2302A", "PJZ110"))  # another phone behind the same address
    for client in (a, b):
        scan(client, url="/p/guiyang-shawen")  # the page without the QR's marker: not a scan
        scan(client, ip="203.0.113.90", url="/p/guiyang-shawen?s=qr&reported=1")  # after a report
        for ua in TOOLS:
            scan(client, ip="198.51.100.9", ua=ua)
    a.get("/p/guiyang-shawen/qr.svg")  # not a landing
    today = datetime.now(SHANGHAI).date().isoformat()
    with two_workers[1].app_context():  # the other worker's counts, written (its thread would, within 5 s)
        from web.parks.common import scan_buffer

        scan_buffer().flush()
    stats = a.get("/api/v1/parks/guiyang-shawen/stats").get_json()
    assert stats == {"slug": "guiyang-shawen", "days": [{"date": today, "scans": 3}], "total": 3}
    assert a.get(f"/api/v1/parks/guiyang-shawen/stats?since={today}").get_json()["total"] == 3
    assert a.get("/api/v1/parks/guiyang-shawen/stats?since=tomorrow").status_code == 400
    with two_workers[0].app_context():
        from web.parks.common import scan_totals

        assert scan_totals() == {"guiyang-shawen": 3}
    if two_workers[0].extensions["yizhan.parks"].kind == "embedded":
        for app in two_workers:
            app.extensions["yizhan.parks"].close()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("parks.sqlite3*"))
        for secret in (b"203.0.113.77", b"MicroMessenger", b"secret-cookie"):
            assert secret not in raw


def test_a_scan_counts_again_after_its_hour(tmp_path):
    from layers.embedded.parks import SqliteParkStore
    from layers.scans import ScanBuffer

    store = SqliteParkStore(str(tmp_path))
    buffer = ScanBuffer(store, flush_s=3600, once_s=3600)
    try:
        day, t0 = date(2026, 12, 4), 1_796_000_000.0
        for at in (t0, t0 + 10, t0 + 3599):  # within the hour, flushed or not in between
            buffer.add("gate", day, "203.0.113.77 phone", at=at)
            buffer.flush()
        buffer.add("gate", day, "203.0.113.77 other phone", at=t0 + 20)
        buffer.flush()
        assert store.scan_totals() == {"gate": 2}
        for at in (t0 + 3600, t0 + 3700):  # the next hour: once more
            buffer.add("gate", day, "203.0.113.77 phone", at=at)
            buffer.flush()
        assert store.scan_totals() == {"gate": 3}
    finally:
        store.close()


# ---- QR codes and posters --------------------------------------------------------------------
def zbarimg():
    found = shutil.which("zbarimg")
    if not found:
        unavailable("zbarimg is not installed (apt-get install zbar-tools)")
    return found


def test_qr_png_decodes_to_the_public_url(pc, tmp_path):
    tool = zbarimg()
    response = pc.get(f"/p/{SLUG}/qr.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    path = tmp_path / "qr.png"
    path.write_bytes(response.data)
    out = subprocess.run([tool, "--raw", "-q", str(path)], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == f"{PUBLIC}/p/{SLUG}?s=qr"


@pytest.mark.parametrize("what", ["qr.png", "qr.svg", "poster"])
def test_without_public_url_nothing_prints_the_request_host(tmp_path, what):
    app = make_parks_app(tmp_path)
    c = app.test_client()
    try:
        for base, client_ip in (("http://evil.example", "203.0.113.5"), ("http://192.0.2.5:8080", "127.0.0.1"),
                                ("http://localhost:5000", "203.0.113.5")):
            response = c.get(f"/p/{SLUG}/{what}", base_url=base, environ_base={"REMOTE_ADDR": client_ip})
            html = response.get_data(as_text=True)
            assert response.status_code == 503 and response.mimetype == "text/html", (base, client_ip)
            assert "YIZHAN_PUBLIC_URL=https://" in html and "不能打印海报和二维码" in html
            assert "evil.example" not in html and "192.0.2.5" not in html
        en = c.get(f"/p/{SLUG}/{what}?lang=en", base_url="http://evil.example",
                   environ_base={"REMOTE_ADDR": "203.0.113.5"}).get_data(as_text=True)
        assert "set the environment variable YIZHAN_PUBLIC_URL" in en
        # local development: a loopback host asked from the machine itself
        local = c.get(f"/p/{SLUG}/{what}", base_url="http://127.0.0.1:5000")
        assert local.status_code == 200
        if what == "qr.png":
            path = tmp_path / "local.png"
            path.write_bytes(local.data)
            out = subprocess.run([zbarimg(), "--raw", "-q", str(path)], capture_output=True, text=True,
                                 timeout=30, check=True)
            assert out.stdout.strip() == f"http://127.0.0.1:5000/p/{SLUG}?s=qr"
    finally:
        close(app)


def test_cli_without_public_url_says_how_to_set_it(tmp_path, monkeypatch):
    monkeypatch.delenv("YIZHAN_PUBLIC_URL", raising=False)
    app = make_parks_app(tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["parks", "posters", "--out", str(tmp_path / "out")])
        assert result.exit_code == 2 and "YIZHAN_PUBLIC_URL=https://" in result.output
        assert "请设置环境变量 YIZHAN_PUBLIC_URL" in result.output and not (tmp_path / "out").exists()
    finally:
        close(app)


def test_qr_svg_and_error_correction(pc, papp):
    svg = pc.get(f"/p/{SLUG}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert "max-age" in svg.headers["Cache-Control"]
    with papp.test_request_context("/"):
        from web.parks.files import qr_code

        code = qr_code(SLUG)
    assert code.error in ("M", "Q", "H") and not code.is_micro
    assert pc.get("/p/no-such-park/qr.png").status_code == 404


def test_poster_is_a4_with_qr_hotlines_and_nearest(pc, papp):
    html = pc.get(f"/p/{SLUG}/poster").get_data(as_text=True)
    assert "@page { size: A4" in html and "扫码找附近驿站·维权·办事窗口" in html
    assert "双龙航空港物流园区" in html and "<svg" in html and f"{PUBLIC}/p/{SLUG}" in html
    assert all(n in html for n in ("12333", "12348", "12345"))
    store = papp.extensions["yizhan.store"]
    park = papp.extensions["yizhan.parks"].get_park(SLUG)
    for hit in store.nearest(NearestQuery(lon=park.lon, lat=park.lat, k=3)):
        assert hit.station.name in html


def test_cli_writes_every_poster_and_qr(papp, tmp_path):
    tool = zbarimg()
    result = papp.test_cli_runner().invoke(args=["parks", "posters", "--out", str(tmp_path / "out"),
                                                 "--public-url", "https://qr.example.cn/"])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 24 and f"{SLUG}-poster.html" in files and f"{SLUG}-qr.png" in files
    assert "https://qr.example.cn/p/" + SLUG in (tmp_path / "out" / f"{SLUG}-poster.html").read_text("utf-8")
    out = subprocess.run([tool, "--raw", "-q", str(tmp_path / "out" / f"{SLUG}-qr.png")], capture_output=True,
                         text=True, timeout=30, check=True)
    assert out.stdout.strip() == f"https://qr.example.cn/p/{SLUG}?s=qr"
    papp.config["PUBLIC_URL"] = PUBLIC

