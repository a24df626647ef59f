"""Questions asked of a model: what input reaches a target, where the regime switches, what differs.

Like :mod:`waferlab.uncertainty`, everything here works on a generic
vectorised model ``f(inputs) -> outputs``: ``inputs`` maps names to scalars
(numbers or names), arrays of shape ``(m,)`` (one value per case) or series;
``f`` returns an array of shape ``(m,)`` or ``(m, T)``, or a mapping of output
names to such arrays (a categorical output, such as the binding constraint,
may hold strings). Each function sends all its cases through ``f`` in as few
calls as it can.

* :func:`solve` — the smallest value of one input whose output reaches a
  target (goal seeking), exact at the floors of piecewise-constant outputs.
* :func:`crossovers` — the input values where a categorical output switches.
* :func:`attribute` — the Shapley attribution of the difference between two
  input sets to the inputs that differ (exact: the parts sum to the total),
  and :func:`log_decomposition` for a pure product chain.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from waferlab.errors import (
    InvalidParameterError,
    NoSolutionError,
    check_choice,
    check_integer,
    check_real,
)
from waferlab.funnel import (
    BINDING_CONSTRAINTS_BY_CODE,
    SERIES_FIELDS,
    TIMELINE_OUTPUTS,
    FunnelInputs,
    run_timeline,
)
from waferlab.timeline import from_spec_draws
from waferlab.uncertainty import model_outputs, select_output
from waferlab.yield_models import YIELD_MODELS

if TYPE_CHECKING:
    import pandas as pd

    from waferlab.calibration import FeasibleYieldModels
    from waferlab.economics import CostInputs
    from waferlab.scenarios import Scenario

__all__ = [
    "ATTRIBUTABLE_INPUTS",
    "MAX_SHAPLEY_INPUTS",
    "MODEL_OUTPUTS",
    "MODEL_OUTPUT_NAMES",
    "Attribution",
    "Crossover",
    "SolveResult",
    "attribute",
    "attribute_funnels",
    "by_period",
    "crossovers",
    "effective_inputs",
    "funnel_model",
    "log_decomposition",
    "scenario_model",
    "solve",
]

Model: TypeAlias = Callable[[Mapping[str, Any]], Any]
Reduce: TypeAlias = Callable[[NDArray[Any]], Any]

#: The most inputs :func:`attribute` splits a difference over (2^k cases in one call).
MAX_SHAPLEY_INPUTS = 16

#: Points evaluated per call of the model while narrowing a bracket.
_POINTS_PER_CALL = 64


def _at(outputs: Mapping[str, NDArray[Any]], i: int) -> dict[str, Any]:
    """Every output of case ``i`` as Python values (lists for series)."""
    return {k: v[i].tolist() for k, v in outputs.items()}


# --------------------------------------------------------------------------- solve


@dataclass(frozen=True, repr=False)
class SolveResult:
    """The value of one input that makes an output reach a target.

    Attributes
    ----------
    input : str
        The input varied.
    value : float
        The smallest input value in the search range whose output reaches
        the target (or, if none does, the end of the range that comes closest).
    achieved : float
        The output at ``value``.
    target : float
    output : str
        The output's name.
    reached : bool
        Whether ``achieved`` reaches the target.
    increasing : bool
        Whether the output rises with the input ("reach" means >= the
        target) or falls (<= the target).
    bracket : tuple of float
        The final bracket (below, value): the output at ``below`` does not
        reach the target; ``value - below <= xtol``.
    outputs : mapping
        Every output of the model at ``value`` (e.g. the binding constraint).
    evaluations : int
        Model cases evaluated.
    """

    input: str
    value: float
    achieved: float
    target: float
    output: str
    reached: bool
    increasing: bool
    bracket: tuple[float, float]
    outputs: Mapping[str, Any]
    evaluations: int

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as JSON-safe values."""
        from waferlab.output import to_jsonable

        return {
            "input": self.input,
            "value": self.value,
            "achieved": self.achieved,
            "target": self.target,
            "output": self.output,
            "reached": self.reached,
            "increasing": self.increasing,
            "bracket": list(self.bracket),
            "outputs": to_jsonable(dict(self.outputs)),
            "evaluations": self.evaluations,
        }

    def __repr__(self) -> str:
        return (
            f"SolveResult({self.input}={self.value:.10g} -> {self.output}={self.achieved:.10g}, "
            f"target={self.target:.10g}, reached={self.reached})"
        )


def _reaches(y: NDArray[Any], target: float, increasing: bool) -> NDArray[np.bool_]:
    return (y >= target) if increasing else (y <= target)


def solve(
    f: Model,
    input: str,
    target: float,
    *,
    low: float,
    high: float,
    inputs: Mapping[str, Any] | None = None,
    output: str | None = None,
    reduce: Reduce | None = None,
    increasing: bool | None = None,
    xtol: float = 0.0,
    rtol: float = 1e-12,
    strict: bool = True,
) -> SolveResult:
    """Find the smallest value of one input whose output reaches a target.

    Parameters
    ----------
    f : callable
        The vectorised model; ``input`` is passed as an array of candidates.
    input : str
        Name of the input to vary.
    target : float
        The output value to reach.
    low, high : float
        The search range of the input (low < high), e.g. its valid range.
    inputs : mapping, optional
        Every other input, held fixed.
    output : str, optional
        Which output, when ``f`` returns a mapping.
    reduce : callable, optional
        Turns an (m, T) output into (m,), e.g. a calendar-year total
        ``lambda y: y[:, 12:24].sum(axis=1)``; required for outputs with periods.
    increasing : bool, optional
        Whether the output rises with the input; default: inferred from the
        two ends of the range.
    xtol, rtol : float
        The answer is within ``xtol + rtol·|value|`` of the exact crossing.
    strict : bool, default True
        Raise :class:`~waferlab.errors.NoSolutionError` when no value in the
        range reaches the target; with False, return the closest end with
        ``reached = False``.

    Returns
    -------
    SolveResult

    Raises
    ------
    NoSolutionError
        If ``strict`` and the target is out of reach in [low, high]; the
        message gives the best the output achieves there.

    Notes
    -----
    "Reaches" means ``output >= target`` for a rising output and ``<=`` for a
    falling one. The search scans the range with 65 points in one call of
    ``f`` and takes the first point that reaches the target, then narrows the
    bracket (the previous point, that point) by evaluating 64 interior points
    per call until it is shorter than the tolerance. Unlike a root finder on
    ``output − target`` (:func:`scipy.optimize.brentq`), which on an output
    made piecewise constant by floors (whole packages, whole wafers) may stop
    on either side of the jump, this always returns a value that reaches the
    target, and the smallest one to the tolerance. A non-monotone output
    gives the first crossing the scan finds.

    Examples
    --------
    How many wafer starts a month give 1,000,000 packages a year, at 60 dies
    a wafer, 25 % die yield and one die a package (floored to whole packages)?
    1e6 / (12 · 60 · 0.25) = 5,555.6, so 5,555.6 wafers a month (in the test
    suite: the CSIS and BIS chains worked by hand).

    >>> def f(x):
    ...     return 12 * np.floor(x["wafer_starts_per_month"] * 60 * x["die_yield"])
    >>> r = solve(f, "wafer_starts_per_month", 1e6, low=0.0, high=1e5,
    ...           inputs={"die_yield": 0.25})
    >>> round(r.value, 4), r.achieved, r.reached
    (5555.6, 1000008.0, True)
    """
    target = check_real("target", target)
    lo = check_real("low", low)
    hi = check_real("high", high, low=lo, low_open=True)
    xtol = check_real("xtol", xtol, low=0.0)
    rtol = check_real("rtol", rtol, low=0.0)
    if xtol == 0.0 and rtol == 0.0:
        raise InvalidParameterError("xtol", xtol, "> 0 when rtol is 0")
    base = dict(inputs or {})
    base.pop(input, None)
    evaluations = 0

    def run(xs: NDArray[np.float64]) -> tuple[dict[str, NDArray[Any]], NDArray[np.float64]]:
        nonlocal evaluations
        evaluations += xs.size
        outs = model_outputs(f({**base, input: xs}), xs.size)
        y = np.asarray(select_output(outs, output, reduce), dtype=float)
        return outs, y

    grid = np.linspace(lo, hi, _POINTS_PER_CALL + 1)
    outs, y = run(grid)
    output_name = output or next(iter(outs))
    if increasing is None:
        increasing = bool(y[-1] >= y[0])
    ok = _reaches(y, target, increasing)
    if not ok.any():
        best = int(np.argmax(y) if increasing else np.argmin(y))
        if strict:
            relation = "<=" if increasing else ">="
            raise NoSolutionError(
                "target",
                target,
                f"{relation} {y[best]:.10g}",
                f"{output_name} reaches at {'most' if increasing else 'least'} {y[best]:.10g} "
                f"for {input} in [{lo:.10g}, {hi:.10g}] (first at {input} = {grid[best]:.10g})",
            )
        return SolveResult(
            input, float(grid[best]), float(y[best]), target, output_name, False,
            increasing, (float(grid[best]), float(grid[best])), _at(outs, best), evaluations,
        )  # fmt: skip
    first = int(np.argmax(ok))
    if first == 0:
        return SolveResult(
            input, lo, float(y[0]), target, output_name, True, increasing, (lo, lo),
            _at(outs, 0), evaluations,
        )  # fmt: skip
    below, above = float(grid[first - 1]), float(grid[first])
    hit_outs, hit_i, achieved = outs, first, float(y[first])
    while above - below > xtol + rtol * max(abs(above), abs(below)):
        inner = np.linspace(below, above, _POINTS_PER_CALL + 2)[1:-1]
        inner = inner[(inner > below) & (inner < above)]
        if inner.size == 0:  # adjacent floats
            break
        outs, y = run(inner)
        ok = _reaches(y, target, increasing)
        if ok.any():
            j = int(np.argmax(ok))
            above, hit_outs, hit_i, achieved = float(inner[j]), outs, j, float(y[j])
            if j > 0:
                below = float(inner[j - 1])
        else:
            below = float(inner[-1])
    return SolveResult(
        input, above, achieved, target, output_name, True, increasing, (below, above),
        _at(hit_outs, hit_i), evaluations,
    )  # fmt: skip


# --------------------------------------------------------------------------- crossovers


@dataclass(frozen=True)
class Crossover:
    """A point where a categorical output switches as one input rises.

    Attributes
    ----------
    value : float
        The smallest input value (to the tolerance) with the new category.
    before, after : object
        The output's category just below and at ``value``.
    """

    value: float
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"value", "before", "after"}``."""
        from waferlab.output import to_jsonable

        return {
            "value": self.value,
            "before": to_jsonable(self.before),
            "after": to_jsonable(self.after),
        }


def crossovers(
    f: Model,
    input: str,
    *,
    low: float,
    high: float,
    output: str,
    inputs: Mapping[str, Any] | None = None,
    reduce: Reduce | None = None,
    n_grid: int = 257,
    xtol: float = 0.0,
    rtol: float = 1e-12,
) -> tuple[Crossover, ...]:
    """Find where a categorical output (e.g. the binding constraint) switches.

    Parameters
    ----------
    f : callable
        The vectorised model.
    input : str
        The input to vary over [low, high].
    low, high : float
    output : str
        The categorical output (strings or numbers), one value per case, or
        (m, T) reduced by ``reduce`` (e.g. ``lambda y: y[:, -1]``, the last month).
    inputs : mapping, optional
        Every other input, held fixed.
    n_grid : int, default 257
        Points of the first scan (one call); switches closer together than
        the grid step may be missed.
    xtol, rtol : float
        Tolerance of each switch point.

    Returns
    -------
    tuple of Crossover
        In increasing input order.

    Examples
    --------
    Packages are the smaller of dies / 1 and HBM stacks / 8: below 12,500
    wafer-equivalents of dies, dies bind; above, HBM binds.

    >>> def f(x):
    ...     dies, hbm = x["dies"], x["hbm_stacks"] / 8
    ...     return {"packages": np.minimum(dies, hbm),
    ...             "binding": np.where(dies <= hbm, "dies", "hbm")}
    >>> c = crossovers(f, "dies", low=0.0, high=50_000.0, output="binding",
    ...                inputs={"hbm_stacks": 100_000.0})
    >>> [(round(x.value, 6), x.before, x.after) for x in c]
    [(12500.0, 'dies', 'hbm')]
    """
    lo = check_real("low", low)
    hi = check_real("high", high, low=lo, low_open=True)
    n_grid = check_integer("n_grid", n_grid, low=3)
    xtol = check_real("xtol", xtol, low=0.0)
    rtol = check_real("rtol", rtol, low=0.0)
    if xtol == 0.0 and rtol == 0.0:
        raise InvalidParameterError("xtol", xtol, "> 0 when rtol is 0")
    base = dict(inputs or {})
    base.pop(input, None)

    def run(xs: NDArray[np.float64]) -> NDArray[Any]:
        outs = model_outputs(f({**base, input: xs}), xs.size)
        return select_output(outs, output, reduce, numeric=False)

    grid = np.linspace(lo, hi, n_grid)
    cat = run(grid)
    found = []
    for i in np.flatnonzero(cat[1:] != cat[:-1]):
        below, above = float(grid[i]), float(grid[i + 1])
        before, after = cat[i], cat[i + 1]
        while above - below > xtol + rtol * max(abs(above), abs(below)):
            inner = np.linspace(below, above, _POINTS_PER_CALL + 2)[1:-1]
            inner = inner[(inner > below) & (inner < above)]
            if inner.size == 0:
                break
            changed = run(inner) != before
            if changed.any():
                j = int(np.argmax(changed))
                above = float(inner[j])
                if j > 0:
                    below = float(inner[j - 1])
            else:
                below = float(inner[-1])
        after = run(np.array([above]))[0]
        found.append(Crossover(above, before.item(), after.item()))
    return tuple(found)


# --------------------------------------------------------------------------- attribution


@dataclass(frozen=True, repr=False)
class Attribution:
    """The difference between two cases split over the inputs that differ.

    Attributes
    ----------
    names : tuple of str
        The inputs that differ between a and b (in the order of ``a``).
    contributions : ndarray of shape (k,)
        Each input's share of ``total``; they sum to it exactly (to rounding).
    value_a, value_b : float
        The output for a and for b.
    log : bool
        Whether the split is of ln(value_b / value_a) (else of value_b − value_a).
    unchanged : tuple of str
        Inputs equal in a and b.
    inputs_a, inputs_b : tuple
        The differing inputs' values in a and b (numbers, names or lists).
    method : str
        "shapley" or "log-product".
    """

    names: tuple[str, ...]
    contributions: NDArray[np.float64]
    value_a: float
    value_b: float
    log: bool
    unchanged: tuple[str, ...]
    inputs_a: tuple[Any, ...]
    inputs_b: tuple[Any, ...]
    method: str = "shapley"

    @property
    def total(self) -> float:
        """ln(value_b / value_a) when ``log``, else value_b − value_a."""
        if self.log:
            return math.log(self.value_b) - math.log(self.value_a)
        return self.value_b - self.value_a

    @property
    def ratio(self) -> float:
        """value_b / value_a."""
        return self.value_b / self.value_a

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-safe fields (keys ``log_ratio``, ``log_contribution`` when ``log``)."""
        from waferlab.output import to_jsonable

        key = "log_contribution" if self.log else "contribution"
        return {
            "method": self.method,
            "value_a": self.value_a,
            "value_b": self.value_b,
            "log_ratio" if self.log else "difference": self.total,
            "attribution": {
                name: {
                    key: float(self.contributions[i]),
                    "a": to_jsonable(self.inputs_a[i]),
                    "b": to_jsonable(self.inputs_b[i]),
                }
                for i, name in enumerate(self.names)
            },
            "unchanged": list(self.unchanged),
        }

    def to_frame(self) -> pd.DataFrame:
        """Return one row per differing input: input, a, b, contribution."""
        import pandas as pd

        return pd.DataFrame(
            {
                "input": self.names,
                "a": self.inputs_a,
                "b": self.inputs_b,
                "contribution": self.contributions,
            }
        )

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{n}: {c:+.4g}" for n, c in zip(self.names[:5], self.contributions, strict=False)
        )
        more = ", ..." if len(self.names) > 5 else ""
        what = "log_ratio" if self.log else "difference"
        return f"Attribution({what}={self.total:+.6g}, {{{parts}{more}}})"


def _same(x: Any, y: Any) -> bool:
    ax, ay = np.asarray(x), np.asarray(y)
    return ax.shape == ay.shape and bool(np.all(ax == ay))


def _plain(x: Any) -> Any:
    a = np.asarray(x)
    return a.item() if a.ndim == 0 else a.tolist()


def attribute(
    f: Model,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    output: str | None = None,
    reduce: Reduce | None = None,
    log: bool | None = True,
) -> Attribution:
    """Split the difference in an output between input sets a and b over the inputs.

    Parameters
    ----------
    f : callable
        The vectorised model.
    a, b : mapping
        Two complete input sets with the same names; values are scalars,
        names or series (arrays of shape (T,)).
    output : str, optional
        Which output, when ``f`` returns a mapping.
    reduce : callable, optional
        Turns an (m, T) output into (m,), e.g. the horizon total.
    log : bool or None, default True
        Split ln(U_b / U_a) (the output must be > 0 in every mix of a and b)
        rather than U_b − U_a. None: the log-ratio when the output is positive
        in every mix, else the difference (``Attribution.log`` says which).

    Returns
    -------
    Attribution

    Raises
    ------
    InvalidParameterError
        If a and b name different inputs, more than 16 inputs differ, or a
        logarithm is asked of an output that is not positive.

    Notes
    -----
    With k inputs differing, every one of the 2^k mixes (each input from a or
    from b) goes through ``f`` in one call, and input i receives its Shapley
    value

        φ_i = Σ_{S ⊆ K∖{i}} |S|! (k − |S| − 1)! / k! · [v(S ∪ {i}) − v(S)],

    where v(S) is the output (or its logarithm) with the inputs in S taken from
    b and the rest from a. The φ_i sum to v(K) − v(∅), the whole difference, for
    any model, including minima and floors; an input that changes nothing
    gets 0, and symmetric inputs get equal shares. For a pure product chain
    U = Π f_i and ``log=True``, v is additive and φ_i = ln(f_i,b / f_i,a)
    exactly (:func:`log_decomposition`).

    References
    ----------
    Shapley, L. S., "A value for n-person games", in Contributions to the
    Theory of Games II, Annals of Mathematics Studies 28, 307-317, 1953.

    Examples
    --------
    Packages are min(dies, HBM stacks / 8). Going from (10,000 dies; 96,000
    stacks) to (20,000 dies; 160,000 stacks) raises them from 10,000 to
    20,000; neither change alone gives more than 12,000:

    >>> f = lambda x: np.minimum(x["dies"], x["hbm_stacks"] / 8)
    >>> r = attribute(f, {"dies": 10_000, "hbm_stacks": 96_000},
    ...               {"dies": 20_000, "hbm_stacks": 160_000}, log=False)
    >>> dict(zip(r.names, r.contributions.tolist())), r.total
    ({'dies': 6000.0, 'hbm_stacks': 4000.0}, 10000.0)
    """
    if set(a) != set(b):
        missing = sorted(set(a) ^ set(b))
        raise InvalidParameterError("b", missing, "the same input names as a")
    names = [k for k in a if not _same(a[k], b[k])]
    unchanged = tuple(k for k in a if k not in names)
    k = len(names)
    if k > MAX_SHAPLEY_INPUTS:
        raise InvalidParameterError(
            "b", names, f"at most {MAX_SHAPLEY_INPUTS} inputs different from a (got {k})"
        )
    m = 1 << k
    masks = np.arange(m)
    inputs: dict[str, Any] = {key: a[key] for key in unchanged}
    for i, name in enumerate(names):
        take_b = (masks >> i) & 1 == 1
        va, vb = np.asarray(a[name]), np.asarray(b[name])
        if va.shape != vb.shape:
            raise InvalidParameterError(name, _plain(b[name]), f"the same shape as in a {va.shape}")
        if va.ndim == 0:
            column = np.where(take_b, vb, va)
        else:
            column = np.where(take_b.reshape((m,) + (1,) * va.ndim), vb, va)
        inputs[name] = column
    v = np.asarray(select_output(model_outputs(f(inputs), m), output, reduce), dtype=float)
    if log is None:
        log = bool(np.all(v > 0.0))
    if log:
        if not np.all(v > 0.0):
            raise InvalidParameterError(
                "log",
                True,
                "False or None when the output is not positive in every mix of a and b",
            )
        v = np.log(v)
    value_a, value_b = float(v[0]), float(v[-1])
    phi = np.zeros(k)
    if k:
        size = np.array([bin(s).count("1") for s in range(m)])
        weight = np.array(
            [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
        )
        for i in range(k):
            without = masks[(masks >> i) & 1 == 0]
            phi[i] = np.sum(weight[size[without]] * (v[without | (1 << i)] - v[without]))
    if log:
        value_a, value_b = math.exp(value_a), math.exp(value_b)
    return Attribution(
        names=tuple(names),
        contributions=phi,
        value_a=value_a,
        value_b=value_b,
        log=log,
        unchanged=unchanged,
        inputs_a=tuple(_plain(a[n]) for n in names),
        inputs_b=tuple(_plain(b[n]) for n in names),
    )


def log_decomposition(
    factors_a: Mapping[str, float], factors_b: Mapping[str, float]
) -> Attribution:
    """Split ln(U_b / U_a) of a product chain U = Π f_i into ln(f_i,b / f_i,a).

    Parameters
    ----------
    factors_a, factors_b : mapping of str to float
        The chain's factors (all > 0) in the two cases, with the same names.

    Returns
    -------
    Attribution
        ``method = "log-product"``; factors equal in a and b are ``unchanged``.

    Examples
    --------
    >>> r = log_decomposition({"wafers": 10_000, "die_yield": 0.2},
    ...                       {"wafers": 20_000, "die_yield": 0.3})
    >>> r.contributions.round(4).tolist(), round(r.total, 4), round(r.ratio, 12)
    ([0.6931, 0.4055], 1.0986, 3.0)
    """
    if set(factors_a) != set(factors_b):
        raise InvalidParameterError(
            "factors_b", sorted(set(factors_a) ^ set(factors_b)), "the same factors as factors_a"
        )
    fa = {k: check_real(f"factors_a[{k}]", v, low=0.0, low_open=True) for k, v in factors_a.items()}
    fb = {k: check_real(f"factors_b[{k}]", v, low=0.0, low_open=True) for k, v in factors_b.items()}
    names = tuple(k for k in fa if fa[k] != fb[k])
    return Attribution(
        names=names,
        contributions=np.array([math.log(fb[k]) - math.log(fa[k]) for k in names]),
        value_a=math.prod(fa.values()),
        value_b=math.prod(fb.values()),
        log=True,
        unchanged=tuple(k for k in fa if k not in names),
        inputs_a=tuple(fa[k] for k in names),
        inputs_b=tuple(fb[k] for k in names),
        method="log-product",
    )


# --------------------------------------------------------------------------- the funnel engine

#: Outputs of :func:`funnel_model` by default: flows per month, the binding
#: constraint per month, and the cost per tested unit over the horizon.
MODEL_OUTPUTS: tuple[str, ...] = (
    "wafer_starts",
    "good_dies",
    "packages_started",
    "good_packages",
    "final_units",
    "compute_equivalents",
    "binding_constraint",
    "cost_per_tested_unit_usd",
)

#: Outputs :func:`funnel_model` can give: the engine's flows and stocks
#: (:data:`waferlab.funnel.TIMELINE_OUTPUTS`), the binding constraint and the cost.
MODEL_OUTPUT_NAMES: tuple[str, ...] = (
    *TIMELINE_OUTPUTS,
    "binding_constraint",
    "cost_per_tested_unit_usd",
)


def _rows_of(value: Any, n: int, rows: NDArray[np.bool_]) -> Any:
    """The draws ``rows`` of an input that carries n draws (first axis); others as they are."""
    if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == n and n > 1:
        return value[rows]
    return value


def _n_cases(x: Mapping[str, Any]) -> int:
    sizes = {int(np.shape(v)[0]) for v in x.values() if np.ndim(v) >= 1}
    sizes.discard(1)
    if len(sizes) > 1:
        raise InvalidParameterError(
            "inputs", sorted(sizes), "arrays with one length (the number of cases)"
        )
    return sizes.pop() if sizes else 1


def funnel_model(
    inputs: FunnelInputs,
    costs: CostInputs | None = None,
    *,
    timeline: Mapping[str, Any] | None = None,
    outputs: Sequence[str] | None = None,
    feasible: FeasibleYieldModels | None = None,
) -> Model:
    """Turn funnel inputs into a vectorised model ``f(x) -> outputs`` run by the engine.

    ``f`` is what :mod:`waferlab.uncertainty` and this module's functions call:
    ``x`` maps input names to values for m cases (draws, a tornado's cases, the
    mixes of an attribution), and every case goes through one
    :func:`waferlab.funnel.run_timeline` call (one per yield model when the
    model itself varies).

    Parameters
    ----------
    inputs : FunnelInputs
        The base case; inputs not in ``x`` keep these values.
    costs : CostInputs, optional
        Unit costs; needed for ``cost_per_tested_unit_usd``.
    timeline : mapping, optional
        The scenario's ``[timeline]`` entries, needed to draw one of their
        numbers (``"wafer_starts_per_month.end"``).
    outputs : sequence of str, optional
        What ``f`` returns (names from :data:`MODEL_OUTPUT_NAMES`); default
        :data:`MODEL_OUTPUTS` (the cost only with ``costs``, compute
        equivalents only with a factor).
    feasible : FeasibleYieldModels, optional
        A calibration's feasible sets (:func:`waferlab.calibration.feasible_yield_models`):
        ``x`` may then hold ``yield_model.parameter`` and
        ``yield_model.defect_density``, positions in [0, 1] in the feasible set
        of each case's ``yield_model`` (:meth:`FeasibleYieldModels.parameters`).

    Returns
    -------
    callable
        ``f(x)``. Keys of ``x``: any :class:`~waferlab.funnel.FunnelInputs`
        field the engine takes as an array (a number, (m,) draws or an (m, T)
        series), ``yield_model`` (a name, or an array of names: the cases are
        grouped by model), ``yield_model_parameters.<name>``, any
        :class:`~waferlab.economics.CostInputs` field, and
        ``<series>.<number>`` for a number of a ``[timeline]`` entry
        (:func:`waferlab.timeline.from_spec_draws`). ``f`` returns a dict:
        each flow or stock as (m, months), ``binding_constraint`` as (m,
        months) names and ``cost_per_tested_unit_usd`` as (m,).

    Raises
    ------
    InvalidParameterError
        (from ``f``) naming an input that is not one of these, or a value the
        engine refuses.

    Examples
    --------
    The CSIS chain with three die yields at once:

    >>> from waferlab.funnel import FunnelInputs
    >>> f = funnel_model(FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                               die_yield=0.2, dies_per_package=2, packaging_yield=0.75))
    >>> y = f({"die_yield": np.array([0.2, 0.3, 0.4])})
    >>> y["final_units"][:, 0].tolist(), y["binding_constraint"][:, 0].tolist()
    ([300000.0, 450000.0, 600000.0], ['none', 'none', 'none'])
    """
    from waferlab.economics import COST_FLOWS, CostInputs, cost_per_tested_unit_usd

    if not isinstance(inputs, FunnelInputs):
        raise InvalidParameterError("inputs", inputs, "a FunnelInputs")
    wanted = list(MODEL_OUTPUTS if outputs is None else outputs)
    for name in wanted:
        check_choice("outputs", name, MODEL_OUTPUT_NAMES)
    if outputs is None:
        if costs is None:
            wanted.remove("cost_per_tested_unit_usd")
        if inputs.compute_equivalent_factor is None:
            wanted.remove("compute_equivalents")
    if "cost_per_tested_unit_usd" in wanted and costs is None:
        raise InvalidParameterError(
            "outputs", "cost_per_tested_unit_usd", "asked only with costs (a CostInputs)"
        )
    keep = [n for n in wanted if n in TIMELINE_OUTPUTS]
    if "cost_per_tested_unit_usd" in wanted:
        keep += [n for n in COST_FLOWS if n not in keep]
    fields = set(FunnelInputs.field_names())
    cost_fields = set(CostInputs.field_names())
    specs = dict(timeline or {})
    months = inputs.months

    def run(changes: dict[str, Any], cost_values: dict[str, Any]) -> dict[str, NDArray[Any]]:
        result = run_timeline(dataclasses.replace(inputs, **changes), outputs=keep)
        out: dict[str, NDArray[Any]] = {}
        for name in wanted:
            if name == "binding_constraint":
                out[name] = np.asarray(BINDING_CONSTRAINTS_BY_CODE)[result.binding]
            elif name == "cost_per_tested_unit_usd":
                out[name] = cost_per_tested_unit_usd(result, cost_values)
            else:
                out[name] = result[name]
        return out

    def f(x: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
        n = _n_cases(x)
        changes: dict[str, Any] = {}
        parameters: dict[str, Any] = dict(inputs.yield_model_parameters)
        cost_values: dict[str, Any] = costs.to_dict() if costs is not None else {}
        drawn: dict[str, dict[str, Any]] = {}
        positions: dict[str, Any] = {}
        model: Any = None
        for key, value in x.items():
            root, _, sub = key.partition(".")
            if root == "yield_model" and not sub:
                model = value
            elif feasible is not None and key in ("yield_model.parameter",
                                                  "yield_model.defect_density"):  # fmt: skip
                positions[sub] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,))
            elif root == "yield_model_parameters" and sub:
                parameters[sub] = np.asarray(value, dtype=np.float64)
            elif root in cost_fields and not sub:
                cost_values[root] = value
            elif sub and root in specs:
                drawn.setdefault(root, {})[sub] = np.broadcast_to(
                    np.asarray(value, dtype=np.float64), (n,)
                )
            elif root in fields and not sub and root not in ("months", "start_month"):
                changes[root] = np.asarray(value, dtype=np.float64) if np.ndim(value) else value
            else:
                raise InvalidParameterError(
                    "input",
                    key,
                    "a funnel input, yield_model, yield_model_parameters.<name>, a cost, or "
                    "<series>.<number> of a [timeline] entry",
                )
        starts = changes.get("wafer_starts_per_month", inputs.wafer_starts_per_month)
        if np.ndim(starts) == 1:
            starts = np.asarray(starts).reshape(-1, 1)
        starts = np.broadcast_to(np.asarray(starts, dtype=np.float64), (n, months))
        for root, numbers in drawn.items():
            changes[root] = from_spec_draws(
                root,
                specs[root],
                numbers,
                start_month=inputs.start_month,
                months=months,
                wafer_starts=starts,
            )
        if parameters != dict(inputs.yield_model_parameters):
            changes["yield_model_parameters"] = parameters
        if positions:
            if feasible is None or model is None:
                raise InvalidParameterError(
                    "input", sorted(positions), "given with yield_model and a feasible set"
                )
            model = np.broadcast_to(np.asarray(model).astype(str), (n,))
        if model is None or np.ndim(model) == 0:
            if model is not None:
                changes["yield_model"] = str(model)
                changes["yield_model_parameters"] = _parameters_for(str(model), parameters)
            # inputs that do not reach the engine (costs alone) leave it one case: repeat it
            return {
                k: np.repeat(v, n, axis=0) if v.shape[0] == 1 and n > 1 else v
                for k, v in run(changes, cost_values).items()
            }
        names = np.asarray(model).astype(str)
        out: dict[str, NDArray[Any]] = {}
        for name in dict.fromkeys(names.tolist()):
            rows = names == name
            part = {k: _rows_of(v, n, rows) for k, v in changes.items()}
            part["yield_model"] = name
            part["yield_model_parameters"] = {
                k: _rows_of(v, n, rows) for k, v in _parameters_for(name, parameters).items()
            }
            if positions and feasible is not None:
                drawn_parameters = feasible.parameters(
                    name,
                    positions.get("parameter", np.full(n, 0.5))[rows],
                    positions.get("defect_density", np.full(n, 0.5))[rows],
                )
                part["defect_density_per_cm2"] = drawn_parameters.pop("defect_density_per_cm2")
                part["yield_model_parameters"].update(drawn_parameters)
            part_costs = {k: _rows_of(v, n, rows) for k, v in cost_values.items()}
            result = run(part, part_costs)
            for key, value in result.items():
                if key not in out:
                    out[key] = np.empty((n, *value.shape[1:]), dtype=value.dtype)
                out[key][rows] = value
        return out

    return f


def _parameters_for(model: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The yield-model parameters a model takes (the others belong to other models)."""
    takes = (*YIELD_MODELS[check_choice("yield_model", model, YIELD_MODELS)].parameters,
             "gross_yield", "critical_area_fraction")  # fmt: skip
    return {k: v for k, v in parameters.items() if k in takes}


def scenario_model(scenario: Scenario, *, outputs: Sequence[str] | None = None) -> Model:
    """Return :func:`funnel_model` for a scenario (its inputs, costs and timeline).

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> f = scenario_model(load_scenario("csis-2025-smic-target"))
    >>> float(f({"die_yield": 0.4})["final_units"][0, 0])
    600000.0
    """
    return funnel_model(
        scenario.funnel_inputs(),
        scenario.cost_inputs(),
        timeline=scenario.timeline,
        outputs=outputs,
        feasible=scenario.feasible_yield_models(),
    )


def by_period(
    f: Model, by: str, months: int, start_month: str | None = None
) -> tuple[list[str], Model]:
    """Wrap a :func:`funnel_model` so that its monthly outputs come per period.

    Flows are summed over each period; stocks (:data:`waferlab.funnel.STOCK_NAMES`)
    and the binding constraint take the period's last month (the binding
    constraint in the last month compares the cumulative die and HBM supply,
    i.e. what bound the period's running total); outputs without months
    (the cost per unit) pass through.

    Returns
    -------
    labels : list of str
        The periods (:func:`waferlab.timeline.period_labels`).
    g : callable
        The wrapped model; its (m, months) outputs become (m, periods).

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs
    >>> f = funnel_model(FunnelInputs(wafer_starts_per_month=1000, months=24,
    ...                               start_month="2025-01", gross_dies_per_wafer=80,
    ...                               die_yield=0.2, dies_per_package=2))
    >>> labels, g = by_period(f, "year", 24, "2025-01")
    >>> labels, g({})["final_units"].tolist()
    (['2025', '2026'], [[96000.0, 96000.0]])
    """
    from waferlab.funnel import STOCK_NAMES
    from waferlab.timeline import period_labels

    labels, index = period_labels(by, months, start_month)
    count = len(labels)
    starts = np.searchsorted(index, np.arange(count), side="left")
    ends = np.searchsorted(index, np.arange(count), side="right") - 1

    def g(x: Mapping[str, Any]) -> dict[str, NDArray[Any]]:
        out: dict[str, NDArray[Any]] = {}
        for name, y in dict(f(x)).items():
            a = np.asarray(y)
            if a.ndim != 2 or a.shape[1] != months:
                out[name] = a
            elif name in STOCK_NAMES or a.dtype.kind not in "biuf":
                out[name] = a[:, ends]
            else:
                out[name] = np.add.reduceat(a, starts, axis=1)
        return out

    return labels, g


#: :class:`~waferlab.funnel.FunnelInputs` fields :func:`attribute_funnels` can split a
#: difference over: the numbers the engine takes per case (draws or series).
ATTRIBUTABLE_INPUTS: tuple[str, ...] = (*SERIES_FIELDS, "hbm_stock_stacks", "die_bank_dies")


_EQUIVALENT_FIELDS = (
    "compute_equivalent_factor",
    "compute_equivalent_basis",
    "compute_equivalent_unit",
)
_GEOMETRY_FIELDS = (
    "die_width_mm",
    "die_height_mm",
    "die_area_mm2",
    "scribe_mm",
    "wafer_diameter_mm",
    "edge_exclusion_mm",
)


def _collapsed(array: NDArray[np.float64]) -> float | NDArray[np.float64]:
    """A (1, months) series as one number when every month is equal."""
    row = np.asarray(array, dtype=np.float64)[0]
    return float(row[0]) if np.all(row == row[0]) else row.reshape(1, -1)


def effective_inputs(inputs: FunnelInputs) -> FunnelInputs:
    """Return inputs whose die yield and dies per wafer are the numbers the engine used.

    A die yield from a yield model (a defect density, a learning law) becomes
    the yield itself (a number, or a monthly series), and dies per wafer from
    the exact placement become the count, so that two cases made with
    different models can be compared input by input. Inputs with harvest
    bins are returned unchanged (their degraded bin needs the model).

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs
    >>> e = effective_inputs(FunnelInputs(wafer_starts_per_month=1, die_width_mm=21.32,
    ...     die_height_mm=31.22, yield_model="murphy", defect_density_per_cm2=0.1156))
    >>> e.gross_dies_per_wafer, round(e.die_yield, 4), e.defect_density_per_cm2
    (85.0, 0.4866, None)
    """
    if inputs.harvestable_fraction is not None:
        return inputs
    if inputs.n_draws > 1:
        raise InvalidParameterError("inputs", f"{inputs.n_draws} draws", "inputs of one case")
    rates = run_timeline(inputs, outputs=["die_yield", "gross_dies_per_wafer"])
    return dataclasses.replace(
        inputs,
        die_yield=_collapsed(rates["die_yield"]),
        gross_dies_per_wafer=_collapsed(rates["gross_dies_per_wafer"]),
        defect_density_per_cm2=None,
        yield_model="poisson",
        yield_model_parameters={},
    )


def attribute_funnels(a: FunnelInputs, b: FunnelInputs, *, log: bool | None = None) -> Attribution:
    """Split ln(U_b / U_a) of two funnels' finished units over the inputs that differ.

    Both are first written as :func:`effective_inputs` (a yield model becomes
    the die yield it gives), then :func:`attribute` gives each differing input
    of :data:`ATTRIBUTABLE_INPUTS` its Shapley share of the log-ratio of the
    horizon totals; the shares sum to it exactly.

    Parameters
    ----------
    a, b : FunnelInputs
        The two cases.
    log : bool or None, default None
        Split the log-ratio (True), the difference U_b − U_a (False), or the
        log-ratio when every mix of the two cases finishes units and the
        difference when one does not (None; e.g. a case with no wafer starts
        mixed with one with no die bank finishes nothing).

    Raises
    ------
    InputConflictError
        If the horizons differ, or an input that cannot be mixed case by case
        differs (dies or stacks per package, harvest settings, an input set in
        only one of the two); the message names it.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs
    >>> a = FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                  die_yield=0.2, dies_per_package=2, packaging_yield=0.75)
    >>> r = attribute_funnels(a, a.replace(die_yield=0.4, wafer_starts_per_month=20_000))
    >>> r.names, r.contributions.round(4).tolist(), round(r.ratio, 4)
    (('wafer_starts_per_month', 'die_yield'), [-0.9163, 0.6931], 0.8)
    """
    from waferlab.funnel import InputConflictError

    ea, eb = effective_inputs(a), effective_inputs(b)
    if (ea.months, ea.start_month) != (eb.months, eb.start_month):
        raise InputConflictError(
            "b",
            (eb.months, eb.start_month),
            f"the two cases cover different horizons ({ea.months} months from "
            f"{ea.start_month or 'month 1'} and {eb.months} from {eb.start_month or 'month 1'}); "
            "the attribution needs the same months",
        )
    da, db = ea.to_dict(), eb.to_dict()
    # inputs that cannot change the finished units: the compute-equivalent figures,
    # and the die geometry once dies per wafer and the yield are numbers
    ignored = {"start_month", *_EQUIVALENT_FIELDS}
    if ea.harvestable_fraction is None and eb.harvestable_fraction is None:
        ignored.update(_GEOMETRY_FIELDS)
    fixed = [k for k in da if k not in (*ATTRIBUTABLE_INPUTS, *ignored) and da[k] != db[k]]
    partial = [
        k for k in ATTRIBUTABLE_INPUTS if k not in ignored and (da[k] is None) != (db[k] is None)
    ]
    if fixed or partial:
        names = ", ".join([*fixed, *(f"{k} (set in one case only)" for k in partial)])
        raise InputConflictError(
            "b",
            names,
            f"{names} differ between the two cases and cannot be split input by input "
            "(the attribution mixes numbers the engine takes case by case: "
            f"{', '.join(ATTRIBUTABLE_INPUTS)})",
        )

    def value(x: Any) -> Any:
        if isinstance(x, np.ndarray):
            return x.reshape(-1)
        return x

    keys = [k for k in ATTRIBUTABLE_INPUTS if getattr(ea, k) is not None and k not in ignored]
    va = {k: value(getattr(ea, k)) for k in keys}
    vb = {k: value(getattr(eb, k)) for k in keys}
    for k in keys:  # a number against a series: compare them month by month
        if np.ndim(va[k]) != np.ndim(vb[k]):
            va[k] = np.broadcast_to(np.asarray(va[k], dtype=np.float64), (ea.months,))
            vb[k] = np.broadcast_to(np.asarray(vb[k], dtype=np.float64), (ea.months,))
    f = funnel_model(ea, outputs=["final_units"])
    return attribute(f, va, vb, output="final_units", reduce=_row_sums, log=log)


def _row_sums(y: NDArray[Any]) -> NDArray[Any]:
    return np.asarray(y).sum(axis=1)
