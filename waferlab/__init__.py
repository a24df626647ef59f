"""waferlab: chip-fab yield and wafer economics.

How many dies fit on a wafer, how many of them work, how many finished chips a
fab turns out per month, and what each one costs, with every assumption named
and sourced.
"""

from __future__ import annotations

__version__ = "0.1.0"

from waferlab.errors import (
    CalibrationError,
    GeometryError,
    InvalidParameterError,
    ScenarioError,
    UnknownNameError,
    WaferlabError,
)

__all__ = [
    "CalibrationError",
    "GeometryError",
    "InvalidParameterError",
    "ScenarioError",
    "UnknownNameError",
    "WaferlabError",
    "__version__",
]
