"""Benchmark: start-up time of ``import waferlab`` and of CLI commands.

Each case runs in a fresh Python process (``python -c ...`` or the ``waferlab``
entry point run as ``python -m waferlab.cli.main``-equivalent code), and the
figure is the best wall-clock time of N runs, which removes most of the noise of
a shared machine. Ratios are against baselines measured in the same run:

* ``waferlab --version`` and ``waferlab --help`` against ``python -c "import click"``
  (target ≤ 1.5× each);
* ``waferlab dies``, ``waferlab yield``, ``waferlab funnel PRESET`` against
  ``python -c "import numpy"`` (target ≤ 2.5× each);
* ``import waferlab`` against ``import numpy`` (target ≤ 2×).

The commands run through the installed ``waferlab`` console script when it is
on PATH beside this Python, otherwise through ``python -c`` calling the click
group, which costs the same imports.

Usage: ``python benchmarks/bench_cli.py [--quick]`` (``--quick``: 3 runs per
case instead of 10). Benchmarks never fail: they print figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

from _timing import cache_bytecode, waferlab_command

from waferlab.output import format_table


def best_time(argv: list[str], runs: int) -> float:
    """Best wall-clock time [s] of ``runs`` runs of ``argv`` (output discarded)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per case")
    args = parser.parse_args()
    runs = 3 if args.quick else 10
    cache_bytecode()  # time start-up as a user sees it after the first run
    py = [sys.executable]
    wl = waferlab_command()
    baselines = {
        "pass": best_time([*py, "-c", "pass"], runs),
        "click": best_time([*py, "-c", "import click"], runs),
        "numpy": best_time([*py, "-c", "import numpy"], runs),
    }
    cases: list[tuple[str, list[str], str, float]] = [
        ("import waferlab", [*py, "-c", "import waferlab"], "numpy", 2.0),
        ("waferlab --version", [*wl, "--version"], "click", 1.5),
        ("waferlab --help", [*wl, "--help"], "click", 1.5),
        (
            "waferlab dies (910B die)",
            [*wl, "dies", "--die-width-mm", "21.32", "--die-height-mm", "31.22"],
            "numpy",
            2.5,
        ),
        (
            "waferlab yield (all models)",
            [*wl, "yield", "--die-area-mm2", "665.61", "--defect-density-per-cm2", "0.1"],
            "numpy",
            2.5,
        ),
        ("waferlab funnel PRESET", [*wl, "funnel", "csis-2025-smic-target"], "numpy", 2.5),
    ]
    rows = [
        {"what": f'python -c "{name}"' if name != "pass" else "python -c pass", "ms": t * 1e3}
        for name, t in (
            ("pass", baselines["pass"]),
            ("import click", baselines["click"]),
            ("import numpy", baselines["numpy"]),
        )
    ]
    for row in rows:
        row.update(ratio="", target="")
    for label, argv, base, target in cases:
        seconds = best_time(argv, runs)
        rows.append(
            {
                "what": label,
                "ms": seconds * 1e3,
                "ratio": f"{seconds / baselines[base]:.2f}x import {base}",
                "target": f"<= {target:g}x",
            }
        )
    print(f"Start-up time, best of {runs} fresh processes each")
    print(
        format_table(
            rows,
            ["what", "ms", "ratio", "target"],
            headers=["Case", "Time [ms]", "Ratio", "Target"],
            float_format=".0f",
        )
    )
    print(f"\nPython {platform.python_version()}, {os.cpu_count()} CPUs; wall-clock times")


if __name__ == "__main__":
    main()
