"""Scenario files: funnel and cost inputs with a source for every number.

A scenario is a TOML file naming the inputs of a die-to-chip funnel
(:class:`waferlab.funnel.FunnelInputs`) and, optionally, its costs
(:class:`waferlab.economics.CostInputs`), each value next to the publication it
comes from. waferlab ships presets for the published estimates of Huawei Ascend
910C output (CSIS, SemiAnalysis, Morgan Stanley, US Commerce); a user's own file
works exactly like a built-in one and may inherit from one.

Examples
--------
>>> from waferlab.scenarios import list_scenarios, load_scenario
>>> "csis-2025-smic-current" in list_scenarios()
True
>>> load_scenario("csis-2025-smic-current").parameters["wafer_starts_per_month"]
20000
"""

from __future__ import annotations

from waferlab.scenarios.loader import (
    DISTRIBUTION_SOURCE_PREFIX,
    NUMERIC_INPUT_PATTERNS,
    Scenario,
    distribution_range,
    list_scenarios,
    load_scenario,
    numeric_inputs,
    parameter_unit,
    scenario_keys,
)

__all__ = [
    "DISTRIBUTION_SOURCE_PREFIX",
    "NUMERIC_INPUT_PATTERNS",
    "Scenario",
    "distribution_range",
    "list_scenarios",
    "load_scenario",
    "numeric_inputs",
    "parameter_unit",
    "scenario_keys",
]
