"""Uncertain inputs: distributions, correlated sampling, quantiles and sensitivity.

Everything here works on a generic vectorised model ``f(inputs) -> outputs``:
``inputs`` maps each input name to a scalar or an array of draws of shape
``(n,)``, and ``f`` returns an array of shape ``(n,)`` or ``(n, T)`` (one row
per draw, one column per month), or a mapping of output name to such arrays.
The funnel engine is one such ``f``; so is any closed-form chain.

* Distributions (:class:`Lognormal`, :class:`Normal`, :class:`Uniform`,
  :class:`Triangular`, :class:`Pert`, :class:`Discrete`) are immutable and
  draw by inverse transform: ``ppf(u)`` maps uniforms to values, so plain Monte
  Carlo, Latin hypercube, scrambled Sobol' points and a Gaussian copula all
  use the same code. Each can be held inside an input's valid range
  (:class:`ValidRange`) by truncation, clipping or refusal.
* :func:`parse_distribution` and :func:`parse_correlations` read the scenario
  file forms (``die_yield = { lognormal = { p5 = 0.15, p95 = 0.40 } }``).
* :func:`sample` draws every input with a seed; :func:`run_uncertainty` draws,
  evaluates ``f`` once on all draws and holds the result
  (:class:`UncertaintyResult`) with quantiles per period and cumulative.
* :func:`tornado` and :func:`sobol_sensitivity` rank the inputs.

scipy is imported inside the functions that use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab.errors import (
    InvalidParameterError,
    Registry,
    UnknownNameError,
    check_choice,
    check_integer,
    check_real,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_BINS",
    "DISTRIBUTIONS",
    "MAX_MASS_OUTSIDE",
    "OUT_OF_RANGE_POLICIES",
    "SAMPLING_METHODS",
    "Z_95",
    "Discrete",
    "Distribution",
    "Histogram",
    "Lognormal",
    "Normal",
    "OutsideRangeError",
    "Pert",
    "SobolResult",
    "StreamedOutput",
    "TornadoResult",
    "Triangular",
    "UncertaintyResult",
    "Uniform",
    "ValidRange",
    "correlation_matrix",
    "model_outputs",
    "outside_valid_range",
    "parse_correlations",
    "parse_distribution",
    "parse_distributions",
    "quantile_label",
    "quantiles",
    "run_uncertainty",
    "sample",
    "select_output",
    "shares",
    "sobol_sensitivity",
    "spearman_to_pearson",
    "tornado",
]

#: The standard normal 95th percentile, z such that Φ(z) = 0.95 (1.6448536...).
Z_95 = 1.6448536269514722

#: How a distribution is held inside its input's valid range.
OUT_OF_RANGE_POLICIES = ("truncate", "clip", "reject")

#: Ways of drawing the uniforms behind every input.
SAMPLING_METHODS = ("mc", "lhs", "sobol")

#: Default probabilities reported by the quantile helpers.
DEFAULT_PROBABILITIES = (0.05, 0.5, 0.95)

#: The tail mass a distribution may leave outside its valid range under "reject".
REJECT_TAIL = 0.001

#: The largest share of a distribution's mass that may lie outside its input's valid
#: range. Truncating (or clipping) more would change the distribution more than it
#: keeps of it: a range that is mostly outside the input's values is a mistake (a sign
#: slip, a percentage for a fraction), not a judgement to be truncated silently.
MAX_MASS_OUTSIDE = 0.5

Policy: TypeAlias = Literal["truncate", "clip", "reject"]
Method: TypeAlias = Literal["mc", "lhs", "sobol"]
Model: TypeAlias = Callable[[Mapping[str, Any]], Any]


# --------------------------------------------------------------------------- ranges


def _share(x: float) -> str:
    """A share of a distribution's mass as a percentage (three significant digits)."""
    if 0.0 < x < 1e-4:
        return "< 0.01 %"
    return f"{100.0 * x:.3g} %"


class OutsideRangeError(InvalidParameterError):
    """More than :data:`MAX_MASS_OUTSIDE` of a distribution lies outside its valid range.

    Attributes
    ----------
    distribution : object
        The distribution, unbounded (its ``repr`` names its parameters).
    valid_range : ValidRange
        The input's valid range.
    below, above : float
        The shares of the distribution's mass below and above the range.
    key : str or None
        The input, when known (:func:`parse_distribution` names it).

    Examples
    --------
    >>> try:
    ...     Uniform(-100.0, 1.0, valid=ValidRange(0.0))
    ... except OutsideRangeError as err:
    ...     print(err)
    Uniform(low=-100, high=1) lies 99 % outside the valid range >= 0 (99 % below 0); at most
    half of a distribution may lie outside its input's valid range
    """

    def __init__(
        self,
        distribution: Any,
        valid: ValidRange,
        below: float,
        above: float,
        key: str | None = None,
    ) -> None:
        self.distribution = distribution
        self.valid_range = valid
        self.below = below
        self.above = above
        self.key = key
        super().__init__(
            key or "valid", str(valid), "a range holding at least half of the distribution's mass"
        )
        outside = below + above
        how = "entirely" if outside > 1.0 - 1e-6 else _share(outside)  # under a millionth in
        sides = [
            f"{_share(share)} {side} {bound:g}"
            for share, side, bound in ((below, "below", valid.low), (above, "above", valid.high))
            if share > 0.0 and bound is not None
        ]
        span = ""
        if isinstance(distribution, Normal | Lognormal):
            p5, p95 = distribution._raw_ppf(np.array([0.05, 0.95]))
            span = f", 90 % of it in [{p5:.4g}, {p95:.4g}],"
        self.args = (
            f"{key + ': ' if key else ''}{distribution!r}{span} lies {how} outside the valid "
            f"range {valid} ({', '.join(sides)}); at most half of a distribution may lie "
            "outside its input's valid range",
        )


@dataclass(frozen=True)
class ValidRange:
    """The values an input may take: ``low``/``high`` bounds, each open or closed.

    ``None`` means unbounded on that side.

    Examples
    --------
    >>> r = ValidRange(0.0, 1.0, low_open=True)
    >>> r.contains(np.array([0.0, 0.5, 1.0]))
    array([False,  True,  True])
    >>> str(r)
    'in (0, 1]'
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if value is not None:
                check_real(name, value)
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InvalidParameterError("high", self.high, f"> low ({self.low})")

    def __str__(self) -> str:
        from waferlab.errors import describe_range

        return describe_range(self.low, self.high, self.low_open, self.high_open)

    @property
    def lowest(self) -> float:
        """The smallest admissible float (``-inf`` when unbounded)."""
        if self.low is None:
            return -math.inf
        return math.nextafter(self.low, math.inf) if self.low_open else self.low

    @property
    def highest(self) -> float:
        """The largest admissible float (``+inf`` when unbounded)."""
        if self.high is None:
            return math.inf
        return math.nextafter(self.high, -math.inf) if self.high_open else self.high

    def contains(self, x: ArrayLike) -> NDArray[np.bool_]:
        """Whether each element of ``x`` lies in the range."""
        a = np.asarray(x, dtype=float)
        return (a >= self.lowest) & (a <= self.highest)


_UNBOUNDED = ValidRange()


# --------------------------------------------------------------------------- distributions


class Distribution(Protocol):
    """What every distribution offers: an inverse CDF and its summary quantiles."""

    def ppf(self, u: ArrayLike) -> NDArray[Any]:
        """Map probabilities in [0, 1] to values (vectorised inverse CDF)."""
        ...

    @property
    def median(self) -> Any:
        """The 50th percentile."""
        ...

    @property
    def p5(self) -> Any:
        """The 5th percentile."""
        ...

    @property
    def p95(self) -> Any:
        """The 95th percentile."""
        ...


@dataclass(frozen=True)
class _Continuous:
    """Shared machinery of the continuous distributions: bounds and policies.

    Subclasses give the raw (unbounded) ``_raw_ppf`` and ``_raw_cdf``.
    """

    valid: ValidRange = field(default=_UNBOUNDED, kw_only=True)
    out_of_range: Policy = field(default="truncate", kw_only=True)

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        raise NotImplementedError

    def _raw_cdf(self, x: float) -> float:
        raise NotImplementedError

    def _check_range(self) -> None:
        check_choice("out_of_range", self.out_of_range, OUT_OF_RANGE_POLICIES)
        if not isinstance(self.valid, ValidRange):
            raise InvalidParameterError("valid", self.valid, "a ValidRange")
        lo, hi = self._cdf_bounds()
        if self.out_of_range != "reject" and lo + (1.0 - hi) > MAX_MASS_OUTSIDE:
            raise OutsideRangeError(replace(self, valid=_UNBOUNDED), self.valid, lo, 1.0 - hi)
        if self.out_of_range == "reject":
            outside_low, outside_high = lo, 1.0 - hi
            if outside_low > REJECT_TAIL or outside_high > REJECT_TAIL:
                raise InvalidParameterError(
                    "valid",
                    str(self.valid),
                    "a range holding the distribution's 0.1 %-99.9 % interval",
                    f"{outside_low + outside_high:.3%} of {self!r} lies outside "
                    '(use out_of_range = "truncate" or "clip")',
                )

    def _cdf_bounds(self) -> tuple[float, float]:
        lo = 0.0 if self.valid.low is None else self._raw_cdf(self.valid.low)
        hi = 1.0 if self.valid.high is None else self._raw_cdf(self.valid.high)
        return lo, hi

    @property
    def mass_outside(self) -> tuple[float, float]:
        """The shares of the distribution's mass below and above its valid range.

        That mass is cut (``out_of_range = "truncate"`` or ``"reject"``) or drawn at
        the bounds (``"clip"``); at most :data:`MAX_MASS_OUTSIDE` of it in all.

        Examples
        --------
        >>> below, above = Normal(0.3, 0.5, valid=ValidRange(0.0, 1.0)).mass_outside
        >>> round(below, 4), round(above, 4)  # Φ(-0.6), 1 - Φ(1.4)
        (0.2743, 0.0808)
        """
        lo, hi = self._cdf_bounds()
        return lo, 1.0 - hi

    def ppf(self, u: ArrayLike) -> NDArray[np.float64]:
        """Return the value at each cumulative probability ``u`` (vectorised).

        Under ``out_of_range = "truncate"`` and ``"reject"`` this is the inverse
        CDF of the distribution truncated to the valid range,
        ``F⁻¹(F(low) + u·(F(high) − F(low)))``; under ``"clip"`` it is the
        untruncated inverse CDF clipped into the range (mass piles up at the
        bounds). Either way every value is admissible, open bounds included.
        """
        p = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.out_of_range != "clip" and self.valid != _UNBOUNDED:
            lo, hi = self._cdf_bounds()
            p = lo + p * (hi - lo)
        x = self._raw_ppf(p)
        if self.valid != _UNBOUNDED:
            x = np.clip(x, self.valid.lowest, self.valid.highest)
        return x

    def quantile(self, q: float) -> float:
        """Return the ``q`` quantile as a float."""
        return float(self.ppf(q))

    @property
    def median(self) -> float:
        """The 50th percentile (of the bounded distribution)."""
        return self.quantile(0.5)

    @property
    def p5(self) -> float:
        """The 5th percentile (of the bounded distribution)."""
        return self.quantile(0.05)

    @property
    def p95(self) -> float:
        """The 95th percentile (of the bounded distribution)."""
        return self.quantile(0.95)

    def within(self, valid: ValidRange, out_of_range: Policy | None = None) -> Any:
        """Return a copy held inside ``valid`` by ``out_of_range`` (default: unchanged)."""
        return replace(self, valid=valid, out_of_range=out_of_range or self.out_of_range)


def _ndtri(p: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy.special import ndtri

    return np.asarray(ndtri(p), dtype=float)


def _ndtr(x: float) -> float:
    from scipy.special import ndtr

    return float(ndtr(x))


@dataclass(frozen=True)
class Lognormal(_Continuous):
    """Lognormal distribution: ln X ~ Normal(mu, sigma²).

    Parameters
    ----------
    mu : float
        Mean of ln X; the median is e^mu. Build from the median with
        :meth:`from_median`, or from a 90 % interval with :meth:`from_interval`.
    sigma : float
        Standard deviation of ln X (>= 0).
    valid : ValidRange, optional
        The input's admissible values; the distribution is held inside.
    out_of_range : {"truncate", "clip", "reject"}, default "truncate"
        How it is held there (see :meth:`ppf` and docs/uncertainty.md).

    Notes
    -----
    From a 90 % interval [a, b], as Epoch AI states its inputs:
    μ = ln √(ab), σ = ln(b/a) / (2 · 1.6449).

    References
    ----------
    Epoch AI, "Data on AI chip production" (2025), lognormal inputs given by
    their 90 % credible intervals.

    Examples
    --------
    Epoch's convention: a 90 % interval of $2,500-8,000 has median $4,472 and
    σ = 0.3536.

    >>> d = Lognormal.from_interval(2500.0, 8000.0)
    >>> round(d.median), round(d.sigma, 4), round(d.p5), round(d.p95)
    (4472, 0.3536, 2500, 8000)
    >>> round(Lognormal.from_median(4472.0, 0.3536).p95, -1)
    8000.0
    """

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        check_real("mu", self.mu)
        check_real("sigma", self.sigma, low=0.0)
        self._check_range()

    @classmethod
    def from_median(cls, median: float, sigma: float, **kwargs: Any) -> Lognormal:
        """Build the lognormal with this median (e^mu, > 0) and log-sd ``sigma``."""
        m = check_real("median", median, low=0.0, low_open=True)
        return cls(math.log(m), sigma, **kwargs)

    @classmethod
    def from_interval(cls, p5: float, p95: float, **kwargs: Any) -> Lognormal:
        """Build the lognormal whose 5th and 95th percentiles are ``p5`` and ``p95``."""
        a = check_real("p5", p5, low=0.0, low_open=True)
        b = check_real("p95", p95, low=a, low_open=True)
        return cls(0.5 * math.log(a * b), math.log(b / a) / (2.0 * Z_95), **kwargs)

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.exp(self.mu + self.sigma * _ndtri(u))

    def _raw_cdf(self, x: float) -> float:
        if x <= 0.0:
            return 0.0
        if self.sigma == 0.0:
            return float(math.log(x) >= self.mu)
        return _ndtr((math.log(x) - self.mu) / self.sigma)

    def __repr__(self) -> str:
        return f"Lognormal(median={math.exp(self.mu):.6g}, sigma={self.sigma:.4g})"


@dataclass(frozen=True)
class Normal(_Continuous):
    """Normal distribution with ``mean`` and standard deviation ``sd`` (>= 0).

    Examples
    --------
    >>> d = Normal.from_interval(10.0, 20.0)
    >>> d.median, round(d.sd, 4), round(d.p95, 6)
    (15.0, 3.0398, 20.0)
    >>> Normal(0.5, 0.5, valid=ValidRange(0.0, 1.0)).p5 > 0.0  # truncated at 0
    True
    """

    mean: float
    sd: float

    def __post_init__(self) -> None:
        check_real("mean", self.mean)
        check_real("sd", self.sd, low=0.0)
        self._check_range()

    @classmethod
    def from_interval(cls, p5: float, p95: float, **kwargs: Any) -> Normal:
        """Build the normal whose 5th and 95th percentiles are ``p5`` and ``p95``."""
        a = check_real("p5", p5)
        b = check_real("p95", p95, low=a, low_open=True)
        return cls((a + b) / 2.0, (b - a) / (2.0 * Z_95), **kwargs)

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.mean + self.sd * _ndtri(u)

    def _raw_cdf(self, x: float) -> float:
        if self.sd == 0.0:
            return float(x >= self.mean)
        return _ndtr((x - self.mean) / self.sd)

    def __repr__(self) -> str:
        return f"Normal(mean={self.mean:.6g}, sd={self.sd:.4g})"


@dataclass(frozen=True)
class Uniform(_Continuous):
    """Uniform distribution on [``low``, ``high``].

    Examples
    --------
    >>> Uniform(20_000.0, 50_000.0).ppf([0.0, 0.5, 1.0])
    array([20000., 35000., 50000.])
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        lo = check_real("low", self.low)
        check_real("high", self.high, low=lo, low_open=True)
        self._check_range()

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.low + u * (self.high - self.low)

    def _raw_cdf(self, x: float) -> float:
        return min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)

    def __repr__(self) -> str:
        return f"Uniform(low={self.low:.6g}, high={self.high:.6g})"


@dataclass(frozen=True)
class Triangular(_Continuous):
    """Triangular distribution on [``low``, ``high``] with its peak at ``mode``.

    Notes
    -----
    With c = (m − a)/(b − a): F⁻¹(u) = a + √(u (b − a)(m − a)) for u < c,
    else b − √((1 − u)(b − a)(b − m)).

    Examples
    --------
    >>> d = Triangular(0.0, 0.0, 1.0)
    >>> round(d.median, 6)  # 1 − √0.5
    0.292893
    """

    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        _check_low_mode_high(self.low, self.mode, self.high)
        self._check_range()

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        a, m, b = self.low, self.mode, self.high
        c = (m - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (m - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - m))
        return np.where(u < c, left, right)

    def _raw_cdf(self, x: float) -> float:
        a, m, b = self.low, self.mode, self.high
        if x <= a:
            return 0.0
        if x >= b:
            return 1.0
        if x <= m:
            return (x - a) ** 2 / ((b - a) * (m - a))
        return 1.0 - (b - x) ** 2 / ((b - a) * (b - m))

    def __repr__(self) -> str:
        return f"Triangular(low={self.low:.6g}, mode={self.mode:.6g}, high={self.high:.6g})"


@dataclass(frozen=True)
class Pert(_Continuous):
    """PERT distribution: a beta on [``low``, ``high``] shaped by the ``mode``.

    Notes
    -----
    X = a + (b − a)·B with B ~ Beta(1 + λ(m − a)/(b − a), 1 + λ(b − m)/(b − a)),
    λ = ``shape`` (4 in the classical PERT, mean (a + λm + b)/(λ + 2)).

    References
    ----------
    Malcolm, Roseboom, Clark & Fazar, "Application of a technique for research
    and development program evaluation", Operations Research 7(5), 1959.

    Examples
    --------
    >>> d = Pert(300.0, 600.0, 2000.0)
    >>> mean = d.ppf(np.random.default_rng(0).random(200_000)).mean()
    >>> bool(abs(mean - (300.0 + 4 * 600.0 + 2000.0) / 6) < 3.0)  # 783.3, to Monte Carlo error
    True
    """

    low: float
    mode: float
    high: float
    shape: float = 4.0

    def __post_init__(self) -> None:
        _check_low_mode_high(self.low, self.mode, self.high)
        check_real("shape", self.shape, low=0.0, low_open=True)
        self._check_range()

    def _beta(self) -> tuple[float, float]:
        span = self.high - self.low
        return (
            1.0 + self.shape * (self.mode - self.low) / span,
            1.0 + self.shape * (self.high - self.mode) / span,
        )

    def _raw_ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        from scipy.special import betaincinv

        alpha, beta = self._beta()
        return self.low + (self.high - self.low) * np.asarray(betaincinv(alpha, beta, u))

    def _raw_cdf(self, x: float) -> float:
        from scipy.special import betainc

        alpha, beta = self._beta()
        t = min(max((x - self.low) / (self.high - self.low), 0.0), 1.0)
        return float(betainc(alpha, beta, t))

    def __repr__(self) -> str:
        return f"Pert(low={self.low:.6g}, mode={self.mode:.6g}, high={self.high:.6g})"


def _check_low_mode_high(low: float, mode: float, high: float) -> None:
    a = check_real("low", low)
    b = check_real("high", high, low=a, low_open=True)
    check_real("mode", mode, low=a, high=b)


@dataclass(frozen=True)
class Discrete:
    """A finite set of values with weights; values may be numbers or names.

    Numeric values are sorted (so that a rank correlation with another input
    means "higher with higher"); names keep the order given. ``ppf(u)`` is the
    smallest value whose cumulative weight reaches ``u``.

    Parameters
    ----------
    values : sequence of float or sequence of str
        The possible values (at least one, no repeats).
    weights : sequence of float, optional
        Non-negative weights, not all zero; normalised. Default: equal.
    valid : ValidRange, optional
        For numeric values: every value must lie in it (else the error names it).

    Examples
    --------
    >>> d = Discrete(("poisson", "murphy", "seeds"), (0.5, 0.3, 0.2))
    >>> d.ppf([0.1, 0.5, 0.6, 0.99]).tolist()
    ['poisson', 'poisson', 'murphy', 'seeds']
    >>> d.median, d.p95
    ('poisson', 'seeds')
    """

    values: tuple[Any, ...]
    weights: tuple[float, ...] | None = None
    valid: ValidRange = field(default=_UNBOUNDED, kw_only=True)

    def __post_init__(self) -> None:
        values = tuple(self.values) if isinstance(self.values, Sequence) else ()
        if not values or isinstance(self.values, str):
            raise InvalidParameterError("values", self.values, "a non-empty list of values")
        if all(isinstance(v, str) for v in values):
            numeric = False
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            numeric = True
            for v in values:
                check_real("values", v)
        else:
            raise InvalidParameterError(
                "values", self.values, "a list of numbers or a list of names (not mixed)"
            )
        if len(set(values)) != len(values):
            raise InvalidParameterError("values", self.values, "a list without repeats")
        if self.weights is None:
            weights = (1.0,) * len(values)
        else:
            if not isinstance(self.weights, Sequence) or len(self.weights) != len(values):
                raise InvalidParameterError(
                    "weights", self.weights, f"a list of {len(values)} numbers, one per value"
                )
            weights = tuple(check_real("weights", w, low=0.0) for w in self.weights)
            if sum(weights) <= 0.0:
                raise InvalidParameterError("weights", self.weights, "not all zero")
        if numeric:
            bad = [v for v in values if not bool(self.valid.contains(v))]
            if bad:
                raise InvalidParameterError("values", bad[0], str(self.valid))
            order = sorted(range(len(values)), key=lambda i: values[i])
            values = tuple(float(values[i]) for i in order)
            weights = tuple(weights[i] for i in order)
        total = sum(weights)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "weights", tuple(w / total for w in weights))

    @property
    def is_numeric(self) -> bool:
        """Whether the values are numbers (else names)."""
        return not isinstance(self.values[0], str)

    def codes(self, u: ArrayLike) -> NDArray[np.intp]:
        """Return the index into ``values`` at each cumulative probability ``u``."""
        assert self.weights is not None
        cumulative = np.cumsum(self.weights)
        idx = np.searchsorted(cumulative, np.asarray(u, dtype=float), side="left")
        return np.minimum(idx, len(self.values) - 1)

    def ppf(self, u: ArrayLike) -> NDArray[Any]:
        """Return the value at each cumulative probability ``u`` (vectorised)."""
        return np.asarray(self.values)[self.codes(u)]

    def quantile(self, q: float) -> Any:
        """Return the ``q`` quantile (a value of the set)."""
        return self.ppf(q).item()

    @property
    def median(self) -> Any:
        """The 50th percentile."""
        return self.quantile(0.5)

    @property
    def p5(self) -> Any:
        """The 5th percentile."""
        return self.quantile(0.05)

    @property
    def p95(self) -> Any:
        """The 95th percentile."""
        return self.quantile(0.95)

    @property
    def mass_outside(self) -> tuple[float, float]:
        """Always ``(0.0, 0.0)``: every value lies in the valid range (checked)."""
        return 0.0, 0.0

    def within(self, valid: ValidRange, out_of_range: Policy | None = None) -> Discrete:
        """Return a copy whose values are checked against ``valid``."""
        return replace(self, valid=valid)

    def __repr__(self) -> str:
        text = f"Discrete(values={list(self.values)!r}, weights={list(self.weights or ())!r})"
        return text if len(text) <= 200 else text[:196] + "...)"


# --------------------------------------------------------------------------- parsing

#: Scenario-file forms of each distribution: name → accepted key sets.
DISTRIBUTIONS: Mapping[str, tuple[frozenset[str], ...]] = Registry(
    "distribution",
    {
        "lognormal": (frozenset({"p5", "p95"}), frozenset({"median", "sigma"})),
        "normal": (frozenset({"p5", "p95"}), frozenset({"mean", "sd"})),
        "uniform": (frozenset({"low", "high"}),),
        "triangular": (frozenset({"low", "mode", "high"}),),
        "pert": (frozenset({"low", "mode", "high"}), frozenset({"low", "mode", "high", "shape"})),
        "discrete": (frozenset({"values"}), frozenset({"values", "weights"})),
    },
)

_FORM_HELP = (
    "a table with one distribution, e.g. { lognormal = { p5 = 0.15, p95 = 0.40 } }; "
    "one of: lognormal { p5, p95 } or { median, sigma }; normal { p5, p95 } or { mean, sd }; "
    "uniform { low, high }; triangular { low, mode, high }; pert { low, mode, high[, shape] }; "
    "discrete { values[, weights] }; optionally out_of_range = truncate|clip|reject"
)


def parse_distribution(
    key: str,
    spec: Any,
    *,
    valid: ValidRange | None = None,
) -> Distribution:
    """Build a distribution from its scenario-file form.

    Parameters
    ----------
    key : str
        The input's name (used in error messages, e.g. ``"die_yield"``).
    spec : mapping
        One distribution name mapped to its parameters, and optionally
        ``out_of_range = "truncate" | "clip" | "reject"``::

            die_yield = { lognormal = { p5 = 0.15, p95 = 0.40 } }
            wafer_starts_per_month = { uniform = { low = 20000, high = 50000 } }
            yield_model = { discrete = { values = ["poisson", "murphy"], weights = [0.5, 0.5] } }

    valid : ValidRange, optional
        The input's admissible values (the engine knows them); default unbounded.

    Returns
    -------
    Distribution

    Raises
    ------
    InvalidParameterError
        Naming ``key`` (or ``key.distribution.parameter``) and the allowed form.

    Examples
    --------
    >>> d = parse_distribution("die_yield", {"lognormal": {"p5": 0.15, "p95": 0.40}},
    ...                        valid=ValidRange(0.0, 1.0, low_open=True))
    >>> round(d.median, 4)
    0.2449
    >>> parse_distribution("die_yield", {"lognormal": {"p5": 0.15}})
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: die_yield.lognormal must be { p5, p95 } or \
{ median, sigma } (got {'p5': 0.15})
    """
    if not isinstance(spec, Mapping):
        raise InvalidParameterError(key, spec, _FORM_HELP)
    policy = spec.get("out_of_range", "truncate")
    if policy not in OUT_OF_RANGE_POLICIES:
        raise InvalidParameterError(f"{key}.out_of_range", policy, "one of truncate, clip, reject")
    names = [k for k in spec if k != "out_of_range"]
    if len(names) == 1 and names[0] not in DISTRIBUTIONS:
        raise UnknownNameError(key, names[0], DISTRIBUTIONS, what=f"{key} distribution")
    if len(names) != 1:
        raise InvalidParameterError(key, dict(spec), _FORM_HELP)
    name = names[0]
    params = spec[name]
    where = f"{key}.{name}"
    forms = DISTRIBUTIONS[name]
    allowed = " or ".join("{ " + ", ".join(_ordered(f)) + " }" for f in forms)
    if not isinstance(params, Mapping) or frozenset(params) not in forms:
        raise InvalidParameterError(where, params, allowed)
    kwargs: dict[str, Any] = {
        "valid": valid or _UNBOUNDED,
        "out_of_range": policy,
    }
    try:
        return _build(name, params, kwargs)
    except OutsideRangeError as err:
        raise OutsideRangeError(
            err.distribution, err.valid_range, err.below, err.above, key=key
        ) from None
    except InvalidParameterError as err:
        raise InvalidParameterError(
            f"{where}.{err.parameter}", err.value, err.allowed, err.detail
        ) from None


def _ordered(form: frozenset[str]) -> list[str]:
    order = ["p5", "p95", "median", "sigma", "mean", "sd", "low", "mode", "high", "shape"]
    order += ["values", "weights"]
    return [k for k in order if k in form]


def _build(name: str, p: Mapping[str, Any], kwargs: dict[str, Any]) -> Distribution:
    if name == "lognormal":
        if "p5" in p:
            return Lognormal.from_interval(p["p5"], p["p95"], **kwargs)
        return Lognormal.from_median(p["median"], p["sigma"], **kwargs)
    if name == "normal":
        if "p5" in p:
            return Normal.from_interval(p["p5"], p["p95"], **kwargs)
        return Normal(p["mean"], p["sd"], **kwargs)
    if name == "uniform":
        return Uniform(p["low"], p["high"], **kwargs)
    if name == "triangular":
        return Triangular(p["low"], p["mode"], p["high"], **kwargs)
    if name == "pert":
        return Pert(p["low"], p["mode"], p["high"], p.get("shape", 4.0), **kwargs)
    values = p["values"]
    weights = p.get("weights")
    if not isinstance(values, list | tuple):
        raise InvalidParameterError("values", values, "a non-empty list of values")
    if weights is not None and not isinstance(weights, list | tuple):
        raise InvalidParameterError("weights", weights, "a list of numbers, one per value")
    return Discrete(
        tuple(values), None if weights is None else tuple(weights), valid=kwargs["valid"]
    )


def outside_valid_range(distributions: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The distributions whose valid range cuts (or clips) some of their mass, and how much.

    Parameters
    ----------
    distributions : mapping of str to Distribution

    Returns
    -------
    dict
        Input name -> ``{"policy", "valid_range", "low", "high", "mass_outside",
        "below", "above"}`` (the policy that holds the distribution in its range, the
        range as text and its bounds, and the shares of the untruncated distribution's
        mass outside, below and above it), for every distribution with mass outside its
        range; the others are left out.

    Examples
    --------
    >>> d = {"die_yield": Normal(0.3, 0.5, valid=ValidRange(0.0, 1.0)),
    ...      "packaging_yield": Uniform(0.6, 0.9, valid=ValidRange(0.0, 1.0))}
    >>> info = outside_valid_range(d)
    >>> list(info), info["die_yield"]["policy"], round(info["die_yield"]["mass_outside"], 3)
    (['die_yield'], 'truncate', 0.355)
    """
    out: dict[str, dict[str, Any]] = {}
    for name, d in distributions.items():
        below, above = getattr(d, "mass_outside", (0.0, 0.0))
        if below + above > 0.0:
            out[name] = {
                "policy": getattr(d, "out_of_range", "truncate"),
                "valid_range": str(d.valid),
                "low": d.valid.low,
                "high": d.valid.high,
                "mass_outside": below + above,
                "below": below,
                "above": above,
            }
    return out


def parse_distributions(
    table: Mapping[str, Any], *, ranges: Mapping[str, ValidRange] | None = None
) -> dict[str, Distribution]:
    """Build every distribution of a scenario's ``[distributions]`` table.

    ``ranges`` gives each input's valid range (inputs not in it are unbounded).

    Examples
    --------
    >>> ds = parse_distributions({"a": {"uniform": {"low": 1, "high": 2}},
    ...                           "m": {"discrete": {"values": ["poisson", "murphy"]}}})
    >>> sorted(ds), ds["m"].median
    (['a', 'm'], 'poisson')
    """
    if not isinstance(table, Mapping):
        raise InvalidParameterError("distributions", table, "a table of input name to distribution")
    ranges = ranges or {}
    return {
        str(k): parse_distribution(str(k), v, valid=ranges.get(str(k))) for k, v in table.items()
    }


# --------------------------------------------------------------------------- correlations


def spearman_to_pearson(rho_s: ArrayLike) -> NDArray[np.float64]:
    """Return the Gaussian-copula correlation giving Spearman rank correlation ρ_s.

    Notes
    -----
    For a bivariate normal, ρ_s = (6/π) arcsin(ρ/2), hence ρ = 2 sin(π ρ_s / 6).

    References
    ----------
    Pearson, K., "On further methods of determining correlation", Drapers'
    Company Research Memoirs, Biometric Series IV, 1907.

    Examples
    --------
    >>> spearman_to_pearson([0.0, 0.5, 1.0]).round(4)
    array([0.    , 0.5176, 1.    ])
    """
    return 2.0 * np.sin(np.pi * np.asarray(rho_s, dtype=float) / 6.0)


def parse_correlations(
    spec: Any, *, names: Sequence[str] | None = None
) -> list[tuple[str, str, float]]:
    """Read a scenario's ``[[correlations]]`` list into (name, name, Spearman ρ) triples.

    The form is a list of tables, each ``{ inputs = ["a", "b"], spearman = 0.6 }``.
    With ``names`` (the inputs that have distributions), a pair naming any
    other input is an error naming ``correlations[i].inputs``.

    Examples
    --------
    >>> parse_correlations([{"inputs": ["die_yield", "wafer_starts_per_month"], "spearman": -0.3}])
    [('die_yield', 'wafer_starts_per_month', -0.3)]
    """
    form = 'a list of { inputs = ["a", "b"], spearman = rho } with -1 <= rho <= 1'
    if not isinstance(spec, list | tuple):
        raise InvalidParameterError("correlations", spec, form)
    out = []
    for i, item in enumerate(spec):
        where = f"correlations[{i}]"
        if not isinstance(item, Mapping) or set(item) != {"inputs", "spearman"}:
            raise InvalidParameterError(where, item, form)
        pair = item["inputs"]
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(n, str) for n in pair)
        ):
            raise InvalidParameterError(f"{where}.inputs", pair, "a list of two input names")
        if names is not None:
            unknown = [n for n in pair if n not in names]
            if unknown:
                raise InvalidParameterError(
                    f"{where}.inputs",
                    unknown[0],
                    "names of inputs with a distribution: " + ", ".join(names),
                )
        rho = check_real(f"{where}.spearman", item["spearman"], low=-1.0, high=1.0)
        out.append((pair[0], pair[1], rho))
    return out


def correlation_matrix(
    names: Sequence[str], pairs: Sequence[tuple[str, str, float]]
) -> NDArray[np.float64]:
    """Return the Gaussian-copula correlation matrix for Spearman ``pairs``.

    Parameters
    ----------
    names : sequence of str
        The inputs, in sampling order.
    pairs : sequence of (str, str, float)
        Each pair of inputs and its Spearman rank correlation in [-1, 1];
        unlisted pairs are independent.

    Returns
    -------
    ndarray of shape (d, d)
        Entries 2 sin(π ρ_s / 6), ones on the diagonal.

    Raises
    ------
    InvalidParameterError
        For an unknown or repeated name, a pair listed twice, a coefficient
        outside [-1, 1], or a matrix that is not positive semi-definite (no
        joint distribution has those correlations); the last names the pairs
        whose removal would make it valid, or every listed pair if no single
        one does.

    Examples
    --------
    >>> correlation_matrix(["a", "b"], [("a", "b", 0.5)]).round(4)
    array([[1.    , 0.5176],
           [0.5176, 1.    ]])
    >>> correlation_matrix(["a", "b", "c"],
    ...                    [("a", "b", 0.9), ("b", "c", 0.9), ("a", "c", -0.9)])
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: correlations must be a positive semi-definite \
set of rank correlations (got 'a-b 0.9, b-c 0.9, a-c -0.9'): remove or weaken one of a-b, b-c, a-c
    """
    index = {n: i for i, n in enumerate(names)}
    corr = np.eye(len(names))
    seen: set[frozenset[str]] = set()
    for a, b, rho in pairs:
        for n in (a, b):
            if n not in index:
                raise InvalidParameterError(
                    "correlations", n, "a name of an uncertain input: " + ", ".join(names)
                )
        key = frozenset((a, b))
        if a == b or key in seen:
            raise InvalidParameterError(
                "correlations", f"{a}-{b}", "pairs of two different inputs, each listed once"
            )
        seen.add(key)
        check_real(f"correlations {a}-{b}", rho, low=-1.0, high=1.0)
        corr[index[a], index[b]] = corr[index[b], index[a]] = float(spearman_to_pearson(rho))
    if not _is_psd(corr):
        culprits = []
        for a, b, _ in pairs:
            trial = corr.copy()
            trial[index[a], index[b]] = trial[index[b], index[a]] = 0.0
            if _is_psd(trial):
                culprits.append(f"{a}-{b}")
        culprits = culprits or [f"{a}-{b}" for a, b, _ in pairs]
        raise InvalidParameterError(
            "correlations",
            ", ".join(f"{a}-{b} {rho:g}" for a, b, rho in pairs),
            "a positive semi-definite set of rank correlations",
            "remove or weaken one of " + ", ".join(culprits),
        )
    return corr


def _is_psd(corr: NDArray[np.float64]) -> bool:
    return bool(np.linalg.eigvalsh(corr).min() >= -1e-10)


def _copula_factor(corr: NDArray[np.float64]) -> NDArray[np.float64]:
    """A matrix L with L Lᵀ = corr (eigen-decomposition, so singular matrices work)."""
    w, v = np.linalg.eigh(corr)
    return np.asarray(v * np.sqrt(np.clip(w, 0.0, None)))


# --------------------------------------------------------------------------- sampling


_TINY = 2.0**-53


def _uniform_chunks(
    n: int, d: int, method: str, rng: np.random.Generator, chunk: int
) -> Iterator[NDArray[np.float64]]:
    """Yield (c, d) arrays of uniforms on (0, 1), n rows in all, by ``method``.

    Chunks of plain Monte Carlo and Sobol' points continue one stream, so the
    rows are the same whatever the chunk size; a Latin hypercube is drawn
    whole (its strata span all n rows) and then cut.
    """
    if method == "mc":
        for start in range(0, n, chunk):
            yield np.clip(rng.random((min(chunk, n - start), d)), _TINY, 1.0 - _TINY)
        return
    import warnings

    from scipy.stats import qmc

    if method == "lhs":
        u = qmc.LatinHypercube(d, rng=rng).random(n)
        for start in range(0, n, chunk):
            yield np.clip(u[start : start + chunk], _TINY, 1.0 - _TINY)
        return
    engine = qmc.Sobol(d, scramble=True, rng=rng)
    for start in range(0, n, chunk):
        with warnings.catch_warnings():
            # A Sobol' sample of any n is valid; only powers of 2 keep its balance.
            warnings.filterwarnings("ignore", "The balance properties", UserWarning)
            u = engine.random(min(chunk, n - start))
        yield np.clip(u, _TINY, 1.0 - _TINY)


def _sample_chunks(
    distributions: Mapping[str, Distribution],
    n: int,
    *,
    seed: int | None,
    method: str,
    correlations: Sequence[tuple[str, str, float]],
    chunk: int,
) -> Iterator[dict[str, NDArray[Any]]]:
    """Yield the draws of :func:`sample` in chunks of at most ``chunk`` rows."""
    n = check_integer("n", n, low=1)
    check_choice("method", method, SAMPLING_METHODS)
    names = list(distributions)
    if not names:
        for start in range(0, n, chunk):
            yield {"": np.empty(min(chunk, n - start))}
        return
    factor = _copula_factor(correlation_matrix(names, correlations)) if correlations else None
    rng = np.random.default_rng(seed)
    for u in _uniform_chunks(n, len(names), method, rng, chunk):
        if factor is not None:
            from scipy.special import ndtr, ndtri

            u = np.clip(ndtr(ndtri(u) @ factor.T), _TINY, 1.0 - _TINY)
        yield {name: distributions[name].ppf(u[:, i]) for i, name in enumerate(names)}


def sample(
    distributions: Mapping[str, Distribution],
    n: int,
    *,
    seed: int | None = None,
    method: Method = "mc",
    correlations: Sequence[tuple[str, str, float]] = (),
) -> dict[str, NDArray[Any]]:
    """Draw ``n`` values of every input, reproducibly for a seed.

    Parameters
    ----------
    distributions : mapping of str to Distribution
        The uncertain inputs, in the order their uniforms are drawn.
    n : int
        Number of draws (>= 1). For ``"sobol"`` a power of 2 keeps the
        sequence balanced.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed, method,
        inputs (in the same order) and ``n`` give the same draws.
    method : {"mc", "lhs", "sobol"}, default "mc"
        Plain Monte Carlo, Latin hypercube or scrambled Sobol' points
        (:mod:`scipy.stats.qmc`).
    correlations : sequence of (str, str, float)
        Spearman rank correlations between inputs (a Gaussian copula).

    Returns
    -------
    dict of str to ndarray of shape (n,)
        Numbers as floats; a :class:`Discrete` of names gives strings.

    Notes
    -----
    Each input is x_i = F_i⁻¹(u_i). With correlations, z = L Φ⁻¹(u) with
    L Lᵀ = R, R_ij = 2 sin(π ρ_s,ij / 6), and u_i ← Φ(z_i): a Gaussian copula,
    which gives the requested rank correlations between continuous inputs
    whatever their marginals. (After the copula, Latin-hypercube and Sobol'
    points keep their marginal stratification only approximately.)

    Examples
    --------
    >>> ds = {"a": Uniform(0.0, 1.0), "b": Lognormal(0.0, 0.5)}
    >>> x = sample(ds, 4, seed=1, method="lhs")
    >>> sorted(np.floor(x["a"] * 4).astype(int).tolist())  # one draw in each quarter
    [0, 1, 2, 3]
    >>> y = sample(ds, 20_000, seed=2, correlations=[("a", "b", 0.7)])
    >>> from scipy.stats import spearmanr
    >>> round(float(spearmanr(y["a"], y["b"]).statistic), 2)
    0.7
    """
    n = check_integer("n", n, low=1)
    if not distributions:
        check_choice("method", method, SAMPLING_METHODS)
        return {}
    chunks = _sample_chunks(
        distributions, n, seed=seed, method=method, correlations=correlations, chunk=n
    )
    return next(chunks)


# --------------------------------------------------------------------------- quantiles


def quantile_label(q: float) -> str:
    """Return the key of a probability: 0.05 → ``"p5"``, 0.025 → ``"p2.5"``.

    Examples
    --------
    >>> [quantile_label(q) for q in (0.05, 0.5, 0.95, 0.025)]
    ['p5', 'p50', 'p95', 'p2.5']
    """
    return f"p{float(q) * 100:.10g}"


def _check_probabilities(q: Sequence[float] | None) -> tuple[float, ...]:
    if q is None:
        return DEFAULT_PROBABILITIES
    probs = np.atleast_1d(_check_probs(q))
    return tuple(float(p) for p in probs)


def _check_probs(q: Any) -> NDArray[np.float64]:
    from waferlab.errors import check_array

    return check_array("q", q, low=0.0, high=1.0)


def quantiles(
    draws: ArrayLike,
    q: Sequence[float] | None = None,
    *,
    cumulative: bool = False,
) -> dict[str, NDArray[np.float64]]:
    """Return quantiles over the draw axis (axis 0), keyed ``"p5"``, ``"p50"``, ...

    Parameters
    ----------
    draws : array_like of shape (n,) or (n, T)
        One row per draw; columns are periods.
    q : sequence of float, optional
        Probabilities in [0, 1]; default (0.05, 0.5, 0.95).
    cumulative : bool, default False
        Take quantiles of each draw's running total over the periods
        (axis 1). The p50 of a cumulative total is *not* the running sum of
        the monthly p50s: the median of a sum is not the sum of medians.

    Returns
    -------
    dict of str to ndarray
        Each of shape ``draws.shape[1:]`` (a float for 1-D draws).

    Examples
    --------
    >>> d = np.array([[1.0, 1.0], [2.0, 0.0], [3.0, 5.0]])
    >>> quantiles(d, [0.5])
    {'p50': array([2., 1.])}
    >>> quantiles(d, [0.5], cumulative=True)
    {'p50': array([2., 2.])}
    """
    probs = _check_probabilities(q)
    x = np.asarray(draws)
    if x.dtype.kind not in "biuf":
        raise InvalidParameterError("draws", x.dtype.str, "numbers (use shares() for names)")
    x = x.astype(float)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise InvalidParameterError("draws", x.shape, "an array of shape (n,) or (n, T), n >= 1")
    if cumulative:
        if x.ndim != 2:
            raise InvalidParameterError("cumulative", True, "False for draws without periods")
        x = np.cumsum(x, axis=1)
    with np.errstate(invalid="ignore"):  # an infinite cost (no unit finished) stays inf
        values = np.quantile(x, probs, axis=0)
    return {quantile_label(p): values[i] for i, p in enumerate(probs)}


# --------------------------------------------------------------------------- model outputs


def model_outputs(y: Any, n: int) -> dict[str, NDArray[Any]]:
    """Normalise a model's return value to output name → array with ``n`` rows.

    A bare array is named ``"output"``; scalars are repeated; numbers become
    floats and names (such as the binding constraint) are kept.

    Raises
    ------
    InvalidParameterError
        If an output does not have n rows (shape (n,) or (n, T)).

    Examples
    --------
    >>> model_outputs({"units": [1, 2], "binding": ["dies", "hbm"]}, 2)
    {'units': array([1., 2.]), 'binding': array(['dies', 'hbm'], dtype='<U4')}
    """
    outputs = dict(y) if isinstance(y, Mapping) else {"output": y}
    out = {}
    for name, value in outputs.items():
        a = np.asarray(value)
        if a.dtype.kind in "biuf":
            a = a.astype(float)
        if a.ndim == 0:
            a = np.full(n, a.item())
        if a.ndim not in (1, 2) or a.shape[0] != n:
            raise InvalidParameterError(
                f"model output {name!r}", a.shape, f"an array of shape ({n},) or ({n}, T)"
            )
        out[str(name)] = a
    return out


def select_output(
    outputs: Mapping[str, NDArray[Any]],
    output: str | None = None,
    reduce: Callable[[NDArray[Any]], Any] | None = None,
    *,
    numeric: bool = True,
) -> NDArray[Any]:
    """Pick one output and reduce it to one value per case, shape (m,).

    Parameters
    ----------
    outputs : mapping of str to ndarray
        From :func:`model_outputs`.
    output : str, optional
        Which output; may be omitted when there is only one.
    reduce : callable, optional
        Turns an (m, T) output into (m,), e.g. ``lambda y: y.sum(axis=1)``.
    numeric : bool, default True
        Require numbers (else names are accepted too).

    Examples
    --------
    >>> select_output({"units": np.ones((2, 3))}, reduce=lambda y: y.sum(axis=1))
    array([3., 3.])
    """
    if output is None:
        if len(outputs) != 1:
            raise InvalidParameterError("output", None, "one of " + ", ".join(outputs))
        output = next(iter(outputs))
    if output not in outputs:
        from waferlab.errors import UnknownNameError

        raise UnknownNameError("output", output, outputs)
    a = outputs[output]
    if numeric and not _is_numeric(a):
        raise InvalidParameterError("output", output, "an output holding numbers")
    m = a.shape[0]
    if reduce is not None:
        a = np.asarray(reduce(a))
    if a.shape != (m,):
        raise InvalidParameterError(
            "reduce",
            reduce,
            "a function turning the (m, T) output into shape (m,), e.g. lambda y: y.sum(axis=1)",
        )
    return a


def _is_numeric(a: NDArray[Any]) -> bool:
    return a.dtype.kind == "f"


def shares(draws: ArrayLike) -> dict[str, NDArray[np.float64]]:
    """Return the share of draws in each category, over the draw axis (axis 0).

    For a categorical output such as the binding constraint: the probability
    that each category holds, per period.

    Examples
    --------
    >>> shares(np.array([["dies", "hbm"], ["hbm", "hbm"]]))
    {'dies': array([0.5, 0. ]), 'hbm': array([0.5, 1. ])}
    """
    x = np.asarray(draws)
    return {str(c): np.mean(x == c, axis=0) for c in np.unique(x)}


# --------------------------------------------------------------------------- streamed summaries

#: Default number of bins of a streamed histogram.
DEFAULT_BINS = 8192


@dataclass(frozen=True, repr=False)
class Histogram:
    """Counts of draws in equal bins of asinh(x), per period: a streamed numeric summary.

    Bins are equal in t = asinh(x), which is x near 0 and ln 2x for large x,
    so one histogram resolves fractions and counts in the millions alike
    (about ``bin_width`` relative error for |x| >> 1, absolute for |x| << 1).

    Attributes
    ----------
    counts : ndarray of shape (T, B)
        Draws per bin; bin j of period t covers
        [sinh(low_t + j·w_t), sinh(low_t + (j + 1)·w_t)).
    low, bin_width : ndarray of shape (T,)
        Lower edge and width of the bins, in asinh(x).
    minimum, maximum, total : ndarray of shape (T,)
        Exact smallest and largest value and the sum (for the mean).
    n : int
        Draws counted.
    """

    counts: NDArray[np.int64]
    low: NDArray[np.float64]
    bin_width: NDArray[np.float64]
    minimum: NDArray[np.float64]
    maximum: NDArray[np.float64]
    total: NDArray[np.float64]
    n: int

    @property
    def mean(self) -> NDArray[np.float64]:
        """Exact mean per period."""
        return self.total / self.n

    def quantiles(self, q: Sequence[float]) -> NDArray[np.float64]:
        """Return the quantiles, shape (len(q), T), each within one bin of the exact one.

        The k-th smallest of the c draws in a bin is placed at the bin's
        fraction (k + 0.5)/c, and the result is kept inside [minimum, maximum];
        position p·(n − 1) is interpolated as :func:`numpy.quantile` does.
        """
        cum = np.cumsum(self.counts, axis=1)
        out = np.empty((len(q), self.counts.shape[0]))
        for k, p in enumerate(q):
            rank = float(p) * (self.n - 1)
            lower = self._at_rank(cum, math.floor(rank))
            upper = self._at_rank(cum, math.ceil(rank))
            out[k] = lower + (rank - math.floor(rank)) * (upper - lower)
        return out

    def _at_rank(self, cum: NDArray[np.int64], rank: int) -> NDArray[np.float64]:
        j = np.argmax(cum > rank, axis=1)
        count = np.take_along_axis(self.counts, j[:, None], axis=1)[:, 0]
        before = np.take_along_axis(cum, j[:, None], axis=1)[:, 0] - count
        frac = (rank - before + 0.5) / np.maximum(count, 1)
        x = np.sinh(self.low + self.bin_width * (j + frac))
        return np.clip(x, self.minimum, self.maximum)


class _HistogramBuilder:
    """Accumulates chunks of (c, T) draws into a :class:`Histogram`.

    The bins are set from the first chunk; a later value outside them doubles
    the bin width of that period (merging bin pairs) until it fits, so every
    draw is counted.
    """

    def __init__(self, bins: int) -> None:
        self.bins = bins
        self.n = 0
        self.counts: NDArray[np.int64] | None = None

    def add(self, x: NDArray[np.float64]) -> None:
        t = np.arcsinh(x)
        lo, hi = t.min(axis=0), t.max(axis=0)
        if self.counts is None:
            span = np.where(hi > lo, hi - lo, np.maximum(np.abs(lo), 1.0) * 1e-9)
            self.low = lo - 0.05 * span
            self.width = 1.1 * span / self.bins
            self.counts = np.zeros((x.shape[1], self.bins), dtype=np.int64)
            self.minimum, self.maximum = x.min(axis=0), x.max(axis=0)
            self.total = np.zeros(x.shape[1])
        for p in np.flatnonzero((lo < self.low) | (hi > self.low + self.bins * self.width)):
            self._widen(int(p), float(lo[p]), float(hi[p]))
        idx = np.clip(((t - self.low) / self.width).astype(np.int64), 0, self.bins - 1)
        flat = (idx + np.arange(x.shape[1]) * self.bins).ravel()
        self.counts += np.bincount(flat, minlength=self.counts.size).reshape(self.counts.shape)
        self.minimum = np.minimum(self.minimum, x.min(axis=0))
        self.maximum = np.maximum(self.maximum, x.max(axis=0))
        self.total += x.sum(axis=0)
        self.n += x.shape[0]

    def _widen(self, p: int, lo: float, hi: float) -> None:
        assert self.counts is not None
        half = self.bins // 2
        while lo < self.low[p] or hi > self.low[p] + self.bins * self.width[p]:
            merged = self.counts[p].reshape(half, 2).sum(axis=1)
            self.counts[p] = 0
            if lo < self.low[p]:
                self.low[p] -= self.bins * self.width[p]
                self.counts[p, half:] = merged
            else:
                self.counts[p, :half] = merged
            self.width[p] *= 2.0

    def freeze(self) -> Histogram:
        assert self.counts is not None
        return Histogram(
            self.counts, self.low, self.width, self.minimum, self.maximum, self.total, self.n
        )


@dataclass(frozen=True, repr=False)
class StreamedOutput:
    """What is kept of one output when the draws are not: histograms or category counts.

    Attributes
    ----------
    ndim : int
        1 for an output of shape (n,), 2 for (n, T).
    histogram, cumulative : Histogram or None
        Per period and of the running total over periods (numeric outputs;
        ``cumulative`` only with periods).
    categories : mapping of str to ndarray of shape (T,)
        Draws per category and period (outputs holding names).
    """

    ndim: int
    histogram: Histogram | None = None
    cumulative: Histogram | None = None
    categories: Mapping[str, NDArray[np.int64]] | None = None

    def quantiles(self, q: Sequence[float], *, cumulative: bool = False) -> NDArray[np.float64]:
        """Quantiles of shape (len(q), T), or (len(q),) for an output without periods."""
        if self.histogram is None:
            raise InvalidParameterError("draws", "names", "numbers (use shares() for names)")
        if cumulative and self.cumulative is None:
            raise InvalidParameterError("cumulative", True, "False for draws without periods")
        histogram = self.cumulative if cumulative else self.histogram
        assert histogram is not None
        values = histogram.quantiles(q)
        return values if self.ndim == 2 else values[:, 0]


class _OutputBuilder:
    def __init__(self, first: NDArray[Any], bins: int) -> None:
        self.ndim = first.ndim
        self.numeric = _is_numeric(first)
        self.histogram = _HistogramBuilder(bins) if self.numeric else None
        self.cumulative = _HistogramBuilder(bins) if self.numeric and self.ndim == 2 else None
        self.categories: dict[str, NDArray[np.int64]] = {}

    def add(self, name: str, a: NDArray[Any]) -> None:
        if a.ndim != self.ndim or _is_numeric(a) != self.numeric:
            raise InvalidParameterError(
                f"model output {name!r}", a.shape, "the same shape and kind in every chunk"
            )
        x = a if a.ndim == 2 else a[:, None]
        if self.histogram is not None:
            self.histogram.add(x)
            if self.cumulative is not None:
                self.cumulative.add(np.cumsum(x, axis=1))
            return
        for c in np.unique(x):
            counts = np.sum(x == c, axis=0)
            self.categories[str(c)] = self.categories.get(str(c), 0) + counts

    def freeze(self) -> StreamedOutput:
        return StreamedOutput(
            ndim=self.ndim,
            histogram=None if self.histogram is None else self.histogram.freeze(),
            cumulative=None if self.cumulative is None else self.cumulative.freeze(),
            categories=None if self.numeric else dict(sorted(self.categories.items())),
        )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, repr=False)
class UncertaintyResult:
    """The outputs of a model run on sampled inputs: every draw, or streamed summaries.

    Attributes
    ----------
    outputs : mapping of str to ndarray
        Each output's draws, shape (n,) or (n, T): numbers, or names for a
        categorical output such as the binding constraint (summarised by
        :meth:`shares`, not quantiles). Empty when the draws were streamed.
    inputs : mapping of str to ndarray
        The sampled inputs, shape (n,) each (empty when streamed).
    n_draws : int
        Number of draws n.
    method : str
        Sampling method ("mc", "lhs" or "sobol").
    seed : int or None
        Seed of the draws.
    probabilities : tuple of float
        Default probabilities of :meth:`quantiles` and :meth:`to_dict`.
    streamed : mapping of str to StreamedOutput
        Outputs kept as histograms (``keep_draws=False``); their quantiles are
        within one histogram bin of the exact ones.
    """

    outputs: Mapping[str, NDArray[Any]]
    inputs: Mapping[str, NDArray[Any]]
    n_draws: int
    method: str
    seed: int | None
    probabilities: tuple[float, ...] = DEFAULT_PROBABILITIES
    streamed: Mapping[str, StreamedOutput] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        """Every output's name."""
        return (*self.outputs, *self.streamed)

    def _name(self, output: str | None) -> str:
        names = self.names
        if output is None:
            if len(names) != 1:
                raise InvalidParameterError("output", None, "one of " + ", ".join(names))
            return names[0]
        if output not in names:
            from waferlab.errors import UnknownNameError

            raise UnknownNameError("output", output, names)
        return output

    def is_numeric(self, output: str) -> bool:
        """Whether an output holds numbers (else names)."""
        name = self._name(output)
        if name in self.streamed:
            return self.streamed[name].histogram is not None
        return _is_numeric(self.outputs[name])

    def has_periods(self, output: str | None = None) -> bool:
        """Whether an output has a period axis (shape (n, T))."""
        name = self._name(output)
        if name in self.streamed:
            return self.streamed[name].ndim == 2
        return self.outputs[name].ndim == 2

    def quantiles(
        self,
        output: str | None = None,
        q: Sequence[float] | None = None,
        *,
        cumulative: bool = False,
    ) -> dict[str, NDArray[np.float64]]:
        """Return quantiles of one output (the only one when ``output`` is None).

        Keys ``"p5"``, ``"p50"``, ... (see :func:`quantiles`); per period, or of
        the running total with ``cumulative``.
        """
        name = self._name(output)
        probs = _check_probabilities(q or self.probabilities)
        if name in self.streamed:
            values = self.streamed[name].quantiles(probs, cumulative=cumulative)
            return {quantile_label(p): values[i] for i, p in enumerate(probs)}
        return quantiles(self.outputs[name], probs, cumulative=cumulative)

    def shares(self, output: str) -> dict[str, NDArray[np.float64]]:
        """Return the share of draws in each category of a categorical output, per period."""
        name = self._name(output)
        if name in self.streamed:
            stream = self.streamed[name]
            if stream.categories is None:
                raise InvalidParameterError("output", name, "an output holding names")
            return {
                k: (v / self.n_draws if stream.ndim == 2 else v[0] / self.n_draws)
                for k, v in stream.categories.items()
            }
        return shares(self.outputs[name])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary: quantiles per period and cumulative, and shares."""
        summary: dict[str, Any] = {}
        categories: dict[str, Any] = {}
        for name in self.names:
            if not self.is_numeric(name):
                categories[name] = {k: v.tolist() for k, v in self.shares(name).items()}
                continue
            entry: dict[str, Any] = {k: v.tolist() for k, v in self.quantiles(name).items()}
            if self.has_periods(name):
                entry["cumulative"] = {
                    k: v.tolist() for k, v in self.quantiles(name, cumulative=True).items()
                }
            summary[name] = entry
        return {
            "n_draws": self.n_draws,
            "method": self.method,
            "seed": self.seed,
            "streamed": bool(self.streamed),
            "quantiles": summary,
            "shares": categories,
        }

    def to_frame(self) -> pd.DataFrame:
        """Return quantiles as a long pandas DataFrame: output, period, p5, p50, p95."""
        import pandas as pd

        rows = []
        for name in self.names:
            if not self.is_numeric(name):
                continue
            qs = self.quantiles(name)
            first = np.asarray(next(iter(qs.values())))
            for t in range(first.size) if self.has_periods(name) else [None]:
                row: dict[str, Any] = {"output": name, "period": t}
                for k, v in qs.items():
                    row[k] = float(v if t is None else v[t])
                rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        kept = "streamed" if self.streamed else "draws"
        text = (
            f"UncertaintyResult(n_draws={self.n_draws}, method={self.method!r}, "
            f"seed={self.seed}, {kept}={list(self.names)}, inputs={list(self.inputs)})"
        )
        return text if len(text) <= 300 else text[:296] + "...)"

    def _repr_html_(self) -> str:
        from html import escape

        rows = []
        for name in self.names:
            if not self.is_numeric(name):
                continue
            qs = self.quantiles(name, cumulative=self.has_periods(name))
            cells = "".join(f"<td>{float(np.ravel(v)[-1]):.4g}</td>" for v in qs.values())
            rows.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
        head = "".join(f"<th>{k}</th>" for k in map(quantile_label, self.probabilities))
        return (
            f"<p>{self.n_draws} draws ({escape(self.method)}, seed {self.seed}); "
            "totals over the periods</p>"
            f"<table><tr><th>output</th>{head}</tr>{''.join(rows)}</table>"
        )


def run_uncertainty(
    f: Model,
    distributions: Mapping[str, Distribution],
    n: int,
    *,
    seed: int | None = None,
    method: Method = "mc",
    correlations: Sequence[tuple[str, str, float]] = (),
    fixed: Mapping[str, Any] | None = None,
    probabilities: Sequence[float] | None = None,
    chunk_draws: int | None = None,
    keep_draws: bool = True,
    bins: int = DEFAULT_BINS,
) -> UncertaintyResult:
    """Draw the inputs, evaluate the model on all draws, and hold the outputs.

    Parameters
    ----------
    f : callable
        ``f(inputs) -> array or mapping of arrays``, vectorised over draws:
        each input is an array of shape (c,) (or a fixed value), each output
        of shape (c,) or (c, T).
    distributions, n, seed, method, correlations
        As in :func:`sample`.
    fixed : mapping, optional
        Inputs passed to ``f`` unchanged (scalars, series, names).
    probabilities : sequence of float, optional
        Default quantiles of the result (p5, p50, p95).
    chunk_draws : int, optional
        Call ``f`` on at most this many draws at a time (default: all at once;
        100,000 when ``keep_draws`` is False). The draws are the same whatever
        the chunk size (for "lhs" the hypercube spans all n draws).
    keep_draws : bool, default True
        Keep every draw of every output. With False, each output is streamed
        into histograms (``bins`` equal bins in asinh(x) per period, and for
        its running total) or category counts, so memory does not grow with
        n; quantiles are then within one bin of the exact ones.
    bins : int, default 8192
        Bins per period of a streamed histogram (an even number >= 16).

    Returns
    -------
    UncertaintyResult

    Examples
    --------
    A product of independent lognormals is lognormal with σ² = Σσ_i²:

    >>> ds = {"a": Lognormal.from_median(100.0, 0.3), "b": Lognormal.from_median(0.5, 0.4)}
    >>> r = run_uncertainty(lambda x: x["a"] * x["b"] * x["k"], ds, 2**16, seed=0,
    ...                     method="sobol", fixed={"k": 2.0})
    >>> q = r.quantiles()
    >>> round(float(q["p50"])), round(float(np.log(q["p95"] / q["p50"]) / Z_95), 2)
    (100, 0.5)

    The same, streamed in chunks of 10,000 draws:

    >>> s = run_uncertainty(lambda x: x["a"] * x["b"] * x["k"], ds, 2**16, seed=0,
    ...                     method="sobol", fixed={"k": 2.0}, keep_draws=False,
    ...                     chunk_draws=10_000)
    >>> bool(abs(s.quantiles()["p95"] / q["p95"] - 1) < 1e-3)
    True
    """
    fixed = dict(fixed or {})
    overlap = set(fixed) & set(distributions)
    if overlap:
        raise InvalidParameterError("fixed", sorted(overlap), "inputs that have no distribution")
    n = check_integer("n", n, low=1)
    if chunk_draws is None:
        chunk = n if keep_draws else min(n, 100_000)
    else:
        chunk = check_integer("chunk_draws", chunk_draws, low=1)
    bins = check_integer("bins", bins, low=16)
    if bins % 2:
        raise InvalidParameterError("bins", bins, "an even number >= 16")
    probs = _check_probabilities(probabilities)
    chunks = _sample_chunks(
        distributions, n, seed=seed, method=method, correlations=correlations, chunk=chunk
    )
    kept: list[dict[str, NDArray[Any]]] = []
    drawn: list[dict[str, NDArray[Any]]] = []
    builders: dict[str, _OutputBuilder] = {}
    for draws in chunks:
        c = len(next(iter(draws.values())))
        inputs = {k: v for k, v in draws.items() if k in distributions}
        outs = model_outputs(f({**fixed, **inputs}), c)
        if keep_draws:
            kept.append(outs)
            drawn.append(inputs)
            continue
        if builders and set(outs) != set(builders):
            raise InvalidParameterError("model outputs", sorted(outs), "the same in every chunk")
        for name, a in outs.items():
            builders.setdefault(name, _OutputBuilder(a, bins)).add(name, a)
    if not keep_draws:
        return UncertaintyResult(
            outputs={}, inputs={}, n_draws=n, method=method, seed=seed, probabilities=probs,
            streamed={name: b.freeze() for name, b in builders.items()},
        )  # fmt: skip
    outputs = kept[0] if len(kept) == 1 else _concatenate(kept)
    sampled = drawn[0] if len(drawn) == 1 else _concatenate(drawn)
    return UncertaintyResult(
        outputs=outputs,
        inputs=sampled,
        n_draws=n,
        method=method,
        seed=seed,
        probabilities=probs,
    )


def _concatenate(parts: Sequence[Mapping[str, NDArray[Any]]]) -> dict[str, NDArray[Any]]:
    names = set(parts[0])
    if any(set(p) != names for p in parts):
        raise InvalidParameterError("model outputs", sorted(names), "the same in every chunk")
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


# --------------------------------------------------------------------------- sensitivity


@dataclass(frozen=True, repr=False)
class TornadoResult:
    """One-at-a-time swings: each input at its low and high quantile, others at medians.

    Inputs are sorted by swing |high − low|, largest first.

    Attributes
    ----------
    names : tuple of str
    input_low, input_high : tuple
        Each input's low and high value (numbers or names).
    output_low, output_high : ndarray of shape (d,)
        The output with that input at its low (high) value.
    baseline : float
        The output with every input at its median.
    low_q, high_q : float
        The probabilities of the low and high values (0.05, 0.95).
    """

    names: tuple[str, ...]
    input_low: tuple[Any, ...]
    input_high: tuple[Any, ...]
    output_low: NDArray[np.float64]
    output_high: NDArray[np.float64]
    baseline: float
    low_q: float = 0.05
    high_q: float = 0.95

    @property
    def swing(self) -> NDArray[np.float64]:
        """|output_high − output_low| per input."""
        return np.abs(self.output_high - self.output_low)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"baseline", "inputs": {name: {"low", "high", "input_low", "input_high"}}}``."""
        from waferlab.output import to_jsonable

        return {
            "baseline": self.baseline,
            "low_q": self.low_q,
            "high_q": self.high_q,
            "inputs": {
                name: {
                    "low": float(self.output_low[i]),
                    "high": float(self.output_high[i]),
                    "input_low": to_jsonable(self.input_low[i]),
                    "input_high": to_jsonable(self.input_high[i]),
                }
                for i, name in enumerate(self.names)
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per input: name, input_low, input_high, low, high, swing."""
        import pandas as pd

        return pd.DataFrame(
            {
                "input": self.names,
                "input_low": self.input_low,
                "input_high": self.input_high,
                "low": self.output_low,
                "high": self.output_high,
                "swing": self.swing,
            }
        )

    def __repr__(self) -> str:
        top = ", ".join(f"{n}: {s:.4g}" for n, s in zip(self.names[:4], self.swing, strict=False))
        more = ", ..." if len(self.names) > 4 else ""
        return f"TornadoResult(baseline={self.baseline:.6g}, swing={{{top}{more}}})"


def tornado(
    f: Model,
    distributions: Mapping[str, Distribution],
    *,
    fixed: Mapping[str, Any] | None = None,
    output: str | None = None,
    reduce: Callable[[NDArray[np.float64]], Any] | None = None,
    low_q: float = 0.05,
    high_q: float = 0.95,
) -> TornadoResult:
    """Swing each input from its p5 to its p95 with the others at their medians.

    The 2d + 1 cases (the baseline and two per input) go through ``f`` in one
    vectorised call.

    Parameters
    ----------
    f : callable
        The model (see :func:`run_uncertainty`).
    distributions : mapping of str to Distribution
    fixed : mapping, optional
        Inputs passed unchanged.
    output : str, optional
        Which output, when ``f`` returns a mapping.
    reduce : callable, optional
        Turns an (n, T) output into (n,), e.g. ``lambda y: y.sum(axis=1)``
        for a horizon total; required when the output has periods.
    low_q, high_q : float
        Probabilities of the low and high values (default 0.05, 0.95).

    Returns
    -------
    TornadoResult

    Examples
    --------
    >>> ds = {"wafers": Uniform(20_000.0, 50_000.0), "die_yield": Uniform(0.2, 0.4)}
    >>> t = tornado(lambda x: x["wafers"] * x["die_yield"] * 60.0, ds)
    >>> t.names, t.baseline
    (('wafers', 'die_yield'), 630000.0)
    >>> [round(v) for v in t.output_low], [round(v) for v in t.output_high]
    ([387000, 441000], [873000, 819000])
    """
    lo_q = check_real("low_q", low_q, low=0.0, high=1.0)
    hi_q = check_real("high_q", high_q, low=lo_q, high=1.0, low_open=True)
    names = list(distributions)
    d = len(names)
    m = 2 * d + 1
    columns: dict[str, NDArray[Any]] = {}
    lows, highs = [], []
    for i, name in enumerate(names):
        dist = distributions[name]
        med, lo, hi = dist.ppf(0.5), dist.ppf(lo_q), dist.ppf(hi_q)
        lows.append(lo.item())
        highs.append(hi.item())
        col = [med.item()] * m
        col[1 + 2 * i] = lo.item()
        col[2 + 2 * i] = hi.item()
        columns[name] = np.asarray(col)  # built whole, so no name is cut to the median's length
    y = select_output(model_outputs(f({**dict(fixed or {}), **columns}), m), output, reduce)
    out_low, out_high = y[1::2], y[2::2]
    order = np.argsort(-np.abs(out_high - out_low), kind="stable")
    return TornadoResult(
        names=tuple(names[i] for i in order),
        input_low=tuple(lows[i] for i in order),
        input_high=tuple(highs[i] for i in order),
        output_low=out_low[order],
        output_high=out_high[order],
        baseline=float(y[0]),
        low_q=lo_q,
        high_q=hi_q,
    )


@dataclass(frozen=True, repr=False)
class SobolResult:
    """Sobol' first-order and total indices with bootstrap confidence intervals.

    Attributes
    ----------
    names : tuple of str
    first_order, total_order : ndarray of shape (d,)
    first_order_interval, total_order_interval : ndarray of shape (d, 2)
        Low and high ends of the percentile bootstrap interval.
    confidence_level : float
    n : int
        Base sample size; f was evaluated n (d + 2) times.
    """

    names: tuple[str, ...]
    first_order: NDArray[np.float64]
    total_order: NDArray[np.float64]
    first_order_interval: NDArray[np.float64]
    total_order_interval: NDArray[np.float64]
    confidence_level: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """Return ``{name: {"first_order", "total", "first_order_interval", "total_interval"}}``."""
        return {
            "n": self.n,
            "confidence_level": self.confidence_level,
            "inputs": {
                name: {
                    "first_order": float(self.first_order[i]),
                    "total": float(self.total_order[i]),
                    "first_order_interval": self.first_order_interval[i].tolist(),
                    "total_interval": self.total_order_interval[i].tolist(),
                }
                for i, name in enumerate(self.names)
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per input with both indices and their intervals."""
        import pandas as pd

        return pd.DataFrame(
            {
                "input": self.names,
                "first_order": self.first_order,
                "first_order_low": self.first_order_interval[:, 0],
                "first_order_high": self.first_order_interval[:, 1],
                "total": self.total_order,
                "total_low": self.total_order_interval[:, 0],
                "total_high": self.total_order_interval[:, 1],
            }
        )

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}: {s:.3f}/{t:.3f}"
            for n, s, t in zip(self.names[:5], self.first_order, self.total_order, strict=False)
        )
        more = ", ..." if len(self.names) > 5 else ""
        return f"SobolResult(n={self.n}, first/total={{{parts}{more}}})"


def sobol_sensitivity(
    f: Model,
    distributions: Mapping[str, Distribution],
    *,
    n: int = 2**12,
    seed: int | None = None,
    fixed: Mapping[str, Any] | None = None,
    output: str | None = None,
    reduce: Callable[[NDArray[np.float64]], Any] | None = None,
    confidence_level: float = 0.95,
    n_resamples: int = 200,
) -> SobolResult:
    """Estimate Sobol' first-order and total indices of every input.

    The points are those of :func:`scipy.stats.sobol_indices` (a scrambled
    Sobol' sequence split into matrices A and B, and the d matrices A_B^(i));
    the model is called once on all n (d + 2) rows, and the indices come from
    :func:`scipy.stats.sobol_indices` (Saltelli 2010 first-order, Jansen 1999
    total estimators). Confidence intervals are a percentile bootstrap over
    the n rows, resampled jointly in A, B and every A_B^(i).

    Parameters
    ----------
    f : callable
        The model (see :func:`run_uncertainty`).
    distributions : mapping of str to Distribution
        Independent inputs (the indices assume independence).
    n : int, default 4096
        Base sample size, a power of 2 (>= 16).
    seed : int, optional
        Seed of the scrambling and the bootstrap.
    fixed, output, reduce
        As in :func:`tornado`.
    confidence_level : float, default 0.95
    n_resamples : int, default 200
        Bootstrap resamples (0 gives no intervals: NaN).

    Returns
    -------
    SobolResult

    Notes
    -----
    S_i = V[E(Y | X_i)] / V[Y] and S_Ti = E[V(Y | X_~i)] / V[Y]. Indices are
    Monte Carlo estimates: small ones can come out slightly negative.

    References
    ----------
    Saltelli, A. et al., "Variance based sensitivity analysis of model output.
    Design and estimator for the total sensitivity index", Computer Physics
    Communications 181(2), 259-270, 2010.

    Examples
    --------
    >>> ds = {"a": Uniform(0.0, 1.0), "b": Uniform(0.0, 2.0)}
    >>> s = sobol_sensitivity(lambda x: x["a"] + x["b"], ds, n=2**12, seed=1)
    >>> s.first_order.round(2), s.total_order.round(2)  # 1/5 and 4/5
    (array([0.2, 0.8]), array([0.2, 0.8]))
    """
    n = check_integer("n", n, low=16)
    if n & (n - 1):
        raise InvalidParameterError("n", n, "a power of 2 (e.g. 4096)")
    level = check_real(
        "confidence_level", confidence_level, low=0.0, high=1.0, low_open=True, high_open=True
    )
    n_resamples = check_integer("n_resamples", n_resamples, low=0)
    names = list(distributions)
    if not names:
        raise InvalidParameterError("distributions", {}, "at least one uncertain input")
    from scipy.stats import qmc, sobol_indices

    d = len(names)
    rng = np.random.default_rng(seed)
    ab = qmc.Sobol(2 * d, scramble=True, rng=rng).random(n)
    ab = np.clip(ab, _TINY, 1.0 - _TINY)
    a_u, b_u = ab[:, :d], ab[:, d:]
    # Row blocks: A, B, then A with column i from B, for each i.
    blocks = [a_u, b_u]
    for i in range(d):
        mixed = a_u.copy()
        mixed[:, i] = b_u[:, i]
        blocks.append(mixed)
    u = np.concatenate(blocks)
    inputs = {name: distributions[name].ppf(u[:, i]) for i, name in enumerate(names)}
    total_rows = n * (d + 2)
    y = select_output(model_outputs(f({**dict(fixed or {}), **inputs}), total_rows), output, reduce)
    if not np.all(np.isfinite(y)):
        raise InvalidParameterError("model output", "non-finite values", "finite for every draw")
    f_a, f_b = y[:n], y[n : 2 * n]
    f_ab = y[2 * n :].reshape(d, n)

    def indices(idx: NDArray[np.intp] | slice) -> tuple[NDArray[Any], NDArray[Any]]:
        # The output is passed twice (s = 2): scipy squeezes its (s, d) result,
        # and with one input and one output that would leave a bare scalar.
        fa, fb, fab = f_a[idx], f_b[idx], f_ab[:, idx]
        res = sobol_indices(
            func={
                "f_A": np.stack([fa, fa]),
                "f_B": np.stack([fb, fb]),
                "f_AB": np.stack([fab, fab], axis=1),
            },
            n=n,
        )
        return (
            np.asarray(res.first_order).reshape(2, d)[0],
            np.asarray(res.total_order).reshape(2, d)[0],
        )

    first, total = indices(slice(None))
    if n_resamples:
        boot = [indices(rng.integers(0, n, n)) for _ in range(n_resamples)]
        s1 = np.array([b[0] for b in boot])
        st = np.array([b[1] for b in boot])
        tail = (1.0 - level) / 2.0
        s1_ci = np.quantile(s1, [tail, 1.0 - tail], axis=0).T
        st_ci = np.quantile(st, [tail, 1.0 - tail], axis=0).T
    else:
        s1_ci = st_ci = np.full((d, 2), np.nan)
    return SobolResult(
        names=tuple(names),
        first_order=first,
        total_order=total,
        first_order_interval=s1_ci,
        total_order_interval=st_ci,
        confidence_level=level,
        n=n,
    )
