"""Fuzz-suite fixtures: with WAFERLAB_FUZZ_COUNTS=FILE, the examples tried per target
are written to FILE as JSON at the end of the session (for docs/reliability.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from _contract import TRIED


@pytest.fixture(scope="session", autouse=True)
def _record_counts() -> Iterator[None]:
    yield
    target = os.environ.get("WAFERLAB_FUZZ_COUNTS")
    if target:
        with open(target, "w", encoding="utf-8") as handle:
            json.dump(dict(sorted(TRIED.items())), handle, indent=1)
