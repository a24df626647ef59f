"""Partial-good bins: fully good, degraded (harvested) and dead dies.

A large die is often built from identical blocks (AI cores, CPU cores, memory
banks) some of which can be fused off. A die whose defects all fall in such
redundant blocks still sells, as a degraded part with fewer cores. This module
splits the dies into three bins:

* **fully good** — no killer defect anywhere (the ordinary die yield);
* **degraded** — every killer defect lies in the harvestable area and the die
  is still repairable (at most ``max_defects`` defects, or at most
  ``max_bad_blocks`` distinct blocks hit);
* **dead** — everything else (a defect outside the harvestable area, too many
  defects, or a gross, non-random loss).

The defect model is the one behind the yield formulas in
:mod:`waferlab.yield_models`: given its mean ``Λ`` the number of killer defects
on a die is Poisson, and each defect independently falls in the harvestable
area with probability ``h`` (the harvestable fraction of the critical area).
For the Poisson model ``Λ = λ = D0 · A · critical fraction``; for the clustered
models ``Λ`` is gamma distributed across dies with shape ``α`` and mean ``λ``
(the mixing that gives the negative binomial yield; Seeds is ``α = 1``,
Bose–Einstein with ``n`` layers is ``α = n``).

All functions broadcast over die area, defect density, harvestable fraction,
gross yield and critical-area fraction (scalars in, floats out; arrays in,
arrays out). The clustering shape ``alpha`` and the integer repair rules are
scalars: they select the formula, not a point on it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab._display import frame, html_table, short_repr
from waferlab.errors import (
    CalibrationError,
    InvalidParameterError,
    Registry,
    UnknownNameError,
    check_array,
    check_integer,
    check_real,
)
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, defect_load

__all__ = [
    "HARVEST_MODELS",
    "MAX_HARVEST_BLOCKS",
    "HarvestBins",
    "HarvestableFractionFit",
    "RepairRule",
    "harvest_bins",
    "harvest_bins_for_load",
    "harvestable_fraction_for",
    "repair_rule",
]

FloatOrArray = float | NDArray[np.float64]

#: Models with a harvest formula, and the parameters each accepts.
HARVEST_MODELS: Mapping[str, tuple[str, ...]] = Registry(
    "model",
    {
        "poisson": (),
        "negative_binomial": ("alpha",),
        "seeds": (),
        "bose_einstein": ("n_layers",),
    },
)

#: Largest ``n_blocks`` the block repair rule accepts.
#:
#: Real dies have tens to a few thousand identical, fusible blocks: 25 AI cores
#: on the Ascend 910B, 144 streaming multiprocessors on a full GH100, 96-192
#: cores on a server CPU, a few thousand SRAM banks with spare rows on a large
#: cache. 4096 covers all of them with room to spare. A larger count adds no
#: realism: as n grows each defect lands in a block of its own, so the block
#: rule tends to the defect-count rule (``max_defects``), which already
#: answers that question. The bound keeps typing mistakes such as 10^9 from
#: being taken literally and every call of :func:`harvest_bins`,
#: :func:`harvestable_fraction_for` and :func:`waferlab.simulate.simulate_wafers`
#: within milliseconds and megabytes.
MAX_HARVEST_BLOCKS = 4096

#: Mean defect count per die beyond which the bins are computed at this value: every
#: bin is then at its limit (for α >= 1e-9 the ratio λ/α stays finite, and the
#: shares hλ, (1 - h)λ never meet 0 · inf). An area times a density can overflow.
MAX_DEFECT_LOAD = 1e290

#: Smallest clustering parameter α the bins accept: below it nearly every defect
#: would fall on one die in 10⁹, which describes no wafer (and λ/α overflows).
MIN_ALPHA = 1e-9

#: Beyond this α the negative binomial is computed as its Poisson limit: the
#: log-yields differ by about λ²/(2α), below 1e-10 for every λ up to 14 (a yield
#: of 1e-6), while the incomplete beta functions lose accuracy past it.
POISSON_LIMIT_ALPHA = 1e12

# Trapezoidal grid for the block rule under gamma mixing: nodes per width of the
# narrower of the two densities, the tail mass left out on each side, and a cap
# (reached only for alpha beyond about 10^4, where the mixing is nearly Poisson).
_STEPS_PER_WIDTH = 8.0
_GRID_TAIL = 1e-17
_MAX_GRID_NODES = 20_000
# Largest number of (element, node) pairs evaluated at once by the quadrature.
_QUADRATURE_CELLS = 1 << 20


@dataclass(frozen=True)
class HarvestBins:
    """Fractions of dies that are fully good, degraded (sellable) and dead.

    Attributes
    ----------
    fully_good : float or ndarray
        Dies without a killer defect (equals the model's die yield).
    degraded : float or ndarray
        Dies whose defects are all in the harvestable area and repairable.
    dead : float or ndarray
        All other dies, including gross (non-random) losses.
    model : str
        Yield model name.
    parameters : dict
        Every input that fixes the bins (density, fraction, rule, model parameters).

    Examples
    --------
    >>> bins = harvest_bins("poisson", 665.61, 0.2418, harvestable_fraction=0.5)
    >>> round(bins.good_or_degraded, 3), bins.to_dict()["max_defects"]
    (0.361, 1)
    """

    fully_good: FloatOrArray
    degraded: FloatOrArray
    dead: FloatOrArray
    model: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def good_or_degraded(self) -> FloatOrArray:
        """Fraction of dies that sell in either bin."""
        return self.fully_good + self.degraded

    def __repr__(self) -> str:
        def span(x: FloatOrArray) -> str:
            a = np.asarray(x, dtype=np.float64)
            if a.ndim == 0:
                return f"{float(a):.4g}"
            return f"{float(a.min()):.4g}..{float(a.max()):.4g}" if a.size else "[]"

        shape = np.shape(self.fully_good)
        size = f", {int(np.prod(shape)):,} cases" if shape else ""
        return short_repr(
            "HarvestBins",
            f"{self.model}{size}: fully_good {span(self.fully_good)}, "
            f"degraded {span(self.degraded)}, dead {span(self.dead)}",
        )

    def _repr_html_(self) -> str:
        """The bins and their inputs as a table (Jupyter); arrays as their range."""
        rows = [
            (key, value if np.ndim(value) == 0 else f"array of {np.size(value):,}")
            for key, value in self.to_dict().items()
        ]
        return html_table("HarvestBins", rows)

    def to_frame(self) -> Any:
        """Return one row per case (inputs broadcast, then the bins) as a DataFrame.

        Needs pandas (``pip install 'waferlab[pandas]'``).
        """
        data = {k: v for k, v in self.to_dict().items() if v is not None}
        arrays = np.broadcast_arrays(*(np.asarray(v) for v in data.values()))
        return frame({k: a.ravel() for k, a in zip(data, arrays, strict=True)})

    def to_dict(self) -> dict[str, Any]:
        """Return the bins and their inputs as plain JSON-able data."""
        return {
            "model": self.model,
            **dict(self.parameters),
            "fully_good": self.fully_good,
            "degraded": self.degraded,
            "dead": self.dead,
            "good_or_degraded": self.good_or_degraded,
        }


@dataclass(frozen=True)
class HarvestableFractionFit:
    """The harvestable fraction that reproduces a pair of observed yields.

    Attributes
    ----------
    harvestable_fraction : float
        Fraction ``h`` of the critical area in redundant blocks.
    defect_density_per_cm2 : float
        D0 implied by the fully-good yield under ``model``.
    fully_good_yield, good_or_degraded_yield : float
        The two observed figures.
    max_good_or_degraded_yield : float
        Largest good + degraded yield any ``h`` in [0, 1] gives (at ``h = 1``).
    bins : HarvestBins
        The bins at the fitted ``h``.

    Examples
    --------
    >>> fit = harvestable_fraction_for("poisson", 665.61, fully_good_yield=0.2,
    ...                                good_or_degraded_yield=0.4)
    >>> round(fit.max_good_or_degraded_yield, 3), round(fit.bins.good_or_degraded, 3)
    (0.522, 0.4)
    """

    harvestable_fraction: float
    defect_density_per_cm2: float
    fully_good_yield: float
    good_or_degraded_yield: float
    max_good_or_degraded_yield: float
    bins: HarvestBins

    def to_dict(self) -> dict[str, Any]:
        """Return the fit as plain JSON-able data."""
        return {
            "harvestable_fraction": self.harvestable_fraction,
            "defect_density_per_cm2": self.defect_density_per_cm2,
            "fully_good_yield": self.fully_good_yield,
            "good_or_degraded_yield": self.good_or_degraded_yield,
            "max_good_or_degraded_yield": self.max_good_or_degraded_yield,
            "bins": self.bins.to_dict(),
        }


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class RepairRule:
    """Which dies with defects only in the harvestable area still sell, degraded.

    Build one with :func:`repair_rule`, which validates the combination and
    fills in the defaults. Exactly one of the two rules is set: the
    defect-count rule (``max_defects``) or the block rule (``n_blocks`` and
    ``max_bad_blocks``); the fields of the other are ``None``.

    Attributes
    ----------
    max_defects : int or None
        Most defects a degraded die may have (defect-count rule).
    n_blocks : int or None
        Equal redundant blocks the harvestable area is made of (block rule).
    max_bad_blocks : int or None
        Most blocks that may hold a defect and be fused off (block rule).

    Examples
    --------
    >>> repair_rule(n_blocks=25, max_bad_blocks=2).to_dict()
    {'max_defects': None, 'n_blocks': 25, 'max_bad_blocks': 2}
    """

    max_defects: int | None
    n_blocks: int | None
    max_bad_blocks: int | None

    def to_dict(self) -> dict[str, int | None]:
        """Return the three fields as plain JSON-able data."""
        return {
            "max_defects": self.max_defects,
            "n_blocks": self.n_blocks,
            "max_bad_blocks": self.max_bad_blocks,
        }


def repair_rule(
    max_defects: int | None = None,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
) -> RepairRule:
    """Validate a repair rule and fill in its defaults.

    Parameters
    ----------
    max_defects : int, optional
        Defect-count rule: at most this many defects, all in the harvestable
        area (>= 0; default 1 when ``n_blocks`` is not given). Not allowed
        together with ``n_blocks``.
    n_blocks : int, optional
        Block rule: the harvestable area is this many equal blocks, in [1,
        :data:`MAX_HARVEST_BLOCKS`].
    max_bad_blocks : int, optional
        Blocks that may be fused off, in [0, n_blocks] (default 1); only with
        ``n_blocks``.

    Returns
    -------
    RepairRule
        The rule, with the fields of the unused rule set to ``None``.

    Raises
    ------
    InvalidParameterError
        If a value is out of range or the arguments mix the two rules.

    Examples
    --------
    >>> repair_rule()
    RepairRule(max_defects=1, n_blocks=None, max_bad_blocks=None)
    >>> repair_rule(n_blocks=25)
    RepairRule(max_defects=None, n_blocks=25, max_bad_blocks=1)
    """
    if n_blocks is None:
        if max_bad_blocks is not None:
            raise InvalidParameterError(
                "max_bad_blocks",
                max_bad_blocks,
                "left out unless n_blocks is given",
                "a limit on bad blocks needs the number of blocks",
            )
        m = 1 if max_defects is None else check_integer("max_defects", max_defects, low=0)
        return RepairRule(m, None, None)
    if max_defects is not None:
        raise InvalidParameterError(
            "max_defects",
            max_defects,
            "left out when n_blocks is given",
            "the repair rule is either a defect count or a block count",
        )
    n = check_integer("n_blocks", n_blocks, low=1, high=MAX_HARVEST_BLOCKS)
    b = 1 if max_bad_blocks is None else check_integer("max_bad_blocks", max_bad_blocks, low=0)
    if b > n:
        raise InvalidParameterError("max_bad_blocks", max_bad_blocks, f"an integer in [0, {n}]")
    return RepairRule(None, n, b)


def _mixing_shape(
    model: str,
    parameters: Mapping[str, Any],
    extras: tuple[str, ...] = ("gross_yield", "critical_area_fraction"),
) -> float | None:
    """Return the gamma shape of the model's mixing (``None`` for Poisson).

    ``extras`` are the keywords the caller accepts besides the model's own
    parameters (already taken out of ``parameters``); they are listed when a
    parameter is unknown.
    """
    if not isinstance(model, str) or model not in HARVEST_MODELS:
        raise UnknownNameError("model", model, HARVEST_MODELS)
    allowed = HARVEST_MODELS[model]
    for name in parameters:
        if name not in allowed:
            raise UnknownNameError(f"{model} parameter", name, (*allowed, *extras))
    if model == "poisson":
        return None
    if model == "seeds":
        return 1.0
    if model == "bose_einstein":
        if "n_layers" not in parameters:
            raise InvalidParameterError("n_layers", None, "an integer >= 1 for bose_einstein")
        return float(check_integer("n_layers", parameters["n_layers"], low=1))
    alpha = parameters.get("alpha", YIELD_MODELS[model].defaults.get("alpha"))
    return check_real("alpha", alpha, low=MIN_ALPHA)


def _computed_shape(shape: float | None) -> float | None:
    """The gamma shape the maths uses: None (Poisson) beyond :data:`POISSON_LIMIT_ALPHA`."""
    return None if shape is None or shape > POISSON_LIMIT_ALPHA else shape


def _out(x: NDArray[np.float64]) -> FloatOrArray:
    return float(x) if x.ndim == 0 else x


# --------------------------------------------------------------------------- maths


def _log_p_clear(lam: NDArray[np.float64], alpha: float | None) -> NDArray[np.float64]:
    """log P(no defect) on an area with mean defect count ``lam``."""
    if alpha is None:
        return -lam
    return -alpha * np.log1p(lam / alpha)


def _between(
    cdf: NDArray[np.float64],
    pmf0: NDArray[np.float64],
    one_minus_pmf0: NDArray[np.float64],
    sf: NDArray[np.float64],
) -> NDArray[np.float64]:
    """P(1 <= M <= m) from the CDF, the mass at 0 and the survival function.

    Either ``cdf - pmf0`` or ``(1 - pmf0) - sf``: the first subtracts two small
    numbers when the CDF is small, the second two small numbers when it is
    large, so neither form cancels where it is used.
    """
    return np.where(cdf < 0.5, cdf - pmf0, one_minus_pmf0 - sf).clip(0.0, 1.0)


def _defect_rule(
    lam: NDArray[np.float64], h: NDArray[np.float64], alpha: float | None, m: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(degraded, repairable-but-dead part) for the max-defects rule, before gross yield.

    Returns the degraded fraction and P(no defect outside, more than m inside).
    """
    from scipy import special

    lam_out = (1.0 - h) * lam
    p0_out = np.exp(_log_p_clear(lam_out, alpha))
    if alpha is None:
        mu = h * lam
        cdf = special.gammaincc(m + 1, mu)
        sf = special.gammainc(m + 1, mu)
        pmf0 = np.exp(-mu)
        one_minus_pmf0 = -np.expm1(-mu)
    else:
        # Given no defect outside, Λ is gamma with scale θ' = θ / (1 + (1 - h) θ),
        # so the count inside is negative binomial with odds h θ'.
        theta = lam / alpha
        odds = h * theta / (1.0 + (1.0 - h) * theta)
        q = odds / (1.0 + odds)  # failure probability of the negative binomial
        p = 1.0 / (1.0 + odds)  # 1 - q without rounding when q is close to 1
        # Each tail from the side where its argument is small, the other by complement:
        # q rounds to 1 for a tiny alpha (huge odds), p to 1 for a huge alpha.
        q_small = q < 0.5
        sf_q = special.betainc(m + 1, alpha, np.where(q_small, q, 0.0))
        cdf_p = special.betainc(alpha, m + 1, np.where(q_small, 1.0, p))
        cdf = np.where(q_small, 1.0 - sf_q, cdf_p)
        sf = np.where(q_small, sf_q, 1.0 - cdf_p)
        log_pmf0 = -alpha * np.log1p(odds)
        pmf0 = np.exp(log_pmf0)
        one_minus_pmf0 = -np.expm1(log_pmf0)
    inside_ok = np.zeros_like(lam) if m == 0 else _between(cdf, pmf0, one_minus_pmf0, sf)
    return p0_out * inside_ok, p0_out * sf


@functools.lru_cache(maxsize=64)
def _order_statistic_grid(
    n: int, b: int, alpha: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes ``hT`` and weights for the time ``T`` at which the (b+1)-th of n blocks is hit.

    Each block is first hit at an exponential "time" (in units of the die's
    defect load) with rate ``h/n``; ``U = 1 - exp(-hT/n)`` is then the
    (b+1)-th order statistic of n uniforms, Beta(b+1, n-b). The density of
    ``y = log(hT)`` is smooth and decays exponentially on both sides, so the
    trapezoidal rule on a uniform grid in ``y`` converges geometrically. The
    step resolves both that density (its width shrinks like 1/√(b+1)) and the
    log-gamma distribution it is integrated against (width √ψ'(α)).
    """
    from scipy import special

    inverse = 1.0 / (n - np.arange(b + 1, dtype=np.float64))
    spread = math.sqrt(float(np.sum(inverse**2))) / float(np.sum(inverse))
    step = min(spread, math.sqrt(float(special.polygamma(1, alpha)))) / _STEPS_PER_WIDTH
    y_low = math.log(-n * math.log1p(-float(special.betaincinv(b + 1, n - b, _GRID_TAIL))))
    y_high = math.log(-n * math.log(float(special.betaincinv(n - b, b + 1, _GRID_TAIL))))
    count = min(_MAX_GRID_NODES, math.ceil((y_high - y_low) / step) + 1)
    y = np.linspace(y_low, y_high, count)
    load = np.exp(y) / n
    log_density = b * np.log(-np.expm1(-load)) - (n - b) * load + y
    weights = np.exp(log_density - log_density.max())
    return np.exp(y), weights / weights.sum()


def _mixed_block_cdf(
    theta: NDArray[np.float64], h: NDArray[np.float64], alpha: float, n: int, b: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(P(K <= b), P(K > b)) for K ~ Binom(n, 1 - e^{-hΛ/n}), Λ ~ Gamma(α, scale θ).

    ``P(K > b | Λ) = P(T <= Λ)`` with T the hit time of the (b+1)-th block, so
    averaged over Λ it is ``E_T[Q(α, T/θ)]`` (Q the upper regularised gamma).
    """
    from scipy import special

    times, weights = _order_statistic_grid(n, b, alpha)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = 1.0 / (h * theta)
    rate = np.where(np.isnan(rate), np.inf, rate).ravel()
    lower = np.empty_like(rate)
    upper = np.empty_like(rate)
    step = max(1, _QUADRATURE_CELLS // times.size)
    for start in range(0, rate.size, step):
        with np.errstate(over="ignore"):  # an overflowing rate is the T/θ -> inf limit
            s = np.multiply.outer(rate[start : start + step], times)
        lower[start : start + step] = special.gammainc(alpha, s) @ weights
        upper[start : start + step] = special.gammaincc(alpha, s) @ weights
    return lower.reshape(theta.shape), upper.reshape(theta.shape)


def _block_rule(
    lam: NDArray[np.float64], h: NDArray[np.float64], alpha: float | None, n: int, b: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(degraded, repairable-but-dead part) for the block rule, before gross yield.

    Given the die's mean defect count Λ, each of the n blocks is hit
    independently with probability ``p = 1 - e^{-hΛ/n}``, so the number K of
    blocks hit is Binom(n, p), independent of the count outside (mean (1-h)Λ).
    Poisson: ``e^{-(1-h)λ} P(1 <= K <= b)`` straight from the binomial CDF.
    Gamma mixing: the factor ``e^{-(1-h)Λ}`` tilts the gamma to scale
    ``θ' = θ / (1 + (1-h)θ)`` with weight ``(1 + (1-h)θ)^{-α}``, and the
    binomial CDF is averaged over the tilted gamma (:func:`_mixed_block_cdf`).
    """
    from scipy import special

    if alpha is None:
        p0_out = np.exp(-(1.0 - h) * lam)
        mu = h * lam
        p = -np.expm1(-mu / n)
        cdf = special.bdtr(b, n, p)
        sf = special.bdtrc(b, n, p)
        pmf0 = np.exp(-mu)
        one_minus_pmf0 = -np.expm1(-mu)
    else:
        theta = lam / alpha
        tilt = 1.0 + (1.0 - h) * theta
        p0_out = np.exp(-alpha * np.log(tilt))
        theta_tilted = theta / tilt
        log_pmf0 = -alpha * np.log1p(h * theta_tilted)
        pmf0 = np.exp(log_pmf0)
        one_minus_pmf0 = -np.expm1(log_pmf0)
        if b >= n:
            cdf, sf = np.ones_like(lam), np.zeros_like(lam)
        elif b == 0:
            cdf, sf = pmf0, one_minus_pmf0
        else:
            cdf, sf = _mixed_block_cdf(theta_tilted, h, alpha, n, b)
    inside_ok = np.zeros_like(lam) if b == 0 else _between(cdf, pmf0, one_minus_pmf0, sf)
    return p0_out * inside_ok, p0_out * sf


def _bins_arrays(
    lam: NDArray[np.float64], h: NDArray[np.float64], alpha: float | None, rule: RepairRule
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(fully good, degraded, dead) before the gross yield is applied."""
    good = np.exp(_log_p_clear(lam, alpha))
    # P(at least one defect outside the harvestable area), without cancellation.
    dead_outside = -np.expm1(_log_p_clear((1.0 - h) * lam, alpha))
    if rule.n_blocks is None:
        assert rule.max_defects is not None
        degraded, dead_inside = _defect_rule(lam, h, alpha, rule.max_defects)
    else:
        assert rule.max_bad_blocks is not None
        degraded, dead_inside = _block_rule(lam, h, alpha, rule.n_blocks, rule.max_bad_blocks)
    return good, degraded, dead_outside + dead_inside


def _split(
    lam: NDArray[np.float64],
    h: NDArray[np.float64],
    y0: NDArray[np.float64],
    alpha: float | None,
    rule: RepairRule,
) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    """(fully good, degraded, dead) from validated λ, h and gross yield, broadcast together."""
    lam_b, h_b, y0 = np.broadcast_arrays(lam, h, y0)
    good, degraded, dead = _bins_arrays(
        np.array(lam_b, dtype=np.float64), np.array(h_b, dtype=np.float64), alpha, rule
    )
    return _out(y0 * good), _out(y0 * degraded), _out((1.0 - y0) + y0 * dead)


# --------------------------------------------------------------------------- public


def harvest_bins(
    model: str,
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    harvestable_fraction: ArrayLike,
    max_defects: int | None = None,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
    **model_parameters: Any,
) -> HarvestBins:
    """Split dies into fully good, degraded and dead fractions.

    Parameters
    ----------
    model : str
        ``"poisson"``, ``"negative_binomial"`` (``alpha``, default as in
        :data:`waferlab.yield_models.YIELD_MODELS`), ``"seeds"``
        (gamma shape 1) or ``"bose_einstein"`` (needs ``n_layers``; shape n).
    die_area_mm2 : float or array_like
        Die area [mm²], >= 0.
    defect_density_per_cm2 : float or array_like
        Killer defect density D0 [defects/cm²], >= 0.
    harvestable_fraction : float or array_like
        Fraction ``h`` of the critical area that lies in redundant blocks, in [0, 1].
    max_defects : int, optional
        Defect-count rule: a die with all its defects in the harvestable area
        is degraded when it has at most this many (default 1). Not allowed
        together with ``n_blocks``.
    n_blocks : int, optional
        Block rule: the harvestable area is ``n_blocks`` blocks of equal area
        (e.g. 25 AI cores); a die is degraded when at most ``max_bad_blocks``
        distinct blocks hold a defect. In [1, :data:`MAX_HARVEST_BLOCKS`].
    max_bad_blocks : int, optional
        Blocks that may be fused off, in [0, n_blocks] (default 1).
    **model_parameters
        ``alpha`` (negative_binomial), ``n_layers`` (bose_einstein), and
        ``gross_yield`` (in [0, 1], default 1) and ``critical_area_fraction``
        (in [0, 1], default 1) as in :mod:`waferlab.yield_models`.

    Returns
    -------
    HarvestBins
        ``fully_good + degraded + dead == 1`` (to rounding); floats for scalar
        inputs, arrays of the broadcast shape otherwise.

    Raises
    ------
    InvalidParameterError
        If a value is out of range, a rule is given twice, or a parameter the
        model needs is missing.
    UnknownNameError
        If ``model`` or a model parameter is unknown.

    Notes
    -----
    With ``λ = D0 · A · f_crit`` the mean defect count, defects inside the
    harvestable area and outside it are independent Poisson counts with means
    ``hλ`` and ``(1 - h)λ``. For the Poisson model and the defect-count rule:

    .. math::

        P_\\text{good} = e^{-λ},\\quad
        P_\\text{degraded} = e^{-(1-h)λ} \\sum_{k=1}^{m} e^{-hλ}\\frac{(hλ)^k}{k!}

    (the sum is evaluated through regularised incomplete gamma functions).
    For the block rule the n blocks are hit independently with probability
    ``p = 1 - e^{-hλ/n}``, so the number of blocks hit is binomial:

    .. math::

        P(\\text{no defect outside}, k \\text{ blocks hit}) =
        \\binom{n}{k} e^{-(1-h)λ} \\left(e^{-hλ/n}\\right)^{n-k}
        \\left(1 - e^{-hλ/n}\\right)^k

    and degraded sums k = 1..max_bad_blocks (the binomial CDF, a regularised
    incomplete beta function, so the cost does not grow with n). Under gamma
    mixing (shape α, mean λ) the defect-count rule stays closed: given no
    defect outside, Λ is gamma with scale ``θ' = θ / (1 + (1-h)θ)`` (θ = λ/α), so

    .. math::

        P_\\text{degraded} = (1 + (1-h)θ)^{-α}\\, P(1 \\le M \\le m),\\quad
        M \\sim \\mathrm{NB}(α, \\text{odds } hθ')

    via regularised incomplete beta functions. For the block rule under
    mixing, more than b blocks are hit exactly when the (b+1)-th block's
    first-hit time T (blocks are hit at exponential times of rate h/n in
    units of Λ, so ``1 - e^{-hT/n}`` is Beta(b+1, n-b)) is at most Λ; hence

    .. math::

        P(\\text{no defect outside}, K > b) = (1 + (1-h)θ)^{-α}\\, E_T\\left[Q(α, T/θ')\\right]

    with Q the upper regularised gamma function, the expectation taken by the
    trapezoidal rule in ``log T``, which converges geometrically and agrees
    with adaptive quadrature to about 1e-12 for every block count up to
    :data:`MAX_HARVEST_BLOCKS`. The gross yield Y0 multiplies the good
    and degraded bins; the dead bin takes ``1 - Y0`` as well.

    References
    ----------
    C. H. Stapper, "Defect density distribution for LSI yield calculations",
    IEEE Trans. Electron Devices 20 (1973) 655–657 (gamma mixing, negative
    binomial). C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit
    yield statistics", Proc. IEEE 71 (1983) 453–470 (yield with redundancy).
    I. Koren, Z. Koren, "Defect tolerance in VLSI circuits: techniques and
    yield analysis", Proc. IEEE 86 (1998) 1819–1838.
    L. N. Trefethen, J. A. C. Weideman, "The exponentially convergent
    trapezoidal rule", SIAM Review 56 (2014) 385–458.

    Examples
    --------
    >>> bins = harvest_bins("poisson", 665.61, 0.2418, harvestable_fraction=0.5)
    >>> round(bins.fully_good, 3), round(bins.degraded, 3), round(bins.dead, 3)
    (0.2, 0.161, 0.639)
    >>> bins = harvest_bins("negative_binomial", 665.61, 0.3, harvestable_fraction=0.6,
    ...                     n_blocks=25, max_bad_blocks=2, alpha=2.0)
    >>> round(bins.fully_good + bins.degraded + bins.dead, 12)
    1.0
    """
    rule = repair_rule(max_defects, n_blocks, max_bad_blocks)
    gross_yield = model_parameters.pop("gross_yield", 1.0)
    critical_area_fraction = model_parameters.pop("critical_area_fraction", 1.0)
    alpha = _mixing_shape(model, model_parameters)
    if model == "negative_binomial":
        model_parameters["alpha"] = alpha
    alpha = _computed_shape(alpha)
    area = check_array("die_area_mm2", die_area_mm2, low=0.0)
    density = check_array("defect_density_per_cm2", defect_density_per_cm2, low=0.0)
    h = check_array("harvestable_fraction", harvestable_fraction, low=0.0, high=1.0)
    y0 = check_array("gross_yield", gross_yield, low=0.0, high=1.0)
    fcrit = check_array("critical_area_fraction", critical_area_fraction, low=0.0, high=1.0)
    with np.errstate(over="ignore"):  # A · D0 beyond the largest float: clipped below
        lam = np.asarray(defect_load(area, density, critical_area_fraction=fcrit), dtype=float)
    lam = np.minimum(lam, MAX_DEFECT_LOAD)
    fully_good, degraded, dead = _split(lam, h, y0, alpha, rule)
    parameters: dict[str, Any] = {
        "die_area_mm2": _out(area),
        "defect_density_per_cm2": _out(density),
        "harvestable_fraction": _out(h),
        **rule.to_dict(),
        "gross_yield": _out(np.asarray(gross_yield, dtype=np.float64)),
        "critical_area_fraction": _out(np.asarray(critical_area_fraction, dtype=np.float64)),
        **dict(model_parameters),
    }
    return HarvestBins(fully_good, degraded, dead, model=model, parameters=parameters)


def harvest_bins_for_load(
    model: str,
    defect_load: ArrayLike,
    *,
    harvestable_fraction: ArrayLike,
    max_defects: int | None = None,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
    **model_parameters: Any,
) -> HarvestBins:
    """Split dies into fully good, degraded and dead fractions given their mean defect count.

    The same bins as :func:`harvest_bins`, for a caller that already has the
    mean killer defect count ``λ`` of each die (for instance one that varies
    across the wafer, as in :func:`waferlab.simulate.simulate_wafers`).

    Parameters
    ----------
    model : str
        As in :func:`harvest_bins`.
    defect_load : float or array_like
        Mean killer defect count ``λ = D0 · A · f_crit`` per die
        (:func:`waferlab.yield_models.defect_load`), >= 0 and finite.
    harvestable_fraction : float or array_like
        Fraction ``h`` of the critical area that lies in redundant blocks, in [0, 1].
    max_defects, n_blocks, max_bad_blocks : int, optional
        The repair rule, as in :func:`harvest_bins`.
    **model_parameters
        ``alpha`` (negative_binomial), ``n_layers`` (bose_einstein) and
        ``gross_yield`` (in [0, 1], default 1); the critical-area fraction is
        already part of ``λ``.

    Returns
    -------
    HarvestBins
        As from :func:`harvest_bins`; ``parameters`` holds ``defect_load``
        in place of the die area, defect density and critical-area fraction.

    Raises
    ------
    InvalidParameterError
        If a value is out of range, a rule is given twice, or a parameter the
        model needs is missing.
    UnknownNameError
        If ``model`` or a model parameter is unknown.

    Notes
    -----
    The formulas are those of :func:`harvest_bins`, which computes ``λ`` from
    the die area, the defect density and the critical-area fraction and
    then splits the dies exactly as here.

    Examples
    --------
    >>> from waferlab.yield_models import defect_load
    >>> bins = harvest_bins_for_load("poisson", defect_load(665.61, 0.2418),
    ...                              harvestable_fraction=0.5)
    >>> round(bins.fully_good, 3), round(bins.degraded, 3), round(bins.dead, 3)
    (0.2, 0.161, 0.639)
    """
    rule = repair_rule(max_defects, n_blocks, max_bad_blocks)
    gross_yield = model_parameters.pop("gross_yield", 1.0)
    alpha = _mixing_shape(model, model_parameters, extras=("gross_yield",))
    if model == "negative_binomial":
        model_parameters["alpha"] = alpha
    alpha = _computed_shape(alpha)
    lam = np.minimum(check_array("defect_load", defect_load, low=0.0), MAX_DEFECT_LOAD)
    h = check_array("harvestable_fraction", harvestable_fraction, low=0.0, high=1.0)
    y0 = check_array("gross_yield", gross_yield, low=0.0, high=1.0)
    fully_good, degraded, dead = _split(lam, h, y0, alpha, rule)
    parameters: dict[str, Any] = {
        "defect_load": _out(lam),
        "harvestable_fraction": _out(h),
        **rule.to_dict(),
        "gross_yield": _out(np.asarray(gross_yield, dtype=np.float64)),
        **dict(model_parameters),
    }
    return HarvestBins(fully_good, degraded, dead, model=model, parameters=parameters)


def harvestable_fraction_for(
    model: str,
    die_area_mm2: float,
    *,
    fully_good_yield: float,
    good_or_degraded_yield: float,
    max_defects: int | None = None,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
    **model_parameters: Any,
) -> HarvestableFractionFit:
    """Find the harvestable fraction that turns one yield figure into another.

    The fully-good yield fixes the defect density under ``model``; the
    harvestable fraction ``h`` is then the root of
    ``fully_good + degraded(h) = good_or_degraded_yield``. This is the question
    the 910B numbers raise: if 20 % of the dies are fully functional, how much
    of the die must be fusible for 40 % to be sellable?

    Parameters
    ----------
    model : str
        As in :func:`harvest_bins`.
    die_area_mm2 : float
        Die area [mm²], > 0.
    fully_good_yield : float
        Observed fully-functional yield, in (0, gross_yield].
    good_or_degraded_yield : float
        Observed yield counting degraded dies too, in [fully_good_yield, 1].
    max_defects, n_blocks, max_bad_blocks : int, optional
        The repair rule, as in :func:`harvest_bins`.
    **model_parameters
        As in :func:`harvest_bins`.

    Returns
    -------
    HarvestableFractionFit
        The fraction ``h``, the implied D0 and the bins at ``h``.

    Raises
    ------
    InvalidParameterError
        If an input is out of range or ``good_or_degraded_yield`` is below
        ``fully_good_yield``.
    CalibrationError
        If even ``h = 1`` cannot reach ``good_or_degraded_yield`` under the
        repair rule (the message gives the largest reachable value).

    Notes
    -----
    ``degraded(h)`` is non-decreasing in ``h``: given n defects on a die, the
    chance that all of them land in the harvestable area is ``h^n`` and where
    they land inside it does not depend on ``h``. So the root is unique and
    found by Brent's method on [0, 1]. D0 comes from inverting the plain
    model: ``λ = -ln(Y/Y0)`` (Poisson) or ``λ = α((Y/Y0)^{-1/α} - 1)`` (gamma
    mixing), ``D0 = λ / (A · f_crit)``.

    References
    ----------
    G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of the
    U.S.-China AI Race", CSIS, 7 March 2025 (the 20 % and 40 % figures).
    R. P. Brent, Algorithms for Minimization without Derivatives, 1973.

    Examples
    --------
    >>> fit = harvestable_fraction_for("poisson", 665.61, fully_good_yield=0.2,
    ...                                good_or_degraded_yield=0.4)
    >>> round(fit.harvestable_fraction, 3), round(fit.defect_density_per_cm2, 4)
    (0.621, 0.2418)
    """
    from scipy import optimize

    rule = repair_rule(max_defects, n_blocks, max_bad_blocks)
    params = dict(model_parameters)
    gross_yield = check_real(
        "gross_yield", params.pop("gross_yield", 1.0), low=0.0, high=1.0, low_open=True
    )
    fcrit = check_real(
        "critical_area_fraction",
        params.pop("critical_area_fraction", 1.0),
        low=0.0,
        high=1.0,
        low_open=True,
    )
    _mixing_shape(model, params)  # validates the model and its parameters
    area = check_real("die_area_mm2", die_area_mm2, low=0.0, low_open=True)
    y_good = check_real(
        "fully_good_yield", fully_good_yield, low=0.0, high=gross_yield, low_open=True
    )
    y_total = check_real("good_or_degraded_yield", good_or_degraded_yield, low=y_good, high=1.0)
    density = float(
        defect_density_for_yield(
            model, area, y_good, gross_yield=gross_yield, critical_area_fraction=fcrit, **params
        )
    )
    common: dict[str, Any] = {
        **rule.to_dict(),
        **params,
        "gross_yield": gross_yield,
        "critical_area_fraction": fcrit,
    }

    def total(h: float) -> float:
        bins = harvest_bins(model, area, density, harvestable_fraction=h, **common)
        return float(bins.fully_good) + float(bins.degraded)

    reachable = total(1.0)
    if y_total > reachable + 1e-12:
        raise CalibrationError(
            f"no harvestable fraction in [0, 1] gives good_or_degraded_yield = {y_total:g} "
            f"under {model} with fully_good_yield = {y_good:g}: the most it can reach is "
            f"{reachable:.4g} (every defect harvestable); allow more repairs"
        )
    if y_total <= y_good:
        h = 0.0
    elif y_total >= reachable:
        h = 1.0
    else:
        h = float(optimize.brentq(lambda x: total(x) - y_total, 0.0, 1.0, xtol=1e-14, rtol=1e-13))
    bins = harvest_bins(model, area, density, harvestable_fraction=h, **common)
    return HarvestableFractionFit(
        harvestable_fraction=h,
        defect_density_per_cm2=density,
        fully_good_yield=y_good,
        good_or_degraded_yield=y_total,
        max_good_or_degraded_yield=reachable,
        bins=bins,
    )


# --------------------------------------------------------------------------- product bins

__all__ += ["JOINT_COST_RULES", "ProductBins", "product_bins"]

#: Joint-cost rules for sharing a wafer's cost among the products cut from it.
JOINT_COST_RULES: tuple[str, ...] = ("physical-units", "relative-sales-value")


@dataclass(frozen=True)
class ProductBins:
    """Shares of dies sold as each product of a partial-good ladder.

    A die goes to the best product it qualifies for: the product with the
    most enabled blocks that is at most the die's good blocks (and no killer
    defect outside the blocks).

    Attributes
    ----------
    products : tuple of str
        Product names, best (most enabled blocks) first.
    enabled_blocks : tuple of int
        Blocks each product enables.
    n_blocks : int
        Physical blocks on the die.
    shares : dict
        Product name -> share of all dies [fraction], float or ndarray.
    model : str
    parameters : dict
        The inputs (density, fractions, model parameters).

    Examples
    --------
    >>> bins = product_bins("poisson", 826.0, 0.1064, harvestable_fraction=0.5,
    ...                     n_blocks=128, products={"A100": 108})
    >>> round(bins.shares["A100"], 3), round(bins.unsold, 3)
    (0.644, 0.356)
    """

    products: tuple[str, ...]
    enabled_blocks: tuple[int, ...]
    n_blocks: int
    shares: Mapping[str, FloatOrArray]
    model: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        def show(x: Any) -> str:
            return f"{float(x):.4g}" if np.ndim(x) == 0 else f"array(shape={np.shape(x)})"

        shares = ", ".join(f"{p!r}: {show(v)}" for p, v in list(self.shares.items())[:6])
        return f"ProductBins(model={self.model!r}, n_blocks={self.n_blocks}, shares={{{shares}}})"

    @property
    def sold(self) -> FloatOrArray:
        """Share of dies sold as any product."""
        return _out(sum((np.asarray(v) for v in self.shares.values()), np.zeros(())))

    @property
    def unsold(self) -> FloatOrArray:
        """Share of dies no product takes."""
        return _out(1.0 - np.asarray(self.sold))

    def dies_per_wafer(self, gross_dies_per_wafer: ArrayLike) -> dict[str, FloatOrArray]:
        """Return the dies of each product per wafer (expected, not rounded).

        Examples
        --------
        >>> bins = product_bins("poisson", 100.0, 0.0, harvestable_fraction=0.5,
        ...                     n_blocks=10, products={"full": 10})
        >>> bins.dies_per_wafer(600)
        {'full': 600.0}
        """
        gross = check_array("gross_dies_per_wafer", gross_dies_per_wafer, low=0.0)
        return {p: _out(gross * np.asarray(s)) for p, s in self.shares.items()}

    def equivalents_per_wafer(
        self,
        gross_dies_per_wafer: ArrayLike,
        performance: Mapping[str, float],
        reference_performance: float,
    ) -> dict[str, FloatOrArray]:
        """Return each product's compute equivalents per wafer.

        ``dies × performance / reference_performance``; the basis (e.g. dense
        BF16 TFLOPS against the H100 SXM's) is the caller's and must be the
        same for every figure.

        Examples
        --------
        >>> bins = product_bins("poisson", 100.0, 0.0, harvestable_fraction=0.5,
        ...                     n_blocks=10, products={"full": 10})
        >>> bins.equivalents_per_wafer(600, {"full": 312.0}, 989.0)["full"] == 600 * 312 / 989
        True
        """
        ref = check_real("reference_performance", reference_performance, low=0.0, low_open=True)
        dies = self.dies_per_wafer(gross_dies_per_wafer)
        out: dict[str, FloatOrArray] = {}
        for p in self.products:
            if p not in performance:
                raise InvalidParameterError("performance", sorted(performance), f"a figure for {p}")
            perf = check_real(f"performance[{p}]", performance[p], low=0.0)
            out[p] = _out(np.asarray(dies[p]) * perf / ref)
        return out

    def cost_per_die_usd(
        self,
        wafer_cost_usd: ArrayLike,
        gross_dies_per_wafer: ArrayLike,
        *,
        rule: str = "physical-units",
        values: Mapping[str, float] | None = None,
    ) -> dict[str, FloatOrArray]:
        """Return the cost per die of each product under a joint-cost rule.

        Parameters
        ----------
        wafer_cost_usd : float or array_like
            Processed wafer cost [USD].
        gross_dies_per_wafer : float or array_like
            Gross dies per wafer.
        rule : {"physical-units", "relative-sales-value"}
            ``physical-units``: every sold die bears the same cost, the wafer
            cost over the sold dies. ``relative-sales-value``: the wafer cost
            is shared in proportion to each product's sales value (dies ×
            ``values[product]``, a price or any proxy of it).
        values : mapping, optional
            Product -> relative value; needed for ``relative-sales-value``.

        Returns
        -------
        dict
            Product -> cost per die [USD]; the costs times the dies add up to
            the wafer cost.

        Notes
        -----
        Relative sales value: ``c_j = C_w · v_j / Σ_k N_k v_k`` with ``N_k``
        dies of product k per wafer. Physical units: ``c_j = C_w / Σ_k N_k``.

        References
        ----------
        C. T. Horngren, S. M. Datar, M. V. Rajan, *Cost Accounting: A
        Managerial Emphasis*, chapter "Allocation of joint costs", Pearson.

        Examples
        --------
        >>> bins = product_bins("poisson", 100.0, 0.0, harvestable_fraction=0.5,
        ...                     n_blocks=10, products={"full": 10})
        >>> bins.cost_per_die_usd(6000.0, 600)
        {'full': 10.0}
        """
        from waferlab.errors import NoSolutionError, check_choice

        check_choice("rule", rule, JOINT_COST_RULES)
        cost = check_array("wafer_cost_usd", wafer_cost_usd, low=0.0)
        dies = self.dies_per_wafer(gross_dies_per_wafer)
        if rule == "physical-units":
            weights = dict.fromkeys(self.products, 1.0)
        else:
            if values is None:
                raise InvalidParameterError("values", None, "a value per product for " + rule)
            weights = {}
            for p in self.products:
                if p not in values:
                    raise InvalidParameterError("values", sorted(values), f"a value for {p}")
                weights[p] = check_real(f"values[{p}]", values[p], low=0.0, low_open=True)
        pool = sum((np.asarray(dies[p]) * weights[p] for p in self.products), np.zeros(()))
        if np.any(pool <= 0.0):
            raise NoSolutionError("gross_dies_per_wafer", gross_dies_per_wafer, "some sold dies")
        return {p: _out(cost * weights[p] / pool) for p in self.products}

    def to_dict(self) -> dict[str, Any]:
        """Return the bins as JSON-able data."""
        return {
            "model": self.model,
            **dict(self.parameters),
            "n_blocks": self.n_blocks,
            "products": [
                {"name": p, "enabled_blocks": e, "share": self.shares[p]}
                for p, e in zip(self.products, self.enabled_blocks, strict=True)
            ],
            "sold": self.sold,
            "unsold": self.unsold,
        }


def product_bins(
    model: str,
    die_area_mm2: ArrayLike,
    defect_density_per_cm2: ArrayLike,
    *,
    harvestable_fraction: ArrayLike,
    n_blocks: int,
    products: Mapping[str, int],
    **model_parameters: Any,
) -> ProductBins:
    """Split dies among the products of a partial-good ladder by the block rule.

    Parameters
    ----------
    model : str
        As in :func:`harvest_bins`.
    die_area_mm2 : float or array_like
        Die area [mm²].
    defect_density_per_cm2 : float or array_like
        Killer defect density D0 under ``model`` [/cm²].
    harvestable_fraction : float or array_like
        Share of the critical area in the ``n_blocks`` fusible blocks, in [0, 1].
    n_blocks : int
        Physical blocks (e.g. 128 SMs on GA100), in [1, MAX_HARVEST_BLOCKS].
    products : mapping
        Product name -> blocks it enables (e.g. ``{"A100": 108}``), each in
        [0, n_blocks], distinct.
    **model_parameters
        As in :func:`harvest_bins`.

    Returns
    -------
    ProductBins

    Notes
    -----
    With ``G(b) = P(no defect outside the blocks, at most b blocks hit)`` (the
    good-or-degraded share of :func:`harvest_bins` with ``max_bad_blocks = b``)
    and products sorted by enabled blocks ``e_1 > e_2 > …``, product j takes

    .. math:: s_j = G(n - e_j) - G(n - e_{j-1}),\\quad G(n - e_0) := 0.

    Examples
    --------
    GA100 (128 SMs) at the Poisson D0 that gives 41.5 % defect-free dies, half
    the critical area in SMs: 64.4 % of the dies make an A100 (108 SMs) or better.

    >>> bins = product_bins("poisson", 826.0, 0.1064, harvestable_fraction=0.5,
    ...                     n_blocks=128, products={"GA100 full": 128, "A100": 108})
    >>> {k: round(v, 3) for k, v in bins.shares.items()}
    {'GA100 full': 0.415, 'A100': 0.23}
    """
    n = check_integer("n_blocks", n_blocks, low=1, high=MAX_HARVEST_BLOCKS)
    if not isinstance(products, Mapping) or not products:
        raise InvalidParameterError("products", products, "a non-empty mapping name -> blocks")
    ladder = sorted(
        ((check_integer(f"products[{p}]", e, low=0, high=n), str(p)) for p, e in products.items()),
        reverse=True,
    )
    enabled = [e for e, _ in ladder]
    if len(set(enabled)) != len(enabled):
        raise InvalidParameterError("products", dict(products), "distinct enabled block counts")
    shares: dict[str, FloatOrArray] = {}
    previous: Any = 0.0
    bins: HarvestBins | None = None
    for e, p in ladder:
        bins = harvest_bins(
            model,
            die_area_mm2,
            defect_density_per_cm2,
            harvestable_fraction=harvestable_fraction,
            n_blocks=n,
            max_bad_blocks=n - e,
            **model_parameters,
        )
        cumulative = np.asarray(bins.good_or_degraded)
        shares[p] = _out(np.maximum(cumulative - previous, 0.0))
        previous = cumulative
    assert bins is not None
    parameters = {k: v for k, v in bins.parameters.items() if k not in ("max_bad_blocks",)}
    return ProductBins(
        products=tuple(p for _, p in ladder),
        enabled_blocks=tuple(enabled),
        n_blocks=n,
        shares=shares,
        model=model,
        parameters=parameters,
    )
