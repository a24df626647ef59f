"""Benchmark: package yield and cost over arrays of draws.

The 910C-like package of docs/packages.md (two logic dies and eight HBM stacks on an
interposer, chip-last) evaluated for n draws of the attach yield, the interposer D0 and
the HBM price, three ways in one run:

1. :meth:`waferlab.package.Package.evaluate` with arrays of shape ``(n,)``;
2. the same arithmetic hand-written in numpy (the floor: package yield and cost per good
   package only, no validation, no breakdown);
3. a Python loop of scalar evaluations, timed on a subset and extrapolated (labelled so).

Usage: ``python benchmarks/bench_package.py [--quick]`` (``--quick``: 10^4 draws instead of
10^6). Benchmarks never fail: they print figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

import numpy as np
from _timing import timed

from waferlab.output import format_table
from waferlab.package import Component, Interposer, Package

DIE_COST_USD = 150.0
DIE_YIELD = 0.3
WAFER_COST_USD = 3000.0
UNITS_PER_WAFER = 60.0
AREA_CM2 = 9.0
ALPHA = 6.0
SUBSTRATE_USD = 40.0


def build(bond: Any, d0: Any, hbm_cost: Any) -> Package:
    return Package(
        "bench",
        (
            Component("die", 2, part_yield=DIE_YIELD, raw_cost_usd=DIE_COST_USD, bond_yield=bond),
            Component("hbm", 8, kind="hbm", known_good_cost_usd=hbm_cost, bond_yield=bond),
        ),
        interposer=Interposer(
            30.0,
            30.0,
            defect_density_per_cm2=d0,
            model_parameters={"alpha": ALPHA},
            units_per_wafer=UNITS_PER_WAFER,
            wafer_cost_usd=WAFER_COST_USD,
            substrate_attach_yield=0.99,
        ),
        substrate_cost_usd=SUBSTRATE_USD,
    )


def by_hand(bond: Any, d0: Any, hbm_cost: Any) -> Any:
    y_int = (1.0 + d0 * AREA_CM2 / ALPHA) ** -ALPHA
    y_pkg = bond**10 * 0.99
    parts = 2 * DIE_COST_USD / DIE_YIELD + 8 * hbm_cost
    interposer = WAFER_COST_USD / UNITS_PER_WAFER / y_int
    return y_pkg, (parts + interposer) / y_pkg + SUBSTRATE_USD / 0.99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 draws, one repeat")
    args = parser.parse_args()
    n = 10_000 if args.quick else 1_000_000
    repeat = 1 if args.quick else 3
    rng = np.random.default_rng(1)
    bond = rng.uniform(0.95, 1.0, n)
    d0 = rng.uniform(0.02, 0.2, n)
    hbm = rng.uniform(200.0, 400.0, n)

    result, engine = timed(lambda: build(bond, d0, hbm).evaluate(), repeat)
    (y_ref, cost_ref), floor = timed(lambda: by_hand(bond, d0, hbm), repeat)
    assert np.allclose(result.package_yield, y_ref)
    assert np.allclose(result.cost_per_good_package_usd, cost_ref)
    subset = 200
    _, loop_subset = timed(
        lambda: [
            build(float(bond[k]), float(d0[k]), float(hbm[k])).evaluate() for k in range(subset)
        ],
        1,
    )
    loop = loop_subset / subset * n
    rows = [
        {"what": "numpy by hand (floor)", "seconds": floor, "ratio": 1.0},
        {"what": "Package.evaluate on arrays", "seconds": engine, "ratio": engine / floor},
        {
            "what": f"scalar loop (extrapolated from {subset})",
            "seconds": loop,
            "ratio": loop / floor,
        },
    ]
    print(
        f"Package yield and cost: {n:,} draws (best of {repeat}); {platform.processor() or ''}"
        f" {os.cpu_count()} CPUs"
    )
    print(
        format_table(
            rows,
            ["what", "seconds", "ratio"],
            headers=["Method", "Time [s]", "x numpy by hand"],
            float_format=".3g",
        )
    )
    print(f"Arrays vs scalar loop: {loop / engine:,.0f}x faster")


if __name__ == "__main__":
    main()
