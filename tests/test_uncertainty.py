"""Tests of waferlab.uncertainty against scipy.stats, closed forms and published indices."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.uncertainty import (
    Z_95,
    Discrete,
    Lognormal,
    Normal,
    OutsideRangeError,
    Pert,
    Triangular,
    Uniform,
    ValidRange,
    correlation_matrix,
    outside_valid_range,
    parse_correlations,
    parse_distribution,
    parse_distributions,
    quantile_label,
    quantiles,
    run_uncertainty,
    sample,
    sobol_sensitivity,
    tornado,
)

U = np.linspace(0.001, 0.999, 37)
UNIT = ValidRange(0.0, 1.0, low_open=True)


# --------------------------------------------------------------------------- distributions


def test_epoch_lognormal_convention() -> None:
    # Epoch AI states lognormal inputs by their 90 % interval: $2,500-8,000 has
    # median sqrt(2500 * 8000) = $4,472.1 and sigma ln(3.2) / (2 * 1.6449) = 0.3536.
    d = Lognormal.from_interval(2500.0, 8000.0)
    assert d.median == pytest.approx(4472.136, abs=0.01)
    assert d.sigma == pytest.approx(0.35355, abs=1e-4)
    assert (d.p5, d.p95) == pytest.approx((2500.0, 8000.0), rel=1e-9)


@pytest.mark.parametrize(
    ("dist", "reference"),
    [
        (Lognormal.from_median(4472.0, 0.35), stats.lognorm(0.35, scale=4472.0)),
        (Normal(3.0, 2.0), stats.norm(3.0, 2.0)),
        (Uniform(2.0, 5.0), stats.uniform(2.0, 3.0)),
        (Triangular(1.0, 2.0, 5.0), stats.triang(0.25, loc=1.0, scale=4.0)),
        (Triangular(1.0, 1.0, 5.0), stats.triang(0.0, loc=1.0, scale=4.0)),
        # PERT(a, m, b) = a + (b - a) Beta(1 + 4 (m - a)/(b - a), 1 + 4 (b - m)/(b - a))
        (
            Pert(300.0, 600.0, 2000.0),
            stats.beta(1 + 4 * 300 / 1700, 1 + 4 * 1400 / 1700, 300, 1700),
        ),
    ],
    ids=repr,
)
def test_ppf_matches_scipy(dist: object, reference: object) -> None:
    np.testing.assert_allclose(dist.ppf(U), reference.ppf(U), rtol=1e-9)  # type: ignore[attr-defined]
    assert dist.median == pytest.approx(reference.median(), rel=1e-9)  # type: ignore[attr-defined]


def test_normal_from_interval() -> None:
    d = Normal.from_interval(10.0, 20.0)
    assert d.mean == 15.0
    assert d.sd == pytest.approx(5.0 / 1.6448536, rel=1e-7)


def test_truncation_is_the_truncated_distribution() -> None:
    d = Normal(0.5, 0.5, valid=ValidRange(0.0, 1.0))
    ref = stats.truncnorm(-1.0, 1.0, loc=0.5, scale=0.5)
    np.testing.assert_allclose(d.ppf(U), ref.ppf(U), rtol=1e-9)


def test_truncation_keeps_open_bounds_open() -> None:
    d = Lognormal.from_interval(0.15, 0.95, valid=UNIT)
    x = d.ppf(np.array([0.0, 1e-300, 0.5, 1.0]))
    assert np.all((x > 0.0) & (x <= 1.0))
    d2 = Normal(0.0, 1.0, valid=ValidRange(0.0, None, low_open=True))
    assert d2.ppf(0.0) > 0.0


def test_clip_piles_mass_at_the_bound() -> None:
    d = Normal(0.9, 0.1, valid=ValidRange(0.0, 1.0), out_of_range="clip")
    x = d.ppf(np.random.default_rng(1).random(100_000))
    assert x.max() == 1.0
    # P(X >= 1) = 1 - Phi(1) = 0.1587 for the unclipped normal.
    assert np.mean(x == 1.0) == pytest.approx(0.1587, abs=0.005)


def test_reject_refuses_mass_outside_the_range() -> None:
    # 90 % interval 0.5-0.99: far more than 0.1 % of the mass lies above 1.
    with pytest.raises(InvalidParameterError, match=r"0\.1 %-99\.9 %"):
        Lognormal.from_interval(0.5, 0.99, valid=UNIT, out_of_range="reject")
    # A tight one is accepted and still never leaves the range.
    d = Lognormal.from_interval(0.2, 0.3, valid=UNIT, out_of_range="reject")
    assert d.ppf(1.0) <= 1.0


def test_range_without_mass_is_an_error() -> None:
    with pytest.raises(
        OutsideRangeError, match=r"lies entirely outside the valid range in \[0, 1\]"
    ):
        Uniform(2.0, 3.0, valid=ValidRange(0.0, 1.0))
    # P(X > 8) = 6e-16 for a standard normal: nothing to truncate to.
    with pytest.raises(OutsideRangeError, match="lies entirely outside"):
        Normal(0.0, 1.0, valid=ValidRange(8.0, None))
    with pytest.raises(InvalidParameterError, match="ValidRange"):
        Normal(0.0, 1.0, valid=(0.0, 1.0))  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["truncate", "clip"])
def test_more_than_half_outside_the_range_is_refused(policy: str) -> None:
    # Uniform(-100, 1) on x >= 0: 100/101 of the mass lies below 0
    with pytest.raises(OutsideRangeError) as info:
        Uniform(-100.0, 1.0, valid=ValidRange(0.0), out_of_range=policy)  # type: ignore[arg-type]
    err = info.value
    assert err.below == pytest.approx(100 / 101) and err.above == 0.0
    assert isinstance(err, InvalidParameterError) and err.parameter == "valid"
    assert "Uniform(low=-100, high=1) lies 99 % outside the valid range >= 0 (99 % below 0)" in (
        str(err)
    )
    # a standard normal on x >= 0 has exactly half of its mass outside: allowed;
    # on x >= 0.01 it has Phi(0.01) = 0.504 outside: refused
    assert Normal(0.0, 1.0, valid=ValidRange(0.0), out_of_range=policy).mass_outside == (  # type: ignore[arg-type]
        pytest.approx(0.5),
        0.0,
    )
    with pytest.raises(OutsideRangeError, match=r"50\.4 % outside the valid range >= 0\.01"):
        Normal(0.0, 1.0, valid=ValidRange(0.01), out_of_range=policy)  # type: ignore[arg-type]


def test_mass_outside_is_the_normal_tails() -> None:
    # die_yield ~ Normal(0.3, 0.5) on [0, 1]: Phi(-0.6) below, 1 - Phi(1.4) above
    d = Normal(0.3, 0.5, valid=ValidRange(0.0, 1.0))
    phi = lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0))  # noqa: E731
    assert d.mass_outside == pytest.approx((phi(-0.6), 1.0 - phi(1.4)), rel=1e-12)
    info = outside_valid_range({"die_yield": d, "inside": Uniform(0.2, 0.4, valid=UNIT)})
    assert list(info) == ["die_yield"]
    assert info["die_yield"] == {
        "policy": "truncate",
        "valid_range": "in [0, 1]",
        "low": 0.0,
        "high": 1.0,
        "mass_outside": pytest.approx(phi(-0.6) + 1.0 - phi(1.4)),
        "below": pytest.approx(phi(-0.6)),
        "above": pytest.approx(1.0 - phi(1.4)),
    }
    assert Discrete((0.2, 0.3), valid=UNIT).mass_outside == (0.0, 0.0)


def test_parse_names_the_key_of_a_distribution_mostly_outside() -> None:
    with pytest.raises(OutsideRangeError) as info:
        parse_distribution(
            "die_yield", {"normal": {"mean": 1.5, "sd": 0.5}}, valid=ValidRange(0.0, 1.0)
        )
    assert info.value.parameter == "die_yield" and info.value.key == "die_yield"
    # the normal's own 90 % interval, 1.5 -/+ 1.6449 x 0.5, is shown beside it; outside:
    # Phi(-3) = 0.135 % below 0 and 1 - Phi(-1) = 84.1 % above 1, 84.3 % in all
    assert str(info.value).startswith(
        "die_yield: Normal(mean=1.5, sd=0.5), 90 % of it in [0.6776, 2.322], lies 84.3 % "
        "outside the valid range in [0, 1] (0.135 % below 0, 84.1 % above 1)"
    )


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: Lognormal.from_interval(0.0, 1.0), "p5"),
        (lambda: Lognormal.from_interval(2.0, 1.0), "p95"),
        (lambda: Lognormal.from_median(-1.0, 0.3), "median"),
        (lambda: Lognormal(0.0, -0.1), "sigma"),
        (lambda: Normal(0.0, float("nan")), "sd"),
        (lambda: Uniform(1.0, 1.0), "high"),
        (lambda: Triangular(0.0, 2.0, 1.0), "mode"),
        (lambda: Pert(0.0, 0.5, 1.0, shape=0.0), "shape"),
        (lambda: Normal(0.0, 1.0, out_of_range="drop"), "out_of_range"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_name_the_argument(build: object, name: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        build()  # type: ignore[operator]
    assert err.value.parameter == name


def test_discrete_frequencies_and_order() -> None:
    d = Discrete(("murphy", "poisson", "seeds"), (0.2, 0.5, 0.3))
    x = d.ppf(np.random.default_rng(0).random(200_000))
    for value, weight in zip(d.values, d.weights or (), strict=True):
        assert np.mean(x == value) == pytest.approx(weight, abs=0.005)
    assert d.median == "poisson"
    num = Discrete((3.0, 1.0, 2.0), (1.0, 1.0, 2.0))
    assert num.values == (1.0, 2.0, 3.0)
    assert num.weights == (0.25, 0.5, 0.25)
    assert (num.p5, num.median, num.p95) == (1.0, 2.0, 3.0)


@pytest.mark.parametrize(
    ("values", "weights", "name"),
    [
        ((), None, "values"),
        (("a", 1.0), None, "values"),
        (("a", "a"), None, "values"),
        (("a", "b"), (1.0,), "weights"),
        (("a", "b"), (0.0, 0.0), "weights"),
        (("a", "b"), (1.0, -1.0), "weights"),
    ],
)
def test_bad_discrete(values: tuple[object, ...], weights: object, name: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        Discrete(values, weights)  # type: ignore[arg-type]
    assert err.value.parameter == name


def test_discrete_numbers_must_be_valid() -> None:
    with pytest.raises(InvalidParameterError, match=r"in \(0, 1\]"):
        Discrete((0.5, 1.5), valid=UNIT)


# --------------------------------------------------------------------------- parsing


def test_parse_every_form() -> None:
    table = {
        "die_yield": {"lognormal": {"p5": 0.15, "p95": 0.40}},
        "wafer_cost_usd": {"lognormal": {"median": 10_000, "sigma": 0.2}},
        "hbm": {"normal": {"p5": 1.0, "p95": 3.0}, "out_of_range": "clip"},
        "x": {"normal": {"mean": 1.0, "sd": 0.5}},
        "wafer_starts_per_month": {"uniform": {"low": 20_000, "high": 50_000}},
        "t": {"triangular": {"low": 1, "mode": 2, "high": 4}},
        "packaging_cost_usd": {"pert": {"low": 300, "mode": 600, "high": 2000}},
        "p": {"pert": {"low": 300, "mode": 600, "high": 2000, "shape": 6}},
        "yield_model": {"discrete": {"values": ["poisson", "murphy"], "weights": [0.5, 0.5]}},
        "k": {"discrete": {"values": [1, 2]}},
    }
    ds = parse_distributions(table, ranges={"die_yield": UNIT})
    assert ds["die_yield"].median == pytest.approx(math.sqrt(0.15 * 0.40))
    assert ds["die_yield"].valid == UNIT  # type: ignore[attr-defined]
    assert ds["wafer_cost_usd"].median == pytest.approx(10_000)
    assert ds["hbm"].out_of_range == "clip"  # type: ignore[attr-defined]
    assert isinstance(ds["t"], Triangular)
    assert ds["p"].shape == 6  # type: ignore[attr-defined]
    assert ds["yield_model"].median == "poisson"
    assert ds["k"].values == (1.0, 2.0)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "name", "allowed"),
    [
        (0.3, "die_yield", "lognormal = { p5"),
        ({"gauss": {"mean": 1}}, "die_yield", "distribution must be one of lognormal, normal"),
        ({"normal": {"mean": 1, "sd": 1}, "uniform": {"low": 0, "high": 1}}, "die_yield", "one"),
        ({"lognormal": {"p5": 0.15}}, "die_yield.lognormal", "{ p5, p95 } or { median, sigma }"),
        ({"lognormal": [0.1, 0.2]}, "die_yield.lognormal", "{ p5, p95 }"),
        ({"lognormal": {"p5": 0.3, "p95": 0.2}}, "die_yield.lognormal.p95", "> 0.3"),
        ({"uniform": {"low": "a", "high": 1}}, "die_yield.uniform.low", "a finite number"),
        ({"lognormal": {"p5": 0.1, "p95": 0.2}, "out_of_range": "x"}, "die_yield.out_of_range", ""),
        ({"discrete": {"values": "poisson"}}, "die_yield.discrete.values", "list"),
        ({"discrete": {"values": ["a"], "weights": 1}}, "die_yield.discrete.weights", "list"),
    ],
)
def test_parse_errors_name_key_and_form(spec: object, name: str, allowed: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        parse_distribution("die_yield", spec)
    assert err.value.parameter == name
    assert allowed in str(err.value)


def test_parse_reject_names_the_key() -> None:
    spec = {"lognormal": {"p5": 0.5, "p95": 0.99}, "out_of_range": "reject"}
    with pytest.raises(InvalidParameterError) as err:
        parse_distribution("die_yield", spec, valid=UNIT)
    assert err.value.parameter == "die_yield.lognormal.valid"


def test_parse_correlations() -> None:
    assert parse_correlations([{"inputs": ["a", "b"], "spearman": 0.5}]) == [("a", "b", 0.5)]
    for bad, name in [
        ({"inputs": ["a", "b"], "spearman": 0.5}, "correlations"),
        ([{"inputs": ["a"], "spearman": 0.5}], "correlations[0].inputs"),
        ([{"inputs": ["a", "b"], "spearman": 1.5}], "correlations[0].spearman"),
        ([{"inputs": ["a", "b"], "rho": 0.5}], "correlations[0]"),
    ]:
        with pytest.raises(InvalidParameterError) as err:
            parse_correlations(bad)
        assert err.value.parameter == name
    with pytest.raises(InvalidParameterError) as err:
        parse_correlations([{"inputs": ["a", "zz"], "spearman": 0.5}], names=["a", "b"])
    assert err.value.parameter == "correlations[0].inputs" and "a, b" in str(err.value)


# --------------------------------------------------------------------------- correlations


def test_correlation_matrix_names_the_offending_pair() -> None:
    # a and b nearly equal, b and c nearly equal, so a and c cannot be opposite;
    # removing any one of the three pairs makes the matrix valid again.
    pairs = [("a", "b", 0.95), ("b", "c", 0.95), ("a", "c", -0.5)]
    with pytest.raises(InvalidParameterError, match="a-b, b-c, a-c"):
        correlation_matrix(["a", "b", "c", "d"], pairs)
    # Here only a-d conflicts: a-b-c are tightly tied, so d cannot follow a (0.99)
    # and be independent of b; dropping b-d (already 0) changes nothing.
    pairs = [("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", 0.9), ("a", "d", 0.99), ("b", "d", 0.0)]
    with pytest.raises(InvalidParameterError) as err:
        correlation_matrix(["a", "b", "c", "d"], pairs)
    assert str(err.value).endswith("remove or weaken one of a-d")


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([("a", "z", 0.5)], "z"),
        ([("a", "a", 0.5)], "different"),
        ([("a", "b", 0.5), ("b", "a", 0.1)], "each listed once"),
        ([("a", "b", -1.2)], r"in \[-1, 1\]"),
    ],
)
def test_correlation_errors(pairs: list[tuple[str, str, float]], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        correlation_matrix(["a", "b"], pairs)


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_copula_gives_the_rank_correlation(method: str) -> None:
    ds = {
        "a": Lognormal.from_interval(1.0, 10.0),
        "b": Uniform(0.0, 1.0),
        "c": Triangular(0.0, 0.2, 1.0),
    }
    pairs = [("a", "b", 0.6), ("b", "c", -0.4)]
    x = sample(ds, 2**15, seed=3, method=method, correlations=pairs)  # type: ignore[arg-type]
    rho = stats.spearmanr(np.column_stack([x["a"], x["b"], x["c"]])).statistic
    assert rho[0, 1] == pytest.approx(0.6, abs=0.02)
    assert rho[1, 2] == pytest.approx(-0.4, abs=0.02)
    assert rho[0, 2] == pytest.approx(0.0, abs=0.02)  # unlisted pairs are independent
    # Marginals unchanged by the copula.
    assert stats.kstest(x["b"], "uniform").pvalue > 1e-3


def test_perfect_rank_correlation_is_allowed() -> None:
    ds = {"a": Uniform(0.0, 1.0), "b": Lognormal(0.0, 1.0)}
    x = sample(ds, 1000, seed=0, correlations=[("a", "b", 1.0)])
    assert stats.spearmanr(x["a"], x["b"]).statistic == pytest.approx(1.0)


# --------------------------------------------------------------------------- sampling


@pytest.mark.parametrize("method", ["mc", "lhs", "sobol"])
def test_sampling_is_reproducible_and_has_the_right_marginals(method: str) -> None:
    ds = {"w": Uniform(20_000.0, 50_000.0), "y": Lognormal.from_interval(0.15, 0.4, valid=UNIT)}
    a = sample(ds, 4096, seed=11, method=method)  # type: ignore[arg-type]
    b = sample(ds, 4096, seed=11, method=method)  # type: ignore[arg-type]
    c = sample(ds, 4096, seed=12, method=method)  # type: ignore[arg-type]
    assert all(np.array_equal(a[k], b[k]) for k in ds)
    assert not np.array_equal(a["w"], c["w"])
    assert a["w"].shape == (4096,)
    assert stats.kstest(a["w"], stats.uniform(20_000, 30_000).cdf).pvalue > 1e-3
    assert (
        stats.kstest(a["y"], stats.lognorm(ds["y"].sigma, scale=ds["y"].median).cdf).pvalue > 1e-3
    )  # type: ignore[attr-defined]


def test_lhs_and_sobol_stratify() -> None:
    ds = {"a": Uniform(0.0, 1.0), "b": Uniform(0.0, 1.0)}
    x = sample(ds, 64, seed=5, method="lhs")
    for k in ds:
        assert sorted(np.floor(x[k] * 64).astype(int).tolist()) == list(range(64))
    s = sample(ds, 64, seed=5, method="sobol")
    for k in ds:
        assert sorted(np.floor(s[k] * 64).astype(int).tolist()) == list(range(64))


def test_sample_discrete_names_and_errors() -> None:
    x = sample({"model": Discrete(("poisson", "murphy"))}, 10, seed=0)
    assert set(x["model"].tolist()) <= {"poisson", "murphy"}
    with pytest.raises(InvalidParameterError, match="method"):
        sample({"a": Uniform(0, 1)}, 10, method="halton")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="n must"):
        sample({"a": Uniform(0, 1)}, 0)


# --------------------------------------------------------------------------- quantiles


def test_quantiles_per_period_and_cumulative_match_a_loop() -> None:
    rng = np.random.default_rng(0)
    draws = rng.lognormal(size=(501, 7))
    q = quantiles(draws, [0.05, 0.25, 0.5, 0.95])
    assert list(q) == ["p5", "p25", "p50", "p95"]
    for t in range(7):
        column = sorted(draws[:, t].tolist())
        assert q["p50"][t] == column[250]
        assert q["p5"][t] == pytest.approx(column[25])  # 0.05 * 500 = 25, exact order statistic
    cum = quantiles(draws, [0.5], cumulative=True)["p50"]
    running = np.zeros(501)
    for t in range(7):
        running = running + draws[:, t]
        assert cum[t] == sorted(running.tolist())[250]
    # The median of a sum is not the sum of medians.
    assert cum[-1] != pytest.approx(q["p50"].sum(), rel=1e-3)


def test_quantile_errors() -> None:
    with pytest.raises(InvalidParameterError, match="q must"):
        quantiles(np.ones(3), [1.5])
    with pytest.raises(InvalidParameterError, match="cumulative"):
        quantiles(np.ones(3), cumulative=True)
    with pytest.raises(InvalidParameterError, match="draws"):
        quantiles(np.ones((2, 2, 2)))


# --------------------------------------------------------------------------- a lognormal chain

SIGMAS = {"wafers": 0.25, "dies": 0.05, "die_yield": 0.3, "package_yield": 0.1}
MEDIANS = {"wafers": 30_000.0, "dies": 60.0, "die_yield": 0.3, "package_yield": 0.9}


def _chain(x: dict[str, np.ndarray]) -> np.ndarray:
    return x["wafers"] * x["dies"] * x["die_yield"] * x["package_yield"]


def _chain_distributions() -> dict[str, Lognormal]:
    return {k: Lognormal.from_median(MEDIANS[k], SIGMAS[k]) for k in SIGMAS}


def test_product_of_lognormals_is_lognormal() -> None:
    # ln Y = sum ln X_i: normal with mean sum mu_i, variance sum sigma_i^2.
    sigma = math.sqrt(sum(s * s for s in SIGMAS.values()))
    mu = sum(math.log(m) for m in MEDIANS.values())
    n = 2**16
    r = run_uncertainty(_chain, _chain_distributions(), n, seed=4, method="mc")
    q = r.quantiles()
    # Standard error of a sample quantile in log space: sqrt(p(1-p)/n) / phi(z) * sigma.
    se = math.sqrt(0.05 * 0.95 / n) / stats.norm.pdf(Z_95) * sigma
    assert math.log(q["p50"]) == pytest.approx(mu, abs=4 * sigma * 1.2533 / math.sqrt(n))
    assert math.log(q["p5"]) == pytest.approx(mu - Z_95 * sigma, abs=4 * se)
    assert math.log(q["p95"]) == pytest.approx(mu + Z_95 * sigma, abs=4 * se)


def test_product_of_lognormals_sobol_indices() -> None:
    ds = _chain_distributions()
    total = sum(s * s for s in SIGMAS.values())
    # For ln Y (additive) S_i = sigma_i^2 / sum sigma_j^2 exactly, no interactions.
    log_s = sobol_sensitivity(lambda x: np.log(_chain(x)), ds, n=2**13, seed=2)
    expected = np.array([SIGMAS[k] ** 2 / total for k in log_s.names])
    np.testing.assert_allclose(log_s.first_order, expected, atol=0.02)
    np.testing.assert_allclose(log_s.total_order, expected, atol=0.02)
    # For Y itself: V[E(Y|X_i)] / V[Y] = (exp(sigma_i^2) - 1) / (exp(sum sigma^2) - 1).
    s = sobol_sensitivity(_chain, ds, n=2**13, seed=2)
    expected_y = np.array([math.expm1(SIGMAS[k] ** 2) / math.expm1(total) for k in s.names])
    np.testing.assert_allclose(s.first_order, expected_y, atol=0.03)
    lo, hi = s.first_order_interval[:, 0], s.first_order_interval[:, 1]
    assert np.mean((lo <= expected_y) & (expected_y <= hi)) >= 0.75


def test_ishigami_published_indices() -> None:
    # Ishigami & Homma (1990), a = 7, b = 0.1, X_i ~ U(-pi, pi); analytic indices
    # S1 = 0.3139, S2 = 0.4424, S3 = 0, ST1 = 0.5576, ST2 = 0.4424, ST3 = 0.2437
    # (Saltelli et al., Global Sensitivity Analysis: The Primer, 2008).
    a, b = 7.0, 0.1

    def ishigami(x: dict[str, np.ndarray]) -> np.ndarray:
        return np.sin(x["x1"]) + a * np.sin(x["x2"]) ** 2 + b * x["x3"] ** 4 * np.sin(x["x1"])

    ds = {k: Uniform(-math.pi, math.pi) for k in ("x1", "x2", "x3")}
    s = sobol_sensitivity(ishigami, ds, n=2**14, seed=7, n_resamples=100)
    np.testing.assert_allclose(s.first_order, [0.3139, 0.4424, 0.0], atol=0.03)
    np.testing.assert_allclose(s.total_order, [0.5576, 0.4424, 0.2437], atol=0.03)
    width = s.total_order_interval[:, 1] - s.total_order_interval[:, 0]
    assert np.all(width > 0) and np.all(width < 0.1)


def test_sobol_with_periods_needs_reduce_and_discrete_inputs_work() -> None:
    ds = {"rate": Uniform(1.0, 2.0), "model": Discrete(("low", "high"))}

    def f(x: dict[str, np.ndarray]) -> np.ndarray:
        scale = np.where(x["model"] == "high", 2.0, 1.0)
        return (x["rate"] * scale)[:, None] * np.ones(12)

    with pytest.raises(InvalidParameterError) as err:
        sobol_sensitivity(f, ds, n=256, seed=0)
    assert err.value.parameter == "reduce"
    s = sobol_sensitivity(f, ds, n=2**12, seed=0, reduce=lambda y: y.sum(axis=1), n_resamples=0)
    assert s.total_order[1] > s.total_order[0] > 0
    assert np.isnan(s.first_order_interval).all()
    with pytest.raises(InvalidParameterError, match="power of 2"):
        sobol_sensitivity(f, ds, n=1000)


# --------------------------------------------------------------------------- tornado


def test_tornado_matches_one_at_a_time_loop() -> None:
    ds = _chain_distributions()
    t = tornado(_chain, ds)
    base = {k: np.array([MEDIANS[k]]) for k in ds}
    for i, name in enumerate(t.names):
        lo = dict(base, **{name: np.array([MEDIANS[name] * math.exp(-Z_95 * SIGMAS[name])])})
        hi = dict(base, **{name: np.array([MEDIANS[name] * math.exp(Z_95 * SIGMAS[name])])})
        assert t.output_low[i] == pytest.approx(float(_chain(lo)[0]))
        assert t.output_high[i] == pytest.approx(float(_chain(hi)[0]))
    assert t.names == ("die_yield", "wafers", "package_yield", "dies")  # sorted by sigma
    assert t.baseline == pytest.approx(30_000 * 60 * 0.3 * 0.9)


def test_tornado_mapping_output_and_names() -> None:
    ds = {"w": Uniform(1.0, 3.0), "m": Discrete(("a", "b"), (0.5, 0.5))}

    def f(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        units = x["w"] * np.where(x["m"] == "b", 3.0, 1.0)
        return {"units": units, "cost": 1.0 / units}

    t = tornado(f, ds, output="units")
    assert t.input_low[t.names.index("m")] == "a"
    # A name longer than the median's is passed whole.
    models = Discrete(("murphy", "negative_binomial"), (0.6, 0.4))
    seen: list[str] = []
    tornado(lambda x: seen.extend(x["model"].tolist()) or np.ones(3), {"model": models})
    assert seen == ["murphy", "murphy", "negative_binomial"]
    assert t.input_high[t.names.index("m")] == "b"
    json.dumps(t.to_dict())
    with pytest.raises(UnknownNameError):
        tornado(f, ds, output="price")
    with pytest.raises(InvalidParameterError):
        tornado(f, ds)


# --------------------------------------------------------------------------- results


def test_result_dict_frame_and_repr() -> None:
    ds = {"w": Uniform(1.0, 2.0)}
    r = run_uncertainty(
        lambda x: {"monthly": x["w"][:, None] * np.arange(1, 4), "total": 6 * x["w"]},
        ds,
        1000,
        seed=1,
    )
    d = r.to_dict()
    json.dumps(d)
    assert d["quantiles"]["monthly"]["p50"] == pytest.approx([1.5, 3.0, 4.5], rel=0.02)
    assert d["quantiles"]["monthly"]["cumulative"]["p50"][-1] == pytest.approx(
        d["quantiles"]["total"]["p50"]
    )
    assert len(repr(r)) <= 300
    assert "<table>" in r._repr_html_()
    with pytest.raises(InvalidParameterError, match="output"):
        r.quantiles()
    with pytest.raises(InvalidParameterError, match="fixed"):
        run_uncertainty(lambda x: x["w"], ds, 10, fixed={"w": 1.0})
    with pytest.raises(InvalidParameterError, match="model output"):
        run_uncertainty(lambda x: x["w"][:5], ds, 10)


def test_categorical_outputs_are_shares() -> None:
    # P(HBM binds) = P(w > 1.5) = 0.5 for w ~ U(1, 2); 0 in month 1, where HBM is ample.
    def f(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        w = x["w"][:, None] * np.ones(2)
        binds = np.where((w > 1.5) & (np.arange(2) == 1), "hbm", "dies")
        return {"units": np.minimum(w, 1.5), "binding_constraint": binds}

    r = run_uncertainty(f, {"w": Uniform(1.0, 2.0)}, 4096, seed=0, method="sobol")
    s = r.shares("binding_constraint")
    assert s["hbm"] == pytest.approx([0.0, 0.5], abs=0.01)
    d = r.to_dict()
    assert set(d["quantiles"]) == {"units"}
    assert d["shares"]["binding_constraint"]["dies"] == pytest.approx([1.0, 0.5], abs=0.01)
    json.dumps(d)
    with pytest.raises(InvalidParameterError, match="shares"):
        r.quantiles("binding_constraint")


def test_sobol_matches_hand_written_estimators_on_the_same_design() -> None:
    # The same scrambled Sobol' design (seed 3): A = first d columns, B = last d,
    # A_B^(i) = A with column i from B; Saltelli (2010) first-order and Jansen
    # (1999) total estimators on outputs centred by the mean of A and B.
    from scipy.stats import qmc

    ds = {"x": Uniform(0.0, 1.0), "y": Lognormal(0.0, 0.5), "z": Triangular(0.0, 0.3, 1.0)}

    def f(x: dict[str, np.ndarray]) -> np.ndarray:
        return x["x"] * x["y"] + np.minimum(x["z"], 0.5)

    n, d = 1024, 3
    u = qmc.Sobol(2 * d, scramble=True, rng=np.random.default_rng(3)).random(n)
    a, b = u[:, :d], u[:, d:]

    def run(v: np.ndarray) -> np.ndarray:
        return f({k: ds[k].ppf(v[:, i]) for i, k in enumerate(ds)})

    fa, fb = run(a), run(b)
    fab = []
    for i in range(d):
        mixed = a.copy()
        mixed[:, i] = b[:, i]
        fab.append(run(mixed))
    mean = np.mean(np.concatenate([fa, fb]))
    fa, fb, fab_c = fa - mean, fb - mean, np.array(fab) - mean
    var = np.var(np.concatenate([fa, fb]))
    first = np.mean(fb * (fab_c - fa), axis=1) / var
    total = 0.5 * np.mean((fa - fab_c) ** 2, axis=1) / var
    s = sobol_sensitivity(f, ds, n=n, seed=3, n_resamples=0)
    np.testing.assert_allclose(s.first_order, first, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s.total_order, total, rtol=1e-10, atol=1e-12)


def test_docs_examples_run() -> None:
    import doctest
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "docs" / "uncertainty.md"
    failures, tried = doctest.testfile(
        str(path),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert tried > 0
    assert failures == 0


# --------------------------------------------------------------------------- chunks and streaming


def _monthly(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ramp = np.arange(1, 13)
    units = x["a"][:, None] * ramp - x["b"][:, None]  # negative for some draws
    return {
        "units": units,
        "total": units.sum(axis=1),
        "binding": np.where(units > 0, "dies", "hbm"),
    }


CHUNK_DS = {"a": Lognormal(0.0, 2.0), "b": Normal(0.0, 3.0)}


@pytest.mark.parametrize("method", ["mc", "sobol", "lhs"])
def test_chunks_give_the_same_draws(method: str) -> None:
    whole = run_uncertainty(_monthly, CHUNK_DS, 5000, seed=9, method=method)  # type: ignore[arg-type]
    parts = run_uncertainty(_monthly, CHUNK_DS, 5000, seed=9, method=method, chunk_draws=700)  # type: ignore[arg-type]
    for k in whole.outputs:
        assert np.array_equal(whole.outputs[k], parts.outputs[k])
    assert np.array_equal(whole.inputs["a"], parts.inputs["a"])


def test_streamed_quantiles_are_within_one_bin_of_the_exact_ones() -> None:
    # Chunks of 100 draws of a heavy-tailed output: later chunks fall outside the
    # first chunk's bins, on both sides, so the histograms must widen.
    kw: dict[str, Any] = {"seed": 4, "chunk_draws": 100}
    exact = run_uncertainty(_monthly, CHUNK_DS, 20_000, **kw)
    probs = [0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0]
    for bins in (64, 8192):
        streamed = run_uncertainty(_monthly, CHUNK_DS, 20_000, keep_draws=False, bins=bins, **kw)
        assert streamed.outputs == {} and streamed.n_draws == 20_000
        for name, cumulative in [("units", False), ("units", True), ("total", False)]:
            hist = streamed.streamed[name]
            width = (hist.cumulative if cumulative else hist.histogram).bin_width  # type: ignore[union-attr]
            draws = exact.outputs[name]
            if cumulative:
                draws = np.cumsum(draws, axis=1)
            reference = np.quantile(draws, probs, axis=0)  # numpy on the kept draws
            ours = streamed.quantiles(name, probs, cumulative=cumulative)
            for i, p in enumerate(probs):
                gap = np.abs(np.arcsinh(ours[quantile_label(p)]) - np.arcsinh(reference[i]))
                assert np.all(gap <= 1.001 * width + 1e-12), (name, cumulative, p)
        mean = streamed.streamed["units"].histogram.mean  # type: ignore[union-attr]
        np.testing.assert_allclose(mean, exact.outputs["units"].mean(axis=0), rtol=1e-9)
        shares_exact = exact.shares("binding")
        shares_streamed = streamed.shares("binding")
        for k in shares_exact:
            np.testing.assert_allclose(shares_streamed[k], shares_exact[k])
    d = streamed.to_dict()
    json.dumps(d)
    assert d["streamed"] is True
    assert set(d["quantiles"]) == set(exact.to_dict()["quantiles"]) == {"units", "total"}
    assert len(repr(streamed)) <= 300 and "<table>" in streamed._repr_html_()


def test_streaming_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="bins"):
        run_uncertainty(_monthly, CHUNK_DS, 100, keep_draws=False, bins=15)
    with pytest.raises(InvalidParameterError, match="chunk_draws"):
        run_uncertainty(_monthly, CHUNK_DS, 100, chunk_draws=0)
    r = run_uncertainty(_monthly, CHUNK_DS, 100, keep_draws=False)
    with pytest.raises(InvalidParameterError, match="shares"):
        r.quantiles("binding")
    with pytest.raises(InvalidParameterError, match="cumulative"):
        r.quantiles("total", cumulative=True)
    with pytest.raises(InvalidParameterError, match="names"):
        r.shares("units")


def test_frames() -> None:
    pytest.importorskip("pandas")  # to_frame needs the optional pandas extra
    ds = {"w": Uniform(1.0, 2.0), "m": Discrete(("a", "b"))}

    def f(x: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        monthly = x["w"][:, None] * np.arange(1, 4)
        return {
            "monthly": monthly,
            "total": 6 * x["w"],
            "binding": np.where(x["w"] > 1.5, "a", "b"),
        }

    for keep in (True, False):
        frame = run_uncertainty(f, ds, 1000, seed=1, keep_draws=keep).to_frame()
        assert list(frame.columns) == ["output", "period", "p5", "p50", "p95"]
        assert list(frame["output"]) == ["monthly"] * 3 + ["total"]  # names are not quantiles
        assert frame["p50"].iloc[1] == pytest.approx(3.0, rel=0.02)
    t = tornado(lambda x: x["w"] * 2, ds).to_frame()
    assert list(t["input"]) == ["w", "m"] and t["swing"].iloc[0] == pytest.approx(1.8)
    s = sobol_sensitivity(lambda x: x["w"], {"w": Uniform(0, 1)}, n=64, seed=0).to_frame()
    assert s["first_order"].iloc[0] == pytest.approx(1.0, abs=0.05)
    assert {"first_order_low", "total_high"} <= set(s.columns)
