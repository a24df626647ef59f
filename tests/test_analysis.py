"""Tests of waferlab.analysis: goal seeking, crossovers and attribution, worked by hand."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from scipy.optimize import brentq

from waferlab.analysis import attribute, crossovers, log_decomposition, solve
from waferlab.errors import InvalidParameterError, NoSolutionError, UnknownNameError

# The CSIS per-wafer chain (bis-2025-ceiling and csis-2025-smic-target presets):
# 80 dies a wafer, 20 % die yield, 2 dies a 910C, 75 % packaging survival, and
# whole packages (floored) before the packaging loss.


def csis_chain(x: dict[str, Any]) -> dict[str, np.ndarray]:
    packages = np.floor(12 * x["wafer_starts_per_month"] * 80 * x["die_yield"] / 2)
    return {"final_units": packages * 0.75, "packages": packages}


def test_bis_ceiling_wafer_starts() -> None:
    # 200,000 units a year: floor(96 W) * 0.75 >= 200,000 <=> floor(96 W) >= 266,667
    # (266,666.67 rounded up) <=> W >= 266,667 / 96 = 2,777.78125; without the floor
    # the answer would be 200,000 / 72 = 2,777.78 (the preset's value, 199,999.5 units).
    r = solve(
        csis_chain,
        "wafer_starts_per_month",
        200_000,
        low=0.0,
        high=50_000.0,
        inputs={"die_yield": 0.2},
        output="final_units",
    )
    assert r.value == pytest.approx(266_667 / 96, rel=1e-11)
    assert r.achieved == 266_667 * 0.75
    assert r.reached and r.increasing
    assert r.outputs["packages"] == 266_667
    below, above = r.bracket
    assert csis_chain({"wafer_starts_per_month": below, "die_yield": 0.2})["final_units"] < 200_000
    assert above == r.value

    # Without floors, goal seeking agrees with brentq and the closed form 200,000 / 72.
    def smooth(x: dict[str, Any]) -> np.ndarray:
        return 12 * x["wafer_starts_per_month"] * 80 * x["die_yield"] / 2 * 0.75

    s = solve(
        smooth, "wafer_starts_per_month", 200_000, low=1.0, high=5e4, inputs={"die_yield": 0.2}
    )
    root = brentq(lambda w: smooth({"wafer_starts_per_month": w, "die_yield": 0.2}) - 2e5, 1, 5e4)
    assert s.value == pytest.approx(200_000 / 72, rel=1e-11)
    assert s.value == pytest.approx(root, rel=1e-10)


def test_csis_die_yield_for_a_million_a_year() -> None:
    # 1,000,000 910C a year at 50,000 WPM: floor(12 * 50,000 * 40 * y) * 0.75 >= 1e6
    # <=> floor(24e6 y) >= 1,333,334 <=> y >= 1,333,334 / 24e6 = 0.05555558.
    r = solve(
        csis_chain,
        "die_yield",
        1_000_000,
        low=0.0,
        high=1.0,
        inputs={"wafer_starts_per_month": 50_000},
        output="final_units",
    )
    assert r.value == pytest.approx(1_333_334 / 24e6, rel=1e-10)
    assert r.achieved == pytest.approx(1_000_000.5)


def test_solve_falling_output_and_periods() -> None:
    # Cost per unit = 2e9 / (W * 60) + 500 falls with wafers; $1,000 needs W = 2e9 / (500 * 60).
    def cost(x: dict[str, Any]) -> np.ndarray:
        return 2e9 / (x["w"] * 60) + 500

    r = solve(cost, "w", 1000.0, low=1.0, high=1e6)
    assert not r.increasing
    assert r.value == pytest.approx(2e9 / 30_000, rel=1e-11)

    # A monthly ramp: units(t) = s * (t + 1) * 100 for 24 months; the second
    # year's total is s * 100 * (13 + ... + 24) = s * 22,200 -> s for 1e6.
    def monthly(x: dict[str, Any]) -> np.ndarray:
        return np.asarray(x["s"])[:, None] * (np.arange(24) + 1) * 100.0

    year2 = solve(monthly, "s", 1e6, low=0.0, high=1e3, reduce=lambda y: y[:, 12:].sum(axis=1))
    assert year2.value == pytest.approx(1e6 / 22_200, rel=1e-11)
    with pytest.raises(InvalidParameterError) as err:
        solve(monthly, "s", 1e6, low=0.0, high=1e3)
    assert err.value.parameter == "reduce"


def test_solve_out_of_reach_and_at_the_low_end() -> None:
    def capped(x: dict[str, Any]) -> dict[str, np.ndarray]:
        dies, hbm = x["w"] * 16.0, np.full(np.shape(x["w"]), 12_500.0)
        return {
            "units": np.minimum(dies, hbm),
            "binding": np.where(dies < hbm, "dies", "hbm"),
        }

    with pytest.raises(NoSolutionError) as err:
        solve(capped, "w", 20_000.0, low=0.0, high=5_000.0, output="units")
    assert err.value.parameter == "target"
    assert "<= 12500" in str(err.value) and "w in [0, 5000]" in str(err.value)
    r = solve(capped, "w", 20_000.0, low=0.0, high=5_000.0, output="units", strict=False)
    assert not r.reached and r.achieved == 12_500.0 and r.outputs["binding"] == "hbm"
    # Reached where HBM starts to bind: 12,500 / 16 = 781.25.
    r = solve(capped, "w", 12_500.0, low=0.0, high=5_000.0, output="units")
    assert r.value == pytest.approx(781.25, rel=1e-11)
    r0 = solve(capped, "w", 0.0, low=0.0, high=5_000.0, output="units")
    assert r0.value == 0.0 and r0.reached
    json.dumps(r.to_dict())
    assert len(repr(r)) <= 300
    with pytest.raises(UnknownNameError):
        solve(capped, "w", 1.0, low=0.0, high=1.0, output="cost")
    with pytest.raises(InvalidParameterError, match="high"):
        solve(capped, "w", 1.0, low=1.0, high=1.0, output="units")


# --------------------------------------------------------------------------- crossovers


def semianalysis_totals(x: dict[str, Any]) -> dict[str, np.ndarray]:
    # semianalysis-2025-hbm-bound as 2025 totals: 2.9 M bank dies plus 45,000 WPM
    # x share x 12 x 80 x 20 % good dies, 2 a package; 13 M + 2 M HBM stacks, 8 a package.
    dies = 2_900_000 + 45_000 * x["capacity_share"] * 12 * 80 * 0.2
    by_dies = np.floor(dies / 2)
    by_hbm = np.floor(15_000_000 / 8) * np.ones_like(by_dies)
    return {
        "packages": np.minimum(by_dies, by_hbm),
        "binding_constraint": np.where(by_dies < by_hbm, "dies", "hbm"),
    }


def test_semianalysis_hbm_crossover() -> None:
    # Dies bind while (2.9e6 + 8.64e6 s) / 2 < 1,875,000, i.e. s < 850,000 / 8,640,000
    # = 0.098380; with whole packages the switch is where floor(dies / 2) reaches
    # 1,875,000, i.e. dies = 3,750,000, the same share.
    (c,) = crossovers(
        semianalysis_totals,
        "capacity_share",
        low=0.0,
        high=1.0,
        output="binding_constraint",
    )
    assert c.value == pytest.approx(850_000 / 8_640_000, rel=1e-10)
    assert (c.before, c.after) == ("dies", "hbm")
    json.dumps(c.to_dict())


def test_several_crossovers_in_order() -> None:
    def f(x: dict[str, Any]) -> np.ndarray:
        w = np.asarray(x["w"])
        return np.select([w < 1.5, w < 2.25], ["dies", "hbm"], "packaging")

    found = crossovers(f, "w", low=0.0, high=3.0, output="output")
    assert [(round(c.value, 9), c.before, c.after) for c in found] == [
        (1.5, "dies", "hbm"),
        (2.25, "hbm", "packaging"),
    ]
    assert (
        crossovers(lambda x: np.zeros(np.shape(x["w"])), "w", low=0, high=1, output="output") == ()
    )


# --------------------------------------------------------------------------- attribution


def packages(x: dict[str, Any]) -> np.ndarray:
    dies = np.floor(x["w"] * x["y"] * 80 / 3)  # whole packages of 3 dies
    return np.minimum(dies, np.floor(x["hbm"] / 8))


A = {"w": 1000.0, "y": 0.2, "hbm": 48_000.0, "months": 1}
B = {"w": 1500.0, "y": 0.25, "hbm": 100_000.0, "months": 1}


def test_shapley_hand_worked_with_min_and_floor() -> None:
    # v(S), inputs in S from B:   {} 5333 (floor(16,000 / 3); HBM allows 6,000)
    # {w} 6000   {y} 6000 (floor(20,000 / 3) = 6,666 > 6,000)   {hbm} 5333
    # {w,y} 6000   {w,hbm} 8000   {y,hbm} 6666   {w,y,hbm} 10000.
    # Weights 1/3 (|S| = 0), 1/6 (|S| = 1), 1/3 (|S| = 2):
    # phi_w   = 667/3 + 0/6 + 2667/6 + 3334/3 = 10669/6
    # phi_y   = 667/3 + 0/6 + 1333/6 + 2000/3 =  6667/6
    # phi_hbm =   0/3 + 2000/6 + 666/6 + 4000/3 = 10666/6;  sum 28002/6 = 4667.
    r = attribute(packages, A, B, log=False)
    assert r.names == ("w", "y", "hbm")
    assert r.unchanged == ("months",)
    np.testing.assert_allclose(r.contributions, [10669 / 6, 6667 / 6, 10666 / 6], rtol=1e-12)
    assert (r.value_a, r.value_b, r.total) == (5333.0, 10000.0, 4667.0)
    assert r.contributions.sum() == pytest.approx(r.total, rel=1e-14)
    d = r.to_dict()
    json.dumps(d)
    assert d["difference"] == 4667.0 and d["attribution"]["w"]["b"] == 1500.0


def _shapley_by_permutations(
    f: Any, a: dict[str, Any], b: dict[str, Any], log: bool
) -> list[float]:
    """Average marginal contribution over every order of the inputs (a plain loop)."""
    names = [k for k in a if a[k] != b[k]]
    phi = dict.fromkeys(names, 0.0)
    orders = list(itertools.permutations(names))
    for order in orders:
        x = dict(a)
        prev = float(f({k: np.array([v]) for k, v in x.items()})[0])
        prev = math.log(prev) if log else prev
        for name in order:
            x[name] = b[name]
            cur = float(f({k: np.array([v]) for k, v in x.items()})[0])
            cur = math.log(cur) if log else cur
            phi[name] += (cur - prev) / len(orders)
            prev = cur
    return [phi[n] for n in names]


@pytest.mark.parametrize("log", [False, True])
def test_shapley_matches_the_permutation_definition(log: bool) -> None:
    def f(x: dict[str, Any]) -> np.ndarray:
        good = np.floor(x["w"] * x["g"] * x["y"])
        return np.minimum(good / x["k"], x["h"] / 8.0) * x["p"] + np.sqrt(x["w"])

    rng = np.random.default_rng(5)
    for _ in range(5):
        a = {"w": 1e4 * rng.uniform(1, 5), "g": 80.0, "y": rng.uniform(0.1, 0.4), "k": 2.0,
             "h": rng.uniform(1e5, 4e5), "p": rng.uniform(0.6, 0.9)}  # fmt: skip
        b = {k: v * rng.choice([1.0, rng.uniform(0.5, 2.0)]) for k, v in a.items()}
        r = attribute(f, a, b, log=log)
        np.testing.assert_allclose(
            r.contributions, _shapley_by_permutations(f, a, b, log), rtol=1e-9, atol=1e-9
        )
        assert r.contributions.sum() == pytest.approx(r.total, rel=1e-12, abs=1e-12)


def test_log_shapley_of_a_product_is_the_log_decomposition() -> None:
    fa = {"wafers": 50_000.0, "dies": 80.0, "die_yield": 0.2, "per_package": 0.5, "pkg": 0.75}
    fb = {"wafers": 50_000.0, "dies": 79.0, "die_yield": 0.57, "per_package": 0.5, "pkg": 0.75}

    def product(x: dict[str, Any]) -> np.ndarray:
        return x["wafers"] * x["dies"] * x["die_yield"] * x["per_package"] * x["pkg"]

    exact = log_decomposition(fa, fb)
    shapley = attribute(product, fa, fb)
    assert exact.names == shapley.names == ("dies", "die_yield")
    np.testing.assert_allclose(exact.contributions, [math.log(79 / 80), math.log(0.57 / 0.2)])
    np.testing.assert_allclose(shapley.contributions, exact.contributions, rtol=1e-12)
    assert exact.total == pytest.approx(math.log(79 * 0.57 / (80 * 0.2)), rel=1e-12)
    assert shapley.to_dict()["log_ratio"] == pytest.approx(exact.total, rel=1e-12)


def test_attribute_series_and_names() -> None:
    def f(x: dict[str, Any]) -> np.ndarray:
        starts = np.asarray(x["starts"], dtype=float)  # (m, T)
        yield_ = np.where(np.asarray(x["model"]) == "murphy", 0.4, 0.2)
        return starts.sum(axis=-1) * yield_

    a = {"starts": np.array([10.0, 20.0, 30.0]), "model": "poisson"}
    b = {"starts": np.array([10.0, 30.0, 50.0]), "model": "murphy"}
    r = attribute(f, a, b)
    # ln(90 * 0.4 / (60 * 0.2)) = ln 3 = ln(90/60) + ln 2, and the product splits exactly.
    np.testing.assert_allclose(r.contributions, [math.log(1.5), math.log(2.0)], rtol=1e-12)
    assert r.inputs_b == ([10.0, 30.0, 50.0], "murphy")
    pytest.importorskip("pandas")  # to_frame needs the optional pandas extra
    frame = r.to_frame()
    assert list(frame["input"]) == ["starts", "model"]
    assert list(frame["b"]) == [[10.0, 30.0, 50.0], "murphy"]


def test_attribute_errors_and_trivial_case() -> None:
    with pytest.raises(InvalidParameterError, match="same input names"):
        attribute(packages, A, {"w": 1.0})
    with pytest.raises(InvalidParameterError) as err:
        attribute(lambda x: x["w"] - 1000.0, A, B)
    assert err.value.parameter == "log"
    many_a = {f"x{i}": 1.0 for i in range(17)}
    many_b = {f"x{i}": 2.0 for i in range(17)}
    with pytest.raises(InvalidParameterError, match="at most 16"):
        attribute(lambda x: x["x0"], many_a, many_b)
    same = attribute(packages, A, dict(A))
    assert same.names == () and same.total == 0.0 and same.contributions.size == 0
    assert "log_ratio=+0" in repr(same)


def test_attribute_log_none_picks_the_ratio_only_when_every_mix_is_positive() -> None:
    # min(dies, stacks / 8) with no dies in b: the mix (dies from b, stacks from a) is 0.
    f = lambda x: np.minimum(x["dies"], x["hbm_stacks"] / 8)  # noqa: E731
    a, b = {"dies": 10_000.0, "hbm_stacks": 0.0}, {"dies": 0.0, "hbm_stacks": 96_000.0}
    r = attribute(f, a, b, log=None)
    assert not r.log and r.total == 0.0
    # by hand: v(∅) = 0, v(dies) = 0, v(stacks) = 10,000, v(both) = 0
    assert r.contributions.tolist() == pytest.approx([-5_000.0, 5_000.0])
    positive = attribute(f, {"dies": 10_000.0, "hbm_stacks": 96_000.0},
                         {"dies": 20_000.0, "hbm_stacks": 160_000.0}, log=None)  # fmt: skip
    assert positive.log and positive.ratio == pytest.approx(2.0)
