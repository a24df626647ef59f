"""Benchmark: calibration time against the number of observations (it must be linear).

A synthetic process of n observations (die areas 50-800 mm², Poisson yields at
D0 = 0.1 /cm² with ±5 % scatter, written to a CSV file) goes through what
``waferlab calibrate --observations FILE`` does: read the file, split it into
fit groups, fit one model (Murphy), compare every model, and find the feasible
ranges of every model's second parameter. Each size is timed against the
smallest one; for a linear cost the ratio of time per observation stays near 1
(before the fix the margin of the feasible range was built pairwise, so the
time per observation grew with n and 2,000 rows ran out of memory).

Usage: ``python benchmarks/bench_calibration.py [--quick]``. Benchmarks never
fail: they print figures and ratios.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from _timing import timed

from waferlab.calibration import compare_models, feasible_ranges, fit_yield_model
from waferlab.observations import fit_groups, load_observations
from waferlab.output import format_table


def write_observations(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    area = rng.uniform(50.0, 800.0, n)
    y = np.minimum(np.exp(-area / 100.0 * 0.1) * rng.uniform(0.95, 1.05, n), 0.999)
    lines = ["name,die_area_mm2,yield,process"]
    lines += [f"o{k},{a:.2f},{v:.4f},P" for k, (a, v) in enumerate(zip(area, y, strict=True))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def calibrate(path: Path, compare: bool) -> None:
    (group,), _ = fit_groups(load_observations(path))
    fit_yield_model(group.fitted, "murphy")
    if compare:
        compare_models(group.fitted)
        feasible_ranges(group.fitted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    args = parser.parse_args()
    sizes = (50, 200) if args.quick else (250, 1000, 4000)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for compare in (False, True):
            base = None
            for n in sizes:
                path = Path(tmp) / f"obs{n}.csv"
                write_observations(path, n)
                _, seconds = timed(lambda p=path, c=compare: calibrate(p, c), 1)
                per_row = seconds / n
                base = per_row if base is None else base
                rows.append(
                    {
                        "what": "fit + compare + ranges" if compare else "read + fit (murphy)",
                        "rows": n,
                        "seconds": seconds,
                        "ms_per_row": per_row * 1e3,
                        "ratio": per_row / base,
                    }
                )
    print(
        format_table(
            rows,
            ["what", "rows", "seconds", "ms_per_row", "ratio"],
            headers=["work", "observations", "time [s]", "per row [ms]", "per row / smallest"],
            float_format=".3g",
        )
    )


if __name__ == "__main__":
    main()
