"""What ``influxkit write`` tells the user: a progress bar, the errors, a summary.

Everything goes to stderr, so stdout stays free for data. The bar (rich) is shown
only when stderr is a terminal and ``--quiet`` was not given; errors are always
listed (up to a limit), and the summary line is printed unless ``--quiet``.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

__all__ = ["WriteReport"]


class WriteReport:
    """Counts points written and failed, shows progress, lists errors, sums up.

    Args:
        console: where to print (stderr); the bar needs ``console.is_terminal``.
        quiet: no bar and no summary (errors are still listed).
        show_errors: list at most this many errors (0: all of them).
    """

    def __init__(self, console: Console, *, quiet: bool = False, show_errors: int = 100) -> None:
        self.console = console
        self.quiet = quiet
        self.show_errors = show_errors
        self.written = 0
        self.failed = 0
        self.errors = 0
        self.started = time.monotonic()
        self._progress: Progress | None = None
        if console.is_terminal and not quiet:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[points]:>12,} points"),
                TextColumn("{task.fields[rate]:>10,.0f} points/s"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._progress.start()
        self._task: TaskID | None = None

    @property
    def seconds(self) -> float:
        """Seconds since the report started."""
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Points written per second so far."""
        return self.written / max(self.seconds, 1e-9)

    def start_source(self, label: str, total: int | None) -> None:
        """A new input: a new bar (``total`` in the source's units; ``None``: unknown)."""
        if self._progress is not None:
            self._task = self._progress.add_task(label, total=total, points=0, rate=0.0)

    def advance(self, position: int, written: int, failed: int = 0) -> None:
        """The current source reached ``position``; ``written``/``failed`` more points."""
        self.written += written
        self.failed += failed
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=position, points=self.written, rate=self.rate
            )

    def error(self, location: str, message: str, line: str | None = None) -> None:
        """List one error (``location`` is ``file:line`` or ``file row N``)."""
        self.errors += 1
        if self.show_errors and self.errors > self.show_errors:
            return
        text = Text()
        text.append("error", style="bold red")
        text.append(f": {location}: {message}")
        if line:
            shown = line if len(line) <= 200 else line[:200] + "..."
            text.append(f"\n    {shown}", style="dim")
        self._print(text)

    def _print(self, text: Any) -> None:
        console = self._progress.console if self._progress is not None else self.console
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        """Stop the bar and print the summary line."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        hidden = self.errors - self.show_errors if self.show_errors else 0
        if hidden > 0:
            self._print(f"... {hidden:,} more error(s) not listed (see --show-errors)")
        if not self.quiet:
            self._print(self.summary())

    def summary(self) -> str:
        """``N points written, M failed in S s (R points/s)``."""
        points = "point" if self.written == 1 else "points"
        return (
            f"{self.written:,} {points} written, {self.failed:,} failed "
            f"in {self.seconds:.2f} s ({self.rate:,.0f} points/s)"
        )
