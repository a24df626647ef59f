"""Plots: wafer maps, yield curves, funnels and cost breakdowns.

Every helper has the form ``plot_x(data, *, ax=None, **kwargs) -> Axes``: it
draws on ``ax`` (a fresh figure when ``ax`` is None) and returns the axes. It
never calls ``plt.show()`` and never changes global rcParams; matplotlib is
imported inside the functions so that importing waferlab stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = (6.4, 6.4)) -> Axes:
    """Return ``ax``, or the axes of a new figure of the given size."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def _kwargs(**kwargs: Any) -> dict[str, Any]:
    """Drop ``None`` values so callers can forward optional style arguments."""
    return {k: v for k, v in kwargs.items() if v is not None}


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
    from matplotlib.ticker import FuncFormatter

    from waferlab.errors import InvalidParameterError
    from waferlab.funnel import FunnelResult

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
    kept, lost = "#2f6f9f", "#d98c5f"
    floor = min(positive) / 3.0 if (log and positive) else 0.0
    for yi, s in zip(y, stages, strict=True):
        left = floor if log else 0.0
        if s.quantity > left:
            ax.barh(yi, s.quantity - left, left=left, color=kept, height=0.6)
        if s.loss > 0 and s.quantity_in > max(s.quantity, left):
            start = max(s.quantity, left)
            ax.barh(
                yi,
                s.quantity_in - start,
                left=start,
                color="white",
                edgecolor=lost,
                hatch="////",
                linewidth=0.8,
                height=0.6,
            )
        end = max(s.quantity_in, s.quantity, left)
        text = f"{s.quantity:,.0f}"
        if s.loss > 0 and s.quantity_in > 0:
            share = s.loss / s.quantity_in
            text += f"  (−{share:.0%})" if share >= 0.005 else f"  (−{s.loss:,.0f})"
        if s.name == "packages before packaging loss" and result.binding_constraint == "hbm":
            text += "  HBM-limited"
        ax.annotate(
            text,
            (end, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=8.5,
        )
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
    else:
        top = max(positive) if positive else 1.0
        ax.set_xlim(0.0, top * 1.3)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    months = result.inputs.months
    span = "1 month" if months == 1 else f"{months} months"
    ax.set_xlabel(f"quantity over {span} (each bar in its own unit{', log scale' if log else ''})")
    title = f"Funnel: {result.final_units:,.0f} {result.final_unit} over {span}"
    ax.set_title(title, fontsize=11, loc="left", pad=18)
    binding = result.binding_constraint
    if binding == "none":
        binding = "none (HBM not modelled; dies alone set the packages)"
    notes = [f"binding constraint: {binding}"]
    if result.includes_stock:
        notes.append(
            f"includes die bank of {result.inputs.die_bank_dies:,.0f} dies "
            f"(fab alone: {result.fab_only_final_units:,.0f})"
        )
    ax.text(
        0.0,
        1.015,
        "  ·  ".join(notes),
        transform=ax.transAxes,
        fontsize=8.5,
        color="0.35",
        va="bottom",
        ha="left",
    )
    ax.legend(
        handles=[
            Patch(color=kept, label="output"),
            Patch(facecolor="white", edgecolor=lost, hatch="////", label="loss"),
        ],
        loc="lower right",
        fontsize=8,
        frameon=False,
    )
    ax.grid(axis="x", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
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
    from matplotlib.ticker import FuncFormatter

    from waferlab.economics import CostBreakdown
    from waferlab.errors import InvalidParameterError

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
            if c.share >= 0.08:
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
    ax.annotate(
        f"${total:,.0f}",
        (total, y_total),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        ha="left",
        fontsize=9,
        fontweight="bold",
    )
    for i, c in enumerate(components):
        yi = n - 1 - i
        ax.barh(yi, c.usd_per_unit, height=0.6, color=palette.get(c.name, "0.6"))
        ax.annotate(
            f"${c.usd_per_unit:,.0f}  ({c.share:.1%})",
            (c.usd_per_unit, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=8.5,
        )
    ax.set_yticks([y_total, *range(n - 1, -1, -1)])
    ax.set_yticklabels(["total"] + [c.name for c in components], fontsize=9)
    ax.set_xlim(0.0, total * 1.22 if total > 0 else 1.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"${v:,.0f}"))
    ax.set_xlabel("US dollars per tested unit")
    funnel = breakdown.funnel
    ax.set_title(
        f"Where the money goes: ${total:,.0f} per {funnel.final_unit[:-1]}",
        fontsize=11,
        loc="left",
    )
    if breakdown.cost_per_compute_equivalent_usd is not None:
        unit = funnel.inputs.compute_equivalent_unit
        per = unit[:-1] if unit.endswith("s") else unit
        ax.text(
            1.0,
            1.01,
            f"${breakdown.cost_per_compute_equivalent_usd:,.0f} per {per}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8.5,
            color="0.35",
        )
    ax.grid(axis="x", color="0.9", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return ax
