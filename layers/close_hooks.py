"""Hooks a store runs once when it closes (the scan buffer's last flush), for the station and park stores alike."""
from __future__ import annotations

import logging
from collections.abc import Callable

LOGGER = logging.getLogger(__name__)


class CloseHooks:
    """`on_close(hook)` registers; `run_close_hooks()` runs each once, logging (not raising) a failure."""

    def on_close(self, hook: Callable[[], None]) -> None:
        """Run `hook` first when the store closes."""
        self.__dict__.setdefault("_close_hooks", []).append(hook)

    def run_close_hooks(self) -> None:
        """Run (once) what `on_close` registered; a failing hook is logged, the others still run."""
        for hook in self.__dict__.pop("_close_hooks", []):
            try:
                hook()
            except Exception:
                LOGGER.exception("a close hook of %s failed", type(self).__name__)
