"""Benchmark: CPU time of ``waferlab report`` against importing its heavy dependencies.

Each case runs in a fresh Python process and is measured as the CPU time of that
child (user + system, from ``os.wait4``), the best of N runs, which removes
most of the noise of a shared machine. The baseline, measured in the same run,
is ``python -c "import numpy, scipy.optimize, matplotlib.pyplot"``; the target
(issue 10 §3) is ``waferlab report`` within 3x of it, uncertainty section
(the bottom line's 65,536-draw ranges) and figures included. ``--no-files``
(no figure drawn) is shown beside it.

Usage: ``python benchmarks/bench_report.py [--quick]`` (``--quick``: 1 run per
case instead of 5). Benchmarks never fail: they print figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import cache_bytecode, waferlab_command

from waferlab.output import format_table


def cpu_time(argv: list[str], runs: int, cwd: str) -> float:
    """Best CPU time [s] (user + system) of ``runs`` runs of ``argv`` in a child process."""
    env = dict(os.environ, MPLBACKEND="Agg")
    best = float("inf")
    for _ in range(runs):
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd
        )
        _, _, usage = os.wait4(proc.pid, 0)
        best = min(best, usage.ru_utime + usage.ru_stime)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 run per case")
    args = parser.parse_args()
    runs = 1 if args.quick else 5
    cache_bytecode()  # time start-up as a user sees it after the first run
    wl = waferlab_command()
    with tempfile.TemporaryDirectory() as tmp:
        base = cpu_time(
            [sys.executable, "-c", "import numpy, scipy.optimize, matplotlib.pyplot"], runs, tmp
        )
        cases = [
            ("waferlab report", [*wl, "report", "--out", str(Path(tmp) / "r")]),
            ("waferlab report --no-files", [*wl, "report", "--no-files"]),
        ]
        rows = [{"what": "import numpy, scipy.optimize, matplotlib.pyplot", "s": base, "ratio": ""}]
        for label, argv in cases:
            seconds = cpu_time(argv, runs, tmp)
            rows.append({"what": label, "s": seconds, "ratio": f"{seconds / base:.2f}x"})
    print(f"CPU time (user + system), best of {runs} fresh processes each; target <= 3x")
    print(
        format_table(
            rows, ["what", "s", "ratio"], headers=["Case", "CPU [s]", "Ratio"], float_format=".2f"
        )
    )
    print(f"\nPython {platform.python_version()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
