"""Ranges, sensitivity, goal seeking and attribution on a hand-written 910C chain.

The chain (12 months of 2025, one row per draw, one column per month):

* wafer starts ramp linearly from ``wafer_starts_per_month_start`` in January
  to ``wafer_starts_per_month_end`` in December, times ``capacity_share``;
* good dies = starts × gross dies per wafer × die yield, plus the die bank;
* packages to date = min(⌊dies to date / 2⌋, ⌊HBM stacks to date / 8⌋) — dies
  and stacks not used in a month stay in stock — and packages in a month are
  the increase of that running minimum;
* finished units = packages × packaging yield.

Inputs and their sources are in ``uncertainty_chain.toml`` beside this script.
Prints the p5/p50/p95 of the 2025 total, the tornado and Sobol' indices, the
capacity share that gives 1 M units at median inputs, where HBM stops binding,
and the attribution between two cases. Writes ``uncertainty_fan.png``,
``uncertainty_tornado.png`` and ``uncertainty_waterfall.png`` into the
current directory.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np

from waferlab.analysis import attribute, crossovers, solve
from waferlab.output import format_table, save_figure_atomic
from waferlab.plotting import plot_fan_chart, plot_tornado, plot_waterfall
from waferlab.uncertainty import (
    ValidRange,
    parse_correlations,
    parse_distributions,
    run_uncertainty,
    sobol_sensitivity,
    tornado,
)

HERE = Path(__file__).resolve().parent
FRACTION = ValidRange(0.0, 1.0, low_open=True)
POSITIVE = ValidRange(0.0, None, low_open=True)
RANGES = {
    "die_yield": FRACTION,
    "packaging_yield": FRACTION,
    "capacity_share": FRACTION,
    "wafer_starts_per_month_end": POSITIVE,
    "hbm_stock_stacks": POSITIVE,
}


def chain(x: dict[str, Any]) -> dict[str, np.ndarray]:
    """Monthly finished units and binding constraint, shape (n, months)."""
    months = int(x["months"])
    t = np.arange(months) / (months - 1)
    start = np.asarray(x["wafer_starts_per_month_start"], dtype=float)[..., None]
    end = np.asarray(x["wafer_starts_per_month_end"], dtype=float)[..., None]
    share = np.asarray(x["capacity_share"], dtype=float)[..., None]
    starts = (start + (end - start) * t) * share
    good = starts * x["gross_dies_per_wafer"] * np.asarray(x["die_yield"])[..., None]
    dies_to_date = x["die_bank_dies"] + np.cumsum(good, axis=-1)
    stock = np.asarray(x["hbm_stock_stacks"], dtype=float)[..., None]
    hbm_to_date = stock + x["hbm_supply_stacks_per_month"] * (np.arange(months) + 1)
    by_dies = np.floor(dies_to_date / x["dies_per_package"])
    by_hbm = np.floor(hbm_to_date / x["hbm_stacks_per_package"])
    packages_to_date = np.minimum(by_dies, by_hbm)
    packages = np.diff(packages_to_date, axis=-1, prepend=0.0)
    units = packages * np.asarray(x["packaging_yield"])[..., None]
    return {
        "final_units": units,
        "binding_constraint": np.where(by_dies < by_hbm, "dies", "hbm"),
    }


def year_total(y: np.ndarray) -> np.ndarray:
    """The calendar-2025 total of a monthly output."""
    return y.sum(axis=-1)


def main() -> None:
    """Run every analysis on the chain and write the three figures."""
    spec = tomllib.loads((HERE / "uncertainty_chain.toml").read_text(encoding="utf-8"))
    fixed = spec["parameters"]
    distributions = parse_distributions(spec["distributions"], ranges=RANGES)
    correlations = parse_correlations(spec["correlations"], names=list(distributions))
    published = spec["published"]

    result = run_uncertainty(
        chain, distributions, 20_000, seed=2025, method="lhs",
        correlations=correlations, fixed=fixed,
    )  # fmt: skip
    q = result.quantiles("final_units", [0.05, 0.25, 0.5, 0.75, 0.95], cumulative=True)
    print(f"Finished 910C in 2025, {result.n_draws:,} draws (Latin hypercube, seed 2025):")
    print("  " + "  ".join(f"{k} {v[-1]:,.0f}" for k, v in q.items()))
    hbm = result.shares("binding_constraint").get("hbm", np.zeros(12))
    print(f"  share of draws where HBM binds: January {hbm[0]:.0%}, December {hbm[-1]:.0%}")
    print()

    medians = {name: d.median for name, d in distributions.items()}
    t = tornado(chain, distributions, fixed=fixed, output="final_units", reduce=year_total)
    print(f"Tornado (2025 total at medians {t.baseline:,.0f}):")
    print(
        format_table(
            [
                {"input": n, "low": lo, "high": hi, "swing": abs(hi - lo)}
                for n, lo, hi in zip(t.names, t.output_low, t.output_high, strict=True)
            ],
            ["input", "low", "high", "swing"],
            float_format=",.0f",
        )
    )
    print()

    s = sobol_sensitivity(
        chain, distributions, n=2**12, seed=1, fixed=fixed,
        output="final_units", reduce=year_total,
    )  # fmt: skip
    print("Sobol' indices of the 2025 total (inputs independent here, 95 % intervals):")
    rows = [
        {
            "input": n,
            "first": f"{s.first_order[i]:.3f} [{lo1:.3f}, {hi1:.3f}]",
            "total": f"{s.total_order[i]:.3f} [{lo2:.3f}, {hi2:.3f}]",
        }
        for i, (n, (lo1, hi1), (lo2, hi2)) in enumerate(
            zip(s.names, s.first_order_interval, s.total_order_interval, strict=True)
        )
    ]
    print(format_table(rows, ["input", "first", "total"]))
    print()

    at_medians = {**fixed, **medians}
    ai_share = {**at_medians, "capacity_share": 0.16}
    goal = solve(
        chain, "die_yield", 1_200_000, low=0.0, high=1.0, inputs=ai_share,
        output="final_units", reduce=year_total,
    )  # fmt: skip
    print(
        f"Die yield for 1,200,000 units in 2025 at a capacity share of 0.16, other inputs "
        f"at medians: {goal.value:.5f} (gives {goal.achieved:,.0f}; "
        f"December binding: {goal.outputs['binding_constraint'][-1]})"
    )
    for c in crossovers(
        chain, "capacity_share", low=0.0, high=1.0, inputs=at_medians,
        output="binding_constraint", reduce=lambda y: y[:, -1],
    ):  # fmt: skip
        print(f"  in December, {c.before} bind below a share of {c.value:.4f}, {c.after} above")
    print()

    low_case = {**at_medians, "die_yield": 0.20, "capacity_share": 0.16}
    high_case = {**at_medians, "die_yield": 0.40, "capacity_share": 1.0, "hbm_stock_stacks": 14e6}
    attribution = attribute(chain, low_case, high_case, output="final_units", reduce=year_total)
    print(
        f"Attribution, {attribution.value_a:,.0f} -> {attribution.value_b:,.0f} units "
        f"(ln ratio {attribution.total:.4f}):"
    )
    for name, phi in zip(attribution.names, attribution.contributions, strict=True):
        print(f"  {name:<18} {phi:+.4f}  ({phi / attribution.total:.0%})")
    print(f"  sum                {attribution.contributions.sum():+.4f}")

    points = [
        (11, published["ascend_units_2025_semianalysis"], "SemiAnalysis 805k"),
        (11, published["ascend_units_2025_bis_ceiling"], "BIS ceiling 200k"),
    ]
    periods = [f"2025-{m:02d}" for m in range(1, 13)]
    ax = plot_fan_chart(
        result, output="final_units", cumulative=True, periods=periods, published=points,
        ylabel="finished 910C to date", title="Finished 910C to date in 2025 (hand-written chain)",
    )  # fmt: skip
    save_figure_atomic(ax.figure, "uncertainty_fan.png")
    ax = plot_tornado(t, xlabel="finished 910C in 2025")
    save_figure_atomic(ax.figure, "uncertainty_tornado.png")
    ax = plot_waterfall(
        attribution, labels=("low case", "high case"), ylabel="finished 910C in 2025"
    )
    save_figure_atomic(ax.figure, "uncertainty_waterfall.png")


if __name__ == "__main__":
    main()
