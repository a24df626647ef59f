"""Shared checks for the command-line tests (imported by test modules; collects no tests)."""

from __future__ import annotations

from typing import Any


def assert_one_line_error(result: Any, code: int, *needles: str, command: str | None = None) -> str:
    """Check the CLI error contract and return the error line.

    The contract (docs/cli.md): exit status ``code`` (2 usage, 1 domain), exactly one
    line on stderr, nothing on stdout, no traceback; with ``command``, the line starts
    with ``waferlab <command>: error:``. Every ``needle`` must appear in the line.
    """
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == "", result.stdout
    if command is not None:
        assert result.stderr.startswith(f"waferlab {command}: error: "), result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    return str(result.stderr)
