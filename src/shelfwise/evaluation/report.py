"""Reports of an experiment: JSON, a Markdown table, and a self-contained HTML page with plots.

The HTML embeds its plots as PNG data URIs and loads nothing from the network, so it opens from disk.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from pathlib import Path
from typing import Any

from shelfwise.evaluation.runner import ExperimentResult

log = logging.getLogger(__name__)


def _columns(result: ExperimentResult) -> list[str]:
    cols: list[str] = []
    for run in result.runs:
        for name in run.metrics:
            if name not in cols:
                cols.append(name)
    return cols


def markdown(result: ExperimentResult) -> str:
    """The comparison table (one row per model and part) with the protocol above it."""
    cols = _columns(result)
    p = result.protocol
    lines = [
        f"Task: {result.task}; store {result.store}; protocol: split {p.get('split')}, {p.get('ranking')} ranking, "
        f"history {p.get('history')}, random tie-break seed {p.get('tie_break_seed')}.",
        f"Overrides: {', '.join(result.overrides) or 'none'}.",
        "",
        "| model | part | " + " | ".join(cols) + " | train s | inference s | peak MB |",
        "|---|---|" + "---|" * (len(cols) + 3),
    ]
    for run in result.runs:
        vals = [f"{run.metrics[c]:.4f}" if c in run.metrics else "" for c in cols]
        lines.append(
            f"| {run.model} | {run.part} | "
            + " | ".join(vals)
            + f" | {run.fit_seconds:.1f} | {run.score_seconds:.1f} | {run.peak_memory_mb:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _plot_png(result: ExperimentResult) -> list[tuple[str, str]]:
    """(title, base64 PNG) plots: accuracy per model, and accuracy vs diversity when measured."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: the HTML report has no plots (pip install matplotlib)")
        return []
    runs = [r for r in result.runs if r.part == "test"]
    plots: list[tuple[str, str]] = []
    acc = next((m for m in ("ndcg@10", "ndcg_retrieval@10", "ndcg@5") if runs and m in runs[0].metrics), None)
    if acc:
        fig, ax = plt.subplots(figsize=(6, 3.2))
        ax.barh([r.model for r in runs], [r.metrics.get(acc, 0.0) for r in runs], color="#4c72b0")
        ax.set_xlabel(acc)
        ax.set_title(f"{acc} by model")
        fig.tight_layout()
        plots.append((f"{acc} by model", _png(fig)))
        plt.close(fig)
    div = next((m for m in ("ild_category@10", "coverage@10") if runs and m in runs[0].metrics), None)
    if acc and div:
        fig, ax = plt.subplots(figsize=(5, 4))
        for r in runs:
            ax.scatter(r.metrics.get(div, 0.0), r.metrics.get(acc, 0.0))
            ax.annotate(r.model, (r.metrics.get(div, 0.0), r.metrics.get(acc, 0.0)), fontsize=8)
        ax.set_xlabel(div)
        ax.set_ylabel(acc)
        ax.set_title("accuracy vs diversity")
        fig.tight_layout()
        plots.append(("accuracy vs diversity", _png(fig)))
        plt.close(fig)
    return plots


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode()


def html_report(result: ExperimentResult) -> str:
    """A self-contained HTML page: protocol, comparison table, plots."""
    cols = _columns(result)
    head = "".join(
        f"<th>{html.escape(c)}</th>" for c in ["model", "part", *cols, "train s", "inference s", "peak MB"]
    )
    rows = []
    for run in result.runs:
        cells = [run.model, run.part] + [f"{run.metrics[c]:.4f}" if c in run.metrics else "" for c in cols]
        cells += [f"{run.fit_seconds:.1f}", f"{run.score_seconds:.1f}", f"{run.peak_memory_mb:.0f}"]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    plots = "".join(
        f'<figure><img alt="{html.escape(t)}" src="data:image/png;base64,{b}"><figcaption>{html.escape(t)}</figcaption></figure>'
        for t, b in _plot_png(result)
    )
    protocol = html.escape(json.dumps(result.protocol))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shelfwise evaluation — {html.escape(result.task)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:72rem}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;font-size:.85rem}}td:first-child,th:first-child{{text-align:left}}
figure{{display:inline-block;margin:1rem}}</style></head>
<body><h1>shelfwise evaluation: {html.escape(result.task)}</h1>
<p>Store <code>{html.escape(result.store)}</code>, started {html.escape(result.started)}, {result.seconds}s.</p>
<p>Protocol: <code>{protocol}</code>. Overrides: {html.escape(", ".join(result.overrides) or "none")}.</p>
<div style="overflow-x:auto"><table id="comparison"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>
{plots}
</body></html>
"""


def write_reports(result: ExperimentResult, folder: Path) -> dict[str, str]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "markdown": folder / "report.md", "html": folder / "report.html"}
    paths["json"].write_text(json.dumps(result.to_dict(), indent=2, default=str))
    paths["markdown"].write_text(markdown(result))
    paths["html"].write_text(html_report(result))
    return {k: str(v) for k, v in paths.items()}
