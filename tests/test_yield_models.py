"""Yield models: reference values, identities, numerics and the registry contract.

Expected values are computed here from the textbook formulas with ``math``
(independently of the vectorised log-space code under test), from series
expansions derived by hand, from numerical integration of the mixing
distributions, or taken from issue 3 §7 / SOURCES.md.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.output import to_json
from waferlab.units import MM2_PER_CM2
from waferlab.yield_models import (
    YIELD_MODELS,
    YieldModel,
    bose_einstein,
    bose_einstein_per_layer,
    defect_load,
    die_yield,
    get_model,
    moore,
    murphy,
    murphy_rectangular,
    negative_binomial,
    poisson,
    seeds,
)

#: Model parameters used wherever a test needs one (alpha < 1 exercises strong clustering).
EXAMPLE_PARAMETERS = {"alpha": 0.7, "n_layers": 4}

ONE_CM2 = MM2_PER_CM2  # a die of 1 cm², so that λ equals D0 numerically


def params_for(model: YieldModel) -> dict[str, float]:
    return {p: EXAMPLE_PARAMETERS[p] for p in model.parameters}


def reference(name: str, lam: float, alpha: float = 2.0, n: int = 4) -> float:
    """Textbook formula, written directly (no log-space tricks)."""
    if name == "poisson":
        return math.exp(-lam)
    if name == "murphy":
        return ((1.0 - math.exp(-lam)) / lam) ** 2
    if name == "murphy_rectangular":
        return (1.0 - math.exp(-2.0 * lam)) / (2.0 * lam)
    if name == "seeds":
        return 1.0 / (1.0 + lam)
    if name == "moore":
        return math.exp(-math.sqrt(lam))
    if name == "negative_binomial":
        return (1.0 + lam / alpha) ** (-alpha)
    if name == "bose_einstein":
        # Price: n layers, each 1 / (1 + A·D0/n), multiplied one by one
        y = 1.0
        for _ in range(n):
            y *= 1.0 / (1.0 + lam / n)
        return y
    if name == "bose_einstein_per_layer":
        # Price with the density given per layer: each layer 1 / (1 + A·D_layer)
        y = 1.0
        for _ in range(n):
            y *= 1.0 / (1.0 + lam)
        return y
    raise AssertionError(name)


# --------------------------------------------------------------------------- #
# Reference values
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("lam", [0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_model_values_at_reference_loads(name: str, lam: float) -> None:
    # λ = D0 · A with A = 1 cm²; tolerance: a few ulp of the formula.
    kwargs = {"alpha": 2.0} if name == "negative_binomial" else {}
    if "n_layers" in YIELD_MODELS[name].parameters:
        kwargs = {"n_layers": 4}
    got = die_yield(name, ONE_CM2, lam, **kwargs)
    assert got == pytest.approx(reference(name, lam), rel=1e-13)


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_gross_yield_and_critical_fraction_enter_as_documented(name: str) -> None:
    # A = 3 cm², f = 0.25, D0 = 0.8 -> λ = 0.6; Y = 0.9 · Y(0.6)
    kwargs = {"alpha": 2.0} if name == "negative_binomial" else {}
    if "n_layers" in YIELD_MODELS[name].parameters:
        kwargs = {"n_layers": 4}
    got = die_yield(name, 300.0, 0.8, gross_yield=0.9, critical_area_fraction=0.25, **kwargs)
    assert got == pytest.approx(0.9 * reference(name, 0.6), rel=1e-13)


def test_named_functions_match_dispatch() -> None:
    assert poisson(250.0, 0.3) == die_yield("poisson", 250.0, 0.3)
    assert murphy(250.0, 0.3) == die_yield("murphy", 250.0, 0.3)
    assert murphy_rectangular(250.0, 0.3) == die_yield("murphy_rectangular", 250.0, 0.3)
    assert seeds(250.0, 0.3) == die_yield("seeds", 250.0, 0.3)
    assert moore(250.0, 0.3) == die_yield("moore", 250.0, 0.3)
    assert negative_binomial(250.0, 0.3, alpha=3.0) == die_yield(
        "negative_binomial", 250.0, 0.3, alpha=3.0
    )
    assert bose_einstein(250.0, 0.3, n_layers=5) == die_yield(
        "bose_einstein", 250.0, 0.3, n_layers=5
    )
    assert bose_einstein_per_layer(250.0, 0.3, n_layers=5) == die_yield(
        "bose_einstein_per_layer", 250.0, 0.3, n_layers=5
    )
    # the registry entry is callable too
    assert YIELD_MODELS["seeds"](250.0, 0.3) == seeds(250.0, 0.3)


def test_negative_binomial_default_alpha_is_two() -> None:
    # documented default: α = 2 (Patterson & Hennessy's formula 1/(1 + D0·A/2)²)
    assert YIELD_MODELS["negative_binomial"].defaults["alpha"] == 2.0
    assert negative_binomial(826.0, 0.1) == pytest.approx((1 + 0.826 / 2) ** -2, rel=1e-14)


def test_defect_load() -> None:
    assert defect_load(826.0, 0.1) == pytest.approx(0.826, rel=1e-15)
    assert defect_load(826.0, 0.1, critical_area_fraction=0.5) == pytest.approx(0.413)
    np.testing.assert_allclose(defect_load([100.0, 200.0], 1.0), [1.0, 2.0])
    assert isinstance(defect_load(1.0, 1.0), float)


# --------------------------------------------------------------------------- #
# Identities
# --------------------------------------------------------------------------- #

LOADS = np.array([0.0, 1e-9, 1e-3, 0.1, 0.5, 1.0, 2.0, 10.0, 1e3])


def test_negative_binomial_alpha_one_is_seeds() -> None:
    np.testing.assert_allclose(
        negative_binomial(ONE_CM2, LOADS, alpha=1.0), seeds(ONE_CM2, LOADS), rtol=1e-14
    )


@pytest.mark.parametrize("alpha", [1e5, 1e6, 1e9, 1e12])
def test_negative_binomial_tends_to_poisson(alpha: float) -> None:
    # −ln Y = α ln(1 + λ/α) = λ − λ²/(2α) + λ³/(3α²) − λ⁴/(4α³) + ...: the log1p
    # form must reproduce the corrections, not just the limit. The omitted
    # term λ⁵/(5α⁴) is below 1e-17 relative for α >= 1e5, λ <= 5.
    lam = np.array([1e-6, 0.1, 1.0, 2.0, 5.0])
    y = negative_binomial(ONE_CM2, lam, alpha=alpha)
    expected_log = -(lam - lam**2 / (2 * alpha) + lam**3 / (3 * alpha**2) - lam**4 / (4 * alpha**3))
    # ln of a double near 1 is only good to ~1 ulp of 1 in absolute terms
    np.testing.assert_allclose(np.log(y), expected_log, rtol=1e-13, atol=3e-16)
    assert np.all(np.abs(y / np.exp(-lam) - 1) <= lam**2 / alpha + 1e-15)


def test_negative_binomial_approaches_poisson_monotonically() -> None:
    alphas = [0.5, 1.0, 4.0, 16.0, 256.0, 1e5]
    gaps = [negative_binomial(ONE_CM2, 2.0, alpha=a) - poisson(ONE_CM2, 2.0) for a in alphas]
    assert all(g > 0 for g in gaps)
    assert all(b < a for a, b in itertools.pairwise(gaps))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 25])
def test_bose_einstein_equals_negative_binomial_alpha_n(n: int) -> None:
    np.testing.assert_allclose(
        bose_einstein(ONE_CM2, LOADS, n_layers=n),
        negative_binomial(ONE_CM2, LOADS, alpha=float(n)),
        rtol=1e-15,
    )


def test_bose_einstein_uses_per_layer_density() -> None:
    # 10 layers, total D0 · A = 0.1: per layer 0.01, Y = 1.01^-10 ≈ 0.905. The
    # common mistake, 1.1^-10 ≈ 0.386, must not be what we compute.
    y = bose_einstein(ONE_CM2, 0.1, n_layers=10)
    assert y == pytest.approx(1.01**-10, rel=1e-14)
    assert abs(y - 1.1**-10) > 0.5


def test_per_layer_convention_by_name() -> None:
    # The SemiAnalysis die-yield calculator's inputs: D = 0.1 /cm² per layer, 10
    # critical layers, 100 mm² (A·D = 0.1 per layer): (1 + 0.1)^-10 = 1.1^-10,
    # written out as ten factors 1/1.1 (0.385543...); 1.01^-10 = 0.905 is the other convention.
    by_hand = 1.0
    for _ in range(10):
        by_hand /= 1.0 + 100.0 / 100.0 * 0.1
    assert round(by_hand, 5) == 0.38554
    got = die_yield("bose_einstein_per_layer", 100.0, 0.1, n_layers=10)
    assert got == pytest.approx(by_hand, rel=1e-14)
    assert bose_einstein_per_layer(100.0, 0.1, n_layers=10) == got
    assert YIELD_MODELS["bose_einstein_per_layer"](100.0, 0.1, n_layers=10) == got
    assert die_yield("bose_einstein", 100.0, 0.1, n_layers=10) == pytest.approx(1.01**-10)
    # gross yield, critical fraction and arrays of layer counts: 0.9 (1 + A f D)^-n
    d = np.array([0.0, 0.05, 0.3])
    n = np.array([1, 4, 12])
    got_array = die_yield(
        "bose_einstein_per_layer", 400.0, d, gross_yield=0.9, critical_area_fraction=0.5, n_layers=n
    )
    np.testing.assert_allclose(got_array, 0.9 * (1 + 4.0 * 0.5 * d) ** -n.astype(float), rtol=1e-14)
    # n·D_layer is never formed: a per-layer density near the float limit is valid
    assert bose_einstein_per_layer(100.0, 1e308, n_layers=10) == 0.0
    with pytest.raises(InvalidParameterError) as info:
        bose_einstein_per_layer(100.0, [0.1, -1.0], n_layers=10)
    assert info.value.parameter == "defect_density_per_layer_per_cm2"
    with pytest.raises(InvalidParameterError) as info:
        die_yield("bose_einstein_per_layer", 100.0, -1.0, n_layers=10)
    assert info.value.parameter == "defect_density_per_cm2"


@pytest.mark.parametrize("n", [1, 2, 3, 10, 25])
@pytest.mark.parametrize("area", [0.0, 50.0, 100.0, 826.0])
def test_per_layer_is_bose_einstein_at_n_times_the_density(n: int, area: float) -> None:
    # The registry's equivalent_to: per layer at D equals the total-density form at n·D.
    assert YIELD_MODELS["bose_einstein_per_layer"].equivalent_to == "bose_einstein"
    for d in (0.0, 1e-9, 0.01, 0.1, 1.0, 30.0):
        per_layer = die_yield("bose_einstein_per_layer", area, d, n_layers=n, gross_yield=0.8)
        total = die_yield("bose_einstein", area, n * d, n_layers=n, gross_yield=0.8)
        assert per_layer == pytest.approx(total, rel=1e-13, abs=1e-300)


def test_equivalent_models_name_a_registered_model() -> None:
    restated = {name: m.equivalent_to for name, m in YIELD_MODELS.items() if m.equivalent_to}
    assert restated == {"bose_einstein_per_layer": "bose_einstein"}
    for name, target in restated.items():
        model = YIELD_MODELS[name]
        assert YIELD_MODELS[target].equivalent_to is None
        assert YIELD_MODELS[target].parameters == model.parameters
        # the conversion the entry carries gives the same yield under the other model
        assert model.equivalent_density is not None
        p = params_for(model)
        d = np.array([0.0, 0.02, 0.3, 4.0])
        converted = model.equivalent_density(d, **p)
        np.testing.assert_allclose(
            die_yield(name, 250.0, d, **p), die_yield(target, 250.0, converted, **p), rtol=1e-13
        )
    for model in YIELD_MODELS.values():
        if model.equivalent_to is None:
            assert model.equivalent_density is None
    # n · D_layer, per draw when the layer counts are an array
    convert = YIELD_MODELS["bose_einstein_per_layer"].equivalent_density
    assert convert is not None
    assert convert(0.1, n_layers=10) == pytest.approx(1.0)
    np.testing.assert_allclose(convert(0.1, n_layers=np.array([1, 4])), [0.1, 0.4])


def test_per_layer_density_is_not_the_mean_density() -> None:
    # D_layer is a per-layer density, the die's mean is n·D_layer: at the same number
    # the per-layer form lies *below* Poisson (Jensen's bound applies to mean densities
    # only), while the same die at its mean density n·D_layer lies above it.
    model = YIELD_MODELS["bose_einstein_per_layer"]
    assert not model.mean_density
    assert model.density_symbol == "D_layer" and "each layer" in model.density_note
    assert YIELD_MODELS["bose_einstein"].density_symbol == "D0"
    y = die_yield("bose_einstein_per_layer", ONE_CM2, 0.1, n_layers=10)
    assert y < poisson(ONE_CM2, 0.1)
    assert die_yield("bose_einstein", ONE_CM2, 1.0, n_layers=10) >= poisson(ONE_CM2, 1.0)


MIXING_DENSITIES: dict[str, Callable[[float], float]] = {
    # density of the multiplier x = D / D0 (mean 1) for each mixture model
    "murphy": lambda x: x if x <= 1 else 2 - x,  # triangular on [0, 2]
    "murphy_rectangular": lambda x: 0.5,  # uniform on [0, 2]
    "seeds": lambda x: math.exp(-x),  # exponential
    "negative_binomial": lambda x: 0.7**0.7 * x ** (0.7 - 1) * math.exp(-0.7 * x) / math.gamma(0.7),
    "bose_einstein": lambda x: 4**4 * x**3 * math.exp(-4 * x) / math.gamma(4),
}
MIXING_SUPPORT = {"murphy": 2.0, "murphy_rectangular": 2.0}


@pytest.mark.parametrize("name", list(MIXING_DENSITIES))
@pytest.mark.parametrize("lam", [0.3, 1.0, 3.0])
def test_mixture_models_are_poisson_averaged_over_their_density(name: str, lam: float) -> None:
    # Independent check of the documented mixing: ∫ e^(−λx) g(x) dx by quadrature.
    density = MIXING_DENSITIES[name]
    upper = MIXING_SUPPORT.get(name, math.inf)
    points = [1.0] if name == "murphy" else None
    value, _ = integrate.quad(lambda x: math.exp(-lam * x) * density(x), 0, upper, points=points)
    model = YIELD_MODELS[name]
    assert model.mean_density
    assert model(ONE_CM2, lam, **params_for(model)) == pytest.approx(value, rel=1e-8)


def test_moore_is_not_a_mean_density_model() -> None:
    # e^(−√λ) lies below Poisson for λ < 1 and above it for λ > 1.
    assert not YIELD_MODELS["moore"].mean_density
    assert moore(ONE_CM2, 0.25) < poisson(ONE_CM2, 0.25)
    assert moore(ONE_CM2, 4.0) > poisson(ONE_CM2, 4.0)
    assert moore(ONE_CM2, 1.0) == pytest.approx(poisson(ONE_CM2, 1.0), rel=1e-15)


MIXTURES = [n for n, m in YIELD_MODELS.items() if m.mean_density and n != "poisson"]


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(MIXTURES),
    lam=st.floats(0.0, 1e4, allow_nan=False),
    alpha=st.floats(1e-3, 1e9),
    n_layers=st.integers(1, 200),
)
def test_every_mixture_is_at_least_poisson(
    name: str, lam: float, alpha: float, n_layers: int
) -> None:
    # Jensen: E[e^(−λX)] >= e^(−λ E[X]) for any mixing with mean 1.
    params = {"alpha": alpha, "n_layers": n_layers}
    kwargs = {p: params[p] for p in YIELD_MODELS[name].parameters}
    y = die_yield(name, ONE_CM2, lam, **kwargs)
    assert y >= poisson(ONE_CM2, lam) * (1 - 1e-13)


# --------------------------------------------------------------------------- #
# Numerics
# --------------------------------------------------------------------------- #

# Series derived by hand (Taylor expansion of each formula about λ = 0):
#   poisson  e^-λ                 = 1 − λ + λ²/2 − λ³/6
#   murphy   ((1 − e^-λ)/λ)²       : (1 − λ/2 + λ²/6 − λ³/24)² = 1 − λ + 7λ²/12 − λ³/4
#   rect.    (1 − e^-2λ)/(2λ)      : u = 2λ, 1 − u/2 + u²/6 − u³/24 = 1 − λ + 2λ²/3 − λ³/3
#   seeds    1/(1 + λ)             = 1 − λ + λ² − λ³
#   NB       (1 + λ/α)^-α          = 1 − λ + (α + 1)λ²/(2α) − (α + 1)(α + 2)λ³/(6α²)
#   moore    e^-√λ                 = 1 − √λ + λ/2 − λ^(3/2)/6
SERIES: dict[str, Callable[[float], float]] = {
    "poisson": lambda x: 1 - x + x**2 / 2 - x**3 / 6,
    "murphy": lambda x: 1 - x + 7 * x**2 / 12 - x**3 / 4,
    "murphy_rectangular": lambda x: 1 - x + 2 * x**2 / 3 - x**3 / 3,
    "seeds": lambda x: 1 - x + x**2 - x**3,
    "negative_binomial": lambda x: 1 - x + 1.7 * x**2 / 1.4 - 1.7 * 2.7 * x**3 / (6 * 0.49),
    "bose_einstein": lambda x: 1 - x + 5 * x**2 / 8 - 5 * 6 * x**3 / (6 * 16),
    # (1 + x)^-4 = 1 − 4x + 10x² − 20x³ + 35x⁴ − ... (binomial series, n = 4 layers)
    "bose_einstein_per_layer": lambda x: 1 - 4 * x + 10 * x**2 - 20 * x**3 + 35 * x**4,
    "moore": lambda x: 1 - math.sqrt(x) + x / 2 - x**1.5 / 6,
}


@pytest.mark.parametrize("name", list(YIELD_MODELS))
@pytest.mark.parametrize("lam", [1e-12, 1e-9, 1e-6, 1e-4])
def test_small_load_series(name: str, lam: float) -> None:
    # The truncation error of the series is O(λ⁴) (O(λ²) for Moore); the
    # result is a double near 1, so the tolerance is a few ulp (1.1e-16).
    model = YIELD_MODELS[name]
    got = model(ONE_CM2, lam, **params_for(model))
    truncation = lam**2 if name == "moore" else lam**4
    assert abs(got - SERIES[name](lam)) <= 4.5e-16 + truncation


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_exactly_one_at_zero_load(name: str) -> None:
    model = YIELD_MODELS[name]
    p = params_for(model)
    assert model(ONE_CM2, 0.0, **p) == 1.0
    assert model(0.0, 5.0, **p) == 1.0
    assert model(ONE_CM2, 5.0, critical_area_fraction=0.0, **p) == 1.0
    assert model(ONE_CM2, 0.0, gross_yield=0.8, **p) == 0.8


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_no_warning_nan_or_overflow_at_extreme_loads(name: str) -> None:
    model = YIELD_MODELS[name]
    p = params_for(model)
    # λ = 1e6, 1e300 and an overflowing product (1e308 · 1e308)
    area = np.array([1e8, 1e302, 1e308])
    d0 = np.array([1.0, 1.0, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = model(area, d0, **p)
    assert np.all(np.isfinite(y))
    assert np.all((y >= 0) & (y < 1e-3))
    if name == "seeds":
        assert y[0] == pytest.approx(1 / (1 + 1e6), rel=1e-14)


@pytest.mark.parametrize("alpha", [1e-300, 1e-12, 1e12, 1e300])
def test_negative_binomial_extreme_alpha(alpha: float) -> None:
    lam = np.array([0.0, 1e-12, 1.0, 1e6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = negative_binomial(ONE_CM2, lam, alpha=alpha)
    assert np.all(np.isfinite(y))
    assert y[0] == 1.0
    if alpha >= 1e12:  # Poisson limit, to within λ²/(2α)
        np.testing.assert_allclose(y, np.exp(-lam), rtol=1e-11)
    else:  # −ln Y = α ln(1 + λ/α) computed from logs, e.g. α = 1e-300: tiny exponent
        big = lam[1:] / alpha
        expected = np.exp(-alpha * (np.log(big) + np.log1p(1 / big)))
        np.testing.assert_allclose(y[1:], expected, rtol=1e-12)


# --------------------------------------------------------------------------- #
# Contract, for every registered model
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_contract_range_and_monotone(name: str) -> None:
    model = YIELD_MODELS[name]
    p = params_for(model)
    areas = np.concatenate([[0.0], np.logspace(-3, 6, 60)])
    y_area = model(areas, 0.2, **p)
    assert np.all((y_area >= 0) & (y_area <= 1))
    assert np.all(np.diff(y_area) <= 0)
    d0 = np.concatenate([[0.0], np.logspace(-4, 4, 60)])
    y_d0 = model(500.0, d0, gross_yield=0.95, **p)
    assert np.all((y_d0 >= 0) & (y_d0 <= 0.95))
    assert np.all(np.diff(y_d0) <= 0)
    assert y_d0[-1] < 0.05 * y_d0[0]


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_contract_broadcasting_and_types(name: str) -> None:
    model = YIELD_MODELS[name]
    p = params_for(model)
    areas = np.array([[50.0], [300.0], [800.0]])
    d0 = np.array([0.05, 0.1, 0.5, 1.0])
    grid = model(areas, d0, gross_yield=[0.9, 1.0, 0.8, 0.7], **p)
    assert isinstance(grid, np.ndarray) and grid.shape == (3, 4)
    for i, a in enumerate(areas[:, 0]):
        for j, d in enumerate(d0):
            scalar = model(float(a), float(d), gross_yield=[0.9, 1.0, 0.8, 0.7][j], **p)
            assert isinstance(scalar, float)
            assert grid[i, j] == pytest.approx(scalar, rel=1e-15)
    assert isinstance(model(np.float64(100.0), np.float32(0.1), **p), float)
    assert isinstance(model([100.0], 0.1, **p), np.ndarray)
    with pytest.raises(InvalidParameterError, match="broadcast"):
        model([1.0, 2.0], [1.0, 2.0, 3.0], **p)


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_contract_registry_entry(name: str) -> None:
    model = get_model(name)
    assert model.name == name
    assert model.equation.startswith("Y = ")
    assert model.reference and model.aliases and model.mixing
    assert set(model.defaults) <= set(model.parameters)
    assert model.display_name and model.density_symbol
    assert model.equivalent_to is None or model.equivalent_to in YIELD_MODELS
    data = model.to_dict()
    assert json.loads(to_json(model))["name"] == name
    assert data["equivalent_to"] == model.equivalent_to
    assert data["required_parameters"] == list(model.required_parameters)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.name = "other"  # type: ignore[misc]


def test_registry_is_read_only_and_complete() -> None:
    assert list(YIELD_MODELS) == [
        "poisson",
        "murphy",
        "murphy_rectangular",
        "seeds",
        "moore",
        "negative_binomial",
        "bose_einstein",
        "bose_einstein_per_layer",
    ]
    with pytest.raises(TypeError):
        YIELD_MODELS["gauss"] = YIELD_MODELS["poisson"]  # type: ignore[index]
    with pytest.raises(TypeError):
        YIELD_MODELS["negative_binomial"].defaults["alpha"] = 3.0  # type: ignore[index]
    assert YIELD_MODELS["bose_einstein"].required_parameters == ("n_layers",)
    assert YIELD_MODELS["bose_einstein_per_layer"].required_parameters == ("n_layers",)
    assert YIELD_MODELS["negative_binomial"].required_parameters == ()
    # aliases document the ambiguous names
    assert "Seeds" in YIELD_MODELS["moore"].aliases
    assert "triangular" in YIELD_MODELS["murphy"].aliases
    # H&P's process-complexity factor N takes the density per layer
    assert "process-complexity factor model" in YIELD_MODELS["bose_einstein_per_layer"].aliases
    assert "process-complexity factor model" not in YIELD_MODELS["bose_einstein"].aliases


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


def test_unknown_model_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_model("gauss")
    message = str(info.value)
    assert "gauss" in message
    for name in YIELD_MODELS:
        assert name in message
    with pytest.raises(UnknownNameError):
        die_yield("Murphy", 100.0, 0.1)  # aliases are documentation, not keys
    with pytest.raises(UnknownNameError):
        get_model(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "parameter", "allowed"),
    [
        ({"die_area_mm2": -1.0}, "die_area_mm2", ">= 0"),
        ({"die_area_mm2": math.nan}, "die_area_mm2", ">= 0"),
        ({"die_area_mm2": math.inf}, "die_area_mm2", ">= 0"),
        ({"die_area_mm2": "big"}, "die_area_mm2", ">= 0"),
        ({"die_area_mm2": True}, "die_area_mm2", ">= 0"),
        ({"defect_density_per_cm2": -0.1}, "defect_density_per_cm2", ">= 0"),
        ({"defect_density_per_cm2": [0.1, math.nan]}, "defect_density_per_cm2", ">= 0"),
        ({"gross_yield": 1.1}, "gross_yield", "in [0, 1]"),
        ({"gross_yield": -0.1}, "gross_yield", "in [0, 1]"),
        ({"critical_area_fraction": 1.5}, "critical_area_fraction", "in [0, 1]"),
        ({"critical_area_fraction": math.inf}, "critical_area_fraction", "in [0, 1]"),
    ],
)
@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_invalid_common_arguments(
    name: str, kwargs: dict[str, object], parameter: str, allowed: str
) -> None:
    model = YIELD_MODELS[name]
    args: dict[str, object] = {"die_area_mm2": 100.0, "defect_density_per_cm2": 0.1}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError) as info:
        model.function(**args, **params_for(model))
    assert info.value.parameter == parameter
    assert allowed in str(info.value)


@pytest.mark.parametrize("alpha", [0.0, -1.0, math.nan, math.inf, [1.0, 0.0]])
def test_invalid_alpha(alpha: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        negative_binomial(100.0, 0.1, alpha=alpha)  # type: ignore[arg-type]
    assert info.value.parameter == "alpha"
    assert "> 0" in str(info.value)


@pytest.mark.parametrize("function", [bose_einstein, bose_einstein_per_layer])
@pytest.mark.parametrize("n_layers", [0, -2, 2.5, math.nan, math.inf, True, [3, 1.5]])
def test_invalid_n_layers(function: Callable[..., float], n_layers: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        function(100.0, 0.1, n_layers=n_layers)
    assert info.value.parameter == "n_layers"
    assert "integer >= 1" in str(info.value)


def test_model_parameters_are_checked_by_name() -> None:
    with pytest.raises(InvalidParameterError, match="alpha must be omitted for model poisson"):
        die_yield("poisson", 100.0, 0.1, alpha=2.0)
    with pytest.raises(InvalidParameterError, match=r"n_layers.*requires"):
        die_yield("bose_einstein", 100.0, 0.1)
    with pytest.raises(InvalidParameterError, match=r"n_layers.*bose_einstein_per_layer requires"):
        die_yield("bose_einstein_per_layer", 100.0, 0.1)
    with pytest.raises(InvalidParameterError, match="takes alpha"):
        die_yield("negative_binomial", 100.0, 0.1, n_layers=3)
    with pytest.raises(TypeError):
        bose_einstein(100.0, 0.1)  # type: ignore[call-arg]


def test_array_parameters_broadcast() -> None:
    alphas = np.array([0.5, 1.0, 2.0])
    y = negative_binomial(100.0, 1.0, alpha=alphas)
    np.testing.assert_allclose(y, [(1 + 1 / a) ** -a for a in alphas], rtol=1e-14)
    layers = die_yield("bose_einstein", 100.0, 1.0, n_layers=[1, 2, 3])
    np.testing.assert_allclose(layers, [(1 + 1 / n) ** -n for n in (1, 2, 3)], rtol=1e-14)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(list(YIELD_MODELS)),
    area=st.floats(0.0, 5e3),
    d0=st.floats(0.0, 50.0),
    fraction=st.floats(0.0, 1.0),
    gross=st.floats(0.0, 1.0),
    factor=st.floats(1.0, 10.0),
)
def test_properties_for_random_inputs(
    name: str, area: float, d0: float, fraction: float, gross: float, factor: float
) -> None:
    model = YIELD_MODELS[name]
    p = params_for(model)
    y = model(area, d0, gross_yield=gross, critical_area_fraction=fraction, **p)
    assert 0.0 <= y <= gross
    # only λ = D0 · A · f matters: move the fraction into the density
    moved = model(area, d0 * fraction, gross_yield=gross, **p)
    assert y == pytest.approx(moved, rel=1e-12, abs=1e-300)
    # more area or more density never raises the yield (beyond rounding: a factor a hair
    # above 1 may move the result by an ulp either way)
    ceiling = y * (1.0 + 4.0 * np.finfo(float).eps)
    assert (
        model(area * factor, d0, gross_yield=gross, critical_area_fraction=fraction, **p) <= ceiling
    )
    assert (
        model(area, d0 * factor, gross_yield=gross, critical_area_fraction=fraction, **p) <= ceiling
    )


# --------------------------------------------------------------------------- #
# Scalar fast path (plain Python numbers) against the array path
# --------------------------------------------------------------------------- #

LOADS = [0.0, 1e-300, 1e-12, 1e-8, 0.05, 0.0999, 0.1, 0.2, 1.0, 7.5, 1e3, 1e8, 1e12, 1e300]


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_scalar_path_agrees_with_array_path(name: str) -> None:
    # A plain float takes the math-module path, a one-element array the numpy
    # path: the two must agree to a few ulp at every load, tiny to overflowing.
    model = YIELD_MODELS[name]
    for lam in LOADS:
        for params in (
            ({}, params_for(model)) if not model.required_parameters else (params_for(model),)
        ):
            for gross, fraction in ((1.0, 1.0), (0.9, 0.5)):
                kwargs = {"gross_yield": gross, "critical_area_fraction": fraction, **params}
                scalar = model.function(ONE_CM2, lam, **kwargs)
                array = model.function(np.array([ONE_CM2]), lam, **kwargs)[0]
                assert type(scalar) is float
                assert scalar == pytest.approx(float(array), rel=1e-14, abs=0.0), (lam, kwargs)


@settings(max_examples=100, deadline=None)
@given(
    lam=st.floats(0.0, 1e6, allow_nan=False),
    alpha=st.floats(1e-3, 1e9),
    n=st.integers(1, 100),
)
def test_scalar_path_agrees_with_array_path_property(lam: float, alpha: float, n: int) -> None:
    for name, model in YIELD_MODELS.items():
        params = {"alpha": alpha, "n_layers": n}
        kwargs = {p: params[p] for p in model.parameters}
        scalar = model.function(ONE_CM2, lam, **kwargs)
        array = model.function(np.array([ONE_CM2]), lam, **kwargs)[0]
        # relative rounding grows with |ln Y| (up to ~1e3 here): the two paths may differ
        # by a few ulps of ln Y, i.e. about 1e-13 relative at the far tail
        assert scalar == pytest.approx(float(array), rel=1e-11, abs=1e-300), name


@pytest.mark.parametrize("name", list(YIELD_MODELS))
def test_numpy_scalars_and_ints_give_the_same_float(name: str) -> None:
    model = YIELD_MODELS[name]
    params = params_for(model)
    expected = model.function(100.0, 0.5, **params)
    assert model.function(100, 0.5, **params) == expected
    assert model.function(np.float64(100.0), np.float64(0.5), **params) == pytest.approx(expected)
    assert type(model.function(np.float64(100.0), 0.5, **params)) is float
    # a plain int too large for a float is refused by the array path, not the fast one
    with pytest.raises((InvalidParameterError, OverflowError)):
        model.function(10**400, 0.5, **params)


def test_model_is_the_keyword_and_model_name_a_deprecated_alias() -> None:
    from waferlab.yield_models import defect_density_for_yield

    expected = die_yield("murphy", 826.0, 0.1156)
    assert die_yield(model="murphy", die_area_mm2=826.0, defect_density_per_cm2=0.1156) == expected
    with pytest.warns(DeprecationWarning, match="model_name"):
        old = die_yield(model_name="murphy", die_area_mm2=826.0, defect_density_per_cm2=0.1156)
    assert old == expected
    with pytest.warns(DeprecationWarning, match="model_name"):
        d0 = defect_density_for_yield(model_name="murphy", die_area_mm2=826.0, die_yield=0.415)
    assert d0 == defect_density_for_yield(model="murphy", die_area_mm2=826.0, die_yield=0.415)
