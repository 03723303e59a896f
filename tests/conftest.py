"""Shared fixtures. In CI (CI=true) any skipped test fails the run: a skip there hides a broken set-up."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from layers.layerdefs import load_layers

pytest_plugins = ["tests.pgfixtures"]

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
_SKIPPED: list[str] = []

# Property tests behave the same on every machine and every day: examples derive from each test's
# own name (derandomize), no example database carries state between runs, and a failure prints the
# blob that replays it (@reproduce_failure). HYPOTHESIS_PROFILE=explore searches at random
# (`--hypothesis-seed=N` replays what it printed) for hunting new bugs by hand.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


def shared_data_dir() -> Path | None:
    """../shared/data beside the repository (or $YIZHAN_SHARED_DATA), None when absent."""
    path = Path(os.environ.get("YIZHAN_SHARED_DATA", REPO.parent / "shared" / "data"))
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def layers():
    return load_layers()


def pytest_runtest_logreport(report):
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _SKIPPED.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _SKIPPED:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if IN_CI and _SKIPPED:
        terminalreporter.write_line(f"CI=true: {len(_SKIPPED)} skipped test(s) count as failures:", red=True)
        for line in _SKIPPED[:50]:
            terminalreporter.write_line(f"  {line}", red=True)
