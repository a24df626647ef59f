"""Product bins (partial-good SKUs) from the harvest block rule, against Monte Carlo.

GA100 (A100): 128 SMs on the full die, 108 enabled on the A100 (Nvidia A100 white
paper, SOURCES.md §7); 826 mm² die, 41.5 % defect-free yield (CSIS 2025). The D0 is
the one the 41.5 % implies under the model; the SM share of the critical area is a
stated assumption of the test (0.5 and 0.7), not a published figure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.harvest import product_bins
from waferlab.yield_models import defect_density_for_yield

GA100_AREA_MM2 = 826.0
GA100_DEFECT_FREE = 0.415
GA100_SMS = 128
A100_SMS = 108


def _monte_carlo_share(
    lam: float, h: float, n_blocks: int, max_bad: int, alpha: float | None, draws: int, seed: int
) -> float:
    """Share of dies with no defect outside the blocks and at most max_bad blocks hit."""
    rng = np.random.default_rng(seed)
    mean = lam if alpha is None else rng.gamma(alpha, lam / alpha, draws)
    outside = rng.poisson((1.0 - h) * mean, draws)
    inside = rng.poisson(h * mean, draws)
    ok = np.zeros(draws, dtype=bool)
    candidates = np.flatnonzero(outside == 0)
    for k in candidates:  # plain loop: independent of the closed form
        hits = rng.integers(0, n_blocks, inside[k])
        ok[k] = np.unique(hits).size <= max_bad
    return float(ok.mean())


@pytest.mark.parametrize("h", [0.5, 0.7])
def test_ga100_dies_good_enough_for_an_a100_poisson(h: float) -> None:
    d0 = defect_density_for_yield("poisson", GA100_AREA_MM2, GA100_DEFECT_FREE)
    assert d0 == pytest.approx(-math.log(GA100_DEFECT_FREE) / 8.26, rel=1e-9)
    bins = product_bins(
        "poisson",
        GA100_AREA_MM2,
        d0,
        harvestable_fraction=h,
        n_blocks=GA100_SMS,
        products={"GA100 full": 128, "A100": A100_SMS},
    )
    sellable = bins.shares["GA100 full"] + bins.shares["A100"]
    assert bins.shares["GA100 full"] == pytest.approx(GA100_DEFECT_FREE, rel=1e-9)
    lam = d0 * GA100_AREA_MM2 / 100.0
    mc = _monte_carlo_share(lam, h, GA100_SMS, GA100_SMS - A100_SMS, None, 200_000, 11)
    assert sellable == pytest.approx(mc, abs=4e-3)
    # With every defect in the SMs the rule can only fail on > 20 SMs hit: share -> e^{-(1-h)λ}.
    assert sellable == pytest.approx(math.exp(-(1 - h) * lam), rel=1e-3)
    assert sellable > 1.5 * GA100_DEFECT_FREE  # why the sellable yield is far above 41.5 %


def test_ga100_products_under_clustered_defects() -> None:
    alpha, h = 2.0, 0.5
    d0 = defect_density_for_yield(
        "negative_binomial", GA100_AREA_MM2, GA100_DEFECT_FREE, alpha=alpha
    )
    bins = product_bins(
        "negative_binomial",
        GA100_AREA_MM2,
        d0,
        harvestable_fraction=h,
        n_blocks=GA100_SMS,
        products={"A100": A100_SMS},
        alpha=alpha,
    )
    lam = d0 * GA100_AREA_MM2 / 100.0
    mc = _monte_carlo_share(lam, h, GA100_SMS, GA100_SMS - A100_SMS, alpha, 200_000, 5)
    assert bins.shares["A100"] == pytest.approx(mc, abs=4e-3)


def test_ladder_shares_add_up_and_cost_rules_recover_the_wafer_cost() -> None:
    d0 = np.array([0.05, 0.1, 0.2])
    bins = product_bins(
        "poisson",
        814.0,
        d0,
        harvestable_fraction=0.6,
        n_blocks=144,
        products={"full": 144, "H100 SXM": 132, "cut": 114},
    )
    total = sum(np.asarray(v) for v in bins.shares.values()) + np.asarray(bins.unsold)
    assert np.allclose(total, 1.0)
    assert bins.products == ("full", "H100 SXM", "cut")
    gross, wafer = 60.0, 17_000.0
    dies = bins.dies_per_wafer(gross)
    for rule, values in (
        ("physical-units", None),
        ("relative-sales-value", {"full": 3.0, "H100 SXM": 2.0, "cut": 1.0}),
    ):
        cost = bins.cost_per_die_usd(wafer, gross, rule=rule, values=values)
        recovered = sum(np.asarray(cost[p]) * np.asarray(dies[p]) for p in bins.products)
        assert np.allclose(recovered, wafer)
    cost = bins.cost_per_die_usd(
        wafer, gross, rule="relative-sales-value", values={"full": 3.0, "H100 SXM": 2.0, "cut": 1.0}
    )
    assert np.allclose(np.asarray(cost["full"]) / np.asarray(cost["cut"]), 3.0)
    eq = bins.equivalents_per_wafer(gross, {"full": 1.0, "H100 SXM": 1.0, "cut": 0.5}, 1.0)
    assert np.allclose(eq["cut"], 0.5 * np.asarray(dies["cut"]))


def test_product_bin_errors_name_the_argument() -> None:
    with pytest.raises(InvalidParameterError, match="products"):
        product_bins(
            "poisson", 100.0, 0.1, harvestable_fraction=0.5, n_blocks=10, products={"a": 8, "b": 8}
        )
    with pytest.raises(InvalidParameterError, match="products"):
        product_bins(
            "poisson", 100.0, 0.1, harvestable_fraction=0.5, n_blocks=10, products={"a": 11}
        )
    bins = product_bins(
        "poisson", 100.0, 0.1, harvestable_fraction=0.5, n_blocks=10, products={"a": 8}
    )
    with pytest.raises(UnknownNameError, match="rule"):
        bins.cost_per_die_usd(1.0, 10.0, rule="fair")
    with pytest.raises(InvalidParameterError, match="values"):
        bins.cost_per_die_usd(1.0, 10.0, rule="relative-sales-value")
