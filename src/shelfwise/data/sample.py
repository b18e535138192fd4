"""The sample shop shipped with the package (``shelfwise/sample/``): paths to its items and events.

The files are package data (no ``__init__.py``), derived from the amazon-scientific benchmark by
``scripts/make_sample_shop.py``; ``sample/SOURCE.md`` says how, and which columns are synthetic
(prices, availability, timestamps).

Example:
    >>> sorted(sample_paths())
    ['events', 'items', 'source']
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Final

__all__ = ["SAMPLE_FILES", "sample_paths"]

#: Kind -> file name inside ``shelfwise/sample``.
SAMPLE_FILES: Final[dict[str, str]] = {"items": "items.csv", "events": "events.csv", "source": "SOURCE.md"}


def sample_paths() -> dict[str, Path]:
    """Return ``{"items": Path, "events": Path, "source": Path}`` of the shipped sample shop.

    From a normal (unpacked) install these are the package files themselves; from a zipped install
    the files are copied once to a temporary folder.

    Raises:
        FileNotFoundError: if the package was built without its sample data.
    """
    root = resources.files("shelfwise").joinpath("sample")
    out: dict[str, Path] = {}
    tmp: Path | None = None
    for kind, name in SAMPLE_FILES.items():
        res = root.joinpath(name)
        if not res.is_file():
            raise FileNotFoundError(f"sample file {name!r} missing from the shelfwise package ({root})")
        if isinstance(res, Path):
            out[kind] = res
            continue
        if tmp is None:
            tmp = Path(tempfile.mkdtemp(prefix="shelfwise-sample-"))
        target = tmp / name
        with res.open("rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        out[kind] = target
    return out
