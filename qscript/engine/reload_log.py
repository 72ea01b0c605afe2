"""The reload log: what ran, TRACE output and errors, always passed through redaction."""

from __future__ import annotations

from collections.abc import Callable


def _identity(text: str) -> str:
    return text


class ReloadLog:
    """Collects log lines; ``sink`` (for example the CLI's stderr writer) sees each at once."""

    def __init__(
        self,
        sink: Callable[[str], None] | None = None,
        redact: Callable[[str], str] = _identity,
    ) -> None:
        self.lines: list[str] = []
        self._sink = sink
        self._redact = redact

    def write(self, text: str) -> None:
        line = self._redact(text)
        self.lines.append(line)
        if self._sink is not None:
            self._sink(line)
