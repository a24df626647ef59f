"""The CSIS Ascend 910C chain: 50,000 wafer starts a month to finished 910C.

Builds the funnel from the report's rounded inputs, prints the stage table,
shows what the exact placement of the real die changes, prices the result, and
writes ``funnel_910c.png`` and ``cost_910c.png`` into the current directory.

Every number is quoted from a publication, R unless another is named:
R = G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of the
U.S.-China AI Race", CSIS, 7 March 2025. The same inputs, each with its full
source, are the built-in scenario csis-2025-smic-target
(`waferlab scenarios show csis-2025-smic-target`).

Run: python examples/funnel_910c.py
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from waferlab.economics import CostInputs, cost_breakdown
from waferlab.funnel import FunnelInputs, run_funnel
from waferlab.output import save_figure_atomic
from waferlab.plotting import plot_cost_breakdown, plot_funnel

report_inputs = FunnelInputs(
    wafer_starts_per_month=50_000,  # R: SMIC 7 nm target, end of 2025
    months=1,  # R's figures are per month
    gross_dies_per_wafer=80,  # R: "roughly 80 chip dies" per 300 mm wafer
    die_yield=0.20,  # R: ~20 % of 910B dies fully functional
    dies_per_package=2,  # R: two dies per 910C
    packaging_yield=0.75,  # R's arithmetic: 75 % of packages survive
    compute_equivalent_factor=0.6,  # R: 910C ≈ 60 % of H100 inference performance
    compute_equivalent_basis="reported",  # a reported ratio, not a data-sheet ratio
)

result = run_funnel(report_inputs)
print("CSIS chain, report's rounded inputs (per month)")
print(result.stage_table())
print()
print(result.summary())

# The same chain with the dies per wafer from an exact placement of the real
# 21.32 x 31.22 mm die (0.1 mm scribe, 3 mm edge exclusion: waferlab defaults).
exact = run_funnel(
    report_inputs.replace(gross_dies_per_wafer=None, die_width_mm=21.32, die_height_mm=31.22)
)
print()
print(
    f"Exact placement: {exact.gross_dies_per_wafer:.0f} dies per wafer instead of 80 "
    f"-> {exact.final_units:,.0f} tested units per month instead of {result.final_units:,.0f}"
)

# Costs: TSMC 7 nm wafer $9,346 (CSET 2020) x 1.45 for SMIC's reported 40-50 %
# premium; HBM2E ~$300 a stack (8 per 910C, TechInsights teardown 2025); CoWoS-class
# packaging ~$1,150 (middle of $300-2,000); test $80 (CSET's packaging-assembly-test figure).
costs = CostInputs(
    wafer_cost_usd=9_346 * 1.45,
    hbm_cost_usd_per_stack=300,
    packaging_cost_usd_per_package=1_150,
    test_cost_usd_per_unit=80,
)
priced = run_funnel(report_inputs.replace(hbm_stacks_per_package=8))
breakdown = cost_breakdown(priced, costs)
print()
print(breakdown.table())

funnel_ax = plot_funnel(result)
save_figure_atomic(funnel_ax.figure, "funnel_910c.png")
cost_ax = plot_cost_breakdown(breakdown)
save_figure_atomic(cost_ax.figure, "cost_910c.png")
print()
print("wrote funnel_910c.png and cost_910c.png")
