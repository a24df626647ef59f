"""Plots: wafer maps, yield curves, funnels and cost breakdowns.

Every helper has the form ``plot_x(data, *, ax=None, **kwargs) -> Axes``: it
draws on ``ax`` (a fresh figure when ``ax`` is None) and returns the axes. It
never calls ``plt.show()`` and never changes global rcParams; matplotlib is
imported inside the functions so that importing waferlab stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "plot_cost_breakdown",
    "plot_fan_chart",
    "plot_funnel",
    "plot_simulated_wafer",
    "plot_timeline",
    "plot_tornado",
    "plot_wafer_map",
    "plot_waterfall",
    "plot_yield_curves",
]

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 6.4)) -> Axes:
    """Return ``ax``, or the axes of a new figure of the given size."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def _label_bar_end(ax: Axes, text: str, x: float, y: float, **style: Any) -> None:
    """Write ``text`` just right of the point (x, y), the end of a horizontal bar."""
    ax.annotate(
        text, (x, y), xytext=(4, 0), textcoords="offset points", va="center", ha="left", **style
    )


def _chars_per_line(ax: Axes, fontsize: float) -> int:
    """Characters of a ``fontsize`` point font that fit the width of ``ax`` (about 0.6 em each)."""
    return max(int(ax.get_window_extent().width / ax.figure.dpi * 72.0 / (fontsize * 0.6)), 30)


def _title_with_notes(
    ax: Axes, title: str, notes: list[str], *, fontsize: float, line_height: float, y: float
) -> None:
    """Set a left title with ``notes`` in grey on their own lines under it, wrapped to the axes.

    The title is lifted by ``line_height`` points per note line, so nothing
    overlaps however narrow the axes are.
    """
    import textwrap

    chars = _chars_per_line(ax, fontsize)
    lines = [part for note in notes for part in textwrap.wrap(note, chars)]
    ax.set_title(title, fontsize=11, loc="left", pad=6 + line_height * len(lines))
    if lines:
        ax.text(
            0.0,
            y,
            "\n".join(lines),
            transform=ax.transAxes,
            fontsize=fontsize,
            color="0.35",
            va="bottom",
            ha="left",
        )


def _finish_bar_axes(ax: Axes) -> None:
    """Light vertical grid behind the bars; no top or right spine."""
    ax.grid(axis="x", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# --------------------------------------------------------------------------- label placement


class _Label:
    """A text label of one marker: the annotation and the marker's extent.

    The marker spans ``x`` and ``y_low`` … ``y_high`` in data coordinates,
    widened by ``half_width_pt`` and ``half_height_pt`` points on each side (a
    round marker: its radius; a range bar: half its cap).
    """

    __slots__ = ("arrow", "half_height_pt", "half_width_pt", "note", "x", "y_high", "y_low")

    def __init__(
        self,
        note: Any,
        x: float,
        y_low: float,
        y_high: float,
        half_width_pt: float,
        half_height_pt: float | None = None,
    ) -> None:
        self.note = note
        # the leader line, shown only when the label cannot sit next to its marker
        self.arrow = (note.arrowprops, note.arrow_patch) if note.arrowprops else None
        note.arrowprops = note.arrow_patch = None
        self.x, self.y_low, self.y_high = x, y_low, y_high
        self.half_width_pt = half_width_pt
        self.half_height_pt = half_width_pt if half_height_pt is None else half_height_pt

    def marker_box(self, ax: Axes) -> Any:
        """The marker's box in display pixels."""
        from matplotlib.transforms import Bbox

        scale = ax.figure.dpi / 72.0
        (x0, y0), (x1, y1) = ax.transData.transform([(self.x, self.y_low), (self.x, self.y_high)])
        dx, dy = self.half_width_pt * scale, self.half_height_pt * scale
        return Bbox.from_extents(
            min(x0, x1) - dx, min(y0, y1) - dy, max(x0, x1) + dx, max(y0, y1) + dy
        )


def _overlap_area(a: Any, b: Any) -> float:
    """Area [px²] shared by two boxes (0 when they only touch)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0


def _distance(a: Any, b: Any) -> float:
    """Gap [px] between two boxes (0 when they touch or overlap)."""
    dx = max(a.x0 - b.x1, b.x0 - a.x1, 0.0)
    dy = max(a.y0 - b.y1, b.y0 - a.y1, 0.0)
    return float((dx * dx + dy * dy) ** 0.5)


def _outside_area(box: Any, frame: Any) -> float:
    """Area [px²] of ``box`` that lies outside ``frame``."""
    return box.width * box.height - _overlap_area(box, frame)


def _candidate_boxes(
    marker: Any, width: float, height: float, gap: float
) -> list[tuple[float, float, int]]:
    """Lower-left corners (x, y) of label boxes around ``marker``, preferred first, and their ring.

    Ring 0 touches the marker: beside it (centred, then slid up or down),
    at its corners, above or below it. Rings 1 and 2 lie farther out (the
    label then gets a leader line).
    """
    cx, cy = 0.5 * (marker.x0 + marker.x1), 0.5 * (marker.y0 + marker.y1)
    out = []
    for ring, g in enumerate((gap, 4.0 * gap, 8.0 * gap)):
        right, left = marker.x1 + g, marker.x0 - g - width
        top, bottom = marker.y1 + g, marker.y0 - g - height
        middle, centre = cy - 0.5 * height, cx - 0.5 * width
        spots = [(right, middle), (left, middle)]
        for shift in (0.5, -0.5, 1.0, -1.0):
            spots += [(right, middle + shift * height), (left, middle + shift * height)]
        spots += [(right, top - g), (right, bottom + g), (left, top - g), (left, bottom + g)]
        spots += [(centre, top), (centre, bottom)]
        for shift in (0.25, -0.25, 0.5, -0.5):
            spots += [(centre + shift * width, top), (centre + shift * width, bottom)]
        out += [(x, y, ring) for x, y in spots]
    return out


def _place_labels(ax: Axes, labels: Sequence[_Label], renderer: Any = None) -> None:
    """Put each label next to its marker, clear of the other labels, markers and the legend.

    Each label takes the nearest free spot around its own marker (beside it,
    above, below or at a corner), inside the axes and, where it can, off the
    curves; the labels with the fewest free spots are placed first. A label
    that has no free spot next to its marker goes a little farther out, with
    a thin leader line to it.
    """
    if not labels:
        return
    from matplotlib.transforms import Bbox

    figure = ax.figure
    renderer = renderer or figure.canvas.get_renderer()  # type: ignore[attr-defined]
    scale = figure.dpi / 72.0  # pixels per point
    gap = 4.0 * scale
    frame = ax.get_window_extent(renderer)
    markers = [label.marker_box(ax) for label in labels]
    legend = ax.get_legend()
    fixed = [legend.get_window_extent(renderer)] if legend is not None else []
    curves = []
    for line in ax.get_lines():
        path: Any = line.get_path()
        if line.get_linestyle() not in ("None", "none", "") and len(path.vertices) > 1:
            curves.append(line.get_transform().transform_path(path))

    sizes = []
    for label in labels:
        note = label.note
        note.set_horizontalalignment("left")
        note.set_verticalalignment("bottom")
        note.arrowprops = note.arrow_patch = None
        box = note.get_window_extent(renderer)
        patch = note.get_bbox_patch()
        pad = patch.get_boxstyle().pad * note.get_size() * scale if patch is not None else 0.0
        sizes.append((box.width + 2 * pad, box.height + 2 * pad, pad))

    def spots(i: int, placed: Sequence[Any]) -> list[tuple[float, float, int, Any]]:
        width, height, _ = sizes[i]
        others = [box for k, box in enumerate(markers) if k != i]
        found = []
        for order, (x, y, ring) in enumerate(_candidate_boxes(markers[i], width, height, gap)):
            box = Bbox.from_bounds(x, y, width, height)
            hard = _outside_area(box, frame)
            hard += sum(_overlap_area(box, other) for other in (*others, *fixed, *placed))
            # off the curves where it can; a curve under the label's white box still shows
            soft = 5.0 * sum(int(curve.intersects_bbox(box, filled=False)) for curve in curves)
            # nearer its own marker than any other, so that it cannot be read as theirs
            own = _distance(box, markers[i])
            soft += 40.0 * sum(1 for other in others if _distance(box, other) < own + 1.5 * gap)
            found.append((hard, 30.0 * ring + soft + 0.01 * order, ring, box))
        return sorted(found, key=lambda s: (s[0] > 0.5, s[0], s[1]))

    free = [sum(1 for s in spots(i, []) if s[0] <= 0.5) for i in range(len(labels))]
    placed: list[Any] = []
    for i in sorted(range(len(labels)), key=lambda k: free[k]):
        label, (_, _, pad) = labels[i], sizes[i]
        _, _, ring, box = spots(i, placed)[0]
        placed.append(box)
        ax_x, ax_y = ax.transData.transform((label.x, 0.5 * (label.y_low + label.y_high)))
        label.note.xy = (label.x, 0.5 * (label.y_low + label.y_high))
        label.note.xyann = ((box.x0 + pad - ax_x) / scale, (box.y0 + pad - ax_y) / scale)
        if ring > 0 and label.arrow is not None:
            label.note.arrowprops, label.note.arrow_patch = label.arrow


def _marker_note(ax: Axes, text: str, xy: tuple[float, float], **style: Any) -> Any:
    """An annotation for a marker at ``xy`` (data), on a white box, placed by :func:`_place_labels`.

    It carries a thin grey leader line, shown only if the label has to sit
    away from its marker.
    """
    return ax.annotate(
        text,
        xy,
        xytext=(9, 0),
        textcoords="offset points",
        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        arrowprops={
            "arrowstyle": "-",
            "color": "0.5",
            "linewidth": 0.6,
            "shrinkA": 0,
            "shrinkB": 5,
        },
        **style,
    )


def _keep_labels_placed(ax: Axes, labels: Sequence[_Label]) -> None:
    """Place ``labels`` now and again at every draw, so a later layout change keeps them right.

    A figure laid out after plotting (``tight_layout``, a legend outside the
    axes, another size) moves markers relative to labels whose offsets are in
    points; an invisible artist drawn before everything else places them anew.
    """
    from matplotlib.artist import Artist

    class _Placer(Artist):
        def draw(self, renderer: Any) -> None:
            _place_labels(ax, labels, renderer)

    placer = _Placer()
    placer.set_zorder(-1e9)
    placer.set_in_layout(False)
    ax.add_artist(placer)
    _place_labels(ax, labels)


def _legend_off_data(
    ax: Axes, handles: list[Any], locations: Sequence[Any] = ("lower right",), **style: Any
) -> Any:
    """Put a legend at the first of ``locations`` where it covers nothing drawn, else below.

    "Drawn" is every bar, text and line of the axes. Below means under the
    x axis, its tick labels and its label, whatever the size of the axes.
    """
    from matplotlib.transforms import ScaledTranslation

    figure = ax.figure
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.get_xlim(), ax.get_ylim()  # apply any pending autoscaling before measuring
    boxes = [p.get_window_extent(renderer) for p in ax.patches if p.get_visible()]
    boxes += [t.get_window_extent(renderer) for t in ax.texts if t.get_visible() and t.get_text()]
    curves = [line.get_transform().transform_path(line.get_path()) for line in ax.get_lines()]
    room = 3.0 * figure.dpi / 72.0  # 3 points clear of everything
    for loc in locations:
        legend = ax.legend(handles=handles, loc=loc, **style)
        box = legend.get_window_extent(renderer).padded(room)
        if not any(_overlap_area(box, other) > 0 for other in boxes) and not any(
            curve.intersects_bbox(box, filled=False) for curve in curves
        ):
            return legend
    decoration = ax.xaxis.get_tightbbox(renderer)
    bottom = ax.get_window_extent(renderer).y0
    drop_pt = (bottom - decoration.y0) * 72.0 / figure.dpi + 4.0 if decoration else 30.0
    shift = ScaledTranslation(0.0, -drop_pt / 72.0, figure.dpi_scale_trans)
    return ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + shift,
        ncol=len(handles),
        **style,
    )


def _spaced_locator() -> Any:
    """A tick locator for a horizontal axis whose labels never touch: fewer ticks for long labels.

    The number of ticks follows the width of the axes and of the widest label
    (at the ends of the view) at every draw.
    """
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties
    from matplotlib.ticker import MaxNLocator

    class SpacedLocator(MaxNLocator):
        def __call__(self) -> Any:
            axis = self.axis
            vmin, vmax = axis.get_view_interval()  # type: ignore[union-attr]
            axes = axis.axes  # type: ignore[union-attr]
            width_pt = axes.get_window_extent().width * 72.0 / axes.figure.dpi
            label = axis.get_major_formatter()  # type: ignore[union-attr]
            chars = max(len(str(label(v))) for v in (vmin, vmax, 0.5 * (vmin + vmax)))
            size = FontProperties(size=rcParams["xtick.labelsize"]).get_size_in_points()
            per_tick = (0.6 * chars + 1.2) * size  # a label (digits 0.64 em, commas 0.32) and a gap
            self.set_params(nbins=max(1, int(width_pt // per_tick) - 1))
            return self.tick_values(vmin, vmax)

    return SpacedLocator(steps=[1, 2, 2.5, 5, 10])


def plot_funnel(result: Any, *, ax: Axes | None = None, log: bool | None = None) -> Axes:
    """Plot a funnel: one bar per stage, output solid and loss hatched.

    Parameters
    ----------
    result : FunnelResult
        From :func:`waferlab.funnel.run_funnel`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.
    log : bool, optional
        Logarithmic quantity axis. None: chosen automatically, logarithmic when
        the largest stage input is more than 50 times the smallest positive output.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        If ``result`` is not a FunnelResult.

    Notes
    -----
    Stages count different things (wafers, dies, packages), so each bar is
    labelled with its unit; the bar length is the stage output and the hatched
    extension is the loss, so the full length is the stage input. All figures
    are totals over the horizon; the title names the horizon, the binding
    constraint and whether a die bank is included.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> result = run_funnel(FunnelInputs(wafer_starts_per_month=50_000, gross_dies_per_wafer=80,
    ...                                  die_yield=0.2, dies_per_package=2, packaging_yield=0.75))
    >>> ax = plot_funnel(result)
    >>> ax.get_xscale()
    'log'
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, NullLocator

    from waferlab.errors import InvalidParameterError
    from waferlab.funnel import FunnelResult
    from waferlab.output import binding_text

    if not isinstance(result, FunnelResult):
        raise InvalidParameterError("result", result, "a FunnelResult from run_funnel")
    stages = result.stages
    ax = _new_axes(ax, (8.0, 0.55 * len(stages) + 2.2))
    outputs = [s.quantity for s in stages]
    inputs = [s.quantity_in for s in stages]
    positive = [q for q in outputs + inputs if q > 0]
    if log is None:
        log = bool(positive) and max(positive) > 50.0 * min(positive)
    y = list(range(len(stages)))[::-1]
    kept, lost, held = "#2f6f9f", "#d98c5f", "#cfd8e3"
    floor = min(positive) / 3.0 if (log and positive) else 0.0
    drawn = {"output"}  # the legend names only what is drawn
    for yi, s in zip(y, stages, strict=True):
        left = floor if log else 0.0
        if s.quantity > left:
            ax.barh(yi, s.quantity - left, left=left, color=kept, height=0.6)
        # the real loss is hatched; what is kept in stock or put to other uses
        # (not a loss) is drawn pale after it
        start = max(s.quantity, left)
        styles: tuple[tuple[str, float, dict[str, Any]], ...] = (
            (
                "loss",
                s.loss,
                {"color": "white", "edgecolor": lost, "hatch": "////", "linewidth": 0.8},
            ),
            ("not lost", s.not_lost, {"color": held, "linewidth": 0.0}),
        )
        for kind, width, style in styles:
            # a sliver under half a unit (rounding) is neither drawn nor named
            if width >= 0.5 and start + width > left:
                ax.barh(
                    yi, start + width - max(start, left), left=max(start, left), height=0.6, **style
                )
                start += width
                drawn.add(kind)
        end = max(s.quantity_in, s.quantity, left)
        text = f"{s.quantity:,.0f}"
        if s.loss > 0 and s.quantity_in > 0:
            share = s.loss / s.quantity_in
            text += f"  (lost {share:.0%})" if share >= 0.005 else f"  (lost {s.loss:,.0f})"
        if s.not_lost >= 0.5 and s.quantity_in > 0:
            why = "to other uses" if s.allocated >= s.carried_over + s.rounding else "kept in stock"
            text += f"  ({s.not_lost / s.quantity_in:.0%} {why})"
        if s.name == "packages before packaging loss" and result.binding_constraint == "hbm":
            text += "  HBM-limited"
        _label_bar_end(ax, text, end, yi, fontsize=8.5)
    ax.set_yticks(y)
    labels = []
    for s in stages:
        label = s.name if s.unit == s.name else f"{s.name}\n[{s.unit}]"
        if s.name == "compute equivalents":
            label = f"{s.name}\n[{s.unit}, {result.inputs.compute_equivalent_basis}]"
        labels.append(label)
    ax.set_yticklabels(labels, fontsize=8.5)
    if log:
        ax.set_xscale("log")
        if positive:
            ax.set_xlim(floor, max(positive) * 6.0)
        # Decades as plain numbers (100,000, not 10⁵), without minor ticks.
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _value_text(v)))
        ax.xaxis.set_minor_locator(NullLocator())
    else:
        top = max(positive) if positive else 1.0
        ax.set_xlim(0.0, top * 1.3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.xaxis.set_major_locator(_spaced_locator())
    months = result.inputs.months
    span = "1 month" if months == 1 else f"{months} months"
    ax.set_xlabel(f"quantity over {span} (each bar in its own unit{', log scale' if log else ''})")
    title = f"Funnel: {result.final_units:,.0f} {result.final_unit} over {span}"
    notes = [f"binding constraint: {binding_text(result.binding_constraint)}"]
    if result.includes_stock:
        bank = f"{result.inputs.die_bank_dies:,.0f}"
        if result.fab_only_final_units >= result.final_units:
            limit = "HBM" if result.binding_constraint == "hbm" else "the packaging chain"
            notes.append(f"die bank of {bank} dies adds no units while {limit} is the limit")
        else:
            notes.append(
                f"includes die bank of {bank} dies (fab alone: {result.fab_only_final_units:,.0f})"
            )
    # one line when it fits the axes, else one note per (wrapped) line
    joined = "  ·  ".join(notes)
    lines = [joined] if len(joined) <= _chars_per_line(ax, 8.5) else notes
    _title_with_notes(ax, title, lines, fontsize=8.5, line_height=12, y=1.015)
    handles = {
        "output": Patch(color=kept, label="output"),
        "loss": Patch(facecolor="white", edgecolor=lost, hatch="////", label="loss"),
        "not lost": Patch(color=held, label="not lost: kept in stock or to other uses"),
    }
    _legend_off_data(
        ax,
        [handle for kind, handle in handles.items() if kind in drawn],
        ("lower right", "upper right"),
        fontsize=8,
        frameon=False,
    )
    _finish_bar_axes(ax)
    return ax


def _timeline_panels(ax: Axes | None) -> tuple[Axes, Axes]:
    """The two panels of a timeline: per period above, cumulative below, sharing x.

    With ``ax`` None, a new 10 × 7.2 inch figure. A given subplot is split in
    two along its grid cell; any other axes along its box.
    """
    ratios = (3.0, 2.0)
    if ax is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=(10.0, 7.2))
        grid = figure.add_gridspec(2, 1, height_ratios=ratios, hspace=0.08)
        top = figure.add_subplot(grid[0])
        return top, figure.add_subplot(grid[1], sharex=top)
    parent = ax.figure
    spec = ax.get_subplotspec()
    if spec is not None:
        inner = spec.subgridspec(2, 1, height_ratios=ratios, hspace=0.08)
        ax.set_subplotspec(inner[0])
        return ax, parent.add_subplot(inner[1], sharex=ax)
    box = ax.get_position()
    upper = box.height * ratios[0] / sum(ratios)
    ax.set_position((box.x0, box.y1 - 0.96 * upper, box.width, 0.96 * upper))
    lower = (box.x0, box.y0, box.width, box.height - upper - 0.04 * box.height)
    return ax, parent.add_axes(lower, sharex=ax)


def plot_timeline(
    result: Any,
    *,
    by: str = "month",
    ax: Axes | None = None,
    published: list[tuple[str, float, str]] | None = None,
) -> Axes:
    """Plot finished units over time: per period by die source above, cumulative below.

    Parameters
    ----------
    result : TimelineResult
        From :func:`waferlab.funnel.run_timeline` (the first draw is drawn).
    by : {"month", "quarter", "year"}, default "month"
        Period of the bars.
    ax : matplotlib Axes, optional
        Axes to draw on, split in two panels (a subplot along its grid cell);
        a new figure when None.
    published : list of (year, value, label), optional
        Published calendar-year totals ("2025"). Each is drawn in the
        cumulative panel at the end of that year, stacked on the model's
        cumulative count before the year, so that its gap to the model's line
        is the gap between the two totals for that year; its label gives both.
        A year not wholly inside the horizon is left out (different spans).

    Returns
    -------
    matplotlib.axes.Axes
        The upper panel (finished units per period). The cumulative panel
        below shares its x axis:
        ``[a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]``.

    Notes
    -----
    Two panels rather than two y axes on one, so that no mark can be read
    against the wrong scale. Bars are finished units per period, split into
    units built from die-bank dies and from new wafers (bank dies are drawn
    first); the line below is the running total. Shaded bands, in both
    panels, mark the months in which each constraint limited the packages
    started.

    Examples
    --------
    >>> from waferlab.funnel import FunnelInputs, run_timeline
    >>> from waferlab.timeline import monthly
    >>> r = run_timeline(FunnelInputs(wafer_starts_per_month=monthly([1e4, 2e4, 3e4]),
    ...                               months=3, gross_dies_per_wafer=80, die_yield=0.2))
    >>> ax = plot_timeline(r)
    >>> ax.get_ylabel()
    'finished units per month'
    >>> [a.get_ylabel() for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    ['cumulative finished units']
    """
    import math

    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from waferlab.errors import InvalidParameterError, check_choice
    from waferlab.funnel import BINDING_CONSTRAINTS_BY_CODE, TimelineResult
    from waferlab.output import binding_text
    from waferlab.timeline import period_labels

    if not isinstance(result, TimelineResult):
        raise InvalidParameterError("result", result, "a TimelineResult from run_timeline")
    check_choice("by", by, ("month", "quarter", "year"))
    ax, cum_ax = _timeline_panels(ax)
    labels, values = result.periods(by)
    x = list(range(len(labels)))
    total = values["final_units"][0]
    bank = values.get("final_units_from_die_bank")
    bank_part = bank[0] if bank is not None else 0.0 * total
    new_part = total - bank_part
    new_colour, bank_colour, line_colour, published_colour = (
        "#2f6f9f", "#e08e3c", "#222222", "#c0392b",
    )  # fmt: skip
    handles: list[Any] = [Patch(color=new_colour)]
    names = ["from new wafers"]
    ax.bar(x, new_part, color=new_colour, width=0.8)
    if float(bank_part.sum()) > 0:
        ax.bar(x, bank_part, bottom=new_part, color=bank_colour, width=0.8)
        handles.append(Patch(color=bank_colour))
        names.append("from the die bank")

    # bands where each constraint binds (by month, drawn on the period axis), in both panels
    _, index = period_labels(by, result.months, result.start_month)
    colours = {"dies": "#fbf3dc", "hbm": "#fbe0dd", "packaging": "#ece8f4"}
    counts: dict[int, int] = {}
    for month in range(result.months):
        counts[int(index[month])] = counts.get(int(index[month]), 0) + 1
    seen: set[str] = set()
    for month, code in enumerate(result.binding[0]):
        name = BINDING_CONSTRAINTS_BY_CODE[int(code)]
        if name not in colours:
            continue
        period = int(index[month])
        size = counts[period]
        position = sum(1 for m in range(month) if int(index[m]) == period)
        left = period - 0.5 + position / size
        for panel in (ax, cum_ax):
            panel.axvspan(left, left + 1.0 / size, color=colours[name], zorder=0, linewidth=0)
        seen.add(name)

    cumulative = values["cumulative_final_units"][0]
    cum_ax.plot(x, cumulative, color=line_colour, marker="o", markersize=3)
    handles.append(Line2D([], [], color=line_colour, marker="o", markersize=3))
    names.append("cumulative (lower panel)")
    notes: list[_Label] = []
    for year, value, text in published or ():
        if result.start_month is None:
            break
        year_labels, year_values = result.periods("year")
        if year not in year_labels:
            continue
        j = year_labels.index(year)
        if int(year_values["months"][j]) != 12:
            continue  # a part of the year is no calendar-year total
        model_year = float(year_values["final_units"][0, j])
        before = float(year_values["cumulative_final_units"][0, j]) - model_year
        last = max(k for k, label in enumerate(labels) if label.startswith(year))
        point = before + value
        cum_ax.plot([last], [point], marker="D", color=published_colour, linestyle="none")
        # the gap between the published and the model's total for the year
        cum_ax.plot(
            [last, last], [point, before + model_year], color=published_colour,
            linestyle=":", linewidth=1.0,
        )  # fmt: skip
        words = f"{text}: {value:,.0f} in {year} (published)\n"
        words += f"this model: {model_year:,.0f} in {year}"
        if before > 0:
            words += f"\ndrawn on the model's {before:,.0f} before {year}"
        note = _marker_note(cum_ax, words, (last, point), fontsize=8, color=published_colour)
        notes.append(_Label(note, last, point, point, 4.5))
        if len(notes) == 1:  # one legend entry for them all
            handles.append(Line2D([], [], marker="D", color=published_colour, linestyle="none"))
            names.append("published calendar-year total (lower panel)")
    for name in ("dies", "hbm", "packaging"):
        if name in seen:
            handles.append(Patch(color=colours[name]))
            names.append(f"binding: {binding_text(name)}")

    thousands = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    ax.yaxis.set_major_formatter(thousands)
    cum_ax.yaxis.set_major_formatter(thousands)
    top = float(total.max()) if total.size else 0.0
    ax.set_ylim(0, 1.12 * top if top > 0 else 1.0)
    highest = max([float(cumulative.max()) if cumulative.size else 0.0, *(n.y_high for n in notes)])
    cum_ax.set_ylim(0, (1.25 if notes else 1.1) * highest if highest > 0 else 1.0)
    ax.set_ylabel(f"finished units per {by}")
    cum_ax.set_ylabel("cumulative finished units")
    step = max(1, math.ceil(len(labels) / 12))
    shown = labels[::step]
    crowded = sum(len(label) for label in shown) > 40
    cum_ax.set_xticks(x[::step])
    cum_ax.set_xticklabels(
        shown, rotation=45 if crowded else 0, ha="right" if crowded else "center", fontsize=8
    )
    ax.tick_params(axis="x", labelbottom=False)
    ax.set_xlim(-0.6, len(labels) - 0.4)
    for panel in (ax, cum_ax):
        panel.grid(axis="y", color="0.9", linewidth=0.6)
        panel.set_axisbelow(True)
    columns = min(len(names), 4)
    rows = math.ceil(len(names) / columns)
    ax.legend(
        handles, names, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=columns,
        fontsize=8, frameon=False, borderaxespad=0.3,
    )  # fmt: skip
    span = "1 month" if result.months == 1 else f"{result.months} months"
    span += f" from {result.start_month}" if result.start_month else ""
    ax.set_title(f"Finished units per {by} over {span}", fontsize=11, loc="left", pad=8 + 14 * rows)
    _keep_labels_placed(cum_ax, notes)
    return ax


def plot_cost_breakdown(breakdown: Any, *, ax: Axes | None = None) -> Axes:
    """Plot where the money of one finished unit goes, as horizontal bars.

    Parameters
    ----------
    breakdown : CostBreakdown
        From :func:`waferlab.economics.cost_breakdown`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        If ``breakdown`` is not a CostBreakdown.

    Notes
    -----
    One bar per component (silicon including die-yield loss, HBM, packaging,
    test, packaging scrap, test scrap) in US dollars per tested unit, each
    labelled with its share; a stacked bar on top shows the same split of the
    total, which the components sum to exactly.

    Examples
    --------
    >>> from waferlab.economics import CostInputs, cost_breakdown
    >>> from waferlab.funnel import FunnelInputs, run_funnel
    >>> funnel = run_funnel(FunnelInputs(wafer_starts_per_month=1000, gross_dies_per_wafer=80,
    ...                                  die_yield=0.2, packaging_yield=0.75))
    >>> ax = plot_cost_breakdown(cost_breakdown(funnel, CostInputs(wafer_cost_usd=10_000)))
    >>> ax.get_xlabel()
    'US dollars per tested unit'
    """
    import math

    from matplotlib.ticker import FuncFormatter

    from waferlab.economics import CostBreakdown
    from waferlab.errors import InvalidParameterError
    from waferlab.output import format_quantity

    def usd(x: float) -> str:
        return "$" + format_quantity(x, ",.0f")

    if not isinstance(breakdown, CostBreakdown):
        raise InvalidParameterError("breakdown", breakdown, "a CostBreakdown from cost_breakdown")
    components = breakdown.components
    ax = _new_axes(ax, (8.0, 0.5 * len(components) + 2.6))
    palette = {
        "silicon": "#2f6f9f",
        "HBM": "#7a5195",
        "packaging": "#ef8a3c",
        "test": "#4a9c5d",
        "packaging scrap": "#b8b8b8",
        "test scrap": "#8c8c8c",
    }
    total = breakdown.cost_per_tested_unit_usd
    n = len(components)
    y_total = n + 0.4
    left = 0.0
    for c in components:
        if c.usd_per_unit > 0:
            ax.barh(
                y_total,
                c.usd_per_unit,
                left=left,
                height=0.7,
                color=palette.get(c.name, "0.6"),
                edgecolor="white",
                linewidth=0.8,
            )
            if c.share is not None and c.share >= 0.08:
                ax.text(
                    left + c.usd_per_unit / 2,
                    y_total,
                    f"{c.share:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white",
                )
        left += c.usd_per_unit
    _label_bar_end(ax, usd(total), total, y_total, fontsize=9, fontweight="bold")
    for i, c in enumerate(components):
        yi = n - 1 - i
        ax.barh(yi, c.usd_per_unit, height=0.6, color=palette.get(c.name, "0.6"))
        share = "–" if c.share is None else f"{c.share:.1%}"
        _label_bar_end(ax, f"{usd(c.usd_per_unit)}  ({share})", c.usd_per_unit, yi, fontsize=8.5)
    ax.set_yticks([y_total, *range(n - 1, -1, -1)])
    ax.set_yticklabels(["total"] + [c.name for c in components], fontsize=9)
    ax.set_xlim(0.0, total * 1.22 if total > 0 else 1.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: usd(v)))
    ax.xaxis.set_major_locator(_spaced_locator())
    ax.set_xlabel("US dollars per tested unit")
    funnel = breakdown.funnel
    unit = funnel.final_unit[:-1]
    # Secondary figures go on their own lines under the title (never beside it).
    lines = []
    if breakdown.cost_per_compute_equivalent_usd is not None:
        ce_unit = funnel.inputs.compute_equivalent_unit
        per = ce_unit[:-1] if ce_unit.endswith("s") else ce_unit
        lines.append(f"{usd(breakdown.cost_per_compute_equivalent_usd)} per {per}")
    all_in = breakdown.all_in_cost_per_tested_unit_usd
    if math.isfinite(all_in) and usd(all_in) != usd(total):  # not when it reads the same
        lines.append(f"all-in {usd(all_in)} per {unit} (leftover dies written off)")
    lines += [f"note: {n}" for n in breakdown.notes]
    heading = (
        f"Where the money goes: {usd(total)} per {unit}"
        if total > 0
        else f"Where the money goes: nothing costed ($0 per {unit})"
    )
    _title_with_notes(ax, heading, lines, fontsize=8, line_height=11, y=1.01)
    _finish_bar_axes(ax)
    return ax


def _polygon_path(geom: Any) -> Path:
    """A matplotlib Path for a shapely (multi)polygon, holes included."""
    import numpy as np
    import shapely
    from matplotlib.path import Path

    vertices: list[Any] = []
    codes: list[Any] = []
    for poly in shapely.get_parts(geom):
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)
            vertices.append(xy)
            ring_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            codes.append(ring_codes)
    if not vertices:
        return Path(np.zeros((1, 2)))
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _draw_wafer(ax: Axes, wafer: Any) -> PathPatch:
    """Draw the wafer (filled, outlined) and its usable region (dashed); return the fill patch.

    The fill patch is the clip path for whatever must not spill off the wafer.
    """
    from matplotlib.patches import PathPatch

    outline = _polygon_path(wafer.outline())
    wafer_patch = PathPatch(outline, facecolor="#eef1f4", edgecolor="none", zorder=1)
    ax.add_patch(wafer_patch)
    ax.add_patch(PathPatch(outline, facecolor="none", edgecolor="#2e3440", lw=1.3, zorder=6))
    ax.add_patch(
        PathPatch(
            _polygon_path(wafer.usable_region()),
            facecolor="none",
            edgecolor="#5e81ac",
            lw=1.0,
            ls="--",
            zorder=4,
        )
    )
    return wafer_patch


def _die_rectangles(die: Any, x_mm: Any, y_mm: Any) -> Any:
    """Corners of a die rectangle centred on every (x, y), shape (n, 4, 2) [mm]."""
    import numpy as np

    hw, hh = die.width_mm / 2.0, die.height_mm / 2.0
    corners = np.array([[-hw, -hh], [hw, -hh], [hw, hh], [-hw, hh]])
    centres = np.stack([x_mm, y_mm], axis=1)
    return centres[:, None, :] + corners[None, :, :]


def _wafer_axes(ax: Axes, wafer: Any) -> None:
    """Equal-aspect axes in mm spanning the wafer with a 4 % margin."""
    r = wafer.radius_mm
    pad = 0.04 * r
    ax.set_xlim(-r - pad, r + pad)
    ax.set_ylim(-r - pad, r + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x [mm]")
    ax.set_ylabel("y [mm]")


def plot_wafer_map(die_map: Any, *, ax: Axes | None = None, show_shots: bool = True) -> Axes:
    """Draw a wafer map: outline, usable region, keep-outs, full and partial dies.

    Parameters
    ----------
    die_map : waferlab.geometry.DieMap
        The placement to draw (from :func:`waferlab.geometry.place_dies`).
    ax : matplotlib Axes, optional
        Axes to draw on; a new 7 × 7.6 inch figure when None.
    show_shots : bool, default True
        Outline the reticle shots when the map has a reticle.

    Returns
    -------
    matplotlib Axes
        Equal aspect, axes in mm, a legend with the counts.

    Examples
    --------
    >>> from waferlab.geometry import Die, Wafer, place_dies
    >>> ax = plot_wafer_map(place_dies(Wafer(200.0, 3.0), Die(15.0, 12.0, 0.1)))
    >>> ax.get_xlabel()
    'x [mm]'
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import shapely
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch, PathPatch

    ax = _new_axes(ax, (7.0, 7.6))
    wafer, die = die_map.wafer, die_map.die
    wafer_patch = _draw_wafer(ax, wafer)
    if wafer.keepouts:
        blocked = shapely.intersection(shapely.union_all(wafer.keepouts), wafer.outline())
        ax.add_patch(
            PathPatch(
                _polygon_path(blocked),
                facecolor="#f4d6d6",
                edgecolor="#a33b3b",
                hatch="////",
                lw=0.8,
                zorder=3,
            )
        )

    rectangles = _die_rectangles(die, die_map.center_x_mm, die_map.center_y_mm)
    full = die_map.state == 2
    partial = die_map.state == 1
    for mask, face, edge, alpha in (
        (full, "#2e7d32", "#1b4d1e", 0.85),
        (partial, "#f0a541", "#9a6516", 0.55),
    ):
        if np.any(mask):
            verts = rectangles[mask]
            dies = PolyCollection(
                verts, facecolors=face, edgecolors=edge, linewidths=0.4, alpha=alpha, zorder=2
            )
            ax.add_collection(dies)
            dies.set_clip_path(wafer_patch)  # partial dies are drawn only where there is wafer

    handles = [
        Patch(
            facecolor="#2e7d32",
            edgecolor="#1b4d1e",
            alpha=0.85,
            label=f"full dies: {die_map.gross_dies:,}",
        ),
        Patch(
            facecolor="#f0a541",
            edgecolor="#9a6516",
            alpha=0.55,
            label=f"partial dies: {die_map.partial_dies:,}",
        ),
        Patch(
            facecolor="none",
            edgecolor="#5e81ac",
            ls="--",
            label=f"usable region (edge exclusion {wafer.edge_exclusion_mm:g} mm)",
        ),
    ]
    if wafer.keepouts:
        handles.append(
            Patch(facecolor="#f4d6d6", edgecolor="#a33b3b", hatch="////", label="keep-out")
        )
    if die_map.reticle is not None and die_map.dies_per_field is not None and show_shots:
        nx, ny = die_map.dies_per_field
        on = die_map.state != 0
        keys = np.unique(
            np.stack(
                [np.floor_divide(die_map.col[on], nx), np.floor_divide(die_map.row[on], ny)], axis=1
            ),
            axis=0,
        )
        px, py = die.pitch_x_mm, die.pitch_y_mm
        x0 = die_map.offset_x_mm + keys[:, 0] * nx * px - px / 2.0
        y0 = die_map.offset_y_mm + keys[:, 1] * ny * py - py / 2.0
        shot_w, shot_h = nx * px, ny * py
        shots = np.stack(
            [
                np.stack([x0, y0], axis=1),
                np.stack([x0 + shot_w, y0], axis=1),
                np.stack([x0 + shot_w, y0 + shot_h], axis=1),
                np.stack([x0, y0 + shot_h], axis=1),
            ],
            axis=1,
        )
        shot_lines = PolyCollection(
            list(shots), facecolors="none", edgecolors="#4c566a", linewidths=0.9, zorder=5
        )
        ax.add_collection(shot_lines)
        shot_lines.set_clip_path(wafer_patch)
        handles.append(
            Patch(
                facecolor="none",
                edgecolor="#4c566a",
                label=f"shots ({nx}×{ny} dies): {die_map.full_shots} full, "
                f"{die_map.partial_shots} partial",
            )
        )

    _wafer_axes(ax, wafer)
    ax.grid(True, color="#d8dee9", lw=0.5, zorder=0)
    ax.set_axisbelow(True)
    ax.set_title(
        f"{wafer.diameter_mm:g} mm wafer, {die.width_mm:g} × {die.height_mm:g} mm die "
        f"(scribe {die.scribe_x_mm:g} mm): {die_map.gross_dies:,} gross dies\n"
        f"offset ({die_map.offset_x_mm:.3f}, {die_map.offset_y_mm:.3f}) mm, "
        f"{die_map.offset_mode}; classic formula {die_map.formula_dies:.1f}",
        fontsize=10,
    )
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.09),
        ncol=2,
        frameon=False,
        fontsize=9,
    )
    plt.setp(ax.get_xticklabels(), fontsize=9)
    plt.setp(ax.get_yticklabels(), fontsize=9)
    return ax


# --------------------------------------------------------------------------- #
# Yield curves (calibration)
# --------------------------------------------------------------------------- #

# Curves closer than this everywhere [percentage points of yield] look like one
# on the page: plot_yield_curves dashes the later one and its legend entry says so.
_COINCIDENT_POINTS = 0.5


def plot_yield_curves(
    models: Any,
    *,
    die_area_mm2: Any = None,
    observations: Any = None,
    ax: Axes | None = None,
    log_area: bool = False,
    labels: Any = None,
) -> Axes:
    """Plot die yield against die area for calibrated or given models, with observations.

    Parameters
    ----------
    models : sequence
        Each entry a :class:`~waferlab.calibration.CalibrationResult` or a
        ``(model_name, parameters)`` pair, where ``parameters`` holds the
        keywords of :func:`~waferlab.yield_models.die_yield` (at least
        ``defect_density_per_cm2``). May be empty when ``observations`` are
        given.
    die_area_mm2 : (float, float) or array_like, optional
        Area range [mm²] as a ``(min, max)`` pair, or the areas to evaluate
        (three or more values). Default: up to 1.15 × the largest observed
        area (at least 100 mm²), from 0 (linear axis) or from half the
        smallest area (log axis).
    observations : sequence of Observation, optional
        Published yields, drawn as points (point values) or vertical bars
        (intervals), each labelled with its name. Observations that count
        degraded dies or are forecasts are drawn hollow.
    ax : matplotlib Axes, optional
        Axes to draw on; a new 8 × 5.5 inch figure when None.
    log_area : bool, default False
        Logarithmic die-area axis.
    labels : sequence of str or None, optional
        Legend labels, one per model; None (or a None entry) keeps the
        generated label. Use it to name an under-determined fit as one
        representative of a range ("Y0 = 0.77, any in [0.61, 0.93] fits").

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        If an entry of ``models`` is neither a result nor a (name, dict) pair,
        the area range is invalid, ``labels`` does not have one entry per
        model, or there is nothing to draw.
    UnknownNameError
        If a model name is not registered.

    Notes
    -----
    Each curve is ``die_yield(model, A, **parameters)`` in percent; the
    legend (below the axes, clear of the data) names the model and its
    parameters ("Murphy, D0 = 0.116 /cm²"), prefixed with the process when a
    calibration was fitted to one process. Curves that lie on top of each
    other stay distinguishable: one within half a percentage point of an
    earlier curve over the whole range is dashed, so the earlier one shows
    through, and its legend entry says which curve it covers ("… (dashed: on
    Seeds)"); the same curve again (same label) is drawn once.

    Each observation's label sits next to its own marker (beside, above,
    below or at a corner), nearer to it than to any other marker, inside the
    axes, clear of the other labels and markers and, where it can, of the
    curves. Labels are placed again at every draw, so a layout made after
    plotting (``tight_layout``, another figure size) keeps them in place.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from waferlab.calibration import fit_yield_model, load_dataset, select
    >>> tsmc = select(load_dataset("csis-2025"), process="TSMC N7")
    >>> fit = fit_yield_model(tsmc[:1], "murphy")
    >>> ax = plot_yield_curves([fit, ("poisson", {"defect_density_per_cm2": 0.1})],
    ...                        observations=tsmc)
    >>> [t.get_text() for t in ax.get_legend().get_texts()][:2]
    ['TSMC N7: Murphy, D0 = 0.116 /cm²', 'Poisson, D0 = 0.1 /cm²']
    """
    from collections.abc import Mapping

    import numpy as np
    from matplotlib.ticker import FuncFormatter, NullLocator, PercentFormatter

    from waferlab.calibration import CalibrationResult, Observation, model_label
    from waferlab.errors import InvalidParameterError, check_array
    from waferlab.yield_models import die_yield

    curves: list[tuple[str, dict[str, Any], str]] = []
    for entry in models:
        if isinstance(entry, CalibrationResult):
            name = model_label(entry.model, entry.parameters)
            fitted = {o.process for o in entry.observations if o.process}
            if len(fitted) == 1:  # say which process the calibration belongs to
                name = f"{fitted.pop()}: {name}"
            curves.append((entry.model, dict(entry.parameters), name))
        elif (
            isinstance(entry, tuple)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], Mapping)
        ):
            curves.append((entry[0], dict(entry[1]), model_label(entry[0], entry[1])))
        else:
            raise InvalidParameterError(
                "models", entry, "a CalibrationResult or a (model_name, parameters dict) pair"
            )
    if labels is not None:
        given_labels = list(labels)
        if len(given_labels) != len(curves):
            raise InvalidParameterError("labels", labels, f"{len(curves)} labels, one per model")
        curves = [
            (model, parameters, name if label is None else str(label))
            for (model, parameters, name), label in zip(curves, given_labels, strict=True)
        ]
    points = tuple(observations or ())
    for obs in points:
        if not isinstance(obs, Observation):
            raise InvalidParameterError("observations", obs, "a sequence of Observation")
    if not curves and not points:
        raise InvalidParameterError("models", models, "at least one model or observation")

    if die_area_mm2 is None:
        largest = max([o.die_area_mm2 for o in points], default=0.0)
        high = max(1.15 * largest, 100.0)
        low = 0.5 * min(o.die_area_mm2 for o in points) if points and log_area else 1.0
        low = low if log_area else 0.0
        areas = np.geomspace(low, high, 400) if log_area else np.linspace(low, high, 400)
    else:
        given = check_array("die_area_mm2", die_area_mm2, low=0.0)
        if given.ndim != 1 or given.size < 2:
            raise InvalidParameterError(
                "die_area_mm2", die_area_mm2, "a (min, max) pair or an array of areas"
            )
        if given.size == 2:
            low, high = float(given[0]), float(given[1])
            if not high > low or (log_area and low <= 0.0):
                raise InvalidParameterError(
                    "die_area_mm2",
                    die_area_mm2,
                    "a range with max > min" + (" > 0 on a log axis" if log_area else ""),
                )
            areas = np.geomspace(low, high, 400) if log_area else np.linspace(low, high, 400)
        else:
            areas = np.sort(given)
            if log_area and areas[0] <= 0.0:
                raise InvalidParameterError("die_area_mm2", float(areas[0]), "> 0 on a log axis")

    ax = _new_axes(ax, figsize=(8.0, 5.5))
    styles = ["-", "--", "-.", ":"]
    drawn: list[tuple[str, Any]] = []  # (legend label, percent yields) of the curves drawn
    for k, (model, parameters, curve_label) in enumerate(curves):
        y = 100.0 * np.asarray(die_yield(model, areas, **parameters), dtype=float)
        style: Any = styles[(k // 10) % len(styles)] if len(curves) <= 10 else styles[k % 4]
        # A curve on top of an earlier one stays distinguishable: the same curve
        # again (same label) is drawn once; one within _COINCIDENT_POINTS of it
        # everywhere is dashed, so the earlier one shows through, and says so.
        gaps = [(name, float(np.max(np.abs(y - other)))) for name, other in drawn]
        under = next((name for name, gap in gaps if gap < _COINCIDENT_POINTS), None)
        if under == curve_label:
            continue
        if under is not None:
            style = (0, (5, 4))
            curve_label += f" (dashed: on {under.split(',')[0].split(': ')[-1]})"
        drawn.append((curve_label, y))
        ax.plot(areas, y, color=f"C{k % 10}", linestyle=style, linewidth=1.8, label=curve_label)

    x_low, x_high = float(areas[0]), float(areas[-1])
    labelled: set[str] = set()
    annotations: list[_Label] = []
    for obs in points:
        solid = obs.counts == "fully-good" and obs.status == "reported"
        kind = ("published yield" if obs.is_point else "published range") + (
            "" if solid else " (degraded or forecast)"
        )
        label = None if kind in labelled else kind
        labelled.add(kind)
        color = "black" if solid else "dimgray"
        mid = 100.0 * 0.5 * (obs.yield_low + obs.yield_high)
        if obs.is_point:
            ax.plot(
                [obs.die_area_mm2],
                [mid],
                "o",
                markersize=7,
                color=color,
                markerfacecolor=color if solid else "white",
                label=label,
                zorder=5,
            )
        else:
            ax.errorbar(
                [obs.die_area_mm2],
                [mid],
                yerr=[[mid - 100.0 * obs.yield_low], [100.0 * obs.yield_high - mid]],
                fmt="none",
                ecolor=color,
                capsize=6,
                capthick=2.0,
                elinewidth=2.5,
                linestyle="-" if solid else ":",
                label=label,
                zorder=5,
            )
        note = _marker_note(
            ax, f"{obs.name} ({obs.yield_text})", (obs.die_area_mm2, mid),
            fontsize=8.5, color=color, zorder=6,
        )  # fmt: skip
        if obs.is_point:  # a 7-point marker: 3.5 points and its edge
            annotations.append(_Label(note, obs.die_area_mm2, mid, mid, 4.5))
        else:  # the bar from the low to the high yield, its caps 6 points each side
            low, high = 100.0 * obs.yield_low, 100.0 * obs.yield_high
            annotations.append(_Label(note, obs.die_area_mm2, low, high, 6.5, 1.5))

    if log_area:
        ax.set_xscale("log")
        decades = np.arange(np.floor(np.log10(x_low)), np.ceil(np.log10(x_high)) + 1)
        ticks = [m * 10.0**e for e in decades for m in (1.0, 2.0, 5.0)]
        ax.set_xticks([t for t in ticks if x_low <= t <= x_high])
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(0.0, 102.0)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100.0, decimals=0))
    ax.set_xlabel("Die area [mm²]")
    ax.set_ylabel("Die yield")
    ax.grid(True, which="major", alpha=0.3)
    if curves or points:
        # Below the axes: a legend inside would cover curves, points and their labels.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8.5, frameon=False)
    _keep_labels_placed(ax, annotations)
    return ax


def plot_simulated_wafer(
    result: Any, *, wafer_index: int = 0, ax: Axes | None = None, show_counts: bool = True
) -> Axes:
    """Draw one simulated wafer with its dies coloured good, degraded or bad.

    Parameters
    ----------
    result : waferlab.simulate.SimulationResult
        Output of :func:`waferlab.simulate.simulate_wafers`.
    wafer_index : int, default 0
        Which simulated wafer to draw, in [0, n_wafers).
    ax : matplotlib Axes, optional
        Axes to draw on; a new 7 × 7.6 inch figure when None.
    show_counts : bool, default True
        Write the killer defect count inside every die that has defects.

    Returns
    -------
    matplotlib Axes
        Equal aspect, axes in mm, a legend with the count of each bin and a
        title with the inputs and this wafer's yield.

    Raises
    ------
    InvalidParameterError
        If ``wafer_index`` is out of range.

    Examples
    --------
    >>> from waferlab.geometry import Die, Wafer, place_dies
    >>> from waferlab.simulate import simulate_wafers
    >>> result = simulate_wafers(place_dies(Wafer(300.0), Die(21.32, 31.22)), 0.3,
    ...                          n_wafers=3, harvestable_fraction=0.6, n_blocks=25, seed=1)
    >>> ax = plot_simulated_wafer(result, wafer_index=2)
    >>> ax.get_xlabel(), len(ax.get_legend().get_texts())
    ('x [mm]', 3)
    """
    import numpy as np
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    from waferlab.errors import check_integer

    index = check_integer("wafer_index", wafer_index, low=0, high=result.n_wafers - 1)
    ax = _new_axes(ax, (7.0, 7.6))
    wafer, die = result.die_map.wafer, result.die_map.die

    _draw_wafer(ax, wafer)

    good = result.good[index]
    degraded = result.degraded[index]
    bad = ~(good | degraded)
    counts = result.defect_counts[index]
    rectangles = _die_rectangles(die, result.die_x_mm, result.die_y_mm)
    bins = (
        (good, "good", "#2e7d32", "#1b4d1e"),
        (degraded, "degraded", "#f0a541", "#9a6516"),
        (bad, "bad", "#c0392b", "#7b241c"),
    )
    handles = []
    for mask, label, face, edge in bins:
        if np.any(mask):
            ax.add_collection(
                PolyCollection(
                    rectangles[mask],
                    facecolors=face,
                    edgecolors=edge,
                    linewidths=0.5,
                    alpha=0.9,
                    zorder=2,
                )
            )
        handles.append(
            Patch(facecolor=face, edgecolor=edge, alpha=0.9, label=f"{label}: {int(mask.sum())}")
        )
    if show_counts:
        size = float(np.clip(min(die.width_mm, die.height_mm) * 0.45, 4.0, 9.0))
        hit = counts > 0
        for x, y, n in zip(result.die_x_mm[hit], result.die_y_mm[hit], counts[hit], strict=True):
            ax.text(x, y, str(n), ha="center", va="center", fontsize=size, color="white", zorder=5)

    clustering = "random defects"
    if result.clustering is not None:
        clustering = f"clustered per {result.clustering}, α = {result.alpha:g}"
    ax.set_title(
        f"Simulated wafer {index + 1} of {result.n_wafers:,}: "
        f"{int(good.sum())} of {result.n_dies} dies good ({good.mean():.0%})\n"
        f"D0 = {result.defect_density_per_cm2:.4g} /cm², {clustering}, "
        f"die {die.width_mm:g} × {die.height_mm:g} mm",
        fontsize=10,
    )
    _wafer_axes(ax, wafer)
    legend_title = "defects per die shown in the dies" if show_counts else None
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=3,
        frameon=False,
        title=legend_title,
        title_fontsize=8,
    )
    return ax


# --------------------------------------------------------------------------- uncertainty


def plot_fan_chart(
    result: Any,
    *,
    ax: Axes | None = None,
    output: str | None = None,
    cumulative: bool = False,
    periods: Any = None,
    published: Any = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Axes:
    """Plot a fan chart: the median over periods with p25-p75 and p5-p95 bands.

    Parameters
    ----------
    result : UncertaintyResult or array_like of shape (n, T)
        Draws per period (from :func:`waferlab.uncertainty.run_uncertainty`).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.
    output : str, optional
        Which output of the result (needed when it holds several).
    cumulative : bool, default False
        Plot the quantiles of each draw's running total (not the running sum
        of the monthly quantiles).
    periods : sequence, optional
        Labels of the T periods (e.g. "2025-01"); default 1 … T.
    published : sequence of (period index, value, label), optional
        Published figures drawn as points on the chart, each label next to
        its point and inside the axes.
    ylabel, title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    InvalidParameterError
        If the draws do not have periods.

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).lognormal(0.0, 0.3, (500, 12)).cumsum(axis=1)
    >>> ax = plot_fan_chart(draws, published=[(11, 12.0, "report")])
    >>> len(ax.collections) >= 2
    True
    """
    import math

    import numpy as np
    from matplotlib.ticker import FuncFormatter

    from waferlab.errors import InvalidParameterError
    from waferlab.uncertainty import UncertaintyResult, quantiles

    probs = [0.05, 0.25, 0.5, 0.75, 0.95]
    if isinstance(result, UncertaintyResult):
        name = output or result.names[0]
        if not result.has_periods(name):
            raise InvalidParameterError("output", name, "an output with periods, shape (n, T)")
        q = result.quantiles(name, probs, cumulative=cumulative)
        n = result.n_draws
    else:
        draws, name = np.asarray(result, dtype=float), output or "output"
        if draws.ndim != 2:
            raise InvalidParameterError(
                "result", draws.shape, "draws of shape (n, T), with periods"
            )
        q = quantiles(draws, probs, cumulative=cumulative)
        n = draws.shape[0]
    ax = _new_axes(ax, (8.0, 4.5))
    t = np.arange(len(q["p50"]))
    color = "#2f6f9f"
    ax.fill_between(t, q["p5"], q["p95"], color=color, alpha=0.18, linewidth=0, label="p5–p95")
    ax.fill_between(t, q["p25"], q["p75"], color=color, alpha=0.35, linewidth=0, label="p25–p75")
    ax.plot(t, q["p50"], color=color, linewidth=2.0, label="median")
    notes = []
    for i, point in enumerate(published or ()):
        x, value, label = point
        ax.plot(
            [x], [value], "D", color="#c0392b", markersize=6, label="published" if i == 0 else None
        )
        note = _marker_note(ax, str(label), (x, value), fontsize=8)
        notes.append(_Label(note, float(x), float(value), float(value), 4.5))
    labels = list(periods) if periods is not None else [str(i + 1) for i in t]
    step = max(1, math.ceil(len(labels) / 12))
    shown = labels[::step]
    crowded = sum(len(str(label)) for label in shown) > 40
    ax.set_xticks(t[::step])
    ax.set_xticklabels(shown, rotation=45 if crowded else 0, ha="right" if crowded else "center")
    ax.set_xlim(-0.5, len(t) - 0.5)
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel(ylabel or (f"cumulative {name}" if cumulative else name))
    ax.set_xlabel("period")
    ax.set_title(title or f"{name}{' (cumulative)' if cumulative else ''}: {n:,} draws", loc="left")
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    legend = ax.legend(loc="upper left", fontsize=8, frameon=False)
    points = [(float(x), float(value)) for x, value, _ in published or ()]
    _room_for_legend(ax, legend, t, np.asarray(q["p95"], dtype=float), points)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _keep_labels_placed(ax, notes)
    return ax


def _signed_text(x: float) -> str:
    """A signed change as people read it: +750,000 or -0.0312."""
    return f"{x:+,.0f}" if abs(x) >= 1e4 else f"{x:+,.4g}"


def _room_for_legend(
    ax: Axes, legend: Any, x: Any, top: Any, points: Sequence[tuple[float, float]] = ()
) -> None:
    """Raise the top of the y axis until ``legend`` (inside, at the top) covers no data.

    ``top`` is the highest curve (linear between the ``x``), ``points`` are
    markers; the y axis is linear. The legend keeps its place in the axes, so
    the data under its width must end below its bottom edge.
    """
    import numpy as np

    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    box = legend.get_window_extent(renderer)
    (x0, _), (x1, _) = ax.transData.inverted().transform([(box.x0, box.y0), (box.x1, box.y1)])
    frac = float(ax.transAxes.inverted().transform((box.x0, box.y0))[1])
    x = np.asarray(x, dtype=float)
    inside = [v for v in (x0, x1, *x) if x0 <= v <= x1 and x[0] <= v <= x[-1]]
    heights = list(np.interp(inside, x, top)) if inside else []
    heights += [y for px, y in points if x0 - 0.3 <= px <= x1 + 0.3]
    span_px = ax.get_window_extent(renderer).height
    # below the legend by half a marker and a little room (6 points), as a share of the axes
    limit = frac - 6.0 * ax.figure.dpi / 72.0 / span_px if span_px > 0 else 0.0
    if not heights or limit <= 0.3:  # nothing under the legend, or no room to make
        return
    low, high = ax.get_ylim()
    highest = max(heights)
    if highest > low + limit * (high - low):
        ax.set_ylim(low, low + (highest - low) / limit)


def _value_text(value: Any) -> str:
    """A number as people read it: 1,296,764 or 0.2449 (names unchanged)."""
    if isinstance(value, str):
        return value
    x = float(value)
    return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:,.4g}"


def plot_tornado(
    result: Any,
    *,
    ax: Axes | None = None,
    max_inputs: int | None = None,
    xlabel: str = "output",
) -> Axes:
    """Plot a tornado: each input's swing from its p5 to its p95, largest on top.

    Parameters
    ----------
    result : TornadoResult
        From :func:`waferlab.uncertainty.tornado`.
    ax : matplotlib Axes, optional
    max_inputs : int, optional
        Show only the inputs with the largest swings.
    xlabel : str
        Name (and unit) of the output.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from waferlab.uncertainty import Uniform, tornado
    >>> t = tornado(lambda x: x["a"] * x["b"], {"a": Uniform(1, 2), "b": Uniform(1, 5)})
    >>> ticks = plot_tornado(t).get_yticklabels()  # bottom to top
    >>> [label.get_text().split("\\n")[0] for label in ticks][::-1]  # b swings most: on top
    ['b', 'a']
    """
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from waferlab.errors import InvalidParameterError
    from waferlab.uncertainty import TornadoResult, quantile_label

    if not isinstance(result, TornadoResult):
        raise InvalidParameterError("result", result, "a TornadoResult from tornado()")
    k = len(result.names) if max_inputs is None else min(max_inputs, len(result.names))
    ax = _new_axes(ax, (8.0, 0.6 * k + 1.8))
    low_color, high_color = "#d98c5f", "#2f6f9f"
    base = result.baseline
    lo_name, hi_name = quantile_label(result.low_q), quantile_label(result.high_q)
    labels = []
    for row in range(k):
        y = k - 1 - row
        lo, hi = float(result.output_low[row]), float(result.output_high[row])
        ax.barh(y, lo - base, left=base, color=low_color, height=0.6)
        ax.barh(y, hi - base, left=base, color=high_color, height=0.6)
        ends = ((lo, lo < hi), (hi, hi <= lo)) if lo != hi else ((hi, False),)
        for value, left in ends:
            text = _value_text(value) if lo != hi else f"{_value_text(value)} (no change)"
            ax.annotate(
                text, (value, y), xytext=(-4 if left else 4, 0),
                textcoords="offset points", va="center", ha="right" if left else "left",
                fontsize=8,
            )  # fmt: skip
        labels.append(
            f"{result.names[row]}\n{_value_text(result.input_low[row])} … "
            f"{_value_text(result.input_high[row])}"
        )
    ax.set_yticks(range(k))
    ax.set_yticklabels(labels[::-1], fontsize=8.5)
    ax.axvline(base, color="0.2", linewidth=1.0)
    ax.margins(x=0.2)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _value_text(v)))
    ax.xaxis.set_major_locator(_spaced_locator())
    ax.set_xlabel(xlabel)
    ax.set_title(
        f"Tornado: each input from its {lo_name} to its {hi_name}, others at their medians",
        loc="left", fontsize=10,
    )  # fmt: skip
    _finish_bar_axes(ax)
    _legend_off_data(
        ax,
        [
            Patch(color=low_color, label=f"input at {lo_name}"),
            Patch(color=high_color, label=f"input at {hi_name}"),
        ],
        ("lower right", "upper right"), fontsize=8, frameon=False,
    )  # fmt: skip
    return ax


def plot_waterfall(
    result: Any,
    *,
    ax: Axes | None = None,
    labels: tuple[str, str] = ("A", "B"),
    ylabel: str = "output",
) -> Axes:
    """Plot a waterfall from case A to case B, one step per input that differs.

    Parameters
    ----------
    result : Attribution
        From :func:`waferlab.analysis.attribute` or
        :func:`~waferlab.analysis.log_decomposition`.
    ax : matplotlib Axes, optional
    labels : (str, str)
        Names of the two cases.
    ylabel : str
        Name (and unit) of the output.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    For a logarithmic attribution the steps are drawn on a log axis: the level
    after input i is U_a · exp(φ_1 + … + φ_i), so each bar's length is its
    share of ln(U_b / U_a) and each is labelled with its factor e^φ_i. Otherwise
    the steps add: U_a + φ_1 + … + φ_i.

    Examples
    --------
    >>> from waferlab.analysis import log_decomposition
    >>> r = log_decomposition({"wafers": 1e4, "die_yield": 0.2}, {"wafers": 2e4, "die_yield": 0.3})
    >>> ax = plot_waterfall(r)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['A', 'wafers', 'die_yield', 'B']
    """
    import math

    import numpy as np
    from matplotlib.ticker import FuncFormatter, LogLocator

    from waferlab.analysis import Attribution
    from waferlab.errors import InvalidParameterError

    if not isinstance(result, Attribution):
        raise InvalidParameterError("result", result, "an Attribution from attribute()")
    k = len(result.names)
    ax = _new_axes(ax, (max(6.0, 1.1 * (k + 2) + 2.0), 4.8))
    phi = np.asarray(result.contributions, dtype=float)
    if result.log:
        levels = result.value_a * np.exp(np.concatenate([[0.0], np.cumsum(phi)]))
        levels[-1] = result.value_b  # the last step ends exactly at B
        ax.set_yscale("log")
        bottom = min(result.value_a, result.value_b, float(levels.min())) / 2.0
    else:
        levels = result.value_a + np.concatenate([[0.0], np.cumsum(phi)])
        levels[-1] = result.value_b
        bottom = 0.0
    up, down, total = "#2f6f9f", "#d98c5f", "0.45"
    ax.bar(0, result.value_a - bottom, bottom=bottom, color=total, width=0.6)
    for i in range(k):
        start, end = levels[i], levels[i + 1]
        ax.bar(
            i + 1, end - start, bottom=start, width=0.6,
            color=up if end >= start else down,
        )  # fmt: skip
        ax.plot([i + 0.7, i + 1.3], [start, start], color="0.5", linewidth=0.6)
        text = f"×{math.exp(phi[i]):.3g}" if result.log else _signed_text(phi[i])
        if result.log and result.total != 0:
            text += f"\n{phi[i] / result.total:.0%}"
        ax.annotate(
            text, (i + 1, max(start, end)), xytext=(0, 3), textcoords="offset points",
            ha="center", va="bottom", fontsize=8,
        )  # fmt: skip
    ax.bar(k + 1, result.value_b - bottom, bottom=bottom, color=total, width=0.6)
    for x, value in ((0, result.value_a), (k + 1, result.value_b)):
        ax.annotate(
            _value_text(value), (x, value), xytext=(0, 3), textcoords="offset points",
            ha="center", va="bottom", fontsize=8,
        )  # fmt: skip
    ax.set_xticks(range(k + 2))
    ax.set_xticklabels([labels[0], *result.names, labels[1]], rotation=30 if k > 3 else 0)
    top = float(max(levels.max(), result.value_a)) * (1.35 if result.log else 1.15)
    ax.set_ylim(bottom=bottom, top=top)
    if result.log:
        # 1-2-5 ticks, so that a range inside one decade still has labelled ticks
        ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _value_text(v)))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_ylabel(f"{ylabel} (log scale)" if result.log and ylabel else ylabel)
    how = (
        f"ratio {result.ratio:.3g} (ln {result.total:+.3f}), split exactly ({result.method})"
        if result.log
        else f"difference {_signed_text(result.total)}, split exactly ({result.method})"
    )
    ax.set_title(f"{labels[0]} → {labels[1]}\n{how}", loc="left", fontsize=10)
    ax.grid(axis="y", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
