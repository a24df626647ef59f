"""Inverse yield models: defect density from an observed yield.

Checks: the report's implied D0 (issue 3 §7), round trips over a grid, an
independent root finder (scipy.optimize.brentq on the textbook formulas written
with ``math``), series inversions near yield 1, and every error path.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, die_yield

EXAMPLE_PARAMETERS = {"alpha": 0.7, "n_layers": 4}


def params_for(name: str) -> dict[str, float]:
    return {p: EXAMPLE_PARAMETERS[p] for p in YIELD_MODELS[name].parameters}


def textbook(name: str, lam: float) -> float:
    """The formulas as printed, with α = 0.7 and n = 4 (as EXAMPLE_PARAMETERS)."""
    if lam == 0.0:
        return 1.0
    return {
        "poisson": lambda: math.exp(-lam),
        "murphy": lambda: ((1 - math.exp(-lam)) / lam) ** 2,
        "murphy_rectangular": lambda: (1 - math.exp(-2 * lam)) / (2 * lam),
        "seeds": lambda: 1 / (1 + lam),
        "moore": lambda: math.exp(-math.sqrt(lam)),
        "negative_binomial": lambda: (1 + lam / 0.7) ** -0.7,
        "bose_einstein": lambda: (1 + lam / 4) ** -4,
        "bose_einstein_per_layer": lambda: (1 + lam) ** -4,  # λ = D_layer · A
    }[name]()


# --------------------------------------------------------------------------- #
# Published reference
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(("name", "expected"), [("poisson", 0.1065), ("murphy", 0.1156)])
def test_ga100_implied_defect_density(name: str, expected: float) -> None:
    # Issue 3 §7 / SOURCES.md §1 (CSIS report): GA100, 826 mm², 41.5 % defect-free
    # implies D0 = 0.1065 /cm² (Poisson) and 0.1156 /cm² (Murphy); quoted to
    # four decimals, so the tolerance is half a unit in the last place.
    d0 = defect_density_for_yield(name, 826.0, 0.415)
    assert isinstance(d0, float)
    assert d0 == pytest.approx(expected, abs=5e-5)


# --------------------------------------------------------------------------- #
# Round trips and an independent root finder
# --------------------------------------------------------------------------- #

LOADS = np.logspace(-6, 2.7, 37)  # up to λ ≈ 500: e^(−500) is still a normal double


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_round_trip_over_a_grid(name: str) -> None:
    p = params_for(name)
    areas = np.array([[10.0], [150.0], [826.0]])
    d0 = LOADS[None, :] / (areas / 100.0) / 0.6  # λ on the grid, f = 0.6
    y = die_yield(name, areas, d0, gross_yield=0.9, critical_area_fraction=0.6, **p)
    back = defect_density_for_yield(
        name, areas, y, gross_yield=0.9, critical_area_fraction=0.6, **p
    )
    assert back.shape == (3, LOADS.size)
    # forward ∘ inverse reproduces the yield to rounding
    again = die_yield(name, areas, back, gross_yield=0.9, critical_area_fraction=0.6, **p)
    np.testing.assert_allclose(again, y, rtol=1e-13, atol=0)
    # inverse ∘ forward reproduces D0 to rounding × condition number; the yield
    # is a double near 0.9 (ulp 1.1e-16) and dY/Y ≈ −dλ for small λ, so the
    # attainable relative accuracy is ≈ 1e-16 / λ (× 2/√λ for Moore).
    lam = LOADS[None, :]
    cond = np.where(name == "moore", 2 / np.sqrt(lam), 1.0) / lam
    assert np.all(np.abs(back / d0 - 1) <= 8e-16 * cond + 1e-13)


@pytest.mark.parametrize("name", list(YIELD_MODELS))
@pytest.mark.parametrize("target", [0.999, 0.9, 0.415, 0.2, 0.01, 1e-6])
def test_inverse_matches_brentq(name: str, target: float) -> None:
    # Solve textbook(λ) = target with brentq, independent of the closed forms.
    upper = 1.0
    while textbook(name, upper) > target:
        upper *= 2.0
    lam = brentq(lambda x: textbook(name, x) - target, 0.0, upper, xtol=1e-15, rtol=1e-15)
    d0 = defect_density_for_yield(name, 250.0, target, **params_for(name))
    assert d0 * 2.5 == pytest.approx(lam, rel=1e-11)


SMALL_LOAD_INVERSE = {
    # λ(ε) for yield 1 − ε, inverted from the series of test_yield_models.py:
    #   Y = 1 − λ + cλ² + O(λ³)  =>  λ = ε + cε² + O(ε³)
    "poisson": 0.5,
    "murphy": 7 / 12,
    "murphy_rectangular": 2 / 3,
    "seeds": 1.0,
    "negative_binomial": 1.7 / 1.4,
    "bose_einstein": 5 / 8,
}


@pytest.mark.parametrize("name", list(SMALL_LOAD_INVERSE))
@pytest.mark.parametrize("eps", [1e-12, 1e-9, 1e-6])
def test_inverse_near_yield_one(name: str, eps: float) -> None:
    y = 1.0 - eps
    eps_exact = 1.0 - y  # exact (Sterbenz): the ε the double y really carries
    expected = eps_exact + SMALL_LOAD_INVERSE[name] * eps_exact**2
    got = defect_density_for_yield(name, 100.0, y, **params_for(name))
    assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("eps", [1e-12, 1e-9, 1e-6])
def test_per_layer_inverse_near_yield_one(eps: float) -> None:
    # (1 + λ)^-4 = 1 − ε  =>  λ = (1 − ε)^(-1/4) − 1 = ε/4 + 5ε²/32 + O(ε³)
    y = 1.0 - eps
    e = 1.0 - y
    got = defect_density_for_yield("bose_einstein_per_layer", 100.0, y, n_layers=4)
    assert got == pytest.approx(e / 4 + 5 * e**2 / 32, rel=1e-12)


def test_per_layer_inverse_closed_form_and_the_other_convention() -> None:
    # The SemiAnalysis example backwards: 1.1^-10 at 100 mm² over 10 layers is
    # D_layer = 0.1 /cm²; under bose_einstein (total over the layers) the same yield
    # is D0 = n·D_layer = 1 /cm². At 826 mm² and 41.5 % (the GA100, CSIS 2025):
    # D_layer = (0.415^(-1/10) − 1) / 8.26, written out with math.
    assert defect_density_for_yield(
        "bose_einstein_per_layer", 100.0, 1.1**-10, n_layers=10
    ) == pytest.approx(0.1, rel=1e-13)
    assert defect_density_for_yield("bose_einstein", 100.0, 1.1**-10, n_layers=10) == (
        pytest.approx(1.0, rel=1e-13)
    )
    expected = (0.415 ** (-1 / 10) - 1) / 8.26
    got = defect_density_for_yield("bose_einstein_per_layer", 826.0, 0.415, n_layers=10)
    assert got == pytest.approx(expected, rel=1e-13)
    total = defect_density_for_yield("bose_einstein", 826.0, 0.415, n_layers=10)
    assert total == pytest.approx(10 * got, rel=1e-13)
    # arrays of layer counts and a gross yield: r = 0.5 / 0.8
    layers = defect_density_for_yield(
        "bose_einstein_per_layer", 200.0, 0.5, gross_yield=0.8, n_layers=[1, 2, 7]
    )
    np.testing.assert_allclose(
        layers, [((0.5 / 0.8) ** (-1 / n) - 1) / 2.0 for n in (1, 2, 7)], rtol=1e-14
    )


def test_moore_inverse_near_yield_one() -> None:
    # e^(−√λ) = 1 − ε  =>  λ = (ln(1 − ε))²
    y = 1.0 - 1e-9
    assert defect_density_for_yield("moore", 100.0, y) == pytest.approx(
        math.log1p(-(1.0 - y)) ** 2, rel=1e-14
    )


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(list(YIELD_MODELS)),
    area=st.floats(1e-2, 1e4),
    relative=st.floats(1e-12, 1.0, exclude_min=False),
    gross=st.floats(0.05, 1.0),
    alpha=st.floats(0.05, 1e6),
    n_layers=st.integers(1, 60),
)
def test_inverse_then_forward_property(
    name: str, area: float, relative: float, gross: float, alpha: float, n_layers: int
) -> None:
    p = {"alpha": alpha, "n_layers": n_layers}
    kwargs = {k: p[k] for k in YIELD_MODELS[name].parameters}
    target = relative * gross
    d0 = defect_density_for_yield(name, area, target, gross_yield=gross, **kwargs)
    assert d0 >= 0.0
    y = die_yield(name, area, d0, gross_yield=gross, **kwargs)
    assert y == pytest.approx(target, rel=1e-11)


# --------------------------------------------------------------------------- #
# Limits and types
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_yield_equal_to_gross_is_exactly_zero_density(name: str) -> None:
    p = params_for(name)
    assert defect_density_for_yield(name, 500.0, 0.8, gross_yield=0.8, **p) == 0.0
    assert defect_density_for_yield(name, 500.0, 1.0, **p) == 0.0
    # a die without critical area is always good: D0 = 0 is the (only sensible) answer
    assert defect_density_for_yield(name, 0.0, 0.8, gross_yield=0.8, **p) == 0.0
    assert defect_density_for_yield(name, 5.0, 1.0, critical_area_fraction=0.0, **p) == 0.0


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_tiny_yields_do_not_warn(name: str) -> None:
    p = params_for(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d0 = defect_density_for_yield(name, 100.0, np.array([1e-200, 1e-30, 0.5]), **p)
    assert np.all(np.isfinite(d0)) and np.all(np.diff(d0) < 0)


def test_broadcasting_and_array_parameters() -> None:
    d0 = defect_density_for_yield(
        "negative_binomial", [[100.0], [200.0]], 0.5, alpha=[0.5, 1.0, 2.0]
    )
    assert d0.shape == (2, 3)
    # closed form, written out: λ = α (0.5^(−1/α) − 1)
    expected = np.array([a * (0.5 ** (-1 / a) - 1) for a in (0.5, 1.0, 2.0)])
    np.testing.assert_allclose(d0[0], expected, rtol=1e-14)
    np.testing.assert_allclose(d0[1], expected / 2, rtol=1e-14)
    assert isinstance(defect_density_for_yield("seeds", 100.0, 0.5), float)
    assert defect_density_for_yield("seeds", 100.0, 0.5) == 1.0
    layers = defect_density_for_yield("bose_einstein", 100.0, 0.5, n_layers=[1, 2])
    np.testing.assert_allclose(layers, [1.0, 2 * (0.5**-0.5 - 1)], rtol=1e-14)


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.2, math.nan, math.inf])
def test_yield_outside_unit_interval(bad: float) -> None:
    with pytest.raises(InvalidParameterError) as info:
        defect_density_for_yield("poisson", 100.0, bad)
    assert info.value.parameter == "die_yield"
    assert "in (0, 1]" in str(info.value)


def test_yield_above_gross_yield() -> None:
    with pytest.raises(InvalidParameterError) as info:
        defect_density_for_yield("murphy", 100.0, [0.3, 0.5], gross_yield=0.4)
    assert info.value.parameter == "die_yield"
    message = str(info.value)
    assert "in (0, gross_yield]" in message and "0.5" in message and "0.4" in message


def test_gross_yield_must_be_positive() -> None:
    with pytest.raises(InvalidParameterError) as info:
        defect_density_for_yield("poisson", 100.0, 0.3, gross_yield=0.0)
    assert info.value.parameter == "gross_yield"


def test_zero_area_cannot_lose_yield() -> None:
    with pytest.raises(InvalidParameterError) as info:
        defect_density_for_yield("poisson", 0.0, 0.5)
    assert info.value.parameter == "die_area_mm2"
    assert "no defect density" in str(info.value)
    with pytest.raises(InvalidParameterError) as info:
        defect_density_for_yield("seeds", 100.0, 0.5, critical_area_fraction=0.0)
    assert info.value.parameter == "critical_area_fraction"


def test_overflowing_density_is_an_error() -> None:
    # strong clustering (α = 0.01) cannot reach 1e-300: λ = α(r^(−1/α) − 1) overflows
    with pytest.raises(InvalidParameterError, match="finite"):
        defect_density_for_yield("negative_binomial", 100.0, 1e-300, alpha=0.01)


def test_inverse_argument_errors() -> None:
    with pytest.raises(UnknownNameError):
        defect_density_for_yield("gauss", 100.0, 0.5)
    with pytest.raises(InvalidParameterError, match="omitted for model seeds"):
        defect_density_for_yield("seeds", 100.0, 0.5, alpha=1.0)
    with pytest.raises(InvalidParameterError, match="n_layers"):
        defect_density_for_yield("bose_einstein", 100.0, 0.5)
    with pytest.raises(InvalidParameterError, match="n_layers"):
        defect_density_for_yield("bose_einstein", 100.0, 0.5, n_layers=1.5)
    with pytest.raises(InvalidParameterError, match="alpha"):
        defect_density_for_yield("negative_binomial", 100.0, 0.5, alpha=-1.0)
    with pytest.raises(InvalidParameterError, match="die_area_mm2"):
        defect_density_for_yield("poisson", -1.0, 0.5)
    with pytest.raises(InvalidParameterError, match="critical_area_fraction"):
        defect_density_for_yield("poisson", 1.0, 0.5, critical_area_fraction=2.0)
    with pytest.raises(InvalidParameterError, match="broadcast"):
        defect_density_for_yield("poisson", [1.0, 2.0], [0.5, 0.4, 0.3])
