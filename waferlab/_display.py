"""Notebook display of results: short reprs, HTML tables, DataFrames (private).

Results call these from ``__repr__``, ``_repr_html_`` and ``to_frame`` so that
every result looks the same in a terminal, in Jupyter and in pandas. pandas is
imported only by :func:`frame`, when a DataFrame is asked for.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

#: Longest ``__repr__`` of a result [characters].
MAX_REPR_CHARS = 300


def short_repr(name: str, summary: str) -> str:
    """``Name(summary)``, cut to :data:`MAX_REPR_CHARS` characters.

    Examples
    --------
    >>> short_repr("DieMap", "85 full dies")
    'DieMap(85 full dies)'
    >>> len(short_repr("X", "y" * 1000))
    300
    """
    text = f"{name}({summary})"
    if len(text) <= MAX_REPR_CHARS:
        return text
    return text[: MAX_REPR_CHARS - 4] + "...)"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape(str(value))


def html_table(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column HTML table (name, value) under a bold title.

    Examples
    --------
    >>> html_table("Die", [("width_mm", 21.32)])
    '<div><b>Die</b><table><tr><th ...>width_mm</th><td>21.32</td></tr></table></div>'
    """
    body = "".join(
        f'<tr><th style="text-align:left">{html.escape(key)}</th><td>{_cell(value)}</td></tr>'
        for key, value in rows
    )
    return f"<div><b>{html.escape(title)}</b><table>{body}</table></div>"


def frame(columns: Mapping[str, Any], index_name: str | None = None) -> Any:
    """A pandas DataFrame of ``columns`` (pandas imported here, an optional extra).

    Raises
    ------
    ImportError
        If pandas is not installed; the message says how to install it.
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_frame() needs pandas: pip install 'waferlab[pandas]' (or pip install pandas)"
        ) from exc
    df = pd.DataFrame(dict(columns))
    if index_name is not None:
        df.index.name = index_name
    return df


def png_data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for embedding a PNG in HTML."""
    import base64

    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
