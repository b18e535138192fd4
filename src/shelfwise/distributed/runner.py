"""Job runners: map a function over independent work items, in this process or as Ray tasks.

Both implementations keep the order of the inputs, re-raise the first failure with the item that caused it, and
pass the same contract tests (``tests/distributed/test_runner.py``). Functions and items must be picklable for
Ray (module-level functions, plain data); results come back as they would from a local call.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from tqdm import tqdm

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class JobFailedError(RuntimeError):
    """One work item failed; ``index`` says which."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(f"work item {index} failed: {type(cause).__name__}: {cause}")
        self.index = index
        self.cause = cause


class JobRunner(Protocol):
    """Where batch work runs."""

    name: str

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        desc: str = "jobs",
        cpus: float = 1.0,
        spread: bool = False,
    ) -> list[R]:
        """``[fn(x) for x in items]``, possibly in parallel, in input order (``spread``: over as many nodes
        as possible rather than packed onto the fewest)."""
        ...

    def close(self) -> None:
        """Release the connection (a no-op in process)."""
        ...


class InProcessRunner:
    """Runs work items one after another in this process, with a progress bar."""

    name = "in-process"

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        desc: str = "jobs",
        cpus: float = 1.0,
        spread: bool = False,
    ) -> list[R]:
        out: list[R] = []
        for n, item in enumerate(tqdm(list(items), desc=desc, leave=False, disable=None)):
            try:
                out.append(fn(item))
            except Exception as exc:
                raise JobFailedError(n, exc) from exc
        return out

    def close(self) -> None:
        return None


class RayRunner:
    """Runs work items as Ray tasks on the cluster at ``address`` (``ray start --head`` prints it).

    Args:
        address: ``host:port`` of the cluster's head (GCS), ``ray://host:port`` for Ray Client, or ``"local"``
            for a throw-away cluster in this process (tests, laptops).
        runtime_env: Ray runtime environment for the tasks (e.g. ``{"env_vars": {...}}``).
    """

    name = "ray"

    def __init__(self, address: str, runtime_env: dict[str, Any] | None = None) -> None:
        if _loopback(address):  # keep a local cluster's traffic on 127.0.0.1 (scripts/ray_local_cluster.py)
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        try:
            import ray
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the install
            raise ModuleNotFoundError(
                "Ray is not installed: pip install 'shelfwise[ray]' (or pip install 'ray[serve,data]')"
            ) from exc
        self._ray = ray
        if runtime_env is None and os.environ.get(
            "PYTHONPATH"
        ):  # a source checkout: workers import the same code
            runtime_env = {"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}}
        if not ray.is_initialized():
            ray.init(
                address=None if address == "local" else address,
                runtime_env=runtime_env,
                ignore_reinit_error=True,
                logging_level=logging.WARNING,
                log_to_driver=False,
            )
        self.address = address
        resources = ray.cluster_resources()
        log.info("ray cluster at %s: %s CPUs, %d nodes", address, resources.get("CPU"), len(ray.nodes()))

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        desc: str = "jobs",
        cpus: float = 1.0,
        spread: bool = False,
    ) -> list[R]:
        ray = self._ray
        task = ray.remote(num_cpus=cpus, scheduling_strategy="SPREAD" if spread else "DEFAULT")(_call)
        refs = [task.remote(fn, item) for item in items]
        pending = {ref: n for n, ref in enumerate(refs)}
        with tqdm(total=len(refs), desc=f"{desc} (ray)", leave=False, disable=None) as bar:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    n = pending.pop(ref)
                    try:
                        ray.get(ref)
                    except Exception as exc:
                        for other in pending:
                            ray.cancel(other)
                        cause = getattr(exc, "cause", None) or exc
                        raise JobFailedError(n, cause) from exc
                    bar.update(1)
        return list(ray.get(refs))

    def nodes(self) -> int:
        """Alive nodes of the cluster."""
        return sum(1 for n in self._ray.nodes() if n.get("Alive"))

    def close(self) -> None:
        self._ray.shutdown()


def _loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return address == "local" or host in ("localhost", "::1") or host.startswith("127.")


def _call(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


def open_runner(address: str | None) -> InProcessRunner | RayRunner:
    """The in-process runner, or a Ray runner when ``address`` names a cluster."""
    return InProcessRunner() if not address else RayRunner(address)


def chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut into consecutive pieces of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), max(1, size))]
