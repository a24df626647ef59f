"""Defect-limited die yield: one function per model, a registry, and the inverses.

Every model answers the same question: what fraction of dies of a given area
carries no fatal defect, when fatal defects land with a mean density ``D0``
per cm². They differ in how the density varies from die to die (from wafer to
wafer, from region to region). With the *defect load*

    λ = D0 · A · critical_area_fraction,     A in cm² (``die_area_mm2 / MM2_PER_CM2``),

the die yield is ``gross_yield · Y(λ)`` where ``gross_yield`` is an
area-independent factor (wafer-level losses, parametric failures) and ``Y`` is
the model:

=====================  =====================================  ===================
name                   Y(λ)                                   density mixing
=====================  =====================================  ===================
``poisson``            e^(−λ)                                 none (uniform)
``murphy``             ((1 − e^(−λ)) / λ)²                    triangular on [0, 2 D0]
``murphy_rectangular`` (1 − e^(−2λ)) / (2λ)                   uniform on [0, 2 D0]
``seeds``              1 / (1 + λ)                            exponential, mean D0
``moore``              e^(−√λ)                                empirical (see notes)
``negative_binomial``  (1 + λ/α)^(−α)                         gamma, shape α, mean D0
``bose_einstein``      (1 + λ/n)^(−n)                         n layers, D0/n each
=====================  =====================================  ===================

and one model under a second parametrisation, registered so that it can be
used by name (``equivalent_to`` says which model it restates):

===========================  ==========================================  ===================
name                         Y                                           density argument
===========================  ==========================================  ===================
``bose_einstein_per_layer``  (1 + A·f·D_layer)^(−n) = (1 + λ_layer)^(−n)  D_layer, per layer
===========================  ==========================================  ===================

Its density argument is the density of each of the n layers, so its load is
λ_layer = D_layer · A · f and it equals ``bose_einstein`` at D0 = n · D_layer.

The literature reuses names for different formulas ("Murphy" for the
triangular and the rectangular mixing, "Seeds" for ``1/(1 + λ)`` and for
``e^(−√λ)``); waferlab names each variant unambiguously and lists the aliases
in :data:`YIELD_MODELS`. See ``docs/yield-models.md`` for the derivations.

Every function is vectorised with numpy broadcasting: scalars in, float out;
arrays in, array out. All arithmetic is done on log-yield with ``log1p`` and
``expm1`` so that the value is exactly 1 at λ = 0, accurate to a few ulp near
λ = 0, and neither overflows nor returns NaN for very large λ or α.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab._display import html_table, short_repr
from waferlab.errors import (
    InvalidParameterError,
    NoSolutionError,
    Registry,
    UnknownNameError,
    check_array,
)
from waferlab.units import MM2_PER_CM2

__all__ = [
    "DEFAULT_ALPHA",
    "YIELD_MODELS",
    "YieldModel",
    "bose_einstein",
    "bose_einstein_per_layer",
    "defect_density_for_yield",
    "defect_load",
    "die_yield",
    "get_model",
    "moore",
    "murphy",
    "murphy_rectangular",
    "negative_binomial",
    "poisson",
    "seeds",
]

FloatOrArray = float | NDArray[np.float64]
F = TypeVar("F", bound=Callable[..., Any])

#: Default clustering parameter of the negative binomial model. α = 2 is the
#: value built into the textbook yield formula of Patterson & Hennessy,
#: *Computer Organization and Design* (ch. 1): Y = 1 / (1 + D0·A/2)².
DEFAULT_ALPHA: float = 2.0

# Below this value of x, log1p(x)/x is replaced by its series 1 − x/2 (the
# next term, x²/3, is under 4e-17 there); above _BIG_X the logarithm is split
# as log(λ) − log(α) + log1p(α/λ) so that λ/α never overflows.
_SMALL_X = 1e-8
_BIG_X = 1e8


# --------------------------------------------------------------------------- #
# Argument handling
# --------------------------------------------------------------------------- #


def _integer_array(name: str, value: ArrayLike, low: int) -> NDArray[np.float64]:
    allowed = f"an integer >= {low}"
    try:
        x = check_array(name, value, low=float(low))
    except InvalidParameterError as exc:
        raise InvalidParameterError(name, exc.value, allowed) from None
    fractional = x != np.floor(x)
    if np.any(fractional):
        raise InvalidParameterError(name, float(x[fractional].flat[0]), allowed)
    return x


def _broadcast(**arrays: NDArray[np.float64]) -> list[NDArray[np.float64]]:
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(v)}" for k, v in arrays.items())
        raise InvalidParameterError(
            "arguments", shapes, "arrays whose shapes broadcast together"
        ) from None


def _is_scalar(*values: ArrayLike) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def _finish(result: NDArray[np.float64], scalar: bool) -> FloatOrArray:
    if scalar:
        return float(result)
    return np.asarray(result, dtype=np.float64)


def _load(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    critical_area_fraction: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Validate the three arguments that make up λ."""
    area = check_array("die_area_mm2", die_area_mm2, low=0.0)
    d0 = check_array("defect_density_per_cm2", defect_density_per_cm2, low=0.0)
    fraction = check_array("critical_area_fraction", critical_area_fraction, low=0.0, high=1.0)
    return area, d0, fraction


def _multiply_load(
    area: NDArray[np.float64], d0: NDArray[np.float64], fraction: NDArray[np.float64]
) -> NDArray[np.float64]:
    # (D0 · f) never exceeds D0, so the only product that can overflow is the
    # last one, and an infinite λ is never multiplied by zero afterwards.
    with np.errstate(over="ignore"):
        return (d0 * fraction) * (area / MM2_PER_CM2)


def defect_load(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the mean number of fatal defects per die, λ = D0 · A · f.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean density of fatal defects D0 [defects/cm²], >= 0.
    critical_area_fraction : float or array_like, default 1.0
        Fraction f of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        λ (dimensionless); ``inf`` if the product exceeds the float range.

    Raises
    ------
    InvalidParameterError
        If an argument is negative, not finite, or the shapes do not broadcast.

    Notes
    -----
    λ = D0 · (A / MM2_PER_CM2) · f, with ``MM2_PER_CM2`` = 100 mm² per cm².

    Examples
    --------
    >>> defect_load(826.0, 0.1)
    0.826
    """
    area, d0, fraction = _load(die_area_mm2, defect_density_per_cm2, critical_area_fraction)
    area, d0, fraction = _broadcast(
        die_area_mm2=area, defect_density_per_cm2=d0, critical_area_fraction=fraction
    )
    lam = _multiply_load(area, d0, fraction)
    return _finish(lam, _is_scalar(die_area_mm2, defect_density_per_cm2, critical_area_fraction))


#: Python ints beyond this size take the array path (which reports them exactly).
_MAX_PLAIN_INT = 2**53


def _plain(x: object) -> float | None:
    """``x`` as a float if it is a plain Python float or (moderate) int, else None.

    The scalar fast path takes only these: booleans, numpy scalars, arrays and
    anything else go through the array path, whose checks are the reference.
    """
    t = type(x)
    if t is float:
        return x  # type: ignore[return-value]
    if t is int and -_MAX_PLAIN_INT < x < _MAX_PLAIN_INT:  # type: ignore[operator]
        return float(x)  # type: ignore[arg-type]
    return None


def _plain_positive(x: object) -> float | None:
    """``x`` as a float if it is a plain number, finite and > 0 (else None)."""
    v = _plain(x)
    return v if v is not None and 0.0 < v < math.inf else None


def _evaluate(
    log_yield: Callable[..., NDArray[np.float64]],
    scalar_log_yield: Callable[..., float],
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    gross_yield: ArrayLike,
    critical_area_fraction: ArrayLike,
    **parameters: NDArray[np.float64] | float,
) -> FloatOrArray:
    # Fast path: every argument a plain Python number inside its range (the model
    # function has already checked its own parameters and passes them as floats).
    # Same rules as the array path below, which handles every other case and
    # raises the errors; ``scalar_log_yield`` is the math-module twin of
    # ``log_yield`` (tests/test_yield_models.py checks that the two agree).
    area = _plain(die_area_mm2)
    d0 = _plain(defect_density_per_cm2)
    gross = _plain(gross_yield)
    fraction = _plain(critical_area_fraction)
    if (
        area is not None
        and d0 is not None
        and gross is not None
        and fraction is not None
        and 0.0 <= area < math.inf
        and 0.0 <= d0 < math.inf
        and 0.0 <= gross <= 1.0
        and 0.0 <= fraction <= 1.0
        and all(type(v) is float for v in parameters.values())
    ):
        lam = (d0 * fraction) * (area / MM2_PER_CM2)
        return gross * math.exp(scalar_log_yield(lam, *parameters.values()))
    return _evaluate_arrays(
        log_yield,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
        **{k: np.asarray(v, dtype=np.float64) for k, v in parameters.items()},
    )


def _evaluate_arrays(
    log_yield: Callable[..., NDArray[np.float64]],
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    gross_yield: ArrayLike,
    critical_area_fraction: ArrayLike,
    **parameters: NDArray[np.float64],
) -> FloatOrArray:
    area, d0, fraction = _load(die_area_mm2, defect_density_per_cm2, critical_area_fraction)
    gross = check_array("gross_yield", gross_yield, low=0.0, high=1.0)
    shaped = _broadcast(
        die_area_mm2=area,
        defect_density_per_cm2=d0,
        critical_area_fraction=fraction,
        gross_yield=gross,
        **parameters,
    )
    lam = _multiply_load(shaped[0], shaped[1], shaped[2])
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        result = shaped[3] * np.exp(log_yield(lam, *shaped[4:]))
    scalar = _is_scalar(
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
        *parameters.values(),
    )
    return _finish(result, scalar)


# --------------------------------------------------------------------------- #
# Log-yield kernels: λ >= 0 (possibly inf) -> log Y(λ) <= 0, exactly 0 at λ = 0
# --------------------------------------------------------------------------- #


def _log_poisson(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return -lam


def _log_sinhc_series(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """log(sinh(y)/y) by its series, for |y| <= 0.05 (next term below 1e-22 relative)."""
    y2 = y * y
    return y2 * (1 / 6 + y2 * (-1 / 180 + y2 * (1 / 2835 + y2 * (-1 / 37800 + y2 / 467775))))


def _log_exprel_neg(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """log((1 − e^(−u)) / u) for u >= 0; 0 at u = 0, −inf at u = inf.

    Below u = 0.1 the identity (1 − e^(−u))/u = e^(−u/2) · sinh(u/2)/(u/2)
    gives −u/2 + log(sinh(u/2)/(u/2)), evaluated by its series so that the
    result keeps full relative precision as u → 0.
    """
    small = u < 0.1
    safe = np.where(small, 1.0, u)
    with np.errstate(divide="ignore"):
        direct = np.log(-np.expm1(-safe) / safe)
    half = np.where(small, 0.5 * u, 0.0)
    return np.where(small, -half + _log_sinhc_series(half), direct)


def _log_murphy(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return 2.0 * _log_exprel_neg(lam)


def _log_murphy_rectangular(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(over="ignore"):
        return _log_exprel_neg(2.0 * lam)


def _log_seeds(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.log1p(lam)


def _log_moore(lam: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.sqrt(lam)


def _log_gamma_mixture(lam: NDArray[np.float64], shape: NDArray[np.float64]) -> NDArray[np.float64]:
    """−α · log1p(λ/α), accurate for α → ∞ (→ −λ) and without overflow of λ/α."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = lam / shape
        small = x < _SMALL_X
        big = x > _BIG_X
        x_mid = np.where(small | big, 1.0, x)
        ratio = np.where(small, 1.0 - 0.5 * x, np.log1p(x_mid) / x_mid)
        lam_big = np.where(big, lam, 1.0)
        log_big = np.log(lam_big) - np.log(shape) + np.log1p(shape / lam_big)
        return np.where(big, -shape * log_big, -lam * ratio)


def _log_per_layer(lam: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    """−n · log1p(λ) for the load λ = D_layer · A · f of one layer (−inf at λ = inf)."""
    return -n * np.log1p(lam)


# Scalar twins of the kernels (math module; the scalar fast path of _evaluate).
# Same branches and thresholds as the array kernels above.


def _log_poisson_scalar(lam: float) -> float:
    return -lam


def _log_exprel_neg_scalar(u: float) -> float:
    if u < 0.1:
        half = 0.5 * u
        y2 = half * half
        series = y2 * (1 / 6 + y2 * (-1 / 180 + y2 * (1 / 2835 + y2 * (-1 / 37800 + y2 / 467775))))
        return -half + series
    if u == math.inf:
        return -math.inf
    return math.log(-math.expm1(-u) / u)


def _log_murphy_scalar(lam: float) -> float:
    return 2.0 * _log_exprel_neg_scalar(lam)


def _log_murphy_rectangular_scalar(lam: float) -> float:
    return _log_exprel_neg_scalar(2.0 * lam)


def _log_seeds_scalar(lam: float) -> float:
    return -math.log1p(lam)


def _log_moore_scalar(lam: float) -> float:
    return -math.sqrt(lam)


def _log_gamma_mixture_scalar(lam: float, shape: float) -> float:
    x = lam / shape
    if x < _SMALL_X:
        return -lam * (1.0 - 0.5 * x)
    if x > _BIG_X:
        return -shape * (math.log(lam) - math.log(shape) + math.log1p(shape / lam))
    return -lam * (math.log1p(x) / x)


def _log_per_layer_scalar(lam: float, n: float) -> float:
    return -n * math.log1p(lam)


# --------------------------------------------------------------------------- #
# Models
# --------------------------------------------------------------------------- #


def poisson(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield for randomly (Poisson) distributed fatal defects.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean fatal defect density D0 [defects/cm²], >= 0.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · e^(−λ), λ = D0 · A · f. Every die sees the same density; the
    number of defects per die is Poisson distributed and a die is good when it
    has none. This is the most pessimistic of the models for a given mean
    density (every mixture of Poisson yields lies above it, by Jensen's
    inequality). Also called the "exponential" or "random defect" model.

    References
    ----------
    .. [1] B. T. Murphy, "Cost-size optima of monolithic integrated circuits",
       Proc. IEEE 52(12), 1537–1545, 1964 (discusses e^(−AD) as the uniform case).

    Examples
    --------
    >>> round(poisson(826.0, 0.1), 4)
    0.4378
    >>> poisson([0.0, 100.0], 1.0)
    array([1.        , 0.36787944])
    """
    return _evaluate(
        _log_poisson,
        _log_poisson_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
    )


def murphy(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Murphy's model with a triangular density distribution.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean fatal defect density D0 [defects/cm²], >= 0.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · ((1 − e^(−λ)) / λ)², λ = D0 · A · f (and Y = Y0 at λ = 0).
    The density varies from die to die following a triangular distribution on
    [0, 2·D0] with its peak at D0; averaging e^(−λ) over it gives the square.
    This is what most tools call "the Murphy model"; Murphy's paper also gives
    the rectangular (uniform) mixing, see :func:`murphy_rectangular`.
    For small λ, Y ≈ 1 − λ + 7λ²/12 − λ³/4.

    References
    ----------
    .. [1] B. T. Murphy, "Cost-size optima of monolithic integrated circuits",
       Proc. IEEE 52(12), 1537–1545, 1964.

    Examples
    --------
    >>> round(murphy(826.0, 0.1), 4)
    0.4633
    >>> murphy(0.0, 0.5)
    1.0
    """
    return _evaluate(
        _log_murphy,
        _log_murphy_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
    )


def murphy_rectangular(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Murphy's model with a uniform density distribution.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean fatal defect density D0 [defects/cm²], >= 0.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · (1 − e^(−2λ)) / (2λ), λ = D0 · A · f. The density is uniform
    ("rectangular") on [0, 2·D0]. Sometimes also called "Murphy's model" or
    the "uniform" model. For small λ, Y ≈ 1 − λ + 2λ²/3 − λ³/3.

    References
    ----------
    .. [1] B. T. Murphy, "Cost-size optima of monolithic integrated circuits",
       Proc. IEEE 52(12), 1537–1545, 1964.

    Examples
    --------
    >>> round(murphy_rectangular(826.0, 0.1), 4)
    0.4893
    """
    return _evaluate(
        _log_murphy_rectangular,
        _log_murphy_rectangular_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
    )


def seeds(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Seeds' model, 1 / (1 + λ).

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean fatal defect density D0 [defects/cm²], >= 0.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 / (1 + λ), λ = D0 · A · f. The density is exponentially
    distributed with mean D0 (strong clustering); identical to
    :func:`negative_binomial` with α = 1 and to :func:`bose_einstein` with one
    layer. Some texts call ``e^(−√λ)`` "Seeds' model"; waferlab calls that
    :func:`moore`.

    References
    ----------
    .. [1] R. B. Seeds, "Yield, economic, and logistic models for complex
       digital arrays", IEEE International Convention Record, part 6,
       pp. 61–66, 1967.

    Examples
    --------
    >>> seeds(100.0, 1.0)
    0.5
    """
    return _evaluate(
        _log_seeds,
        _log_seeds_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
    )


def moore(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Moore's empirical model, e^(−√λ).

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Defect density scale D0 [defects/cm²], >= 0 (not a mean density; see Notes).
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · e^(−√λ), λ = D0 · A · f. An empirical fit to the yields of large
    dies of the late 1960s; often called "Seeds' model" (Seeds proposed the
    same square-root dependence), which is why waferlab names it after Moore
    and keeps ``seeds`` for 1 / (1 + λ). e^(−√λ) is the Laplace transform of
    a Lévy (one-sided stable, index ½) distribution, whose mean is infinite:
    D0 here is a scale, not a mean density, and the model lies *below*
    Poisson for λ < 1 and above it for λ > 1.

    References
    ----------
    .. [1] G. E. Moore, "What level of LSI is best for you?", Electronics
       43(4), 126–130, 1970.
    .. [2] R. B. Seeds, "Yield and cost analysis of bipolar LSI", IEEE
       International Electron Devices Meeting, 1967.

    Examples
    --------
    >>> round(moore(100.0, 1.0), 6)
    0.367879
    """
    return _evaluate(
        _log_moore,
        _log_moore_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
    )


def negative_binomial(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    alpha: ArrayLike = DEFAULT_ALPHA,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Stapper's negative binomial (clustered defects) model.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Mean fatal defect density D0 [defects/cm²], >= 0.
    alpha : float or array_like, default 2.0
        Clustering parameter α > 0: small α = strong clustering, α → ∞ gives
        :func:`poisson`, α = 1 gives :func:`seeds`. The default 2 is the value
        of the textbook formula of Patterson & Hennessy.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · (1 + λ/α)^(−α), λ = D0 · A · f. The density is gamma distributed
    with mean D0 and shape α (variance D0²/α), so the defect count per die is
    negative binomial. Computed as −α · log1p(λ/α) = −λ · log1p(x)/x with
    x = λ/α, which tends to −λ without cancellation as α → ∞; for x > 1e8 the
    logarithm is split as log λ − log α + log1p(α/λ) so nothing overflows.
    Also called the "clustered", "gamma" or "Stapper" model.

    References
    ----------
    .. [1] C. H. Stapper, "Defect density distribution for LSI yield
       calculations", IEEE Trans. Electron Devices ED-20(7), 655–657, 1973.
    .. [2] C. H. Stapper, "LSI yield modeling and process monitoring",
       IBM J. Res. Develop. 20(3), 228–234, 1976.

    Examples
    --------
    >>> round(negative_binomial(100.0, 1.0, alpha=1.0), 12)
    0.5
    >>> round(negative_binomial(826.0, 0.1), 4)
    0.5009
    """
    a: NDArray[np.float64] | float | None = _plain_positive(alpha)
    if a is None:
        a = check_array("alpha", alpha, low=0.0, low_open=True)
    return _evaluate(
        _log_gamma_mixture,
        _log_gamma_mixture_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
        alpha=a,
    )


def _n_layers(n_layers: ArrayLike) -> NDArray[np.float64] | float:
    """``n_layers`` checked (an integer >= 1): a float on the plain-number path, else an array."""
    plain_n = _plain_positive(n_layers)
    if plain_n is not None and plain_n >= 1.0 and plain_n.is_integer():
        return plain_n
    return _integer_array("n_layers", n_layers, low=1)


def bose_einstein(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    n_layers: ArrayLike,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Price's Bose–Einstein model over ``n_layers`` critical layers.

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Total mean fatal defect density D0 over all layers [defects/cm²], >= 0.
        Each layer gets D0 / n_layers.
    n_layers : int or array_like
        Number of critical layers (mask levels) n, an integer >= 1. Required:
        it is a property of the process with no sensible default.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, ``n_layers`` is not an
        integer, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · (1 + A·f·D_layer)^(−n), D_layer = D0 / n, i.e.
    Y = Y0 · (1 + λ/n)^(−n), identical to :func:`negative_binomial` with α = n.
    Price counted indistinguishable defects (Bose–Einstein statistics) in
    each of n process steps; each step gives 1 / (1 + A·D_layer). Okabe,
    Nagata and Shimada reached the same form from an Erlang distribution of
    densities, so tools also call it the "Okabe" model.

    This is the *total-density* convention (waferlab's default, so that a D0
    means the same fatal-defect density in every model). Price's formula
    takes a density per layer; the tools and textbooks that write
    (1 + A·D)^(−N) with a "process-complexity factor" N (Hennessy & Patterson;
    the SemiAnalysis die-yield calculator) give D per layer. That convention
    is :func:`bose_einstein_per_layer`; the two agree when D0 = n · D_layer.
    The same numbers read in the other convention differ a lot: n = 10 and
    A·D = 0.1 give 90.5 % here and 38.6 % per layer.

    References
    ----------
    .. [1] J. E. Price, "A new look at yield of integrated circuits",
       Proc. IEEE 58(8), 1290–1291, 1970.
    .. [2] T. Okabe, M. Nagata and S. Shimada, "Analysis on yield of integrated
       circuits and a new expression for the yield", Electrical Engineering
       in Japan 92(6), 135–141, 1972.

    Examples
    --------
    >>> round(bose_einstein(100.0, 1.0, n_layers=1), 12)
    0.5
    >>> round(bose_einstein(100.0, 0.1, n_layers=10), 4)
    0.9053
    """
    n = _n_layers(n_layers)
    return _evaluate(
        _log_gamma_mixture,
        _log_gamma_mixture_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
        n_layers=n,
    )


def bose_einstein_per_layer(
    die_area_mm2: ArrayLike,
    defect_density_per_layer_per_cm2: ArrayLike,
    *,
    n_layers: ArrayLike,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """Return the die yield of Price's Bose–Einstein model with the density given per layer.

    The per-layer convention of the same model as :func:`bose_einstein`:
    each of the ``n_layers`` critical layers has the fatal-defect density
    ``defect_density_per_layer_per_cm2``, so the total is n times larger.
    Registered as ``"bose_einstein_per_layer"`` in :data:`YIELD_MODELS`, so
    :func:`die_yield`, :func:`defect_density_for_yield`, the calibration fits,
    scenario files and the CLI take it by name (their density argument is then
    this per-layer density).

    Parameters
    ----------
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_layer_per_cm2 : float or array_like
        Fatal defect density of each critical layer D_layer [defects/cm²], >= 0.
    n_layers : int or array_like
        Number of critical layers n, an integer >= 1.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or not finite, ``n_layers`` is not an
        integer, or shapes do not broadcast.

    Notes
    -----
    Y = Y0 · (1 + A·f·D_layer)^(−n): Price's product of n factors
    1 / (1 + A·D_i) with equal per-layer densities [1]_. This is the form
    of the "process-complexity factor" N in Hennessy & Patterson's
    *Computer Architecture* [2]_ and of the SemiAnalysis die-yield
    calculator [3]_. It is :func:`bose_einstein` at the total density
    D0 = n · D_layer; it is computed directly as −n · log1p(A·f·D_layer), so
    the product n · D_layer is never formed and cannot overflow. Which
    convention a published D belongs to is part of the figure: quote it with
    the model name.

    References
    ----------
    .. [1] J. E. Price, "A new look at yield of integrated circuits",
       Proc. IEEE 58(8), 1290–1291, 1970.
    .. [2] J. L. Hennessy and D. A. Patterson, *Computer Architecture: A
       Quantitative Approach*, ch. 1 (die yield with the process-complexity
       factor N).
    .. [3] SemiAnalysis, "Die Yield Calculator" (Bose–Einstein option, with
       the defect density and the number of critical layers as inputs).

    Examples
    --------
    >>> round(bose_einstein_per_layer(100.0, 0.1, n_layers=10), 4)
    0.3855
    >>> round(bose_einstein(100.0, 1.0, n_layers=10), 4)  # the same die at D0 = 10 × 0.1
    0.3855
    """
    try:
        return _bose_einstein_per_layer(
            die_area_mm2,
            defect_density_per_layer_per_cm2,
            n_layers=n_layers,
            gross_yield=gross_yield,
            critical_area_fraction=critical_area_fraction,
        )
    except InvalidParameterError as exc:
        if exc.parameter != "defect_density_per_cm2":
            raise
        raise InvalidParameterError(
            "defect_density_per_layer_per_cm2", exc.value, exc.allowed, exc.detail
        ) from None


def _bose_einstein_per_layer(
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    n_layers: ArrayLike,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
) -> FloatOrArray:
    """:func:`bose_einstein_per_layer` with the registry's common signature.

    The registry calls every model as ``function(die_area_mm2,
    defect_density_per_cm2, ...)`` and errors name ``defect_density_per_cm2``,
    the argument the caller of :func:`die_yield` gave; here it is the density
    per layer, D_layer.
    """
    n = _n_layers(n_layers)
    return _evaluate(
        _log_per_layer,
        _log_per_layer_scalar,
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield,
        critical_area_fraction,
        n_layers=n,
    )


# --------------------------------------------------------------------------- #
# Inverses: relative yield r = Y / Y0 in (0, 1] -> defect load λ >= 0
# --------------------------------------------------------------------------- #


def _lambda_poisson(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return -np.log(r)


def _lambda_seeds(r: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(over="ignore"):
        return (1.0 - r) / r


def _lambda_moore(r: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.square(np.log(r))


def _lambda_gamma_mixture(
    r: NDArray[np.float64], shape: NDArray[np.float64]
) -> NDArray[np.float64]:
    # r = (1 + λ/α)^(−α)  <=>  λ = α · (r^(−1/α) − 1) = α · expm1(−log(r) / α)
    with np.errstate(over="ignore", invalid="ignore"):
        return shape * np.expm1(-np.log(r) / shape)


def _lambda_per_layer(r: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    # r = (1 + λ)^(−n), λ = D_layer · A · f  <=>  λ = r^(−1/n) − 1 = expm1(−log(r) / n)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.expm1(-np.log(r) / n)


def _exprel_slope(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """d/du log((1 − e^(−u))/u) = 1/expm1(u) − 1/u (series below u = 0.1)."""
    small = u < 0.1
    safe = np.where(small, 1.0, u)
    with np.errstate(over="ignore"):
        direct = 1.0 / np.expm1(safe) - 1.0 / safe
    y = 0.5 * np.where(small, u, 0.0)
    y2 = y * y
    # d/du [−u/2 + g(u/2)] = −1/2 + g'(y)/2, g'(y) = y/3 − y³/45 + 2y⁵/945 − ...
    series = -0.5 + 0.5 * y * (1 / 3 + y2 * (-1 / 45 + y2 * (2 / 945 - y2 / 4725)))
    return np.where(small, series, direct)


def _solve_exprel(log_rho: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve (1 − e^(−u)) / u = ρ for u >= 0, given ln ρ <= 0.

    With s = 1/ρ and t = u − s the equation becomes t·e^t = −s·e^(−s), so
    u = s + W0(−s·e^(−s)); the other real branch, W−1, gives the trivial root
    u = 0. Close to ρ = 1 the argument sits at the branch point −1/e where W
    is ill-conditioned, so there the series u ≈ 2ε + 4ε²/3 (ε = 1 − ρ) is
    used instead; two Newton steps on ln((1 − e^(−u))/u) = ln ρ then bring
    either start to full precision.
    """
    from scipy.special import lambertw

    eps = -np.expm1(log_rho)
    with np.errstate(under="ignore", over="ignore"):
        s = np.exp(-log_rho)
        z = -np.exp(-s - log_rho)
    u = s + np.real(lambertw(z, 0))
    near = eps < 1e-4
    u = np.where(near, 2.0 * eps + (4.0 / 3.0) * eps**2, u)
    u = np.where(u > 0, u, 2.0 * eps)
    for _ in range(2):
        step = (_log_exprel_neg(u) - log_rho) / _exprel_slope(u)
        u = np.maximum(u - step, 0.5 * u)
    return np.where(log_rho == 0.0, 0.0, u)


def _lambda_murphy(r: NDArray[np.float64]) -> NDArray[np.float64]:
    # ((1 − e^(−λ))/λ)² = r  <=>  ln((1 − e^(−λ))/λ) = ln(r)/2
    return _solve_exprel(0.5 * np.log(r))


def _lambda_murphy_rectangular(r: NDArray[np.float64]) -> NDArray[np.float64]:
    # (1 − e^(−u))/u = r with u = 2λ
    return 0.5 * _solve_exprel(np.log(r))


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class YieldModel:
    """A registered yield model: its function, parameters and provenance.

    Attributes
    ----------
    name : str
        The name used by :func:`die_yield`, the CLI and calibration results.
    function : callable
        The model function, ``function(die_area_mm2, defect_density_per_cm2,
        *, gross_yield=1.0, critical_area_fraction=1.0, **parameters)``
        (for ``bose_einstein_per_layer`` a private twin of the public
        :func:`bose_einstein_per_layer` with this signature).
    parameters : tuple of str
        Names of the model-specific keyword parameters (besides
        ``gross_yield`` and ``critical_area_fraction``, which every model takes).
    defaults : Mapping[str, float]
        Default values of those parameters; a parameter without a default is
        required (see :attr:`required_parameters`).
    equation : str
        Y as a function of the load λ = D · A · f (D the model's density
        argument), in plain text.
    aliases : tuple of str
        Names other tools and papers use for this formula.
    reference : str
        The original paper.
    mixing : str
        How the defect density is distributed from die to die.
    mean_density : bool
        Whether the density argument is the die's mean fatal-defect density
        D0, the mean of that distribution. False for ``moore``, whose D0 is
        only a scale, and for ``bose_einstein_per_layer``, whose density is
        that of one layer (the die's mean is n times larger). Only the
        mean-density models lie at or above Poisson at the same density
        (Jensen's inequality).
    display_name : str
        The model's name in prose, legends and tables (``"Negative binomial"``).
    inverse : callable
        Maps the relative yield r = Y / Y0 in (0, 1] and the model's parameters
        (positional, in the order of ``parameters``) to the load λ = D · A · f
        in the model's own density D; :func:`defect_density_for_yield`
        divides it by A · f.
    equivalent_to : str or None
        The registered model this one restates in another parametrisation
        (the same yields at a converted density), or None. ``bose_einstein_per_layer``
        is ``bose_einstein`` at D0 = n · D_layer. Such a model is registered so
        that it can be used by name, but :func:`waferlab.calibration.compare_models`
        leaves it out of its default list (its rows would repeat the other
        model's); an explicit ``models=[...]`` still fits it.
    equivalent_density : callable or None
        With ``equivalent_to``: ``equivalent_density(density, **parameters)``
        is the density at which that model gives the same yield, with the
        same parameters (n · D_layer for ``bose_einstein_per_layer``).
    density_symbol : str
        The symbol of the density argument in labels (``"D0"``; ``"D_layer"``
        for a density per layer).
    density_note : str
        What the density argument is, where a reader could take it for
        something else (shown beside results by the CLI); empty otherwise.

    Examples
    --------
    >>> model = YIELD_MODELS["negative_binomial"]
    >>> model.parameters, dict(model.defaults), model.required_parameters
    (('alpha',), {'alpha': 2.0}, ())
    >>> round(model(100.0, 1.0, alpha=1.0), 12)
    0.5
    >>> YIELD_MODELS["bose_einstein"].required_parameters
    ('n_layers',)
    >>> YIELD_MODELS["murphy_rectangular"].display_name
    'Murphy (rectangular)'
    >>> per_layer = YIELD_MODELS["bose_einstein_per_layer"]
    >>> per_layer.equivalent_to, per_layer.equivalent_density(0.1, n_layers=10)
    ('bose_einstein', 1.0)
    """

    name: str
    function: Callable[..., FloatOrArray]
    parameters: tuple[str, ...]
    defaults: Mapping[str, float]
    equation: str
    aliases: tuple[str, ...]
    reference: str
    mixing: str = ""
    mean_density: bool = True
    display_name: str = ""
    inverse: Callable[..., NDArray[np.float64]] | None = field(
        default=None, repr=False, compare=False
    )
    equivalent_to: str | None = None
    equivalent_density: Callable[..., Any] | None = field(default=None, repr=False, compare=False)
    density_symbol: str = "D0"
    density_note: str = ""

    def __repr__(self) -> str:
        params = ", ".join(
            f"{p}={self.defaults[p]:g}" if p in self.defaults else f"{p} (required)"
            for p in self.parameters
        )
        return short_repr(
            "YieldModel", f"{self.name!r}: {self.equation}" + (f"; {params}" if params else "")
        )

    def _repr_html_(self) -> str:
        """The registry entry as a table (Jupyter)."""
        return html_table(
            f"Yield model {self.name}",
            [
                ("equation", self.equation),
                ("parameters", ", ".join(self.parameters) or "-"),
                ("defaults", ", ".join(f"{k}={v:g}" for k, v in self.defaults.items()) or "-"),
                ("mixing", self.mixing),
                *([("density", self.density_note)] if self.density_note else []),
                *([("equivalent to", self.equivalent_to)] if self.equivalent_to else []),
                ("aliases", ", ".join(self.aliases) or "-"),
                ("reference", self.reference),
            ],
        )

    @property
    def required_parameters(self) -> tuple[str, ...]:
        """Parameters without a default, which every call must give."""
        return tuple(p for p in self.parameters if p not in self.defaults)

    def __call__(
        self, die_area_mm2: ArrayLike, defect_density_per_cm2: ArrayLike, **kwargs: Any
    ) -> FloatOrArray:
        """Evaluate the model (same as :func:`die_yield` with this model's name)."""
        return die_yield(self.name, die_area_mm2, defect_density_per_cm2, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Return the description as plain data (without the callables)."""
        return {
            "name": self.name,
            "parameters": list(self.parameters),
            "defaults": dict(self.defaults),
            "required_parameters": list(self.required_parameters),
            "equation": self.equation,
            "aliases": list(self.aliases),
            "reference": self.reference,
            "mixing": self.mixing,
            "mean_density": self.mean_density,
            "equivalent_to": self.equivalent_to,
            "density_symbol": self.density_symbol,
            "density_note": self.density_note,
        }


_MURPHY_1964 = (
    'B. T. Murphy, "Cost-size optima of monolithic integrated circuits", '
    "Proc. IEEE 52(12), 1537-1545, 1964"
)


def _total_over_layers(density_per_layer: ArrayLike, *, n_layers: ArrayLike) -> Any:
    """The total density over the layers, n · D_layer (bose_einstein's D0)."""
    if _is_scalar(density_per_layer, n_layers):
        return float(density_per_layer) * float(n_layers)  # type: ignore[arg-type]
    return np.multiply(density_per_layer, n_layers, dtype=np.float64)


_PRICE_1970 = (
    'J. E. Price, "A new look at yield of integrated circuits", Proc. IEEE 58(8), 1290-1291, 1970'
)

_MODELS = (
    YieldModel(
        name="poisson",
        function=poisson,
        parameters=(),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * exp(-λ)",
        aliases=("exponential", "random defects", "Poisson"),
        reference=_MURPHY_1964 + " (the uniform-density case)",
        mixing="none: every die sees D0",
        display_name="Poisson",
        inverse=_lambda_poisson,
    ),
    YieldModel(
        name="murphy",
        function=murphy,
        parameters=(),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * ((1 - exp(-λ)) / λ)^2",
        aliases=("Murphy", "Murphy triangular", "triangular"),
        reference=_MURPHY_1964,
        mixing="triangular on [0, 2 D0]",
        display_name="Murphy",
        inverse=_lambda_murphy,
    ),
    YieldModel(
        name="murphy_rectangular",
        function=murphy_rectangular,
        parameters=(),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * (1 - exp(-2 λ)) / (2 λ)",
        aliases=("Murphy rectangular", "rectangular", "uniform", "Murphy (uniform)"),
        reference=_MURPHY_1964,
        mixing="uniform on [0, 2 D0]",
        display_name="Murphy (rectangular)",
        inverse=_lambda_murphy_rectangular,
    ),
    YieldModel(
        name="seeds",
        function=seeds,
        parameters=(),
        defaults=MappingProxyType({}),
        equation="Y = Y0 / (1 + λ)",
        aliases=("Seeds", "exponential mixing", "negative binomial alpha = 1"),
        reference=(
            'R. B. Seeds, "Yield, economic, and logistic models for complex digital '
            'arrays", IEEE International Convention Record, part 6, 61-66, 1967'
        ),
        mixing="exponential with mean D0",
        display_name="Seeds",
        inverse=_lambda_seeds,
    ),
    YieldModel(
        name="moore",
        function=moore,
        parameters=(),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * exp(-sqrt(λ))",
        aliases=("Moore", "Seeds (square-root form)", "Seeds"),
        reference=(
            'G. E. Moore, "What level of LSI is best for you?", Electronics 43(4), 126-130, 1970'
        ),
        mixing="empirical (Lévy mixing: D0 is a scale, the mean density is infinite)",
        mean_density=False,
        display_name="Moore",
        inverse=_lambda_moore,
    ),
    YieldModel(
        name="negative_binomial",
        function=negative_binomial,
        parameters=("alpha",),
        defaults=MappingProxyType({"alpha": DEFAULT_ALPHA}),
        equation="Y = Y0 * (1 + λ/α)^(-α)",
        aliases=("negative binomial", "Stapper", "clustered", "gamma mixing", "NB"),
        reference=(
            'C. H. Stapper, "Defect density distribution for LSI yield calculations", '
            "IEEE Trans. Electron Devices ED-20(7), 655-657, 1973; "
            'C. H. Stapper, "LSI yield modeling and process monitoring", '
            "IBM J. Res. Develop. 20(3), 228-234, 1976"
        ),
        mixing="gamma with mean D0 and shape α",
        display_name="Negative binomial",
        inverse=_lambda_gamma_mixture,
    ),
    YieldModel(
        name="bose_einstein",
        function=bose_einstein,
        parameters=("n_layers",),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * (1 + A f D0/n)^(-n) = Y0 * (1 + λ/n)^(-n)",
        aliases=("Bose-Einstein", "Price", "Okabe"),
        reference=_PRICE_1970,
        mixing="n layers, each with density D0/n (equivalent to gamma with shape n)",
        display_name="Bose–Einstein",
        inverse=_lambda_gamma_mixture,
        density_note="D0 is the total over the n layers (D0/n per layer)",
    ),
    YieldModel(
        name="bose_einstein_per_layer",
        function=_bose_einstein_per_layer,
        parameters=("n_layers",),
        defaults=MappingProxyType({}),
        equation="Y = Y0 * (1 + A f D_layer)^(-n) = Y0 * (1 + λ)^(-n), λ = D_layer A f",
        aliases=(
            "Bose-Einstein (density per layer)",
            "process-complexity factor model",
            "Hennessy & Patterson die yield",
            "SemiAnalysis die yield calculator (Bose-Einstein)",
        ),
        reference=(
            _PRICE_1970 + "; J. L. Hennessy and D. A. Patterson, Computer Architecture: "
            "A Quantitative Approach, ch. 1 (the process-complexity factor N); "
            'SemiAnalysis, "Die Yield Calculator" (Bose-Einstein option)'
        ),
        mixing=(
            "n layers, each with density D_layer; the die's mean density is n D_layer "
            "(gamma with shape n)"
        ),
        mean_density=False,
        display_name="Bose–Einstein (per layer)",
        inverse=_lambda_per_layer,
        equivalent_to="bose_einstein",
        equivalent_density=_total_over_layers,
        density_symbol="D_layer",
        density_note="the density and λ are those of each layer (n times them in total)",
    ),
)

#: Every yield model by name, read-only. The CLI builds its choices from it.
#: ``bose_einstein`` takes the total density D0 over the n layers (the default
#: convention); ``bose_einstein_per_layer`` the density of each layer.
YIELD_MODELS: Mapping[str, YieldModel] = Registry("model", {m.name: m for m in _MODELS})


def get_model(name: str) -> YieldModel:
    """Return the registered model called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`YIELD_MODELS` (exact spelling; aliases are
        documentation only, because the literature uses them ambiguously).

    Returns
    -------
    YieldModel

    Raises
    ------
    UnknownNameError
        If there is no such model; the message lists the valid names.

    Examples
    --------
    >>> get_model("seeds").equation
    'Y = Y0 / (1 + λ)'
    >>> get_model("gauss")
    Traceback (most recent call last):
    ...
    waferlab.errors.UnknownNameError: model_name must be one of poisson, murphy, ...
    """
    if isinstance(name, str) and name in YIELD_MODELS:
        return YIELD_MODELS[name]
    raise UnknownNameError("model_name", name, YIELD_MODELS)


def _model_parameters(model: YieldModel, given: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in given.items():
        if key not in model.parameters:
            takes = ", ".join(model.parameters) if model.parameters else "no model parameters"
            raise InvalidParameterError(
                key, value, f"omitted for model {model.name}", f"{model.name} takes {takes}"
            )
    parameters: dict[str, Any] = dict(model.defaults)
    parameters.update(given)
    for key in model.required_parameters:
        if key not in parameters or parameters[key] is None:
            raise InvalidParameterError(
                key,
                parameters.get(key),
                "given" if key != "n_layers" else "an integer >= 1",
                f"model {model.name} requires it",
            )
    return parameters


def _validated_parameters(parameters: Mapping[str, Any]) -> dict[str, NDArray[np.float64]]:
    out: dict[str, NDArray[np.float64]] = {}
    for key, value in parameters.items():
        if key == "n_layers":
            out[key] = _integer_array(key, value, low=1)
        else:
            out[key] = check_array(key, value, low=0.0, low_open=True)
    return out


def _renamed(old: str, new: str) -> Callable[[F], F]:
    """Accept the keyword ``old`` as a deprecated alias of ``new`` (for one release)."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                warnings.warn(
                    f"{function.__name__}({old}=...) is deprecated; use {new}=...",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@_renamed("model_name", "model")
def die_yield(
    model: str,
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
    **model_parameters: Any,
) -> FloatOrArray:
    """Return the die yield under the model called ``model``.

    Parameters
    ----------
    model : str
        A key of :data:`YIELD_MODELS` (``model_name=``, the former keyword, is
        accepted with a DeprecationWarning for one release).
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Fatal defect density D0 [defects/cm²], >= 0: the die's mean density
        for most models, the total over the layers for ``bose_einstein`` and
        the density of each layer for ``bose_einstein_per_layer``.
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in [0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].
    **model_parameters
        The model's own parameters (``alpha`` for ``negative_binomial``,
        ``n_layers`` for ``bose_einstein`` and ``bose_einstein_per_layer``);
        defaults from the registry.

    Returns
    -------
    float or ndarray
        Die yield in [0, 1]; a float when every argument is a scalar.

    Raises
    ------
    UnknownNameError
        If the model does not exist.
    InvalidParameterError
        If a parameter does not belong to the model, a required one is
        missing, or a value is out of range.

    Notes
    -----
    Y = Y0 · Y_model(λ), λ = D0 · (A / 100 mm²/cm²) · f (D_layer in place of
    D0 for ``bose_einstein_per_layer``).

    References
    ----------
    See the model functions and ``docs/yield-models.md``.

    Examples
    --------
    >>> round(die_yield("negative_binomial", 826.0, 0.1, alpha=1.0), 4)
    0.5476
    >>> round(die_yield("bose_einstein", 100.0, 0.1, n_layers=10), 4)  # D0 in total
    0.9053
    >>> round(die_yield("bose_einstein_per_layer", 100.0, 0.1, n_layers=10), 4)  # per layer
    0.3855
    >>> die_yield("poisson", 100.0, 1.0, alpha=2.0)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: alpha must be omitted for model poisson (got 2.0): ...
    """
    registered = get_model(model)
    parameters = _model_parameters(registered, model_parameters)
    return registered.function(
        die_area_mm2,
        defect_density_per_cm2,
        gross_yield=gross_yield,
        critical_area_fraction=critical_area_fraction,
        **parameters,
    )


@_renamed("model_name", "model")
def defect_density_for_yield(
    model: str,
    die_area_mm2: ArrayLike,
    die_yield: ArrayLike,
    *,
    gross_yield: ArrayLike = 1.0,
    critical_area_fraction: ArrayLike = 1.0,
    **model_parameters: Any,
) -> FloatOrArray:
    """Return the defect density that gives ``die_yield`` under a model (the inverse).

    Parameters
    ----------
    model : str
        A key of :data:`YIELD_MODELS` (``model_name=``, the former keyword, is
        accepted with a DeprecationWarning for one release).
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    die_yield : float or array_like
        Observed die yield, in (0, gross_yield].
    gross_yield : float or array_like, default 1.0
        Area-independent yield factor Y0, in (0, 1].
    critical_area_fraction : float or array_like, default 1.0
        Fraction of the die area in which a defect is fatal, in [0, 1].
    **model_parameters
        The model's own parameters (``alpha``, ``n_layers``).

    Returns
    -------
    float or ndarray
        D0 [defects/cm²] >= 0, in the model's own convention (per layer for
        ``bose_einstein_per_layer``); exactly 0 where ``die_yield ==
        gross_yield``. A float when every argument is a scalar.

    Raises
    ------
    UnknownNameError
        If the model does not exist.
    InvalidParameterError
        If ``die_yield`` is outside (0, gross_yield]; if the die (or its
        critical area) is zero while ``die_yield < gross_yield`` (no density
        can produce that); if the implied density overflows; or as
        :func:`die_yield`.

    Notes
    -----
    With r = die_yield / gross_yield and λ = D0 · A · f, every model is
    inverted in closed form:

    - poisson: λ = −ln r
    - seeds: λ = (1 − r) / r
    - moore: λ = (ln r)²
    - negative_binomial: λ = α · expm1(−ln(r) / α); bose_einstein: α = n
    - bose_einstein_per_layer: λ = D_layer · A · f = expm1(−ln(r) / n)
    - murphy_rectangular: (1 − e^(−u))/u = r with u = 2λ;
      murphy: (1 − e^(−λ))/λ = √r.

    The last equation, (1 − e^(−u))/u = ρ, is solved by Lambert's W: write
    e^(−u) = 1 − ρu and set t = u − 1/ρ; then e^(−t)·e^(−1/ρ) = −ρt, i.e.
    t·e^t = −(1/ρ)·e^(−1/ρ). Since 1/ρ > 1, the branch W−1 returns the
    trivial t = −1/ρ (u = 0) and the principal branch gives the answer,

        u = 1/ρ + W0(−(1/ρ) · e^(−1/ρ)).

    Near ρ = 1 the argument approaches the branch point −1/e where W loses
    precision, so there the start value is the series u ≈ 2ε + 4ε²/3
    (ε = 1 − ρ); two Newton steps on ln((1 − e^(−u))/u) = ln ρ polish either
    start to machine precision.

    References
    ----------
    .. [1] R. M. Corless, G. H. Gonnet, D. E. G. Hare, D. J. Jeffrey and
       D. E. Knuth, "On the Lambert W function", Adv. Comput. Math. 5,
       329–359, 1996.

    Examples
    --------
    >>> round(defect_density_for_yield("poisson", 826.0, 0.415), 4)
    0.1065
    >>> round(defect_density_for_yield("murphy", 826.0, 0.415), 4)
    0.1156
    >>> defect_density_for_yield("seeds", 100.0, 0.8, gross_yield=0.8)
    0.0
    """
    registered = get_model(model)
    parameters = _validated_parameters(_model_parameters(registered, model_parameters))
    area = check_array("die_area_mm2", die_area_mm2, low=0.0)
    observed = check_array("die_yield", die_yield, low=0.0, high=1.0, low_open=True)
    gross = check_array("gross_yield", gross_yield, low=0.0, high=1.0, low_open=True)
    fraction = check_array("critical_area_fraction", critical_area_fraction, low=0.0, high=1.0)
    shaped = _broadcast(
        die_area_mm2=area,
        die_yield=observed,
        gross_yield=gross,
        critical_area_fraction=fraction,
        **parameters,
    )
    area, observed, gross, fraction = shaped[:4]
    above = observed > gross
    if np.any(above):
        raise InvalidParameterError(
            "die_yield",
            float(observed[above].flat[0]),
            "in (0, gross_yield]",
            f"gross_yield is {float(gross[above].flat[0])!r}, which caps the die yield",
        )
    relative = observed / gross
    assert registered.inverse is not None
    lam = registered.inverse(relative, *shaped[4:])
    exposure_cm2 = (area / MM2_PER_CM2) * fraction
    impossible = (exposure_cm2 == 0.0) & (lam > 0.0)
    if np.any(impossible):
        zero_area = area[impossible] == 0.0
        name = "die_area_mm2" if bool(zero_area.flat[0]) else "critical_area_fraction"
        value = float((area if name == "die_area_mm2" else fraction)[impossible].flat[0])
        raise NoSolutionError(
            name,
            value,
            "> 0 when die_yield < gross_yield",
            "a die without critical area is always good, so no defect density "
            "gives a yield below gross_yield",
        )
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        density = np.where(lam > 0.0, lam / np.where(exposure_cm2 > 0, exposure_cm2, 1.0), 0.0)
    overflow = ~np.isfinite(density)
    if np.any(overflow):
        raise NoSolutionError(
            "die_yield",
            float(observed[overflow].flat[0]),
            "large enough that the implied defect density is a finite number",
        )
    scalar = _is_scalar(
        die_area_mm2, die_yield, gross_yield, critical_area_fraction, *model_parameters.values()
    )
    return _finish(density, scalar)
