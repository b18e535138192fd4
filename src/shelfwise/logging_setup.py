"""Log lines and progress bars on one terminal, never interleaved.

tqdm redraws its bars on stderr; a log line written to stderr while a bar is drawn lands on the bar's line
("encode: 40%|███ | 4/10INFO built ..."). The command line's log handler therefore writes through
:func:`tqdm.tqdm.write`, which clears the active bars, prints the line and redraws them below it.

Example:
    >>> import logging
    >>> handler = log_handler()
    >>> isinstance(handler, logging.Handler)
    True
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from tqdm import tqdm

__all__ = ["TqdmStream", "log_handler"]


class TqdmStream:
    """A file-like stderr that writes through :func:`tqdm.tqdm.write` (bars cleared and redrawn)."""

    def write(self, text: str) -> int:
        """Write ``text`` as is (no newline added)."""
        if text:
            tqdm.write(text, file=sys.stderr, end="")
        return len(text)

    def flush(self) -> None:
        """Flush stderr."""
        sys.stderr.flush()

    def isatty(self) -> bool:
        """Whether stderr is a terminal (decides colours)."""
        return bool(getattr(sys.stderr, "isatty", lambda: False)())

    def fileno(self) -> int:
        """Stderr's descriptor (rich reads the terminal size from it)."""
        return sys.stderr.fileno()


def log_handler(**options: Any) -> RichHandler:
    """The command line's log handler: rich formatting, written through :class:`TqdmStream`."""
    stream = TqdmStream()
    console = Console(file=stream, force_terminal=stream.isatty() or None, soft_wrap=True)  # type: ignore[arg-type]
    return RichHandler(console=console, show_path=False, show_time=False, rich_tracebacks=False, **options)
