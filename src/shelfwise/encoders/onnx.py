"""Fast CPU encoder: the sentence-transformers model exported to ONNX, int8-quantised, run by ONNX Runtime.

Why this shape (measured in ``benchmarks/bench_encoders.py`` on this 2-core machine):

* Pooling and L2 normalisation are part of the exported graph, so one ``session.run`` gives final vectors.
* Weights of every MatMul are quantised to int8 *per output channel* (dynamic activation quantisation).
  Per-tensor int8 was as fast but moved vectors much further (mean cosine to fp32 ~0.95 vs ~0.994).
* Before quantising, activation outliers are moved into the weights (SmoothQuant, alpha 0.8, see
  :mod:`shelfwise.encoders.smoothquant`) and the FFN output projections of the first two layers stay
  fp32: mean cosine to fp32 0.994 -> 0.999, which is what keeps top-10 neighbour lists stable.
* Texts are tokenised once, sorted by length and batched under a padded-token budget: small batches of
  long texts stay in cache and run ~1.5x faster than batches of 32, while titles still go wide.
* Queries can keep fp32 (``query_quantize="none"``): they are short, so it costs ~1 ms.

The export runs once per (model, settings) and is reused from ``<cache_dir>/onnx/<fingerprint>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from shelfwise.encoders._optional import require
from shelfwise.encoders.base import Encoder, EncoderConfig, TextKind, model_fingerprint, resolve_model_path

logger = logging.getLogger(__name__)

_OPSET = 17
_SUPPORTED_MODULES = ("Transformer", "Pooling", "Normalize")


def _pooling_mode(model_dir: Path) -> str:
    """Read the sentence-transformers pipeline of ``model_dir`` and return ``"mean"`` or ``"cls"``.

    Raises:
        ValueError: when the pipeline holds a module the ONNX path does not reproduce (e.g. ``Dense``).
    """
    modules_file = model_dir / "modules.json"
    if not modules_file.exists():
        return "mean"
    mode = "mean"
    for module in json.loads(modules_file.read_text()):
        kind = module["type"].rsplit(".", 1)[-1]
        if kind not in _SUPPORTED_MODULES:
            raise ValueError(
                f"module {module['type']} of {model_dir} is not supported by the ONNX encoder; "
                "use EncoderConfig(type='sentence-transformers')"
            )
        if kind == "Pooling":
            pcfg = json.loads((model_dir / module["path"] / "config.json").read_text())
            if pcfg.get("pooling_mode_cls_token"):
                mode = "cls"
            elif not pcfg.get("pooling_mode_mean_tokens", True):
                raise ValueError(f"pooling {pcfg} of {model_dir} is not supported by the ONNX encoder")
    return mode


def _local_model_dir(model: str) -> Path:
    path = Path(resolve_model_path(model))
    if path.is_dir():
        return path
    hub = require("huggingface_hub")
    return Path(hub.snapshot_download(model))


def export_onnx(
    model: str, out_dir: Path, smooth_alpha: float = 0.8, calibration_texts: Sequence[str] | None = None
) -> Path:
    """Export a sentence-transformers model (transformer + pooling + normalise) to ``out_dir/model.onnx``.

    Also writes ``tokenizer.json`` and ``export.json`` (pooling, dim, source, FFN output projections).

    Args:
        model: model name or directory.
        out_dir: directory to create.
        smooth_alpha: SmoothQuant strength applied before export (0 = off). The fp32 graph computes the
            same function either way; only its int8 quantisation is affected.
        calibration_texts: texts for SmoothQuant's activation maxima (default: a built-in set).

    Returns:
        ``out_dir``.
    """
    torch = require("torch")
    transformers = require("transformers")
    require("onnx")
    src = _local_model_dir(model)
    pooling = _pooling_mode(src)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(src))
    hf = transformers.AutoModel.from_pretrained(str(src)).eval()
    ffn_out = [  # FFN output projections (hidden*4 -> hidden), in layer order
        n
        for n, m in hf.named_modules()
        if isinstance(m, torch.nn.Linear) and "pooler" not in n and m.in_features > m.out_features
    ]
    if smooth_alpha > 0:
        from shelfwise.encoders.smoothquant import smooth_model

        smooth_model(torch, hf, tokenizer, smooth_alpha, calibration_texts)
    input_names = [
        n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names
    ]

    class _Pooled(torch.nn.Module):  # type: ignore[name-defined]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs: Any) -> Any:
            kwargs = dict(zip(input_names, inputs, strict=True))
            hidden = self.inner(**kwargs).last_hidden_state
            if pooling == "cls":
                emb = hidden[:, 0]
            else:
                mask = kwargs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(emb, dim=-1)

    sample = tokenizer(["a short text", "a slightly longer sample text"], padding=True, return_tensors="pt")
    args = tuple(sample[n] for n in input_names)
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "seq"} for n in input_names}
    axes["embedding"] = {0: "batch"}
    out_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Pooled(hf),
            args,
            str(out_dir / "model.onnx"),
            input_names=input_names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,
        )
    tokenizer.save_pretrained(str(out_dir))
    dim = int(hf.config.hidden_size)
    meta = {
        "source": str(src),
        "pooling": pooling,
        "dim": dim,
        "inputs": input_names,
        "opset": _OPSET,
        "smooth_alpha": smooth_alpha,
        "ffn_out": ffn_out,
    }
    (out_dir / "export.json").write_text(json.dumps(meta, indent=2))
    logger.info("exported %s to %s (%s pooling, dim %d)", src, out_dir, pooling, dim)
    return out_dir


def quantize_int8(fp32_path: Path, out_path: Path, keep_fp32: Sequence[str] = ()) -> Path:
    """Dynamic int8 quantisation of MatMul weights, per output channel.

    Args:
        fp32_path: the fp32 ONNX model.
        out_path: where to write the int8 model.
        keep_fp32: module paths (e.g. ``"encoder.layer.0.output.dense"``) whose MatMuls stay fp32.

    Returns:
        ``out_path``.
    """
    onnx = require("onnx")
    quant = require("onnxruntime.quantization")
    graph = onnx.load(str(fp32_path), load_external_data=False).graph
    # module path "encoder.layer.0.output.dense" appears in node names as "/encoder/layer.0/output/dense/"
    markers = ["/" + re.sub(r"\.(?!\d)", "/", path) + "/" for path in keep_fp32]
    exclude = [n.name for n in graph.node if n.op_type == "MatMul" and any(m in n.name for m in markers)]
    if len(exclude) < len(markers):
        logger.warning("only %d of %d fp32 MatMuls found in %s", len(exclude), len(markers), fp32_path)
    with _third_party_logs_at_debug():
        quant.quantize_dynamic(
            str(fp32_path),
            str(out_path),
            weight_type=quant.QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=exclude,
        )
    return out_path


class _ToDebug(logging.Filter):
    """Re-logs a record below ERROR at DEBUG under this module's logger and drops the original."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        logger.debug("%s: %s", record.name, record.getMessage())
        return False


@contextlib.contextmanager
def _third_party_logs_at_debug() -> Iterator[None]:
    """onnxruntime's quantiser logs advice ("consider pre-processing ...") as root-logger warnings and its
    C++ core prints to stderr: the advice goes to debug (``--verbose``) while quantising, and the core's
    log level is set to errors (as the encoder's own sessions use); errors still show."""
    ort = require("onnxruntime")
    root, flt = logging.getLogger(), _ToDebug()
    root.addFilter(flt)
    ort.set_default_logger_severity(3)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(flt)


def ensure_exported(
    model: str,
    root: Path,
    smooth_alpha: float = 0.8,
    fp32_ffn_layers: int = 2,
    calibration_texts: Sequence[str] | None = None,
) -> Path:
    """Return the export directory of ``model`` under ``root``, exporting and quantising on first use.

    The export is written to a temporary directory and renamed into place, so concurrent processes never
    see half a model.

    Args:
        model: model name or directory.
        root: parent directory of exports.
        smooth_alpha: SmoothQuant strength (0 = off).
        fp32_ffn_layers: how many of the first layers keep their FFN output projection in fp32.
        calibration_texts: SmoothQuant calibration texts (part of the export's fingerprint).
    """
    src = resolve_model_path(model)
    settings = {
        "opset": _OPSET,
        "pipeline": "pooled-normalised",
        "int8": "per-channel-matmul",
        "smooth_alpha": smooth_alpha,
        "fp32_ffn_layers": fp32_ffn_layers,
        "calibration": hashlib.sha1("\x00".join(calibration_texts or []).encode()).hexdigest(),
    }
    key = model_fingerprint(src, settings)
    final = root / key
    if (final / "model.int8.onnx").exists():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=root))
    logger.info(
        "one-time step: exporting the encoder %s to ONNX and quantising it to int8 (about a minute); "
        "later builds and the server reuse it from %s",
        model,
        final,
    )
    started = time.perf_counter()
    try:
        export_onnx(model, tmp, smooth_alpha, calibration_texts)
        meta = json.loads((tmp / "export.json").read_text())
        quantize_int8(tmp / "model.onnx", tmp / "model.int8.onnx", meta["ffn_out"][:fp32_ffn_layers])
        try:
            os.replace(tmp, final)
            logger.info(
                "encoder exported and quantised in %.0f s (not repeated)", time.perf_counter() - started
            )
        except OSError:  # another process won the race
            logger.info("export %s already present", final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


class OnnxEncoder(Encoder):
    """Encodes with ONNX Runtime on CPU (int8 by default).

    Args:
        config: encoder settings (``type="onnx"``).
        calibration_texts: a sample of the texts to be encoded (a few dozen catalogue items), used to
            calibrate SmoothQuant; ``None`` uses a built-in set. Different samples give different exports.
    """

    def __init__(
        self, config: EncoderConfig | None = None, calibration_texts: Sequence[str] | None = None
    ) -> None:
        self.config = config or EncoderConfig(type="onnx")
        ort = require("onnxruntime")
        tokenizers = require("tokenizers")
        root = (self.config.cache_dir or Path.home() / ".cache" / "shelfwise") / "onnx"
        self.export_dir = ensure_exported(
            self.config.model, root, self.config.smooth_alpha, self.config.fp32_ffn_layers, calibration_texts
        )
        meta = json.loads((self.export_dir / "export.json").read_text())
        self.dim = int(meta["dim"])
        self._inputs: list[str] = list(meta["inputs"])
        self._tokenizer = tokenizers.Tokenizer.from_file(str(self.export_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.config.max_length)
        self._pad_id = int(self._tokenizer.token_to_id("[PAD]") or 0)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.config.num_threads or 0
        options.log_severity_level = 3
        self._ort, self._options = ort, options
        self._sessions: dict[str, Any] = {}
        self.batch_size = self.config.batch_size or 64
        doc_precision = self.config.quantize
        query_precision = self.config.query_quantize or doc_precision
        self._precision = {"document": doc_precision, "query": query_precision}
        self.model_version = "onnx-" + model_fingerprint(
            self.export_dir.name,  # the export's own fingerprint (weights + export settings), not its path
            {
                "document": doc_precision,
                "query": query_precision,
                "max_length": self.config.max_length,
                "query_prefix": self.config.query_prefix,
                "document_prefix": self.config.document_prefix,
            },
        )

    def _session(self, precision: str) -> Any:
        if precision not in self._sessions:
            name = "model.int8.onnx" if precision == "int8" else "model.onnx"
            self._sessions[precision] = self._ort.InferenceSession(
                str(self.export_dir / name), self._options, providers=["CPUExecutionProvider"]
            )
        return self._sessions[precision]

    def _batches(self, lengths: np.ndarray) -> list[np.ndarray]:
        """Length-sorted batches of at most ``batch_size`` texts and ``max_batch_tokens`` padded tokens."""
        order = np.argsort(-lengths, kind="stable")
        batches, start = [], 0
        while start < len(order):
            longest = max(int(lengths[order[start]]), 1)
            width = min(self.batch_size, max(1, self.config.max_batch_tokens // longest))
            batches.append(order[start : start + width])
            start += width
        return batches

    def batch_plan(self, texts: Sequence[str], kind: TextKind = "document") -> list[np.ndarray]:
        """The batches (row indices of ``texts``) :meth:`encode_documents` / :meth:`encode_queries` would
        run. int8 activations are quantised per batch, so a vector depends on its batch: encoding each of
        these batches on its own (e.g. on a cluster) gives the very same vectors."""
        prefix = self.config.query_prefix if kind == "query" else self.config.document_prefix
        encodings = self._tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=True)
        return self._batches(np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts)))

    def _encode(self, texts: list[str], kind: TextKind, show_progress: bool) -> np.ndarray:
        prefix = self.config.query_prefix if kind == "query" else self.config.document_prefix
        if prefix:
            texts = [prefix + t for t in texts]
        session = self._session(self._precision[kind])
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        ids = [e.ids for e in encodings]
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        batches = self._batches(lengths)
        bar = tqdm(
            total=len(texts),
            desc=f"encode {kind}s",
            unit="text",
            disable=not (show_progress and self.config.show_progress),
        )
        for idx in batches:
            width = int(lengths[idx].max())
            input_ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                input_ids[row, : lengths[i]] = ids[i]
                mask[row, : lengths[i]] = 1
            feed = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(input_ids)
            out[idx] = session.run(None, feed)[0]
            bar.update(len(idx))
        bar.close()
        return out
