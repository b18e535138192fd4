"""Running the app: ``shelfwise serve`` (uvicorn in the foreground, one process or ``--workers N``) and
:class:`LiveServer` (uvicorn in a thread on a free loopback port, for the demo, tests and benchmarks).

With several workers, uvicorn starts N processes on one listening socket; each imports
:func:`app_from_environment` (the app factory named by :data:`FACTORY`), which reads the store and settings
from the environment variables below, loads its own pipelines and follows the store
(:mod:`shelfwise.api.follower`), so writes made through any worker reach every other one.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

#: How long ``serve --workers``' supervisor waits for a worker's liveness ping before it restarts it.
WORKER_PING_SECONDS = 20
#: The import string of the workers' app factory (a worker takes connections only once loaded).
FACTORY = "shelfwise.api.server:loaded_app_from_environment"
#: Environment variables the workers read: the store, a settings file (may be empty), ``--set`` overrides,
#: whether to mount the pages ("0" = ``--no-web``), and the artifact location (``--artifacts``; may be empty).
ENV_STORE, ENV_CONFIG, ENV_OVERRIDES, ENV_WEB, ENV_ARTIFACTS = (
    "SHELFWISE_SERVE_STORE",
    "SHELFWISE_SERVE_CONFIG",
    "SHELFWISE_SERVE_SET",
    "SHELFWISE_SERVE_WEB",
    "SHELFWISE_SERVE_ARTIFACTS",
)
#: The online state the workers share (``--state``; empty = each its own, in-process).
ENV_STATE = "SHELFWISE_SERVE_STATE"


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def uvicorn_options(log_level: str = "warning") -> dict[str, Any]:
    """Uvicorn settings of the service: its own access log (route templates, no ids), no server header."""
    return {
        "log_level": log_level,
        "access_log": False,
        "server_header": False,
        "timeout_keep_alive": 30,
        "lifespan": "on",
    }


def uvicorn_config(app: Any, host: str, port: int, log_level: str = "warning") -> Any:
    """A ``uvicorn.Config`` for ``app`` (see :func:`uvicorn_options`)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, **uvicorn_options(log_level))


class LiveServer:
    """Serve ``app`` from a background thread until :meth:`stop` (or the ``with`` block ends).

    Example::

        with LiveServer(create_app(settings, store_path=path)) as server:
            httpx.get(server.url + "/health/ready")
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int | None = None) -> None:
        import uvicorn

        self.app = app
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(uvicorn_config(app, self.host, self.port))
        self.thread = threading.Thread(target=self.server.run, name="shelfwise-server", daemon=True)

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self, wait_ready: float | None = 600.0) -> LiveServer:
        """Start; with ``wait_ready``, block until ``/health/ready`` is 200 (raises on timeout or failure)."""
        import httpx

        self.thread.start()
        if wait_ready is None:
            return self
        deadline = time.monotonic() + wait_ready
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError("the server stopped while starting (see the log)")
            try:
                r = httpx.get(f"{self.url}/health/ready", timeout=5)
                if r.status_code == 200:
                    return self
                comps = r.json().get("components", {})
                if any(str(v).startswith("failed") for v in comps.values()):
                    raise RuntimeError(f"the service failed to load: {comps}")
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.url} was not ready within {wait_ready:.0f}s")

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=60)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(app: Any, host: str, port: int) -> None:
    """Run ``app`` in the foreground until interrupted."""
    import uvicorn

    uvicorn.Server(uvicorn_config(app, host, port, log_level="info")).run()


def worker_environment(
    store: str,
    config: str | None,
    overrides: list[str],
    *,
    web: bool = True,
    state: str | None = None,
    artifacts: str | None = None,
) -> dict[str, str]:
    """The environment variables :func:`app_from_environment` reads."""
    return {
        ENV_STORE: store,
        ENV_CONFIG: config or "",
        ENV_OVERRIDES: json.dumps(list(overrides)),
        ENV_WEB: "1" if web else "0",
        ENV_STATE: state or "",
        ENV_ARTIFACTS: artifacts or "",
    }


def app_from_environment(background_load: bool = True) -> Any:
    """The app factory of a worker process (uvicorn workers, Ray Serve replicas): the store (folder or URL),
    settings, pages and online state named by the environment."""
    from shelfwise.api.app import create_app
    from shelfwise.config import load_settings

    store = os.environ[ENV_STORE]
    config = os.environ.get(ENV_CONFIG) or None
    path = Path(config) if config else (None if "://" in store else Path(store) / "shelfwise.toml")
    overrides = json.loads(os.environ.get(ENV_OVERRIDES) or "[]")
    settings = load_settings(
        path if path is not None and (path.exists() or config) else None, overrides=overrides
    )
    web = os.environ.get(ENV_WEB, "1") != "0"
    state = os.environ.get(ENV_STATE) or None
    artifacts = os.environ.get(ENV_ARTIFACTS) or None
    return create_app(
        settings, store_path=store, background_load=background_load, web=web, state=state, artifacts=artifacts
    )


def loaded_app_from_environment() -> Any:
    """The app factory of ``serve --workers N``: :func:`app_from_environment` loaded before it serves.

    The workers share one listening socket and uvicorn accepts on it only after the app's start-up, so a
    worker that is still loading (at start, or after the supervisor restarted one that died) takes no
    connection: the others answer, and no shopper gets a 503 from it."""
    return app_from_environment(background_load=False)


def serve_workers(workers: int, host: str, port: int, environment: dict[str, str]) -> None:
    """Run ``workers`` uvicorn processes of :func:`app_from_environment` in the foreground."""
    import uvicorn

    os.environ.update(environment)  # the worker processes inherit it
    # a worker loading its pipelines on a busy machine can miss uvicorn's 5 s liveness ping; its supervisor
    # would then kill it and start another that loads again. A longer ping also delays noticing a worker that
    # died while being pinged (by up to this long: measured in benchmarks/bench_failover.py)
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_PING_SECONDS,
        **uvicorn_options("info"),
    )
