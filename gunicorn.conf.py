"""Production server: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Settings from the environment (command-line flags such as `-b` or `-w` still win):
YIZHAN_BIND (default 127.0.0.1:8000; put a reverse proxy in front and set YIZHAN_PROXIES),
YIZHAN_WORKERS (default 2 x cores + 1), YIZHAN_THREADS (per worker, default 4),
YIZHAN_MAX_REQUESTS (recycle a worker after that many requests; default 0 = never),
YIZHAN_TIMEOUT (seconds a worker may be silent, its start included: it loads every station into
memory, ~3 s per 100,000 with five workers on two cores — raise it for a million; default 30),
YIZHAN_GUNICORN_ACCESSLOG (a file or `-` for gunicorn's own access log; off by default because
the app writes one line per request itself, logger `yizhan.access`, to stdout).

`preload_app` is off: every worker opens the store itself after the fork (the embedded store's
SQLite file, or its own PostgreSQL pool); a write in one worker reaches the others through the
store's revision check. The configuration is checked once in the master before any worker
starts: a bad YIZHAN_* value prints its message and exits with status 2.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import sys

from gunicorn.glogging import Logger

bind = os.environ.get("YIZHAN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("YIZHAN_WORKERS") or 2 * multiprocessing.cpu_count() + 1)
worker_class = "gthread"  # threads: keep-alive connections, and a slow database call blocks one thread only
threads = int(os.environ.get("YIZHAN_THREADS") or 4)
timeout = int(os.environ.get("YIZHAN_TIMEOUT") or 30)  # a worker silent this long (booting included) is replaced
graceful_timeout = 20   # on restart/stop, in-flight requests get this long
keepalive = 5
preload_app = False
max_requests = int(os.environ.get("YIZHAN_MAX_REQUESTS") or 0)
max_requests_jitter = max_requests // 10
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "yizhan"
accesslog = os.environ.get("YIZHAN_GUNICORN_ACCESSLOG") or None
access_log_format = '%(m)s %(U)s %(s)s %(M)sms %(B)s'  # no client address, no query (positions)
errorlog = "-"
loglevel = os.environ.get("YIZHAN_LOGLEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False, "qualname": "gunicorn.error"},
        # gunicorn's own access line only when asked for (the app's `yizhan.access` line is the default)
        "gunicorn.access": {"level": "INFO" if accesslog else "WARNING", "handlers": ["access_console"],
                            "propagate": False, "qualname": "gunicorn.access"},
        "yizhan.access": {"level": "INFO", "handlers": ["access_console"], "propagate": False},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stdout"},
        "error_console": {"class": "logging.StreamHandler", "formatter": "generic", "stream": "ext://sys.stderr"},
        "access_console": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
    },
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
                    "datefmt": "[%Y-%m-%d %H:%M:%S %z]", "class": "logging.Formatter"},
        "access": {"format": "%(asctime)s [%(process)d] %(message)s", "class": "logging.Formatter"},
    },
}


def on_starting(server) -> None:
    """Check YIZHAN_* once, in the master, before any worker forks: fail fast with the message."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from flask import Config

    from web.config import DEFAULTS, ConfigError, check_config
    from web.pages.tiles import choose_provider

    config = Config(os.getcwd(), DEFAULTS)
    config.from_prefixed_env("YIZHAN")
    try:
        check_config(config)
        choose_provider(config)
    except (ConfigError, ValueError) as exc:
        message = f"yizhan: configuration error: {exc}"
        server.log.error(message)
        print(message, file=sys.stderr, flush=True)
        sys.exit(2)


def post_worker_init(worker) -> None:
    """The app is loaded: what it holds for good (index, rows, modules) leaves the garbage
    collector's view, so collections scan only what requests allocate."""
    gc.collect()
    gc.freeze()


def pre_request(worker, req) -> None:
    """Let the app ask for this connection to close after its answer (web/bodies.py: a refused
    body too long to drain); gunicorn then says `Connection: close` instead of keep-alive."""
    req.body.yizhan_close = req.force_close


class AccessOnRequest(Logger):
    """gunicorn's logger, whose access line (atoms of every header and environ entry, ~10 % of a
    small request's time) is built only when YIZHAN_GUNICORN_ACCESSLOG asks for it: with a
    logconfig_dict, gunicorn builds it for every request even when the line is then dropped."""

    def access(self, resp, req, environ, request_time) -> None:
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = AccessOnRequest
