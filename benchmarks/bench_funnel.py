"""Benchmark: the month-by-month funnel engine over many draws.

Three ways to compute the same thing, in one run:

1. the engine, :func:`waferlab.funnel.run_timeline`, on arrays of draws;
2. a Python loop of scalar runs (:func:`waferlab.funnel.run_funnel` for the
   one-month case, :func:`waferlab.funnel.run_timeline` with one draw for the
   monthly path), timed on a subset and extrapolated (labelled so);
3. the same arithmetic written by hand in numpy (the floor to beat).

Cases: 10^4 scenarios of one month (the CSIS chain with drawn yield, share and
packaging yield), and 10^6 draws × 36 months of a ramp with drawn yield, HBM
stock and packaging yield, HBM supply each month and the whole-package floor
(``--quick``: 10^5 draws). The engine keeps only ``final_units`` for the large
case; peak memory is traced with :mod:`tracemalloc` (numpy reports its arrays).

Usage: ``python benchmarks/bench_funnel.py [--quick]``. Benchmarks never fail:
they print figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import tracemalloc
from typing import Any

import numpy as np
from _timing import timed

from waferlab.funnel import FunnelInputs, run_funnel, run_timeline
from waferlab.output import format_table
from waferlab.timeline import from_points


def draws(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "die_yield": rng.uniform(0.15, 0.45, n),
        "capacity_share": rng.uniform(0.5, 1.0, n),
        "packaging_yield": rng.uniform(0.6, 0.9, n),
        "hbm_stock_stacks": rng.uniform(5e6, 15e6, n),
    }


def inputs_for(d: dict[str, Any], months: int, ramp: Any) -> FunnelInputs:
    return FunnelInputs(
        wafer_starts_per_month=ramp,
        months=months,
        gross_dies_per_wafer=80,
        die_yield=d["die_yield"],
        capacity_share=d["capacity_share"],
        dies_per_package=2,
        hbm_stacks_per_package=8,
        hbm_stock_stacks=d["hbm_stock_stacks"],
        hbm_supply_stacks_per_month=166_667.0,
        packaging_yield=d["packaging_yield"],
    )


def by_hand(d: dict[str, np.ndarray], ramp: np.ndarray) -> np.ndarray:
    """The same chain in plain numpy: cumulative dies and HBM, the floor, the yield."""
    dies = np.cumsum(ramp * d["capacity_share"][:, None] * 80 * d["die_yield"][:, None], axis=1)
    hbm = d["hbm_stock_stacks"][:, None] + np.cumsum(np.full(ramp.shape, 166_667.0), axis=1)
    cumulative = np.floor(np.minimum(dies / 2, hbm / 8) + 1e-6)
    packages = np.diff(cumulative, axis=1, prepend=0.0)
    return packages * d["packaging_yield"][:, None]


def case(n: int, months: int, loop_n: int, repeat: int) -> dict[str, Any]:
    ramp = (
        from_points({"2025-01": 20_000, "2027-12": 80_000}, start_month="2025-01", months=months)
        if months > 1
        else np.array([[50_000.0]])
    )
    d = draws(n)

    def engine() -> Any:
        return run_timeline(inputs_for(d, months, ramp), outputs=("final_units",))

    tracemalloc.start()
    result, t_engine = timed(engine, repeat)
    _, peak_engine = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    expected, t_hand = timed(lambda: by_hand(d, ramp), repeat)
    _, peak_hand = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    agree = bool(np.allclose(result.final_units, expected, rtol=1e-12, atol=1e-6))

    sub = {k: v[:loop_n] for k, v in d.items()}

    # the scalar API a user would loop over: run_funnel for one month (the
    # horizon total), run_timeline with one draw for a monthly path
    scalar = run_funnel if months == 1 else run_timeline

    def loop() -> list[Any]:
        return [
            scalar(inputs_for({k: float(v[i]) for k, v in sub.items()}, months, ramp))
            for i in range(loop_n)
        ]

    _, t_loop_sub = timed(loop, 1)
    t_loop = t_loop_sub * n / loop_n
    return {
        "case": f"{n:,} draws x {months} months",
        "engine_s": t_engine,
        "hand_numpy_s": t_hand,
        "engine_vs_hand": t_engine / t_hand,
        "scalar_loop_s": t_loop,
        "loop_vs_engine": t_loop / t_engine,
        "engine_peak_mib": peak_engine / 2**20,
        "hand_peak_mib": peak_hand / 2**20,
        "agree": "yes" if agree else "NO",
        "loop_note": f"loop timed on {loop_n:,} draws, extrapolated",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases, one repeat")
    args = parser.parse_args()
    repeat = 1 if args.quick else 3
    big = 100_000 if args.quick else 1_000_000
    rows = [
        case(10_000, 1, 200 if args.quick else 1_000, repeat),
        case(big, 36, 20 if args.quick else 200, repeat),
    ]
    print(
        f"waferlab funnel engine benchmark ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, numpy {np.__version__})"
    )
    print(
        format_table(
            rows,
            [
                "case",
                "engine_s",
                "hand_numpy_s",
                "engine_vs_hand",
                "scalar_loop_s",
                "loop_vs_engine",
                "engine_peak_mib",
                "hand_peak_mib",
                "agree",
                "loop_note",
            ],
            headers=[
                "case",
                "engine [s]",
                "numpy by hand [s]",
                "engine / hand",
                "scalar loop [s]",
                "loop / engine",
                "engine peak [MiB]",
                "by-hand peak [MiB]",
                "same numbers",
                "note",
            ],
            float_format=".3g",
        )
    )


if __name__ == "__main__":
    main()
