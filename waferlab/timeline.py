"""Calendar months and monthly series: the time axis of the funnel engine.

A funnel input that changes over time is a *monthly series*: one value per
month of the horizon. waferlab holds a series as a numpy array of shape
``(1, months)`` so that it broadcasts against draws, which have shape
``(n, 1)``: an input of shape ``(n, months)`` is both. The functions here build
such arrays from the forms a scenario file (or a user) states:

* a list of ``months`` monthly values (:func:`monthly`);
* dated points ``{"2025-01": 20_000, "2025-12": 50_000}`` joined linearly or
  held as steps (:func:`from_points`);
* a logistic ramp from ``start`` to ``end`` (:func:`logistic`);
* yield learning of the defect density, exponential in time
  (:func:`exponential_learning`) or Wright's power law in cumulative wafer
  starts (:class:`Learning`, evaluated by the engine because it needs the
  wafer starts).

Months are counted from the horizon's first month, month 0. Calendar months
are ``"YYYY-MM"`` strings; :func:`parse_month` turns one into a month number
(12 × year + month − 1) so that differences are month counts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from waferlab.errors import InvalidParameterError, check_array, check_choice, check_real

__all__ = [
    "INTERPOLATIONS",
    "LEARNING_KINDS",
    "PERIODS",
    "SHAPES",
    "Learning",
    "exponential_learning",
    "format_month",
    "from_points",
    "from_spec",
    "from_spec_draws",
    "learning_series",
    "logistic",
    "monthly",
    "parse_month",
    "period_labels",
]

#: Ways of joining dated points into a monthly series.
INTERPOLATIONS: tuple[str, ...] = ("linear", "step")
#: Named shapes of a series.
SHAPES: tuple[str, ...] = ("logistic",)
#: Yield-learning laws for the defect density.
LEARNING_KINDS: tuple[str, ...] = ("exponential", "wright")
#: Periods a monthly result can be summed over.
PERIODS: tuple[str, ...] = ("month", "quarter", "year", "total")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
#: ln(81): a logistic curve takes 2 ln 9 / k to go from 10 % to 90 % of its rise.
_LOG_81 = 2.0 * math.log(9.0)


def _value(name: str, value: Any, **bounds: Any) -> Any:
    """Check a number, or draws of it (an array of shape (n,) or (n, 1)), as a column.

    A number stays a float; draws become an array of shape (n, 1) so that they
    broadcast against the months.
    """
    if isinstance(value, np.ndarray | list | tuple):
        array = check_array(name, value, **bounds)
        if array.ndim == 0:
            return float(array)
        if array.ndim > 2 or (array.ndim == 2 and array.shape[1] != 1) or array.size == 0:
            raise InvalidParameterError(
                name, f"an array of shape {array.shape}", "a number or draws of shape (n,)"
            )
        return array.reshape(-1, 1)
    return check_real(name, value, **bounds)


def _rows(series: Any, months: int) -> NDArray[np.float64]:
    """Give a series shape (1, months), or (n, months) when it carries draws."""
    array = np.asarray(series, dtype=np.float64)
    return array.reshape(-1, months) if array.ndim == 2 else array.reshape(1, months)


def parse_month(text: Any, *, name: str = "month") -> int:
    """Return the month number of a ``"YYYY-MM"`` string (12 × year + month − 1).

    Parameters
    ----------
    text : str
        A calendar month such as ``"2025-01"``.
    name : str, default "month"
        Argument name for the error message.

    Raises
    ------
    InvalidParameterError
        If ``text`` is not a ``"YYYY-MM"`` string with a month from 01 to 12.

    Examples
    --------
    >>> parse_month("2025-03") - parse_month("2025-01")
    2
    >>> parse_month("2025-13")
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: month must be a "YYYY-MM" month (got '2025-13')
    """
    match = _MONTH.match(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidParameterError(name, text, 'a "YYYY-MM" month')
    return 12 * int(match.group(1)) + int(match.group(2)) - 1


def format_month(number: int) -> str:
    """Return the ``"YYYY-MM"`` string of a month number (inverse of :func:`parse_month`).

    Examples
    --------
    >>> format_month(parse_month("2026-12"))
    '2026-12'
    """
    year, month = divmod(int(number), 12)
    return f"{year:04d}-{month + 1:02d}"


def period_labels(
    by: str, months: int, start_month: str | None = None
) -> tuple[list[str], NDArray[np.intp]]:
    """Return the labels of the periods a horizon falls into, and each month's period.

    Parameters
    ----------
    by : {"month", "quarter", "year", "total"}
        The period.
    months : int
        Length of the horizon.
    start_month : str, optional
        First calendar month (``"YYYY-MM"``). Without it months are labelled
        ``M1``, ``M2``, … and quarters and years are counted from the start
        (``Q1``, ``Y1``, …).

    Returns
    -------
    labels : list of str
        One label per period, in order ("2025-01", "2025-Q1", "2025", or "total").
    index : ndarray of int, shape (months,)
        The period of each month (an index into ``labels``).

    Examples
    --------
    >>> labels, index = period_labels("quarter", 5, "2025-02")
    >>> labels, index.tolist()
    (['2025-Q1', '2025-Q2'], [0, 0, 1, 1, 1])
    >>> period_labels("year", 14)[0]
    ['Y1', 'Y2']
    """
    check_choice("by", by, PERIODS)
    t = np.arange(months)
    if by == "total":
        return ["total"], np.zeros(months, dtype=np.intp)
    if start_month is None:
        size = {"month": 1, "quarter": 3, "year": 12}[by]
        keys = t // size
        prefix = {"month": "M", "quarter": "Q", "year": "Y"}[by]
        labels = [f"{prefix}{k + 1}" for k in range(int(keys[-1]) + 1)] if months else []
        return labels, keys.astype(np.intp)
    numbers = parse_month(start_month, name="start_month") + t
    if by == "month":
        return [format_month(int(n)) for n in numbers], t.astype(np.intp)
    if by == "quarter":
        codes = [f"{n // 12:04d}-Q{(n % 12) // 3 + 1}" for n in numbers]
    else:
        codes = [f"{n // 12:04d}" for n in numbers]
    names: list[str] = []
    index = np.empty(months, dtype=np.intp)
    for i, code in enumerate(codes):
        if not names or names[-1] != code:
            names.append(code)
        index[i] = len(names) - 1
    return names, index


def monthly(
    values: Sequence[float] | NDArray[np.float64], *, name: str = "values"
) -> NDArray[np.float64]:
    """Return a list of monthly values as a series of shape ``(1, months)``.

    Examples
    --------
    >>> monthly([1.0, 2.0, 3.0]).shape
    (1, 3)
    """
    array = check_array(name, values)
    if array.ndim != 1 or array.size == 0:
        raise InvalidParameterError(name, values, "a non-empty list of monthly values")
    return array.reshape(1, -1)


def _month_offsets(
    points: Mapping[str, Any], start_month: str, months: int, name: str
) -> tuple[NDArray[np.float64], list[Any]]:
    if not isinstance(points, Mapping) or not points:
        raise InvalidParameterError(name, points, 'a table of "YYYY-MM" = value points')
    start = parse_month(start_month, name="start_month")
    offsets: list[int] = []
    values: list[float] = []
    for key, value in points.items():
        offset = parse_month(key, name=f"{name} point") - start
        if not 0 <= offset < months:
            raise InvalidParameterError(
                f"{name} point",
                key,
                f"a month of the horizon, {format_month(start)} to "
                f"{format_month(start + months - 1)}",
                "a shorter horizon cuts the series' dated points off: keep the horizon and read "
                "the part you want by month, quarter or year",
            )
        if offsets and offset <= offsets[-1]:
            raise InvalidParameterError(
                f"{name} point",
                key,
                f"a month after {format_month(start + offsets[-1])} (dates in order)",
            )
        offsets.append(offset)
        values.append(_value(f"{name} at {key}", value))
    return np.asarray(offsets, dtype=np.float64), values


def from_points(
    points: Mapping[str, float],
    *,
    start_month: str,
    months: int,
    interpolation: str = "linear",
    name: str = "series",
) -> NDArray[np.float64]:
    """Return a monthly series through dated points.

    Before the first point the series holds the first value and after the last
    point the last value. ``"linear"`` joins the points by straight lines;
    ``"step"`` holds each value until the next point.

    Parameters
    ----------
    points : mapping of str to float
        ``"YYYY-MM"`` months (in increasing order, inside the horizon) to values.
    start_month : str
        First month of the horizon.
    months : int
        Length of the horizon.
    interpolation : {"linear", "step"}, default "linear"
    name : str
        Input name for error messages.

    Returns
    -------
    ndarray, shape (1, months)

    Raises
    ------
    InvalidParameterError
        A point outside the horizon, dates out of order, an unknown interpolation.

    Examples
    --------
    >>> from_points({"2025-01": 20_000, "2025-04": 50_000}, start_month="2025-01",
    ...             months=6).tolist()
    [[20000.0, 30000.0, 40000.0, 50000.0, 50000.0, 50000.0]]
    >>> from_points({"2025-01": 1, "2025-03": 2}, start_month="2025-01", months=4,
    ...             interpolation="step").tolist()
    [[1.0, 1.0, 2.0, 2.0]]
    """
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    x, values = _month_offsets(points, start_month, months, name)
    t = np.arange(months, dtype=np.float64)

    def join(y: NDArray[np.float64]) -> NDArray[np.float64]:
        if interpolation == "linear":
            return np.interp(t, x, y)
        position = np.searchsorted(x, t, side="right") - 1
        return y[np.clip(position, 0, None)]

    if all(isinstance(v, float) for v in values):
        return join(np.asarray(values, dtype=np.float64)).reshape(1, -1)
    # draws of some points: the series is linear in the point values, so it is
    # the sum of each point's value times the series through that point alone
    series: Any = 0.0
    for i, value in enumerate(values):
        basis = join(np.eye(len(values))[i])
        series = series + value * basis
    return _rows(series, months)


def logistic(
    *,
    start: float,
    end: float,
    midpoint_month: str,
    months_10_to_90: float,
    start_month: str,
    months: int,
    name: str = "series",
) -> NDArray[np.float64]:
    """Return a logistic ramp from ``start`` to ``end`` as a monthly series.

    .. math::

        x(t) = a + \\frac{b - a}{1 + e^{-k (t - t_m)}},\\qquad k = \\frac{\\ln 81}{w}

    with ``a = start``, ``b = end``, ``t_m`` the midpoint month and ``w`` the
    months the ramp takes from 10 % to 90 % of its rise.

    Examples
    --------
    >>> ramp = logistic(start=20_000, end=50_000, midpoint_month="2025-07",
    ...                 months_10_to_90=6, start_month="2025-01", months=13)
    >>> round(float(ramp[0, 6])), round(float(ramp[0, 3] - 20_000) / 30_000, 2)
    (35000, 0.1)
    """
    a = _value(f"{name}.start", start)
    b = _value(f"{name}.end", end)
    width = _value(f"{name}.months_10_to_90", months_10_to_90, low=0.0, low_open=True)
    mid = parse_month(midpoint_month, name=f"{name}.midpoint_month") - parse_month(
        start_month, name="start_month"
    )
    k = _LOG_81 / width
    t = np.arange(months, dtype=np.float64)
    # 1 / (1 + e^-z) written with tanh so that no exponential overflows
    rise = 0.5 * (1.0 + np.tanh(0.5 * k * (t - mid)))
    return _rows(a + (b - a) * rise, months)


def exponential_learning(
    *, start: float, floor: float, time_constant_months: float, months: int
) -> NDArray[np.float64]:
    """Return an exponentially learning defect density as a monthly series.

    .. math::

        D_0(t) = D_\\infty + (D_\\text{start} - D_\\infty)\\, e^{-t/\\tau}

    with ``t`` in months from the horizon's start (month 0 has ``D_start``).

    References
    ----------
    .. [1] P. K. Cunningham, C. J. Spanos and K. Voros, "Semiconductor yield
       improvement: results and best practices", IEEE Trans. Semiconductor
       Manufacturing 8(2), 103–109, 1995.

    Examples
    --------
    >>> exponential_learning(start=0.4, floor=0.1, time_constant_months=12, months=25)[0, [0, 24]]
    array([0.4       , 0.14060058])
    """
    d_start = _value("start", start, low=0.0)
    d_floor = _value("floor", floor, low=0.0)
    tau = _value("time_constant_months", time_constant_months, low=0.0, low_open=True)
    t = np.arange(months, dtype=np.float64)
    return _rows(d_floor + (d_start - d_floor) * np.exp(-t / tau), months)


@dataclass(frozen=True)
class Learning:
    """A yield-learning law for the defect density, stated as a scenario states it.

    ``kind = "exponential"``: :func:`exponential_learning` (needs ``floor`` and
    ``time_constant_months``). ``kind = "wright"``: Wright's learning curve on
    cumulative wafer starts V (the fab's starts, before the capacity share),

    .. math::

        D_0(t) = \\max\\bigl(D_\\infty,\\; D_\\text{start}\\,(V(t)/V_0)^{-b}\\bigr)

    where V(t) counts the starts up to and including month t, ``V_0`` is
    ``reference_wafers`` (default: the starts of the first month that has any, so that
    month has ``D_start``), ``b`` is ``exponent`` and ``D_∞`` is ``floor`` (default 0).

    References
    ----------
    .. [1] T. P. Wright, "Factors affecting the cost of airplanes", Journal of the
       Aeronautical Sciences 3(4), 122–128, 1936.
    .. [2] P. K. Cunningham, C. J. Spanos and K. Voros, IEEE Trans. Semiconductor
       Manufacturing 8(2), 1995.

    Examples
    --------
    >>> law = Learning("wright", start=0.4, exponent=0.5)
    >>> law.evaluate(np.array([[1000.0, 1000.0, 1000.0, 1000.0]])).round(3).tolist()
    [[0.4, 0.283, 0.231, 0.2]]
    """

    kind: str
    start: float
    floor: float | None = None
    time_constant_months: float | None = None
    exponent: float | None = None
    reference_wafers: float | None = None

    def __post_init__(self) -> None:
        check_choice("learning", self.kind, LEARNING_KINDS)
        object.__setattr__(self, "start", check_real("learning.start", self.start, low=0.0))
        for name in ("floor", "time_constant_months", "exponent", "reference_wafers"):
            value = getattr(self, name)
            if value is not None:
                low_open = name in ("time_constant_months", "reference_wafers")
                object.__setattr__(
                    self, name, check_real(f"learning.{name}", value, low=0.0, low_open=low_open)
                )
        needs = {"exponential": ("floor", "time_constant_months"), "wright": ("exponent",)}
        for name in needs[self.kind]:
            if getattr(self, name) is None:
                raise InvalidParameterError(
                    f"learning.{name}", None, f"given for {self.kind} learning"
                )
        allowed = {
            "exponential": ("floor", "time_constant_months"),
            "wright": ("exponent", "floor", "reference_wafers"),
        }[self.kind]
        for name in ("floor", "time_constant_months", "exponent", "reference_wafers"):
            if getattr(self, name) is not None and name not in allowed:
                raise InvalidParameterError(
                    f"learning.{name}", getattr(self, name), f"absent for {self.kind} learning"
                )
        if self.floor is not None and self.floor > self.start:
            raise InvalidParameterError(
                "learning.floor", self.floor, f"<= learning.start ({self.start:g})"
            )

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Learning:
        """Build a law from the scenario form ``{learning = "...", start = ..., ...}``."""
        data = dict(spec)
        kind = data.pop("learning", None)
        known = ("start", "floor", "time_constant_months", "exponent", "reference_wafers")
        for key in data:
            if key not in known:
                raise InvalidParameterError(
                    "learning key", key, f"one of learning, {', '.join(known)}"
                )
        if "start" not in data:
            raise InvalidParameterError("learning.start", None, "given")
        return cls(kind, **data)

    @property
    def bounds(self) -> tuple[float, float]:
        """The smallest and largest defect density the law can give."""
        return (self.floor or 0.0, self.start)

    def evaluate(self, wafer_starts: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return D0 for each month, given the fab's wafer starts per month.

        Parameters
        ----------
        wafer_starts : ndarray, shape (n, months)
            Wafer starts in each month (only Wright's law uses them).
        """
        return learning_series(self.kind, wafer_starts, **self.parameters())

    def parameters(self) -> dict[str, float]:
        """Return the law's numbers by name (those given)."""
        out = {"start": self.start}
        for name in ("floor", "time_constant_months", "exponent", "reference_wafers"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario form of the law."""
        out: dict[str, Any] = {"learning": self.kind, "start": self.start}
        for name in ("floor", "time_constant_months", "exponent", "reference_wafers"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def learning_series(
    kind: str,
    wafer_starts: NDArray[np.float64],
    *,
    start: Any,
    floor: Any = None,
    time_constant_months: Any = None,
    exponent: Any = None,
    reference_wafers: Any = None,
) -> NDArray[np.float64]:
    """Return the defect density of a learning law for each month, for draws of its numbers.

    The law of :class:`Learning`, with any of its numbers given as draws (arrays
    of shape (n,)); the result has shape (n, months), or (1, months) when every
    number and the wafer starts are single values.

    Parameters
    ----------
    kind : {"exponential", "wright"}
    wafer_starts : ndarray, shape (1 or n, months)
        The fab's wafer starts in each month (only Wright's law uses them).
    start, floor, time_constant_months, exponent, reference_wafers : float or ndarray
        The law's numbers, as in :class:`Learning`.

    Examples
    --------
    Two draws of the exponential time constant:

    >>> d0 = learning_series("exponential", np.ones((1, 3)), start=0.4, floor=0.1,
    ...                      time_constant_months=np.array([1.0, 1e9]))
    >>> d0.round(3).tolist()
    [[0.4, 0.21, 0.141], [0.4, 0.4, 0.4]]
    """
    check_choice("learning", kind, LEARNING_KINDS)
    starts = np.asarray(wafer_starts, dtype=np.float64)
    months = starts.shape[-1]
    d_floor = _value("learning.floor", 0.0 if floor is None else floor, low=0.0)
    if kind == "exponential":
        if time_constant_months is None:
            raise InvalidParameterError("learning.time_constant_months", None, "given")
        return exponential_learning(
            start=start, floor=d_floor, time_constant_months=time_constant_months, months=months
        )
    if exponent is None:
        raise InvalidParameterError("learning.exponent", None, "given")
    d_start = _value("learning.start", start, low=0.0)
    b = _value("learning.exponent", exponent, low=0.0)
    volume = np.cumsum(starts, axis=-1)
    if reference_wafers is None:
        # the first month with any starts (cumulative volume is non-decreasing, so its
        # smallest positive value): months before it have no learning to do
        positive = np.where(volume > 0, volume, np.inf)
        first = positive.min(axis=-1, keepdims=True)
        reference = np.where(np.isfinite(first), first, 0.0)
    else:
        reference = _value("learning.reference_wafers", reference_wafers, low=0.0, low_open=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(reference > 0, volume / np.where(reference > 0, reference, 1.0), 1.0)
    ratio = np.maximum(ratio, 1.0)  # no "unlearning" before the reference volume
    density = d_start * ratio ** (-b)
    return _rows(np.maximum(density, d_floor), months)


#: Numbers of each ``[timeline]`` form that may carry draws (a dated point is its "YYYY-MM").
DRAWABLE_KEYS: Mapping[str, tuple[str, ...]] = {
    "logistic": ("start", "end", "months_10_to_90"),
    "exponential": ("start", "floor", "time_constant_months"),
    "wright": ("start", "floor", "exponent", "reference_wafers"),
}


def from_spec_draws(
    name: str,
    spec: Any,
    draws: Mapping[str, Any],
    *,
    start_month: str | None,
    months: int,
    wafer_starts: Any = None,
) -> NDArray[np.float64]:
    """Evaluate a ``[timeline]`` entry with some of its numbers replaced by draws.

    ``draws`` maps a number of the entry (``"end"`` of a logistic ramp,
    ``"time_constant_months"`` of a learning law, ``"2025-12"`` of dated points,
    ``"3"`` — a 1-based month — of a list of monthly values) to an array of
    draws of shape (n,). The result is the series of every draw, shape
    (n, months). A learning law is evaluated here (Wright's law needs the fab's
    ``wafer_starts``, shape (1 or n, months)).

    Raises
    ------
    InvalidParameterError
        If a drawn key is not a number of the entry; the message lists those
        that are.

    Examples
    --------
    >>> spec = {"shape": "logistic", "start": 20_000, "end": 50_000,
    ...         "midpoint_month": "2025-07", "months_10_to_90": 6}
    >>> ramp = from_spec_draws("wafer_starts_per_month", spec,
    ...                        {"end": np.array([50_000.0, 80_000.0])},
    ...                        start_month="2025-01", months=13)
    >>> ramp[:, 6].round().tolist()
    [35000.0, 50000.0]
    """
    if isinstance(spec, list | tuple):
        values: list[Any] = list(spec)
        for key, value in draws.items():
            if not key.isdigit() or not 1 <= int(key) <= len(values):
                raise InvalidParameterError(
                    f"{name}.{key}", key, f"a month of the list, 1 to {len(values)}"
                )
            values[int(key) - 1] = _value(f"{name}.{key}", value)
        columns = np.broadcast_arrays(
            *[np.asarray(v, dtype=np.float64).reshape(-1, 1) for v in values]
        )
        return _rows(np.concatenate(columns, axis=1), months)
    if not isinstance(spec, Mapping):
        raise InvalidParameterError(name, spec, "a [timeline] entry")
    data = dict(spec)
    if "learning" in data:
        allowed: tuple[str, ...] = DRAWABLE_KEYS.get(str(data["learning"]), ())
    elif "shape" in data:
        allowed = DRAWABLE_KEYS.get(str(data["shape"]), ())
    else:
        allowed = tuple(k for k in data if k != "interpolation")
    for key, value in draws.items():
        if key not in allowed:
            raise InvalidParameterError(
                f"{name}.{key}", key, f"a number of the entry: one of {', '.join(allowed)}"
            )
        data[key] = value
    if "learning" in data:
        kind = data.pop("learning")
        law_starts = np.ones((1, months)) if wafer_starts is None else wafer_starts
        law_starts = (
            np.broadcast_to(np.asarray(law_starts, dtype=np.float64), (1, months))
            if (np.ndim(law_starts) < 2)
            else np.asarray(law_starts, dtype=np.float64)
        )
        return learning_series(kind, law_starts, **data)
    series = from_spec(name, data, start_month=start_month, months=months)
    assert isinstance(series, np.ndarray)
    return series


def from_spec(
    name: str, spec: Any, *, start_month: str | None, months: int
) -> NDArray[np.float64] | Learning:
    """Turn one ``[timeline]`` entry of a scenario into a series or a learning law.

    Forms: a list of ``months`` values; a table of ``"YYYY-MM" = value`` points
    with an optional ``interpolation`` key; ``{shape = "logistic", ...}``;
    ``{learning = "exponential" | "wright", ...}``.

    Raises
    ------
    InvalidParameterError
        Naming ``name`` and the allowed form.

    Examples
    --------
    >>> from_spec("wafer_starts_per_month", [1, 2], start_month=None, months=2).tolist()
    [[1.0, 2.0]]
    >>> from_spec("x", [1, 2], start_month=None, months=3)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: x (number of monthly values) must be 3, one value ...
    """
    if isinstance(spec, list | tuple):
        if len(spec) != months:
            raise InvalidParameterError(
                f"{name} (number of monthly values)",
                len(spec),
                f"{months}, one value per month of the horizon",
            )
        for item in spec:
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise InvalidParameterError(name, item, "a list of numbers")
        return monthly(spec, name=name)
    if not isinstance(spec, Mapping):
        raise InvalidParameterError(
            name,
            spec,
            'a list of monthly values, a table of "YYYY-MM" = value points, '
            "a shape table or a learning table",
        )
    if "learning" in spec:
        if name != "defect_density_per_cm2":
            raise InvalidParameterError(
                name,
                dict(spec),
                "a series without learning (learning applies to defect_density_per_cm2)",
            )
        return Learning.from_dict(spec)
    if start_month is None:
        raise InvalidParameterError(
            "start_month", None, f'a "YYYY-MM" month, needed by the dated form of {name}'
        )
    if "shape" in spec:
        data = dict(spec)
        shape = data.pop("shape")
        check_choice(f"{name}.shape", shape, SHAPES)
        wanted = ("start", "end", "midpoint_month", "months_10_to_90")
        for key in data:
            if key not in wanted:
                raise InvalidParameterError(
                    f"{name} key", key, f"one of shape, {', '.join(wanted)}"
                )
        for key in wanted:
            if key not in data:
                raise InvalidParameterError(f"{name}.{key}", None, f"given for shape {shape}")
        return logistic(**data, start_month=start_month, months=months, name=name)
    data = dict(spec)
    interpolation = data.pop("interpolation", "linear")
    return from_points(
        data, start_month=start_month, months=months, interpolation=interpolation, name=name
    )
