"""Benchmark: exact optimal die count against a shift-sampling shapely baseline.

Cases (300 mm wafer, 3 mm edge exclusion, 0.1 mm scribe):

* the Ascend 910B die (21.32 × 31.22 mm) and a 10 × 10 mm die: waferlab's exact
  optimum (:func:`waferlab.geometry.gross_dies_per_wafer`) against a straightforward
  baseline that builds every die rectangle with shapely and tests containment in the
  usable region for each shift of a 20 × 20 grid of grid shifts, keeping the best;
* a sweep of 1,000 square dies from 1 to 800 mm² (:func:`gross_dies_per_wafer_many`).
  The baseline runs on every 100th size of the sweep (10 sizes, from 41 mm²) and its
  time is extrapolated to 1,000 sizes (mean time per size × 1,000); the smallest dies,
  the most expensive for the baseline, are not in the subsample, so the extrapolation
  flatters the baseline.

The baseline samples shifts, so its count can only be lower than or equal to the exact
optimum; the printed counts show by how much.

Usage: ``python benchmarks/bench_geometry.py [--quick]``. Benchmarks never fail: they
print figures and ratios.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import shapely
from _timing import timed

from waferlab.geometry import Die, Wafer, gross_dies_per_wafer, gross_dies_per_wafer_many


def baseline_count(wafer: Wafer, die: Die, n_shifts: int = 20) -> int:
    """Best full-die count over an n × n grid of shifts, by shapely containment."""
    region = wafer.usable_region()
    shapely.prepare(region)
    r = wafer.radius_mm
    px, py = die.pitch_x_mm, die.pitch_y_mm
    hw, hh = die.width_mm / 2.0, die.height_mm / 2.0
    best = 0
    for ox in (np.arange(n_shifts) / n_shifts - 0.5) * px:
        for oy in (np.arange(n_shifts) / n_shifts - 0.5) * py:
            i = np.arange(math.floor((-r - ox) / px) - 1, math.ceil((r - ox) / px) + 2)
            j = np.arange(math.floor((-r - oy) / py) - 1, math.ceil((r - oy) / py) + 2)
            cx, cy = np.meshgrid(ox + i * px, oy + j * py)
            boxes = shapely.box(cx - hw, cy - hh, cx + hw, cy + hh)
            best = max(best, int(np.count_nonzero(shapely.covers(region, boxes))))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smaller sweep)")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    wafer = Wafer(300.0, edge_exclusion_mm=3.0)

    print("Single dies (300 mm wafer, 3 mm edge exclusion, 0.1 mm scribe)")
    print(f"{'case':<24}{'exact':>7}{'time':>11}{'baseline':>10}{'time':>11}{'ratio':>9}")
    for label, die in (
        ("Ascend 910B 21.32x31.22", Die(21.32, 31.22, 0.1)),
        ("10 x 10 mm", Die(10.0, 10.0, 0.1)),
    ):
        exact, t_exact = timed(
            lambda die=die: gross_dies_per_wafer(wafer, die), repeat, statistics.median
        )
        base, t_base = timed(lambda die=die: baseline_count(wafer, die), 1)
        print(
            f"{label:<24}{exact:>7}{t_exact * 1e3:>9.2f}ms{base:>10}{t_base * 1e3:>9.0f}ms"
            f"{t_base / t_exact:>8.0f}x"
        )

    n_sizes = 200 if args.quick else 1000
    areas = np.linspace(1.0, 800.0, n_sizes)
    sides = np.sqrt(areas)
    counts, t_sweep = timed(lambda: gross_dies_per_wafer_many(wafer, sides, sides), 1)
    stride = n_sizes // 10
    sub = np.arange(stride // 2, n_sizes, stride)
    if args.quick:
        sub = sub[-3:]
    start = time.perf_counter()
    base_counts = [baseline_count(wafer, Die(float(sides[k]), float(sides[k]), 0.1)) for k in sub]
    t_base_sub = time.perf_counter() - start
    t_base_full = t_base_sub / len(sub) * n_sizes
    print()
    print(f"Sweep of {n_sizes} square dies from 1 to 800 mm²")
    per_size_ms = t_sweep / n_sizes * 1e3
    print(f"  exact optimum, all sizes:       {t_sweep:8.2f} s  ({per_size_ms:.2f} ms/size)")
    print(
        f"  baseline, {len(sub)} sizes measured:     {t_base_sub:8.2f} s  "
        f"-> {t_base_full:8.1f} s extrapolated to {n_sizes} sizes"
    )
    print(f"  speed ratio (extrapolated):     {t_base_full / t_sweep:8.0f}x")
    print("  subsample  area [mm²]  exact  baseline (20x20 shifts)")
    for k, b in zip(sub, base_counts, strict=True):
        print(f"  {k:>9}  {areas[k]:>10.1f}  {counts[k]:>5}  {b:>8}")


if __name__ == "__main__":
    main()
