"""The error contract the fuzz suite checks, and its budget (imported by tests; collects none).

Budget: each fuzz test runs ``examples(n)`` examples: n under the default and
``ci`` profiles (the whole suite stays within about a minute on 2 cores), and
10 × n under ``HYPOTHESIS_PROFILE=stress`` (the profile's 1,000 examples
against the default 100). Every example is bounded in time by :func:`time_limit`.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator
from typing import Any

from hypothesis import settings

#: 1 normally, 10 under the stress profile (whose max_examples is 1,000 against 100).
SCALE = max(1, settings.default.max_examples // 100)

#: Examples tried per test in this session (for the counts in docs/reliability.md).
TRIED: dict[str, int] = {}


def examples(n: int) -> int:
    """The example budget of a test: ``n``, scaled by the profile."""
    return n * SCALE


def count(name: str) -> None:
    TRIED[name] = TRIED.get(name, 0) + 1


class Hang(BaseException):
    """A call ran past its time bound (a BaseException, so no handler swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` if the block runs longer than ``seconds`` (main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# A number token that is not finite, as text and JSON print it.
_NOT_FINITE = re.compile(r"(?<![A-Za-z_])(nan|NaN|inf|-inf|Infinity|-Infinity)(?![A-Za-z_])")


def assert_contract(result: Any, command: str, *, finite_output: bool = True) -> None:
    """Exit 0 with finite output, or exit 1/2 with one line on stderr and no traceback.

    ``finite_output=False`` skips the search for nan/inf words in the output (where
    it echoes a name the test generated, such as a folder called "Infinity").
    """
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stderr, result.stderr
    if result.exit_code == 0:
        assert not (finite_output and _NOT_FINITE.search(result.stdout)), result.stdout[-2000:]
        return
    assert result.exit_code in (1, 2), (result.exit_code, result.stderr)
    assert result.stdout == "", result.stdout
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"waferlab {command}: error: "), result.stderr
    assert len(result.stderr) < 2000, len(result.stderr)
