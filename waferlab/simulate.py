"""Monte Carlo of killer defects on a real die map.

Each simulated wafer carries the full dies of a :class:`~waferlab.geometry.DieMap`.
Die ``i`` expects ``λ_i = D0 · A · f_crit · w_i`` killer defects, where ``w_i``
is an optional radial edge gradient. The defect count on the die is Poisson
with mean ``λ_i · G``, where the intensity multiplier ``G`` (mean 1) is

* 1 — random defects (Poisson yield);
* gamma with shape ``α`` drawn per die — die-level clustering, the exact
  negative binomial model of :func:`waferlab.yield_models.negative_binomial`;
* gamma drawn once per wafer — wafer-to-wafer variation: every die is still
  negative binomial on its own, but the dies of a wafer rise and fall together;
* gamma drawn per region (an angular sector of the wafer) — clusters larger
  than a die and smaller than a wafer.

With a harvestable fraction the defects are split between the redundant area
and the rest and each die is classed good, degraded or bad with the rules of
:mod:`waferlab.harvest`. Everything is drawn for all wafers at once with a
seeded :class:`numpy.random.Generator`, in chunks of at most
:data:`CHUNK_DIES` dies, so memory stays bounded however many wafers are
simulated: per-wafer and per-site totals are accumulated chunk by chunk, and the
per-die arrays (defect counts, good / degraded masks, needed for wafer maps) are
kept only for runs that fit in one chunk or when asked (``keep_dies=True``).
An 80-die wafer simulates at hundreds of thousands of wafers per second, 10^6
wafers of 600 dies in well under a minute (see ``benchmarks/bench_yield.py`` and
``benchmarks/bench_simulate.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from waferlab._display import frame, html_table, short_repr
from waferlab.errors import InvalidParameterError, check_choice, check_integer, check_real
from waferlab.geometry import DieMap
from waferlab.harvest import harvest_bins_for_load, repair_rule
from waferlab.yield_models import defect_load

__all__ = [
    "CHUNK_DIES",
    "CLUSTERING",
    "MAX_EXPECTED_DEFECTS_PER_DIE",
    "MAX_REGIONS",
    "MAX_SIMULATED_DIES",
    "MAX_WAFERS",
    "SimulationResult",
    "simulate_wafers",
]

#: Accepted values of ``clustering`` besides ``None`` (random defects).
CLUSTERING: tuple[str, ...] = ("die", "wafer", "region")

#: Upper bound on ``n_wafers × dies per wafer`` when the per-die arrays are kept.
MAX_SIMULATED_DIES: int = 20_000_000

#: Dies drawn at once (one chunk): about 32 MB per array of the chunk. Runs of
#: at most this many dies keep their per-die arrays unless told otherwise.
CHUNK_DIES: int = 4_000_000

#: Sanity bound on ``n_wafers`` when the per-die arrays are not kept (10^8
#: wafers of 600 dies take about half an hour).
MAX_WAFERS: int = 100_000_000

#: Sanity bound on ``n_regions``: 10,000 sectors of a 300 mm wafer are 0.09 mm
#: wide at the edge, far thinner than any die.
MAX_REGIONS: int = 10_000

#: Bound on the mean killer defect count of a die, ``λ_i``: far beyond any
#: yield question (the die yield is e^(-10^12) = 0 well before), and it keeps
#: the Poisson draws inside the range of 64-bit counts.
MAX_EXPECTED_DEFECTS_PER_DIE: float = 1e12

#: Poisson means above this (a gamma multiplier's far tail on top of a large
#: λ_i) are clipped to it before drawing; the die is bad either way.
_MAX_POISSON_MEAN = 1e15

_DEFAULT_REGIONS = 4


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Simulated defects and die states for many wafers.

    Attributes
    ----------
    die_map : DieMap
        The placement whose full dies were simulated.
    defect_density_per_cm2 : float
        Mean killer defect density D0 [defects/cm²].
    clustering : str or None
        ``None``, ``"die"``, ``"wafer"`` or ``"region"``.
    alpha : float or None
        Gamma shape of the clustering.
    n_regions : int or None
        Number of angular sectors (``"region"`` clustering only).
    edge_gradient : float
        Radial gradient ``g`` of the defect density.
    critical_area_fraction : float
        Fraction of the die area where a defect kills.
    harvestable_fraction : float or None
        Fraction of the critical area in redundant blocks; ``None``: no degraded bin.
    max_defects, n_blocks, max_bad_blocks : int or None
        The repair rule (see :func:`waferlab.harvest.harvest_bins`).
    seed : int or None
        Seed of the generator (``None`` when not reproducible).
    good_dies_per_wafer, degraded_dies_per_wafer : ndarray of int, shape (n_wafers,)
        Good and degraded dies on every wafer.
    defects_per_wafer : ndarray of int, shape (n_wafers,)
        Killer defects on the simulated dies of every wafer.
    good_wafers_per_die : ndarray of int, shape (n_dies,)
        On how many wafers each die site is good.
    defect_counts : ndarray of int, shape (n_wafers, n_dies), or None
        Killer defects on every die of every wafer, if the per-die arrays were
        kept (``keep_dies``); :attr:`good`, :attr:`degraded` and :attr:`bad`
        need them.
    degraded : ndarray of bool, shape (n_wafers, n_dies), or None
        Dies with defects only in repairable blocks (all False without
        harvesting), if kept.
    die_x_mm, die_y_mm : ndarray, shape (n_dies,)
        Centres of the simulated (full) dies [mm].
    region : ndarray of int, shape (n_dies,)
        Region (sector) of every die; all 0 without region clustering.
    expected_defects : ndarray, shape (n_dies,)
        Mean killer defect count ``λ_i`` of every die.

    Examples
    --------
    >>> from waferlab.geometry import Die, Wafer, place_dies
    >>> result = simulate_wafers(place_dies(Wafer(300.0), Die(21.32, 31.22)), 0.2418,
    ...                          n_wafers=100, seed=1)
    >>> result.n_wafers, result.n_dies, result.wafer_yield.shape
    (100, 85, (100,))
    >>> round(result.expected_yield, 3)
    0.2
    """

    die_map: DieMap
    defect_density_per_cm2: float
    clustering: str | None
    alpha: float | None
    n_regions: int | None
    edge_gradient: float
    critical_area_fraction: float
    harvestable_fraction: float | None
    max_defects: int | None
    n_blocks: int | None
    max_bad_blocks: int | None
    seed: int | None
    good_dies_per_wafer: NDArray[np.int64]
    degraded_dies_per_wafer: NDArray[np.int64]
    defects_per_wafer: NDArray[np.int64]
    good_wafers_per_die: NDArray[np.int64]
    defect_counts: NDArray[np.int64] | None = None
    kept_degraded: NDArray[np.bool_] | None = None

    def _per_die(self, array: Any) -> Any:
        if array is None:
            raise InvalidParameterError(
                "keep_dies",
                False,
                "True to keep the per-die arrays (simulate_wafers(..., keep_dies=True))",
                f"this run of {self.n_wafers:,} wafers kept only per-wafer and per-site totals",
            )
        return array

    @property
    def degraded(self) -> NDArray[np.bool_]:
        """Dies with defects only in repairable blocks, shape (n_wafers, n_dies) (kept runs)."""
        return self._per_die(self.kept_degraded)

    @property
    def has_dies(self) -> bool:
        """Whether the per-die arrays were kept (wafer maps need them)."""
        return self.defect_counts is not None

    @property
    def die_x_mm(self) -> NDArray[np.float64]:
        """x of the centre of every simulated (full) die [mm], shape (n_dies,)."""
        return _full_die_centres(self.die_map)[0]

    @property
    def die_y_mm(self) -> NDArray[np.float64]:
        """y of the centre of every simulated (full) die [mm], shape (n_dies,)."""
        return _full_die_centres(self.die_map)[1]

    @property
    def region(self) -> NDArray[np.int64]:
        """Region (sector) of every die; all 0 without region clustering."""
        if self.n_regions is None:
            return np.zeros(self.n_dies, dtype=np.int64)
        return _sector(self.die_x_mm, self.die_y_mm, self.n_regions)

    @functools.cached_property
    def expected_defects(self) -> NDArray[np.float64]:
        """Mean killer defect count ``λ_i`` of every die, shape (n_dies,)."""
        return _expected_defects(
            self.die_map,
            self.defect_density_per_cm2,
            self.critical_area_fraction,
            self.edge_gradient,
        )

    @functools.cached_property
    def good(self) -> NDArray[np.bool_]:
        """Dies without a killer defect, shape (n_wafers, n_dies) (kept runs)."""
        return self._per_die(self.defect_counts) == 0

    @property
    def n_wafers(self) -> int:
        """Number of simulated wafers."""
        return int(self.good_dies_per_wafer.shape[0])

    @property
    def n_dies(self) -> int:
        """Dies per wafer (the full dies of the map)."""
        return int(self.good_wafers_per_die.shape[0])

    @property
    def bad(self) -> NDArray[np.bool_]:
        """Dies that are neither good nor degraded."""
        return ~(self.good | self.degraded)

    @property
    def wafer_yield(self) -> NDArray[np.float64]:
        """Fraction of good dies on every wafer, shape (n_wafers,)."""
        return self.good_dies_per_wafer / self.n_dies

    @property
    def wafer_degraded_fraction(self) -> NDArray[np.float64]:
        """Fraction of degraded dies on every wafer, shape (n_wafers,)."""
        return self.degraded_dies_per_wafer / self.n_dies

    @property
    def die_yield(self) -> NDArray[np.float64]:
        """Fraction of wafers on which each die site is good, shape (n_dies,)."""
        return self.good_wafers_per_die / self.n_wafers

    @property
    def mean_yield(self) -> float:
        """Mean fraction of good dies over all wafers."""
        return float(self.good_dies_per_wafer.sum() / (self.n_wafers * self.n_dies))

    @property
    def yield_standard_error(self) -> float:
        """Standard error of :attr:`mean_yield` (wafers are independent; NaN for one wafer).

        The spread of the per-wafer yields over √n_wafers: this accounts for
        dies of a wafer being correlated under wafer or region clustering.
        """
        return _standard_error(self.wafer_yield)

    @property
    def mean_degraded_fraction(self) -> float:
        """Mean fraction of degraded dies over all wafers."""
        return float(self.degraded_dies_per_wafer.sum() / (self.n_wafers * self.n_dies))

    @property
    def degraded_standard_error(self) -> float:
        """Standard error of :attr:`mean_degraded_fraction`."""
        return _standard_error(self.wafer_degraded_fraction)

    @property
    def expected_yield(self) -> float:
        """Analytic mean die yield of the same dies (Poisson, or NB with ``alpha``)."""
        return float(np.mean(self._analytic_bins[0]))

    @property
    def expected_degraded_fraction(self) -> float:
        """Analytic mean degraded fraction of the same dies (0 without harvesting)."""
        return float(np.mean(self._analytic_bins[1]))

    @functools.cached_property
    def _analytic_bins(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(fully good, degraded) probability of every die from its mean defect count."""
        gamma: dict[str, Any] = {} if self.alpha is None else {"alpha": self.alpha}
        h = self.harvestable_fraction
        bins = harvest_bins_for_load(
            "poisson" if self.alpha is None else "negative_binomial",
            self.expected_defects,
            harvestable_fraction=0.0 if h is None else h,
            max_defects=self.max_defects,
            n_blocks=self.n_blocks,
            max_bad_blocks=self.max_bad_blocks,
            **gamma,
        )
        good = np.asarray(bins.fully_good)
        return good, np.zeros_like(good) if h is None else np.asarray(bins.degraded)

    def __repr__(self) -> str:
        scope = "random" if self.clustering is None else f"{self.clustering} alpha={self.alpha:g}"
        text = (
            f"{self.n_wafers:,} wafers x {self.n_dies:,} dies, D0={self.defect_density_per_cm2:g}"
            f"/cm², {scope}: yield {self.mean_yield:.4f} ± {self.yield_standard_error:.2g}"
            f" (analytic {self.expected_yield:.4f})"
        )
        if self.harvestable_fraction is not None:
            text += f", degraded {self.mean_degraded_fraction:.4f}"
        return short_repr("SimulationResult", text)

    def _repr_html_(self) -> str:
        """The summary statistics as a table (Jupyter)."""
        return html_table("SimulationResult", self.to_dict().items())

    def to_frame(self) -> Any:
        """Return one row per wafer (good and degraded dies, defects, yield) as a DataFrame.

        Needs pandas (``pip install 'waferlab[pandas]'``).
        """
        return frame(
            {
                "good_dies": self.good_dies_per_wafer,
                "degraded_dies": self.degraded_dies_per_wafer,
                "defects": self.defects_per_wafer,
                "wafer_yield": self.wafer_yield,
            },
            index_name="wafer",
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the inputs and summary statistics (not the per-die arrays)."""
        good = self.good_dies_per_wafer
        p5, p50, p95 = np.percentile(good, [5, 50, 95])
        return {
            "n_wafers": self.n_wafers,
            "dies_per_wafer": self.n_dies,
            "die_width_mm": self.die_map.die.width_mm,
            "die_height_mm": self.die_map.die.height_mm,
            "die_area_mm2": self.die_map.die.area_mm2,
            "wafer_diameter_mm": self.die_map.wafer.diameter_mm,
            "edge_exclusion_mm": self.die_map.wafer.edge_exclusion_mm,
            "defect_density_per_cm2": self.defect_density_per_cm2,
            "critical_area_fraction": self.critical_area_fraction,
            "clustering": self.clustering,
            "alpha": self.alpha,
            "n_regions": self.n_regions,
            "edge_gradient": self.edge_gradient,
            "harvestable_fraction": self.harvestable_fraction,
            "max_defects": self.max_defects,
            "n_blocks": self.n_blocks,
            "max_bad_blocks": self.max_bad_blocks,
            "seed": self.seed,
            "mean_defects_per_wafer": float(self.defects_per_wafer.mean()),
            "mean_yield": self.mean_yield,
            "yield_standard_error": self.yield_standard_error,
            "expected_yield": self.expected_yield,
            "mean_good_dies_per_wafer": float(good.mean()),
            "good_dies_per_wafer_p5": float(p5),
            "good_dies_per_wafer_median": float(p50),
            "good_dies_per_wafer_p95": float(p95),
            "min_wafer_yield": float(self.wafer_yield.min()),
            "max_wafer_yield": float(self.wafer_yield.max()),
            "mean_degraded_fraction": self.mean_degraded_fraction,
            "degraded_standard_error": self.degraded_standard_error,
            "expected_degraded_fraction": self.expected_degraded_fraction,
            "mean_degraded_dies_per_wafer": float(self.degraded_dies_per_wafer.mean()),
        }


def _standard_error(per_wafer: NDArray[np.float64]) -> float:
    if per_wafer.size < 2:
        return float("nan")
    return float(per_wafer.std(ddof=1) / np.sqrt(per_wafer.size))


def _full_die_centres(die_map: DieMap) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Centres (x, y) of the full dies of the map [mm]."""
    mask = die_map.full_mask
    x = np.asarray(die_map.center_x_mm, dtype=np.float64)[mask]
    y = np.asarray(die_map.center_y_mm, dtype=np.float64)[mask]
    return x, y


def _expected_defects(
    die_map: DieMap, d0: float, critical_area_fraction: float, edge_gradient: float
) -> NDArray[np.float64]:
    """Mean killer defect count of every full die, the radial gradient normalised to mean 1."""
    x, y = _full_die_centres(die_map)
    rho2 = (np.hypot(x, y) / die_map.wafer.radius_mm) ** 2
    # (1 + g ρ²) / (1 + g), which cannot overflow for any finite g > -1; the
    # common factor 1 / (1 + g) cancels in the normalisation to mean 1.
    scale = 1.0 + edge_gradient
    radial = 1.0 / scale + (edge_gradient / scale) * rho2
    weights = radial / radial.mean()
    lam = defect_load(die_map.die.area_mm2, d0, critical_area_fraction=critical_area_fraction)
    return np.asarray(lam * weights, dtype=np.float64)


def _sector(x: NDArray[np.float64], y: NDArray[np.float64], n: int) -> NDArray[np.int64]:
    """Angular sector (0..n-1, counter-clockwise from +x) of every point."""
    angle = np.mod(np.arctan2(y, x), 2.0 * np.pi)
    return np.minimum((angle / (2.0 * np.pi) * n).astype(np.int64), n - 1)


def _distinct_blocks(
    rng: np.random.Generator, n_defects: NDArray[np.int64], n_blocks: int
) -> NDArray[np.int64]:
    """Number of distinct blocks hit when each die's defects land uniformly in ``n_blocks``."""
    owner = np.repeat(np.arange(n_defects.size), n_defects)
    block = rng.integers(0, n_blocks, size=owner.size)
    pairs = np.unique(owner * n_blocks + block)
    return np.bincount(pairs // n_blocks, minlength=n_defects.size)


def simulate_wafers(
    die_map: DieMap,
    defect_density_per_cm2: float,
    *,
    n_wafers: int,
    clustering: str | None = None,
    alpha: float | None = None,
    n_regions: int | None = None,
    edge_gradient: float = 0.0,
    critical_area_fraction: float = 1.0,
    harvestable_fraction: float | None = None,
    max_defects: int | None = None,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
    seed: int | np.random.Generator | None = None,
    keep_dies: bool | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate killer defects on the full dies of many wafers.

    Parameters
    ----------
    die_map : DieMap
        Placement from :func:`waferlab.geometry.place_dies`; its full dies are simulated.
    defect_density_per_cm2 : float
        Mean killer defect density D0 [defects/cm²], >= 0.
    n_wafers : int
        Wafers to simulate, in [1, :data:`MAX_WAFERS`] (``n_wafers × dies`` at
        most :data:`MAX_SIMULATED_DIES` when the per-die arrays are kept).
    clustering : {None, "die", "wafer", "region"}, default None
        Where the gamma intensity multiplier is drawn; ``None``: random defects.
    alpha : float, optional
        Gamma shape (> 0) of the clustering; required with ``clustering`` and
        not allowed without it. Small α means strong clustering.
    n_regions : int, optional
        Number of equal-angle sectors for ``"region"`` clustering, in [1,
        :data:`MAX_REGIONS`] (default 4, the quadrants); sector k spans angles
        [2πk/n, 2π(k+1)/n) from +x.
    edge_gradient : float, default 0.0
        Radial gradient ``g`` > -1: the density at radius r is proportional to
        ``1 + g (r/R)²`` (R the wafer radius), normalised so that the mean over
        the simulated dies is D0. The weights are computed as
        ``(1/(1+g) + g/(1+g)·(r/R)²)`` over their mean, which cannot overflow:
        a very large g gives weights proportional to ``(r/R)²``.
    critical_area_fraction : float, default 1.0
        Fraction of the die area where a defect kills, in [0, 1].
    harvestable_fraction : float, optional
        Fraction of the critical area in redundant blocks, in [0, 1]; enables
        the degraded bin.
    max_defects, n_blocks, max_bad_blocks : int, optional
        The repair rule, as in :func:`waferlab.harvest.harvest_bins` (only
        with ``harvestable_fraction``; ``n_blocks`` in [1,
        :data:`waferlab.harvest.MAX_HARVEST_BLOCKS`], ``max_bad_blocks`` in
        [0, n_blocks]).
    seed : int or numpy.random.Generator, optional
        Seed (>= 0) or generator; the same seed and inputs give the same result.
    keep_dies : bool, optional
        Keep the per-die arrays (defect counts, good and degraded masks) for
        wafer maps and per-die analysis. By default they are kept when the run
        fits in one chunk (``n_wafers × dies <=`` :data:`CHUNK_DIES`); larger
        runs keep only per-wafer and per-site totals, so memory stays bounded.
    progress : callable, optional
        Called as ``progress(wafers_done, n_wafers)`` after every chunk.

    Returns
    -------
    SimulationResult
        Per-die defect counts and good / degraded masks for every wafer, with
        per-wafer yields, the mean yield and its standard error.

    Raises
    ------
    InvalidParameterError
        If an argument is out of range or given where it has no meaning, or
        if a die would expect more than :data:`MAX_EXPECTED_DEFECTS_PER_DIE`
        killer defects.

    Notes
    -----
    Die i expects ``λ_i = D0 · A · f_crit / 100 · w_i`` defects with
    ``w_i = (1 + g (r_i/R)²) / mean_j (1 + g (r_j/R)²)``. Its count is
    ``N_i ~ Poisson(λ_i G)``, ``G ~ Gamma(α, 1/α)`` (mean 1) drawn per die,
    per wafer or per region, or ``G = 1``. Mixing a Poisson over a gamma gives
    the negative binomial, so under every clustering scope each die on its own
    has the yield ``(1 + λ_i/α)^{-α}``; the scope only decides which dies
    share a draw (and so how much the yield varies from wafer to wafer). With
    a harvestable fraction h the counts inside and outside the redundant area
    are drawn as independent Poissons with means ``hλ_iG`` and ``(1-h)λ_iG``
    (Poisson thinning); for the block rule each inside defect lands in a
    uniformly chosen block.

    References
    ----------
    C. H. Stapper, "Defect density distribution for LSI yield calculations",
    IEEE Trans. Electron Devices 20 (1973) 655–657. C. H. Stapper, "Small-area
    fault clusters and fault tolerance in VLSI circuits", IBM J. Res. Dev. 33
    (1989) 174–177 (clusters smaller or larger than a chip).

    Examples
    --------
    >>> from waferlab.geometry import Die, Wafer, place_dies
    >>> die_map = place_dies(Wafer(300.0), Die(21.32, 31.22))
    >>> result = simulate_wafers(die_map, 0.2418, n_wafers=2000, seed=1)
    >>> result.n_dies, result.defect_counts.shape
    (85, (2000, 85))
    >>> abs(result.mean_yield - result.expected_yield) < 5 * result.yield_standard_error
    True
    """
    if not isinstance(die_map, DieMap):
        raise InvalidParameterError("die_map", die_map, "a DieMap from place_dies")
    d0 = check_real("defect_density_per_cm2", defect_density_per_cm2, low=0.0)
    fcrit = check_real("critical_area_fraction", critical_area_fraction, low=0.0, high=1.0)
    g = check_real("edge_gradient", edge_gradient, low=-1.0, low_open=True)
    n_dies = int(die_map.full_mask.sum())
    if n_dies == 0:
        raise InvalidParameterError("die_map", "no full dies", "a map with at least one full die")
    if keep_dies is not None and not isinstance(keep_dies, bool):
        raise InvalidParameterError("keep_dies", keep_dies, "True, False or None")
    n_w = check_integer("n_wafers", n_wafers, low=1, high=MAX_WAFERS)
    keep = n_w * n_dies <= CHUNK_DIES if keep_dies is None else keep_dies
    if keep:
        n_w = check_integer("n_wafers", n_wafers, low=1, high=max(1, MAX_SIMULATED_DIES // n_dies))

    scope = None if clustering is None else check_choice("clustering", clustering, CLUSTERING)
    shape: float | None = None
    if scope is None:
        if alpha is not None:
            raise InvalidParameterError(
                "alpha", alpha, "left out without clustering", "alpha only applies with clustering"
            )
    else:
        if alpha is None:
            raise InvalidParameterError(
                "alpha", None, "given (> 0) with clustering", f"clustering {scope!r} needs alpha"
            )
        shape = check_real("alpha", alpha, low=0.0, low_open=True)
    regions_n: int | None = None
    if scope == "region":
        regions_n = (
            _DEFAULT_REGIONS
            if n_regions is None
            else check_integer("n_regions", n_regions, low=1, high=MAX_REGIONS)
        )
    elif n_regions is not None:
        raise InvalidParameterError(
            "n_regions",
            n_regions,
            "left out unless clustering is 'region'",
            "n_regions only applies with clustering 'region'",
        )

    h: float | None = None
    if harvestable_fraction is None:
        for name, value in (
            ("max_defects", max_defects),
            ("n_blocks", n_blocks),
            ("max_bad_blocks", max_bad_blocks),
        ):
            if value is not None:
                raise InvalidParameterError(
                    name,
                    value,
                    "left out without harvestable_fraction",
                    "a repair rule only applies with a harvestable fraction",
                )
        rule = None
    else:
        h = check_real("harvestable_fraction", harvestable_fraction, low=0.0, high=1.0)
        rule = repair_rule(max_defects, n_blocks, max_bad_blocks)

    if isinstance(seed, np.random.Generator):
        rng, seed_value = seed, None
    else:
        seed_value = None if seed is None else check_integer("seed", seed, low=0)
        rng = np.random.default_rng(seed_value)

    lam = _expected_defects(die_map, d0, fcrit, g)
    if not float(lam.max()) <= MAX_EXPECTED_DEFECTS_PER_DIE:
        raise InvalidParameterError(
            "defect_density_per_cm2",
            d0,
            f"small enough that no die expects more than {MAX_EXPECTED_DEFECTS_PER_DIE:g} "
            "killer defects",
            f"the most exposed die would expect {float(lam.max()):.3g}; its yield is 0",
        )
    region = None
    if scope == "region":
        assert regions_n is not None
        region = _sector(*_full_die_centres(die_map), regions_n)

    per_wafer = max(n_dies, regions_n or 0)
    chunk = max(1, min(n_w, CHUNK_DIES // per_wafer))
    good_per_wafer = np.empty(n_w, dtype=np.int64)
    degraded_per_wafer = np.zeros(n_w, dtype=np.int64)
    defects_per_wafer = np.empty(n_w, dtype=np.int64)
    good_per_die = np.zeros(n_dies, dtype=np.int64)
    kept_counts: list[NDArray[np.int64]] = []
    kept_degraded: list[NDArray[np.bool_]] = []
    for start in range(0, n_w, chunk):
        stop = min(n_w, start + chunk)
        counts, degraded = _draw(rng, lam, stop - start, scope, shape, region, regions_n, h, rule)
        good = counts == 0
        good_per_wafer[start:stop] = np.count_nonzero(good, axis=1)
        good_per_die += np.count_nonzero(good, axis=0)
        defects_per_wafer[start:stop] = counts.sum(axis=1)
        if degraded is not None:
            degraded_per_wafer[start:stop] = np.count_nonzero(degraded, axis=1)
        if keep:
            kept_counts.append(counts)
            kept_degraded.append(
                np.zeros(counts.shape, dtype=bool) if degraded is None else degraded
            )
        if progress is not None:
            progress(stop, n_w)

    def joined(parts: list[Any]) -> Any:
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    return SimulationResult(
        die_map=die_map,
        defect_density_per_cm2=d0,
        clustering=scope,
        alpha=shape,
        n_regions=regions_n,
        edge_gradient=g,
        critical_area_fraction=fcrit,
        harvestable_fraction=h,
        max_defects=None if rule is None else rule.max_defects,
        n_blocks=None if rule is None else rule.n_blocks,
        max_bad_blocks=None if rule is None else rule.max_bad_blocks,
        seed=seed_value,
        good_dies_per_wafer=good_per_wafer,
        degraded_dies_per_wafer=degraded_per_wafer,
        defects_per_wafer=defects_per_wafer,
        good_wafers_per_die=good_per_die,
        defect_counts=joined(kept_counts) if keep else None,
        kept_degraded=joined(kept_degraded) if keep else None,
    )


def _draw(
    rng: np.random.Generator,
    lam: NDArray[np.float64],
    n_w: int,
    scope: str | None,
    shape: float | None,
    region: NDArray[np.int64] | None,
    regions_n: int | None,
    h: float | None,
    rule: Any,
) -> tuple[NDArray[np.int64], NDArray[np.bool_] | None]:
    """Defect counts (and the degraded mask with a repair rule) of ``n_w`` wafers."""
    n_dies = lam.size
    if scope is None:
        mean: NDArray[np.float64] = np.broadcast_to(lam, (n_w, n_dies))
    else:
        assert shape is not None
        if scope == "die":
            multiplier = rng.gamma(shape, 1.0 / shape, size=(n_w, n_dies))
        elif scope == "wafer":
            multiplier = rng.gamma(shape, 1.0 / shape, size=(n_w, 1))
        else:
            assert region is not None and regions_n is not None
            multiplier = rng.gamma(shape, 1.0 / shape, size=(n_w, regions_n))[:, region]
        mean = lam * multiplier
        # a gamma draw's far tail on a large λ: clip to keep the Poisson in range
        np.minimum(mean, _MAX_POISSON_MEAN, out=mean)

    if rule is None or h is None:
        return rng.poisson(mean).astype(np.int64, copy=False), None
    inside = rng.poisson(h * mean)
    outside = rng.poisson((1.0 - h) * mean)
    counts = inside + outside
    repairable = (outside == 0) & (inside > 0)
    if rule.n_blocks is None:
        assert rule.max_defects is not None
        degraded = repairable & (inside <= rule.max_defects)
    else:
        assert rule.max_bad_blocks is not None
        degraded = repairable & (inside <= rule.max_bad_blocks)
        check = repairable & (inside > rule.max_bad_blocks)
        if np.any(check):
            hit = _distinct_blocks(rng, inside[check], rule.n_blocks)
            degraded[check] = hit <= rule.max_bad_blocks
    return counts.astype(np.int64, copy=False), degraded
