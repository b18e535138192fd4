"""Running the app: ``shelfwise serve`` (uvicorn in the foreground) and :class:`LiveServer` (uvicorn in a
thread on a free loopback port, for the demo, tests and benchmarks)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def uvicorn_config(app: Any, host: str, port: int, log_level: str = "warning") -> Any:
    """Uvicorn settings of the service: its own access log (route templates, no ids), no server header."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_keep_alive=30,
        lifespan="on",
    )


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
