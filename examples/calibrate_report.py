"""Calibrate the yield models to the yields quoted in the CSIS report (March 2025).

Prints, process by process:

1. D0 fitted to the large die alone, and what it predicts for the small die
   (the report's argument: TSMC's GA100 defect rate gives the A12 >= 90 %;
   the 910B's 20 % gives a phone SoC well above 70 %, not 50–70 %);
2. every model fitted to both dies at once, with one and two free parameters;
3. the clustering (α) and gross-yield values that reconcile SMIC's figures;
4. the harvestable fraction that turns the 910B's 20 % fully-good yield into
   the FT's 40 % "good + degraded".

Writes ``calibration_yield_curves.png`` into the current directory.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from waferlab.calibration import (
    compare_models,
    feasible_range,
    feasible_ranges,
    fit_yield_model,
    load_dataset,
    processes,
    select,
)
from waferlab.errors import CalibrationError
from waferlab.harvest import harvestable_fraction_for
from waferlab.output import save_figure_atomic
from waferlab.plotting import plot_yield_curves

D0 = "defect_density_per_cm2"
FIGURE = "calibration_yield_curves.png"


def main() -> None:
    data = load_dataset("csis-2025")
    print("Observations (csis-2025):")
    for obs in data:
        print(
            f"  {obs.name:<22} {obs.process:<9} {obs.die_area_mm2:>7g} mm²  "
            f"{obs.yield_text:<8} counts {obs.counts}, {obs.status}"
        )

    panels = []
    for process in processes(data):
        large, small = select(data, process=process)
        print(f"\n=== {process} ===")
        print("\n1. D0 from the large die alone; the small die is predicted:")
        anchored = compare_models(
            [large],
            models=["poisson", "murphy", "seeds", "negative_binomial"],
            held_out=[small],
        )
        print(anchored.table())

        print("\n2. Every model fitted to both dies:")
        both = compare_models([large, small])
        print(both.table())

        print(
            "\n3. Values that meet both (D0 solved for; tolerance 0.01 in log-yield,"
            " about 1 % of the yield):"
        )
        for result in feasible_ranges([large, small]):
            text = ", ".join(result.interval_texts()) or "none"
            print(f"  {result.model:<20} {result.parameter:<12} {text}")

        # The figure: Poisson and Murphy with D0 from the large die alone; Seeds
        # (strong clustering) likewise on TSMC and fitted to both dies on SMIC;
        # on SMIC also Poisson with a gross yield, fitted to both.
        curves = [
            fit_yield_model([large], "poisson"),
            fit_yield_model([large], "murphy"),
        ]
        if process == "TSMC N7":
            curves.append(fit_yield_model([large], "seeds"))
        else:
            curves.append(fit_yield_model([large, small], "seeds"))
            curves.append(fit_yield_model([large, small], "poisson", free=(D0, "gross_yield")))
        panels.append(
            (process, curves, select(data, process=process, counts=None, include_forecasts=True))
        )

    print("\n=== SMIC N+2: 20 % fully good vs the FT's 40 % ===")
    smic = select(data, process="SMIC N+2")
    alpha = feasible_range(smic, "negative_binomial", "alpha")
    print(f"NB α meeting 910B and the phone SoC: {', '.join(alpha.interval_texts())}")
    # Rows: SMIC calibrations that meet both fully-good figures (Poisson with a
    # gross yield inside its feasible range, NB inside its α range) and, for
    # contrast, plain Poisson fitted to the 910B alone. Columns: repair rules.
    rules = {
        "1 defect": {"max_defects": 1},
        "2 defects": {"max_defects": 2},
        "1 of 25 cores": {"n_blocks": 25, "max_bad_blocks": 1},
        "5 of 25 cores": {"n_blocks": 25, "max_bad_blocks": 5},
    }
    calibrations = {
        "poisson (910B only)": ("poisson", {}),
        "poisson, Y0 = 0.8": ("poisson", {"gross_yield": 0.8}),
        "NB α = 1 (Seeds)": ("negative_binomial", {"alpha": 1.0}),
        "NB α = 2": ("negative_binomial", {"alpha": 2.0}),
    }
    print("Fusible share of the die that turns 20 % fully good into 40 % sellable:")
    print(f"  {'calibration':<22}" + "".join(f"{name:>16}" for name in rules))
    for label, (model, params) in calibrations.items():
        cells = []
        for rule in rules.values():
            try:
                fit = harvestable_fraction_for(
                    model,
                    665.61,
                    fully_good_yield=0.20,
                    good_or_degraded_yield=0.40,
                    **rule,
                    **params,
                )
                cells.append(f"{100 * fit.harvestable_fraction:.0f} %")
            except CalibrationError:
                cells.append("out of reach")
        print(f"  {label:<22}" + "".join(f"{c:>16}" for c in cells))

    fig, axes = plt.subplots(1, len(panels), figsize=(15.0, 5.5), squeeze=False)
    for ax, (process, curves, observations) in zip(axes[0], panels, strict=True):
        plot_yield_curves(curves, observations=observations, ax=ax)
        ax.set_title(f"{process}: published yields and calibrated models")
    fig.tight_layout()
    save_figure_atomic(fig, FIGURE)
    plt.close(fig)
    print(f"\nwrote {FIGURE}")


if __name__ == "__main__":
    main()
