"""Read, validate and resolve scenario files.

A scenario file is TOML with this layout::

    name = "my-scenario"              # required; for built-ins, the file's stem
    description = "One sentence."     # required
    inherits = "csis-2025-smic-target"  # optional: a built-in name or a .toml path
    notes = '''Free text: arithmetic, caveats.'''   # optional

    [parameters]                      # FunnelInputs fields (waferlab.funnel)
    wafer_starts_per_month = 50_000

    [costs]                           # optional: CostInputs fields (waferlab.economics)
    wafer_cost_usd = 13_552

    [sources]                         # key -> where the number comes from
    wafer_starts_per_month = "CSIS 2025 (Allen): SMIC 7 nm target, end of 2025"

    [published]                       # optional: the publication's own results
    source = "CSIS 2025"
    good_packages_per_month = 300_000

    [distributions]                   # optional: ranges of inputs (waferlab.uncertainty)
    die_yield = { triangular = { low = 0.2, mode = 0.3, high = 0.4 } }
    "wafer_starts_per_month.end" = { uniform = { low = 20_000, high = 50_000 } }

    [[correlations]]                  # optional: Spearman rank correlations
    inputs = ["die_yield", "wafer_starts_per_month.end"]
    spearman = 0.3

A distribution's source is the ``[sources]`` key ``"distributions.<input>"``
(required in built-in presets). A distribution may sit on a scalar input of
``[parameters]`` or ``[costs]`` that the engine takes as draws (the monthly
series fields, the stocks and every cost), on ``yield_model`` (a ``discrete``
list of model names), on ``yield_model_parameters.<name>``, or on one number of
a ``[timeline]`` entry, named ``<input>.<number>``: ``start``, ``end`` or
``months_10_to_90`` of a logistic ramp, ``start``, ``floor``,
``time_constant_months``, ``exponent`` or ``reference_wafers`` of a learning
law, a ``"YYYY-MM"`` of dated points, or the 1-based month of a list.

The valid keys of ``[parameters]`` and ``[costs]`` are the fields of
:class:`waferlab.funnel.FunnelInputs` and :class:`waferlab.economics.CostInputs`;
this module reads them (and their types) from the dataclasses, so the schema has
one source of truth.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import math
import numbers
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from waferlab.errors import (
    MAX_TEXT_CHARS,
    InvalidParameterError,
    ScenarioError,
    UnknownNameError,
    WaferlabError,
    check_integer,
)

if TYPE_CHECKING:
    from waferlab.economics import CostInputs
    from waferlab.funnel import FunnelInputs

__all__ = [
    "DISTRIBUTION_SOURCE_PREFIX",
    "Scenario",
    "distribution_range",
    "list_scenarios",
    "load_scenario",
    "parameter_unit",
    "scenario_keys",
]

#: Top-level keys a scenario file may contain.
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "inherits",
    "chip",
    "process",
    "notes",
    "parameters",
    "timeline",
    "costs",
    "sources",
    "published",
    "distributions",
    "correlations",
)

#: Prefix of a ``[sources]`` key that gives the source of a distribution.
DISTRIBUTION_SOURCE_PREFIX = "distributions."

#: Name suffixes of dimensionless fractions that must lie in [0, 1].
FRACTION_SUFFIXES: tuple[str, ...] = ("_yield", "_share", "_fraction")

#: Source text recorded for a value a user's file sets without a source.
NO_SOURCE = "no source given"

_PACKAGE = "waferlab.scenarios"


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class _Field:
    """What the scenario loader needs to know about one input field."""

    name: str
    table: str  # "parameters" or "costs"
    kind: str  # "float", "int", "str", "bool", "mapping" or "any"
    required: bool  # no default


def _kind(hint: Any) -> str:
    """Classify a resolved type hint (``float | None`` counts as ``float``)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        # a number that the API also takes as an array (draws, a monthly series)
        # or a learning law is a number in [parameters]; series go in [timeline]
        numeric = [a for a in args if a in (float, int)]
        hint = numeric[0] if numeric else (args[0] if len(args) == 1 else hint)
        origin = typing.get_origin(hint)
    for kind, cls in (("bool", bool), ("int", int), ("float", float), ("str", str)):
        if hint is cls:
            return kind
    container = origin if origin is not None else hint
    if isinstance(container, type) and issubclass(container, Mapping):
        return "mapping"
    return "any"


def _schema_of(cls: type, table: str) -> dict[str, _Field]:
    hints = typing.get_type_hints(cls)
    out: dict[str, _Field] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        # a package is named in a file (a catalogue entry or a file beside it)
        kind = "str" if f.name == "package" else _kind(hints[f.name])
        out[f.name] = _Field(f.name, table, kind, required)
    return out


@cache
def _schema() -> dict[str, dict[str, _Field]]:
    from waferlab.economics import CostInputs
    from waferlab.funnel import FunnelInputs

    return {
        "parameters": _schema_of(FunnelInputs, "parameters"),
        "costs": _schema_of(CostInputs, "costs"),
    }


def scenario_keys(table: str | None = None) -> tuple[str, ...]:
    """Return the valid keys of ``[parameters]``, ``[costs]``, or both.

    Parameters
    ----------
    table : {"parameters", "costs"}, optional
        Which table; None (default) returns the keys of both, parameters first.

    Returns
    -------
    tuple of str
        Field names of :class:`~waferlab.funnel.FunnelInputs` and/or
        :class:`~waferlab.economics.CostInputs`, in declaration order.

    Raises
    ------
    InvalidParameterError
        If ``table`` is not one of the two table names.

    Examples
    --------
    >>> "wafer_starts_per_month" in scenario_keys("parameters")
    True
    >>> scenario_keys("costs")[0]
    'wafer_cost_usd'
    """
    schema = _schema()
    if table is None:
        return tuple(schema["parameters"]) + tuple(schema["costs"])
    if table not in schema:
        raise UnknownNameError("table", table, tuple(schema))
    return tuple(schema[table])


def _field(key: str) -> _Field | None:
    schema = _schema()
    return schema["parameters"].get(key) or schema["costs"].get(key)


def _suggest(key: str, valid: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return ""


# --------------------------------------------------------------------------- units

_COUNT_WORDS = ("dies", "stacks", "wafers", "packages", "units", "months", "blocks")


def parameter_unit(key: str) -> str:
    """Return the unit of a scenario key, read from its name.

    waferlab names carry their unit (``die_width_mm``, ``wafer_cost_usd``,
    ``wafer_starts_per_month``); this turns the name into a short unit label
    for tables. Dimensionless fractions and factors give ``"1"``, text
    settings give ``""``.

    Parameters
    ----------
    key : str
        A ``[parameters]`` or ``[costs]`` key.

    Returns
    -------
    str
        The unit label.

    Examples
    --------
    >>> parameter_unit("die_width_mm"), parameter_unit("defect_density_per_cm2")
    ('mm', '1/cm²')
    >>> parameter_unit("hbm_cost_usd_per_stack"), parameter_unit("wafer_starts_per_month")
    ('USD/stack', 'wafer starts/month')
    >>> parameter_unit("die_yield"), parameter_unit("yield_model")
    ('1', '')
    """
    f = _field(key)
    if f is not None and f.kind in ("str", "bool"):
        return ""
    if f is not None and f.kind == "mapping":
        return "model-specific"
    if key.endswith("_mm2"):
        return "mm²"
    if key.endswith("_mm"):
        return "mm"
    if key.endswith("_per_cm2"):
        return "1/cm²"
    if "_usd" in key:
        _, _, per = key.partition("_usd")
        return "USD/" + per.removeprefix("_per_") if per.startswith("_per_") else "USD"
    if "_per_" in key:
        what, _, per = key.partition("_per_")
        what = what.replace("hbm_", "HBM ").replace("_", " ")
        return f"{what}/{per.replace('_', ' ')}"
    last = key.rsplit("_", 1)[-1]
    if last in _COUNT_WORDS:
        return last
    return "1"


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Scenario:
    """A resolved, validated scenario: funnel (and cost) inputs with their sources.

    Build one with :func:`load_scenario`; change one value with
    :meth:`set_parameter`, which returns a new validated scenario.

    Attributes
    ----------
    name : str
        Scenario name (for a built-in preset, its file stem).
    description : str
        One-sentence description.
    path : pathlib.Path or None
        The file it was read from.
    parameters : dict
        :class:`~waferlab.funnel.FunnelInputs` keys and values, inherited ones
        included; unset keys take the dataclass defaults.
    sources : dict
        Key -> source text for every key of ``parameters`` and ``costs``
        (``"no source given"`` for a value in a user's file without one).
    inherits : str or None
        The ``inherits`` value of the file (a built-in name or a path).
    costs : dict
        :class:`~waferlab.economics.CostInputs` keys and values; empty when the
        scenario states no costs.
    notes : str
        Free text from the file (arithmetic, caveats); not inherited, since a
        parent's arithmetic rarely holds for the child's values.
    published : dict
        The publication's own results for comparison (``source`` key plus
        numbers); not inherited.
    builtin : bool
        Whether this is one of the presets shipped with waferlab.

    Examples
    --------
    >>> s = load_scenario("csis-2025-smic-current")
    >>> s.name, s.inherits, s.builtin
    ('csis-2025-smic-current', 'csis-2025-smic-target', True)
    >>> s.funnel_inputs().wafer_starts_per_month
    20000.0
    """

    name: str
    description: str
    path: Path | None
    parameters: dict[str, Any]
    sources: dict[str, str]
    inherits: str | None = None
    costs: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    published: dict[str, Any] = field(default_factory=dict)
    builtin: bool = False
    timeline: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)
    correlations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The file name if there is one, else the scenario name (for messages)."""
        return str(self.path) if self.path is not None else self.name

    def funnel_inputs(self) -> FunnelInputs:
        """Return the funnel inputs this scenario describes.

        Returns
        -------
        FunnelInputs
            Built from :attr:`parameters`; unset fields take their defaults.

        Raises
        ------
        ScenarioError
            If the parameters do not make valid funnel inputs (the message
            names the file and the key).

        Examples
        --------
        >>> load_scenario("csis-2025-smic-target").funnel_inputs().wafer_starts_per_month
        50000.0
        """
        base = self.path.parent if self.path is not None else None
        return _build_funnel_inputs(self.label, self.parameters, self.timeline, base)

    def cost_inputs(self) -> CostInputs | None:
        """Return the cost inputs, or None when the scenario states no costs.

        Raises
        ------
        ScenarioError
            If ``[costs]`` is present but incomplete or invalid.

        Examples
        --------
        >>> load_scenario("csis-2025-smic-target").cost_inputs().test_cost_usd_per_unit
        80.0
        >>> load_scenario("csis-2025-tsmc-die-bank").cost_inputs() is None
        True
        """
        if not self.costs:
            return None
        return _build_cost_inputs(self.label, self.costs)

    def input_distributions(self) -> dict[str, Any]:
        """Return the scenario's ``[distributions]`` as distribution objects.

        Each is built by :func:`waferlab.uncertainty.parse_distributions` with
        the valid range of its input (:func:`distribution_range`).

        Raises
        ------
        ScenarioError
            If a distribution is malformed, outside its input's range, or sits
            on an input that cannot vary; the message names the file and key.

        Examples
        --------
        >>> d = load_scenario("csis-2025-smic-target").input_distributions()
        >>> round(d["die_yield"].median, 3)
        0.3
        """
        return _parse_distributions(self.label, self.distributions, self.timeline, self.parameters)

    def feasible_yield_models(self) -> Any:
        """The calibration a ``yield_model = { from_calibration = ... }`` draws from, or None.

        Returns
        -------
        waferlab.calibration.FeasibleYieldModels or None
        """
        spec = self.distributions.get("yield_model")
        if isinstance(spec, Mapping) and CALIBRATED in spec:
            return _calibrated(f"{self.label}: [distributions] yield_model", spec)
        return None

    def input_correlations(self) -> list[tuple[str, str, float]]:
        """Return ``[[correlations]]`` as (input, input, Spearman ρ) triples.

        Raises
        ------
        ScenarioError
            If a pair is malformed or names an input without a distribution.
        """
        from waferlab.uncertainty import parse_correlations

        try:
            return parse_correlations(self.correlations, names=list(self.distributions))
        except WaferlabError as exc:
            raise ScenarioError(f"{self.label}: [[correlations]] {_one_line(exc)}") from exc

    def set_parameter(self, key: str, value: Any, *, source: str | None = None) -> Scenario:
        """Return a copy of this scenario with one value changed, validated.

        Parameters
        ----------
        key : str
            A ``[parameters]`` or ``[costs]`` key.
        value : Any
            The new value (same rules as in a file). None removes the value so
            that the field's default applies (e.g. ``gross_dies_per_wafer=None``
            to compute dies per wafer from the die geometry instead).
        source : str, optional
            Source text recorded for the new value; default
            ``"override: set by the user"``.

        Returns
        -------
        Scenario
            A new scenario; this one is unchanged.

        Raises
        ------
        ScenarioError
            If the key is unknown (with the nearest valid key), the value has
            the wrong type or range, or the result is not a valid funnel.

        Examples
        --------
        >>> base = load_scenario("csis-2025-smic-target")
        >>> base.set_parameter("wafer_starts_per_month", 20_000).parameters[
        ...     "wafer_starts_per_month"]
        20000
        >>> base.parameters["wafer_starts_per_month"]
        50000
        """
        return self.with_parameters({key: value}, source=source)

    def with_parameters(self, values: Mapping[str, Any], *, source: str | None = None) -> Scenario:
        """Return a copy with several values changed at once, validated once.

        Like :meth:`set_parameter` for a mapping of keys to values; the
        cross-field checks (e.g. ``die_yield`` or ``defect_density_per_cm2``,
        not both) run after all changes, so their order does not matter.

        Parameters
        ----------
        values : mapping of str to Any
            Keys of ``[parameters]`` or ``[costs]`` and their new values
            (None removes a value so that its default applies).
        source : str, optional
            Source text recorded for every new value; default
            ``"override: set by the user"``.

        Returns
        -------
        Scenario
            A new scenario; this one is unchanged. A value set here is certain:
            the distributions on that input (and on the numbers of its
            ``[timeline]`` entry) are dropped, with the correlations naming them.

        Raises
        ------
        ScenarioError
            As :meth:`set_parameter`; the message names the scenario and the key.

        Examples
        --------
        >>> s = load_scenario("csis-2025-smic-target").with_parameters(
        ...     {"die_yield": None, "defect_density_per_cm2": 0.09, "yield_model": "murphy"})
        >>> s.funnel_inputs().die_yield is None, s.sources["yield_model"]
        (True, 'override: set by the user')
        """
        what = f"scenario {self.name!r}"
        parameters = dict(self.parameters)
        costs = dict(self.costs)
        sources = dict(self.sources)
        timeline = dict(self.timeline)
        distributions = dict(self.distributions)
        for key, value in values.items():
            root, dot, sub = key.partition(".")
            if dot and root in timeline:
                timeline[root] = _set_timeline_number(what, root, timeline[root], sub, value)
                distributions.pop(key, None)
                sources.pop(DISTRIBUTION_SOURCE_PREFIX + key, None)
                sources[key] = source if source is not None else "override: set by the user"
                continue
            if dot and root == "yield_model_parameters" and sub:
                given = parameters.get(root)
                current = dict(given) if isinstance(given, Mapping) else {}
                if value is None:
                    current.pop(sub, None)
                else:
                    current[sub] = value
                value, key = current or None, root
            spec = _field(key)
            if spec is None:
                valid = scenario_keys()
                hint = _suggest(key, valid) or f" (valid keys: {', '.join(valid)})"
                raise ScenarioError(f"{what}: unknown key {key!r}{hint}")
            where = f"{what}: [{spec.table}] {key}"
            target = parameters if spec.table == "parameters" else costs
            timeline.pop(key, None)  # a value set here replaces a series
            _drop_distributions(distributions, sources, key)
            if value is None:
                if spec.required:
                    raise ScenarioError(f"{where} is required and cannot be removed")
                target.pop(key, None)
                sources.pop(key, None)
            else:
                target[key] = _check_value(where, spec, value)
                sources[key] = source if source is not None else "override: set by the user"
        base = self.path.parent if self.path is not None else None
        _validate_complete(what, parameters, costs, timeline, base)
        correlations = _kept_correlations(self.correlations, distributions)
        _parse_distributions(what, distributions, timeline, parameters)
        return dataclasses.replace(
            self,
            parameters=parameters,
            costs=costs,
            sources=sources,
            timeline=timeline,
            distributions=distributions,
            correlations=correlations,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain JSON-able data.

        Examples
        --------
        >>> d = load_scenario("csis-2025-smic-current").to_dict()
        >>> d["inherits"], d["parameters"]["wafer_starts_per_month"]
        ('csis-2025-smic-target', 20000)
        """
        return {
            "name": self.name,
            "description": self.description,
            "path": str(self.path) if self.path is not None else None,
            "builtin": self.builtin,
            "inherits": self.inherits,
            "parameters": dict(self.parameters),
            "timeline": dict(self.timeline),
            "costs": dict(self.costs),
            "sources": dict(self.sources),
            "notes": self.notes,
            "published": dict(self.published),
            "distributions": dict(self.distributions),
            "correlations": list(self.correlations),
        }


# --------------------------------------------------------------------------- validation


def _type_name(value: Any) -> str:
    """Describe a value in TOML's terms, never as a Python repr.

    Examples
    --------
    >>> import datetime
    >>> _type_name(datetime.date(2024, 1, 1)), _type_name(datetime.time(9, 30))
    ('the date 2024-01-01', 'the time 09:30:00')
    >>> _type_name(datetime.datetime(2024, 1, 1, 9, 30))
    'the date-time 2024-01-01T09:30:00'
    >>> _type_name([1, 2]), _type_name({"a": 1}), _type_name(True), _type_name("x")
    ('an array', 'a table', 'boolean true', "string 'x'")
    """
    if isinstance(value, bool | np.bool_):
        return f"boolean {str(bool(value)).lower()}"
    if isinstance(value, str):
        if len(value) > 80:  # a long value is described, not echoed
            return f"a string of {len(value):,} characters starting {value[:20]!r}"
        return f"string {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, numbers.Real):
        return f"the number {value!r}"
    # TOML's date and time values (datetime is a subclass of date: test it first)
    if isinstance(value, datetime.datetime):
        return f"the date-time {value.isoformat()}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    if isinstance(value, datetime.time):
        return f"the time {value.isoformat()}"
    return f"a value of type {type(value).__name__}"


def _check_number(where: str, key: str, value: Any, kind: str) -> float | int:
    wanted = "an integer" if kind == "int" else "a number"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ScenarioError(f"{where} must be {wanted}, got {_type_name(value)}")
    # plain Python numbers (numpy scalars from a caller become int or float)
    value = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(value, int) and abs(value) > _MAX_FLOAT_INT:
        raise ScenarioError(f"{where} must be a finite number, got an integer of {_digits(value)}")
    if not math.isfinite(value):
        raise ScenarioError(f"{where} must be a finite number, got {value!r}")
    if kind == "int" and isinstance(value, float):
        if not value.is_integer():
            raise ScenarioError(f"{where} must be an integer, got {value!r}")
        value = int(value)
    # ranges are the library's rules (FunnelInputs, CostInputs), checked once there; the
    # loader checks only that the file holds a number and names the file and the key
    return value


#: Integers beyond the largest finite float are refused (they cannot be used as numbers).
_MAX_FLOAT_INT = int(np.finfo(np.float64).max)


def _digits(value: int) -> str:
    """``"400 digits"``: the size of a huge integer, without printing it."""
    return f"{len(str(abs(value))) if abs(value) < 10**4000 else 'over 4000'} digits"


def _check_value(where: str, spec: _Field, value: Any) -> Any:
    key = spec.name
    if key == "package":
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise ScenarioError(
                f"{where} must be a catalogue package or chip name, or a package file "
                f"beside the scenario, got {_type_name(value)}"
            )
        return value
    if key == "die_types":
        return _check_die_types(where, value)
    if spec.kind in ("float", "int"):
        return _check_number(where, key, value, spec.kind)
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ScenarioError(f"{where} must be a string, got {_type_name(value)}")
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(f"{where} must be true or false, got {_type_name(value)}")
        return value
    if spec.kind == "mapping":
        if not isinstance(value, Mapping):
            raise ScenarioError(
                f"{where} must be a table of names to numbers, got {_type_name(value)}"
            )
        out: dict[str, float] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ScenarioError(f"{where}.{k} must be a finite number, got {_type_name(v)}")
            out[str(k)] = v
        return out
    return value


#: Keys a ``die_types`` entry may set: the die supply of one more die type.
DIE_TYPE_KEYS: tuple[str, ...] = (
    "wafer_starts_per_month",
    "capacity_share",
    "gross_dies_per_wafer",
    "die_width_mm",
    "die_height_mm",
    "die_area_mm2",
    "scribe_mm",
    "wafer_diameter_mm",
    "edge_exclusion_mm",
    "die_yield",
    "yield_model",
    "defect_density_per_cm2",
    "yield_model_parameters",
    "dies_per_package",
    "die_bank_dies",
    "die_bank_inflow_dies_per_month",
    "fab_cycle_time_months",
)


def _check_die_types(where: str, value: Any) -> dict[str, dict[str, Any]]:
    """Check ``die_types``: a table of die-type names to tables of die-supply keys."""
    if not isinstance(value, Mapping) or not value:
        raise ScenarioError(
            f"{where} must be a table of die-type names to tables of die-supply keys "
            f"({', '.join(DIE_TYPE_KEYS)}), got {_type_name(value)}"
        )
    schema = _schema()["parameters"]
    out: dict[str, dict[str, Any]] = {}
    for name, table in value.items():
        if not isinstance(table, Mapping):
            raise ScenarioError(f"{where}.{name} must be a table, got {_type_name(table)}")
        entry: dict[str, Any] = {}
        for key, item in table.items():
            if key not in DIE_TYPE_KEYS:
                raise ScenarioError(
                    f"{where}.{name}: unknown key {key!r}{_suggest(key, DIE_TYPE_KEYS)} "
                    f"(a die type takes {', '.join(DIE_TYPE_KEYS)})"
                )
            entry[key] = _check_value(f"{where}.{name}.{key}", schema[key], item)
        out[str(name)] = entry
    return out


def _resolve_package(label: str, text: str, base: Path | None) -> Any:
    """Turn ``package = "..."`` into a Package: a catalogue name or a file beside the scenario."""
    from waferlab.catalog import list_entries, load_package

    names = {e.name for e in list_entries()}
    if text in names:
        return load_package(text)
    folder = (base if base is not None else Path.cwd()).resolve()
    candidate = Path(text)
    if candidate.is_absolute() or text.startswith("~"):
        raise ScenarioError(
            f"{label}: [parameters] package = {text!r}: a package file must be named relative "
            "to the scenario's folder (or give a catalogue name)"
        )
    try:
        resolved = (folder / candidate).resolve()
        found = resolved.is_relative_to(folder) and resolved.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise ScenarioError(
            f"{label}: [parameters] package = {text!r} is neither a catalogue package or chip "
            "nor a package file in the scenario's folder or below"
        )
    return load_package(resolved)


def _build_funnel_inputs(
    label: str,
    parameters: Mapping[str, Any],
    timeline: Mapping[str, Any] | None = None,
    base: Path | None = None,
) -> FunnelInputs:
    from waferlab.funnel import MAX_MONTHS, FunnelInputs
    from waferlab.timeline import from_spec

    values = dict(parameters)
    if isinstance(values.get("package"), str):
        try:
            values["package"] = _resolve_package(label, values["package"], base)
        except ScenarioError:
            raise
        except WaferlabError as exc:
            raise ScenarioError(f"{label}: [parameters] package: {_one_line(exc)}") from exc
    if isinstance(values.get("die_types"), Mapping):
        types: dict[str, Any] = {}
        for name, entry in values["die_types"].items():
            try:
                types[name] = FunnelInputs.from_dict({**entry, "months": values.get("months", 1)})
            except WaferlabError as exc:
                raise ScenarioError(
                    f"{label}: [parameters] die_types.{name}: {_one_line(exc)}"
                ) from exc
        values["die_types"] = types
    months = values.get("months", 1)
    start_month = values.get("start_month")
    if timeline:
        try:  # the series need a valid horizon before they can be built
            months = check_integer("months", months, low=1, high=MAX_MONTHS)
        except WaferlabError as exc:
            raise ScenarioError(f"{label}: [parameters] {_one_line(exc)}") from exc
    for key, spec in (timeline or {}).items():
        try:
            values[key] = from_spec(key, spec, start_month=start_month, months=months)
        except WaferlabError as exc:
            named = (_named(exc) or "").startswith(key)
            where = f"{label}: [timeline]" if named else f"{label}: [timeline] {key}:"
            raise ScenarioError(f"{where} {_one_line(exc)}") from exc
    try:
        return FunnelInputs.from_dict(values)
    except WaferlabError as exc:
        named_key = _named(exc)
        if timeline and named_key is not None and named_key in timeline:
            said = _timeline_range_text(values, named_key, timeline[named_key], exc, start_month)
            if said is not None:
                raise ScenarioError(f"{label}: [timeline] {said}") from exc
        table = "timeline" if timeline and named_key in timeline else "parameters"
        raise ScenarioError(f"{label}: [{table}] {_one_line(exc)}") from exc


def _timeline_range_text(
    values: Mapping[str, Any], key: str, spec: Any, exc: WaferlabError, start_month: Any
) -> str | None:
    """Say what of a ``[timeline]`` entry is out of range, in the numbers the user wrote.

    The library checks the monthly series built from the entry and names its first
    value out of range, which for a ramp or between dated points is a number the user
    never wrote. This names instead the entry's own numbers that the library refuses
    (a dated point ``"2025-12" = 1.3``, a ramp's ``end``), asked of the library one
    at a time, or, for a list, the month; when every number is in range but the
    series leaves it, the month where it first does. None if the error is not about
    the series' range.
    """
    from waferlab.funnel import FunnelInputs
    from waferlab.timeline import format_month, parse_month

    series = values.get(key)
    value = getattr(exc, "value", None)
    allowed = getattr(exc, "allowed", None)
    if not isinstance(series, np.ndarray) or not isinstance(value, float) or not allowed:
        return None
    flat = series.reshape(-1)
    where = np.flatnonzero(flat == value)
    if where.size == 0:
        return None
    month = int(where[0]) % (flat.size if series.ndim == 1 else series.shape[-1])
    when = f"month {month + 1}"
    if isinstance(start_month, str):
        when += f" ({format_month(parse_month(start_month) + month)})"
    if isinstance(spec, list | tuple):
        return f"{key}: {when} = {spec[month]!r} must be {allowed}"

    def refused(number: Any) -> bool:
        if isinstance(number, bool) or not isinstance(number, int | float):
            return False
        try:
            FunnelInputs.from_dict({**values, key: number})
        except InvalidParameterError as probe:
            return probe.parameter == key
        except WaferlabError:
            return False
        return False

    if isinstance(spec, Mapping) and ("shape" in spec or "learning" in spec):
        numbers = [(name, spec[name]) for name in ("start", "end", "floor") if name in spec]
    elif isinstance(spec, Mapping):
        numbers = [(f'"{date}"', v) for date, v in spec.items() if date != "interpolation"]
    else:
        numbers = []
    bad = [f"{name} = {number!r}" for name, number in numbers if refused(number)]
    if bad:
        shown = bad[:3] + ([f"{len(bad) - 3} more"] if len(bad) > 3 else [])
        each = " each" if len(bad) > 1 else ""
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        return f"{key}: {listed} must{each} be {allowed}"
    return (
        f"{key} must be {allowed}, but the series built from its entry reaches "
        f"{value:.6g} in {when}"
    )


def _named(exc: WaferlabError) -> str | None:
    """The input an error names, when it names one."""
    name = getattr(exc, "parameter", None)
    return name if isinstance(name, str) else None


def _build_cost_inputs(label: str, costs: Mapping[str, Any]) -> CostInputs:
    from waferlab.economics import CostInputs

    try:
        return CostInputs.from_dict(costs)
    except WaferlabError as exc:
        raise ScenarioError(f"{label}: [costs] {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _validate_complete(
    label: str,
    parameters: Mapping[str, Any],
    costs: Mapping[str, Any],
    timeline: Mapping[str, Any] | None = None,
    base: Path | None = None,
) -> None:
    """Check required keys, then let the dataclasses check cross-field rules."""
    schema = _schema()
    for table, values in (("parameters", parameters), ("costs", costs)):
        if table == "costs" and not values:
            continue
        for spec in schema[table].values():
            in_timeline = table == "parameters" and spec.name in (timeline or {})
            if spec.required and spec.name not in values and not in_timeline:
                raise ScenarioError(f"{label}: missing required key {spec.name!r} in [{table}]")
    _build_funnel_inputs(label, parameters, timeline, base)
    if costs:
        _build_cost_inputs(label, costs)


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class _Document:
    """One file's validated content, before inheritance is resolved."""

    path: Path
    name: str
    description: str | None  # None: a child that leaves it to _child_description
    inherits: str | None
    notes: str
    parameters: dict[str, Any]
    costs: dict[str, Any]
    sources: dict[str, str]
    published: dict[str, Any]
    timeline: dict[str, Any] = field(default_factory=dict)
    chip: str | None = None
    process: str | None = None
    distributions: dict[str, Any] = field(default_factory=dict)
    correlations: list[dict[str, Any]] | None = None


#: Largest scenario file read [bytes], checked before parsing. The built-in presets
#: are under 10 kB; 1 MiB leaves room for long notes and keeps parsing under a second.
MAX_SCENARIO_BYTES: int = 1024 * 1024

#: Deepest nesting of tables and arrays in a scenario file (the layout needs 3:
#: ``[parameters]`` > ``yield_parameters`` > a number).
MAX_SCENARIO_DEPTH: int = 8


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse a scenario file within the limits: size, nesting, string lengths, numbers.

    The size is checked on the bytes read (at most :data:`MAX_SCENARIO_BYTES` + 1),
    so a huge or endless file (a device, a pipe) is never read whole.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SCENARIO_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"{path}: larger than {MAX_SCENARIO_BYTES:,} bytes, the limit for a scenario file"
        )
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: TOML syntax error: {_one_line(exc)}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text: {_one_line(exc)}") from exc
    except RecursionError:
        raise ScenarioError(
            f"{path}: tables or arrays nested deeper than {MAX_SCENARIO_DEPTH} levels"
        ) from None
    except ValueError as exc:  # an integer beyond Python's int-string conversion limit
        reason = str(exc).split(":")[0]
        raise ScenarioError(f"{path}: a number is out of range ({reason})") from None
    _check_limits(path, doc)
    return doc


def _check_limits(path: Path, doc: Mapping[str, Any]) -> None:
    """Refuse nesting deeper than :data:`MAX_SCENARIO_DEPTH` and over-long strings.

    Walks the document without recursion; messages name the key, never the value.
    """
    stack: list[tuple[str, Any, int]] = [("", doc, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_SCENARIO_DEPTH:
            raise ScenarioError(
                f"{path}: {where} is nested deeper than {MAX_SCENARIO_DEPTH} levels"
            )
        if isinstance(value, Mapping):
            for key, item in value.items():
                if len(key) > _MAX_KEY_CHARS:
                    raise ScenarioError(
                        f"{path}: a key of {len(key):,} characters in {where or 'the file'} "
                        f"(at most {_MAX_KEY_CHARS})"
                    )
                stack.append((f"{where}.{key}" if where else key, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{where}[{k}]", item, depth + 1) for k, item in enumerate(value))
        elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            raise ScenarioError(
                f"{path}: {where} is a string of {len(value):,} characters "
                f"(at most {MAX_TEXT_CHARS:,})"
            )


#: Longest key in a scenario file [characters]; the longest valid key is under 40.
_MAX_KEY_CHARS = 100


def _parse(path: Path, doc: Mapping[str, Any]) -> _Document:
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise ScenarioError(
                f"{path}: unknown top-level key {key!r}{_suggest(key, TOP_LEVEL_KEYS)} "
                f"(valid: {', '.join(TOP_LEVEL_KEYS)})"
            )
    # a child (inherits) may leave out its description; everything else needs both
    required = ("name",) if "inherits" in doc else ("name", "description")
    missing = [key for key in required if key not in doc]
    if missing:
        keys = " and ".join(repr(key) for key in missing)
        plural = "s" if len(missing) > 1 else ""
        hint = ""
        if "description" in missing:
            hint = " (only a file with inherits may omit the description)"
        raise ScenarioError(f"{path}: missing required top-level key{plural} {keys}{hint}")
    for key in ("name", "description", "inherits", "chip", "process", "notes"):
        if key in doc and not isinstance(doc[key], str):
            raise ScenarioError(f"{path}: {key} must be a string, got {_type_name(doc[key])}")
    if not doc["name"].strip():
        raise ScenarioError(f"{path}: name must not be empty")
    for key in ("parameters", "timeline", "costs", "sources", "published", "distributions"):
        if key in doc and not isinstance(doc[key], Mapping):
            raise ScenarioError(f"{path}: [{key}] must be a table, got {_type_name(doc[key])}")

    schema = _schema()
    tables: dict[str, dict[str, Any]] = {}
    for table in ("parameters", "costs"):
        values: dict[str, Any] = {}
        for key, value in doc.get(table, {}).items():
            spec = schema[table].get(key)
            if spec is None:
                other = "costs" if table == "parameters" else "parameters"
                hint = (
                    f"; {key!r} belongs in [{other}]"
                    if key in schema[other]
                    else _suggest(key, schema[table])
                )
                raise ScenarioError(f"{path}: unknown key {key!r} in [{table}]{hint}")
            values[key] = _check_value(f"{path}: [{table}] {key}", spec, value)
        tables[table] = values

    timeline = _parse_timeline(path, doc.get("timeline", {}), tables["parameters"])

    distributions = _flatten_distributions(path, doc.get("distributions", {}))
    correlations = doc.get("correlations")
    if correlations is not None and (
        not isinstance(correlations, list)
        or not all(isinstance(item, Mapping) for item in correlations)
    ):
        raise ScenarioError(
            f'{path}: [[correlations]] must be a list of tables {{ inputs = ["a", "b"], '
            f"spearman = rho }}, got {_type_name(correlations)}"
        )

    sources: dict[str, str] = {}
    for key, text in doc.get("sources", {}).items():
        if key.startswith(DISTRIBUTION_SOURCE_PREFIX):
            if key.removeprefix(DISTRIBUTION_SOURCE_PREFIX) not in distributions:
                raise ScenarioError(
                    f"{path}: [sources] gives a source for {key!r}, but [distributions] has no "
                    f"{key.removeprefix(DISTRIBUTION_SOURCE_PREFIX)!r}"
                )
        elif _field(key) is None:
            raise ScenarioError(
                f"{path}: [sources] names unknown key {key!r}{_suggest(key, scenario_keys())}"
            )
        if not isinstance(text, str) or not text.strip():
            raise ScenarioError(
                f"{path}: [sources] {key} must be a non-empty string, got {_type_name(text)}"
            )
        sources[key] = " ".join(text.split())

    published = dict(doc.get("published", {}))
    if published:
        if not isinstance(published.get("source"), str):
            raise ScenarioError(
                f"{path}: [published] needs a 'source' string naming where it is from"
            )
        for key, value in published.items():
            if key == "source":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ScenarioError(
                    f"{path}: [published] {key} must be a number or a string, "
                    f"got {_type_name(value)}"
                )

    return _Document(
        path=path,
        name=doc["name"].strip(),
        description=" ".join(doc["description"].split()) if "description" in doc else None,
        inherits=doc.get("inherits"),
        notes=doc.get("notes", "").strip(),
        parameters=tables["parameters"],
        costs=tables["costs"],
        sources=sources,
        published=published,
        timeline=timeline,
        chip=doc.get("chip"),
        process=doc.get("process"),
        distributions=distributions,
        correlations=None if correlations is None else [dict(c) for c in correlations],
    )


#: The catalogue figure behind each compute-equivalent basis of the funnel.
_BASIS_FIGURES = {
    "bf16-spec": "dense_bf16_tflops",
    "int8-tops": "dense_8bit_tops",
    "memory-bandwidth": "memory_bandwidth_tbps",
    "reported": "h100_ratio_inference",
}


def _catalogue_defaults(
    path: Path, chip: str | None, process: str | None, model: str, basis: str | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Parameters (and their sources) that a ``chip`` or ``process`` reference supplies.

    A chip gives its first logic die's size, its dies per package and HBM stacks per
    package, and, when the scenario states a ``compute_equivalent_basis``, its
    H100-equivalents on that basis; a process gives the defect density its first yield
    observation implies under ``model`` (``waferlab.catalog.implied_defect_densities``).
    """
    from waferlab.catalog import compute_equivalents, get_entry, implied_defect_densities

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    try:
        if chip is not None:
            entry = get_entry(chip)
            if entry.kind != "chip":
                raise ScenarioError(f"{path}: chip = {chip!r} is a {entry.kind}, not a chip")
            first = entry.fields["dies"][0]
            die = get_entry(first["die"])
            for key, field_name in (("width_mm", "die_width_mm"), ("height_mm", "die_height_mm")):
                fact = die.fields.get(key)
                if fact is not None and not fact.is_unknown:
                    values[field_name] = fact.midpoint
                    sources[field_name] = f"catalogue die {die.name}: {fact.source}"
            if "die_width_mm" not in values:
                fact = die.fields["area_mm2"]
                values["die_area_mm2"] = fact.midpoint
                sources["die_area_mm2"] = f"catalogue die {die.name}: {fact.source}"
            count = first["count"]
            values["dies_per_package"] = int(count.value)
            sources["dies_per_package"] = f"catalogue chip {entry.name}: {count.source}"
            stacks = entry.fields.get("hbm_stacks")
            if stacks is not None and not stacks.is_unknown:
                values["hbm_stacks_per_package"] = int(stacks.value)
                sources["hbm_stacks_per_package"] = f"catalogue chip {entry.name}: {stacks.source}"
            if basis in _BASIS_FIGURES:
                figure = _BASIS_FIGURES[basis]
                if figure == "h100_ratio_inference":
                    fact = entry.fields.get(figure)
                    factor = None if fact is None or fact.is_unknown else fact.midpoint
                    origin = "" if fact is None else f"{fact.source}, {fact.status}"
                else:
                    factor = compute_equivalents(entry.name, basis=figure)
                    origin = f"{figure} of {entry.name} / h100-sxm"
                if factor is None:
                    raise ScenarioError(
                        f"{path}: chip = {chip!r} has no {figure} in the catalogue, so its "
                        f"compute equivalents on the basis {basis!r} are unknown; set "
                        "compute_equivalent_factor or choose another basis"
                    )
                values["compute_equivalent_factor"] = factor
                sources["compute_equivalent_factor"] = f"catalogue chip {entry.name}: {origin}"
        if process is not None:
            rows = [
                r
                for r in implied_defect_densities(process, (model,))
                if isinstance(r["defect_density_per_cm2"], float)
            ]
            if not rows:
                raise ScenarioError(
                    f"{path}: process = {process!r} has no point yield observation from which "
                    f"a {model} defect density follows"
                )
            row = rows[0]
            values["defect_density_per_cm2"] = row["defect_density_per_cm2"]
            sources["defect_density_per_cm2"] = (
                f"catalogue process {process}: the {model} D0 implied by {row['die']}'s "
                f"{row['yield']} yield at {row['die_area_mm2']:g} mm² ({row['source']})"
            )
    except ScenarioError:
        raise
    except WaferlabError as exc:
        raise ScenarioError(f"{path}: {_one_line(exc)}") from exc
    return values, sources


def _is_distribution(spec: Mapping[str, Any]) -> bool:
    from waferlab.uncertainty import DISTRIBUTIONS

    return any(key in DISTRIBUTIONS or key in ("out_of_range", CALIBRATED) for key in spec)


def _unknown_distribution(spec: Mapping[str, Any]) -> str | None:
    """The key of ``spec`` standing where a distribution's name belongs, if no such name.

    ``{ gamma = { k = 1 } }`` and ``{ gamma = ..., out_of_range = "clip" }`` are
    distributions with an unknown name (a table of numbers under a name, or a
    policy beside it); ``{ end = { uniform = {...} } }`` names a number of a
    ``[timeline]`` entry and is read further.
    """
    from waferlab.uncertainty import DISTRIBUTIONS

    names = [k for k in spec if k != "out_of_range"]
    if CALIBRATED in spec or any(n in DISTRIBUTIONS for n in names):
        return None
    for name in names:
        params = spec[name]
        numbers_only = (
            isinstance(params, Mapping)
            and bool(params)
            and not any(isinstance(v, Mapping) for v in params.values())
        )
        if numbers_only or "out_of_range" in spec:
            return str(name)
    return None


#: The form of a yield model drawn from a calibration's feasible set.
CALIBRATED = "from_calibration"
#: Keys of that form.
_CALIBRATED_KEYS = (CALIBRATED, "process", "models", "tolerance")
#: Inputs a ``from_calibration`` yield model adds: positions in the feasible sets.
CALIBRATED_POSITIONS = ("yield_model.parameter", "yield_model.defect_density")


@cache
def _feasible(dataset: str, process: str, models: tuple[str, ...] | None, tolerance: float) -> Any:
    from waferlab.calibration import feasible_yield_models, load_dataset, processes, select

    observations = load_dataset(dataset)
    known = processes(observations)
    if process not in known:
        raise UnknownNameError("process", process, known)
    return feasible_yield_models(
        select(observations, process=process), models=models, tolerance=tolerance
    )


def _calibrated(where: str, spec: Mapping[str, Any]) -> Any:
    """The :class:`~waferlab.calibration.FeasibleYieldModels` of a ``from_calibration`` form."""
    for key in spec:
        if key not in _CALIBRATED_KEYS:
            raise ScenarioError(
                f"{where}: unknown key {key!r} of the from_calibration form; one of "
                f"{', '.join(_CALIBRATED_KEYS)}"
            )
    dataset, process = spec.get(CALIBRATED), spec.get("process")
    models = spec.get("models")
    tolerance = spec.get("tolerance", 0.0)
    if not isinstance(dataset, str) or not isinstance(process, str):
        raise ScenarioError(
            f'{where}: give from_calibration = "<dataset>" and process = "<process>", e.g. '
            f'{{ from_calibration = "csis-2025", process = "SMIC N+2" }}'
        )
    if models is not None and (
        not isinstance(models, list) or not all(isinstance(m, str) for m in models)
    ):
        raise ScenarioError(f"{where}.models must be a list of yield model names")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise ScenarioError(f"{where}.tolerance must be a number, got {_type_name(tolerance)}")
    try:
        return _feasible(
            dataset, process, None if models is None else tuple(models), float(tolerance)
        )
    except WaferlabError as exc:
        raise ScenarioError(f"{where}: {_one_line(exc)}") from exc


def _flatten_distributions(path: Path, table: Mapping[str, Any]) -> dict[str, Any]:
    """Read ``[distributions]``: nested tables (``a.end = {...}``) become dotted keys."""
    out: dict[str, Any] = {}

    def visit(prefix: str, spec: Any) -> None:
        if not isinstance(spec, Mapping):
            raise ScenarioError(
                f"{path}: [distributions] {prefix} must be a table with one distribution, e.g. "
                f"{{ lognormal = {{ p5 = 0.15, p95 = 0.40 }} }}, got {_type_name(spec)}"
            )
        unknown = _unknown_distribution(spec)
        if unknown is not None:
            from waferlab.uncertainty import DISTRIBUTIONS

            raise ScenarioError(
                f"{path}: [distributions] {prefix}: unknown distribution {unknown!r}; one of "
                f"{', '.join(DISTRIBUTIONS)}{_suggest(unknown, DISTRIBUTIONS)}"
            )
        if _is_distribution(spec) or not spec:
            out[prefix] = dict(spec)
            return
        for key, value in spec.items():
            visit(f"{prefix}.{key}", value)

    for key, spec in table.items():
        visit(str(key), spec)
    for key in out:
        root = key.split(".", 1)[0]
        if _field(root) is None:
            raise ScenarioError(
                f"{path}: [distributions] names unknown input {root!r}"
                f"{_suggest(root, scenario_keys())}"
            )
    return out


def _root(key: str) -> str:
    return key.split(".", 1)[0]


def _set_timeline_number(what: str, root: str, spec: Any, number: str, value: Any) -> Any:
    """A copy of the ``[timeline]`` entry ``root`` with one of its numbers set.

    The numbers are those :func:`waferlab.timeline.from_spec_draws` can draw: a
    1-based month of a list, a dated point ``"YYYY-MM"`` of a table of points
    (a new date adds a point), and the numbers of a ramp or a learning law.
    """
    from waferlab.timeline import DRAWABLE_KEYS

    where = f"{what}: [timeline] {root}.{number}"
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where} must be a number (got {value!r})")
    if isinstance(spec, list | tuple):
        if not number.isdigit() or not 1 <= int(number) <= len(spec):
            raise ScenarioError(
                f"{where}: not a month of the list; use {root}.1 to {root}.{len(spec)}"
            )
        values = list(spec)
        values[int(number) - 1] = value
        return values
    if not isinstance(spec, Mapping):
        raise ScenarioError(f"{where}: the entry has no numbers to set")
    form = spec.get("learning", spec.get("shape"))
    if form is not None:
        allowed = DRAWABLE_KEYS.get(str(form), ())
        if number not in allowed:
            raise ScenarioError(f"{where}: not a number of the entry; one of {', '.join(allowed)}")
    elif not re.fullmatch(r"\d{4}-\d{2}", number):
        dates = [k for k in spec if k != "interpolation"]
        raise ScenarioError(
            f"{where}: a dated point is a month YYYY-MM (the entry has {', '.join(dates)})"
        )
    return {**spec, number: value}


def _drop_distributions(distributions: dict[str, Any], sources: dict[str, str], key: str) -> None:
    """Drop the distributions on ``key`` and on the numbers of its series."""
    for name in [n for n in distributions if _root(n) == key]:
        del distributions[name]
        sources.pop(DISTRIBUTION_SOURCE_PREFIX + name, None)


def _kept_correlations(
    correlations: list[dict[str, Any]], distributions: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The correlation pairs whose two inputs still have distributions."""
    return [
        c
        for c in correlations
        if all(n in distributions for n in c.get("inputs", ()) if isinstance(n, str))
    ]


#: Drawable numbers of a timeline entry that are not on the input's own scale.
_LAW_RANGES: Mapping[str, tuple[float, bool]] = {
    "months_10_to_90": (0.0, True),
    "time_constant_months": (0.0, True),
    "reference_wafers": (0.0, True),
    "exponent": (0.0, False),
}


#: The keys of numbers that :func:`numeric_inputs` does not list by name.
NUMERIC_INPUT_PATTERNS = (
    "yield_model_parameters.<name>, and the numbers of a [timeline] entry (<input>.<number>)"
)


def numeric_inputs() -> tuple[str, ...]:
    """The scenario inputs that are numbers one may draw, vary or solve for, by name.

    Besides these, a yield-model parameter (``yield_model_parameters.<name>``)
    and the numbers of a ``[timeline]`` entry (``<input>.<number>``) are
    numbers too (:data:`NUMERIC_INPUT_PATTERNS`); ``yield_model`` may be drawn
    but is a name.

    Examples
    --------
    >>> "die_yield" in numeric_inputs(), "dies_per_package" in numeric_inputs()
    (True, False)
    """
    from waferlab.economics import CostInputs
    from waferlab.funnel import SERIES_FIELDS

    return (*SERIES_FIELDS, "hbm_stock_stacks", "die_bank_dies", *CostInputs.field_names())


def distribution_range(key: str) -> Any:
    """Return the valid range of an input that may carry a distribution.

    Fractions (``*_yield``, ``*_share``, ``*_fraction``) lie in [0, 1], the
    wafer price is > 0, every other count, cost or density is >= 0; a
    yield-model parameter is > 0 (a fraction in (0, 1]); the shape numbers of
    a timeline entry (``months_10_to_90``, ``time_constant_months``,
    ``reference_wafers``) are > 0 and a learning exponent >= 0; its other
    numbers (a ramp's ``start`` and ``end``, a dated point, a learning law's
    ``start`` and ``floor``) are on the input's own scale.

    Raises
    ------
    ScenarioError
        If the input cannot carry a distribution (a text, an integer such as
        ``dies_per_package``, the die geometry or the horizon).

    Examples
    --------
    >>> str(distribution_range("die_yield")), str(distribution_range("wafer_cost_usd"))
    ('in [0, 1]', 'in (0, 1000000000]')
    >>> str(distribution_range("defect_density_per_cm2.time_constant_months"))
    '> 0'
    """
    from waferlab.economics import MAX_COST_USD, CostInputs
    from waferlab.uncertainty import ValidRange

    root, _, sub = key.partition(".")
    if root == "yield_model" and not sub:
        return ValidRange()
    if root == "yield_model_parameters" and sub:
        if sub.endswith(FRACTION_SUFFIXES):
            return ValidRange(0.0, 1.0, low_open=True)
        return ValidRange(0.0, low_open=True)
    if root not in numeric_inputs():
        raise ScenarioError(
            f"{key} cannot carry a distribution; inputs that can: "
            f"{', '.join(numeric_inputs())}, yield_model, {NUMERIC_INPUT_PATTERNS}"
        )
    if sub in _LAW_RANGES:
        low, open_ = _LAW_RANGES[sub]
        return ValidRange(low, low_open=open_)
    if root.endswith(FRACTION_SUFFIXES):
        return ValidRange(0.0, 1.0)
    if root == "wafer_cost_usd":
        return ValidRange(0.0, MAX_COST_USD, low_open=True)
    if root in CostInputs.field_names():
        return ValidRange(0.0, MAX_COST_USD)
    return ValidRange(0.0)


#: Inputs that only act through the yield model (not while die_yield is given).
_MODEL_INPUTS = ("yield_model", "defect_density_per_cm2", "yield_model_parameters")


def _parse_distributions(
    label: str,
    table: Mapping[str, Any],
    timeline: Mapping[str, Any],
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the distributions of a scenario, each with its input's valid range."""
    from waferlab.uncertainty import Discrete, Uniform, parse_distribution
    from waferlab.yield_models import YIELD_MODELS

    given = {**(parameters or {}), **timeline}
    out: dict[str, Any] = {}
    for key, spec in table.items():
        root, _, sub = key.partition(".")
        where = f"{label}: [distributions] {key}"
        if key == "yield_model" and isinstance(spec, Mapping) and CALIBRATED in spec:
            if "defect_density_per_cm2" in table or any(
                k.startswith("yield_model_parameters.") for k in table
            ):
                raise ScenarioError(
                    f"{where}: from_calibration draws the defect density and the model's "
                    "parameter itself; remove the distributions on defect_density_per_cm2 "
                    "and yield_model_parameters"
                )
            feasible = _calibrated(where, spec)
            out["yield_model"] = Discrete(feasible.models)
            for position in CALIBRATED_POSITIONS:
                out[position] = Uniform(0.0, 1.0)
            if "die_yield" in given and "harvestable_fraction" not in given:
                raise ScenarioError(
                    f"{where}: die_yield is given, so the yield model is not used; remove "
                    "die_yield (the model and its D0 then give the yield)"
                )
            continue
        uses_model = "die_yield" not in given or "harvestable_fraction" in given
        if root in _MODEL_INPUTS and not uses_model:
            raise ScenarioError(
                f"{where}: die_yield is given, so the yield model is not used and {key} "
                "would change nothing; put the distribution on die_yield, or replace die_yield "
                "by defect_density_per_cm2"
            )
        if root == "die_yield" and "defect_density_per_cm2" in given:
            raise ScenarioError(
                f"{where}: the die yield comes from the yield model (defect_density_per_cm2 "
                "is given); put the distribution on defect_density_per_cm2"
            )
        if root in timeline and not sub:
            raise ScenarioError(
                f"{where}: {root} is a [timeline] series; put the distribution on one of its "
                f"numbers, e.g. {root}.end of a ramp or {root}.time_constant_months of a law"
            )
        if sub and root not in timeline and root != "yield_model_parameters":
            raise ScenarioError(
                f"{where}: {root} has no [timeline] entry, so {key!r} names nothing; "
                f"give the distribution as {root}"
            )
        try:
            valid = distribution_range(key)
        except ScenarioError as exc:
            raise ScenarioError(f"{where}: {exc}") from exc
        try:
            out[key] = parse_distribution(key, spec, valid=valid)
        except WaferlabError as exc:
            raise ScenarioError(f"{label}: [distributions] {_one_line(exc)}") from exc
        if root == "yield_model":
            for value in getattr(out[key], "values", ()):
                if value not in YIELD_MODELS:
                    raise ScenarioError(
                        f"{where}: {value!r} is not a yield model; one of {', '.join(YIELD_MODELS)}"
                    )
    return out


def _parse_timeline(
    path: Path, table: Mapping[str, Any], parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Check the keys and the outer form of ``[timeline]``; values are built later."""
    from waferlab.funnel import SERIES_FIELDS

    out: dict[str, Any] = {}
    for key, spec in table.items():
        if key not in SERIES_FIELDS:
            if _field(key) is not None:
                raise ScenarioError(
                    f"{path}: [timeline] {key} cannot change over time; give it in "
                    f"[parameters] (keys with a monthly series: {', '.join(SERIES_FIELDS)})"
                )
            raise ScenarioError(
                f"{path}: unknown key {key!r} in [timeline]{_suggest(key, SERIES_FIELDS)}"
            )
        if key in parameters:
            raise ScenarioError(
                f"{path}: {key} is given in both [parameters] and [timeline]; give it once"
            )
        if not isinstance(spec, list | Mapping):
            raise ScenarioError(
                f"{path}: [timeline] {key} must be a list of monthly values, a table of "
                f'"YYYY-MM" = value points, a shape table or a learning table, got '
                f"{_type_name(spec)}"
            )
        out[key] = spec
    return out


def _builtin_dir() -> Path:
    return Path(str(resources.files(_PACKAGE)))


def list_scenarios() -> tuple[str, ...]:
    """Return the names of the built-in scenario presets, sorted.

    Returns
    -------
    tuple of str
        File stems of the ``*.toml`` presets shipped in :mod:`waferlab.scenarios`.

    Examples
    --------
    >>> "csis-2025-smic-target" in list_scenarios()
    True
    """
    return tuple(sorted(p.stem for p in _builtin_dir().glob("*.toml")))


def _is_pathlike(text: str) -> bool:
    return text.endswith(".toml") or os.sep in text or "/" in text


#: The rule every file path named inside a scenario file follows (see docs/scenarios.md,
#: "Trust model for shared scenario files").
PATH_RULE = (
    "a scenario file may name only a built-in scenario, or a relative path to a .toml "
    "file in its own folder or below it (symbolic links resolved)"
)


def contained_path(child: Path, key: str, target: str) -> Path:
    """Resolve a file path named by key ``key`` of scenario file ``child``, inside its box.

    The box is the folder of ``child`` (symbolic links resolved) and everything
    below it. Absolute paths, ``~``, ``..`` that leaves the box, symbolic links
    pointing out of it, NUL characters and names not ending in ``.toml`` are
    refused before the target is looked at, so the message (which names the
    key and the rule) says nothing about what lies outside: not even whether
    it exists.

    Raises
    ------
    ScenarioError
        If ``target`` breaks the rule, or names no file inside the box.

    Examples
    --------
    >>> contained_path(Path("/data/mine.toml"), "package", "../theirs.toml")
    Traceback (most recent call last):
    ...
    waferlab.errors.ScenarioError: /data/mine.toml: package = '../theirs.toml' is refused: ...
    """
    refused = ScenarioError(f"{child}: {key} = {target!r} is refused: {PATH_RULE}")
    if (
        "\0" in target
        or not target.endswith(".toml")
        or target.startswith("~")
        or Path(target).is_absolute()
    ):
        raise refused
    box = child.resolve().parent
    try:
        candidate = (box / target).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, an over-long name
        raise refused from None
    if not candidate.is_relative_to(box):
        raise refused
    if not _is_file(candidate):
        raise ScenarioError(f"{child}: {key} = {target!r}: no such file {candidate}")
    return candidate


def _resolve_parent(child: Path, target: str, builtin: bool) -> tuple[Path, bool]:
    """Find the file an ``inherits`` value names: a built-in name or a path in the box."""
    if target in list_scenarios():
        return _builtin_dir() / f"{target}.toml", True
    if not builtin and _is_pathlike(target):
        return contained_path(child, "inherits", target), False
    raise ScenarioError(
        f"{child}: inherits = {target!r} is not a built-in scenario"
        + (" or a .toml file" if not builtin else "")
        + f"{_suggest(target, list_scenarios())} (built-in: {', '.join(list_scenarios())})"
    )


def _load_chain(path: Path, builtin: bool, chain: tuple[Path, ...]) -> Scenario:
    """Read ``path``, resolve what it inherits, merge; no completeness check."""
    resolved = path.resolve()
    doc = _parse(path, _read_toml(path))
    if builtin and doc.name != path.stem:
        raise ScenarioError(f"{path}: name {doc.name!r} must equal the file name {path.stem!r}")

    parameters: dict[str, Any] = {}
    costs: dict[str, Any] = {}
    sources: dict[str, str] = {}
    timeline: dict[str, Any] = {}
    distributions: dict[str, Any] = {}
    correlations: list[dict[str, Any]] = []
    parent_name = ""
    if doc.inherits is not None:
        parent_path, parent_builtin = _resolve_parent(path, doc.inherits, builtin)
        seen = (*chain, resolved)
        if parent_path.resolve() in seen:
            names = " -> ".join(p.name for p in (*seen, parent_path.resolve()))
            raise ScenarioError(
                f"{path}: inherits = {doc.inherits!r} closes an inheritance cycle: {names}"
            )
        parent = _load_chain(parent_path, parent_builtin, seen)
        parent_name = parent.name
        parameters.update(parent.parameters)
        costs.update(parent.costs)
        sources.update(parent.sources)
        timeline.update(parent.timeline)
        distributions.update(parent.distributions)
        correlations = list(parent.correlations)

    # a chip or process named here supplies values the file does not set itself
    if doc.chip is not None or doc.process is not None:
        model = doc.parameters.get("yield_model", parameters.get("yield_model", "poisson"))
        basis = doc.parameters.get(
            "compute_equivalent_basis", parameters.get("compute_equivalent_basis")
        )
        given, given_sources = _catalogue_defaults(path, doc.chip, doc.process, model, basis)
        for key, value in given.items():
            if key in doc.parameters or key in doc.timeline:
                continue
            for replaced in (key, "die_yield") if key == "defect_density_per_cm2" else (key,):
                parameters.pop(replaced, None)
                sources.pop(replaced, None)
                timeline.pop(replaced, None)
                # a range around the replaced value does not describe the new one
                _drop_distributions(distributions, sources, replaced)
            if key in ("die_width_mm", "die_height_mm"):
                parameters.pop("die_area_mm2", None)
            parameters[key] = value
            sources[key] = given_sources[key]
    # a value set here replaces the parent's value, and the parent's source with it;
    # a number replaces a series and a series a number
    for key in (*doc.parameters, *doc.costs, *doc.timeline):
        sources.pop(key, None)
        timeline.pop(key, None)
        parameters.pop(key, None)
        # the parent's range was a range around the parent's value
        _drop_distributions(distributions, sources, key)
    for key in doc.distributions:
        sources.pop(DISTRIBUTION_SOURCE_PREFIX + key, None)
    parameters.update(doc.parameters)
    costs.update(doc.costs)
    timeline.update(doc.timeline)
    distributions.update(doc.distributions)
    correlations = (
        list(doc.correlations)
        if doc.correlations is not None
        else _kept_correlations(correlations, distributions)
    )
    for key, text in doc.sources.items():
        if key.startswith(DISTRIBUTION_SOURCE_PREFIX):
            sources[key] = text
            continue
        if key not in parameters and key not in costs and key not in timeline:
            raise ScenarioError(
                f"{path}: [sources] gives a source for {key!r}, which the scenario does not set"
            )
        sources[key] = text
    for key in (*parameters, *costs, *timeline):
        if key not in sources:
            if builtin:
                raise ScenarioError(
                    f"{path}: parameter {key!r} has no entry in [sources]; every value in a "
                    "built-in scenario must name its source"
                )
            sources[key] = NO_SOURCE
    for key in distributions:
        if DISTRIBUTION_SOURCE_PREFIX + key not in sources:
            if builtin:
                raise ScenarioError(
                    f"{path}: [distributions] {key} has no source: give "
                    f'"{DISTRIBUTION_SOURCE_PREFIX}{key}" in [sources]'
                )
            sources[DISTRIBUTION_SOURCE_PREFIX + key] = NO_SOURCE
    return Scenario(
        name=doc.name,
        description=doc.description or _child_description(doc, parent_name),
        path=path,
        parameters=parameters,
        sources=sources,
        inherits=doc.inherits,
        costs=costs,
        notes=doc.notes,
        published=doc.published,
        builtin=builtin,
        timeline=timeline,
        distributions=distributions,
        correlations=correlations,
    )


def _child_description(doc: _Document, parent: str) -> str:
    """The description of a child file that gives none: its parent and what it changes.

    Not the parent's description, which describes the parent's numbers.

    Examples
    --------
    >>> doc = _Document(Path("c.toml"), "c", None, "p", "", {"die_yield": 0.3}, {}, {}, {})
    >>> _child_description(doc, "p")
    'Based on p; sets die_yield.'
    """
    changes = []
    if doc.chip is not None or doc.process is not None:
        named = [f"{k} {v}" for k, v in (("chip", doc.chip), ("process", doc.process)) if v]
        changes.append("takes " + " and ".join(named))
    keys = [*doc.parameters, *doc.costs, *doc.timeline]
    if keys:
        changes.append("sets " + ", ".join(keys))
    if doc.distributions:
        changes.append("ranges on " + ", ".join(doc.distributions))
    if doc.correlations is not None:
        changes.append("its own correlations")
    if not changes:
        return f"Based on {parent}, unchanged."
    return f"Based on {parent}; " + "; ".join(changes) + "."


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False also for a name the system cannot look up (too long)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _user_path(text: str) -> Path:
    """The path a user typed (``~`` expanded), or InvalidParameterError naming it."""
    allowed = "a built-in scenario name or an existing .toml file"
    if "\0" in text:
        raise InvalidParameterError("scenario", text, allowed, "a path cannot hold a NUL character")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~user" of a user that does not exist
        raise InvalidParameterError(
            "scenario", text, allowed, f"no home folder for {text.split('/', 1)[0]!r}"
        ) from None


def load_scenario(name_or_path: str | os.PathLike[str]) -> Scenario:
    """Load a built-in scenario by name, or a scenario file by path.

    Parameters
    ----------
    name_or_path : str or path-like
        A name from :func:`list_scenarios`, or the path of a ``.toml`` file
        (which may ``inherits`` a built-in preset or a ``.toml`` file in its
        own folder or below it: see :func:`contained_path`).

    Returns
    -------
    Scenario
        The resolved scenario: inherited values merged, every value checked,
        and the funnel (and cost) inputs built once to check cross-field rules.

    Raises
    ------
    UnknownNameError
        If ``name_or_path`` is neither a built-in name nor a path-like string
        (the message lists the built-in names).
    InvalidParameterError
        If a path is given that is not an existing file, or ``name_or_path``
        is neither a string nor a path-like object.
    ScenarioError
        If the file is malformed; the message names the file, the key and
        what is wrong (TOML syntax with its line, unknown keys with the nearest
        valid one, wrong types, fractions outside [0, 1], negative counts,
        missing required keys, an unknown ``inherits`` target or one outside
        the file's folder, an inheritance cycle, a built-in value without a
        source, a file over :data:`MAX_SCENARIO_BYTES`, nesting deeper than
        :data:`MAX_SCENARIO_DEPTH`, a string over
        :data:`waferlab.errors.MAX_TEXT_CHARS` characters).

    Examples
    --------
    >>> s = load_scenario("csis-2025-smic-target")
    >>> s.parameters["gross_dies_per_wafer"], s.parameters["die_yield"]
    (80, 0.2)
    >>> s.sources["die_yield"][:9]
    'CSIS 2025'
    """
    if not isinstance(name_or_path, str | os.PathLike) or isinstance(
        os.fspath(name_or_path), bytes
    ):
        raise InvalidParameterError(
            "name_or_path",
            name_or_path,
            "a built-in scenario name or the path of a .toml file (a str or os.PathLike)",
        )
    text = os.fspath(name_or_path)
    if not isinstance(name_or_path, os.PathLike) and text in list_scenarios():
        path, builtin = _builtin_dir() / f"{text}.toml", True
    else:
        path, builtin = _user_path(text), False
        if not _is_file(path):
            if isinstance(name_or_path, os.PathLike) or _is_pathlike(text):
                raise InvalidParameterError(
                    "scenario", text, "a built-in scenario name or an existing .toml file"
                )
            raise UnknownNameError("scenario", text, list_scenarios())
    scenario = _load_chain(path, builtin, ())
    _validate_complete(
        scenario.label, scenario.parameters, scenario.costs, scenario.timeline, path.parent
    )
    scenario.input_distributions()
    scenario.input_correlations()
    return scenario
