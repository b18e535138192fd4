"""A/B experiments: named configuration variants, sticky assignment, exposure, attribution and analysis.

- :mod:`.config` — :class:`Experiment` / :class:`Variant` definitions and analysis settings;
- :mod:`.assignment` — deterministic sticky assignment by hashing the user id with the experiment salt;
- :mod:`.registry` — definitions persisted in the store, the arm of a request;
- :mod:`.attribution` — impressions (exposures) joined with later interactions;
- :mod:`.stats` / :mod:`.analysis` — per-arm metrics with confidence intervals, significance, SRM;
- :mod:`.simulator` — replays held-out events against two arms through the serving path.

Exposure is the impression the service logs with its ``arm`` (``experiment:arm``): what a shopper was
shown under which arm, so the exposure log and the impression log are one table.
"""

from __future__ import annotations

from shelfwise.experiments.config import Experiment, ExperimentSettings, Variant

__all__ = ["Experiment", "ExperimentSettings", "Variant"]
