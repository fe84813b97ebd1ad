"""One retry policy for every request daofed sends to a service (a chain node, an IPFS node).

A request can fail on the way without the service having answered it: the connection was
refused or reset for a moment, the answer timed out, a proxy said 502. Such a failure is
tried again a few times, waiting twice as long each time; an answer from the service
itself (a revert, a rejected transaction, a Kubo error report, a 4xx) is final. A
service that stays down is reported after about a second and a half: whoever loops above
(the agent's runner backs off for up to 30 s) decides what comes next, and a retry at
more than one level would multiply the tries.

Chain requests are retried by web3's own HTTPProvider, configured from this policy
(:meth:`RetryPolicy.web3_configuration`); every other request goes through
:meth:`RetryPolicy.call` (tenacity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import requests
import tenacity
from web3.providers.rpc.utils import ExceptionRetryConfiguration

from daofed.errors import ConfigError

_T = TypeVar("_T")


class ServiceBusy(Exception):
    """A service answered that it cannot serve now (an HTTP 5xx that is not its own verdict)."""


TRANSIENT: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.HTTPError,  # web3 raises it for any HTTP status other than 200 (a proxy's 502)
    httpx.TransportError,  # connect, read and write errors and timeouts
    ServiceBusy,
    ConnectionError,
    TimeoutError,
)
"""Failures after which the request may not have reached the service: worth another try."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a request, and which failures to try again.

    ``attempts`` counts the first try; the wait before try ``n + 1`` is
    ``first_wait * 2 ** (n - 1)`` seconds.
    """

    attempts: int = 4
    first_wait: float = 0.2
    transient: tuple[type[BaseException], ...] = TRANSIENT

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.first_wait < 0:
            raise ConfigError(
                f"a retry policy of {self.attempts} attempts and a first wait of "
                f"{self.first_wait} s is invalid: use at least 1 attempt and a wait >= 0"
            )

    def call(self, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` until it returns or raises a failure that is not transient.

        After the last attempt its transient failure is raised as it is.
        """
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.first_wait),
            retry=tenacity.retry_if_exception_type(self.transient),
            reraise=True,
        )
        return retrying(attempt)

    def web3_configuration(self) -> ExceptionRetryConfiguration:
        """Express this policy for web3's HTTPProvider, which retries the requests it sends.

        Its default method list includes ``eth_sendRawTransaction``: a resent transaction
        that did arrive the first time is recognised by its hash (:mod:`daofed.chain.tx`).
        """
        return ExceptionRetryConfiguration(
            errors=self.transient, retries=self.attempts, backoff_factor=self.first_wait
        )


RETRY = RetryPolicy()
"""The policy every daofed client uses unless a caller passes its own."""
