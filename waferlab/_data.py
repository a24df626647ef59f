"""Read the package's data files (``waferlab/data/*.json``).

Published figures live in these files next to their sources (DESIGN.md,
provenance); every module that needs one reads it through :func:`load_json`.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _text(name: str) -> str:
    return (resources.files("waferlab") / "data" / name).read_text("utf-8")


def load_json(name: str) -> Any:
    """Return the parsed content of ``waferlab/data/<name>`` (a fresh copy each call).

    Examples
    --------
    >>> load_json("ascend-910b.json")["die_area_mm2"]
    665.61
    """
    return json.loads(_text(name))
