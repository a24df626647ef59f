"""Partial-good bins: closed forms against independent computations.

The independent references used here:

* direct Python sums of Poisson and negative-binomial probabilities
  (``scipy.stats`` and ``math.lgamma``), term by term;
* an enumeration over the total defect count ``j`` on a die: all ``j`` defects
  are harvestable with probability ``h**j`` and they occupy exactly ``k`` of
  ``n`` equal blocks with probability ``C(n, k) k! S(j, k) / n**j`` (Stirling
  numbers of the second kind). This conditions on the defect count instead of
  treating blocks as independent, so it shares no algebra with the code;
* ``scipy.integrate.quad`` over the gamma mixing density;
* :mod:`waferlab.yield_models` for the fully-good bin.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from waferlab.errors import CalibrationError, InvalidParameterError, UnknownNameError
from waferlab.harvest import (
    HARVEST_MODELS,
    MAX_HARVEST_BLOCKS,
    HarvestBins,
    harvest_bins,
    harvestable_fraction_for,
)
from waferlab.output import to_json
from waferlab.yield_models import YIELD_MODELS, die_yield

# ----------------------------------------------------------------------------- helpers

MODELS = [
    ("poisson", {}, None),
    ("negative_binomial", {"alpha": 0.7}, 0.7),
    ("negative_binomial", {"alpha": 3.0}, 3.0),
    ("seeds", {}, 1.0),
    ("bose_einstein", {"n_layers": 4}, 4.0),
]


def count_pmf(j: int, lam: float, alpha: float | None) -> float:
    """P(N = j) for the die's total defect count."""
    if alpha is None:
        return float(stats.poisson.pmf(j, lam))
    # Γ(α+j)/(Γ(α) j!) (θ/(1+θ))^j (1+θ)^-α with θ = λ/α, in logs (scipy's nbinom.pmf
    # loses ~1e-9 relative accuracy when its success probability is within 1e-8 of 1).
    theta = lam / alpha
    log_pmf = (
        math.lgamma(alpha + j) - math.lgamma(alpha) - math.lgamma(j + 1) - alpha * math.log1p(theta)
    )
    if j:
        log_pmf += j * (math.log(theta) - math.log1p(theta))
    return math.exp(log_pmf)


def stirling2_row(j: int, n: int) -> list[float]:
    """Stirling numbers S(j, k) for k = 0..n (exact integers, returned as floats)."""
    row = [1] + [0] * n  # S(0, k)
    for i in range(1, j + 1):
        new = [0] * (n + 1)
        for k in range(1, min(i, n) + 1):
            new[k] = k * row[k] + row[k - 1]
        row = new
    return [float(v) for v in row]


def occupancy_reference(
    lam: float, h: float, alpha: float | None, n: int, b: int, j_max: int = 160
) -> tuple[float, float]:
    """(good, degraded) by enumerating the total defect count on the die."""
    good = count_pmf(0, lam, alpha)
    degraded = 0.0
    row = [1] + [0] * n
    for j in range(1, j_max + 1):
        new = [0] * (n + 1)
        for k in range(1, min(j, n) + 1):
            new[k] = k * row[k] + row[k - 1]
        row = new
        # P(at most b distinct blocks | j defects in n blocks)
        ok = sum(
            math.comb(n, k) * math.factorial(k) * row[k] / n**j for k in range(1, min(b, j) + 1)
        )
        degraded += count_pmf(j, lam, alpha) * h**j * ok
    return good, degraded


def lam_of(area_mm2: float, d0: float) -> float:
    return d0 * area_mm2 / 100.0


# ----------------------------------------------------------------------------- basics


@pytest.mark.parametrize(("model", "params", "alpha"), MODELS)
@pytest.mark.parametrize("area", [0.0, 83.27, 665.61, 826.0])
def test_fully_good_is_the_model_yield(
    model: str, params: dict, alpha: float | None, area: float
) -> None:
    for d0 in (0.0, 0.09, 0.2418, 1.5):
        bins = harvest_bins(model, area, d0, harvestable_fraction=0.4, **params)
        expected = die_yield(model, area, d0, **params)
        assert bins.fully_good == pytest.approx(expected, rel=1e-13, abs=1e-300)


@pytest.mark.parametrize(("model", "params", "alpha"), MODELS)
def test_zero_harvestable_fraction_is_the_plain_model(
    model: str, params: dict, alpha: float | None
) -> None:
    for rule in ({}, {"max_defects": 3}, {"n_blocks": 25, "max_bad_blocks": 4}):
        bins = harvest_bins(model, 665.61, 0.3, harvestable_fraction=0.0, **rule, **params)
        plain = die_yield(model, 665.61, 0.3, **params)
        assert bins.degraded == 0.0
        assert bins.dead == pytest.approx(1.0 - plain, rel=1e-14)


def test_default_alpha_is_the_registry_default() -> None:
    bins = harvest_bins("negative_binomial", 665.61, 0.3, harvestable_fraction=0.5)
    assert bins.fully_good == pytest.approx(die_yield("negative_binomial", 665.61, 0.3), rel=1e-13)
    assert bins.to_dict()["alpha"] == YIELD_MODELS["negative_binomial"].defaults["alpha"]


def test_gross_yield_and_critical_area_fraction_follow_yield_models() -> None:
    bins = harvest_bins(
        "negative_binomial",
        665.61,
        0.4,
        harvestable_fraction=0.5,
        alpha=2.0,
        gross_yield=0.9,
        critical_area_fraction=0.6,
    )
    expected = die_yield(
        "negative_binomial", 665.61, 0.4, alpha=2.0, gross_yield=0.9, critical_area_fraction=0.6
    )
    assert bins.fully_good == pytest.approx(expected, rel=1e-13)
    # Gross losses are dead; the random part scales by the gross yield.
    inner = harvest_bins(
        "negative_binomial", 665.61 * 0.6, 0.4, harvestable_fraction=0.5, alpha=2.0
    )
    assert bins.degraded == pytest.approx(0.9 * inner.degraded, rel=1e-13)
    assert bins.dead == pytest.approx(0.1 + 0.9 * inner.dead, rel=1e-13)


# ----------------------------------------------------------------------------- max-defects rule


@pytest.mark.parametrize("lam", [1e-9, 0.01, 0.5, 1.6, 6.0, 40.0])
@pytest.mark.parametrize("h", [0.05, 0.5, 1.0])
@pytest.mark.parametrize("m", [0, 1, 2, 7])
def test_poisson_max_defects_matches_term_sum(lam: float, h: float, m: int) -> None:
    # e^{-λ} Σ_{k=1}^{m} (hλ)^k / k!, summed directly.
    expected = math.exp(-lam) * sum((h * lam) ** k / math.factorial(k) for k in range(1, m + 1))
    bins = harvest_bins("poisson", lam * 100.0, 1.0, harvestable_fraction=h, max_defects=m)
    assert bins.degraded == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert bins.fully_good + bins.degraded + bins.dead == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 2.5, 40.0])
@pytest.mark.parametrize("lam", [1e-8, 0.2, 1.6, 9.0])
@pytest.mark.parametrize("h", [0.1, 0.7, 1.0])
@pytest.mark.parametrize("m", [1, 3, 12])
def test_negative_binomial_max_defects_matches_pmf_sum(
    alpha: float, lam: float, h: float, m: int
) -> None:
    # P(no defect outside, k inside) = h^k P(N = k): each of k defects lands inside w.p. h.
    expected = sum(h**k * count_pmf(k, lam, alpha) for k in range(1, m + 1))
    bins = harvest_bins(
        "negative_binomial", lam * 100.0, 1.0, harvestable_fraction=h, max_defects=m, alpha=alpha
    )
    assert bins.degraded == pytest.approx(expected, rel=1e-11, abs=1e-300)
    assert bins.fully_good + bins.degraded + bins.dead == pytest.approx(1.0, abs=1e-14)


def test_dead_bin_is_accurate_at_tiny_load() -> None:
    # dead ≈ λ(1-h) + (hλ)²/2 (two inside, one allowed); 1 - good - degraded would lose it.
    lam, h = 1e-10, 0.5
    bins = harvest_bins("poisson", lam * 100.0, 1.0, harvestable_fraction=h, max_defects=1)
    assert bins.dead == pytest.approx(lam * (1 - h), rel=1e-9)
    bins = harvest_bins(
        "negative_binomial", lam * 100.0, 1.0, harvestable_fraction=h, n_blocks=4, alpha=2.0
    )
    assert bins.dead == pytest.approx(lam * (1 - h), rel=1e-8)


# ----------------------------------------------------------------------------- block rule


@pytest.mark.parametrize(("model", "params", "alpha"), MODELS)
@pytest.mark.parametrize(("n", "b"), [(1, 1), (4, 2), (25, 1), (25, 3), (25, 25)])
@pytest.mark.parametrize(("lam", "h"), [(0.05, 0.8), (1.6, 0.6), (4.0, 0.9)])
def test_block_rule_matches_occupancy_enumeration(
    model: str, params: dict, alpha: float | None, n: int, b: int, lam: float, h: float
) -> None:
    good, degraded = occupancy_reference(lam, h, alpha, n, b)
    bins = harvest_bins(
        model, lam * 100.0, 1.0, harvestable_fraction=h, n_blocks=n, max_bad_blocks=b, **params
    )
    assert bins.fully_good == pytest.approx(good, rel=1e-12)
    # the enumeration truncates at 160 defects; the omitted mass is below 1e-15 here
    assert bins.degraded == pytest.approx(degraded, rel=1e-9, abs=1e-15)
    assert bins.fully_good + bins.degraded + bins.dead == pytest.approx(1.0, abs=1e-12)


def gamma_quad_blocks(lam: float, h: float, alpha: float, n: int, b: int) -> float:
    """Degraded fraction by adaptive quadrature over the gamma mixing density."""
    scale = lam / alpha

    def integrand(x: float) -> float:
        p = -math.expm1(-x * h / n)
        q = 1.0 - p
        inside = sum(math.comb(n, k) * q ** (n - k) * p**k for k in range(1, b + 1))
        return math.exp(-(1 - h) * x) * inside * stats.gamma.pdf(x, alpha, scale=scale)

    cuts = stats.gamma.ppf(
        [0.0, 1e-12, 1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-9], alpha, scale=scale
    )
    total = sum(
        integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-13, limit=400)[0]
        for lo, hi in itertools.pairwise(cuts)
    )
    tail = integrate.quad(integrand, cuts[-1], np.inf, epsabs=0.0, epsrel=1e-10)[0]
    return total + tail


# quad reports round-off on the far tail (beyond the 1 - 1e-9 quantile), where the
# integrand is below 1e-9 of the total: harmless for the reference value.
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("alpha", [0.3, 2.0, 50.0])
@pytest.mark.parametrize("lam", [0.001, 1.0, 20.0])
@pytest.mark.parametrize(("n", "b", "h"), [(25, 1, 0.6), (25, 5, 1.0), (60, 30, 0.9)])
def test_negative_binomial_blocks_match_mixing_quadrature(
    alpha: float, lam: float, n: int, b: int, h: float
) -> None:
    # From tiny loads (the conditional CDF near 1) to loads where most dies lose more
    # than b blocks, with strong (alpha 0.3) and weak (alpha 50) clustering.
    expected = gamma_quad_blocks(lam, h, alpha, n, b)
    bins = harvest_bins(
        "negative_binomial",
        lam * 100.0,
        1.0,
        harvestable_fraction=h,
        n_blocks=n,
        max_bad_blocks=b,
        alpha=alpha,
    )
    assert bins.degraded == pytest.approx(expected, rel=1e-9)


def binomial_mixing_quad(lam: float, h: float, alpha: float, n: int, b: int) -> float:
    """Degraded fraction for many blocks: adaptive quadrature of the binomial pmf sum."""
    scale = lam / alpha

    def integrand(x: float) -> float:
        p = -math.expm1(-x * h / n)
        inside = float(stats.binom.pmf(np.arange(1, b + 1), n, p).sum())
        return math.exp(-(1 - h) * x) * inside * stats.gamma.pdf(x, alpha, scale=scale)

    cuts = stats.gamma.ppf(
        [0.0, 1e-12, 1e-6, 1e-3, 0.1, 0.5, 0.9, 0.999, 1 - 1e-12], alpha, scale=scale
    )
    return sum(
        integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=1e-12, limit=400)[0]
        for lo, hi in itertools.pairwise(cuts)
    )


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize(("alpha", "lam"), [(0.5, 3.0), (2.0, 0.2), (2.0, 8.0), (30.0, 4.0)])
@pytest.mark.parametrize(("n", "b", "h"), [(144, 8, 0.7), (1000, 3, 0.9), (4096, 200, 0.8)])
def test_many_blocks_match_binomial_mixing_quadrature(
    alpha: float, lam: float, n: int, b: int, h: float
) -> None:
    # Block counts far beyond the closed forms' reach (C(4096, k) overflows a float),
    # up to MAX_HARVEST_BLOCKS, against a sum of binomial probabilities under quad.
    expected = binomial_mixing_quad(lam, h, alpha, n, b)
    bins = harvest_bins(
        "negative_binomial",
        lam * 100.0,
        1.0,
        harvestable_fraction=h,
        n_blocks=n,
        max_bad_blocks=b,
        alpha=alpha,
    )
    assert bins.degraded == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert bins.fully_good + bins.degraded + bins.dead == pytest.approx(1.0, abs=1e-12)


def test_many_blocks_poisson_match_binomial_sum() -> None:
    # Poisson: degraded = e^{-(1-h)λ} Σ_{k=1}^{b} binom(n, p)(k), p = 1 - e^{-hλ/n}
    lam, h = 2.5, 0.8
    for n, b in ((144, 4), (MAX_HARVEST_BLOCKS, 1), (MAX_HARVEST_BLOCKS, 300)):
        p = -math.expm1(-h * lam / n)
        expected = math.exp(-(1 - h) * lam) * float(
            stats.binom.pmf(np.arange(1, b + 1), n, p).sum()
        )
        bins = harvest_bins(
            "poisson", lam * 100.0, 1.0, harvestable_fraction=h, n_blocks=n, max_bad_blocks=b
        )
        # 1e-10: scipy's binomial CDF (incomplete beta) is good to about 1e-11 at n = 4096
        assert bins.degraded == pytest.approx(expected, rel=1e-10)


def test_block_rule_limits() -> None:
    # One block and one bad block allowed: degraded means "all defects harvestable",
    # the same event as an unlimited defect count.
    one = harvest_bins("negative_binomial", 600, 0.3, harvestable_fraction=0.7, n_blocks=1, alpha=2)
    many = harvest_bins(
        "negative_binomial", 600, 0.3, harvestable_fraction=0.7, max_defects=10_000, alpha=2
    )
    assert one.degraded == pytest.approx(many.degraded, rel=1e-12)
    # max_bad_blocks = 0: no repair possible.
    none = harvest_bins("poisson", 600, 0.3, harvestable_fraction=0.7, n_blocks=5, max_bad_blocks=0)
    assert none.degraded == 0.0
    # Every block may go, and the whole critical area is harvestable: only the
    # defect-free dies are "good", everything else is degraded.
    allb = harvest_bins(
        "poisson", 600, 0.3, harvestable_fraction=1.0, n_blocks=25, max_bad_blocks=25
    )
    assert allb.dead == pytest.approx(0.0, abs=1e-15)
    assert allb.degraded == pytest.approx(-math.expm1(-1.8), rel=1e-13)


def test_negative_binomial_tends_to_poisson() -> None:
    p = harvest_bins(
        "poisson", 665.61, 0.24, harvestable_fraction=0.6, n_blocks=25, max_bad_blocks=2
    )
    nb = harvest_bins(
        "negative_binomial",
        665.61,
        0.24,
        harvestable_fraction=0.6,
        n_blocks=25,
        max_bad_blocks=2,
        alpha=1e7,
    )
    assert nb.degraded == pytest.approx(p.degraded, rel=1e-5)
    assert nb.fully_good == pytest.approx(p.fully_good, rel=1e-6)


def test_monte_carlo_block_rule() -> None:
    # Simulate the defect process itself: gamma intensity, Poisson count, each defect
    # harvestable w.p. h, landing in a uniform block. 200,000 dies; 5 standard errors.
    rng = np.random.default_rng(20250307)
    n_dies, alpha, lam, h, n, b = 200_000, 1.5, 1.8, 0.65, 25, 2
    counts = rng.poisson(rng.gamma(alpha, lam / alpha, n_dies))
    total = counts.sum()
    die = np.repeat(np.arange(n_dies), counts)
    harvestable = rng.random(total) < h
    block = rng.integers(0, n, total)
    outside = np.bincount(die[~harvestable], minlength=n_dies)
    hit = np.zeros((n_dies, n), dtype=bool)
    hit[die[harvestable], block[harvestable]] = True
    n_hit = hit.sum(axis=1)
    degraded = (counts > 0) & (outside == 0) & (n_hit <= b)
    p_hat = degraded.mean()
    se = math.sqrt(p_hat * (1 - p_hat) / n_dies)
    bins = harvest_bins(
        "negative_binomial",
        lam * 100,
        1.0,
        harvestable_fraction=h,
        n_blocks=n,
        max_bad_blocks=b,
        alpha=alpha,
    )
    assert abs(bins.degraded - p_hat) < 5 * se


# ----------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None)
@given(
    area=st.floats(0.0, 2000.0),
    d0=st.floats(0.0, 5.0),
    h=st.floats(0.0, 1.0),
    model=st.sampled_from(MODELS),
    rule=st.one_of(
        st.builds(lambda m: {"max_defects": m}, st.integers(0, 30)),
        st.integers(1, 40).flatmap(
            lambda n: st.builds(lambda b: {"n_blocks": n, "max_bad_blocks": b}, st.integers(0, n))
        ),
    ),
)
def test_bins_are_probabilities_summing_to_one(
    area: float, d0: float, h: float, model: tuple, rule: dict
) -> None:
    name, params, _ = model
    bins = harvest_bins(name, area, d0, harvestable_fraction=h, **rule, **params)
    for value in (bins.fully_good, bins.degraded, bins.dead):
        assert 0.0 <= value <= 1.0
    assert bins.fully_good + bins.degraded + bins.dead == pytest.approx(1.0, abs=1e-11)


@settings(max_examples=30, deadline=None)
@given(
    d0=st.floats(0.01, 2.0),
    h1=st.floats(0.0, 1.0),
    h2=st.floats(0.0, 1.0),
    n=st.integers(1, 30),
)
def test_degraded_grows_with_harvestable_fraction(d0: float, h1: float, h2: float, n: int) -> None:
    lo, hi = sorted((h1, h2))
    a = harvest_bins("negative_binomial", 665.61, d0, harvestable_fraction=lo, n_blocks=n, alpha=2)
    b = harvest_bins("negative_binomial", 665.61, d0, harvestable_fraction=hi, n_blocks=n, alpha=2)
    assert b.degraded >= a.degraded - 1e-13


def test_extreme_loads_are_finite() -> None:
    for model, params, _ in MODELS:
        bins = harvest_bins(
            model, 800.0, 1000.0, harvestable_fraction=0.9, n_blocks=25, max_bad_blocks=3, **params
        )
        assert np.isfinite([bins.fully_good, bins.degraded, bins.dead]).all()
        assert bins.dead == pytest.approx(1.0 - bins.fully_good - bins.degraded, abs=1e-15)
    zero = harvest_bins("poisson", 0.0, 0.5, harvestable_fraction=0.5)
    assert (zero.fully_good, zero.degraded, zero.dead) == (1.0, 0.0, 0.0)


def test_broadcasting_scalars_and_arrays() -> None:
    scalar = harvest_bins("poisson", 665.61, 0.3, harvestable_fraction=0.5)
    assert isinstance(scalar.fully_good, float)
    assert isinstance(scalar.degraded, float)
    areas = np.array([[100.0], [665.61]])
    fractions = np.array([0.0, 0.3, 0.9])
    grid = harvest_bins(
        "negative_binomial", areas, 0.3, harvestable_fraction=fractions, n_blocks=25, alpha=2.0
    )
    assert np.shape(grid.degraded) == (2, 3)
    for i, area in enumerate(areas[:, 0]):
        for j, h in enumerate(fractions):
            one = harvest_bins(
                "negative_binomial", area, 0.3, harvestable_fraction=h, n_blocks=25, alpha=2.0
            )
            assert grid.degraded[i, j] == pytest.approx(one.degraded, rel=1e-14, abs=1e-300)
            assert grid.dead[i, j] == pytest.approx(one.dead, rel=1e-14)


def test_to_dict_is_json_and_carries_the_model() -> None:
    bins = harvest_bins("negative_binomial", 665.61, 0.3, harvestable_fraction=0.5, alpha=2.0)
    data = bins.to_dict()
    assert data["model"] == "negative_binomial"
    assert data["alpha"] == 2.0
    assert data["max_defects"] == 1
    assert data["good_or_degraded"] == pytest.approx(bins.fully_good + bins.degraded)
    assert '"fully_good"' in to_json(bins)
    with pytest.raises(AttributeError):
        bins.degraded = 0.5  # type: ignore[misc]
    assert isinstance(bins, HarvestBins)
    assert set(HARVEST_MODELS) == {"poisson", "negative_binomial", "seeds", "bose_einstein"}


# ----------------------------------------------------------------------------- errors


def test_block_count_is_bounded() -> None:
    # the bound is checked before any work, in both entry points, with the range
    for call in (
        lambda n: harvest_bins("poisson", 665.61, 0.2, harvestable_fraction=0.5, n_blocks=n),
        lambda n: harvestable_fraction_for(
            "poisson", 665.61, fully_good_yield=0.2, good_or_degraded_yield=0.3, n_blocks=n
        ),
    ):
        with pytest.raises(InvalidParameterError, match=rf"\[1, {MAX_HARVEST_BLOCKS}\]") as info:
            call(10**9)
        assert info.value.parameter == "n_blocks"
    bins = harvest_bins(
        "poisson", 665.61, 0.2, harvestable_fraction=0.5, n_blocks=MAX_HARVEST_BLOCKS
    )
    assert float(bins.fully_good + bins.degraded + bins.dead) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"die_area_mm2": -1.0}, "die_area_mm2"),
        ({"die_area_mm2": float("nan")}, "die_area_mm2"),
        ({"defect_density_per_cm2": -0.1}, "defect_density_per_cm2"),
        ({"harvestable_fraction": 1.5}, "harvestable_fraction"),
        ({"harvestable_fraction": [0.2, -0.1]}, "harvestable_fraction"),
        ({"max_defects": -1}, "max_defects"),
        ({"max_defects": 1.5}, "max_defects"),
        ({"n_blocks": 0}, "n_blocks"),
        ({"n_blocks": MAX_HARVEST_BLOCKS + 1}, "n_blocks"),
        ({"n_blocks": 10**9}, "n_blocks"),
        ({"n_blocks": 4, "max_bad_blocks": 5}, "max_bad_blocks"),
        ({"n_blocks": 4, "max_bad_blocks": -1}, "max_bad_blocks"),
        ({"max_bad_blocks": 1}, "max_bad_blocks"),
        ({"n_blocks": 4, "max_defects": 2}, "max_defects"),
        ({"gross_yield": 1.2}, "gross_yield"),
        ({"critical_area_fraction": -0.5}, "critical_area_fraction"),
    ],
)
def test_invalid_inputs_name_the_argument(kwargs: dict, parameter: str) -> None:
    args = {"die_area_mm2": 665.61, "defect_density_per_cm2": 0.3, "harvestable_fraction": 0.5}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError) as info:
        harvest_bins("poisson", **args)
    assert info.value.parameter == parameter
    assert parameter in str(info.value)


def test_model_errors() -> None:
    with pytest.raises(UnknownNameError, match="poisson, negative_binomial"):
        harvest_bins("murphy", 100, 0.1, harvestable_fraction=0.5)
    with pytest.raises(UnknownNameError, match="alpha"):
        harvest_bins("poisson", 100, 0.1, harvestable_fraction=0.5, alpha=2.0)
    with pytest.raises(InvalidParameterError, match="alpha must be >= 1e-09"):
        harvest_bins("negative_binomial", 100, 0.1, harvestable_fraction=0.5, alpha=0.0)
    with pytest.raises(InvalidParameterError, match="n_layers"):
        harvest_bins("bose_einstein", 100, 0.1, harvestable_fraction=0.5)


# ----------------------------------------------------------------------------- inverse


def test_inverse_for_the_report_poisson_case() -> None:
    # R: 20 % fully functional 910B dies (665.61 mm²); FT: 40 % counting degraded ones.
    fit = harvestable_fraction_for(
        "poisson", 665.61, fully_good_yield=0.20, good_or_degraded_yield=0.40
    )
    assert fit.defect_density_per_cm2 == pytest.approx(-math.log(0.2) / 6.6561, rel=1e-12)
    lam = -math.log(0.2)
    # single-defect repair: 0.2 + 0.2·hλ = 0.4  ⇒  h = 1/λ, solved by hand
    assert fit.harvestable_fraction == pytest.approx(1.0 / lam, rel=1e-9)
    assert fit.bins.good_or_degraded == pytest.approx(0.40, abs=1e-12)
    assert fit.to_dict()["bins"]["model"] == "poisson"


@pytest.mark.parametrize(("model", "params", "alpha"), MODELS)
@pytest.mark.parametrize("h_true", [0.0, 0.15, 0.55, 0.95])
def test_inverse_round_trip(model: str, params: dict, alpha: float | None, h_true: float) -> None:
    rule = {"n_blocks": 25, "max_bad_blocks": 3}
    d0 = 0.35
    bins = harvest_bins(model, 665.61, d0, harvestable_fraction=h_true, **rule, **params)
    fit = harvestable_fraction_for(
        model,
        665.61,
        fully_good_yield=bins.fully_good,
        good_or_degraded_yield=bins.fully_good + bins.degraded,
        **rule,
        **params,
    )
    assert fit.defect_density_per_cm2 == pytest.approx(d0, rel=1e-10)
    assert fit.harvestable_fraction == pytest.approx(h_true, abs=1e-8)


def test_inverse_errors() -> None:
    with pytest.raises(CalibrationError, match="most it can reach"):
        harvestable_fraction_for(
            "poisson", 665.61, fully_good_yield=0.2, good_or_degraded_yield=0.9
        )
    with pytest.raises(InvalidParameterError) as info:
        harvestable_fraction_for(
            "poisson", 665.61, fully_good_yield=0.4, good_or_degraded_yield=0.2
        )
    assert info.value.parameter == "good_or_degraded_yield"
    for bad in (0.0, 1.2, float("nan")):
        with pytest.raises(InvalidParameterError) as info:
            harvestable_fraction_for(
                "poisson", 665.61, fully_good_yield=bad, good_or_degraded_yield=0.5
            )
        assert info.value.parameter == "fully_good_yield"
    with pytest.raises(InvalidParameterError) as info:
        harvestable_fraction_for(
            "poisson", 665.61, fully_good_yield=0.5, good_or_degraded_yield=0.6, gross_yield=0.4
        )
    assert info.value.parameter == "fully_good_yield"
    with pytest.raises(InvalidParameterError) as info:
        harvestable_fraction_for("poisson", 0.0, fully_good_yield=0.2, good_or_degraded_yield=0.4)
    assert info.value.parameter == "die_area_mm2"


def test_inverse_equal_yields_give_zero_fraction() -> None:
    fit = harvestable_fraction_for(
        "negative_binomial", 665.61, fully_good_yield=0.2, good_or_degraded_yield=0.2, alpha=2.0
    )
    assert fit.harvestable_fraction == 0.0


def test_bad_block_limit_without_blocks_reads_as_words() -> None:
    with pytest.raises(InvalidParameterError) as info:
        harvest_bins("poisson", 665.61, 0.2, harvestable_fraction=0.5, max_bad_blocks=3)
    assert info.value.parameter == "max_bad_blocks"
    message = str(info.value)
    assert "needs the number of blocks" in message and "None" not in message
