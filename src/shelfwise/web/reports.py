"""The latest evaluation report of a store (``shelfwise evaluate`` writes ``<store>/reports/<task>/``).

The dashboard shows its comparison table and the plots the HTML report embeds, and links the full page.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

__all__ = ["latest_report", "latest_report_html", "report_dirs"]

log = logging.getLogger(__name__)

_FIGURE = re.compile(r'<figure><img alt="([^"]*)" src="(data:image/png;base64,[A-Za-z0-9+/=]+)">')
_SKIP = {"protocol", "params"}


def report_dirs(store: Any) -> list[Path]:
    """Folders holding a ``report.json`` under the store's ``reports/``, newest first."""
    folder = getattr(store, "folder", None)
    if folder is None or not (Path(folder) / "reports").is_dir():
        return []
    found = [p.parent for p in (Path(folder) / "reports").glob("**/report.json")]
    return sorted(found, key=lambda d: (d / "report.json").stat().st_mtime, reverse=True)


def _columns(models: dict[str, dict[str, Any]], limit: int = 9) -> list[str]:
    """The metrics worth a dashboard column: those at cut-off 10 when there are any (else all), then the
    timings; at most ``limit``. The full report has every column."""
    names: list[str] = []
    for vals in models.values():
        names += [k for k in vals if k not in _SKIP and k not in names]
    at10 = [n for n in names if n.endswith("@10")]
    chosen = at10 or [n for n in names if "seconds" not in n and "memory" not in n]
    return (chosen[: limit - 2] + [n for n in ("train_seconds", "inference_seconds") if n in names])[:limit]


def _cell(name: str, value: Any) -> str:
    if isinstance(value, float) and name.endswith("_seconds"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def latest_report(store: Any) -> dict[str, Any] | None:
    """The newest report as template values (task, protocol, columns, rows, figures), or ``None``."""
    for folder in report_dirs(store):
        try:
            data = json.loads((folder / "report.json").read_text())
        except (OSError, ValueError) as exc:
            log.warning("unreadable report %s: %s", folder, exc)
            continue
        models: dict[str, dict[str, Any]] = data.get("models") or {}
        metrics = _columns(models)
        html_path = folder / "report.html"
        page = html_path.read_text() if html_path.exists() else ""
        p = data.get("protocol") or {}
        return {
            "task": data.get("task", ""),
            "started": data.get("started", ""),
            "protocol": ", ".join(f"{k} {v}" for k, v in p.items() if not isinstance(v, dict | list)),
            "columns": ["model", *(m.replace("_seconds", " s") for m in metrics)],
            "rows": [[name, *(_cell(m, vals.get(m, "")) for m in metrics)] for name, vals in models.items()],
            "figures": [{"title": t, "src": src} for t, src in _FIGURE.findall(page)],
            "folder": str(folder),
        }
    return None


def latest_report_html(store: Any) -> str | None:
    """The newest report's self-contained HTML page, or ``None``."""
    for folder in report_dirs(store):
        if (folder / "report.html").exists():
            return (folder / "report.html").read_text()
    return None
