"""Benchmark: uncertainty propagation and Sobol' indices against hand-written numpy.

1. 10^5 draws × 36 months through a monthly production chain (a wafer-start
   ramp, good dies, a running minimum of dies and HBM stacks to date, whole
   packages, packaging loss) with p5/p50/p95 per month and cumulative:
   :func:`waferlab.uncertainty.run_uncertainty` and
   :meth:`~waferlab.uncertainty.UncertaintyResult.quantiles` (plain Monte
   Carlo, Latin hypercube, Sobol', and streamed into histograms) against the
   same draws, chain and quantiles written by hand in numpy (inverse
   transforms inlined); then 10× the draws streamed in chunks.
2. The same chain through the month-by-month engine
   (:func:`waferlab.funnel.run_timeline` via :func:`waferlab.analysis.funnel_model`,
   the wafer-start ramp a ``[timeline]`` entry whose two dated points are drawn)
   with the same draws and quantiles, against the hand-written chain.
3. Sobol' first-order and total indices of the 36-month total for the chain's
   8 uncertain inputs at N = 2^13 (8,192 × 10 = 81,920 chain evaluations):
   :func:`waferlab.uncertainty.sobol_sensitivity` without and with bootstrap
   intervals, against the Saltelli (2010) / Jansen (1999) estimators written
   by hand in numpy on the same scrambled Sobol' A, B, A_B design (same seed),
   so the two columns of indices should agree closely.

The chain is the same function in both columns, so the ratios measure what
waferlab adds (sampling, validation, copula hooks, result objects,
bootstrap). Usage: ``python benchmarks/bench_uncertainty.py [--quick]``
(``--quick``: 10^4 draws, N = 2^10, one repeat). Benchmarks never fail: they
print figures and ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

import numpy as np
from _timing import timed
from scipy.special import ndtri

from waferlab.output import format_table
from waferlab.uncertainty import (
    Lognormal,
    Triangular,
    Uniform,
    ValidRange,
    run_uncertainty,
    sobol_sensitivity,
)

MONTHS = 36

#: The chain's 8 uncertain inputs (illustrative ranges, not sourced figures).
DISTRIBUTIONS: dict[str, Any] = {
    "starts_begin": Uniform(15_000.0, 25_000.0),
    "starts_end": Uniform(20_000.0, 60_000.0),
    "capacity_share": Uniform(0.15, 1.0),
    "dies_per_wafer": Uniform(76.0, 82.0),
    "die_yield": Lognormal.from_interval(0.15, 0.40),
    "packaging_yield": Triangular(0.6, 0.75, 0.9),
    "hbm_stock_stacks": Lognormal.from_interval(10e6, 14e6),
    "hbm_supply_stacks_per_month": Lognormal.from_interval(100e3, 300e3),
}


def chain(x: dict[str, Any]) -> np.ndarray:
    """Finished units per month, shape (n, MONTHS)."""
    t = np.arange(MONTHS) / (MONTHS - 1)
    col = {k: np.asarray(v, dtype=float)[:, None] for k, v in x.items()}
    starts = (col["starts_begin"] + (col["starts_end"] - col["starts_begin"]) * t) * col[
        "capacity_share"
    ]
    dies_to_date = np.cumsum(starts * col["dies_per_wafer"] * col["die_yield"], axis=1)
    hbm_to_date = col["hbm_stock_stacks"] + col["hbm_supply_stacks_per_month"] * (
        np.arange(MONTHS) + 1
    )
    to_date = np.minimum(np.floor(dies_to_date / 2), np.floor(hbm_to_date / 8))
    return np.diff(to_date, axis=1, prepend=0.0) * col["packaging_yield"]


def total(y: np.ndarray) -> np.ndarray:
    """The horizon total."""
    return y.sum(axis=1)


def _hand_ppf(u: np.ndarray) -> dict[str, np.ndarray]:
    """The 8 inverse transforms written out (columns of u in DISTRIBUTIONS order)."""
    out = {}
    for i, (name, d) in enumerate(DISTRIBUTIONS.items()):
        ui = u[:, i]
        if isinstance(d, Uniform):
            out[name] = d.low + ui * (d.high - d.low)
        elif isinstance(d, Lognormal):
            out[name] = np.exp(d.mu + d.sigma * ndtri(ui))
        else:
            a, m, b = d.low, d.mode, d.high
            c = (m - a) / (b - a)
            out[name] = np.where(
                ui < c,
                a + np.sqrt(ui * (b - a) * (m - a)),
                b - np.sqrt((1 - ui) * (b - a) * (b - m)),
            )
    return out


def hand_propagation(n: int, seed: int, clip_yield: bool = False) -> dict[str, np.ndarray]:
    u = np.random.default_rng(seed).random((n, len(DISTRIBUTIONS)))
    x = _hand_ppf(u)
    if clip_yield:  # a yield is at most 1 (the engine's valid range)
        x["die_yield"] = np.minimum(x["die_yield"], 1.0)
    y = chain(x)
    probs = [0.05, 0.5, 0.95]
    return {
        "monthly": np.quantile(y, probs, axis=0),
        "cumulative": np.quantile(np.cumsum(y, axis=1), probs, axis=0),
    }


def waferlab_propagation(n: int, seed: int, method: str, keep: bool = True) -> dict[str, Any]:
    r = run_uncertainty(chain, DISTRIBUTIONS, n, seed=seed, method=method, keep_draws=keep)  # type: ignore[arg-type]
    return {"monthly": r.quantiles(), "cumulative": r.quantiles(cumulative=True)}


def hand_sobol(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Saltelli (2010) first-order and Jansen (1999) total indices, by hand."""
    from scipy.stats import qmc

    d = len(DISTRIBUTIONS)
    ab_u = qmc.Sobol(2 * d, scramble=True, rng=np.random.default_rng(seed)).random(n)
    a_u, b_u = ab_u[:, :d], ab_u[:, d:]
    blocks = [a_u, b_u]
    for i in range(d):
        ab = a_u.copy()
        ab[:, i] = b_u[:, i]
        blocks.append(ab)
    y = total(chain(_hand_ppf(np.concatenate(blocks))))
    y = y - np.mean(y[: 2 * n])  # centred on the mean of A and B (Sobol' & Levitan 1999)
    f_a, f_b, f_ab = y[:n], y[n : 2 * n], y[2 * n :].reshape(d, n)
    var = np.var(np.concatenate([f_a, f_b]))
    first = np.mean(f_b * (f_ab - f_a), axis=1) / var
    total_ = 0.5 * np.mean((f_a - f_ab) ** 2, axis=1) / var
    return first, total_


def bench_propagation(n: int, repeat: int) -> None:
    for method in ("mc", "lhs", "sobol"):  # warm up: imports of scipy.special / scipy.stats.qmc
        waferlab_propagation(64, 0, method)
    hand, t_hand = timed(lambda: hand_propagation(n, 1), repeat)
    rows = [{"what": "hand-written numpy (MC)", "seconds": t_hand, "ratio": 1.0}]
    for method in ("mc", "lhs", "sobol"):
        ours, seconds = timed(lambda m=method: waferlab_propagation(n, 1, m), repeat)
        rows.append({"what": f"run_uncertainty ({method})", "seconds": seconds,
                     "ratio": seconds / t_hand})  # fmt: skip
    streamed, seconds = timed(lambda: waferlab_propagation(n, 1, "mc", keep=False), repeat)
    rows.append({"what": "run_uncertainty (mc, streamed)", "seconds": seconds,
                 "ratio": seconds / t_hand})  # fmt: skip
    median_hand = hand["cumulative"][1][-1]
    median_ours = float(ours["cumulative"]["p50"][-1])
    print(f"Propagation: {n:,} draws x {MONTHS} months, p5/p50/p95 monthly and cumulative "
          f"(best of {repeat})")  # fmt: skip
    headers = ["What", "Time [s]", "x hand-written"]
    print(format_table(rows, ["what", "seconds", "ratio"], headers=headers, float_format=".3g"))
    median_streamed = float(streamed["cumulative"]["p50"][-1])
    print(f"  36-month median: hand MC {median_hand:,.0f}, waferlab Sobol' {median_ours:,.0f}, "
          f"streamed MC {median_streamed:,.0f}")  # fmt: skip
    print()


#: The chain's inputs under the engine's names: the ramp is a [timeline] entry of
#: two dated points whose values are drawn.
ENGINE_NAMES = {
    "starts_begin": "wafer_starts_per_month.2025-01",
    "starts_end": "wafer_starts_per_month.2027-12",
    "capacity_share": "capacity_share",
    "dies_per_wafer": "gross_dies_per_wafer",
    "die_yield": "die_yield",
    "packaging_yield": "packaging_yield",
    "hbm_stock_stacks": "hbm_stock_stacks",
    "hbm_supply_stacks_per_month": "hbm_supply_stacks_per_month",
}


def engine_model() -> Any:
    """The same chain as :func:`chain`, run by the month-by-month engine."""
    from waferlab.analysis import funnel_model
    from waferlab.funnel import FunnelInputs
    from waferlab.timeline import from_points

    ramp = {"2025-01": 20_000.0, "2027-12": 40_000.0}
    base = FunnelInputs(
        wafer_starts_per_month=from_points(ramp, start_month="2025-01", months=MONTHS),
        months=MONTHS,
        start_month="2025-01",
        gross_dies_per_wafer=80,
        die_yield=0.2,
        dies_per_package=2,
        hbm_stacks_per_package=8,
        hbm_stock_stacks=12e6,
        hbm_supply_stacks_per_month=200e3,
        packaging_yield=0.75,
    )
    return funnel_model(base, timeline={"wafer_starts_per_month": ramp}, outputs=["final_units"])


def engine_propagation(n: int, seed: int) -> dict[str, Any]:
    distributions = {ENGINE_NAMES[k]: d for k, d in DISTRIBUTIONS.items()}
    # the lognormal yield has a tail above 1 (a millionth of the draws): clipped at 1
    distributions["die_yield"] = DISTRIBUTIONS["die_yield"].within(ValidRange(0.0, 1.0), "clip")
    r = run_uncertainty(engine_model(), distributions, n, seed=seed, method="mc")
    return {"monthly": r.quantiles(), "cumulative": r.quantiles(cumulative=True)}


def bench_engine(n: int, repeat: int) -> None:
    engine_propagation(64, 0)  # warm up
    hand, t_hand = timed(lambda: hand_propagation(n, 1, clip_yield=True), repeat)
    ours, seconds = timed(lambda: engine_propagation(n, 1), repeat)
    print(f"Engine: {n:,} draws x {MONTHS} months through run_timeline (waferlab.analysis."
          f"funnel_model), p5/p50/p95 monthly and cumulative (best of {repeat})")  # fmt: skip
    rows = [
        {"what": "hand-written numpy chain (MC)", "seconds": t_hand, "ratio": 1.0},
        {"what": "run_uncertainty + engine (MC)", "seconds": seconds, "ratio": seconds / t_hand},
    ]
    headers = ["What", "Time [s]", "x hand-written"]
    print(format_table(rows, ["what", "seconds", "ratio"], headers=headers, float_format=".3g"))
    worst = max(
        float(np.max(np.abs(np.asarray(ours[part][k]) - hand[part][i])
                     / np.maximum(hand[part][i], 1.0)))
        for part in ("monthly", "cumulative")
        for i, k in enumerate(("p5", "p50", "p95"))
    )  # fmt: skip
    print(f"  same draws, same chain: largest relative difference of a quantile {worst:.1e}")
    print()


def bench_streaming(n: int) -> None:
    _, seconds = timed(lambda: waferlab_propagation(n, 1, "mc", keep=False), 1)
    kept_mb = n * MONTHS * 8 / 2**20
    print(f"Streamed: {n:,} draws x {MONTHS} months in chunks of 100,000: {seconds:.3g} s "
          f"(keeping the draws of this one output would take {kept_mb:,.0f} MiB)")  # fmt: skip
    print()


def bench_sobol(n: int, repeat: int) -> None:
    sobol_sensitivity(chain, DISTRIBUTIONS, n=64, seed=0, reduce=total, n_resamples=2)  # warm up
    (first_hand, total_hand), t_hand = timed(lambda: hand_sobol(n, 2), repeat)
    plain, t_plain = timed(
        lambda: sobol_sensitivity(chain, DISTRIBUTIONS, n=n, seed=2, reduce=total, n_resamples=0),
        repeat,
    )
    boot, t_boot = timed(
        lambda: sobol_sensitivity(chain, DISTRIBUTIONS, n=n, seed=2, reduce=total),
        1,
    )
    d = len(DISTRIBUTIONS)
    print(f"Sobol' indices: {d} inputs, N = {n:,} ({n * (d + 2):,} chain evaluations)")
    print(
        format_table(
            [
                {"what": "hand-written numpy estimators", "seconds": t_hand, "ratio": 1.0},
                {
                    "what": "sobol_sensitivity, no intervals",
                    "seconds": t_plain,
                    "ratio": t_plain / t_hand,
                },
                {
                    "what": "sobol_sensitivity, 200 bootstrap",
                    "seconds": t_boot,
                    "ratio": t_boot / t_hand,
                },
            ],
            ["what", "seconds", "ratio"],
            headers=["What", "Time [s]", "x hand-written"],
            float_format=".3g",
        )
    )
    rows = [
        {
            "input": name,
            "first": f"{plain.first_order[i]:.3f}",
            "first_hand": f"{first_hand[i]:.3f}",
            "interval": f"[{boot.first_order_interval[i, 0]:.3f}, "
            f"{boot.first_order_interval[i, 1]:.3f}]",
            "total": f"{plain.total_order[i]:.3f}",
            "total_hand": f"{total_hand[i]:.3f}",
        }
        for i, name in enumerate(plain.names)
    ]
    print(
        format_table(
            rows,
            ["input", "first", "first_hand", "interval", "total", "total_hand"],
            headers=["Input", "S1", "S1 hand", "S1 95 % interval", "ST", "ST hand"],
        )
    )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    n_draws, n_sobol, repeat = (10_000, 2**10, 1) if args.quick else (100_000, 2**13, 3)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"numpy {np.__version__}")  # fmt: skip
    print()
    bench_propagation(n_draws, repeat)
    bench_engine(n_draws, repeat)
    bench_streaming(10 * n_draws)
    bench_sobol(n_sobol, repeat)


if __name__ == "__main__":
    main()
