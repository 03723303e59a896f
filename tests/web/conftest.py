from __future__ import annotations

import pytest

from app import create_app
from web.auth import digest

EDITOR_TOKEN = "editor-test-token"
READER_TOKEN = "reader-test-token"
TOKENS = f"{digest(EDITOR_TOKEN)}:editor,{digest(READER_TOKEN)}:reader"


@pytest.fixture(scope="session")
def sample_app(tmp_path_factory):
    """The app on the bundled sample data (read-only use)."""
    app = create_app({"DATA_DIR": str(tmp_path_factory.mktemp("sample")), "TESTING": True})
    yield app
    app.extensions["yizhan.store"].close()


@pytest.fixture(scope="session")
def client(sample_app):
    return sample_app.test_client()


@pytest.fixture
def writable_app(tmp_path):
    """An app with its own empty data directory and an editor and a reader token."""
    app = create_app({"DATA_DIR": str(tmp_path), "SEED": False, "TOKENS": TOKENS, "TESTING": True})
    yield app
    app.extensions["yizhan.store"].close()
