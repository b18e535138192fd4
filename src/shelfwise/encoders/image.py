"""Image encoders: product photos to float32 unit vectors, with a mask of which items had a usable image.

A CLIP-style model (``transformers.CLIPModel``) is loaded by name or path; its image tower and projection
give the vector. No pretrained CLIP weights are reachable offline on the build machines, so the loading and
encoding code is tested on a tiny randomly initialised ``CLIPConfig`` saved to a temporary directory.

Missing, unreadable or absent images never raise: their row is all zeros and ``present`` is ``False``, and
the fusion projection (:mod:`shelfwise.encoders.fusion`) is trained to cope with that.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from shelfwise.encoders._optional import require
from shelfwise.encoders.base import normalize_rows

logger = logging.getLogger(__name__)

ImageLike = str | Path | Any | None


class ImageEncoderConfig(BaseModel):
    """Settings of the image encoder.

    Attributes:
        type: ``"none"`` (no image vectors) or ``"clip"`` (``transformers.CLIPModel``).
        model: CLIP model name or directory (required for ``"clip"``).
        image_root: directory that relative image paths are resolved against.
        batch_size: images per forward pass.
        device: torch device.
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "clip"] = "none"
    model: str | None = None
    image_root: Path | None = None
    batch_size: int = Field(default=16, ge=1)
    device: str = "cpu"


class ImageEncoder(ABC):
    """Encodes images; batch-first."""

    dim: int
    model_version: str

    @abstractmethod
    def encode_images(
        self, images: Sequence[ImageLike], *, show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode images given as paths, PIL images or ``None``.

        Returns:
            ``(vectors, present)``: ``(n, dim)`` float32 unit vectors (zero rows where no image could be
            read) and a boolean ``(n,)`` mask.
        """


def load_image(image: ImageLike, root: Path | None = None) -> Any | None:
    """Open an image as RGB PIL image; ``None`` when absent or unreadable (logged at debug level)."""
    pil = require("PIL.Image")
    if image is None or (isinstance(image, float) and image != image) or image == "":
        return None
    if isinstance(image, (str, Path)):
        path = Path(image)
        if root is not None and not path.is_absolute():
            path = root / path
        try:
            with pil.open(path) as img:
                return img.convert("RGB")
        except (OSError, ValueError) as exc:
            logger.debug("image %s unreadable: %s", path, exc)
            return None
    if hasattr(image, "convert"):
        return image.convert("RGB")
    return None


class ClipImageEncoder(ImageEncoder):
    """The image tower of a CLIP model (``transformers.CLIPModel``).

    Args:
        config: settings with ``type="clip"`` and ``model`` set.
    """

    def __init__(self, config: ImageEncoderConfig) -> None:
        if not config.model:
            raise ValueError("ImageEncoderConfig.model must name a CLIP model or directory")
        self.config = config
        self._torch = require("torch")
        transformers = require("transformers")
        if Path(config.model).is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.model = transformers.CLIPModel.from_pretrained(config.model).eval().to(config.device)
        try:
            self.processor = transformers.CLIPImageProcessor.from_pretrained(config.model)
        except OSError:
            size = int(self.model.config.vision_config.image_size)
            logger.warning(
                "no image processor saved with %s; using CLIP defaults at %d px", config.model, size
            )
            self.processor = transformers.CLIPImageProcessor(
                size={"shortest_edge": size}, crop_size={"height": size, "width": size}
            )
        self.dim = int(self.model.config.projection_dim)
        self.model_version = f"clip-{Path(config.model).name}-{self.dim}"

    def encode_images(
        self, images: Sequence[ImageLike], *, show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`ImageEncoder.encode_images`."""
        out = np.zeros((len(images), self.dim), dtype=np.float32)
        present = np.zeros(len(images), dtype=bool)
        step = self.config.batch_size
        for start in tqdm(range(0, len(images), step), desc="encode images", disable=not show_progress):
            loaded = [load_image(img, self.config.image_root) for img in images[start : start + step]]
            rows = [i for i, img in enumerate(loaded) if img is not None]
            if not rows:
                continue
            pixels = self.processor(images=[loaded[i] for i in rows], return_tensors="pt")["pixel_values"]
            with self._torch.inference_mode():
                feats = self.model.get_image_features(pixel_values=pixels.to(self.config.device))
            if not isinstance(feats, self._torch.Tensor):  # transformers >= 5 returns a model output
                feats = feats.pooler_output
            idx = np.asarray(rows) + start
            out[idx] = normalize_rows(feats.float().cpu().numpy())
            present[idx] = True
        return out, present


class NoImageEncoder(ImageEncoder):
    """No image model configured: every item is treated as having no image (zero-width vectors)."""

    dim = 0
    model_version = "none"

    def encode_images(
        self, images: Sequence[ImageLike], *, show_progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """See :meth:`ImageEncoder.encode_images`."""
        return np.zeros((len(images), 0), dtype=np.float32), np.zeros(len(images), dtype=bool)


def build_image_encoder(config: ImageEncoderConfig | None = None) -> ImageEncoder:
    """The image encoder a config names."""
    config = config or ImageEncoderConfig()
    if config.type == "clip":
        return ClipImageEncoder(config)
    return NoImageEncoder()
