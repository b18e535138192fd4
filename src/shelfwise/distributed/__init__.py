"""Batch compute: one job runner interface, in-process by default, Ray when a cluster is named.

::

    runner = open_runner(None)                  # in this process, with a progress bar
    runner = open_runner("127.0.0.1:6379")      # tasks on a Ray cluster (``ray start --head`` ...)
    results = runner.map(fit_fold, folds, desc="folds")

Every batch job (evaluation folds, source fitting, catalogue encoding) goes through a runner, so the same code
runs on a laptop and on a cluster; ``--ray ADDRESS`` on ``build``, ``train`` and ``evaluate`` picks the cluster.
"""

from __future__ import annotations

from shelfwise.distributed.runner import InProcessRunner, JobRunner, RayRunner, open_runner

__all__ = ["InProcessRunner", "JobRunner", "RayRunner", "open_runner"]
