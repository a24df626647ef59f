"""Options and parameter types shared by every command.

Each command module builds its interface from these decorators so that the
same quantity is spelled, validated and documented the same way everywhere:
option names are the library's argument names in kebab case
(``die_width_mm`` -> ``--die-width-mm``). Option groups that describe an
object hand the command the object: :func:`wafer_options` a
:class:`~waferlab.geometry.Wafer` called ``wafer``, :func:`die_options` a
:class:`~waferlab.geometry.Die` called ``die``.

Errors become exit codes in :mod:`waferlab.cli.main`; output helpers shared by
the commands are in :mod:`waferlab.cli.helpers`.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from waferlab.errors import (
    MAX_TEXT_CHARS,
    describe_range,
)
from waferlab.harvest import MAX_HARVEST_BLOCKS
from waferlab.yield_models import YIELD_MODELS

if TYPE_CHECKING:
    from waferlab.geometry import Die, Wafer

F = TypeVar("F", bound=Callable[..., Any])


#: Longest number text an option accepts [characters]; ``1e308`` and a
#: 17-digit mantissa need far fewer, so a longer one is a slip (or an attack).
MAX_NUMBER_CHARS = 100


def _plain_ascii(text: str) -> bool:
    """Whether ``text`` is short and written in ASCII only.

    Python's :class:`float` and :class:`int` read any Unicode decimal digit
    (Arabic-Indic ``٢١``, full-width ``２１``); waferlab refuses them, as TOML
    and JSON (its file formats) do, so that a number means the same on the
    command line and in a file and a mixed-script string is never read as a number.
    """
    return len(text) <= MAX_NUMBER_CHARS and text.isascii()


def parse_number(text: str) -> float | None:
    """Return ``text`` as a float, or None if it is not a plain number.

    Plain float syntax in ASCII only (``12``, ``-0.5``, ``1e-3``), at most
    :data:`MAX_NUMBER_CHARS` characters: unlike :class:`float`, digit-group
    underscores (``1_0``) are refused, since ``1_0`` is more likely a typing
    slip than ten, and so are non-ASCII digits (``２１``). Infinity and NaN
    parse; callers reject them. A negative zero is returned as ``0.0``.

    Examples
    --------
    >>> parse_number("21.32"), parse_number("-0"), parse_number("２１"), parse_number("1_0")
    (21.32, 0.0, None, None)
    """
    stripped = text.strip()
    if "_" in stripped or not _plain_ascii(stripped):
        return None
    try:
        return float(stripped) + 0.0
    except ValueError:
        return None


class Number(click.ParamType):
    """A finite real number, optionally range-checked; NaN and infinity are rejected."""

    name = "number"

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        *,
        low_open: bool = False,
        high_open: bool = False,
    ) -> None:
        self.low = low
        self.high = high
        self.low_open = low_open
        self.high_open = high_open

    def _allowed(self) -> str:
        return describe_range(self.low, self.high, self.low_open, self.high_open)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float | int) and not isinstance(value, bool):
            x = float(value)
        else:
            parsed = parse_number(str(value))
            if parsed is None:
                self.fail(f"must be a number {self._allowed()} {_written(value)}", param, ctx)
            x = parsed
        if not math.isfinite(x):  # infinity and NaN: say "finite", not only the range
            allowed = self._allowed()
            finite = allowed if allowed == "a finite number" else f"a finite number {allowed}"
            self.fail(f"must be {finite} (got {value!r})", param, ctx)
        ok = True
        if self.low is not None:
            ok = x > self.low if self.low_open else x >= self.low
        if ok and self.high is not None:
            ok = x < self.high if self.high_open else x <= self.high
        if not ok:
            self.fail(f"must be {self._allowed()} (got {value!r})", param, ctx)
        return x


def _written(value: Any) -> str:
    """``(got '...')``, abbreviated for long text, with the rule for non-ASCII digits."""
    text = str(value)
    shown = repr(text) if len(text) <= 40 else f"{text[:20]!r}"[:-1] + f"…', {len(text)} characters"
    if not text.isascii():
        return f"written with ASCII digits 0-9 (got {shown})"
    return f"(got {shown})"


class FilePath(click.Path):
    """A :class:`click.Path` that refuses a NUL character (which ``os.stat`` cannot take)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and "\0" in value:
            self.fail("must be a path without NUL characters", param, ctx)
        return super().convert(value, param, ctx)


class Integer(click.IntRange):
    """An integer in a range, written with ASCII digits only (see :func:`parse_number`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            if not _plain_ascii(value.strip()):
                self.fail(f"must be an integer {_written(value)}", param, ctx)
            try:
                int(value.strip())
            except ValueError:  # 1.5, inf, nan, text: say so with the range
                bounded = self.min is not None or self.max is not None
                allowed = f" {describe_range(self.min, self.max)}" if bounded else ""
                self.fail(f"must be an integer{allowed} (got {value!r})", param, ctx)
        return super().convert(value, param, ctx)


POSITIVE = Number(0.0, low_open=True)
NON_NEGATIVE = Number(0.0)
FRACTION = Number(0.0, 1.0)
POSITIVE_FRACTION = Number(0.0, 1.0, low_open=True)


def format_option(choices: Sequence[str] = ("text", "json")) -> Callable[[F], F]:
    """``--format`` with the given choices; text is the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default="text",
        show_default=True,
        help="Output format.",
    )


def by_option(help_text: str) -> Callable[[F], F]:
    """``--by total|month|quarter|year``: the span a command reports (total by default)."""
    from waferlab.timeline import PERIODS

    return click.option(
        "--by", type=click.Choice(PERIODS), default="total", show_default=True, help=help_text
    )


def plot_option(
    help_text: str = "Write a plot to this file (.png, .svg or .pdf).",
) -> Callable[[F], F]:
    """``--plot PATH``."""
    return click.option(
        "--plot",
        "plot_path",
        type=FilePath(dir_okay=False, writable=True),
        default=None,
        help=help_text,
    )


def wafer_size_options(f: F) -> F:
    """Wafer size and keep-outs: ``--wafer-diameter-mm`` and friends, as given."""
    decorators = [
        click.option(
            "--wafer-diameter-mm",
            type=POSITIVE,
            default=300.0,
            show_default=True,
            help="Wafer diameter [mm] (200, 300 and 450 are standard).",
        ),
        click.option(
            "--edge-exclusion-mm",
            type=NON_NEGATIVE,
            default=3.0,
            show_default=True,
            help="Unusable ring at the wafer edge [mm].",
        ),
        click.option(
            "--notch-keepout-mm",
            type=NON_NEGATIVE,
            default=0.0,
            show_default=True,
            help="Height of the keep-out band at the bottom of the wafer [mm].",
        ),
        click.option(
            "--flat-length-mm",
            type=POSITIVE,
            default=None,
            help="Length of a primary flat at the bottom [mm], for wafers of 200 mm or "
            "less (SEMI M1 flats are for 100-150 mm wafers; larger wafers have a notch).",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def die_size_options(f: F) -> F:
    """Die size: width and height, or an area with an aspect ratio; scribe lines, as given."""
    decorators = [
        click.option("--die-width-mm", type=POSITIVE, default=None, help="Die width [mm]."),
        click.option("--die-height-mm", type=POSITIVE, default=None, help="Die height [mm]."),
        click.option(
            "--die-area-mm2",
            type=POSITIVE,
            default=None,
            help="Die area [mm²] (instead of width and height).",
        ),
        click.option(
            "--aspect-ratio",
            type=POSITIVE,
            default=None,
            help="Width / height, with --die-area-mm2 only (square when omitted).",
        ),
        click.option(
            "--scribe-mm",
            type=NON_NEGATIVE,
            default=0.1,
            show_default=True,
            help="Scribe line (street) width between dies [mm].",
        ),
        click.option(
            "--scribe-y-mm",
            type=NON_NEGATIVE,
            default=None,
            help="Vertical scribe width [mm] if different from --scribe-mm.",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def _building(
    f: F, add_options: Callable[[F], F], name: str, build: Callable[..., Any], names: Sequence[str]
) -> F:
    """Decorate ``f`` with ``add_options`` and hand it ``name=build(*those options)``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs[name] = build(*(kwargs.pop(k) for k in names))
        return f(*args, **kwargs)

    return add_options(wrapper)  # type: ignore[arg-type]


_WAFER_OPTIONS = ("wafer_diameter_mm", "edge_exclusion_mm", "notch_keepout_mm", "flat_length_mm")
_DIE_OPTIONS = (
    "die_width_mm",
    "die_height_mm",
    "die_area_mm2",
    "aspect_ratio",
    "scribe_mm",
    "scribe_y_mm",
)


def wafer_options(f: F) -> F:
    """The wafer options, handed to the command as a built ``wafer`` (a Wafer)."""
    return _building(f, wafer_size_options, "wafer", build_wafer, _WAFER_OPTIONS)


def die_options(f: F) -> F:
    """The die options, handed to the command as a built ``die`` (a Die)."""
    return _building(f, die_size_options, "die", build_die, _DIE_OPTIONS)


_OFFSET_HELP = (
    "Grid shift: optimal (the most full dies, exact), die-centered (a die on the wafer "
    "centre), street-centered (scribe lines cross at the centre) or X,Y in mm."
)


class OffsetType(click.ParamType):
    """``optimal``, ``die-centered``, ``street-centered`` or ``X,Y`` [mm]."""

    name = "offset"
    modes = ("optimal", "die-centered", "street-centered")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str | tuple[float, float]:
        if isinstance(value, tuple):
            return value
        text = str(value).strip().lower()
        if text in self.modes:
            return text
        parts = text.split(",")
        if len(parts) == 2:
            x, y = parse_number(parts[0]), parse_number(parts[1])
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                return (x, y)
        self.fail(
            f"must be optimal, die-centered, street-centered or X,Y in mm with finite "
            f"numbers (got {value!r})",
            param,
            ctx,
        )


def offset_option(f: F) -> F:
    """``--offset optimal|die-centered|street-centered|X,Y`` (the die grid's shift)."""
    return click.option(
        "--offset",
        type=OffsetType(),
        default="optimal",
        show_default=True,
        help=_OFFSET_HELP,
    )(f)


def critical_area_fraction_option(f: F) -> F:
    """``--critical-area-fraction``: the share of the die area where a defect is fatal."""
    return click.option(
        "--critical-area-fraction",
        type=FRACTION,
        default=1.0,
        show_default=True,
        help="Fraction of the die area where a defect is fatal.",
    )(f)


def harvest_options(f: F) -> F:
    """The partial-good rule: harvestable fraction, and a defect-count or block rule."""
    decorators = [
        click.option(
            "--harvestable-fraction",
            type=FRACTION,
            default=None,
            help="Fraction of the critical area in redundant (fusible) blocks; "
            "enables the degraded bin.",
        ),
        click.option(
            "--max-defects",
            type=Integer(min=0),
            default=None,
            help="Defect-count rule: a die whose defects are all harvestable and at most "
            "this many is degraded [default: 1].",
        ),
        click.option(
            "--n-blocks",
            type=Integer(1, MAX_HARVEST_BLOCKS),
            default=None,
            help=f"Block rule: the harvestable area is this many equal blocks, 1 to "
            f"{MAX_HARVEST_BLOCKS} (910B: 25 cores).",
        ),
        click.option(
            "--max-bad-blocks",
            type=Integer(min=0),
            default=None,
            help="Blocks that may be fused off, 0 to --n-blocks, with --n-blocks [default: 1].",
        ),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


# Yield-model options (yield, d0) ---------------------------------------------------

ALL_MODELS = "all"

#: CLI option of each model parameter.
PARAMETER_OPTIONS = {"alpha": "--alpha", "n_layers": "--n-layers"}


def model_option(f: F) -> F:
    """``--model NAME|all``, with the choices taken from the YIELD_MODELS registry."""
    return click.option(
        "--model",
        "model",
        type=click.Choice([*YIELD_MODELS, ALL_MODELS]),
        default=ALL_MODELS,
        show_default=True,
        help="Yield model, or 'all' for a comparison table.",
    )(f)


def model_options(f: F) -> F:
    """``--model``, ``--alpha``, ``--n-layers``, ``--gross-yield``, ``--critical-area-fraction``."""
    decorators = [
        model_option,
        click.option(
            "--alpha",
            type=POSITIVE,
            default=None,
            help=(
                "Clustering parameter of negative_binomial "
                f"[default: {YIELD_MODELS['negative_binomial'].defaults['alpha']:g}]."
            ),
        ),
        click.option(
            "--n-layers",
            type=Integer(min=1),
            default=None,
            help=(
                "Number of critical layers n of bose_einstein (the density is the total over "
                "the n layers) and bose_einstein_per_layer (the density is per layer); "
                "required for those models."
            ),
        ),
        click.option(
            "--gross-yield",
            type=FRACTION,
            default=1.0,
            show_default=True,
            help="Area-independent yield factor Y0.",
        ),
        critical_area_fraction_option,
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


def check_repair_rule(
    max_defects: int | None,
    n_blocks: int | None,
    max_bad_blocks: int | None,
    harvestable_fraction: float | None,
    *,
    needs_fraction: bool,
) -> None:
    """Reject combinations of the repair-rule options in the user's terms."""
    if needs_fraction and harvestable_fraction is None:
        for value, flag in (
            (max_defects, "--max-defects"),
            (n_blocks, "--n-blocks"),
            (max_bad_blocks, "--max-bad-blocks"),
        ):
            if value is not None:
                raise click.UsageError(f"{flag} only applies with --harvestable-fraction")
    # the combinations are the library's rule (waferlab.harvest.repair_rule), checked
    # there once; its error names the argument and the root command names the option
    from waferlab.harvest import repair_rule

    repair_rule(max_defects=max_defects, n_blocks=n_blocks, max_bad_blocks=max_bad_blocks)


# Scenario argument and overrides (funnel, cost) ------------------------------------


def scenario_argument(f: F) -> F:
    """The SCENARIO argument: a built-in name or a path to a .toml file."""
    return click.argument("scenario", metavar="SCENARIO")(f)


def set_option(f: F) -> F:
    """``--set KEY=VALUE``, repeatable."""
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help=(
            "Override a scenario value (repeatable). VALUE is read as a TOML value "
            "(20000, 0.35, true, \"murphy\"); a bare word is a string; 'none' removes "
            "the value so its default applies. KEY may also be one number of a "
            "[timeline] entry (die_yield.2025-12=0.35, wafer_starts_per_month.end=60000) "
            "or of the yield model (yield_model_parameters.alpha=1)."
        ),
    )(f)


def parse_value(text: str) -> Any:
    """Read the VALUE of ``--set KEY=VALUE`` as a TOML value.

    ``none`` means "remove the value"; a word that is not valid TOML (such as
    ``murphy``) is taken as a string.

    Examples
    --------
    >>> parse_value("20_000"), parse_value("0.35"), parse_value("true")
    (20000, 0.35, True)
    >>> parse_value("murphy"), parse_value('"murphy"'), parse_value("none") is None
    ('murphy', 'murphy', True)
    >>> parse_value("{ alpha = 2.0 }")
    {'alpha': 2.0}
    """
    stripped = text.strip()
    if stripped == "none":
        return None
    try:
        return tomllib.loads(f"value = {stripped}")["value"]
    except tomllib.TOMLDecodeError:
        return stripped
    except ValueError as exc:  # an integer beyond Python's int-string conversion limit
        reason = str(exc).split(":")[0]
        message = f"a value of {len(stripped)} characters is not usable ({reason})"
        raise ValueError(message) from None


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Turn ``--set`` items into a mapping; a malformed item is a usage error."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", param_hint="'--set'")
        if len(value) > MAX_TEXT_CHARS:  # checked before parsing: TOML is slow on megabytes
            raise click.BadParameter(
                f"{key[:40]}: a value of {len(value):,} characters (at most {MAX_TEXT_CHARS:,})",
                param_hint="'--set'",
            )
        try:
            values[key] = parse_value(value)
        except ValueError as exc:
            raise click.BadParameter(f"{key}: {exc}", param_hint="'--set'") from None
    return values


def resolve_die_size(
    die_width_mm: float | None,
    die_height_mm: float | None,
    die_area_mm2: float | None,
    aspect_ratio: float | None = None,
) -> tuple[float, float]:
    """Turn the die options into ``(width_mm, height_mm)``; a usage error if inconsistent.

    ``aspect_ratio`` (width / height) applies to ``die_area_mm2`` only, 1 when None.
    """
    if die_area_mm2 is not None:
        if die_width_mm is not None or die_height_mm is not None:
            raise click.UsageError(
                "give either --die-area-mm2 or --die-width-mm and --die-height-mm, not both"
            )
        ratio = 1.0 if aspect_ratio is None else aspect_ratio
        height = math.sqrt(die_area_mm2 / ratio)
        width = math.sqrt(die_area_mm2 * ratio)
        if not (0.0 < width < math.inf and 0.0 < height < math.inf):
            raise click.BadParameter(
                f"gives a {width:g} x {height:g} mm die for {die_area_mm2:g} mm²; "
                "choose a ratio that keeps both sides positive and finite",
                param_hint="--aspect-ratio",
            )
        return width, height
    if die_width_mm is None and die_height_mm is None:
        raise click.UsageError(
            "give the die size: --die-width-mm and --die-height-mm, or --die-area-mm2"
        )
    if die_width_mm is None or die_height_mm is None:
        missing = "--die-height-mm" if die_height_mm is None else "--die-width-mm"
        raise click.UsageError(f"missing {missing} (or give --die-area-mm2)")
    if aspect_ratio is not None:
        raise click.UsageError(
            "--aspect-ratio applies to --die-area-mm2 only; with --die-width-mm and "
            "--die-height-mm the aspect ratio is already fixed"
        )
    return die_width_mm, die_height_mm


def build_wafer(
    wafer_diameter_mm: float,
    edge_exclusion_mm: float,
    notch_keepout_mm: float,
    flat_length_mm: float | None,
) -> Wafer:
    """The :class:`~waferlab.geometry.Wafer` that the :func:`wafer_options` describe."""
    from waferlab.geometry import Wafer

    return Wafer(
        diameter_mm=wafer_diameter_mm,
        edge_exclusion_mm=edge_exclusion_mm,
        notch_keepout_mm=notch_keepout_mm,
        flat_length_mm=flat_length_mm,
    )


def build_die(
    die_width_mm: float | None,
    die_height_mm: float | None,
    die_area_mm2: float | None,
    aspect_ratio: float | None,
    scribe_mm: float,
    scribe_y_mm: float | None,
) -> Die:
    """The :class:`~waferlab.geometry.Die` that the :func:`die_options` describe."""
    from waferlab.geometry import Die

    width, height = resolve_die_size(die_width_mm, die_height_mm, die_area_mm2, aspect_ratio)
    return Die(width, height, scribe_x_mm=scribe_mm, scribe_y_mm=scribe_y_mm)
