"""Output helpers shared by the library, the report and the command line.

Everything that leaves waferlab as a file or as text goes through here: plain
text tables, JSON (numpy scalars and arrays converted, NaN refused), CSV, and
files written whole or not at all (a temporary file in the target directory,
then an atomic rename).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import math
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsFloat

import numpy as np

from waferlab.errors import Registry

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from waferlab.calibration import CalibrationResult, FeasibleRange
    from waferlab.observations import Observation, SkippedGroup

__all__ = [
    "BINDING_TEXT",
    "SKIP_REASONS",
    "binding_text",
    "calibration_fit_text",
    "feasible_range_text",
    "figure_bytes",
    "format_decimals",
    "format_fields",
    "format_percent",
    "format_quantity",
    "format_significant",
    "format_table",
    "group_title",
    "holds_working_directory",
    "html_table",
    "outside_range_text",
    "save_figure_atomic",
    "short_repr",
    "skipped_groups_text",
    "to_csv",
    "to_json",
    "to_jsonable",
    "write_bytes_atomic",
    "write_files_atomic",
    "write_folder_atomic",
    "write_text_atomic",
]


def to_jsonable(obj: Any) -> Any:
    """Convert ``obj`` to plain Python types that :mod:`json` can encode.

    Dataclasses with ``to_dict`` are expanded, numpy scalars and arrays become
    floats, ints and lists, tuples become lists, and non-finite floats become
    ``None`` (JSON has no NaN).

    Examples
    --------
    >>> to_jsonable({"a": np.float64(1.5), "b": np.arange(3), "c": float("nan")})
    {'a': 1.5, 'b': [0, 1, 2], 'c': None}
    """
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def to_json(obj: Any, *, indent: int | None = 2) -> str:
    """Encode ``obj`` as JSON text (see :func:`to_jsonable`).

    Examples
    --------
    >>> to_json({"gross_dies": np.int64(80)}, indent=None)
    '{"gross_dies": 80}'
    """
    return json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)


def _cell(value: Any, float_format: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        # exact: every integer below SCIENTIFIC_FROM (1e15 < 2**53) is exact as a float
        return format_quantity(int(value))
    if isinstance(value, float | np.floating):
        x = float(value)
        if not math.isfinite(x):
            return "-"
        return format(x, float_format)
    return str(value)


def format_significant(value: float, digits: int = 4, *, trailing_zeros: bool = False) -> str:
    """``value`` to ``digits`` significant digits, scientific below 1e-4 and from 1e6 on.

    ``trailing_zeros`` keeps them, for table columns.

    Examples
    --------
    >>> format_significant(0.10652), format_significant(41.5, trailing_zeros=True)
    ('0.1065', '41.50')
    >>> format_significant(1.9e35), format_significant(float("inf"))
    ('1.900e+35', 'inf')
    """
    if not math.isfinite(value):
        return str(value)
    if value == 0.0:
        return "0"
    if not 1e-4 <= abs(value) < 1e6:
        return f"{value:.{digits - 1}e}"
    text = f"{value:#.{digits}g}" if trailing_zeros else f"{value:.{digits}g}"
    return f"{value:.0f}" if "e" in text else text.rstrip(".")


def format_decimals(value: float, decimals: int = 4) -> str:
    """Fixed decimals for ordinary values, scientific notation for tiny and huge ones.

    Examples
    --------
    >>> format_decimals(0.20236), format_decimals(17.2, 1), format_decimals(2.5e-9)
    ('0.2024', '17.2', '2.500e-09')
    """
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) < 10.0 ** (1 - decimals) or abs(value) >= 1e6):
        return f"{value:.{max(decimals - 1, 3)}e}"
    return f"{value:,.{decimals}f}"


#: From this magnitude on, quantities print in scientific notation (never 16+ digit numbers).
SCIENTIFIC_FROM: float = 1e15


def format_quantity(value: float, spec: str = ",.0f") -> str:
    """Format a quantity with ``spec``; magnitudes from 1e15 on in scientific notation.

    Examples
    --------
    >>> format_quantity(318_750), format_quantity(7072.0, ",.2f"), format_quantity(1e300)
    ('318,750', '7,072.00', '1e+300')
    """
    x = float(value)
    if math.isfinite(x) and abs(x) >= SCIENTIFIC_FROM:
        return f"{x:.4g}"
    return format(x, spec)


def format_percent(fraction: SupportsFloat, decimals: int = 1) -> str:
    """A fraction as a percentage with a fixed number of decimals.

    Examples
    --------
    >>> format_percent(0.2), format_percent(0.20236, 2), format_percent(0.9, 0)
    ('20.0 %', '20.24 %', '90 %')
    """
    return f"{100.0 * float(fraction):.{decimals}f} %"


def _share_text(fraction: float) -> str:
    """A share of a distribution's mass, three significant digits (``< 0.01 %`` below)."""
    if 0.0 < fraction < 1e-4:
        return "< 0.01 %"
    return f"{100.0 * fraction:.3g} %"


def outside_range_text(name: str, distribution: Any, info: Mapping[str, Any]) -> str:
    """One line saying how a distribution is held inside its input's valid range.

    ``info`` is an entry of :func:`waferlab.uncertainty.outside_valid_range`.

    Examples
    --------
    >>> from waferlab.uncertainty import Normal, ValidRange, outside_valid_range
    >>> d = Normal(0.3, 0.5, valid=ValidRange(0.0, 1.0))
    >>> print(outside_range_text("die_yield", d, outside_valid_range({"x": d})["x"]))
    die_yield: truncated to its valid range in [0, 1]: 35.5 % of Normal(mean=0.3, sd=0.5) is
    cut (27.4 % below 0, 8.08 % above 1); its quantiles are those of the truncated distribution
    """
    sides = ", ".join(
        f"{_share_text(info[side])} {side} {bound:g}"
        for side, bound in (("below", info["low"]), ("above", info["high"]))
        if info[side] > 0.0 and bound is not None
    )
    share = _share_text(info["mass_outside"])
    head = f"{name}: {'clipped' if info['policy'] == 'clip' else 'truncated'} to its valid "
    head += f"range {info['valid_range']}: "
    if info["policy"] == "clip":
        return head + f"{share} of the draws of {distribution!r} fall on its bounds ({sides})"
    return (
        head + f"{share} of {distribution!r} is cut ({sides}); its quantiles are those of the "
        "truncated distribution"
    )


def format_fields(rows: Sequence[tuple[str, str]]) -> str:
    """Label–value lines with the values aligned in one column.

    Examples
    --------
    >>> print(format_fields([("Gross dies", "85"), ("Partial dies", "48")]))
    Gross dies:    85
    Partial dies:  48
    """
    width = max((len(label) for label, _ in rows), default=0)
    return "\n".join(f"{label + ':':<{width + 1}}  {value}" for label, value in rows)


def format_table(
    rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    float_format: str = ",.4g",
) -> str:
    """Render rows as an aligned plain-text table.

    Parameters
    ----------
    rows : sequence of mappings or sequences
        One entry per row; a mapping is read by column name.
    columns : sequence of str
        Column keys (and default headers).
    headers : sequence of str, optional
        Header labels, one per column.
    float_format : str, default ",.4g"
        Format spec for floats. Integers get thousands separators.

    Returns
    -------
    str
        The table, numbers right-aligned, text left-aligned.

    Examples
    --------
    >>> print(format_table([{"model": "poisson", "d0": 0.1065}], ["model", "d0"]))
    model     d0
    -------  ------
    poisson  0.1065
    """
    labels = list(headers) if headers is not None else list(columns)
    cells: list[list[str]] = []
    numeric = [True] * len(columns)
    for row in rows:
        values = [row[c] for c in columns] if isinstance(row, Mapping) else list(row)
        cells.append([_cell(v, float_format) for v in values])
        for k, v in enumerate(values):
            is_number = isinstance(v, int | float | np.integer | np.floating)
            if v is not None and (not is_number or isinstance(v, bool)):
                numeric[k] = False
    widths = [max([len(labels[k])] + [len(r[k]) for r in cells]) for k in range(len(columns))]

    def line(parts: Sequence[str], align_numbers: bool) -> str:
        out = []
        for k, p in enumerate(parts):
            out.append(p.rjust(widths[k]) if (numeric[k] and align_numbers) else p.ljust(widths[k]))
        return "  ".join(out).rstrip()

    lines = [line(labels, False), "  ".join("-" * w for w in widths)]
    lines += [line(r, True) for r in cells]
    return "\n".join(lines)


def short_repr(text: str, limit: int = 300) -> str:
    """Cut ``text`` to at most ``limit`` characters (for ``__repr__``), ending in ``…)``.

    Examples
    --------
    >>> short_repr("Result(" + "x" * 400 + ")", 20)
    'Result(xxxxxxxxxxx…)'
    """
    return text if len(text) <= limit else text[: limit - 2] + "…)"


def html_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    caption: str = "",
    float_format: str = ".4g",
) -> str:
    """Render rows as an HTML table (for ``_repr_html_`` in notebooks); text is escaped.

    Examples
    --------
    >>> html_table([{"model": "<murphy>", "d0": 0.11562}], ["model", "d0"], caption="fit")
    '<table><caption>fit</caption><thead><tr><th>model</th><th>d0</th></tr></thead><tbody><tr><td>&lt;murphy&gt;</td><td>0.1156</td></tr></tbody></table>'
    """
    from html import escape

    names = list(headers) if headers is not None else list(columns)
    head = "".join(f"<th>{escape(str(h))}</th>" for h in names)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(_cell(row.get(c), float_format))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Render rows (mappings) as CSV text with a header line.

    Examples
    --------
    >>> print(to_csv([{"stage": "wafers", "quantity": 50000}], ["stage", "quantity"]), end="")
    stage,quantity
    wafers,50000
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([to_jsonable(row[c]) for c in columns])
    return buffer.getvalue()


def _replace_all(directory: Path, files: Sequence[tuple[Path, bytes]]) -> None:
    """Stage every file under a temporary name in ``directory``, then rename all into place.

    On any error the temporary files are removed and no target has been
    touched (only a rename failing midway, which needs the directory to change
    under us, cannot be undone). Errors name the target file, not the temporary one.
    """
    for target, _ in files:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory", str(target))
    mask = os.umask(0)
    os.umask(mask)
    staged: list[tuple[str, Path]] = []
    try:
        for target, data in files:
            try:
                fd, tmp_name = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".tmp", dir=directory
                )
            except OSError as exc:
                raise type(exc)(exc.errno, exc.strerror, str(target)) from None
            staged.append((tmp_name, target))
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            except OSError as exc:  # e.g. a full disk: name the file the user asked for
                raise type(exc)(exc.errno, exc.strerror, str(target)) from None
            # mkstemp creates the file private (0600); give it the usual mode.
            os.chmod(tmp_name, 0o666 & ~mask)
        for tmp_name, target in staged:
            os.replace(tmp_name, target)
    except BaseException:
        for tmp_name, _ in staged:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` whole or not at all.

    The bytes go to a temporary file in the same directory, which is then
    renamed over ``path``; on any error the temporary file is removed and the
    target is left untouched.

    Raises
    ------
    OSError
        If the directory does not exist or is not writable.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_bytes_atomic(Path(tmp) / "data.bin", b"wafer")
    ...     path.read_bytes()
    b'wafer'
    """
    target = Path(path)
    _replace_all(target.parent if str(target.parent) else Path("."), [(target, data)])
    return target


def write_files_atomic(
    directory: str | os.PathLike[str], files: Mapping[str, bytes]
) -> tuple[Path, ...]:
    """Write several files into ``directory``: all of them, or none.

    Every file is first written to a temporary name in ``directory``; only when
    all are written are they renamed into place. On any error the temporary
    files are removed and no target file has been touched (a rename itself
    failing midway is the one case that cannot be undone; it needs the
    directory to change under us).

    Parameters
    ----------
    directory : path
        Target directory; created (with parents) if it does not exist.
    files : mapping of str to bytes
        File name (no directory part) to content.

    Returns
    -------
    tuple of pathlib.Path
        The files written, in the order given.

    Raises
    ------
    OSError
        If the directory cannot be created or a file cannot be written; the
        error names the target file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_files_atomic(Path(tmp) / "out", {"a.txt": b"1", "b.txt": b"2"})
    ...     [p.name for p in written], written[1].read_text()
    (['a.txt', 'b.txt'], '2')
    """
    root = Path(directory)
    if (root.exists() or root.is_symlink()) and not root.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", str(root))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # e.g. a parent that is a file or a dangling link
        raise NotADirectoryError(errno.ENOTDIR, "cannot be created", str(exc.filename)) from None
    targets = tuple(root / name for name in files)
    _replace_all(root, list(zip(targets, files.values(), strict=True)))
    return targets


def _rename_exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2`` with RENAME_EXCHANGE).

    Returns False where the system has no such call (the caller then falls back
    to two renames).
    """
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class _FolderLock:
    """An advisory lock (``flock``) on a folder, held while a writer replaces one of its entries.

    Writers of the same target serialise; readers and other programs are not
    affected. Where ``fcntl`` does not exist (Windows) no lock is taken.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        self.fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock
            self.fd = None


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM during a step that must not be cut in two.

    A signal that arrives meanwhile is delivered when the step is done.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents; return those created, deepest last."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            break
        missing.append(candidate)
    created = []
    for candidate in reversed(missing):
        try:
            candidate.mkdir()
        except FileExistsError:
            if not candidate.is_dir():
                raise NotADirectoryError(
                    errno.ENOTDIR, "cannot be created", str(candidate)
                ) from None
            continue
        except OSError as exc:
            raise type(exc)(exc.errno, exc.strerror, str(candidate)) from None
        created.append(candidate)
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is not a directory", str(folder))
    return created


def holds_working_directory(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` is the working directory, one of its parents, or a filesystem root.

    Such a folder is never replaced, not even on request: the running process
    (and the user's shell) would be left in a deleted folder.

    Examples
    --------
    >>> holds_working_directory("."), holds_working_directory("/")
    (True, True)
    """
    path = Path(os.path.realpath(folder))
    cwd = Path(os.path.realpath(os.getcwd()))
    return path == cwd or path in cwd.parents or path.parent == path


def write_folder_atomic(
    directory: str | os.PathLike[str],
    files: Mapping[str, bytes],
    *,
    may_replace: Callable[[Path], bool] | None = None,
) -> tuple[Path, ...]:
    """Write a folder of files whole, or not at all, and move it into place in one rename.

    The files are written into a fresh hidden folder beside ``directory``
    (``.NAME.XXXX.tmp``), which is then renamed to ``directory``. An existing
    ``directory`` is replaced whole (swapped in one atomic step where the system
    allows it) when it is empty or ``may_replace(directory)`` says so; otherwise
    it is refused and left untouched. Writers of the same folder hold an
    advisory lock (``flock`` on the parent folder), so concurrent writers
    serialise and the result is always one writer's complete folder. On any
    error or interruption (KeyboardInterrupt, or an exception raised by a
    signal handler) the temporary folder and any parent folders this call
    created are removed: no partial and no empty folder is left behind.

    Parameters
    ----------
    directory : path
        The folder to write; missing parents are created.
    files : mapping of str to bytes
        File name (no directory part) to content.
    may_replace : callable, optional
        Decides whether an existing, non-empty ``directory`` may be replaced;
        None refuses every non-empty folder.

    Returns
    -------
    tuple of pathlib.Path
        The files written, in the order given.

    Raises
    ------
    FileExistsError
        If ``directory`` exists, is not empty and may not be replaced.
    OSError
        If the folder cannot be written (a full disk, no permission, a parent
        that is a file); the error names the target path, never the temporary one.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_folder_atomic(Path(tmp) / "out", {"a.txt": b"1", "b.txt": b"2"})
    ...     again = write_folder_atomic(Path(tmp) / "out", {"c.txt": b"3"}, may_replace=bool)
    ...     sorted(p.name for p in (Path(tmp) / "out").iterdir())
    ['c.txt']
    """
    root = Path(os.path.abspath(directory))
    if (root.exists() or root.is_symlink()) and not root.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", str(root))
    if holds_working_directory(root):
        from waferlab.errors import InvalidParameterError

        raise InvalidParameterError(
            "directory", str(directory), "a folder that does not hold the working directory"
        )
    for name in files:
        if not name or Path(name).name != name or name in (".", ".."):
            raise ValueError(f"file name {name!r} must not contain a directory part")
    created = _make_parents(root.parent)
    staging: Path | None = None
    try:
        with _FolderLock(root.parent):
            if root.is_symlink() or (root.exists() and not root.is_dir()):
                raise NotADirectoryError(errno.ENOTDIR, "is not a directory", str(root))
            exists = root.exists()
            if exists and any(root.iterdir()) and not (may_replace and may_replace(root)):
                raise FileExistsError(errno.EEXIST, "exists and is not empty", str(root))
            mask = os.umask(0)
            os.umask(mask)
            try:
                staging = Path(
                    tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent)
                )
            except OSError as exc:
                raise type(exc)(exc.errno, exc.strerror, str(root)) from None
            os.chmod(staging, 0o777 & ~mask)
            for name, data in files.items():
                try:
                    with open(staging / name, "wb") as handle:
                        handle.write(data)
                    os.chmod(staging / name, 0o666 & ~mask)
                except OSError as exc:
                    raise type(exc)(exc.errno, exc.strerror, str(root / name)) from None
            with _signals_blocked():
                if not exists:
                    os.rename(staging, root)
                    staging = None
                elif _rename_exchange(staging, root):
                    pass  # staging now holds the old folder, removed below
                else:
                    aside = Path(
                        tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".old", dir=root.parent)
                    )
                    os.rename(root, aside / "old")
                    try:
                        os.rename(staging, root)
                    except OSError:
                        os.rename(aside / "old", root)  # put the old folder back
                        aside.rmdir()
                        raise
                    staging = aside  # holds the old folder, removed below
                if staging is not None:
                    _remove_tree(staging)
                    staging = None
    except BaseException:
        with _signals_blocked():
            if staging is not None:
                _remove_tree(staging)
            for folder in reversed(created):
                with contextlib.suppress(OSError):  # not empty: someone else's now
                    folder.rmdir()
        raise
    return tuple(root / name for name in files)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (see :func:`write_bytes_atomic`).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_text_atomic(Path(tmp) / "note.md", "# waferlab").read_text()
    '# waferlab'
    """
    return write_bytes_atomic(path, text.encode("utf-8"))


def save_figure_atomic(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save a matplotlib figure to ``path`` whole or not at all.

    The format follows the file extension (``.png``, ``.svg``, ``.pdf``).

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure_atomic(Figure(figsize=(1, 1)), Path(tmp) / "f.svg").stat().st_size > 0
    True

    Raises
    ------
    InvalidParameterError
        If the extension is not a format matplotlib can write.
    OSError
        If the file cannot be written.
    """
    from waferlab.errors import InvalidParameterError

    target = Path(path)
    fmt = target.suffix.lstrip(".").lower()
    supported = figure.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise InvalidParameterError(
            "plot path", str(path), "a file ending in ." + ", .".join(sorted(supported))
        )
    return write_bytes_atomic(target, figure_bytes(figure, fmt, dpi=dpi))


def figure_bytes(figure: Figure, fmt: str = "png", *, dpi: int = 150) -> bytes:
    """Render a matplotlib figure to bytes in format ``fmt``, cropped to its content.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> figure_bytes(Figure(figsize=(1, 1)), "png")[1:4]
    b'PNG'
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


# --------------------------------------------------------------------------- calibration text


def group_title(process: str, counts: str) -> str:
    """``"SMIC N+2"``, with the way of counting when it is not fully good.

    Examples
    --------
    >>> group_title("SMIC N+2", "fully-good"), group_title("", "good-or-degraded")
    ('SMIC N+2', 'observations (good-or-degraded yields)')
    """
    counted = "" if counts == "fully-good" else f" ({counts} yields)"
    return (process or "observations") + counted


#: What each :class:`~waferlab.observations.SkippedGroup` reason code means.
SKIP_REASONS = {"none_named_in_fit_to": "none of its observations is among those chosen to fit"}


def skipped_groups_text(
    skipped: Sequence[SkippedGroup], reasons: Mapping[str, str] = SKIP_REASONS
) -> str:
    """One line per group that was not fitted, or ``""`` (``reasons``: code -> text)."""
    return "\n".join(
        f"{group_title(g.process, g.counts)}: not fitted, because "
        f"{reasons.get(g.reason, g.reason)} (its observations: {', '.join(g.observations)})"
        for g in skipped
    )


def feasible_range_text(result: FeasibleRange) -> str:
    """One indented line: the model, the parameter and its feasible values (with D0 at the ends)."""
    head = f"  {result.model:<20} {result.parameter}: "
    if result.is_empty:
        return head + "none"
    if result.parameter == "defect_density_per_cm2":
        lo, hi = result.intervals[0]
        return head + f"{lo:.4g} – {hi:.4g} /cm²"
    parts = []
    for k, (lo, hi) in enumerate(result.intervals):
        d0_at_lo = result.defect_density_per_cm2[2 * k][0]
        d0_at_hi = result.defect_density_per_cm2[2 * k + 1][0]
        parts.append(
            f"{result.interval_texts()[k]} "
            f"(D0 {d0_at_lo:.3g} /cm² at {lo:.4g}, {d0_at_hi:.3g} /cm² at {hi:.4g})"
        )
    return head + "; ".join(parts)


def _density_note(model: str) -> str:
    """What the model's density is when it is not simply the die's mean D0 (else empty)."""
    from waferlab.yield_models import YIELD_MODELS

    return YIELD_MODELS[model].density_note if model in YIELD_MODELS else ""


def _density_symbol(model: str) -> str:
    """The symbol of the model's density (``D0``, ``D_layer``)."""
    from waferlab.yield_models import YIELD_MODELS

    return YIELD_MODELS[model].density_symbol if model in YIELD_MODELS else "D0"


def calibration_fit_text(
    result: CalibrationResult, held: Sequence[tuple[Observation, float, bool]] = ()
) -> str:
    """A fit, observation by observation, with held-out predictions (``waferlab calibrate``)."""
    first = result.observations[0]
    title = group_title(first.process, first.counts)
    lines = [
        f"{title}: {result.model}, free {', '.join(result.free)}",
        "parameters: "
        + ", ".join(f"{k} = {format_significant(v, 6)}" for k, v in result.parameters.items()),
        f"fitted observations met: {'yes' if result.all_met else 'no'} (tolerance "
        f"{result.tolerance:g} in log-yield); cost {format_significant(result.cost)}",
    ]
    note = _density_note(result.model)
    if note:
        lines.insert(2, f"{result.model}: {note}")
    if held:
        every = all(ok for _, _, ok in held)
        lines.append(f"held-out observations met: {'yes' if every else 'no'}")
    lines += [f"constraint: {result.constraint_note}", result.table()]
    for obs, pred, ok in held:
        lines.append(
            f"held out: {obs.name} {obs.yield_text} at {obs.die_area_mm2:g} mm² -> "
            f"{format_percent(pred)} ({'met' if ok else 'not met'})"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- funnel notes


def _number_or_series(value: Any, fmt: str = "g") -> str:
    return "a monthly series" if value is None else format(value, fmt)


def _in_process(count: float, where: str, cycle_months: int) -> str:
    """``"; N still in <where> at the horizon's end (... cycle time M months)"``, or ``""``."""
    if count <= 0:
        return ""
    cycle = "fab" if where == "the fab" else where
    return (
        f"; {count:,.0f} still in {where} at the horizon's end ({cycle} cycle time "
        f"{cycle_months} months)"
    )


def _note_wafer_starts(d: Mapping[str, Any]) -> str:
    months = d["months"]
    plural = "s" if months > 1 else ""
    if d.get("per_month") is None:
        share = d["average_share"]
        return f"monthly series over {months} month{plural} (average share {share:.4g})"
    return f"{d['per_month']:,.0f} per month × share {d['share']:g} × {months} month{plural}"


def _note_gross_dies(d: Mapping[str, Any]) -> str:
    if d.get("series"):
        return f"{d['per_wafer']:.4g} per wafer on average ({d['source']}, a monthly series)"
    return f"{d['per_wafer']:g} per wafer ({d['source']})"


def _note_die_yield(d: Mapping[str, Any]) -> str:
    if d["given"]:
        if d.get("series"):
            note = f"die yield from a monthly series, average {d['yield']:.4g} (given)"
        else:
            note = f"die yield {d['yield']:.4g} (given)"
        if d.get("model_unused"):
            note += f"; die_yield is given, so the yield model {d['model']} is not used"
        return note
    d0 = d["d0"]
    symbol = _density_symbol(d["model"])
    if d0["kind"] == "learning":
        d0_text = f"{symbol} learning {d0['law']} from {d0['start']:g}/cm²"
    elif d0["kind"] == "series":
        d0_text = f"{symbol} from a monthly series"
    else:
        d0_text = f"{symbol} = {d0['value']:g}/cm²"
    parts = [
        f"{name} = {'(series)' if value is None else format(value, 'g')}"
        + ("" if given else " (default)")
        for name, value, given in d["parameters"]
    ]
    detail = ", ".join(parts)
    average = "average " if d.get("average") else ""
    return (
        f"{d['model']} yield at {d0_text}, {d['area_mm2']:.6g} mm²"
        + (f", {detail}" if detail else "")
        + f": {average}{d['yield']:.4g}"
    )


def _note_degraded(d: Mapping[str, Any]) -> str:
    return f"harvestable fraction {d['harvestable_fraction']:g}; " + (
        "packaged" if d["packaged"] else "not packaged"
    )


def _note_die_type(d: Mapping[str, Any]) -> str:
    return (
        f"die type {d['die_type']}: its own wafers ({d['wafers']:,.0f} over the horizon) and yield"
    )


def _note_die_supply(d: Mapping[str, Any]) -> str:
    parts = ["good dies"]
    if d["degraded_packaged"]:
        parts.append("degraded dies")
    if d["die_bank"] > 0:
        parts.append(f"die bank stock of {d['die_bank']:,.0f} (once over the horizon)")
    return " + ".join(parts) + _in_process(d["in_fab"], "the fab", d["fab_cycle_time_months"])


def _note_packages(d: Mapping[str, Any]) -> str:
    k, h = d["dies_per_package"], d["hbm_stacks_per_package"]
    note = f"{k} {'die' if k == 1 else 'dies'} per package"
    if h > 0:
        note += f", {h} HBM stacks per package"
        if d["hbm_available"] is None:
            note += " (HBM unconstrained)"
        else:
            available = f"{d['hbm_available']:,.0f}"
            note += f"; HBM available {available}; binding: {binding_text(d['binding'])}"
    for name, count, worth in d["die_types"]:
        note += f"; {count} × {name} per package ({worth:,.0f} packages' worth)"
    if d["packaging_capacity"] is not None:
        note += f"; packaging capacity {d['packaging_capacity']:,.0f} over the horizon"
    return note


def _note_packaging_yield(d: Mapping[str, Any]) -> str:
    return f"packaging yield {_number_or_series(d['value'])}"


def _note_test_yield(d: Mapping[str, Any]) -> str:
    return f"test yield {_number_or_series(d['value'])}" + _in_process(
        d["in_packaging"], "packaging", d["packaging_cycle_time_months"]
    )


def _note_equivalents(d: Mapping[str, Any]) -> str:
    return f"{_number_or_series(d['factor'])} per unit (basis: {d['basis']})"


_STAGE_NOTES = {
    "wafer_starts": _note_wafer_starts,
    "gross_dies": _note_gross_dies,
    "die_yield": _note_die_yield,
    "degraded": _note_degraded,
    "die_type": _note_die_type,
    "die_supply": _note_die_supply,
    "packages": _note_packages,
    "packaging_yield": _note_packaging_yield,
    "test_yield": _note_test_yield,
    "compute_equivalents": _note_equivalents,
}


def stage_note(detail: Mapping[str, Any]) -> str:
    """Render a funnel stage's structured detail (a ``code`` and its values) as a note.

    The funnel records numbers and names (:attr:`waferlab.funnel.FunnelStage.detail`);
    this is where they become words.

    Examples
    --------
    >>> stage_note({"code": "packaging_yield", "value": 0.75})
    'packaging yield 0.75'
    >>> stage_note({})
    ''
    """
    render = _STAGE_NOTES.get(str(detail.get("code", "")))
    return render(detail) if render is not None else ""


#: How each binding-constraint code of the engine reads, the same in tables, plots and
#: the report ("none": no HBM is modelled, so the die supply alone sets the packages).
BINDING_TEXT: Mapping[str, str] = Registry(
    "binding_constraint",
    {
        "dies": "die supply (HBM to spare)",
        "hbm": "HBM",
        "packaging": "packaging capacity",
        "none": "die supply (HBM unconstrained)",
    },
)


def binding_text(code: str) -> str:
    """What binds, in words, for a binding-constraint code of the engine.

    Examples
    --------
    >>> binding_text("none"), binding_text("hbm")
    ('die supply (HBM unconstrained)', 'HBM')
    """
    return BINDING_TEXT.get(str(code), str(code))


def funnel_summary(result: Any) -> str:
    """Return the closing lines of a funnel: final units, stocks, equivalents, binding.

    ``result`` is a :class:`waferlab.funnel.FunnelResult`.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> print(funnel_summary(run_funnel(FunnelInputs(
    ...     wafer_starts_per_month=50_000, gross_dies_per_wafer=80, die_yield=0.2,
    ...     dies_per_package=2, packaging_yield=0.75))))
    300,000 tested units over 1 month
    binding constraint: die supply (HBM unconstrained)
    """
    m = result.inputs.months
    span = "1 month" if m == 1 else f"{m} months"
    unit = result.final_unit
    lines = [f"{result.final_units:,.0f} {unit} over {span}"]
    if m > 1:
        lines.append(f"{result.final_units_per_month:,.0f} {unit} per month (average)")
    if result.includes_stock:
        bank = f"{result.die_bank_dies:,.0f}"
        if result.fab_only_final_units >= result.final_units:
            limit = "HBM" if result.binding_constraint == "hbm" else "the packaging chain"
            lines.append(
                f"over the horizon the die bank of {bank} dies adds no units while {limit} is "
                "the limit (the fab flow alone gives the same total; month by month the "
                "bank's dies are used first)"
            )
        else:
            lines.append(
                f"includes the die bank of {bank} dies; "
                f"the fab flow alone gives {result.fab_only_final_units:,.0f}"
            )
    if result.compute_equivalents is not None:
        lines.append(
            f"{result.compute_equivalents:,.0f} {result.inputs.compute_equivalent_unit} "
            f"(basis: {result.inputs.compute_equivalent_basis})"
        )
    lines.append(f"binding constraint: {binding_text(result.binding_constraint)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- cost notes


def cost_note(detail: Mapping[str, Any]) -> str:
    """Render a cost component's structured detail (a ``code`` and its values) as a note.

    Examples
    --------
    >>> cost_note({"code": "hbm", "stacks": 8})
    '8 stacks'
    >>> cost_note({"code": "silicon", "dies": 2, "origin": "die_bank"})
    '2 die-bank dies'
    """
    code = detail.get("code")
    if code == "silicon":
        if detail.get("origin") == "die_bank":
            # no fab die is packaged: no die yield is paid for
            return f"{detail['dies']} die-bank dies"
        note = f"{detail['dies']} dies incl. the dies lost to die yield"
        if detail.get("origin") == "mixed":
            note += "; average over fab and die-bank dies"
            if detail.get("bank_at_zero"):
                note += " (die-bank dies at $0)"
        return note
    fixed = {
        "packaging": "assembly of one package",
        "test": "final test of one unit",
        "packaging_scrap": "dies, HBM and packaging of packages lost",
        "test_scrap": "everything spent on units failing test",
    }
    if code == "hbm":
        return f"{detail['stacks']} stacks"
    return fixed.get(str(code), "")


def leftover_note(leftover_dies: float, usd_per_die: float) -> str:
    """Say what happens to the dies a funnel does not package, and at what value.

    Examples
    --------
    >>> leftover_note(0.0, 10.0)
    'no die left over'
    """
    if leftover_dies > 0:
        return (
            f"{format_quantity(leftover_dies, ',.0f')} leftover dies kept as inventory at "
            f"${format_quantity(usd_per_die, ',.2f')} each"
        )
    return "no die left over"


#: The notes a cost breakdown carries, by code (``CostBreakdown.note_codes``).
COST_NOTES: Mapping[str, str] = {
    "no_wafer_price": (
        "no wafer price: the funnel starts no wafers, so the wafer, gross-die and good-die "
        "rows are left empty"
    ),
    "die_bank_at_zero": (
        "die-bank dies valued at $0 (sunk cost); set die_bank_cost_usd_per_die to price them"
    ),
    "nothing_costed": "nothing was costed: every component of the cost per unit is $0",
    "nothing_costed_total": "nothing was costed: every component is $0",
}
