"""Defect simulation against the analytic yield formulas.

Every statistical check compares a Monte Carlo mean with a formula computed
independently (``waferlab.yield_models``, ``scipy.stats`` or a closed form
written out here) and allows 5 standard errors: with ~20 such checks the
chance of a false failure is below 1e-4 per run, and the seeds are fixed, so
the outcome is deterministic anyway.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.geometry import Die, Wafer, place_dies
from waferlab.harvest import MAX_HARVEST_BLOCKS, harvest_bins
from waferlab.output import to_json
from waferlab.simulate import (
    CHUNK_DIES,
    CLUSTERING,
    MAX_REGIONS,
    MAX_SIMULATED_DIES,
    MAX_WAFERS,
    SimulationResult,
    simulate_wafers,
)
from waferlab.yield_models import die_yield

Z = 5.0  # standard errors allowed


@pytest.fixture(scope="module")
def map_910b():  # type: ignore[no-untyped-def]
    """The Ascend 910B die (SOURCES.md §2: 21.32 × 31.22 mm) on a 300 mm wafer."""
    return place_dies(Wafer(300.0), Die(21.32, 31.22))


@pytest.fixture(scope="module")
def small_map():  # type: ignore[no-untyped-def]
    """Many small dies, for tests that need many dies per wafer."""
    return place_dies(Wafer(200.0), Die(8.0, 8.0))


AREA_910B = 21.32 * 31.22


def test_random_defects_match_poisson(map_910b) -> None:  # type: ignore[no-untyped-def]
    result = simulate_wafers(map_910b, 0.2418, n_wafers=20_000, seed=11)
    expected = die_yield("poisson", AREA_910B, 0.2418)
    assert abs(result.mean_yield - expected) < Z * result.yield_standard_error
    # Dies are independent here: the wafer SE equals the binomial SE of all dies.
    binomial_se = math.sqrt(expected * (1 - expected) / result.good.size)
    assert result.yield_standard_error == pytest.approx(binomial_se, rel=0.05)
    # Mean defect count per die is λ.
    lam = 0.2418 * AREA_910B / 100
    count_se = math.sqrt(lam / result.defect_counts.size)
    assert abs(result.defect_counts.mean() - lam) < Z * count_se


def test_die_clustering_is_negative_binomial_in_distribution(map_910b) -> None:  # type: ignore[no-untyped-def]
    alpha, d0 = 1.3, 0.3
    result = simulate_wafers(map_910b, d0, n_wafers=20_000, clustering="die", alpha=alpha, seed=5)
    lam = d0 * AREA_910B / 100
    counts = result.defect_counts.ravel()
    n = counts.size
    # scipy's nbinom: failures before `alpha` successes, success probability alpha/(alpha+λ).
    pmf = stats.nbinom.pmf(np.arange(8), alpha, alpha / (alpha + lam))
    freq = np.bincount(counts, minlength=8)[:8] / n
    se = np.sqrt(pmf * (1 - pmf) / n)
    assert np.all(np.abs(freq - pmf) < Z * se)
    expected = die_yield("negative_binomial", AREA_910B, d0, alpha=alpha)
    assert abs(result.mean_yield - expected) < Z * result.yield_standard_error
    # Chi-square goodness of fit over 0..7 and a tail bin.
    observed = np.append(np.bincount(counts, minlength=8)[:8], (counts >= 8).sum())
    expected_counts = n * np.append(pmf, 1 - pmf.sum())
    chi2 = ((observed - expected_counts) ** 2 / expected_counts).sum()
    assert stats.chi2.sf(chi2, df=8) > 1e-4


@pytest.mark.parametrize("scope", ["wafer", "region"])
def test_shared_clustering_keeps_negative_binomial_marginal(map_910b, scope: str) -> None:  # type: ignore[no-untyped-def]
    alpha, d0 = 0.8, 0.3
    result = simulate_wafers(map_910b, d0, n_wafers=30_000, clustering=scope, alpha=alpha, seed=7)
    expected = die_yield("negative_binomial", AREA_910B, d0, alpha=alpha)
    assert abs(result.mean_yield - expected) < Z * result.yield_standard_error
    # Every die site on its own: the per-site yield over wafers is NB.
    per_site = result.die_yield
    site_se = np.sqrt(expected * (1 - expected) / result.n_wafers)
    assert np.all(np.abs(per_site - expected) < Z * site_se)


def test_wafer_clustering_variance_of_wafer_yield(map_910b) -> None:  # type: ignore[no-untyped-def]
    # Y_w = mean of n indicators sharing G. E[e^{-sλG}] = (1 + sλ/α)^-α, so
    # Var(Y_w) = (1+2λ/α)^-α - (1+λ/α)^-2α + E[e^{-λG}(1 - e^{-λG})] / n.
    alpha, d0 = 1.5, 0.25
    result = simulate_wafers(map_910b, d0, n_wafers=40_000, clustering="wafer", alpha=alpha, seed=3)
    lam = d0 * AREA_910B / 100
    m1 = (1 + lam / alpha) ** -alpha
    m2 = (1 + 2 * lam / alpha) ** -alpha
    variance = m2 - m1**2 + (m1 - m2) / result.n_dies
    sample = result.wafer_yield.var(ddof=1)
    # the sample variance of 40,000 wafers is within a few percent; allow 8 %
    assert sample == pytest.approx(variance, rel=0.08)
    # Random defects give the much smaller binomial variance.
    random = simulate_wafers(map_910b, d0, n_wafers=40_000, seed=3)
    y = math.exp(-lam)
    assert random.wafer_yield.var(ddof=1) == pytest.approx(y * (1 - y) / random.n_dies, rel=0.08)


def test_region_clustering_correlates_only_within_a_region(small_map) -> None:  # type: ignore[no-untyped-def]
    alpha, d0 = 0.7, 1.5
    result = simulate_wafers(
        small_map,
        d0,
        n_wafers=20_000,
        clustering="region",
        alpha=alpha,
        n_regions=4,
        seed=9,
        keep_dies=True,
    )
    # Regions are the quadrants, counter-clockwise from +x.
    x, y = result.die_x_mm, result.die_y_mm
    quadrant = np.where(y >= 0, np.where(x >= 0, 0, 1), np.where(x < 0, 2, 3))
    on_axis = (x == 0) | (y == 0)
    assert np.array_equal(result.region[~on_axis], quadrant[~on_axis])
    lam = d0 * 0.64
    m1 = (1 + lam / alpha) ** -alpha
    m2 = (1 + 2 * lam / alpha) ** -alpha
    good = result.good.astype(float)
    a = np.flatnonzero(result.region == 0)[:2]
    b = np.flatnonzero(result.region == 2)[0]
    same = np.cov(good[:, a[0]], good[:, a[1]])[0, 1]
    other = np.cov(good[:, a[0]], good[:, b])[0, 1]
    # The SE of a sample covariance of two indicators with variance σ² is about
    # σ²·sqrt(1 + ρ²)/√n <= √2·σ²/√n; 2σ²/√n is a safe bound.
    se = 2 * m1 * (1 - m1) / math.sqrt(result.n_wafers)
    assert abs(same - (m2 - m1**2)) < Z * se
    assert abs(other) < Z * se


def test_edge_gradient(map_910b) -> None:  # type: ignore[no-untyped-def]
    g, d0 = 3.0, 0.2418
    result = simulate_wafers(map_910b, d0, n_wafers=20_000, edge_gradient=g, seed=2)
    r = np.hypot(result.die_x_mm, result.die_y_mm) / 150.0
    weight = (1 + g * r**2) / np.mean(1 + g * r**2)
    lam = d0 * AREA_910B / 100 * weight
    # normalised: the mean expected count per die is still D0 · A
    assert result.expected_defects.mean() == pytest.approx(d0 * AREA_910B / 100, rel=1e-12)
    np.testing.assert_allclose(result.expected_defects, lam, rtol=1e-12, atol=1e-300)
    expected = np.exp(-lam).mean()
    assert abs(result.mean_yield - expected) < Z * result.yield_standard_error
    assert result.expected_yield == pytest.approx(expected, rel=1e-12)
    # outer dies fail more often than inner ones
    inner, outer = r < np.median(r), r >= np.median(r)
    assert result.die_yield[inner].mean() > result.die_yield[outer].mean()
    # a gradient lowers the mean yield (Jensen: e^{-λ} is convex, but λ is spread)
    assert expected > die_yield("poisson", AREA_910B, d0)


@pytest.mark.parametrize(
    ("clustering", "alpha", "rule"),
    [
        (None, None, {"max_defects": 2}),
        (None, None, {"n_blocks": 25, "max_bad_blocks": 1}),
        ("die", 1.2, {"n_blocks": 25, "max_bad_blocks": 3}),
        ("wafer", 2.0, {"max_defects": 1}),
        ("region", 0.9, {"n_blocks": 6, "max_bad_blocks": 2}),
    ],
)
def test_harvest_bins_match_simulation(map_910b, clustering, alpha, rule) -> None:  # type: ignore[no-untyped-def]
    d0, h = 0.3, 0.65
    result = simulate_wafers(
        map_910b,
        d0,
        n_wafers=20_000,
        clustering=clustering,
        alpha=alpha,
        harvestable_fraction=h,
        seed=13,
        **rule,
    )
    if alpha is None:
        bins = harvest_bins("poisson", AREA_910B, d0, harvestable_fraction=h, **rule)
    else:
        bins = harvest_bins(
            "negative_binomial", AREA_910B, d0, harvestable_fraction=h, alpha=alpha, **rule
        )
    assert abs(result.mean_yield - bins.fully_good) < Z * result.yield_standard_error
    assert abs(result.mean_degraded_fraction - bins.degraded) < Z * result.degraded_standard_error
    assert result.expected_degraded_fraction == pytest.approx(bins.degraded, rel=1e-12)
    # bins are disjoint: degraded dies have defects, good dies have none
    assert not np.any(result.good & result.degraded)
    assert np.all(result.defect_counts[result.degraded] > 0)
    assert np.array_equal(result.bad, ~result.good & ~result.degraded)


def test_reproducible_and_seeded(map_910b) -> None:  # type: ignore[no-untyped-def]
    kwargs = {"n_wafers": 50, "clustering": "region", "alpha": 1.0, "harvestable_fraction": 0.5}
    a = simulate_wafers(map_910b, 0.3, seed=42, n_blocks=25, **kwargs)
    b = simulate_wafers(map_910b, 0.3, seed=42, n_blocks=25, **kwargs)
    c = simulate_wafers(map_910b, 0.3, seed=43, n_blocks=25, **kwargs)
    assert np.array_equal(a.defect_counts, b.defect_counts)
    assert np.array_equal(a.degraded, b.degraded)
    assert not np.array_equal(a.defect_counts, c.defect_counts)
    g1 = simulate_wafers(map_910b, 0.3, n_wafers=10, seed=np.random.default_rng(1))
    g2 = simulate_wafers(map_910b, 0.3, n_wafers=10, seed=np.random.default_rng(1))
    assert np.array_equal(g1.defect_counts, g2.defect_counts)
    assert g1.seed is None and a.seed == 42


def test_shapes_types_and_summary(map_910b) -> None:  # type: ignore[no-untyped-def]
    result = simulate_wafers(map_910b, 0.2, n_wafers=30, seed=0)
    assert isinstance(result, SimulationResult)
    assert result.defect_counts.shape == (30, map_910b.gross_dies)
    assert result.defect_counts.dtype == np.int64
    assert result.good.dtype == np.bool_
    assert np.array_equal(result.good, result.defect_counts == 0)
    assert not result.degraded.any()
    assert result.wafer_yield.shape == (30,)
    assert np.array_equal(result.good_dies_per_wafer, result.good.sum(axis=1))
    data = result.to_dict()
    assert data["n_wafers"] == 30
    assert data["dies_per_wafer"] == map_910b.gross_dies
    assert data["mean_yield"] == pytest.approx(result.good.mean())
    assert "defect_counts" not in data
    assert '"expected_yield"' in to_json(result)
    with pytest.raises(AttributeError):
        result.seed = 1  # type: ignore[misc]
    single = simulate_wafers(map_910b, 0.2, n_wafers=1, seed=0)
    assert math.isnan(single.yield_standard_error)
    assert to_json(single)  # NaN becomes null


def test_zero_density_gives_only_good_dies(map_910b) -> None:  # type: ignore[no-untyped-def]
    result = simulate_wafers(map_910b, 0.0, n_wafers=20, clustering="die", alpha=0.5, seed=1)
    assert result.good.all()
    assert result.mean_yield == 1.0 == result.expected_yield


def test_partial_dies_are_not_simulated(map_910b) -> None:  # type: ignore[no-untyped-def]
    result = simulate_wafers(map_910b, 0.2, n_wafers=2, seed=1)
    full = map_910b.full_mask
    np.testing.assert_array_equal(result.die_x_mm, map_910b.center_x_mm[full])
    assert result.n_dies == map_910b.gross_dies < full.size


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"defect_density_per_cm2": -0.1}, "defect_density_per_cm2"),
        ({"defect_density_per_cm2": float("nan")}, "defect_density_per_cm2"),
        ({"n_wafers": 0}, "n_wafers"),
        ({"n_wafers": 2.5}, "n_wafers"),
        ({"n_wafers": MAX_WAFERS + 1}, "n_wafers"),
        ({"n_wafers": MAX_SIMULATED_DIES, "keep_dies": True}, "n_wafers"),
        ({"keep_dies": "yes"}, "keep_dies"),
        ({"clustering": "region", "alpha": 1.0, "n_regions": MAX_REGIONS + 1}, "n_regions"),
        # issue 12: a D0 so large that the Poisson draw overflowed (a traceback)
        ({"defect_density_per_cm2": 1e19}, "defect_density_per_cm2"),
        ({"alpha": 2.0}, "alpha"),
        ({"clustering": "die"}, "alpha"),
        ({"clustering": "wafer", "alpha": 0.0}, "alpha"),
        ({"clustering": "region", "alpha": 1.0, "n_regions": 0}, "n_regions"),
        ({"clustering": "wafer", "alpha": 1.0, "n_regions": 4}, "n_regions"),
        ({"edge_gradient": -1.0}, "edge_gradient"),
        ({"critical_area_fraction": 1.5}, "critical_area_fraction"),
        ({"harvestable_fraction": 1.5}, "harvestable_fraction"),
        ({"max_defects": 2}, "max_defects"),
        ({"n_blocks": 4}, "n_blocks"),
        ({"max_bad_blocks": 1}, "max_bad_blocks"),
        ({"harvestable_fraction": 0.5, "n_blocks": 4, "max_bad_blocks": 5}, "max_bad_blocks"),
        ({"harvestable_fraction": 0.5, "n_blocks": MAX_HARVEST_BLOCKS + 1}, "n_blocks"),
        ({"harvestable_fraction": 0.5, "n_blocks": 10**9}, "n_blocks"),
        ({"harvestable_fraction": 0.5, "n_blocks": 4, "max_defects": 1}, "max_defects"),
        ({"seed": -1}, "seed"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_invalid_arguments(map_910b, kwargs: dict, parameter: str) -> None:  # type: ignore[no-untyped-def]
    args = {"defect_density_per_cm2": 0.2, "n_wafers": 10}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError) as info:
        simulate_wafers(map_910b, **args)
    assert info.value.parameter == parameter


def test_invalid_clustering_and_map(map_910b) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownNameError, match="die, wafer, region"):
        simulate_wafers(map_910b, 0.2, n_wafers=2, clustering="lot", alpha=1.0)
    with pytest.raises(InvalidParameterError) as info:
        simulate_wafers("not a map", 0.2, n_wafers=2)  # type: ignore[arg-type]
    assert info.value.parameter == "die_map"
    assert CLUSTERING == ("die", "wafer", "region")


@pytest.mark.parametrize(
    ("kwargs", "parameter", "words"),
    [
        ({"alpha": 2.0}, "alpha", "only applies with clustering"),
        ({"clustering": "wafer"}, "alpha", "clustering 'wafer' needs alpha"),
        ({"n_regions": 3}, "n_regions", "only applies with clustering 'region'"),
        ({"max_defects": 2}, "max_defects", "only applies with a harvestable fraction"),
    ],
)
def test_option_combination_errors_read_as_words(small_map, kwargs, parameter, words) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as info:
        simulate_wafers(small_map, 0.1, n_wafers=1, seed=0, **kwargs)
    assert info.value.parameter == parameter
    assert words in str(info.value) and "must be None" not in str(info.value)


# --------------------------------------------------------------------------- #
# Streaming in chunks, and the issue-12 reproducers
# --------------------------------------------------------------------------- #


def test_chunked_totals_equal_the_kept_per_die_arrays(map_910b, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Force many small chunks: the streamed per-wafer and per-site totals must be
    # exactly the sums of the per-die arrays kept in the same run.
    import waferlab.simulate as simulate

    monkeypatch.setattr(simulate, "CHUNK_DIES", 7 * map_910b.gross_dies)
    seen: list[tuple[int, int]] = []
    result = simulate_wafers(
        map_910b,
        0.3,
        n_wafers=100,
        clustering="region",
        alpha=0.8,
        harvestable_fraction=0.5,
        n_blocks=25,
        max_bad_blocks=2,
        seed=4,
        keep_dies=True,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (100, 100) and len(seen) == 15  # ceil(100 / 7) chunks
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert result.defect_counts is not None and result.defect_counts.shape == (100, 85)
    assert np.array_equal(result.good_dies_per_wafer, result.good.sum(axis=1))
    assert np.array_equal(result.degraded_dies_per_wafer, result.degraded.sum(axis=1))
    assert np.array_equal(result.defects_per_wafer, result.defect_counts.sum(axis=1))
    assert np.array_equal(result.good_wafers_per_die, result.good.sum(axis=0))
    assert result.mean_yield == pytest.approx(result.good.mean(), rel=1e-15)


def test_large_runs_keep_totals_only(map_910b) -> None:  # type: ignore[no-untyped-def]
    n = CHUNK_DIES // map_910b.gross_dies + 1  # just over one chunk
    result = simulate_wafers(map_910b, 0.2418, n_wafers=n, seed=1)
    assert not result.has_dies and result.defect_counts is None
    with pytest.raises(InvalidParameterError, match="keep_dies"):
        result.good  # noqa: B018
    expected = result.expected_yield
    se = math.sqrt(expected * (1 - expected) / (n * result.n_dies))
    assert abs(result.mean_yield - expected) < Z * max(se, result.yield_standard_error)
    assert result.die_yield.shape == (result.n_dies,)
    json.loads(to_json(result.to_dict()))
    small = simulate_wafers(map_910b, 0.2418, n_wafers=10, seed=1, keep_dies=False)
    assert not small.has_dies and small.good_dies_per_wafer.shape == (10,)


def test_huge_edge_gradient_does_not_overflow(map_910b) -> None:  # type: ignore[no-untyped-def]
    # Issue 12: --edge-gradient 1e308 gave ~100 % yield (1 + g r² overflowed to inf,
    # the weights became nan). For g -> inf the density is proportional to (r/R)².
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = simulate_wafers(map_910b, 0.24, n_wafers=4_000, edge_gradient=1e308, seed=3)
    x, y = result.die_x_mm, result.die_y_mm
    rho2 = (np.hypot(x, y) / 150.0) ** 2
    lam = 0.24 * map_910b.die.area_mm2 / 100.0 * rho2 / rho2.mean()  # independent: the limit
    np.testing.assert_allclose(result.expected_defects, lam, rtol=1e-12, atol=1e-300)
    expected = float(np.mean(np.exp(-lam)))
    assert result.expected_yield == pytest.approx(expected, rel=1e-12)
    assert abs(result.mean_yield - expected) < Z * result.yield_standard_error
    assert 0.15 < result.mean_yield < 0.5  # not the ~100 % of the bug
    finite = simulate_wafers(map_910b, 0.24, n_wafers=10, edge_gradient=1e12, seed=3)
    np.testing.assert_allclose(finite.expected_defects, lam, rtol=1e-9, atol=1e-10)


def test_many_regions_stay_bounded(small_map) -> None:  # type: ignore[no-untyped-def]
    # Issue 12: --n-regions 1000000000 exhausted memory; MAX_REGIONS is the bound.
    result = simulate_wafers(
        small_map, 0.5, n_wafers=50, clustering="region", alpha=1.0, n_regions=MAX_REGIONS, seed=2
    )
    assert result.n_regions == MAX_REGIONS
    with pytest.raises(InvalidParameterError, match="n_regions"):
        simulate_wafers(
            small_map, 0.5, n_wafers=5, clustering="region", alpha=1.0, n_regions=10**9, seed=2
        )
