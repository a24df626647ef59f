"""Published die yields as data: observations, their files and the built-in datasets.

A published yield is a statement about one die area on one process: "41.5 % of
826 mm² GA100 dies were defect-free", "the A12 yields 90 % or more". An
:class:`Observation` holds one such statement as an interval
``[yield_low, yield_high]`` (a point value has ``yield_low == yield_high``).
This module reads them from CSV and JSON files (untrusted data: read with a
size limit before parsing, at most :data:`MAX_OBSERVATIONS` rows, text fields
of bounded length) and from the built-in datasets, and selects the ones a fit
should use; :mod:`waferlab.calibration` fits yield models to them.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any

from waferlab.errors import (
    CalibrationError,
    InvalidParameterError,
    Registry,
    UnknownNameError,
    check_choice,
    check_real,
    check_text,
)

__all__ = [
    "COUNTS",
    "DATASETS",
    "MAX_OBSERVATIONS",
    "MAX_OBSERVATIONS_FILE_BYTES",
    "STATUSES",
    "FitGroup",
    "NoMatchingObservationsError",
    "Observation",
    "ObservationFileError",
    "SkippedGroup",
    "fit_groups",
    "load_dataset",
    "load_observations",
    "observations_from_csv",
    "observations_from_json",
    "processes",
    "select",
]

#: What a published yield counts as a good die.
COUNTS: tuple[str, ...] = ("fully-good", "good-or-degraded", "unspecified")

#: Whether a published yield reports the past or forecasts the future.
STATUSES: tuple[str, ...] = ("reported", "forecast")

#: Built-in datasets: name -> file in ``waferlab/data``.
DATASETS: Mapping[str, str] = Registry("dataset", {"csis-2025": "csis-2025.json"})

#: Most observations a file may hold. Published yields come by the handful (the
#: built-in dataset has 8); 10,000 rows keep a full model comparison under a
#: minute and its memory under a few hundred MB.
MAX_OBSERVATIONS: int = 10_000

#: Largest observations file read [bytes], checked before parsing (10,000 rows
#: with long notes fit in 4 MiB).
MAX_OBSERVATIONS_FILE_BYTES: int = 4 * 1024 * 1024


# --------------------------------------------------------------------------- #
# Observations
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Observation:
    """One published die yield: an interval of yields at one die area on one process.

    Parameters
    ----------
    name : str
        Short label, e.g. ``"GA100"``.
    die_area_mm2 : float
        Die area [mm²], > 0.
    yield_low, yield_high : float
        The published yield as an interval of fractions, 0 <= low <= high <= 1.
        A point value ("≈ 41.5 %") has ``yield_low == yield_high``; "≥ 90 %" is
        ``(0.90, 1.0)``. Fitting needs ``yield_low > 0``.
    source : str
        Where the figure was published.
    note : str, optional
        Anything a reader needs to interpret the figure.
    process : str, optional
        Process the die is made on (``"TSMC N7"``); fits are per process.
    counts : str, default "fully-good"
        What the figure counts as good: ``"fully-good"`` (every block works),
        ``"good-or-degraded"`` (dies sold with blocks fused off count too) or
        ``"unspecified"``.
    status : str, default "reported"
        ``"reported"`` (a yield achieved) or ``"forecast"`` (a yield expected).
    date : str, optional
        When the yield applies (free text, e.g. ``"2025-02"``).

    Raises
    ------
    InvalidParameterError
        If a field is out of range; the error names the field.

    Examples
    --------
    >>> a12 = Observation("A12", 83.27, 0.90, 1.0, source="CSIS 2025")
    >>> a12.is_point, a12.yield_text
    (False, '≥ 90 %')
    >>> Observation("x", 100.0, 0.5, 0.4, source="")
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: yield_high must be in [0.5, 1] (got 0.4)
    """

    name: str
    die_area_mm2: float
    yield_low: float
    yield_high: float
    source: str
    note: str = ""
    process: str = ""
    counts: str = "fully-good"
    status: str = "reported"
    date: str = ""

    def __post_init__(self) -> None:
        for text_field in ("name", "source", "note", "process", "date"):
            check_text(text_field, getattr(self, text_field))
        if not self.name.strip():
            raise InvalidParameterError("name", self.name, "a non-empty string")
        area = check_real("die_area_mm2", self.die_area_mm2, low=0.0, low_open=True)
        low = check_real("yield_low", self.yield_low, low=0.0, high=1.0)
        high = check_real("yield_high", self.yield_high, low=low, high=1.0)
        check_choice("counts", self.counts, COUNTS)
        check_choice("status", self.status, STATUSES)
        object.__setattr__(self, "die_area_mm2", area)
        object.__setattr__(self, "yield_low", low)
        object.__setattr__(self, "yield_high", high)

    @property
    def is_point(self) -> bool:
        """Whether the observation is a single value (``yield_low == yield_high``)."""
        return self.yield_low == self.yield_high

    @property
    def yield_text(self) -> str:
        """The published yield as text: ``"41.5 %"``, ``"50–70 %"``, ``"≥ 90 %"``."""
        low, high = _percent(self.yield_low), _percent(self.yield_high)
        if self.is_point:
            return f"{low} %"
        if self.yield_high == 1.0:
            return f"≥ {low} %"
        return f"{low}–{high} %"

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-able dict (the JSON file format)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _percent(x: float) -> str:
    return f"{100.0 * x:.4g}"


class ObservationFileError(CalibrationError, ValueError):
    """An observations file is malformed; the message names the file, row and field.

    Attributes
    ----------
    path : str
        The file.
    row : str
        Where in the file (``"line 3"``, ``"observation 2"``), or ``""``.
    field : str
        The offending field, or ``""``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "obs.csv"
    >>> _ = tmp.write_text("name,die_area_mm2,yield\\nGA100,826,41.5\\n")
    >>> try:
    ...     observations_from_csv(tmp)
    ... except ObservationFileError as exc:
    ...     print(exc.row, exc.field, str(exc).split(": ", 1)[1])
    line 2 yield yield must be in [0, 1] (got 41.5) (yields are fractions, not percent)
    """

    def __init__(self, path: str | os.PathLike[str], row: str, field: str, message: str) -> None:
        self.path = str(path)
        self.row = row
        self.field = field
        where = ", ".join(
            part for part in (self.path, row, f"field {field!r}" if field else "") if part
        )
        super().__init__(f"{where}: {message}")


_FIELD_NAMES = tuple(f.name for f in fields(Observation))
_REQUIRED = ("name", "die_area_mm2")
_FLOAT_FIELDS = ("die_area_mm2", "yield_low", "yield_high")
# Fields a file may hold: the Observation fields, with "yield" (a point value)
# next to the interval it stands for.
_FILE_FIELDS = (*_FIELD_NAMES[:2], "yield", *_FIELD_NAMES[2:])

_UTF16_32_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _read_text(path: str | os.PathLike[str]) -> str:
    """Return the file's text, decoded as UTF-8 (a leading byte-order mark is dropped).

    Spreadsheets save "CSV UTF-8" with a byte-order mark; it is not part of the
    first column's name. Other encodings are refused with the line of the
    first byte that is not UTF-8, so that no character is silently misread.
    """
    with Path(path).open("rb") as handle:
        data = handle.read(MAX_OBSERVATIONS_FILE_BYTES + 1)
    if len(data) > MAX_OBSERVATIONS_FILE_BYTES:
        raise ObservationFileError(
            path,
            "",
            "",
            f"larger than {MAX_OBSERVATIONS_FILE_BYTES:,} bytes, the limit for an "
            "observations file",
        )
    for mark, encoding in _UTF16_32_MARKS:
        if data.startswith(mark):
            raise ObservationFileError(
                path, "", "", f"not UTF-8 text ({encoding}); save the file as UTF-8"
            )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ObservationFileError(
            path,
            f"line {line}",
            "",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        ) from None


def _observation_from_record(
    record: Mapping[str, Any], path: str | os.PathLike[str], row: str, *, text_numbers: bool
) -> Observation:
    """Build an :class:`Observation` from one file record, with located errors.

    ``text_numbers`` says whether numbers come as text (CSV cells) or must be
    numbers (JSON, where ``"826"`` is a string, not a number).
    """
    unknown = [k for k in record if k not in _FILE_FIELDS]
    if unknown:
        raise ObservationFileError(
            path, row, str(unknown[0]), "unknown field; valid fields: " + ", ".join(_FILE_FIELDS)
        )
    values: dict[str, Any] = {}
    for key, value in record.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty CSV cell means "not given"
        values[key] = value
    for key in _REQUIRED:
        if key not in values:
            raise ObservationFileError(path, row, key, "missing")
    if "yield" in values:
        if "yield_low" in values or "yield_high" in values:
            raise ObservationFileError(
                path, row, "yield", "give either yield or yield_low and yield_high, not both"
            )
        point = values.pop("yield")
        values["yield_low"] = values["yield_high"] = point
    # Errors about yield_low/yield_high name the column the user wrote.
    written = {"yield_low": "yield", "yield_high": "yield"} if "yield" in record else {}
    for key in ("yield_low", "yield_high"):
        if key not in values:
            if "yield" in record:  # written, but empty (CSV) or null (JSON)
                raise ObservationFileError(
                    path, row, "yield", "no value (give a number, or yield_low and yield_high)"
                )
            raise ObservationFileError(path, row, key, "missing (or give a single 'yield')")
    for key in _FLOAT_FIELDS:
        value = values[key]
        if isinstance(value, str) and text_numbers:
            values[key] = _number_cell(value, path, row, written.get(key, key))
        elif isinstance(value, str):
            raise ObservationFileError(
                path,
                row,
                written.get(key, key),
                f"a string ({value!r}), expected a number (write it without quotes)",
            )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ObservationFileError(path, row, written.get(key, key), f"not a number: {value!r}")
    values.setdefault("source", "")
    try:
        observation = Observation(**values)
    except InvalidParameterError as exc:
        field = written.get(exc.parameter, exc.parameter)
        message = str(exc).replace(exc.parameter, field, 1)
        percent = isinstance(exc.value, float) and exc.value > 1.0
        if exc.parameter in ("yield_low", "yield_high") and percent:
            message += " (yields are fractions, not percent)"
        raise ObservationFileError(path, row, field, message) from None
    if observation.yield_low <= 0.0:
        field = written.get("yield_low", "yield_low")
        raise ObservationFileError(
            path,
            row,
            field,
            f"observation {observation.name!r} has {field} 0: a fit needs a yield above 0 "
            "(a yield of 0 has no finite defect density; write a small positive lower bound)",
        )
    return observation


#: Longest number cell in a CSV file [characters].
_MAX_NUMBER_CHARS = 100


def _number_cell(text: str, path: str | os.PathLike[str], row: str, field: str) -> float:
    """A CSV cell as a float: ASCII digits only (as in JSON and on the command line).

    Python's :class:`float` also reads other scripts' digits (``٤١``) and
    digit-group underscores (``4_1``); both are refused, so that a number in a
    CSV file means what it means in the JSON format.
    """
    stripped = text.strip()
    shown = repr(stripped) if len(stripped) <= 40 else f"{len(stripped):,} characters"
    if len(stripped) > _MAX_NUMBER_CHARS or not stripped.isascii() or "_" in stripped:
        raise ObservationFileError(
            path, row, field, f"not a number written with ASCII digits 0-9: {shown}"
        )
    try:
        return float(stripped)
    except ValueError:
        raise ObservationFileError(path, row, field, f"not a number: {shown}") from None


def _observations_from_records(
    records: Iterable[tuple[str, Mapping[str, Any]]],
    path: str | os.PathLike[str],
    *,
    text_numbers: bool,
) -> tuple[Observation, ...]:
    """Build the observations of a file from its ``(row, record)`` pairs; names must be unique.

    ``text_numbers`` as in :func:`_observation_from_record`. The CSV and JSON
    readers differ only in how they produce the records.
    """
    built: list[Observation] = []
    for row, record in records:
        if len(built) == MAX_OBSERVATIONS:
            raise ObservationFileError(
                path, row, "", f"more than {MAX_OBSERVATIONS:,} observations, the limit for a file"
            )
        built.append(_observation_from_record(record, path, row, text_numbers=text_numbers))
    observations = tuple(built)
    seen: set[str] = set()
    for k, obs in enumerate(observations, start=1):
        if obs.name in seen:
            raise ObservationFileError(
                path, f"observation {k}", "name", f"duplicate name {obs.name!r}"
            )
        seen.add(obs.name)
    return observations


def observations_from_csv(path: str | os.PathLike[str]) -> tuple[Observation, ...]:
    """Read observations from a CSV file with a header line.

    Parameters
    ----------
    path : str or path-like
        CSV file. Columns are :class:`Observation` field names; ``name``,
        ``die_area_mm2`` and either ``yield`` (a point value) or ``yield_low``
        and ``yield_high`` are required, the others optional. Yields are
        fractions (0.415, not 41.5). The file is UTF-8 text; the byte-order
        mark and CRLF line ends of spreadsheets' "CSV UTF-8" are accepted.

    Returns
    -------
    tuple of Observation

    Raises
    ------
    ObservationFileError
        If a column is unknown, a line has fewer or more values than the
        header, a required value is missing or a value is out of range (a
        yield of 0 included: no fit can use it), or the file is not UTF-8
        text; the message names the file, the line and the field (``yield``
        when the point value written as ``yield`` is the problem).
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "obs.csv"
    >>> _ = tmp.write_text("name,die_area_mm2,yield\\nGA100,826,0.415\\n")
    >>> observations_from_csv(tmp)[0].yield_low
    0.415
    """
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    try:
        observations = _observations_from_records(
            _csv_records(reader, path), path, text_numbers=True
        )
    except csv.Error as exc:
        # line_num counts the lines read completely; the record in error starts after them
        raise ObservationFileError(
            path, f"line {reader.line_num + 1}", "", f"not valid CSV: {exc}"
        ) from None
    if not observations:
        raise ObservationFileError(path, "", "", "no observations")
    return observations


def _csv_records(
    reader: csv.DictReader[str], path: str | os.PathLike[str]
) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield ``(row, record)`` per line of ``reader``, keys stripped; check the line's shape."""
    if reader.fieldnames is None:
        raise ObservationFileError(path, "", "", "empty file (expected a header line)")
    header = [name.strip() for name in reader.fieldnames]
    if len(set(header)) != len(header):
        raise ObservationFileError(path, "line 1", "", "duplicate column in the header")
    for record in reader:
        row = f"line {reader.line_num}"
        if None in record:
            raise ObservationFileError(path, row, "", "more values than header columns")
        short = [k.strip() for k, v in record.items() if v is None]
        if short:
            raise ObservationFileError(
                path,
                row,
                short[0],
                f"missing: the line has {len(header) - len(short)} values for "
                f"{len(header)} header columns (write an empty cell as two adjacent commas)",
            )
        yield row, {k.strip(): v for k, v in record.items()}


def observations_from_json(path: str | os.PathLike[str]) -> tuple[Observation, ...]:
    """Read observations from a JSON file.

    Parameters
    ----------
    path : str or path-like
        A JSON list of objects, or an object with an ``"observations"`` list
        (the format of the built-in datasets). Keys as in
        :func:`observations_from_csv`; numbers must be JSON numbers (``826``,
        not ``"826"``).

    Returns
    -------
    tuple of Observation

    Raises
    ------
    ObservationFileError
        If the file is not UTF-8 text, not valid JSON (or nested too deeply to
        read) or an entry is malformed; the message names the file, the
        observation (1-based) and the field.
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "obs.json"
    >>> _ = tmp.write_text('[{"name": "A12", "die_area_mm2": 83.27, '
    ...                    '"yield_low": 0.9, "yield_high": 1.0}]')
    >>> observations_from_json(tmp)[0].yield_text
    '≥ 90 %'
    """
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ObservationFileError(
            path, f"line {exc.lineno}", "", f"not valid JSON: {exc.msg}"
        ) from None
    except RecursionError:
        raise ObservationFileError(
            path, "", "", "not usable JSON: nested too deeply (expected a list of objects)"
        ) from None
    except ValueError as exc:  # an integer with more digits than Python converts
        reason = str(exc).split(":")[0]
        raise ObservationFileError(path, "", "", f"not usable JSON: {reason}") from None
    if isinstance(data, Mapping):
        if "observations" not in data:
            raise ObservationFileError(path, "", "observations", "missing (expected a list)")
        data = data["observations"]
    if not isinstance(data, list):
        raise ObservationFileError(path, "", "observations", "expected a list of objects")
    if not data:
        raise ObservationFileError(path, "", "observations", "no observations")
    return _observations_from_records(_json_records(data, path), path, text_numbers=False)


def _json_records(
    data: list[Any], path: str | os.PathLike[str]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Yield ``(row, record)`` for each entry of a JSON observations list."""
    for k, record in enumerate(data, start=1):
        row = f"observation {k}"
        if not isinstance(record, Mapping):
            raise ObservationFileError(path, row, "", "expected an object")
        yield row, record


def load_observations(path: str | os.PathLike[str]) -> tuple[Observation, ...]:
    """Read observations from a ``.csv`` or ``.json`` file (chosen by the extension).

    Parameters
    ----------
    path : str or path-like
        The file; see :func:`observations_from_csv` and
        :func:`observations_from_json` for the formats.

    Returns
    -------
    tuple of Observation

    Raises
    ------
    InvalidParameterError
        If the extension is neither ``.csv`` nor ``.json``.
    ObservationFileError
        If the file is malformed.
    OSError
        If the file cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "obs.csv"
    >>> _ = tmp.write_text("name,die_area_mm2,yield_low,yield_high\\nKirin,107,0.5,0.7\\n")
    >>> load_observations(tmp)[0].yield_text
    '50–70 %'
    >>> load_observations(tmp.with_suffix(".txt"))
    Traceback (most recent call last):
    ...
    waferlab.errors.InvalidParameterError: path must be a file ending in .csv or .json (got ...)
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return observations_from_csv(path)
    if suffix == ".json":
        return observations_from_json(path)
    raise InvalidParameterError("path", str(path), "a file ending in .csv or .json")


def load_dataset(name: str) -> tuple[Observation, ...]:
    """Return a built-in dataset of observations.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` (``"csis-2025"``).

    Returns
    -------
    tuple of Observation
        Every observation of the dataset, in file order, including those that
        default fits leave out (see :func:`select`).

    Raises
    ------
    UnknownNameError
        If ``name`` is not a built-in dataset; the message lists them.

    Examples
    --------
    >>> [o.name for o in load_dataset("csis-2025")][:4]
    ['GA100', 'A12', '910B', 'Kirin 9000S']
    """
    filename = DATASETS.get(name) if isinstance(name, str) else None
    if filename is None:
        raise UnknownNameError("dataset", name, DATASETS)
    resource = resources.files("waferlab") / "data" / filename
    with resources.as_file(resource) as path:
        return observations_from_json(path)


def processes(observations: Iterable[Observation]) -> tuple[str, ...]:
    """Return the distinct processes of ``observations`` in order of appearance.

    Parameters
    ----------
    observations : iterable of Observation

    Returns
    -------
    tuple of str
        Each process once (``""`` for observations without one).

    Examples
    --------
    >>> processes(load_dataset("csis-2025"))
    ('TSMC N7', 'SMIC N+2')
    """
    return tuple(dict.fromkeys(obs.process for obs in observations))


def select(
    observations: Iterable[Observation],
    *,
    process: str | None = None,
    counts: str | None = "fully-good",
    include_forecasts: bool = False,
    names: Iterable[str] | None = None,
) -> tuple[Observation, ...]:
    """Return the observations a fit should use.

    Parameters
    ----------
    observations : iterable of Observation
    process : str, optional
        Keep only this process. ``None`` keeps every process.
    counts : str or None, default "fully-good"
        Keep only observations counting good dies this way (one of
        :data:`COUNTS`); ``None`` keeps all. The default keeps a
        "good + degraded" figure (the FT's 40 %) out of fully-good fits.
    include_forecasts : bool, default False
        Whether to keep forecasts (``status == "forecast"``).
    names : iterable of str, optional
        Keep only these observations (by name).

    Returns
    -------
    tuple of Observation

    Raises
    ------
    UnknownNameError
        If ``process`` or a name is not present in ``observations``; the
        message lists the valid ones.
    InvalidParameterError
        If ``counts`` is not one of :data:`COUNTS`.

    Examples
    --------
    >>> data = load_dataset("csis-2025")
    >>> [o.name for o in select(data, process="SMIC N+2")]
    ['910B', 'Kirin 9000S']
    >>> [o.name for o in select(data, process="SMIC N+2", counts=None, include_forecasts=True)]
    ['910B', 'Kirin 9000S', '910B (FT)', '910B (Morgan Stanley)']
    """
    pool = tuple(observations)
    if process is not None:
        check_choice("process", process, processes(pool))
        pool = tuple(o for o in pool if o.process == process)
    if counts is not None:
        check_choice("counts", counts, COUNTS)
        pool = tuple(o for o in pool if o.counts == counts)
    if not include_forecasts:
        pool = tuple(o for o in pool if o.status != "forecast")
    if names is not None:
        wanted = tuple(names)
        for name in wanted:
            check_choice("names", name, [o.name for o in pool])
        pool = tuple(o for o in pool if o.name in wanted)
    return pool


@dataclass(frozen=True)
class FitGroup:
    """Observations of one process counting good dies one way: what one fit uses.

    Attributes
    ----------
    process : str
    counts : str
        One of :data:`COUNTS`.
    fitted : tuple of Observation
        The observations the fit uses.
    held_out : tuple of Observation
        Observations of the group that are predicted, not fitted.
    context : tuple of Observation
        Every observation of the process in the pool (forecasts and other
        ways of counting included), for plots.
    """

    process: str
    counts: str
    fitted: tuple[Observation, ...]
    held_out: tuple[Observation, ...]
    context: tuple[Observation, ...]


@dataclass(frozen=True)
class SkippedGroup:
    """A group left without a fit, and why (``reason`` is a code: ``"none_named_in_fit_to"``)."""

    process: str
    counts: str
    observations: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the group as a JSON-able dict."""
        return {
            "process": self.process,
            "counts": self.counts,
            "observations": list(self.observations),
            "reason": self.reason,
        }


class NoMatchingObservationsError(CalibrationError):
    """No observation is left after selection; the attributes say which settings would help.

    Attributes
    ----------
    process : str or None
    counts : str or None
        The selection that matched nothing (None: every way of counting).
    include_forecasts : bool
    other_counts : tuple of str
        Ways of counting that would match (with the same forecast setting).
    forecasts_would_match : bool
        Whether including forecasts would bring observations back.
    """

    def __init__(
        self,
        process: str | None,
        counts: str | None,
        include_forecasts: bool,
        other_counts: tuple[str, ...],
        forecasts_would_match: bool,
    ) -> None:
        self.process = process
        self.counts = counts
        self.include_forecasts = include_forecasts
        self.other_counts = other_counts
        self.forecasts_would_match = forecasts_would_match
        wanted = [f"process {process!r}"] if process is not None else []
        wanted.append(f"counts {counts if counts is not None else 'any'!r}")
        message = "no observations match " + " and ".join(wanted)
        if not include_forecasts:
            message += " (forecasts excluded)"
        hints = ["include_forecasts=True"] if forecasts_would_match else []
        hints += [f"counts={kind!r}" for kind in other_counts]
        if hints:
            message += "; try " + " or ".join(hints)
        super().__init__(message)


def fit_groups(
    observations: Iterable[Observation],
    *,
    process: str | None = None,
    counts: str | None = "fully-good",
    include_forecasts: bool = False,
    fit_to: Iterable[str] = (),
) -> tuple[tuple[FitGroup, ...], tuple[SkippedGroup, ...]]:
    """Split observations into the groups that are fitted separately.

    A fit needs observations of one process that count good dies one way, so
    every process and every way of counting gets its own group. Linear in the
    number of observations.

    Parameters
    ----------
    observations : iterable of Observation
    process, counts, include_forecasts
        As in :func:`select` (``counts=None`` keeps every way of counting, one
        group each).
    fit_to : iterable of str, optional
        Fit to these observations only; the others of their group are held
        out (predicted). A group none of whose observations is named is
        skipped.

    Returns
    -------
    groups : tuple of FitGroup
    skipped : tuple of SkippedGroup

    Raises
    ------
    NoMatchingObservationsError
        If the selection leaves no observation (the error says which setting would help).
    UnknownNameError
        If ``process`` or a name in ``fit_to`` is not among the observations.

    Examples
    --------
    >>> groups, skipped = fit_groups(load_dataset("csis-2025"), fit_to=["GA100", "910B"])
    >>> [(g.process, [o.name for o in g.fitted], [o.name for o in g.held_out]) for g in groups]
    [('TSMC N7', ['GA100'], ['A12']), ('SMIC N+2', ['910B'], ['Kirin 9000S'])]
    """
    pool = tuple(observations)
    chosen = select(pool, process=process, counts=counts, include_forecasts=include_forecasts)
    if not chosen:
        of_process = [o for o in pool if process is None or o.process == process]
        forecasts = not include_forecasts and any(
            o.status == "forecast" and (counts is None or o.counts == counts) for o in of_process
        )
        other = tuple(
            dict.fromkeys(
                o.counts
                for o in of_process
                if counts is not None
                and o.counts != counts
                and (include_forecasts or o.status != "forecast")
            )
        )
        raise NoMatchingObservationsError(process, counts, include_forecasts, other, forecasts)
    wanted = tuple(fit_to)
    names = [o.name for o in chosen]
    known = set(names)
    for name in wanted:
        if name not in known:
            raise UnknownNameError("fit_to", name, names)
    named = set(wanted)
    by_process: dict[str, list[Observation]] = {}
    for obs in pool:
        by_process.setdefault(obs.process, []).append(obs)
    members: dict[tuple[str, str], list[Observation]] = {}
    for obs in chosen:
        members.setdefault((obs.process, obs.counts), []).append(obs)
    groups: list[FitGroup] = []
    skipped: list[SkippedGroup] = []
    order = {proc: k for k, proc in enumerate(processes(chosen))}
    for proc, kind in sorted(members, key=lambda key: order[key[0]]):  # stable: counts in order
        group = members[(proc, kind)]
        fitted = tuple(o for o in group if not named or o.name in named)
        if not fitted:
            names_of = tuple(o.name for o in group)
            skipped.append(SkippedGroup(proc, kind, names_of, "none_named_in_fit_to"))
            continue
        held = tuple(o for o in group if named and o.name not in named)
        groups.append(FitGroup(proc, kind, fitted, held, tuple(by_process[proc])))
    return tuple(groups), tuple(skipped)
