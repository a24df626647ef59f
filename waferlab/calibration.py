"""Calibrate yield models to published yields.

A published yield is a statement about one die area on one process: "41.5 % of
826 mm² GA100 dies were defect-free", "the A12 yields 90 % or more". An
:class:`Observation` holds one such statement as an interval
``[yield_low, yield_high]`` (a point value has ``yield_low == yield_high``).
:func:`fit_yield_model` finds the defect density (and, if asked, the gross
yield and the clustering parameter α) of one yield model that reproduces a set
of observations of one process; :func:`compare_models` does this for every
registered model at once, and :func:`feasible_range` answers the question that
matters when the data cannot pin a parameter down: which values of α or of the
gross yield reproduce *all* observations.

The built-in dataset ``csis-2025`` (:func:`load_dataset`) holds the yields
quoted in the CSIS report of March 2025 with their sources; see
``docs/calibration.md`` for what fits them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from waferlab.errors import (
    CalibrationError,
    InvalidParameterError,
    NoSolutionError,
    UnknownNameError,
    check_choice,
    check_integer,
    check_real,
)
from waferlab.observations import (
    COUNTS,
    DATASETS,
    STATUSES,
    Observation,
    ObservationFileError,
    load_dataset,
    load_observations,
    observations_from_csv,
    observations_from_json,
    processes,
    select,
)
from waferlab.output import format_percent, format_table, html_table, short_repr
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, die_yield

__all__ = [
    "CONSTRAINTS",
    "COUNTS",
    "DATASETS",
    "FITTABLE_PARAMETERS",
    "STATUSES",
    "CalibrationResult",
    "FeasibleRange",
    "FeasibleYieldModels",
    "ModelComparison",
    "Observation",
    "ObservationFileError",
    "compare_models",
    "default_comparison_models",
    "feasible_range",
    "feasible_ranges",
    "feasible_yield_models",
    "fit_yield_model",
    "load_dataset",
    "load_observations",
    "model_label",
    "observations_from_csv",
    "observations_from_json",
    "processes",
    "select",
]

#: How far the observations of a fit determine its free parameters (see
#: :attr:`CalibrationResult.constraint`).
CONSTRAINTS: tuple[str, ...] = ("over-determined", "exactly determined", "under-determined")

#: Parameters :func:`fit_yield_model` can leave free (``alpha`` only for models that have it).
FITTABLE_PARAMETERS: tuple[str, ...] = ("defect_density_per_cm2", "gross_yield", "alpha")

#: Default tolerance on the log-yield distance for an observation to count as met
#: (0.01 ≈ 1 % of the yield: 41.5 % is met by 41.09 % … 41.92 %).
DEFAULT_TOLERANCE: float = 0.01

_BASE_PARAMETERS = ("defect_density_per_cm2", "gross_yield", "critical_area_fraction")

# Search box of every free parameter: (transform, lower, upper). "log" parameters
# are optimised as their logarithm, which keeps a multiplicative scale (a D0 of
# 0.01 and of 5 /cm² are equally easy to reach) and keeps them positive.
_SEARCH: Mapping[str, tuple[str, float, float]] = MappingProxyType(
    {
        "defect_density_per_cm2": ("log", 1e-9, 1e7),
        "gross_yield": ("linear", 1e-6, 1.0),
        "alpha": ("log", 1e-3, 1e4),
    }
)
_GROSS_YIELD_STARTS = (1.0, 0.8, 0.5)
_ALPHA_STARTS = (0.3, 1.0, 3.0, 30.0)
_TINY = 1e-300
_ZERO_COST = 1e-24  # a cost below this is an exact fit (every residual < 1e-12)


# --------------------------------------------------------------------------- #
# Fitting
# --------------------------------------------------------------------------- #


def _model_parameters(model: str) -> tuple[str, ...]:
    """Every keyword :func:`die_yield` accepts for ``model`` (besides the area)."""
    return _BASE_PARAMETERS + tuple(YIELD_MODELS[model].parameters)


def _fittable(model: str) -> tuple[str, ...]:
    names = _model_parameters(model)
    return tuple(p for p in FITTABLE_PARAMETERS if p in names)


def _check_model(model: str) -> str:
    if not isinstance(model, str) or model not in YIELD_MODELS:
        raise UnknownNameError("model", model, YIELD_MODELS)
    return model


def _check_observations(observations: Iterable[Observation]) -> tuple[Observation, ...]:
    pool = tuple(observations)
    if not pool:
        raise InvalidParameterError("observations", pool, "a non-empty sequence of Observation")
    for obs in pool:
        if not isinstance(obs, Observation):
            raise InvalidParameterError("observations", obs, "a sequence of Observation")
        if obs.yield_low <= 0.0:
            raise InvalidParameterError(
                "yield_low",
                obs.yield_low,
                "> 0 for fitting",
                f"observation {obs.name!r} (a yield of 0 has no finite defect density)",
            )
    found = processes(pool)
    if len(found) > 1:
        raise CalibrationError(
            "observations come from more than one process ("
            + ", ".join(repr(p) for p in found)
            + "); a fit is per process: select(observations, process=...)"
        )
    kinds = tuple(dict.fromkeys(o.counts for o in pool))
    if len(kinds) > 1:
        raise CalibrationError(
            "observations count good dies in different ways ("
            + ", ".join(kinds)
            + "); fit them separately: select(observations, counts=...)"
        )
    return pool


def _check_free(model: str, free: str | Iterable[str], fixed: Mapping[str, Any]) -> tuple[str, ...]:
    names = (free,) if isinstance(free, str) else tuple(free)
    allowed = _fittable(model)
    if not names:
        raise InvalidParameterError("free", names, "at least one of " + ", ".join(allowed))
    for name in names:
        if name not in allowed:
            raise InvalidParameterError(
                "free",
                name,
                "one of " + ", ".join(allowed),
                f"parameters that {model} can fit",
            )
        if name in fixed:
            raise InvalidParameterError("free", name, "a parameter that is not also fixed")
    if len(set(names)) != len(names):
        raise InvalidParameterError("free", names, "distinct parameter names")
    return tuple(p for p in FITTABLE_PARAMETERS if p in names)  # canonical order


def _check_fixed(model: str, fixed: Mapping[str, Any] | None) -> dict[str, float]:
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise InvalidParameterError("fixed", fixed, "a mapping of parameter name to value")
    valid = _model_parameters(model)
    out: dict[str, float] = {}
    for key, value in fixed.items():
        if key not in valid:
            raise UnknownNameError("fixed", key, valid)
        if key == "n_layers":
            out[key] = check_integer(key, value, low=1)
        else:
            out[key] = check_real(key, value)
    return out


def _encode(name: str, value: float) -> float:
    kind, low, high = _SEARCH[name]
    value = min(max(value, low), high)
    return math.log(value) if kind == "log" else value


def _decode(name: str, x: float) -> float:
    kind, low, high = _SEARCH[name]
    value = math.exp(x) if kind == "log" else x
    return min(max(value, low), high)


def _bounds(free: Sequence[str]) -> tuple[list[float], list[float]]:
    """The search box of the free parameters, encoded as the optimiser sees them."""
    lower = [_encode(name, _SEARCH[name][1]) for name in free]
    upper = [_encode(name, _SEARCH[name][2]) for name in free]
    return lower, upper


#: Relative forward-difference step, sqrt(machine epsilon): the step that balances
#: truncation and rounding error for a first derivative.
_FD_STEP = float(np.sqrt(np.finfo(np.float64).eps))


_Vector = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def _with_jacobian(
    residuals: _Vector, lower: NDArray[np.float64], upper: NDArray[np.float64]
) -> tuple[_Vector, _Vector]:
    """``residuals`` and its forward-difference Jacobian, the steps kept inside the bounds.

    The same differences as ``least_squares(jac="2-point")`` (step
    h_j = sqrt(eps)·max(1, |x_j|) with the sign of x_j, reversed where it would
    leave the box), computed directly: with one to three parameters and a
    handful of observations, scipy's general finite-difference machinery cost
    several times more than the residuals it differences. The residual at x is
    the one ``least_squares`` has just evaluated through the first function
    returned, so it is reused, not recomputed.
    """
    last: list[tuple[bytes, NDArray[np.float64]]] = []

    def cached(x: NDArray[np.float64]) -> NDArray[np.float64]:
        key = x.tobytes()
        if last and last[0][0] == key:
            return last[0][1]
        f = residuals(x)
        last[:] = [(key, f)]
        return f

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        f0 = cached(x)
        h = _FD_STEP * np.where(x >= 0.0, 1.0, -1.0) * np.maximum(1.0, np.abs(x))
        outside = (x + h < lower) | (x + h > upper)
        h = np.where(outside & (np.abs(h) <= np.maximum(x - lower, upper - x)), -h, h)
        out = np.empty((f0.size, x.size))
        for j in range(x.size):  # one column per free parameter (at most three)
            step = x.copy()
            step[j] += h[j]
            out[:, j] = (residuals(step) - f0) / (step[j] - x[j])
        return out

    return cached, jacobian


def _log_residuals(
    y: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Signed log-yield distance of ``y`` to ``[low, high]`` (0 inside)."""
    log_y = np.log(np.maximum(y, _TINY))
    return log_y - np.clip(log_y, np.log(low), np.log(high))


def _constraining(observations: Sequence[Observation], residuals: Iterable[float]) -> int:
    """How many observations constrain a fit with these residuals.

    A point value pins the curve; an interval only constrains when it is missed
    (an interval that is met, even on its bound, is an inequality with slack on
    the other side and leaves a range of parameters).
    """
    return sum(
        obs.is_point or float(res) != 0.0 for obs, res in zip(observations, residuals, strict=True)
    )


def _within(residuals: NDArray[np.float64], tolerance: float) -> NDArray[np.bool_]:
    """Whether each log-yield residual counts as met (within ``tolerance``, with rounding slack)."""
    return np.asarray(np.abs(residuals) <= tolerance * (1.0 + 1e-9))


@dataclass(frozen=True)
class CalibrationResult:
    """A yield model fitted to observations of one process.

    Attributes
    ----------
    model : str
        Registry name of the model (a key of ``YIELD_MODELS``).
    parameters : dict of str to float
        Every parameter of the calibrated model, fitted and fixed, with the
        keywords :func:`~waferlab.yield_models.die_yield` accepts, so
        ``die_yield(result.model, area, **result.parameters)`` is the
        calibrated yield.
    free : tuple of str
        The fitted parameters.
    fixed : dict of str to float
        The parameters the caller fixed.
    observations : tuple of Observation
    predictions : tuple of float
        Model yield at each observation's die area.
    residuals : tuple of float
        Signed log-yield distance of each prediction to its interval (0 inside;
        negative when the model predicts too little).
    met : tuple of bool
        Whether each prediction is within ``tolerance`` of its interval.
    cost : float
        Sum of squared residuals.
    tolerance : float
        Largest |residual| that counts as met.
    n_constraining : int
        Observations that constrain the fit: point values, and intervals the
        fit misses.
    constraint : str
        How far the observations determine the free parameters, one of
        :data:`CONSTRAINTS`: ``"over-determined"`` (more constraining
        observations than free parameters: the parameters are unique and the
        fit also tests the model), ``"exactly determined"`` (as many: the
        parameters are unique, but the fit cannot fail, so it tests nothing)
        or ``"under-determined"`` (fewer: a range of parameter values fits
        equally well; see :func:`feasible_range`). A free parameter that a
        failing fit holds at its search bound does not count as free.
    constraint_note : str
        The counts behind ``constraint`` and what they mean for this fit.

    Examples
    --------
    >>> ga100 = Observation("GA100", 826.0, 0.415, 0.415, source="CSIS 2025")
    >>> a12 = Observation("A12", 83.27, 0.90, 1.0, source="CSIS 2025")
    >>> fit = fit_yield_model([ga100, a12], "murphy")
    >>> fit.label(), fit.met, fit.constraint
    ('Murphy, D0 = 0.116 /cm²', (True, True), 'exactly determined')
    >>> round(fit.predict(100.0), 4)  # yield of a 100 mm² die [fraction]
    0.8918
    """

    model: str
    parameters: dict[str, float]
    free: tuple[str, ...]
    fixed: dict[str, float]
    observations: tuple[Observation, ...]
    predictions: tuple[float, ...]
    residuals: tuple[float, ...]
    cost: float
    tolerance: float
    constraint: str
    constraint_note: str

    @property
    def met(self) -> tuple[bool, ...]:
        """Whether each prediction is within ``tolerance`` of its interval."""
        return tuple(bool(ok) for ok in _within(np.array(self.residuals), self.tolerance))

    @property
    def n_constraining(self) -> int:
        """Observations that constrain the fit: point values, and intervals the fit misses."""
        return _constraining(self.observations, self.residuals)

    @property
    def all_met(self) -> bool:
        """Whether every observation is met."""
        return all(self.met)

    @property
    def unique(self) -> bool:
        """Whether the observations fix the free parameters uniquely (not under-determined)."""
        return self.constraint != "under-determined"

    @property
    def testable(self) -> bool:
        """Whether the fit is also a test of the model (over-determined: it could have failed)."""
        return self.constraint == "over-determined"

    @property
    def defect_density_per_cm2(self) -> float:
        """The calibrated defect density [/cm²] (per layer for ``bose_einstein_per_layer``)."""
        return self.parameters["defect_density_per_cm2"]

    def predict(self, die_area_mm2: Any) -> Any:
        """Return the calibrated yield at ``die_area_mm2`` [mm²] (scalar or array)."""
        return die_yield(self.model, die_area_mm2, **self.parameters)

    def label(self) -> str:
        """A legend label: the model and its non-default parameters."""
        return model_label(self.model, self.parameters)

    def table(self) -> str:
        """Return the observations with prediction and residual as a text table."""
        rows = [
            {
                "observation": obs.name,
                "area": obs.die_area_mm2,
                "published": obs.yield_text,
                "model": format_percent(pred),
                "residual": res,
                "met": ok,
            }
            for obs, pred, res, ok in zip(
                self.observations, self.predictions, self.residuals, self.met, strict=True
            )
        ]
        return format_table(
            rows,
            ["observation", "area", "published", "model", "residual", "met"],
            headers=["observation", "area [mm²]", "published", "model", "log residual", "met"],
        )

    def __repr__(self) -> str:
        met = "all met" if self.all_met else f"{sum(self.met)} of {len(self.met)} met"
        return short_repr(
            f"CalibrationResult({self.label()}, free {'+'.join(self.free)}, "
            f"{len(self.observations)} observations, {met}, {self.constraint})"
        )

    def _observation_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "observation": obs.name,
                "die_area_mm2": obs.die_area_mm2,
                "yield_low": obs.yield_low,
                "yield_high": obs.yield_high,
                "published": obs.yield_text,
                "prediction": pred,
                "residual": res,
                "met": ok,
            }
            for obs, pred, res, ok in zip(
                self.observations, self.predictions, self.residuals, self.met, strict=True
            )
        ]

    def _repr_html_(self) -> str:
        rows = self._observation_rows()
        for row in rows:
            row["model"] = format_percent(row["prediction"])
        return html_table(
            rows,
            ["observation", "die_area_mm2", "published", "model", "residual", "met"],
            headers=["observation", "area [mm²]", "published", "model", "log residual", "met"],
            caption=f"{self.label()}; free {', '.join(self.free)}; {self.constraint}",
        )

    def to_frame(self) -> Any:
        """Return one row per observation as a pandas DataFrame (pandas imported here).

        Columns: observation, die_area_mm2, yield_low, yield_high, published,
        prediction, residual, met.

        Examples
        --------
        >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
        >>> fit_yield_model(smic, "poisson").to_frame()[["observation", "met"]]  # doctest: +SKIP
           observation    met
        0         910B  False
        1  Kirin 9000S  False
        """
        import pandas as pd

        return pd.DataFrame(self._observation_rows())

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-able dict."""
        return {
            "model": self.model,
            "parameters": dict(self.parameters),
            "free": list(self.free),
            "fixed": dict(self.fixed),
            "cost": self.cost,
            "all_met": self.all_met,
            "tolerance": self.tolerance,
            "n_constraining": self.n_constraining,
            "constraint": self.constraint,
            "unique": self.unique,
            "testable": self.testable,
            "constraint_note": self.constraint_note,
            "observations": [
                {
                    **obs.to_dict(),
                    "prediction": pred,
                    "residual": res,
                    "met": ok,
                }
                for obs, pred, res, ok in zip(
                    self.observations, self.predictions, self.residuals, self.met, strict=True
                )
            ],
        }


_SYMBOLS = {
    "defect_density_per_cm2": "D0",
    "gross_yield": "Y0",
    "alpha": "α",
    "n_layers": "n",
    "critical_area_fraction": "f",
}


def _symbol(model: str, name: str) -> str:
    """The symbol of parameter ``name`` of ``model`` (the density's comes from the registry)."""
    if name == "defect_density_per_cm2" and model in YIELD_MODELS:
        return YIELD_MODELS[model].density_symbol
    return _SYMBOLS[name]


def _display_name(model: str) -> str:
    """The registry's display name of ``model``; an unregistered name spelled out in words."""
    if model in YIELD_MODELS:
        return YIELD_MODELS[model].display_name
    title = model.replace("_", " ")
    return title[:1].upper() + title[1:]


def _format_value(name: str, value: float) -> str:
    if name == "defect_density_per_cm2":
        return f"{value:.3g} /cm²"
    if name == "n_layers":
        return f"{value:g}"
    return f"{value:.3g}"


def model_label(model: str, parameters: Mapping[str, float]) -> str:
    """Name a yield model and its parameters for legends and tables.

    Parameters
    ----------
    model : str
        A registered yield-model name.
    parameters : mapping of str to float
        Keywords of :func:`~waferlab.yield_models.die_yield`; a gross yield or
        critical-area fraction that rounds to 1 is left out.

    Returns
    -------
    str
        The display name, then ``symbol = value`` for each parameter.

    Examples
    --------
    >>> model_label("murphy", {"defect_density_per_cm2": 0.1156, "gross_yield": 1.0})
    'Murphy, D0 = 0.116 /cm²'
    """
    parts = [_display_name(model)]
    for name in (
        "defect_density_per_cm2",
        "alpha",
        "n_layers",
        "gross_yield",
        "critical_area_fraction",
    ):
        if name not in parameters:
            continue
        value = float(parameters[name])
        if name in ("gross_yield", "critical_area_fraction") and f"{value:.3g}" == "1":
            continue
        parts.append(f"{_symbol(model, name)} = {_format_value(name, value)}")
    return ", ".join(parts)


def _start_points(
    model: str,
    free: tuple[str, ...],
    base: Mapping[str, float],
    observations: Sequence[Observation],
) -> list[dict[str, float]]:
    """Initial values for the multi-start search (a small grid around closed-form D0s)."""
    gross_starts = _GROSS_YIELD_STARTS if "gross_yield" in free else (base.get("gross_yield", 1.0),)
    alpha_starts: tuple[float | None, ...] = (
        _ALPHA_STARTS if "alpha" in free else (base.get("alpha"),)
    )
    starts: list[dict[str, float]] = []
    areas = np.array([o.die_area_mm2 for o in observations])
    low = np.array([o.yield_low for o in observations])
    high = np.array([o.yield_high for o in observations])
    for g0 in gross_starts:
        for a0 in alpha_starts:
            point: dict[str, float] = {}
            if "gross_yield" in free:
                point["gross_yield"] = g0
            if a0 is not None and "alpha" in free:
                point["alpha"] = a0
            if "defect_density_per_cm2" not in free:
                starts.append(point)
                continue
            params = {**base, **point}
            params.pop("defect_density_per_cm2", None)
            ceiling = params.get("gross_yield", 1.0)
            targets = np.minimum(np.sqrt(low * high), 0.999 * ceiling)
            inverse = _inverse_or_inf(
                model,
                areas,
                targets,
                {k: np.asarray(v, dtype=np.float64) for k, v in params.items()},
            )
            d0s = inverse[np.isfinite(inverse) & (inverse > 0.0)]
            if d0s.size == 0:
                d0s = np.array([0.1])
            for d0 in sorted({float(d0s.min()), float(np.median(d0s)), float(d0s.max())}):
                starts.append({**point, "defect_density_per_cm2": d0})
    return starts


def _constraint(
    n_constraining: int, n_free: int, cost: float, slack: Sequence[str], at_bound: Sequence[str]
) -> tuple[str, str]:
    """Classify a fit as over-, exactly or under-determined, with a note saying why."""
    plural = "s" if n_free != 1 else ""
    counted = (
        f"{n_constraining} constraining observation{'s' if n_constraining != 1 else ''} "
        f"for {n_free} free parameter{plural}"
    )
    n_effective = n_free
    if cost > 0.0 and at_bound:
        # A parameter held at its search bound by a fit that still misses
        # observations is not free any more: the bound is an active constraint.
        n_effective = n_free - len(at_bound)
        counted += (
            f" ({', '.join(at_bound)} held at {'its' if len(at_bound) == 1 else 'their'} "
            "search bound)"
        )
    if n_constraining > n_effective:
        if cost > 0.0:
            return "over-determined", (
                f"{counted}: over-determined; the fit tests the model and the model fails it "
                "(see the residuals)"
            )
        return "over-determined", f"{counted}: over-determined; the fit tests the model"
    if cost > 0.0:
        kind = "exactly determined" if n_constraining == n_effective else "under-determined"
        return kind, f"{counted}: the best fit still misses observations (see the residuals)"
    if n_constraining == n_free:
        tested = (
            f"; {', '.join(slack)} met inside {'its' if len(slack) == 1 else 'their'} "
            "interval, a test the model passed"
            if slack
            else "; nothing is left over to test the model"
        )
        return (
            "exactly determined",
            f"{counted}: exactly determined; the point values fix the parameters uniquely{tested}",
        )
    return "under-determined", (
        f"{counted}: under-determined; a range of parameter values meets every "
        "observation (see feasible_range)"
    )


def fit_yield_model(
    observations: Iterable[Observation],
    model: str,
    *,
    free: str | Iterable[str] = ("defect_density_per_cm2",),
    fixed: Mapping[str, float] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> CalibrationResult:
    """Fit a yield model's free parameters to observations of one process.

    Parameters
    ----------
    observations : iterable of Observation
        Observations of one process that count good dies the same way (use
        :func:`select`). Every ``yield_low`` must be > 0.
    model : str
        Registry name of the model (a key of ``YIELD_MODELS``).
    free : str or iterable of str, default ("defect_density_per_cm2",)
        Parameters to fit: any of ``defect_density_per_cm2``, ``gross_yield``
        and (for ``negative_binomial``) ``alpha``.
    fixed : mapping, optional
        Values of the other parameters (``gross_yield``,
        ``critical_area_fraction``, ``alpha``, ``n_layers``, or the defect
        density when it is not free). Unset ones take the model's defaults;
        ``n_layers`` of ``bose_einstein`` and ``bose_einstein_per_layer`` has
        none and must be given. The density is the model's own density
        argument: per layer for ``bose_einstein_per_layer``.
    tolerance : float, default 0.01
        Largest log-yield distance from an observation's interval that counts
        as met (0.01 is about 1 % of the yield).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InvalidParameterError
        If an argument is invalid: unknown model or parameter, a parameter
        both free and fixed, an observation with ``yield_low == 0``.
    CalibrationError
        If the observations mix processes or ways of counting, there are more
        free parameters than observations, or no start point converges.

    Notes
    -----
    The residual of observation i with interval [L_i, H_i] and model yield
    y_i is the log-yield distance to the interval,

        r_i = log y_i − log clip(y_i, L_i, H_i),

    zero anywhere inside the interval, and the fit minimises Σ r_i² with
    ``scipy.optimize.least_squares`` (trust region reflective, with bounds:
    D0 in [1e-9, 1e7] /cm² and α in [1e-3, 1e4] searched on a log scale,
    gross yield in [1e-6, 1]). Log-yield is the natural scale: published
    yields are relative figures, the gross yield is a factor (log Y0 adds),
    and under Poisson log Y = log Y0 − A·D0 is linear in the parameters, so a
    miss of 2 points at 20 % (10 % relative) weighs more than a miss of 2
    points at 90 % (2 % relative), as it should. The search starts from every
    combination of a few gross yields (1, 0.8, 0.5) and α values (0.3, 1, 3,
    30) with the closed-form D0 of the smallest, median and largest
    observation, and keeps the lowest cost. When several start points reach
    a zero cost (a family of exact fits), it returns the one whose predictions
    lie closest to the centres of the interval observations (in log-yield).

    References
    ----------
    .. [1] G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of
       the U.S.-China AI Race", CSIS, 2025 (the observations of ``csis-2025``).
    .. [2] C. H. Stapper, F. M. Armstrong, K. Saji, "Integrated circuit yield
       statistics", Proc. IEEE 71(4), 453–470, 1983 (fitting D0 and α to yield
       against chip area).

    Examples
    --------
    >>> ga100 = Observation("GA100", 826.0, 0.415, 0.415, source="CSIS 2025")
    >>> fit = fit_yield_model([ga100], "murphy")
    >>> round(fit.parameters["defect_density_per_cm2"], 4)
    0.1156
    >>> fit.all_met, fit.constraint
    (True, 'exactly determined')
    """
    from scipy.optimize import least_squares

    _check_model(model)
    pool = _check_observations(observations)
    tol = check_real("tolerance", tolerance, low=0.0)
    fixed_values = _check_fixed(model, fixed)
    free_names = _check_free(model, free, fixed_values)
    if "defect_density_per_cm2" not in free_names and "defect_density_per_cm2" not in fixed_values:
        raise InvalidParameterError(
            "fixed",
            fixed_values,
            "a mapping with defect_density_per_cm2 when the density is not free",
        )
    if len(free_names) > len(pool):
        raise CalibrationError(
            f"{len(free_names)} free parameters ({', '.join(free_names)}) but only "
            f"{len(pool)} observation{'s' if len(pool) != 1 else ''}: fix some parameters"
        )
    base: dict[str, float] = {"gross_yield": 1.0, **YIELD_MODELS[model].defaults, **fixed_values}
    for name in free_names:
        base.pop(name, None)
    area = np.array([o.die_area_mm2 for o in pool])
    low = np.array([o.yield_low for o in pool])
    high = np.array([o.yield_high for o in pool])

    def parameters_at(x: NDArray[np.float64]) -> dict[str, float]:
        return {
            **base,
            **{name: _decode(name, float(v)) for name, v in zip(free_names, x, strict=True)},
        }

    # The optimiser evaluates the model thousands of times at a handful of areas: one
    # scalar call per observation takes die_yield's plain-number path, several times
    # faster than one validated array call (the two paths agree: test_yield_models.py).
    areas = tuple(float(a) for a in area)

    def predicted(x: NDArray[np.float64]) -> NDArray[np.float64]:
        parameters = parameters_at(x)
        return np.array([die_yield(model, a, **parameters) for a in areas], dtype=np.float64)

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return _log_residuals(predicted(x), low, high)

    lower, upper = _bounds(free_names)
    fun, jacobian = _with_jacobian(residuals, np.array(lower), np.array(upper))

    starts = _start_points(model, free_names, base, pool)
    # Validate the fixed parameters (and n_layers being present) once, so that a
    # bad fixed value is reported as the caller's error, not as a failed fit.
    die_yield(model, area, **{**base, **starts[0]})
    # Interval observations' centres (log scale): among start points that all
    # reach a zero cost (an under-determined fit), keep the one whose
    # predictions sit most centrally in their intervals rather than the first
    # one found, which often ends on an interval bound.
    interval = low < high
    log_centre = 0.5 * (np.log(low) + np.log(high))

    def centrality(x: NDArray[np.float64]) -> float:
        y = np.asarray(die_yield(model, area, **parameters_at(x)), dtype=np.float64)
        return float(np.sum((np.log(np.maximum(y, _TINY)) - log_centre)[interval] ** 2))

    candidates: list[tuple[float, NDArray[np.float64]]] = []
    for start in starts:
        x0 = np.array([_encode(name, start[name]) for name in free_names])
        x0 = np.clip(x0, lower, upper)
        solution = least_squares(
            fun,
            x0,
            jac=jacobian,
            bounds=(lower, upper),
            method="trf",
            xtol=1e-13,
            ftol=1e-13,
            gtol=1e-13,
        )
        cost = float(np.sum(solution.fun**2))
        if solution.status > 0 and math.isfinite(cost):
            candidates.append((cost, np.asarray(solution.x, dtype=np.float64)))
    best_x: NDArray[np.float64] | None = None
    if candidates:
        best_cost = min(cost for cost, _ in candidates)
        if best_cost < _ZERO_COST:
            tied = [x for cost, x in candidates if cost < _ZERO_COST]
            best_x = min(tied, key=centrality)
        else:
            best_x = next(x for cost, x in candidates if cost == best_cost)
    if best_x is None:
        raise CalibrationError(
            f"the {model} fit of {', '.join(free_names)} did not converge from any start point"
        )
    fitted = parameters_at(best_x)
    order = (*_BASE_PARAMETERS, *YIELD_MODELS[model].parameters)
    parameters = {k: fitted[k] for k in order if k in fitted}
    y = np.asarray(die_yield(model, area, **parameters), dtype=np.float64)
    r = _log_residuals(y, low, high)
    cost = float(np.sum(r**2))
    if cost < _ZERO_COST:
        cost, r = 0.0, np.where(np.abs(r) < 1e-12, 0.0, r)
    n_constraining = _constraining(pool, r)
    slack = [
        o.name
        for o, res, is_point in zip(pool, r, low == high, strict=True)
        if res == 0.0 and not is_point
    ]
    at_bound = [
        name
        for name, x, lo_x, hi_x in zip(free_names, best_x, lower, upper, strict=True)
        if min(abs(x - lo_x), abs(x - hi_x)) <= 1e-7 * max(1.0, abs(lo_x), abs(hi_x))
    ]
    constraint, note = _constraint(n_constraining, len(free_names), cost, slack, at_bound)
    return CalibrationResult(
        model=model,
        parameters=parameters,
        free=free_names,
        fixed=fixed_values,
        observations=pool,
        predictions=tuple(float(v) for v in y),
        residuals=tuple(float(v) for v in r),
        cost=cost,
        tolerance=tol,
        constraint=constraint,
        constraint_note=note,
    )


# --------------------------------------------------------------------------- #
# Comparison of models
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class ModelComparison:
    """Every model fitted to the same observations, one row per model variant and free set.

    Attributes
    ----------
    observations : tuple of Observation
        The observations every row is fitted to.
    results : tuple of CalibrationResult
        One fit per row, in table order.
    held_out : tuple of Observation
        Observations that are predicted by every row but not fitted (e.g. the
        A12 when D0 is fitted to the GA100 alone).

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> comparison = compare_models(smic, models=["poisson"])
    >>> comparison.process, [r.free for r in comparison.reconciling()]
    ('SMIC N+2', [('defect_density_per_cm2', 'gross_yield')])
    """

    observations: tuple[Observation, ...]
    results: tuple[CalibrationResult, ...]
    held_out: tuple[Observation, ...] = ()

    @property
    def process(self) -> str:
        """The process of the fitted observations."""
        return self.observations[0].process

    @property
    def counts(self) -> str:
        """What the fitted observations count as a good die (one of :data:`COUNTS`)."""
        return self.observations[0].counts

    def held_out_predictions(self, result: CalibrationResult) -> tuple[tuple[float, bool], ...]:
        """Return (prediction, met) of every held-out observation under ``result``."""
        return tuple((y, ok) for y, ok, _ in self._held_out(result))

    def _held_out(self, result: CalibrationResult) -> tuple[tuple[float, bool, float], ...]:
        """(prediction, met, log-yield residual) of every held-out observation."""
        if not self.held_out:
            return ()
        area = np.array([o.die_area_mm2 for o in self.held_out])
        y = np.asarray(result.predict(area), dtype=np.float64)
        r = _log_residuals(
            y,
            np.array([max(o.yield_low, _TINY) for o in self.held_out]),
            np.array([o.yield_high for o in self.held_out]),
        )
        ok = _within(r, result.tolerance)
        return tuple((float(v), bool(m), float(res)) for v, m, res in zip(y, ok, r, strict=True))

    def rows(self) -> list[dict[str, Any]]:
        """Return one dict per fit: model, fixed and free parameters, fitted values, predictions.

        ``predictions`` and ``met`` cover the fitted observations and then the
        held-out ones; ``all_met`` is about the fitted ones only and
        ``held_out_met`` about the held-out ones (``None`` when nothing is
        held out).
        """
        out = []
        for result in self.results:
            held = self.held_out_predictions(result)
            predictions = {
                obs.name: pred
                for obs, pred in zip(result.observations, result.predictions, strict=True)
            }
            met = {obs.name: ok for obs, ok in zip(result.observations, result.met, strict=True)}
            for obs, (pred, ok) in zip(self.held_out, held, strict=True):
                predictions[obs.name] = pred
                met[obs.name] = ok
            out.append(
                {
                    "model": result.model,
                    "variant": _variant_label(result),
                    "free": list(result.free),
                    "fixed": dict(result.fixed),
                    "parameters": dict(result.parameters),
                    "predictions": predictions,
                    "met": met,
                    "all_met": result.all_met,
                    "held_out_met": all(ok for _, ok in held) if held else None,
                    "cost": result.cost,
                    "constraint": result.constraint,
                    "unique": result.unique,
                    "testable": result.testable,
                }
            )
        return out

    def reconciling(self) -> tuple[CalibrationResult, ...]:
        """Return the fits that meet every fitted observation."""
        return tuple(r for r in self.results if r.all_met)

    def __repr__(self) -> str:
        held = f", {len(self.held_out)} held out" if self.held_out else ""
        return short_repr(
            f"ModelComparison({self.process or 'no process'!r}, "
            f"{len(self.observations)} observations{held}, {len(self.results)} fits, "
            f"{len(self.reconciling())} meet every observation)"
        )

    def _frame_rows(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows():
            parameters = row["parameters"]
            flat = {
                "model": row["model"],
                "variant": row["variant"],
                "free": "+".join(row["free"]),
                "defect_density_per_cm2": parameters["defect_density_per_cm2"],
                "gross_yield": parameters.get("gross_yield", 1.0),
                "alpha": parameters.get("alpha"),
                "n_layers": parameters.get("n_layers"),
                "all_met": row["all_met"],
                "held_out_met": row["held_out_met"],
                "constraint": row["constraint"],
                "cost": row["cost"],
            }
            for name, prediction in row["predictions"].items():
                flat[f"prediction {name}"] = prediction
            out.append(flat)
        return out

    def _repr_html_(self) -> str:
        return html_table(
            self._frame_rows(),
            [
                "variant",
                "free",
                "defect_density_per_cm2",
                "gross_yield",
                "alpha",
                "all_met",
                "constraint",
            ],
            headers=["model", "free", "D0 [/cm²]", "Y0", "α", "fit met", "constraint"],
            caption=repr(self),
        )

    def to_frame(self) -> Any:
        """Return one row per fit as a pandas DataFrame (pandas imported here).

        Columns: model, variant, free, the parameters (``defect_density_per_cm2``,
        ``gross_yield``, ``alpha``, ``n_layers``), all_met, held_out_met,
        constraint, cost, and ``prediction NAME`` per observation (fitted,
        then held out).

        Examples
        --------
        >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
        >>> comparison = compare_models(smic, free_sets=[("defect_density_per_cm2",)])
        >>> frame = comparison.to_frame()  # doctest: +SKIP
        >>> frame.loc[frame.model == "poisson", ["variant", "all_met"]]  # doctest: +SKIP
           variant  all_met
        0  poisson    False
        """
        import pandas as pd

        return pd.DataFrame(self._frame_rows())

    def find(
        self, model: str, free: Iterable[str] = ("defect_density_per_cm2",), **fixed: float
    ) -> CalibrationResult:
        """Return the row of ``model`` with these free parameters and fixed values.

        Raises
        ------
        KeyError
            If there is no such row.
        """
        wanted_free = tuple(p for p in FITTABLE_PARAMETERS if p in tuple(free))
        for result in self.results:
            if result.model != model or result.free != wanted_free:
                continue
            if all(math.isclose(result.fixed.get(k, math.nan), v) for k, v in fixed.items()):
                return result
        raise KeyError(f"no row for {model} with free {wanted_free} and fixed {fixed}")

    def table(self, *, mark_tolerance: bool = False) -> str:
        """Return the comparison as a text table (yields in percent, ✗ = not met).

        Held-out observations are marked with ``*`` in the header: predicted,
        not fitted. "fit met" says whether every fitted observation is met;
        with held-out observations a "held-out met" column says the same of
        them. "constraint" is :attr:`CalibrationResult.constraint`; "cost" is
        :attr:`CalibrationResult.cost`, the sum of squared log-yield residuals.

        Parameters
        ----------
        mark_tolerance : bool, default False
            Also mark with ``≈`` a prediction that is met only within the
            fit's tolerance (a non-zero residual), not exactly.
        """
        fitted = [obs.name for obs in self.observations]
        held = [obs.name for obs in self.held_out]
        keys = [f"fit:{n}" for n in fitted] + [f"held:{n}" for n in held]
        met_columns = ["all_met", "held_met"] if held else ["all_met"]
        met_headers = ["fit met", "held-out met"] if held else ["fit met"]
        columns = [
            "variant",
            "free",
            "d0",
            "y0",
            "alpha",
            *keys,
            *met_columns,
            "constraint",
            "cost",
        ]
        headers = [
            "model",
            "free",
            "D0 [/cm²]",
            "Y0",
            "α",
            *fitted,
            *(f"{n}*" for n in held),
            *met_headers,
            "constraint",
            "cost",
        ]
        observed: dict[str, Any] = dict.fromkeys(columns)
        observed.update(variant="published", free="")
        for key, obs in zip(keys, (*self.observations, *self.held_out), strict=True):
            observed[key] = obs.yield_text.replace(" %", "")
        rows: list[dict[str, Any]] = [observed]
        for result in self.results:
            row: dict[str, Any] = {
                "variant": _variant_label(result),
                "free": "+".join(_symbol(result.model, p) for p in result.free),
                "d0": result.parameters["defect_density_per_cm2"],
                "y0": result.parameters.get("gross_yield", 1.0),
                "alpha": result.parameters.get("alpha"),
                "all_met": result.all_met,
                "constraint": result.constraint,
                "cost": result.cost,
            }
            held_out = self._held_out(result)
            row["held_met"] = all(ok for _, ok, _ in held_out)
            triples = list(
                zip(result.predictions, result.met, result.residuals, strict=True)
            ) + list(held_out)
            for key, (pred, ok, residual) in zip(keys, triples, strict=True):
                mark = " ✗" if not ok else (" ≈" if mark_tolerance and residual != 0.0 else "")
                row[key] = f"{100.0 * pred:.1f}" + mark
            rows.append(row)
        counted = "" if self.counts == "fully-good" else f" ({self.counts} yields)"
        title = f"{self.process or 'observations'}{counted}: fitted to " + _listed(
            self.observations
        )
        if self.held_out:
            title += "\n* held out (predicted, not fitted): " + _listed(self.held_out)
        return title + "\n" + format_table(rows, columns, headers=headers, float_format=".4g")

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as a JSON-able dict."""
        return {
            "process": self.process,
            "counts": self.counts,
            "observations": [obs.to_dict() for obs in self.observations],
            "held_out": [obs.to_dict() for obs in self.held_out],
            "rows": self.rows(),
        }


def _listed(observations: Iterable[Observation]) -> str:
    """``"910B 20 % at 665.61 mm²; Kirin 9000S 50–70 % at 107 mm²"``."""
    return "; ".join(f"{o.name} {o.yield_text} at {o.die_area_mm2:g} mm²" for o in observations)


def _variant_label(result: CalibrationResult) -> str:
    extras = [
        f"{_SYMBOLS[k]}={result.fixed[k]:g}"
        for k in ("alpha", "n_layers")
        if k in result.fixed and k not in result.free
    ]
    return result.model + (f" {' '.join(extras)}" if extras else "")


def default_comparison_models() -> tuple[str, ...]:
    """Return the models :func:`compare_models` fits when none are named.

    Every registered model except those that restate another one in a
    different parametrisation (``YieldModel.equivalent_to`` is set): their
    fits would repeat the other model's rows at a converted density.

    Examples
    --------
    >>> names = default_comparison_models()
    >>> "bose_einstein" in names, "bose_einstein_per_layer" in names
    (True, False)
    """
    return tuple(name for name, entry in YIELD_MODELS.items() if entry.equivalent_to is None)


def compare_models(
    observations: Iterable[Observation],
    *,
    models: Iterable[str] | None = None,
    alphas: Iterable[float] = (0.5, 1.0, 2.0, 5.0),
    n_layers: Iterable[int] = (10,),
    free_sets: Iterable[Iterable[str]] | None = None,
    fixed: Mapping[str, float] | None = None,
    held_out: Iterable[Observation] = (),
    tolerance: float = DEFAULT_TOLERANCE,
) -> ModelComparison:
    """Fit every model to the same observations with one and with two free parameters.

    Parameters
    ----------
    observations : iterable of Observation
        Observations of one process (see :func:`select`).
    models : iterable of str, optional
        Registry names; default every model in ``YIELD_MODELS`` except those
        that restate another one (``YieldModel.equivalent_to``, i.e.
        ``bose_einstein_per_layer``, whose rows would repeat the
        ``bose_einstein`` rows at D0 = n · D_layer). Name such a model here to
        fit it.
    alphas : iterable of float, default (0.5, 1, 2, 5)
        Fixed α values of the negative binomial rows (α = 1 is Seeds' formula;
        large α approaches Poisson).
    n_layers : iterable of int, default (10,)
        Fixed layer counts of the Bose–Einstein rows (both conventions).
    free_sets : iterable of iterables of str, optional
        Free-parameter sets to fit. Default: D0 alone, D0 with the gross
        yield, and (for models with α) D0 with α, where α is fitted rather
        than taken from ``alphas``. Sets with more parameters than
        observations are skipped.
    fixed : mapping, optional
        Values fixed in every row (e.g. ``critical_area_fraction``).
    held_out : iterable of Observation, optional
        Observations to predict with every row without fitting them; this is
        how to ask "D0 fitted to the GA100 alone: what does it say about the
        A12?".
    tolerance : float, default 0.01
        As in :func:`fit_yield_model`.

    Returns
    -------
    ModelComparison

    Raises
    ------
    InvalidParameterError, CalibrationError
        As :func:`fit_yield_model`.

    Notes
    -----
    Each row is one :func:`fit_yield_model` call, so each row minimises
    Σ (log y_i − log clip(y_i, L_i, H_i))² over its free parameters. A model
    "reconciles" the observations when every residual is within the
    tolerance; rows with a zero cost that are ``"under-determined"`` are one
    member of a family of equally good fits (see :func:`feasible_range`).

    References
    ----------
    .. [1] G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of
       the U.S.-China AI Race", CSIS, 2025: the claims the comparison checks.

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> comparison = compare_models(smic, models=["poisson", "seeds"])
    >>> [(r.model, r.free, r.all_met) for r in comparison.results]  # doctest: +NORMALIZE_WHITESPACE
    [('poisson', ('defect_density_per_cm2',), False),
     ('poisson', ('defect_density_per_cm2', 'gross_yield'), True),
     ('seeds', ('defect_density_per_cm2',), True),
     ('seeds', ('defect_density_per_cm2', 'gross_yield'), True)]
    """
    pool = _check_observations(observations)
    extra = tuple(held_out)
    for obs in extra:
        if not isinstance(obs, Observation):
            raise InvalidParameterError("held_out", obs, "a sequence of Observation")
    names = default_comparison_models() if models is None else tuple(models)
    for name in names:
        _check_model(name)
    alpha_values = tuple(check_real("alphas", a, low=0.0, low_open=True) for a in alphas)
    layer_values = tuple(check_integer("n_layers", n, low=1) for n in n_layers)
    common = dict(fixed or {})
    results: list[CalibrationResult] = []
    for model in names:
        model_params = _model_parameters(model)
        if free_sets is None:
            sets: list[tuple[str, ...]] = [
                ("defect_density_per_cm2",),
                ("defect_density_per_cm2", "gross_yield"),
            ]
        else:
            sets = [(s,) if isinstance(s, str) else tuple(s) for s in free_sets]
        variants: list[dict[str, float]]
        if "alpha" in model_params:
            variants = [{"alpha": a} for a in alpha_values]
        elif "n_layers" in model_params:
            variants = [{"n_layers": n} for n in layer_values]
        else:
            variants = [{}]
        for free in sets:
            if "alpha" in free:
                continue  # fitted once below, not per fixed α
            if len(free) > len(pool):
                continue
            for variant in variants:
                results.append(
                    fit_yield_model(
                        pool, model, free=free, fixed={**common, **variant}, tolerance=tolerance
                    )
                )
        alpha_sets = [s for s in sets if "alpha" in s]
        if free_sets is None and "alpha" in model_params:
            alpha_sets = [("defect_density_per_cm2", "alpha")]
        for free in alpha_sets:
            if "alpha" not in model_params or len(free) > len(pool):
                continue
            results.append(
                fit_yield_model(pool, model, free=free, fixed=common, tolerance=tolerance)
            )
    if not results:
        raise CalibrationError(
            f"no model could be fitted: every free-parameter set has more parameters than "
            f"the {len(pool)} observation{'s' if len(pool) != 1 else ''}"
        )
    return ModelComparison(observations=pool, results=tuple(results), held_out=extra)


# --------------------------------------------------------------------------- #
# Feasible parameter ranges
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class FeasibleRange:
    """The values of one parameter for which some D0 meets every observation.

    Attributes
    ----------
    model : str
        Registry name of the model.
    parameter : str
        The swept parameter (``gross_yield`` or ``alpha``), or
        ``defect_density_per_cm2`` when every other parameter is fixed.
    intervals : tuple of (float, float)
        Maximal feasible intervals, in increasing order (empty: nothing fits).
    search_bounds : (float, float)
        The interval searched; an interval ending on a search bound may
        extend beyond it (``open_low`` / ``open_high``). Intervals and bounds
        are in the parameter's unit: defects/cm² for the defect density,
        dimensionless for the gross yield and α.
    defect_density_per_cm2 : tuple of (float, float)
        For each end of each interval (flattened, same order), the feasible
        D0 range there; for ``parameter == "defect_density_per_cm2"`` empty.
    fixed : dict of str to float
        The parameters held fixed, with their values.
    tolerance : float
        Log-yield tolerance within which an observation counts as met.
    observations : tuple of str
        Names of the observations.

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> alpha = feasible_range(smic, "negative_binomial", "alpha")
    >>> alpha.text()
    'negative_binomial: alpha in [0.5824, 2.374] meets 910B, Kirin 9000S'
    >>> alpha.contains(1.0), alpha.open_high
    (True, False)
    """

    model: str
    parameter: str
    intervals: tuple[tuple[float, float], ...]
    search_bounds: tuple[float, float]
    defect_density_per_cm2: tuple[tuple[float, float], ...]
    fixed: dict[str, float]
    tolerance: float
    observations: tuple[str, ...]

    @property
    def is_empty(self) -> bool:
        """Whether no value of the parameter meets every observation."""
        return not self.intervals

    @property
    def low(self) -> float:
        """Smallest feasible value (NaN if empty)."""
        return self.intervals[0][0] if self.intervals else math.nan

    @property
    def high(self) -> float:
        """Largest feasible value (NaN if empty)."""
        return self.intervals[-1][1] if self.intervals else math.nan

    @property
    def open_low(self) -> bool:
        """Whether the feasible set reaches the lower search bound (and may go beyond)."""
        return bool(self.intervals) and self.low <= self.search_bounds[0]

    @property
    def open_high(self) -> bool:
        """Whether the feasible set reaches the upper search bound (and may go beyond)."""
        return bool(self.intervals) and self.high >= self.search_bounds[1]

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in a feasible interval."""
        return any(lo <= value <= hi for lo, hi in self.intervals)

    def text(self) -> str:
        """One line: ``"negative_binomial: alpha in [0.43, 2.5] meets 910B, Kirin 9000S"``."""
        symbol = self.parameter
        if not self.intervals:
            return f"{self.model}: no {symbol} meets {', '.join(self.observations)}"
        parts = list(self.interval_texts())
        return f"{self.model}: {symbol} in {' ∪ '.join(parts)} meets {', '.join(self.observations)}"

    def interval_texts(self) -> tuple[str, ...]:
        """Each interval as text: ``[0.58, 2.4]``, or ``≥ 1.45`` when α reaches the search end."""
        return tuple(_interval_text(self, lo, hi) for lo, hi in self.intervals)

    def __repr__(self) -> str:
        return short_repr(f"FeasibleRange({self.text()})")

    def _frame_rows(self) -> list[dict[str, Any]]:
        rows = []
        for k, (lo, hi) in enumerate(self.intervals):
            row: dict[str, Any] = {"model": self.model, "parameter": self.parameter, "low": lo}
            row["high"] = hi
            if self.defect_density_per_cm2:
                (d_lo_a, d_lo_b), (d_hi_a, d_hi_b) = self.defect_density_per_cm2[2 * k : 2 * k + 2]
                row.update(
                    d0_at_low_min=d_lo_a,
                    d0_at_low_max=d_lo_b,
                    d0_at_high_min=d_hi_a,
                    d0_at_high_max=d_hi_b,
                )
            rows.append(row)
        return rows

    def _repr_html_(self) -> str:
        columns = ["low", "high"]
        if self.defect_density_per_cm2:
            columns += ["d0_at_low_min", "d0_at_low_max", "d0_at_high_min", "d0_at_high_max"]
        return html_table(self._frame_rows(), columns, caption=self.text())

    def to_frame(self) -> Any:
        """Return one row per feasible interval as a pandas DataFrame (pandas imported here).

        Columns: model, parameter, low, high and, when D0 was solved for, the
        feasible D0 range at each end (``d0_at_low_min`` … ``d0_at_high_max``, /cm²).

        Examples
        --------
        >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
        >>> alpha = feasible_range(smic, "negative_binomial", "alpha")
        >>> alpha.to_frame()[["low", "high"]].round(3)  # doctest: +SKIP
             low   high
        0  0.582  2.374
        """
        import pandas as pd

        return pd.DataFrame(
            self._frame_rows(),
            columns=None if self.intervals else ["model", "parameter", "low", "high"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the range as a JSON-able dict."""
        return {
            "model": self.model,
            "parameter": self.parameter,
            "intervals": [list(i) for i in self.intervals],
            "low": self.low,
            "high": self.high,
            "open_low": self.open_low,
            "open_high": self.open_high,
            "search_bounds": list(self.search_bounds),
            "defect_density_per_cm2": [list(d) for d in self.defect_density_per_cm2],
            "fixed": dict(self.fixed),
            "tolerance": self.tolerance,
            "observations": list(self.observations),
        }


def _interval_text(result: FeasibleRange, lo: float, hi: float) -> str:
    """``[0.58, 2.4]``, or ``≥ 1.45`` / ``≤ 0.1`` when α reaches the end of the search."""
    if lo <= result.search_bounds[0] and hi >= result.search_bounds[1]:
        return f"anything searched, [{lo:.4g}, {hi:.4g}]"
    if result.parameter == "alpha":
        if hi >= result.search_bounds[1] and lo > result.search_bounds[0]:
            return f"≥ {lo:.4g}"
        if lo <= result.search_bounds[0] and hi < result.search_bounds[1]:
            return f"≤ {hi:.4g}"
    return f"[{lo:.4g}, {hi:.4g}]"


#: Observations x grid points evaluated at once by :func:`feasible_range`.
_MARGIN_CELLS = 200_000

_DEFAULT_SEARCH = {"gross_yield": (1e-3, 1.0), "alpha": (1e-2, 1e3)}


def _inverse_or_inf(
    model: str,
    area: NDArray[np.float64],
    target: NDArray[np.float64],
    params: Mapping[str, NDArray[np.float64]],
) -> NDArray[np.float64]:
    """Closed-form D0 for ``target`` yields, broadcast; +inf where it overflows."""
    try:
        return np.asarray(defect_density_for_yield(model, area, target, **params), dtype=float)
    except InvalidParameterError:
        pass  # some element overflows: evaluate one by one
    shape = np.broadcast_shapes(area.shape, target.shape, *(v.shape for v in params.values()))
    out = np.empty(shape)
    a_b, t_b = np.broadcast_to(area, shape), np.broadcast_to(target, shape)
    p_b = {k: np.broadcast_to(v, shape) for k, v in params.items()}
    for index in np.ndindex(shape):
        try:
            out[index] = defect_density_for_yield(
                model, a_b[index], t_b[index], **{k: v[index] for k, v in p_b.items()}
            )
        except InvalidParameterError:
            out[index] = np.inf
    return out


def _d0_bounds(
    model: str,
    pool: Sequence[Observation],
    params: Mapping[str, Any],
    tol: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per observation and parameter value, the D0 interval [lo, hi] meeting it.

    ``params`` values are scalars or 1-d arrays of one common length G; the
    result has shape (number of observations, G). The model yield falls with
    D0 from ``gross_yield`` at D0 = 0, so the yield interval
    [L·e^(−tol), H·e^(tol)] maps to a D0 interval through the closed-form
    inverse. When even D0 = 0 is below the lower end (no D0 meets the
    observation), hi is continued below 0 by −(L'/Y0 − 1), which keeps the
    margin continuous for root finding.
    """
    columns = {
        k: np.atleast_1d(np.asarray(v, dtype=np.float64))[None, :]
        for k, v in params.items()
        if k != "defect_density_per_cm2"
    }
    columns.setdefault("gross_yield", np.ones((1, 1)))
    gross = columns["gross_yield"]
    area = np.array([o.die_area_mm2 for o in pool])[:, None]
    y_low = np.array([o.yield_low for o in pool])[:, None] * math.exp(-tol)
    with np.errstate(over="ignore"):  # a tolerance beyond ~709 widens every interval to 1
        y_high = np.array([o.yield_high for o in pool])[:, None] * np.exp(tol)
    hi_inverse = _inverse_or_inf(model, area, np.minimum(y_low, gross), columns)
    lo_inverse = _inverse_or_inf(model, area, np.minimum(y_high, gross), columns)
    hi = np.where(y_low < gross, hi_inverse, -(y_low / gross - 1.0))
    lo = np.where(y_high < gross, lo_inverse, 0.0)
    return lo, hi


def _margin(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> NDArray[np.float64]:
    """min(min_j hi_j, min_{i≠j} (hi_j − lo_i)) along axis 0 (observations).

    Non-negative exactly when one D0 meets every observation. Pairs of an
    observation with itself are left out (for a point value lo = hi, which
    would pin the margin at 0); each hi_i >= 0 checks that the observation can
    be met at all.

    Linear in the number of observations: min over i≠j of (hi_j − lo_i) is
    hi_j − max_{i≠j} lo_i, and the largest lo among the others is the largest
    lo overall except at the observation holding it, where it is the second
    largest. An infinite hi_j against an infinite lo_i (both ends beyond any
    finite D0) counts as infeasible.
    """
    margin = np.min(hi, axis=0)
    n = lo.shape[0]
    if n > 1:
        order = np.argsort(lo, axis=0)
        top = np.take_along_axis(lo, order[-1:], axis=0)  # (1, G)
        second = np.take_along_axis(lo, order[-2:-1], axis=0)
        is_top = np.zeros(lo.shape, dtype=bool)
        np.put_along_axis(is_top, order[-1:], True, axis=0)
        others = np.where(is_top, second, top)  # max_{i≠j} lo_i, per j
        with np.errstate(invalid="ignore"):  # inf − inf where both ends overflow
            gaps = hi - others
        gaps = np.where(np.isnan(gaps), -np.inf, gaps)
        margin = np.minimum(margin, np.min(gaps, axis=0))
    return np.asarray(margin, dtype=np.float64)


def feasible_range(
    observations: Iterable[Observation],
    model: str,
    parameter: str,
    *,
    fixed: Mapping[str, float] | None = None,
    bounds: tuple[float, float] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    n_grid: int = 400,
) -> FeasibleRange:
    """Find the values of a parameter for which some D0 meets every observation.

    Parameters
    ----------
    observations : iterable of Observation
        Observations of one process (see :func:`select`).
    model : str
        Registry name of the model.
    parameter : str
        ``"gross_yield"`` or ``"alpha"`` (D0 is free at every value), or
        ``"defect_density_per_cm2"`` (every other parameter fixed).
    fixed : mapping, optional
        Values of the other parameters (defaults: the model's).
    bounds : (float, float), optional
        Search interval; default (0.001, 1) for the gross yield, (0.01, 1000)
        for α (searched on a log grid), and (0, the largest D0 any
        observation allows) for D0.
    tolerance : float, default 0.01
        Log-yield tolerance, as in :func:`fit_yield_model` (an observation is
        met within ``tolerance`` of its interval).
    n_grid : int, default 400
        Grid points used to bracket the interval ends before root finding.

    Returns
    -------
    FeasibleRange

    Raises
    ------
    InvalidParameterError
        If the model, parameter or a fixed value is invalid.
    CalibrationError
        If the observations mix processes or ways of counting.

    Notes
    -----
    Every model yield falls monotonically with D0, so observation i is met by
    the D0 interval [lo_i, hi_i] obtained from the closed-form inverse
    :func:`~waferlab.yield_models.defect_density_for_yield` at the ends of its
    (tolerance-widened) yield interval. One D0 meets all observations iff

        m(p) = min(min_j hi_j, min_{i≠j} (hi_j − lo_i)) ≥ 0.

    m is continuous in the swept parameter p; its sign is tabulated on a grid
    and each sign change refined with Brent's method, giving the interval
    ends to about 1e-10 relative.

    References
    ----------
    .. [1] R. P. Brent, *Algorithms for Minimization without Derivatives*,
       Prentice-Hall, 1973, ch. 4 (the root finder, ``scipy.optimize.brentq``).

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> g = feasible_range(smic, "poisson", "gross_yield")
    >>> 0.55 < g.low < g.high < 0.95
    True
    """
    _check_model(model)
    pool = _check_observations(observations)
    tol = check_real("tolerance", tolerance, low=0.0)
    fixed_values = _check_fixed(model, fixed)
    check_choice("parameter", parameter, _fittable(model))
    if parameter in fixed_values:
        raise InvalidParameterError("parameter", parameter, "a parameter that is not also fixed")
    grid_n = int(check_real("n_grid", n_grid, low=10.0))
    names = tuple(o.name for o in pool)

    if parameter == "defect_density_per_cm2":
        fixed_values.pop("defect_density_per_cm2", None)
        die_yield(model, 1.0, 0.0, **fixed_values)  # validate the fixed parameters
        lo, hi = _d0_bounds(model, pool, fixed_values, tol)
        d0_low, d0_high = float(np.max(lo)), float(np.min(hi))
        search = (0.0, max(float(np.max(hi)), 0.0))
        intervals = ((d0_low, d0_high),) if d0_high >= d0_low and d0_high >= 0.0 else ()
        return FeasibleRange(model, parameter, intervals, search, (), fixed_values, tol, names)

    if "defect_density_per_cm2" in fixed_values:
        raise InvalidParameterError(
            "fixed", fixed_values, "a mapping without defect_density_per_cm2 (D0 is solved for)"
        )
    if bounds is None:
        search = _DEFAULT_SEARCH[parameter]
    else:
        b0 = check_real("bounds", bounds[0], low=0.0, low_open=True)
        b1 = check_real("bounds", bounds[1], low=b0, low_open=True)
        if parameter == "gross_yield":
            check_real("bounds", b1, high=1.0)
        search = (b0, b1)
    die_yield(model, 1.0, 0.1, **{**fixed_values, parameter: search[1]})  # validate

    def margins(p: NDArray[np.float64]) -> NDArray[np.float64]:
        lo, hi = _d0_bounds(model, pool, {**fixed_values, parameter: p}, tol)
        return _margin(lo, hi)

    def margin(p: float) -> float:
        return float(margins(np.array([p]))[0])

    if parameter == "alpha":
        grid = np.geomspace(search[0], search[1], grid_n)
    else:
        grid = np.linspace(search[0], search[1], grid_n)
    # in slices of the grid, so that memory stays bounded for many observations
    step = max(1, _MARGIN_CELLS // len(pool))
    values = np.concatenate([margins(grid[k : k + step]) for k in range(0, grid_n, step)])
    feasible = values >= 0.0

    from scipy.optimize import brentq

    def edge(a: float, b: float) -> float:
        if parameter == "alpha":  # solve on log α for a well-scaled bracket
            root = brentq(lambda t: margin(math.exp(t)), math.log(a), math.log(b), xtol=1e-13)
            return float(math.exp(root))
        return float(brentq(margin, a, b, xtol=1e-13, rtol=1e-13))

    intervals_list: list[tuple[float, float]] = []
    start: float | None = float(grid[0]) if feasible[0] else None
    for k in range(1, grid_n):
        if feasible[k] and not feasible[k - 1]:
            start = edge(float(grid[k - 1]), float(grid[k]))
        elif not feasible[k] and feasible[k - 1]:
            assert start is not None
            intervals_list.append((start, edge(float(grid[k - 1]), float(grid[k]))))
            start = None
    if start is not None:
        intervals_list.append((start, float(grid[-1])))

    d0_ranges = []
    for lo_p, hi_p in intervals_list:
        for p in (lo_p, hi_p):
            lo, hi = _d0_bounds(model, pool, {**fixed_values, parameter: p}, tol)
            d0_ranges.append((float(np.max(lo)), float(np.min(hi))))
    return FeasibleRange(
        model,
        parameter,
        tuple(intervals_list),
        (float(search[0]), float(search[1])),
        tuple(d0_ranges),
        fixed_values,
        tol,
        names,
    )


def feasible_ranges(
    observations: Iterable[Observation],
    *,
    models: Iterable[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> tuple[FeasibleRange, ...]:
    """Find, model by model, the second parameter values that reconcile all observations.

    For a model with α (``negative_binomial``) the range of α; for every
    model without parameters of its own, the range of the gross yield; in
    both cases with D0 solved for. Models with a required parameter
    (``bose_einstein``, ``bose_einstein_per_layer``) are skipped: fix it and call
    :func:`feasible_range`.

    Parameters
    ----------
    observations : iterable of Observation
        Observations of one process (see :func:`select`).
    models : iterable of str, optional
        Registry names; default every model.
    tolerance : float, default 0.01
        As in :func:`feasible_range`.

    Returns
    -------
    tuple of FeasibleRange

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> ranges = feasible_ranges(smic, models=["poisson", "negative_binomial"])
    >>> [(r.model, r.parameter) for r in ranges]
    [('poisson', 'gross_yield'), ('negative_binomial', 'alpha')]
    """
    pool = _check_observations(observations)
    names = tuple(YIELD_MODELS) if models is None else tuple(models)
    out = []
    for model in names:
        _check_model(model)
        entry = YIELD_MODELS[model]
        if entry.required_parameters:
            continue
        parameter = "alpha" if "alpha" in entry.parameters else "gross_yield"
        out.append(feasible_range(pool, model, parameter, tolerance=tolerance))
    return tuple(out)


@dataclass(frozen=True, repr=False)
class FeasibleYieldModels:
    """The (model, parameter, D0) triples that meet every observation of one process.

    For each model with a non-empty :func:`feasible_range` of its second
    parameter (``gross_yield``, or ``alpha`` for ``negative_binomial``), the
    feasible values of that parameter and, at each, the feasible interval of
    D0. :meth:`parameters` maps positions in [0, 1] to parameter values and
    D0, so that a sampler drawing three uniform inputs (the model, the
    parameter position, the D0 position) draws uniformly over each model's
    feasible set.

    Attributes
    ----------
    ranges : tuple of FeasibleRange
        One per model with a feasible set, in registry order.
    observations : tuple of Observation
    tolerance : float
        Log-yield tolerance of "meets" (0: exactly inside each published interval).

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> feasible = feasible_yield_models(smic, models=["poisson", "negative_binomial"])
    >>> feasible.models
    ('poisson', 'negative_binomial')
    >>> p = feasible.parameters("poisson", np.array([0.0, 1.0]), np.array([0.5, 0.5]))
    >>> p["gross_yield"].round(3).tolist()
    [0.596, 0.89]
    """

    ranges: tuple[FeasibleRange, ...]
    observations: tuple[Observation, ...]
    tolerance: float

    @property
    def models(self) -> tuple[str, ...]:
        """The models with a feasible set."""
        return tuple(r.model for r in self.ranges)

    def range(self, model: str) -> FeasibleRange:
        """The feasible range of one model's second parameter."""
        for r in self.ranges:
            if r.model == model:
                return r
        raise UnknownNameError("model", model, self.models)

    def parameters(
        self, model: str, u_parameter: ArrayLike, u_defect_density: ArrayLike
    ) -> dict[str, NDArray[np.float64]]:
        """Map positions in [0, 1] to the model's parameter and D0, draw by draw.

        The parameter position runs along the feasible intervals (their total
        length, in the parameter's own unit); the D0 position runs across the
        D0 interval that meets every observation at that parameter value (a
        single point when an observation is a point value at tolerance 0).

        Returns
        -------
        dict
            ``{parameter: values, "defect_density_per_cm2": values}``.
        """
        r = self.range(model)
        u = np.clip(np.asarray(u_parameter, dtype=np.float64), 0.0, 1.0)
        v = np.clip(np.asarray(u_defect_density, dtype=np.float64), 0.0, 1.0)
        lows = np.array([lo for lo, _ in r.intervals])
        lengths = np.array([hi - lo for lo, hi in r.intervals])
        ends = np.cumsum(lengths)
        along = u * ends[-1]
        which = np.minimum(np.searchsorted(ends, along, side="right"), len(lengths) - 1)
        value = lows[which] + along - (ends[which] - lengths[which])
        lo, hi = _d0_bounds(
            model, self.observations, {**r.fixed, r.parameter: value}, self.tolerance
        )
        d0_low, d0_high = np.max(lo, axis=0), np.min(hi, axis=0)
        d0 = np.maximum(d0_low + v * np.maximum(d0_high - d0_low, 0.0), 0.0)
        return {r.parameter: value, "defect_density_per_cm2": d0}

    def to_dict(self) -> dict[str, Any]:
        """Return the feasible ranges, the tolerance and the observations as JSON-able data."""
        return {
            "ranges": [r.to_dict() for r in self.ranges],
            "tolerance": self.tolerance,
            "observations": [o.name for o in self.observations],
        }

    def __repr__(self) -> str:
        models = ", ".join(self.models)
        return f"<FeasibleYieldModels {models} (tolerance {self.tolerance:g})>"


def feasible_yield_models(
    observations: Iterable[Observation],
    *,
    models: Iterable[str] | None = None,
    tolerance: float = 0.0,
) -> FeasibleYieldModels:
    """Collect every model's feasible set for one process (see :class:`FeasibleYieldModels`).

    Parameters
    ----------
    observations : iterable of Observation
        Observations of one process (see :func:`select`).
    models : iterable of str, optional
        Registry names; default every model without a required parameter.
    tolerance : float, default 0
        Log-yield tolerance (0: the published intervals themselves).

    Raises
    ------
    NoSolutionError
        If no model meets every observation.

    Examples
    --------
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> feasible_yield_models(smic).models  # doctest: +NORMALIZE_WHITESPACE
    ('poisson', 'murphy', 'murphy_rectangular', 'seeds', 'moore',
     'negative_binomial')
    """
    pool = _check_observations(observations)
    ranges = tuple(
        r for r in feasible_ranges(pool, models=models, tolerance=tolerance) if not r.is_empty
    )
    if not ranges:
        raise NoSolutionError(
            "models",
            list(models) if models is not None else "every model",
            f"models of which some parameters meet every observation "
            f"({', '.join(o.name for o in pool)})",
        )
    return FeasibleYieldModels(ranges, pool, float(tolerance))
