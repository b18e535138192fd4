"""The service as a Ray Serve application: N replicas of the same FastAPI app behind Ray's HTTP proxy.

Each replica builds the app itself (:func:`build_replica_app`, run by ``serve.ingress`` on the replica) from the
store URL, settings file and overrides handed over in the replica's environment, loads its pipelines before it
takes traffic, and follows the store like any other serving process, so replicas act as one shop: the store (and,
when configured, the shared online state) is where they meet. ``/health/ready`` is answered by whichever replica
the proxy picks; Ray Serve keeps the replica count and restarts a replica that dies.

::

    run_on_ray("127.0.0.1:6390", store="shop/", replicas=2, host="127.0.0.1", port=8000)
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)


def build_replica_app() -> Any:
    """The FastAPI app of one replica: the store, settings and pages named by the environment
    (:func:`shelfwise.api.server.app_from_environment`, as for ``serve --workers``), loaded before the replica
    reports itself ready to Ray Serve, so the proxy never routes to a replica that would answer 503."""
    from shelfwise.api.server import app_from_environment

    app = app_from_environment(background_load=False)
    app.state.replica = os.getpid()
    return app


def run_on_ray(
    address: str,
    *,
    store: str,
    replicas: int,
    host: str,
    port: int,
    config: str | None = None,
    overrides: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    web: bool = True,
    blocking: bool = True,
    artifacts: str | None = None,
) -> None:
    """Deploy ``replicas`` copies of the service on the Ray cluster at ``address`` and serve HTTP on
    ``host:port`` through Ray's proxy; with ``blocking``, until interrupted. ``artifacts``: the artifact
    location every replica reads (and hot-reloads new versions from)."""
    from shelfwise.api.server import worker_environment
    from shelfwise.distributed.runner import RayRunner

    env = worker_environment(str(store), config, list(overrides or []), web=web, artifacts=artifacts)
    env.update({k: v for k, v in os.environ.items() if k.startswith("SHELFWISE") and k not in env})
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    env.update(extra_env or {})
    RayRunner(address, runtime_env={"env_vars": env})
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    ingress: Any = serve.deployment(serve.ingress(build_replica_app)())  # an ingress class: a Deployment
    deployment = ingress.options(
        name="shelfwise",
        num_replicas=replicas,
        ray_actor_options={"num_cpus": 0.5},
        health_check_period_s=5,
    )
    serve.run(deployment.bind(), name="shelfwise", route_prefix="/", blocking=blocking)
    log.info("shelfwise on ray serve: %d replicas at http://%s:%d", replicas, host, port)
