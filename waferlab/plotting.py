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
