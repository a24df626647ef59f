"""Errors raised by waferlab, and the validators that raise them.

Every public function validates its arguments at the boundary and raises
:class:`InvalidParameterError` naming the argument, the offending value and the
allowed range. The error classes also derive from the matching built-in
exception, so ``except ValueError`` keeps working for callers who do not know
waferlab.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CalibrationError",
    "GeometryError",
    "InvalidParameterError",
    "NoSolutionError",
    "Registry",
    "ScenarioError",
    "UnknownKeyError",
    "UnknownNameError",
    "WaferlabError",
    "check_array",
    "check_bounded",
    "check_choice",
    "check_fields",
    "check_integer",
    "check_real",
    "check_text",
    "describe_bound",
    "describe_range",
]

#: Longest text value (a name, a source, a note) waferlab accepts from a scenario or
#: observations file, [characters]. The longest note among the built-in presets is
#: under 2,000 characters; a value far beyond this bound is a mistake or an attack.
MAX_TEXT_CHARS: int = 10_000


class WaferlabError(Exception):
    """Base class of every error waferlab raises on purpose."""


class InvalidParameterError(WaferlabError, ValueError):
    """An argument is outside its allowed range or of the wrong kind.

    Examples
    --------
    >>> err = InvalidParameterError("die_yield", 1.5, "in [0, 1]")
    >>> str(err), err.parameter
    ('die_yield must be in [0, 1] (got 1.5)', 'die_yield')

    Attributes
    ----------
    parameter : str
        Name of the argument, as spelled in the Python API (snake case).
    value : object
        The value that was rejected.
    allowed : str
        Human-readable description of what is allowed, e.g. ``"> 0"``.
    """

    def __init__(self, parameter: str, value: object, allowed: str, detail: str = "") -> None:
        self.parameter = parameter
        self.value = value
        self.allowed = allowed
        self.detail = detail
        message = f"{parameter} must be {allowed} (got {_show(value)})"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)


class UnknownNameError(InvalidParameterError, KeyError):
    """A name (model, dataset, scenario, ...) is not in its registry.

    The message lists the valid names; ``what``, if given, is what the message
    calls the name (the argument stays ``parameter``).

    Examples
    --------
    >>> str(UnknownNameError("model", "gauss", ["poisson", "murphy"]))
    "model must be one of poisson, murphy (got 'gauss')"
    >>> err = UnknownNameError("die_yield", "gamma", ["normal"], what="die_yield distribution")
    >>> str(err), err.parameter
    ("die_yield distribution must be one of normal (got 'gamma')", 'die_yield')
    """

    def __init__(
        self, parameter: str, value: object, valid: Iterable[str], *, what: str | None = None
    ) -> None:
        self.valid = tuple(valid)
        allowed = "one of " + ", ".join(self.valid)
        super().__init__(parameter, value, allowed)
        if what is not None:  # the message names what the name is of ("die_yield distribution")
            self.args = (f"{what} must be {allowed} (got {_show(value)})",)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownKeyError(UnknownNameError):
    """A table of a description (a package, a file) holds a key its reader does not know.

    Its ``parameter`` is the key's path (``components[0].yeld``), its ``value``
    the key and ``valid`` the keys the table takes; the message keeps the key
    apart from the value and suggests the nearest valid key.

    Parameters
    ----------
    table : str
        Where the key is (``components[0]``); empty for the top level.
    key : str
        The unknown key.
    valid : iterable of str
        The keys the table takes.

    Examples
    --------
    >>> err = UnknownKeyError("components[0]", "part_yeild", ["count", "part_yield"])
    >>> print(err)
    unknown key 'part_yeild' in components[0]; valid: count, part_yield; did you mean 'part_yield'?
    >>> err.parameter, err.value
    ('components[0].part_yeild', 'part_yeild')
    >>> str(UnknownKeyError("", "nmae", ["name", "flow"]))
    "unknown key 'nmae' at the top level; valid: name, flow; did you mean 'name'?"
    """

    def __init__(self, table: str, key: str, valid: Iterable[str]) -> None:
        super().__init__(f"{table}.{key}" if table else str(key), key, valid)
        self.table = table
        where = f"in {table}" if table else "at the top level"
        close = difflib.get_close_matches(str(key), self.valid, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.args = (f"unknown key {_show(key)} {where}; valid: {', '.join(self.valid)}{hint}",)


_V = TypeVar("_V")


class Registry(Mapping[str, _V], Generic[_V]):
    """A read-only mapping of names whose lookup error lists the valid names.

    Indexing with a name that is not registered raises :class:`UnknownNameError`
    (a :class:`KeyError` and an :class:`InvalidParameterError`) naming
    ``parameter``, the name asked for and every valid name; ``in``, ``get``,
    iteration and ``len`` behave as for any mapping. Assignment is not supported.

    Parameters
    ----------
    parameter : str
        What the names name, as the API spells the argument (``"model"``).
    items : mapping of str to object
        The entries, in the order they are listed.

    Examples
    --------
    >>> shapes = Registry("shape", {"square": 4, "triangle": 3})
    >>> shapes["square"], "circle" in shapes, list(shapes)
    (4, False, ['square', 'triangle'])
    >>> shapes["circle"]
    Traceback (most recent call last):
    ...
    waferlab.errors.UnknownNameError: shape must be one of square, triangle (got 'circle')
    """

    __slots__ = ("_items", "parameter")

    def __init__(self, parameter: str, items: Mapping[str, _V]) -> None:
        self.parameter = parameter
        self._items: dict[str, _V] = dict(items)

    def __getitem__(self, key: str) -> _V:
        try:
            return self._items[key]
        except (KeyError, TypeError):  # TypeError: an unhashable key is not a name either
            raise UnknownNameError(self.parameter, key, self._items) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.parameter!r}, {self._items!r})"


class NoSolutionError(InvalidParameterError):
    """Each argument is valid, but together they admit no answer.

    For example, no defect density gives a yield below the gross yield on a die
    without critical area. It is an :class:`InvalidParameterError` (it names the
    argument that makes the question unanswerable), so existing handlers keep
    working; the command line reports it as a domain error.

    Examples
    --------
    >>> from waferlab.yield_models import defect_density_for_yield
    >>> try:
    ...     defect_density_for_yield("poisson", 0.0, 0.5)
    ... except NoSolutionError as err:
    ...     err.parameter
    'die_area_mm2'
    """


class GeometryError(WaferlabError, ValueError):
    """A geometric question has no answer (e.g. no die fits on the wafer)."""


class CalibrationError(WaferlabError, RuntimeError):
    """A yield-model fit failed or its observations are inconsistent."""


class ScenarioError(WaferlabError, ValueError):
    """A scenario file is malformed; the message names the file and the key."""


#: Strings longer than this are shown by their start and length in error messages.
_SHOWN_CHARS = 80


def _show(value: object) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=6)
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return f"{value[:24]!r}"[:-1] + f"…', {len(value)} characters"
    return repr(value)


def describe_range(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """Describe the allowed range of a number, as the error messages word it.

    Examples
    --------
    >>> describe_range(0.0, None, low_open=True)
    '> 0'
    >>> describe_range(0.0, 1.0, high_open=True)
    'in [0, 1)'
    >>> describe_range(None, None)
    'a finite number'
    """
    if low is None and high is None:
        return "a finite number"
    if high is None:
        return f"{'>' if low_open else '>='} {_num(low)}"
    if low is None:
        return f"{'<' if high_open else '<='} {_num(high)}"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return f"in {left}{_num(low)}, {_num(high)}{right}"


def _num(x: float | None) -> str:
    assert x is not None
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x))


def _a_number(allowed: str) -> str:
    """Phrase a range for a value that is not a number at all ("a number > 0")."""
    return allowed if allowed == "a finite number" else f"a number {allowed}"


def _allowed_for(value: float, allowed: str, low: float | None, high: float | None) -> str:
    """Say "finite" when an infinity is rejected by a range that is open on its side."""
    if (value == math.inf and high is None) or (value == -math.inf and low is None):
        return f"finite and {allowed}" if allowed != "a finite number" else allowed
    return allowed


def _outside(
    x: NDArray[np.float64],
    low: float | None,
    high: float | None,
    low_open: bool,
    high_open: bool,
) -> NDArray[np.bool_]:
    bad = ~np.isfinite(x)
    if low is not None:
        bad |= (x <= low) if low_open else (x < low)
    if high is not None:
        bad |= (x >= high) if high_open else (x > high)
    return bad


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given range.

    Parameters
    ----------
    name : str
        Argument name used in the error message.
    value : Any
        The value to check. Booleans and non-numeric values are rejected.
    low, high : float, optional
        Bounds; ``None`` means unbounded on that side.
    low_open, high_open : bool, default False
        Whether the bound itself is excluded.

    Returns
    -------
    float
        The value; a negative zero is returned as ``0.0``, so that ``1 / x``
        and ``log(x)`` further on see the zero at the end of the range, not
        its sign (``-0.0`` passes ``>= 0`` but ``1 / -0.0`` is ``-inf``).

    Raises
    ------
    InvalidParameterError
        If ``value`` is not a real number, is NaN or infinite, or is out of range.

    Examples
    --------
    >>> check_real("die_width_mm", 21.32, low=0.0, low_open=True)
    21.32
    >>> check_real("die_width_mm", -1, low=0.0, low_open=True)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: die_width_mm must be > 0 (got -1)
    >>> check_real("harvestable_fraction", -0.0, low=0.0, high=1.0)
    0.0
    """
    allowed = describe_range(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InvalidParameterError(name, value, _a_number(allowed))
    x = float(value)
    if not math.isfinite(x) or _outside(np.asarray(x), low, high, low_open, high_open):
        raise InvalidParameterError(name, value, _allowed_for(x, allowed, low, high))
    return x + 0.0  # -0.0 becomes +0.0: 1/x and log(x) downstream see the zero of the range


def check_array(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> NDArray[np.float64]:
    """Return ``value`` as a float array whose every element is finite and in range.

    The vectorised sibling of :func:`check_real`; the error message names the
    first offending element.

    Examples
    --------
    >>> check_array("die_area_mm2", [1.0, 2.0], low=0.0, low_open=True)
    array([1., 2.])
    >>> check_array("die_area_mm2", [1.0, float("nan")], low=0.0, low_open=True)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: die_area_mm2 must be > 0 (got nan)
    """
    allowed = describe_range(low, high, low_open, high_open)
    try:
        x = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(name, value, _a_number(allowed)) from None
    kind = np.asarray(value).dtype.kind
    if kind not in "iuf":  # booleans, strings and objects are not numbers even if numpy casts them
        raise InvalidParameterError(name, value, _a_number(allowed))
    bad = _outside(x, low, high, low_open, high_open)
    if np.any(bad):
        first = float(x[bad].flat[0] if x.ndim else x)
        raise InvalidParameterError(name, first, _allowed_for(first, allowed, low, high))
    return x + 0.0  # -0.0 becomes +0.0 (as in check_real)


def check_integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int inside ``[low, high]``.

    Floats with an integral value (``2.0``) are accepted; booleans are not.

    Examples
    --------
    >>> check_integer("dies_per_package", 2, low=1)
    2
    >>> check_integer("dies_per_package", 1.5, low=1)
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: dies_per_package must be an integer >= 1 (got 1.5)
    """
    if low is not None and high is not None:
        allowed = f"an integer in [{low}, {high}]"
    elif low is not None:
        allowed = f"an integer >= {low}"
    elif high is not None:
        allowed = f"an integer <= {high}"
    else:
        allowed = "an integer"
    if isinstance(value, bool):
        raise InvalidParameterError(name, value, allowed)
    integral_float = (
        isinstance(value, float | np.floating)
        and math.isfinite(value)
        and float(value).is_integer()
    )
    if not (isinstance(value, int | np.integer) or integral_float):
        raise InvalidParameterError(name, value, allowed)
    n = int(value)
    if (low is not None and n < low) or (high is not None and n > high):
        raise InvalidParameterError(name, value, allowed)
    return n


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; else raise :class:`UnknownNameError`.

    Examples
    --------
    >>> check_choice("offset", "optimal", ["optimal", "die-centered"])
    'optimal'
    """
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise UnknownNameError(name, value, options)
    return value


def check_text(name: str, value: Any, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Return ``value`` if it is a string of at most ``max_chars`` characters.

    The error message shows the length and the first characters, never the
    whole value (a value from an untrusted file may be megabytes long).

    Examples
    --------
    >>> check_text("note", "from the CSIS report")
    'from the CSIS report'
    >>> try:
    ...     check_text("note", "x" * 20_000)
    ... except InvalidParameterError as err:
    ...     print(err.allowed, "|", len(str(err)))
    a string of at most 10000 characters | 101
    """
    if not isinstance(value, str):
        raise InvalidParameterError(name, value, "a string")
    if len(value) > max_chars:
        raise InvalidParameterError(name, value, f"a string of at most {max_chars} characters")
    return value


def describe_bound(bound: float) -> str:
    """Write a power-of-ten bound as ``1e9`` (not ``1e+09``).

    Examples
    --------
    >>> describe_bound(1e9), describe_bound(1e12)
    ('1e9', '1e12')
    """
    return f"{bound:.0e}".replace("e+0", "e").replace("e+", "e")


def check_bounded(
    name: str, value: Any, bound: float, what: str, doc: str, *, low_open: bool = False
) -> float:
    """Check that a value is a finite number >= 0 (> 0 if ``low_open``) and at most ``bound``.

    ``bound`` is a sanity bound (far beyond any real fab, but inside floating
    point's exact range); the error says so, naming ``what`` it bounds and the
    ``doc`` that explains it.

    Examples
    --------
    >>> check_bounded("wafer_cost_usd", 13_552, 1e9, "costs", "docs/economics.md")
    13552.0
    >>> check_bounded("wafer_cost_usd", 1e12, 1e9, "costs", "docs/economics.md")
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: wafer_cost_usd must be at most 1e9 (got 1000...): ...
    """
    x = check_real(name, value, low=0.0, low_open=low_open)
    if x > bound:
        raise InvalidParameterError(
            name, x, f"at most {describe_bound(bound)}", f"a sanity bound on {what} (see {doc})"
        )
    return x


def check_fields(cls: type, data: Any) -> dict[str, Any]:
    """Check a mapping of a dataclass's field names (for ``cls.from_dict``) and copy it.

    Every key must be a field of ``cls`` and every field without a default
    must be present.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Price:
    ...     usd: float
    ...     note: str = ""
    >>> check_fields(Price, {"usd": 3.0})
    {'usd': 3.0}
    >>> check_fields(Price, {"usd": 3.0, "eur": 2.0})
    Traceback (most recent call last):
    ...
    waferlab.errors.UnknownNameError: Price key must be one of usd, note (got 'eur')
    """
    import dataclasses
    from collections.abc import Mapping

    if not isinstance(data, Mapping):
        raise InvalidParameterError(f"{cls.__name__} data", data, "a mapping of field names")
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    for key in data:
        if key not in names:
            raise UnknownNameError(f"{cls.__name__} key", key, names)
    for f in fields:
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if missing and f.name not in data:
            raise InvalidParameterError(f.name, None, "given (a required key)")
    return dict(data)
