"""The sourced catalogue: chips, dies, processes and packages with their sources.

The catalogue is data (``waferlab/data/catalog/*.toml``), not code. Every
figure is a *fact*: a value or a range with the id of its source (which
carries the date), a status (``published``, ``reported``, ``rumour``,
``derived``, ``assumption``) and a note — or an explicit ``unknown`` with the
reason. This module loads and validates the files, answers look-ups by name,
derives what follows from the facts (TPP, compute equivalents, the D0 each
yield model implies from a process's yield observations) and builds the
packages that ``waferlab package NAME`` evaluates.

Examples
--------
>>> entry = get_entry("h100-sxm")
>>> entry.kind, entry.fact("dense_8bit_tops").value, entry.fact("dense_8bit_tops").date
('chip', 1979.0, '2022-03')
>>> [e.name for e in list_entries("process")][:2]
['smic-n+2', 'tsmc-n4']
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from waferlab.errors import (
    InvalidParameterError,
    UnknownNameError,
    WaferlabError,
    check_choice,
)

__all__ = [
    "CATALOG_KINDS",
    "FACT_STATUSES",
    "CatalogError",
    "Entry",
    "Fact",
    "Source",
    "compute_equivalents",
    "get_entry",
    "implied_defect_densities",
    "list_entries",
    "load_package",
    "package_spec",
    "sources",
    "total_processing_performance",
]

#: Kinds of entries and the file each lives in.
CATALOG_KINDS: tuple[str, ...] = ("chip", "die", "process", "package")
_FILES = {
    "chip": "chips.toml",
    "die": "dies.toml",
    "process": "processes.toml",
    "package": "packages.toml",
}

#: How a fact is known.
FACT_STATUSES: tuple[str, ...] = ("published", "reported", "rumour", "derived", "assumption")

#: Largest package description file read from disk [bytes] (files are untrusted data).
MAX_SPEC_BYTES = 256 * 1024

_DATE = re.compile(r"^(unknown|\d{4}(-(\d{2}|Q[1-4])(-\d{2})?)?)$")
_FACT_KEYS = frozenset(
    {"value", "low", "high", "unknown", "source", "status", "note", "date", "model"}
)
#: Fields every entry of a kind must have (as facts or plain values).
_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "chip": (
        "display_name",
        "vendor",
        "dies",
        "enabled_units",
        "hbm_stacks",
        "memory_gb",
        "dense_bf16_tflops",
        "dense_8bit_tops",
        "memory_bandwidth_tbps",
    ),
    "die": ("display_name", "process", "area_mm2", "width_mm", "height_mm", "physical_units"),
    "process": ("display_name", "foundry", "d0_points", "wafer_cost_usd", "yield_observations"),
    "package": ("display_name", "technology"),
}
_PLAIN = frozenset(
    {
        "display_name",
        "vendor",
        "package",
        "process",
        "unit_name",
        "foundry",
        "technology",
        "interposer",
        "model",
    }
)


class CatalogError(WaferlabError, ValueError):
    """A catalogue file is malformed; the message names the file, entry and key."""


@dataclass(frozen=True)
class Source:
    """A publication the catalogue cites.

    Attributes
    ----------
    id, title, publisher, date : str
        ``date`` is ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``"unknown"``.
    url : str
    """

    id: str
    title: str
    publisher: str
    date: str
    url: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the source as JSON-able data."""
        return {
            "id": self.id,
            "title": self.title,
            "publisher": self.publisher,
            "date": self.date,
            "url": self.url,
        }


@dataclass(frozen=True)
class Fact:
    """One figure with its source, or an explicit unknown.

    Attributes
    ----------
    value : float, int, bool, str or None
        The figure; None for a range or an unknown.
    low, high : float or None
        A range (either end may be open: ``high`` alone is an upper bound).
    unknown : str or None
        Why the figure is unknown (then there is no value).
    source : str
        Source id ("" for an unknown without one).
    date : str
        The fact's own date, else its source's.
    status : str
        One of :data:`FACT_STATUSES`.
    note, model : str
        Free note; for a D0, the yield model it is stated under.
    """

    value: Any = None
    low: float | None = None
    high: float | None = None
    unknown: str | None = None
    source: str = ""
    date: str = ""
    status: str = "published"
    note: str = ""
    model: str = ""

    @property
    def is_unknown(self) -> bool:
        """Whether the figure is unknown."""
        return self.unknown is not None

    @property
    def midpoint(self) -> float | None:
        """The value, or the middle of a closed range; None otherwise."""
        if self.value is not None and not isinstance(self.value, bool | str):
            return float(self.value)
        if self.low is not None and self.high is not None:
            return 0.5 * (self.low + self.high)
        return None

    def text(self) -> str:
        """Return the figure as text (``826``, ``280–400``, ``≤ 0.1``, ``unknown``)."""
        if self.is_unknown:
            return "unknown"
        if self.value is not None:
            return f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        if self.low is not None and self.high is not None:
            return f"{self.low:g}–{self.high:g}"
        if self.high is not None:
            return f"≤ {self.high:g}"
        return f"≥ {self.low:g}"

    def to_dict(self) -> dict[str, Any]:
        """Return the fact as JSON-able data (empty fields left out)."""
        out: dict[str, Any] = {}
        for key in ("value", "low", "high", "unknown"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key in ("source", "date", "status", "note", "model"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out


@dataclass(frozen=True)
class Entry:
    """A catalogue entry: a chip, die, process or package.

    Attributes
    ----------
    name, kind, display_name : str
    fields : dict
        Field name -> :class:`Fact`, a string, a list (of facts or of tables
        holding facts) or a table.
    model : dict or None
        For a package entry, its package description (``waferlab package NAME``).
    """

    name: str
    kind: str
    display_name: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    model: Mapping[str, Any] | None = None

    def __repr__(self) -> str:
        return (
            f"Entry(name={self.name!r}, kind={self.kind!r}, display_name={self.display_name!r}, "
            f"facts={len(self.facts())})"
        )

    def fact(self, key: str) -> Fact:
        """Return the fact called ``key``.

        Raises
        ------
        UnknownNameError
            If the entry has no such fact.
        """
        value = self.fields.get(key)
        if not isinstance(value, Fact):
            facts = [k for k, v in self.fields.items() if isinstance(v, Fact)]
            raise UnknownNameError("key", key, facts)
        return value

    def facts(self) -> list[tuple[str, Fact]]:
        """Return every fact of the entry with its dotted path, in file order."""
        out: list[tuple[str, Fact]] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, Fact):
                out.append((prefix, value))
            elif isinstance(value, Mapping):
                for k, v in value.items():
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
            elif isinstance(value, list):
                for k, v in enumerate(value):
                    walk(f"{prefix}[{k}]", v)

        walk("", dict(self.fields))
        return out

    def unknowns(self) -> list[tuple[str, str]]:
        """Return (path, reason) for every fact marked unknown."""
        return [(p, f.unknown or "") for p, f in self.facts() if f.is_unknown]

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as JSON-able data, with the sources it cites."""

        def plain(value: Any) -> Any:
            if isinstance(value, Fact):
                return value.to_dict()
            if isinstance(value, Mapping):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        cited = sorted({f.source for _, f in self.facts() if f.source})
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "display_name": self.display_name,
            "fields": plain(dict(self.fields)),
        }
        if self.model is not None:
            out["model"] = plain(dict(self.model))
        out["sources"] = [sources()[s].to_dict() for s in cited]
        return out


# --------------------------------------------------------------------------- loading


def _read(name: str) -> dict[str, Any]:
    text = (resources.files("waferlab") / "data" / "catalog" / name).read_text("utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"catalog/{name}: not valid TOML: {exc}") from None


@cache
def sources() -> Mapping[str, Source]:
    """Return every source of the catalogue by id.

    Examples
    --------
    >>> sources()["csis-2025"].date
    '2025-03-07'
    """
    out: dict[str, Source] = {}
    for key, table in _read("sources.toml").items():
        where = f"catalog/sources.toml: [{key}]"
        if not isinstance(table, Mapping):
            raise CatalogError(f"{where}: must be a table")
        for need in ("title", "publisher", "date"):
            if not isinstance(table.get(need), str) or not table[need].strip():
                raise CatalogError(f"{where}: {need} must be a non-empty string")
        if not _DATE.match(table["date"]):
            raise CatalogError(
                f"{where}: date must be YYYY, YYYY-MM, YYYY-MM-DD or unknown "
                f"(got {table['date']!r})"
            )
        out[key] = Source(
            key, table["title"], table["publisher"], table["date"], str(table.get("url", ""))
        )
    return out


def _fact(where: str, table: Mapping[str, Any]) -> Fact:
    extra = sorted(set(table) - _FACT_KEYS)
    if extra:
        raise CatalogError(f"{where}: unknown key {extra[0]!r} in a fact")
    status = table.get("status", "published")
    if status not in FACT_STATUSES:
        raise CatalogError(
            f"{where}: status must be one of {', '.join(FACT_STATUSES)} (got {status!r})"
        )
    if "unknown" in table:
        if not isinstance(table["unknown"], str) or not table["unknown"].strip():
            raise CatalogError(f"{where}: unknown must say why (a non-empty string)")
        if any(k in table for k in ("value", "low", "high")):
            raise CatalogError(f"{where}: an unknown fact has no value")
        return Fact(
            unknown=table["unknown"],
            note=str(table.get("note", "")),
            source=str(table.get("source", "")),
            status=str(table.get("status", "")),
        )
    if "value" not in table and "low" not in table and "high" not in table:
        raise CatalogError(f"{where}: a fact needs value, low/high, or unknown")
    for key in ("low", "high"):
        if key in table and (
            isinstance(table[key], bool) or not isinstance(table[key], int | float)
        ):
            raise CatalogError(f"{where}: {key} must be a number")
    if "low" in table and "high" in table and table["low"] > table["high"]:
        raise CatalogError(f"{where}: low must not exceed high")
    source_id = str(table.get("source"))
    known = sources()
    if source_id not in known:
        raise CatalogError(
            f"{where}: source must be an id in catalog/sources.toml (got {source_id!r})"
        )
    date = str(table.get("date", known[source_id].date))
    if not _DATE.match(date):
        raise CatalogError(
            f"{where}: date must be YYYY, YYYY-MM, YYYY-QN or YYYY-MM-DD (got {date!r})"
        )
    if source_id == "waferlab-derived" and "date" not in table:
        raise CatalogError(f"{where}: a derived fact states the date of its inputs")
    return Fact(
        value=table.get("value"),
        low=table.get("low"),
        high=table.get("high"),
        source=source_id,
        date=date,
        status=status,
        note=str(table.get("note", "")),
        model=str(table.get("model", "")),
    )


def _is_fact(table: Mapping[str, Any]) -> bool:
    return any(k in table for k in ("value", "low", "high", "unknown"))


def _parse(where: str, value: Any) -> Any:
    """Turn fact tables into :class:`Fact`, recursively; bare numbers are not allowed."""
    if isinstance(value, Mapping):
        if _is_fact(value):
            return _fact(where, value)
        return {k: _parse(f"{where}.{k}", v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parse(f"{where}[{k}]", v) for k, v in enumerate(value)]
    if isinstance(value, bool | int | float):
        raise CatalogError(
            f"{where}: a number must be a fact with its source ({{ value = ..., source = ... }})"
        )
    return value


def _entry(kind: str, name: str, table: Any) -> Entry:
    where = f"catalog/{_FILES[kind]}: [{name}]"
    if not isinstance(table, Mapping):
        raise CatalogError(f"{where}: must be a table")
    for need in _REQUIRED[kind]:
        if need not in table:
            raise CatalogError(f"{where}: missing {need}")
    fields: dict[str, Any] = {}
    model = None
    for key, value in table.items():
        if key == "model" and kind == "package":
            if not isinstance(value, Mapping):
                raise CatalogError(f"{where}.model: must be a table")
            model = dict(value)
            continue
        if key in _PLAIN:
            if not isinstance(value, str):
                raise CatalogError(f"{where}.{key}: must be a string")
            fields[key] = value
            continue
        fields[key] = _parse(f"{where}.{key}", value)
    return Entry(name, kind, str(table["display_name"]), fields, model)


@cache
def _catalog() -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for kind in CATALOG_KINDS:
        for name, table in _read(_FILES[kind]).items():
            if name in entries:
                raise CatalogError(
                    f"catalog/{_FILES[kind]}: [{name}]: name already used by a {entries[name].kind}"
                )
            entries[name] = _entry(kind, name, table)
    _check_references(entries)
    return entries


def _check_references(entries: Mapping[str, Entry]) -> None:
    def need(where: str, name: str, kind: str) -> None:
        if name and (name not in entries or entries[name].kind != kind):
            raise CatalogError(f"{where}: no {kind} called {name!r} in the catalogue")

    for e in entries.values():
        where = f"catalog/{_FILES[e.kind]}: [{e.name}]"
        if e.kind == "chip":
            need(f"{where}.package", str(e.fields.get("package", "")), "package")
            for k, item in enumerate(e.fields["dies"]):
                need(f"{where}.dies[{k}].die", str(item.get("die", "")), "die")
        elif e.kind == "die":
            need(f"{where}.process", str(e.fields["process"]), "process")
        elif e.kind == "process":
            for k, item in enumerate(e.fields["yield_observations"]):
                need(f"{where}.yield_observations[{k}].die", str(item.get("die", "")), "die")
        elif e.kind == "package" and e.model is not None:
            _check_model_sources(where, e.model)


def _numbers(prefix: str, value: Any) -> list[str]:
    """Dotted paths of every number in a package description (components by name)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [prefix]
    if isinstance(value, Mapping):
        out: list[str] = []
        for k, v in value.items():
            if k != "sources":
                out += _numbers(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    if isinstance(value, list):
        out = []
        for item in value:
            label = item.get("name", "?") if isinstance(item, Mapping) else "?"
            out += _numbers(f"{prefix}.{label}", item)
        return out
    return []


def _check_model_sources(where: str, model: Mapping[str, Any]) -> None:
    cited = model.get("sources", {})
    for path in _numbers("", model):
        text = cited.get(path)
        if not isinstance(text, str):
            raise CatalogError(f"{where}.model: {path} has no entry in model.sources")
        source_id = text.split(":", 1)[0].strip()
        if source_id not in sources():
            raise CatalogError(
                f"{where}.model.sources: {path!r} must start with a source id (got {source_id!r})"
            )


# --------------------------------------------------------------------------- queries


def list_entries(kind: str | None = None) -> list[Entry]:
    """Return the catalogue entries (of one kind), sorted by name.

    Raises
    ------
    UnknownNameError
        If ``kind`` is not one of :data:`CATALOG_KINDS`.
    CatalogError
        If a catalogue file is malformed.

    Examples
    --------
    >>> [e.name for e in list_entries("package")][:2]
    ['ascend-910c-package', 'b200-package']
    """
    if kind is not None:
        check_choice("kind", kind, CATALOG_KINDS)
    return sorted(
        (e for e in _catalog().values() if kind is None or e.kind == kind), key=lambda e: e.name
    )


def get_entry(name: str) -> Entry:
    """Return the entry called ``name``.

    Raises
    ------
    UnknownNameError
        Listing the valid names.

    Examples
    --------
    >>> entry = get_entry("ascend-910c-package")
    >>> entry.kind, entry.name
    ('package', 'ascend-910c-package')
    """
    entries = _catalog()
    if name not in entries:
        raise UnknownNameError("name", name, sorted(entries))
    return entries[name]


def total_processing_performance(chip: str) -> Fact:
    """Return a chip's TPP: dense 8-bit TOPS × 8 (BIS ECCN 3A090), as a derived fact.

    Examples
    --------
    >>> total_processing_performance("h100-sxm").value
    15832.0
    """
    tops = get_entry(chip).fact("dense_8bit_tops")
    if tops.midpoint is None:
        return Fact(unknown="dense 8-bit TOPS unknown", source="bis-tpp")
    return Fact(
        value=tops.midpoint * 8.0,
        source="bis-tpp",
        date=tops.date,
        status="derived",
        note=f"dense 8-bit TOPS {tops.text()} x 8 bits ({tops.source})",
    )


#: Bases for compute equivalents: catalogue field, or TPP.
EQUIVALENT_BASES: tuple[str, ...] = (
    "dense_bf16_tflops",
    "dense_8bit_tops",
    "memory_bandwidth_tbps",
    "tpp",
)


def compute_equivalents(
    chip: str, *, reference: str = "h100-sxm", basis: str = "dense_8bit_tops"
) -> float | None:
    """Return how many ``reference`` chips one ``chip`` equals on a stated basis.

    Parameters
    ----------
    chip, reference : str
        Chip entries.
    basis : str
        One of :data:`EQUIVALENT_BASES`. Epoch AI's H100-equivalents are
        ``dense_8bit_tops`` against the H100 SXM.

    Returns
    -------
    float or None
        None when either figure is unknown (ranges use their midpoint).

    Examples
    --------
    >>> round(compute_equivalents("h20"), 3)
    0.15
    >>> round(compute_equivalents("ascend-910c", basis="dense_bf16_tflops"), 3)
    0.789
    """
    check_choice("basis", basis, EQUIVALENT_BASES)

    def figure(name: str) -> float | None:
        if basis == "tpp":
            return total_processing_performance(name).midpoint
        return get_entry(name).fact(basis).midpoint

    a, b = figure(chip), figure(reference)
    if a is None or b is None or b == 0:
        return None
    return a / b


def implied_defect_densities(
    process: str, models: tuple[str, ...] = ("poisson", "murphy", "seeds", "negative_binomial")
) -> list[dict[str, Any]]:
    """Return the D0 each yield model implies from a process's yield observations.

    One row per observation and model: ``die``, ``die_area_mm2``, ``yield``
    (the value or the range ends), ``model``, ``defect_density_per_cm2``
    (a value, or ``[low, high]`` for a yield range), ``source``, ``status``.
    ``negative_binomial`` uses the registry default ``alpha``.

    Examples
    --------
    >>> rows = implied_defect_densities("smic-n+2", ("poisson",))
    >>> round(rows[0]["defect_density_per_cm2"], 4)
    0.2418
    """
    from waferlab.yield_models import defect_density_for_yield

    entry = get_entry(process)
    if entry.kind != "process":
        raise InvalidParameterError("process", process, "a process entry")
    rows = []
    for obs in entry.fields["yield_observations"]:
        area = obs["die_area_mm2"].midpoint if isinstance(obs["die_area_mm2"], Fact) else None
        y: Fact = obs["yield"]
        if area is None:
            continue
        for model in models:
            if y.value is not None:
                d0: Any = float(defect_density_for_yield(model, area, float(y.value)))
            else:
                ends = [v for v in (y.high, y.low) if v is not None and 0.0 < v < 1.0]
                d0 = [float(defect_density_for_yield(model, area, v)) for v in ends]
                if len(ends) == 1 and y.high == 1.0:
                    d0 = [0.0, d0[0]]
            rows.append(
                {
                    "die": obs["die"],
                    "die_area_mm2": area,
                    "yield": y.text(),
                    "model": model,
                    "defect_density_per_cm2": d0,
                    "source": y.source,
                    "status": y.status,
                }
            )
    return rows


# --------------------------------------------------------------------------- packages


def package_spec(spec: str | Path) -> tuple[dict[str, Any], str]:
    """Return a package description and where it came from.

    ``spec`` is a catalogue package name (its ``model`` table), a chip name
    (its package's model) or a path to a package TOML file.

    Raises
    ------
    UnknownNameError
        If a name is neither in the catalogue nor an existing file.
    CatalogError
        If the file is too large, not TOML, or the entry has no model.

    Examples
    --------
    >>> description, where = package_spec("ascend-910c-package")
    >>> description["name"], where
    ('Ascend 910C', 'catalogue entry ascend-910c-package')
    """
    text = str(spec)
    entries = _catalog()
    if text in entries:
        entry = entries[text]
        if entry.kind == "chip" and entry.fields.get("package"):
            entry = entries[str(entry.fields["package"])]
        if entry.model is None:
            with_model = sorted(e.name for e in entries.values() if e.model is not None)
            raise CatalogError(
                f"{text} has no package description; entries with one: " + ", ".join(with_model)
            )
        return dict(entry.model), f"catalogue entry {entry.name}"
    path = Path(text)
    if not path.is_file():
        with_model = sorted(e.name for e in entries.values() if e.model is not None)
        raise UnknownNameError("spec", text, [*with_model, "or a path to a package TOML file"])
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise CatalogError(f"{path}: larger than {MAX_SPEC_BYTES} bytes")
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from None
    if isinstance(data.get("package"), Mapping):
        data = dict(data["package"])
    return data, str(path)


def load_package(spec: str | Path) -> Any:
    """Return the :class:`waferlab.package.Package` that ``spec`` describes.

    Parameters
    ----------
    spec : str or Path
        A catalogue package or chip name, or the path of a package TOML file.

    Returns
    -------
    waferlab.package.Package

    Raises
    ------
    UnknownNameError
        If a name is neither in the catalogue nor an existing file.
    CatalogError
        If the description is malformed: the message names the file (or the
        catalogue entry) and the key, as a scenario file's errors do (an
        unknown key with the valid keys and the nearest one, a value out of
        range, a target no package reaches).

    Examples
    --------
    >>> pkg = load_package("ascend-910c")  # a chip: its package's description
    >>> pkg.dies_per_package, pkg.hbm_stacks_per_package, round(pkg.package_yield, 3)
    ({'910B die': 2}, 8, 0.75)
    """
    from waferlab.package import package_from_spec

    data, origin = package_spec(spec)
    try:
        return package_from_spec(data)
    except WaferlabError as exc:  # a bad description is a bad file, named as such
        message = " ".join(str(exc).split())
        raise CatalogError(f"{origin}: {message}") from exc
