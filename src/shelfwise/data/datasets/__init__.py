"""Loaders of the benchmark datasets in ``../shared/data``: one module per dataset folder.

Each module has ``load(data_dir) -> Dataset`` taking the dataset's own folder; files are read in place
(zip / gzip stay compressed). :data:`DATASETS` maps folder names to loaders and :func:`load_dataset`
finds the folder under the data root.

Example:
    >>> sorted(DATASETS)[:2]
    ['amazon-beauty', 'amazon-reviews-2018']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Final

from shelfwise.data.datasets import (
    amazon_beauty,
    amazon_reviews_2018,
    amazon_scientific,
    crowdflower_search,
    fashion_images,
    taobao_userbehavior,
)
from shelfwise.data.schema import Dataset

__all__ = ["DATASETS", "DATA_DIR_ENV", "default_data_dir", "load_dataset"]

#: Environment variable naming the data root (the folder holding one folder per dataset).
DATA_DIR_ENV: Final[str] = "SHELFWISE_DATA_DIR"

#: Dataset folder name -> loader taking that folder.
DATASETS: Final[dict[str, Callable[[Path], Dataset]]] = {
    "amazon-beauty": amazon_beauty.load,
    "amazon-scientific": amazon_scientific.load,
    "crowdflower-search": crowdflower_search.load,
    "taobao-userbehavior": taobao_userbehavior.load,
    "amazon-reviews-2018": amazon_reviews_2018.load,
    "fashion-images": fashion_images.load,
}


def default_data_dir() -> Path:
    """The data root: ``$SHELFWISE_DATA_DIR`` if set, else ``../shared/data`` relative to the cwd."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else Path.cwd() / ".." / "shared" / "data"


def load_dataset(name: str, data_dir: Path | None = None) -> Dataset:
    """Load a benchmark dataset by folder name.

    Args:
        name: a key of :data:`DATASETS`, e.g. ``"amazon-beauty"``.
        data_dir: the data root holding the dataset's folder (default :func:`default_data_dir`); the
            dataset's own folder is accepted too.

    Raises:
        KeyError: for an unknown name (the message lists the known ones).
        FileNotFoundError: if the dataset's folder is absent (the message names where it looked).
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    folder = root / name
    if not folder.is_dir() and root.name == name and root.is_dir():
        folder = root
    if not folder.is_dir():
        raise FileNotFoundError(
            f"dataset {name!r} not found: no folder {folder.resolve()} "
            f"(set {DATA_DIR_ENV} to the folder holding the dataset folders, or pass data_dir)"
        )
    return DATASETS[name](folder)
