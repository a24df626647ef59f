"""Benchmark: yield-model evaluation rate, harvest bins and defect simulation.

1. Every registered yield model (:data:`waferlab.yield_models.YIELD_MODELS`) over
   10^7 die areas from 1 to 800 mm² at D0 = 0.1 /cm², called through its
   module-level function with array input. The floor is one ``numpy.exp`` over
   the same number of elements: no model can be cheaper than a single
   transcendental per element, so the ratio says how many "exp-equivalents" a
   model costs (validation, unit conversion and its own arithmetic included).
2. One scalar call (plain Python floats in, float out) of every model function
   and of :func:`waferlab.yield_models.die_yield`, in µs per call, against one
   ``math.exp`` call (target: ≤ 20 µs per call).
3. :func:`waferlab.harvest.harvest_bins` over 10^5 areas for the max-defects and
   the 25-block rule, Poisson and negative binomial.
4. :func:`waferlab.simulate.simulate_wafers` on the report's 80-die wafer (the
   21.32 × 31.22 mm Ascend 910B die, street-centred grid, 300 mm wafer, 3 mm
   edge exclusion), in wafers per second, for each clustering scope and with
   the 25-core harvest rule.

Usage: ``python benchmarks/bench_yield.py [--quick]`` (``--quick``: 10^6
evaluations, fewer wafers, one repeat). Benchmarks never fail: they print
figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

import numpy as np
from _timing import timed

from waferlab.geometry import Die, Wafer, place_dies
from waferlab.harvest import harvest_bins
from waferlab.output import format_table
from waferlab.simulate import simulate_wafers
from waferlab.units import MM2_PER_CM2
from waferlab.yield_models import YIELD_MODELS, die_yield

#: Model parameters used where a model needs one without a default (n_layers).
EXTRA_PARAMETERS: dict[str, dict[str, Any]] = {
    name: {"n_layers": 4}
    for name, model in YIELD_MODELS.items()
    if "n_layers" in model.required_parameters
}


def bench_models(n: int, repeat: int) -> None:
    area = np.linspace(1.0, 800.0, n)
    lam = area * 0.1 / MM2_PER_CM2
    _, floor = timed(lambda: np.exp(-lam), repeat)
    rows: list[dict[str, Any]] = [
        {"what": "numpy.exp (floor)", "seconds": floor, "ns": floor / n * 1e9, "ratio": 1.0}
    ]
    for name, model in YIELD_MODELS.items():
        params = EXTRA_PARAMETERS.get(name, {})
        _, seconds = timed(lambda m=model, p=params: m.function(area, 0.1, **p), repeat)
        rows.append(
            {"what": name, "seconds": seconds, "ns": seconds / n * 1e9, "ratio": seconds / floor}
        )
    print(f"Yield models: {n:,} evaluations each (best of {repeat})")
    print(
        format_table(
            rows,
            ["what", "seconds", "ns", "ratio"],
            headers=["Model", "Time [s]", "ns / die", "x numpy.exp"],
            float_format=".3g",
        )
    )


def bench_scalar_calls(n: int, repeat: int) -> None:
    import math
    import timeit

    def per_call(stmt: Any) -> float:
        return min(timeit.repeat(stmt, number=n, repeat=repeat)) / n

    floor = per_call(lambda: math.exp(-0.6656))
    rows: list[dict[str, Any]] = [
        {"what": "math.exp (floor)", "us": floor * 1e6, "us2": "", "ratio": 1.0}
    ]
    for name, model in YIELD_MODELS.items():
        params = EXTRA_PARAMETERS.get(name, {})
        direct = per_call(lambda m=model, p=params: m.function(665.61, 0.1, **p))
        dispatch = per_call(lambda m=name, p=params: die_yield(m, 665.61, 0.1, **p))
        rows.append(
            {"what": name, "us": direct * 1e6, "us2": dispatch * 1e6, "ratio": dispatch / floor}
        )
    print(f"\nScalar calls: one die (665.61 mm², D0 = 0.1 /cm²), best of {repeat} x {n:,}")
    print(
        format_table(
            rows,
            ["what", "us", "us2", "ratio"],
            headers=["Model", "function [us]", "die_yield [us]", "die_yield / math.exp"],
            float_format=".3g",
        )
    )
    print("Target: <= 20 us per scalar die_yield call.")


def bench_harvest(n: int, repeat: int) -> None:
    area = np.linspace(1.0, 800.0, n)
    cases = [
        ("poisson, <= 1 defect", "poisson", {}),
        ("poisson, <= 2 of 25 blocks", "poisson", {"n_blocks": 25, "max_bad_blocks": 2}),
        ("NB alpha 2, <= 1 defect", "negative_binomial", {"alpha": 2.0}),
        (
            "NB alpha 2, <= 2 of 25 blocks",
            "negative_binomial",
            {"alpha": 2.0, "n_blocks": 25, "max_bad_blocks": 2},
        ),
    ]
    rows = []
    for label, model, params in cases:
        _, seconds = timed(
            lambda m=model, p=params: harvest_bins(m, area, 0.3, harvestable_fraction=0.5, **p),
            repeat,
        )
        rows.append({"what": label, "seconds": seconds, "us": seconds / n * 1e6})
    print(f"\nHarvest bins: {n:,} die areas each (best of {repeat})")
    print(
        format_table(
            rows,
            ["what", "seconds", "us"],
            headers=["Case", "Time [s]", "us / area"],
            float_format=".3g",
        )
    )


def bench_simulation(n_wafers: int, repeat: int) -> None:
    die_map = place_dies(Wafer(300.0, 3.0), Die(21.32, 31.22), offset="street-centered")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("random (Poisson)", {}),
        ("clustered per die", {"clustering": "die", "alpha": 2.0}),
        ("clustered per wafer", {"clustering": "wafer", "alpha": 2.0}),
        ("clustered per region (4)", {"clustering": "region", "alpha": 2.0}),
        ("edge gradient 2", {"edge_gradient": 2.0}),
        (
            "per wafer + 25-core harvest",
            {
                "clustering": "wafer",
                "alpha": 2.0,
                "harvestable_fraction": 0.45,
                "n_blocks": 25,
                "max_bad_blocks": 2,
            },
        ),
    ]
    rows = []
    for label, kwargs in cases:
        result, seconds = timed(
            lambda k=kwargs: simulate_wafers(die_map, 0.2418, n_wafers=n_wafers, seed=1, **k),
            repeat,
        )
        rows.append(
            {
                "what": label,
                "seconds": seconds,
                "rate": round(n_wafers / seconds),
                "yield": result.mean_yield,
            }
        )
    print(
        f"\nSimulation: {n_wafers:,} wafers of {die_map.gross_dies} dies "
        f"(910B die, D0 = 0.2418 /cm², best of {repeat})"
    )
    print(
        format_table(
            rows,
            ["what", "seconds", "rate", "yield"],
            headers=["Case", "Time [s]", "Wafers / s", "Mean yield"],
            float_format=",.4g",
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    bench_models(10**6 if args.quick else 10**7, repeat)
    bench_scalar_calls(2_000 if args.quick else 20_000, repeat)
    bench_harvest(10**4 if args.quick else 10**5, repeat)
    bench_simulation(2_000 if args.quick else 20_000, repeat)
    print(
        f"\nPython {platform.python_version()}, numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs; wall-clock times"
    )


if __name__ == "__main__":
    main()
