"""Progress for long commands and machine-readable logs.

- On a terminal: a rich progress bar on stderr (stdout stays clean for --json and pipes).
- Not on a terminal (cron, CI, a pipe): nothing while running, then one summary line on stderr,
  so a nightly job's mail holds one line per long step, not a screenful of redraws.
- `--log-format json`: every gsync log record as one JSON object per line on stderr (for log
  collectors: Cloud Logging, journald, Loki), and progress as `progress` events instead of a bar.

Log records never carry personal data (the project's rule); progress labels are step names and
counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from types import TracebackType
from typing import Any, TextIO

LOG_FORMATS = ("text", "json")
_state: dict[str, str] = {"log_format": "text"}
log = logging.getLogger("gsync.progress")

# LogRecord attributes that are not "extra" fields.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            data["error"] = record.exc_info[0].__name__
        return json.dumps(data, default=str, ensure_ascii=False)


def log_format() -> str:
    """The current log format ("text" or "json")."""
    return _state["log_format"]


def configure_logging(fmt: str, verbose: int = 0, stream: TextIO | None = None) -> None:
    """Switch gsync's logs to `fmt`. JSON logs INFO and above (DEBUG with -vv) on stderr.

    Idempotent: a second call replaces gsync's own handler, never adds another.
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use one of {', '.join(LOG_FORMATS)}")
    _state["log_format"] = fmt
    logger = logging.getLogger("gsync")
    for handler in list(logger.handlers):
        if getattr(handler, "_gsync_json", False):
            logger.removeHandler(handler)
    if fmt == "json":
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._gsync_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.propagate = False  # the root handler (-v's text format) must not print it twice
        logger.setLevel(logging.DEBUG if verbose >= 2 else logging.INFO)
    else:
        logger.propagate = True


class Progress:
    """Track a long step: `with Progress("Syncing", total=3, unit="school") as p: p.advance()`.

    The mode is chosen when it starts: JSON events under `--log-format json`, a bar when `stream`
    (default stderr) is a terminal, else one summary line at the end; `quiet=True` prints nothing
    (e.g. under --json, whose output is the summary).
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        unit: str = "steps",
        stream: TextIO | None = None,
        quiet: bool = False,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.done = 0
        self.mode = "quiet"
        self._started = 0.0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if log_format() == "json":
            self.mode = "json"
            log.info(
                "progress start", extra={"event": "start", "step": self.label, "total": self.total}
            )
        elif self.quiet:
            self.mode = "quiet"
        elif self.stream.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self.mode = "bar"
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total)
        else:
            self.mode = "line"
        return self

    def advance(self, n: int = 1, detail: str = "") -> None:
        """Count `n` more done; `detail` (no personal data) labels the bar or the JSON event."""
        self.done += n
        if self.mode == "bar":
            desc = f"{self.label}: {detail}" if detail else self.label
            self._bar.update(self._task, advance=n, description=desc)
        elif self.mode == "json":
            log.info(
                "progress",
                extra={"event": "advance", "step": self.label, "done": self.done, "detail": detail},
            )

    def echo(self, text: str) -> None:
        """Print a line above the bar (or plainly when there is none)."""
        if self.mode == "bar":
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stdout)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def summary(self) -> str:
        """The one line printed when not on a terminal."""
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.label}: {self.done}{of} {self.unit} in {self.seconds:.1f} s"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.mode == "bar":
            self._bar.stop()
        if exc_type is not None:
            if self.mode == "json":
                log.info(
                    "progress failed",
                    extra={"event": "failed", "step": self.label, "done": self.done},
                )
            return
        if self.mode == "json":
            log.info(
                "progress done",
                extra={
                    "event": "done",
                    "step": self.label,
                    "done": self.done,
                    "seconds": round(self.seconds, 3),
                },
            )
        elif self.mode in ("line", "bar"):
            print(self.summary(), file=self.stream)
