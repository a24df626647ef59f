"""waferlab: chip-fab yield and wafer economics.

How many dies fit on a wafer, how many of them work, how many finished chips a
fab turns out per month, and what each one costs, with every assumption named
and sourced.

The main names are re-exported here and loaded on first use (so ``import
waferlab`` stays cheap); each lives in the module that owns the concept
(``waferlab.geometry``, ``waferlab.yield_models``,
``waferlab.calibration``, ``waferlab.harvest``, ``waferlab.simulate``,
``waferlab.funnel``, ``waferlab.economics``, ``waferlab.scenarios``,
``waferlab.report``). Plots are in ``waferlab.plotting``, which imports
matplotlib only when a plot is drawn.

Examples
--------
>>> import waferlab
>>> waferlab.gross_dies_per_wafer(waferlab.Wafer(300.0), waferlab.Die(10.0, 10.0))
616
>>> round(waferlab.die_yield("murphy", 826.0, 0.1156), 3)
0.415
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> module of waferlab that defines it. Each module is imported the
#: first time one of its names is used, so ``import waferlab`` costs little more
#: than numpy and a command loads only what it needs (PEP 562).
_LAZY_NAMES: dict[str, str] = {
    "CalibrationResult": "calibration",
    "ModelComparison": "calibration",
    "Observation": "calibration",
    "compare_models": "calibration",
    "fit_yield_model": "calibration",
    "load_dataset": "calibration",
    "CostBreakdown": "economics",
    "CostInputs": "economics",
    "cost_breakdown": "economics",
    "wafer_cost_from_capex": "economics",
    "CalibrationError": "errors",
    "GeometryError": "errors",
    "InvalidParameterError": "errors",
    "NoSolutionError": "errors",
    "ScenarioError": "errors",
    "UnknownNameError": "errors",
    "WaferlabError": "errors",
    "FunnelInputs": "funnel",
    "FunnelResult": "funnel",
    "FunnelStage": "funnel",
    "run_funnel": "funnel",
    "Die": "geometry",
    "DieMap": "geometry",
    "Reticle": "geometry",
    "Wafer": "geometry",
    "classic_dies_per_wafer": "geometry",
    "gross_dies_per_wafer": "geometry",
    "gross_dies_per_wafer_many": "geometry",
    "place_dies": "geometry",
    "HarvestBins": "harvest",
    "harvest_bins": "harvest",
    "harvestable_fraction_for": "harvest",
    "Report": "report",
    "build_report": "report",
    "Scenario": "scenarios",
    "list_scenarios": "scenarios",
    "load_scenario": "scenarios",
    "SimulationResult": "simulate",
    "simulate_wafers": "simulate",
    "YIELD_MODELS": "yield_models",
    "YieldModel": "yield_models",
    "defect_density_for_yield": "yield_models",
    "die_yield": "yield_models",
    "get_model": "yield_models",
}

if TYPE_CHECKING:  # the names as type checkers and IDEs see them
    from waferlab.calibration import (
        CalibrationResult,
        ModelComparison,
        Observation,
        compare_models,
        fit_yield_model,
        load_dataset,
    )
    from waferlab.economics import (
        CostBreakdown,
        CostInputs,
        cost_breakdown,
        wafer_cost_from_capex,
    )
    from waferlab.errors import (
        CalibrationError,
        GeometryError,
        InvalidParameterError,
        NoSolutionError,
        ScenarioError,
        UnknownNameError,
        WaferlabError,
    )
    from waferlab.funnel import FunnelInputs, FunnelResult, FunnelStage, run_funnel
    from waferlab.geometry import (
        Die,
        DieMap,
        Reticle,
        Wafer,
        classic_dies_per_wafer,
        gross_dies_per_wafer,
        gross_dies_per_wafer_many,
        place_dies,
    )
    from waferlab.harvest import HarvestBins, harvest_bins, harvestable_fraction_for
    from waferlab.report import Report, build_report
    from waferlab.scenarios import Scenario, list_scenarios, load_scenario
    from waferlab.simulate import SimulationResult, simulate_wafers
    from waferlab.yield_models import (
        YIELD_MODELS,
        YieldModel,
        defect_density_for_yield,
        die_yield,
        get_model,
    )


#: Submodules reachable as attributes of the package without importing them first.
_SUBMODULES = frozenset(
    {
        "calibration",
        "economics",
        "errors",
        "funnel",
        "geometry",
        "harvest",
        "output",
        "plotting",
        "report",
        "scenarios",
        "simulate",
        "units",
        "yield_models",
    }
)


def __getattr__(name: str) -> Any:
    module_name = _LAZY_NAMES.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(f"waferlab.{module_name}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"waferlab.{name}")
    else:
        raise AttributeError(f"module 'waferlab' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "YIELD_MODELS",
    "CalibrationError",
    "CalibrationResult",
    "CostBreakdown",
    "CostInputs",
    "Die",
    "DieMap",
    "FunnelInputs",
    "FunnelResult",
    "FunnelStage",
    "GeometryError",
    "HarvestBins",
    "InvalidParameterError",
    "ModelComparison",
    "NoSolutionError",
    "Observation",
    "Report",
    "Reticle",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "UnknownNameError",
    "Wafer",
    "WaferlabError",
    "YieldModel",
    "__version__",
    "build_report",
    "classic_dies_per_wafer",
    "compare_models",
    "cost_breakdown",
    "defect_density_for_yield",
    "die_yield",
    "fit_yield_model",
    "get_model",
    "gross_dies_per_wafer",
    "gross_dies_per_wafer_many",
    "harvest_bins",
    "harvestable_fraction_for",
    "list_scenarios",
    "load_dataset",
    "load_scenario",
    "place_dies",
    "run_funnel",
    "simulate_wafers",
    "wafer_cost_from_capex",
]
