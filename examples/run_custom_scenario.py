"""Run a user's own scenario file next to the built-in preset it inherits from.

The scenario file sits next to this script and is found relative to the
script's own location, so the example runs from any working directory:

    python examples/run_custom_scenario.py
"""

from __future__ import annotations

from pathlib import Path

from waferlab.funnel import run_funnel
from waferlab.scenarios import load_scenario

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Load the custom scenario, run its funnel and print the stage table."""
    scenario = load_scenario(HERE / "custom_scenario.toml")
    print(f"{scenario.name}: {scenario.description}")
    print(f"inherits {scenario.inherits}; values set in the file and their sources:")
    for key in ("wafer_starts_per_month", "capacity_share", "months", "die_yield"):
        print(f"  {key} = {scenario.parameters[key]}  [{scenario.sources[key]}]")
    print()

    result = run_funnel(scenario.funnel_inputs())
    print(result.stage_table())
    print()
    print(result.summary())

    # the same chain at the CSIS report's own 20 % yield, for comparison
    base = scenario.set_parameter("die_yield", 0.20, source="CSIS 2025 (Allen): about 20 %")
    at_csis_yield = run_funnel(base.funnel_inputs())
    print()
    print(
        f"at the CSIS 20 % yield instead: {at_csis_yield.final_units:,.0f} "
        f"{at_csis_yield.final_unit} over {at_csis_yield.months} months"
    )


if __name__ == "__main__":
    main()
