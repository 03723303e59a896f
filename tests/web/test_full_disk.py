"""A full disk under the embedded store (issue 15, item 15): /healthz says so, writes answer a plain 503.

The data directory is a real, tiny file system (a 4 MiB tmpfs, mounted for the test; that needs
root, as the test machine and CI have), filled up with a file until the kernel answers ENOSPC.
"""
from __future__ import annotations

import errno
import subprocess
from contextlib import suppress

import pytest

from app import create_app
from tests.pgfixtures import unavailable
from tests.web.conftest import EDITOR_TOKEN, TOKENS

HEADERS = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


def feature(i: int, name: str = "满盘驿站") -> dict:
    return {"type": "Feature", "id": f"full-{i}", "geometry": {"type": "Point", "coordinates": [106.7, 26.57]},
            "properties": {"name": name, "layer": "rest_station", "address": "某地" * 50}}


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        unavailable(f"cannot mount a small tmpfs for the full-disk test (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def fill(directory) -> None:
    """Write a file until the file system has no room left."""
    with open(directory / "filler", "wb") as out:
        block = b"\0" * 65536
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with suppress(OSError), open(directory / "filler", "ab") as out:  # the last partial block
        while True:
            out.write(b"\0" * 512)
            out.flush()


def test_full_disk_shows_in_healthz_and_writes_answer_plain_503(small_disk):
    app = create_app({"DATA_DIR": str(small_disk), "SEED": False, "TOKENS": TOKENS, "TESTING": True})
    client = app.test_client()
    try:
        assert client.put("/api/v1/stations/full-0", json=feature(0), headers=HEADERS).status_code == 201
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["store"]["writable"] is True
        fill(small_disk)
        health = client.get("/healthz")
        assert health.status_code == 503, health.get_json()
        body = health.get_json()
        assert body["status"] == "read_only"
        assert body["store"]["writable"] is False and body["store"]["state"] == "disk_full"
        # writes fail (at once, or when the WAL's spare room is used up) with a plain message
        refused = None
        for i in range(1, 200):
            res = client.put(f"/api/v1/stations/full-{i}", json=feature(i), headers=HEADERS)
            if res.status_code != 201:
                refused = res
                break
        assert refused is not None and refused.status_code == 503, "no write failed on a full disk"
        error = refused.get_json()["error"]
        assert error["code"] == "store_unavailable"
        assert error["message"] == "the store cannot write: the disk is full"
        assert client.get("/api/v1/stations/full-0").status_code == 200  # reads go on
        assert client.get("/healthz").get_json()["store"]["state"] == "disk_full"
        (small_disk / "filler").unlink()
        assert client.put(f"/api/v1/stations/full-{i}", json=feature(i), headers=HEADERS).status_code == 201
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["status"] == "ok"
        assert client.get(f"/api/v1/stations/full-{i}").status_code == 200
    finally:
        app.extensions["yizhan.store"].close()
        for name in ("yizhan.parks", "yizhan.token_store"):
            closer = getattr(app.extensions.get(name), "close", None)
            if closer:
                closer()
