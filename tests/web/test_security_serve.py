"""The production command (README): gunicorn with gunicorn.conf.py serves, and refuses a bad config."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.pgfixtures import free_port


def fetch(url: str) -> tuple[int, dict]:
    """GET url; (status, JSON body), also for 4xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())

REPO = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIZHAN_")}
    return {**env, "YIZHAN_DATA_DIR": str(tmp_path), "YIZHAN_WORKERS": "2", "YIZHAN_TILES": "none", **extra}


@pytest.fixture(autouse=True)
def _needs_gunicorn():
    pytest.importorskip("gunicorn", reason="pip install gunicorn (requirements.txt)")


@pytest.mark.parametrize("gunicorn_log", [None, "-"])
def test_gunicorn_serves_the_app(tmp_path, gunicorn_log):
    port = free_port()
    extra = {"YIZHAN_GUNICORN_ACCESSLOG": gunicorn_log} if gunicorn_log else {}
    proc = subprocess.Popen(COMMAND, cwd=REPO, env=_env(tmp_path, YIZHAN_BIND=f"127.0.0.1:{port}", **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            try:
                if fetch(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s"
            time.sleep(0.3)
        status, answer = fetch(f"{base}/api/v1/nearest?lat=31.23&lon=121.47&k=3")
        assert status == 200 and answer["numberReturned"] == 3
        status, bad = fetch(f"{base}/api/v1/nearest?lat=91&lon=0")
        assert status == 400 and bad["error"]["parameter"] == "lat"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=40)
    assert proc.returncode == 0, err[-2000:]
    assert "Booting worker" in err
    # the app's own access line always; gunicorn's (method, path, status, ms, bytes) only when asked for
    assert re.search(r"GET /api/v1/nearest 200 [0-9.]+ms \d+ client=[0-9a-f]{8}", out), out[-2000:]
    gunicorn_lines = re.findall(r"\] GET /api/v1/nearest 200 \d+ms \d+$", out, re.MULTILINE)
    assert len(gunicorn_lines) == (1 if gunicorn_log else 0), out[-2000:]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("YIZHAN_DATABASE_URL", "mysql://db/yizhan", "YIZHAN_DATABASE_URL must start with postgresql://"),
    ("YIZHAN_TILES", "bing", "YIZHAN_TILES must be one of"),
])
def test_gunicorn_exits_with_the_message_on_a_bad_config(tmp_path, name, value, message):
    proc = subprocess.run(COMMAND, cwd=REPO, env=_env(tmp_path, **{name: value}, YIZHAN_BIND=f"127.0.0.1:{free_port()}"),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Booting worker" not in proc.stderr  # refused before any worker started
