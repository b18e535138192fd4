"""Build an encoder from its config ``type``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from shelfwise.encoders.base import Encoder, EncoderConfig


def _sentence_transformers(config: EncoderConfig, calibration_texts: Sequence[str] | None = None) -> Encoder:
    from shelfwise.encoders.sentence_transformer import SentenceTransformerEncoder

    return SentenceTransformerEncoder(config)


def _onnx(config: EncoderConfig, calibration_texts: Sequence[str] | None = None) -> Encoder:
    from shelfwise.encoders.onnx import OnnxEncoder

    return OnnxEncoder(config, calibration_texts)


#: ``EncoderConfig.type`` -> factory. Adding a backend = one module and one line here.
ENCODERS: dict[str, Callable[[EncoderConfig, Sequence[str] | None], Encoder]] = {
    "sentence-transformers": _sentence_transformers,
    "onnx": _onnx,
}


def build_encoder(
    config: EncoderConfig | None = None,
    *,
    use_cache: bool = True,
    calibration_texts: Sequence[str] | None = None,
) -> Encoder:
    """Create the encoder a config names, wrapped in the embedding cache when ``cache_dir`` is set.

    Args:
        config: encoder settings (default: ONNX int8 all-MiniLM-L6-v2).
        use_cache: wrap in :class:`~shelfwise.encoders.cache.CachedEncoder` when ``config.cache_dir`` is set.
        calibration_texts: ONNX int8 only: a sample of the catalogue's item texts for quantisation.

    Returns:
        An :class:`~shelfwise.encoders.base.Encoder`.
    """
    config = config or EncoderConfig()
    try:
        factory = ENCODERS[config.type]
    except KeyError:
        raise ValueError(
            f"unknown encoder type {config.type!r}; expected one of {sorted(ENCODERS)}"
        ) from None
    encoder = factory(config, calibration_texts)
    if use_cache and config.cache_dir is not None:
        from shelfwise.encoders.cache import CachedEncoder

        encoder = CachedEncoder(encoder, config.cache_dir / "embeddings")
    return encoder
