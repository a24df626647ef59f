"""The end-to-end report: the CSIS chain from wafer to finished Ascend 910C.

:func:`build_report` recomputes every step of the arithmetic in G. C. Allen,
"DeepSeek, Huawei, Export Controls, and the Future of the U.S.-China AI Race"
(CSIS, 7 March 2025) with waferlab's models, next to what the report itself
says:

1. dies per wafer — the report's ~80 from the classic formula against an exact
   placement of the real 21.32 × 31.22 mm die;
2. yield — which models and parameters reproduce the report's published
   yields at once (per process), and what the Financial Times' 40 % implies
   if it counts degraded dies;
3. funnels — the built-in scenarios (the report's three CSIS cases, the
   SemiAnalysis HBM-bound case and the other published estimates), with the
   report's own arithmetic reproduced and the computed geometry beside it;
4. cost per finished 910C, and where the money goes.

Everything is computed in memory first; :meth:`Report.write` then writes
``report.md``, ``report.html`` (the same as one self-contained page),
``report.json`` and the figures as one folder, whole or not at all (built
beside the target and renamed into place; see :func:`check_out_dir` for which
existing folders it replaces).
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from waferlab import __version__
from waferlab._data import load_json
from waferlab.errors import InvalidParameterError
from waferlab.output import (
    binding_text,
    figure_bytes,
    holds_working_directory,
    to_json,
    write_folder_atomic,
)
from waferlab.output import format_percent as _pct

if TYPE_CHECKING:
    from waferlab.calibration import CalibrationResult, ModelComparison, Observation
    from waferlab.funnel import FunnelResult
    from waferlab.scenarios import Scenario

__all__ = ["REPORT_SOURCE", "Report", "build_report", "check_out_dir", "is_report_folder"]

#: The motivating report.
REPORT_SOURCE = (
    'G. C. Allen, "DeepSeek, Huawei, Export Controls, and the Future of the U.S.-China AI '
    'Race", CSIS, 7 March 2025, https://www.csis.org/analysis/'
    "deepseek-huawei-export-controls-and-future-us-china-ai-race"
)

# The scenarios the report walks through, in order: the three CSIS cases first,
# then the HBM-bound alternative, then the other published estimates.
_CSIS_SCENARIOS = ("csis-2025-smic-current", "csis-2025-smic-target", "csis-2025-tsmc-die-bank")
_OTHER_SCENARIOS = (
    "semianalysis-2025-hbm-bound",
    "morgan-stanley-2025",
    "bis-2025-ceiling",
    "tsmc-n7-counterfactual",
)
_COST_SCENARIO = "csis-2025-smic-target"
_DATASET = "csis-2025"


@dataclass(frozen=True)
class Report:
    """The computed report: Markdown, a terminal summary, figures and key numbers.

    Attributes
    ----------
    markdown : str
        The full report (``report.md``).
    summary : str
        A short plain-text summary for the terminal.
    figures : Mapping[str, bytes]
        PNG images by file name, referenced from the Markdown.
    data : Mapping[str, Any]
        The key numbers as a JSON-able mapping (``report.json``).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     [p.name for p in Report(markdown="# Title", summary="one line").write(tmp)]
    ['report.md', 'report.html', 'report.json']
    """

    markdown: str
    summary: str
    figures: Mapping[str, bytes] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    def write(self, out_dir: str | os.PathLike[str], *, force: bool = False) -> tuple[Path, ...]:
        """Write ``report.md``, ``report.html``, ``report.json`` and the figures as ``out_dir``.

        The folder is built under a temporary name beside ``out_dir`` and
        renamed into place when every file is written, so ``out_dir`` is
        always one complete report (concurrent writers serialise on a lock).
        An existing ``out_dir`` is replaced whole when it is empty or an
        earlier report (:func:`is_report_folder`), or with ``force=True``.

        Parameters
        ----------
        out_dir : path
            The report folder; missing parents are created.
        force : bool, default False
            Replace an existing folder that does not look like a report.

        Returns
        -------
        tuple of pathlib.Path
            The files written, report.md first.

        Raises
        ------
        InvalidParameterError
            If ``out_dir`` is a folder that is not a report and ``force`` is False.
        OSError
            If the folder cannot be written; the error names the path.
        """
        files = {
            "report.md": self.markdown.encode("utf-8"),
            "report.html": self.html().encode("utf-8"),
            "report.json": (to_json(self.data) + "\n").encode("utf-8"),
            **self.figures,
        }
        try:
            return write_folder_atomic(
                out_dir, files, may_replace=lambda path: force or is_report_folder(path)
            )
        except FileExistsError as exc:
            raise _not_a_report(out_dir) from exc

    def html(self) -> str:
        """The report as one self-contained HTML page (``report.html``, figures embedded)."""
        first = self.markdown.splitlines()[0] if self.markdown else ""
        return markdown_to_html(self.markdown, self.figures, title=first.lstrip("# "))

    def to_dict(self) -> dict[str, Any]:
        """Return the key numbers (the content of ``report.json``)."""
        return dict(self.data)


#: What a report folder holds: its two files and figures.
_REPORT_FILES = ("report.md", "report.html", "report.json")
_FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def is_report_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder :meth:`Report.write` may replace without ``force``.

    True for an empty folder, and for one that holds only regular files named
    ``report.md``, ``report.html``, ``report.json`` or ``*.png``/``*.svg``/``*.pdf`` (what a
    report writes) and at least one of the first two; anything else (a
    sub-folder, a link, another file) means the folder is someone's work.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     empty = is_report_folder(tmp)
    ...     _ = (Path(tmp) / "thesis.tex").write_text("...")
    ...     empty, is_report_folder(tmp)
    (True, False)
    """
    folder = Path(path)
    if not folder.is_dir() or folder.is_symlink():
        return False
    entries = list(folder.iterdir())
    if not entries:
        return True
    for entry in entries:
        known = entry.name in _REPORT_FILES or entry.suffix.lower() in _FIGURE_SUFFIXES
        if not known or entry.is_symlink() or not entry.is_file():
            return False
    return any(entry.name in _REPORT_FILES for entry in entries)


def _not_a_report(out_dir: str | os.PathLike[str]) -> InvalidParameterError:
    return InvalidParameterError(
        "out_dir",
        os.fspath(out_dir),
        "a new folder, an empty one or an earlier report's folder",
        "it holds other files; choose another folder, or replace it whole with force",
    )


def check_out_dir(out_dir: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Check, before any work, that :meth:`Report.write` could write ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The report folder.
    force : bool, default False
        As in :meth:`Report.write`.

    Returns
    -------
    pathlib.Path
        The folder, as an absolute path.

    Raises
    ------
    InvalidParameterError
        If ``out_dir`` is empty, or an existing folder that is not a report (without ``force``).
    OSError
        If ``out_dir`` is a file, or its nearest existing parent is not a
        writable folder; the error names the path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_out_dir(Path(tmp) / "new" / "report").name
    'report'
    """
    text = os.fspath(out_dir)
    if not text.strip() or "\0" in text:
        raise InvalidParameterError("out_dir", text, "a folder path")
    folder = Path(os.path.abspath(text))
    if holds_working_directory(folder):
        raise InvalidParameterError(
            "out_dir", text, "a folder that does not hold the working directory"
        )
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a directory", str(folder))
    if folder.exists() and not force and not is_report_folder(folder):
        raise _not_a_report(text)
    parent = folder.parent
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is not a directory", str(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "permission denied", str(parent))
    return folder


@dataclass(frozen=True)
class _Inputs:
    """What several sections use, loaded or computed once."""

    observations: tuple[Observation, ...]
    die: Mapping[str, Any]  # the Ascend 910B as published (data/ascend-910b.json)
    scenarios: Mapping[str, Scenario]
    funnels: Mapping[str, FunnelResult]
    smic_calibration: CalibrationResult  # NB, alpha = 1, D0 fitted to both SMIC points
    comparison_smic: ModelComparison  # every model fitted to SMIC's points (once)
    chosen: Scenario  # the bottom line's and the cost section's scenario
    render: bool = True  # draw the figures (False: numbers and text only)
    paths: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # scenario_ranges
    path_scenarios: Mapping[str, Scenario] = field(default_factory=dict)  # the paths' presets


def _inputs(render: bool, chosen: Scenario) -> _Inputs:
    from waferlab.calibration import compare_models, load_dataset, select
    from waferlab.funnel import run_funnel
    from waferlab.scenarios import load_scenario

    observations = load_dataset(_DATASET)
    scenarios = {name: load_scenario(name) for name in _CSIS_SCENARIOS + _OTHER_SCENARIOS}
    smic = select(observations, process="SMIC N+2")
    comparison = compare_models(smic)
    # The calibration the funnels use is one of the comparison's rows, not a second fit.
    nb_alpha_1 = next(
        r
        for r in comparison.results
        if r.model == "negative_binomial"
        and r.free == ("defect_density_per_cm2",)
        and r.fixed.get("alpha") == 1.0
    )
    return _Inputs(
        observations=observations,
        die=load_json("ascend-910b.json"),
        scenarios=scenarios,
        funnels={name: run_funnel(sc.funnel_inputs()) for name, sc in scenarios.items()},
        smic_calibration=nb_alpha_1,
        comparison_smic=comparison,
        chosen=chosen,
        render=render,
    )


#: Resolution of the report's figures (the figures are 6-10 inches wide: 600-1000 pixels).
_DPI = 100


def _png(ax: Any) -> bytes:
    import matplotlib.pyplot as plt

    png = figure_bytes(ax.figure, "png", dpi=_DPI)
    plt.close(ax.figure)
    return png


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _md_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

_HTML_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:1rem 0;font-size:13px}"
    "th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f3f3f3}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto;font-size:12px}"
    "code{font-size:90%}img{max-width:100%}"
    "blockquote{color:#555;border-left:3px solid #ccc;margin:0;padding-left:1rem}"
)


def _inline(text: str) -> str:
    import html
    import re

    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        escaped = html.escape(part)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        out.append(escaped)
    return "".join(out)


def markdown_to_html(markdown: str, figures: Mapping[str, bytes], *, title: str = "") -> str:
    """Render the report's Markdown as one self-contained HTML page.

    Handles what the report writes: headings, paragraphs, block quotes, bullet
    lists (with continuation lines and one nested level), pipe tables, fenced
    code, ``**bold**``, ```code``` and images, which are embedded from
    ``figures`` as ``data:`` URIs, so the page needs no other file.

    Examples
    --------
    >>> page = markdown_to_html("# T\\n\\n| a | b |\\n|---|---|\\n| 1 | **2** |\\n\\n![x](f.png)",
    ...                         {"f.png": b"\\x89PNG"})
    >>> "<td><strong>2</strong></td>" in page, 'src="data:image/png;base64,iVBORw==' in page
    (True, True)
    """
    import html
    import re

    from waferlab._display import png_data_uri

    lines = markdown.splitlines()
    body: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
        elif line.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body.append("<pre><code>" + html.escape("\n".join(lines[i + 1 : j])) + "</code></pre>")
            i = j + 1
        elif m := re.match(r"(#{1,6}) (.*)", line):
            n = len(m.group(1))
            body.append(f"<h{n}>{_inline(m.group(2))}</h{n}>")
            i += 1
        elif m := re.fullmatch(r"!\[(.*?)\]\((.*?)\)", line.strip()):
            png = figures.get(m.group(2))
            src = png_data_uri(png) if png is not None else html.escape(m.group(2))
            body.append(f'<p><img alt="{html.escape(m.group(1))}" src="{src}"></p>')
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append([c.strip() for c in lines[i].strip().strip("|").split("|")])
                i += 1
            head, rest = rows[0], [r for r in rows[1:] if not all(set(c) <= {"-", ":"} for c in r)]
            out = ["<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)]
            out.append("</tr></thead><tbody>")
            out += ["<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rest]
            body.append("".join(out) + "</tbody></table>")
        elif line.startswith("> "):
            quote = []
            while i < len(lines) and lines[i].startswith(">"):
                quote.append(lines[i][1:].strip())
                i += 1
            body.append(f"<blockquote><p>{_inline(' '.join(quote))}</p></blockquote>")
        elif line.startswith("- "):
            items: list[list[str]] = []
            while i < len(lines) and (lines[i].startswith(("- ", "  ")) and lines[i].strip()):
                text = lines[i]
                if text.startswith("- "):
                    items.append([text[2:]])
                elif text.lstrip().startswith("- "):
                    items[-1].append("\0" + text.lstrip()[2:])
                else:
                    items[-1][-1] += " " + text.strip()
                i += 1
            out = ["<ul>"]
            for item in items:
                out.append(f"<li>{_inline(item[0])}")
                nested = [x[1:] for x in item[1:]]
                if nested:
                    out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in nested) + "</ul>")
                out.append("</li>")
            body.append("".join(out) + "</ul>")
        else:
            para = []
            while (
                i < len(lines)
                and lines[i].strip()
                and not re.match(r"(#{1,6} |```|\||> |- |!\[)", lines[i])
            ):
                para.append(lines[i].strip())
                i += 1
            body.append(f"<p>{_inline(' '.join(para))}</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_HTML_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


# --------------------------------------------------------------------------- 0. bottom line

#: Draws behind every range of the bottom line: scrambled Sobol' points, enough for the
#: p5 and p95 to agree to 3 significant figures between seeds (tested).
BOTTOM_LINE_DRAWS = 2**16
BOTTOM_LINE_METHOD: Literal["sobol"] = "sobol"
#: Draws behind the share of draws in which HBM binds (reported to the whole percent).
BINDING_DRAWS = 2**12
#: The cumulative count the path section dates.
MILESTONE_UNITS = 1_000_000
#: The time-aware presets whose month-by-month path the bottom line summarises.
PATH_SCENARIOS = (
    "csis-2025-ramp",
    "morgan-stanley-2025-2027",
    "semianalysis-2025-2027-ramp",
    "ft-2025-yield-learning",
)
_PROBS = (0.05, 0.5, 0.95)
_Q = ("p5", "p50", "p95")


def _quantiles(a: Any, axis: int = 0) -> dict[str, Any]:
    import numpy as np

    q = np.quantile(np.asarray(a, dtype=float), _PROBS, axis=axis)
    return {k: (float(v) if np.ndim(v) == 0 else v.tolist()) for k, v in zip(_Q, q, strict=True)}


def scenario_ranges(
    scenario: Scenario,
    *,
    draws: int = BOTTOM_LINE_DRAWS,
    seed: int = 0,
    milestone_units: float = MILESTONE_UNITS,
    with_cost: bool = True,
) -> dict[str, Any]:
    """Finished units, their calendar-year totals, a milestone date and the cost, with ranges.

    Every input of the scenario's ``[distributions]`` is drawn (scrambled
    Sobol' points, with the scenario's rank correlations) and all draws go
    through the month-by-month engine at once
    (:func:`waferlab.analysis.scenario_model`); the ranges are the p5 and p95
    of the draws, the central figure their median. The scenario as published
    (no draws) is given beside them.

    Parameters
    ----------
    scenario : Scenario
        The scenario (a preset or a user's file).
    draws : int, default :data:`BOTTOM_LINE_DRAWS`
        Number of draws.
    seed : int, default 0
        Seed of the scrambling.
    milestone_units : float, default 1,000,000
        The cumulative count of finished units to date.
    with_cost : bool, default True
        Also the cost per finished unit (when the scenario has costs).

    Returns
    -------
    dict
        JSON-safe: ``months``, ``start_month``, ``month_labels``, ``draws``;
        ``per_month`` (p5/p50/p95 of the horizon's finished units divided by its
        months) and ``per_month_as_published``; ``years`` (calendar year →
        p5/p50/p95, months of that year in the horizon, as published);
        ``horizon`` (p5/p50/p95 of the total); ``milestone`` (the month index,
        from 0, by which ``milestone_units`` are reached to date, as p5/p50/p95
        over the draws, ``None`` where not reached, the share of draws reaching
        it, and the month as published); ``cost_per_tested_unit_usd``
        (p5/p50/p95 and as published, or None without costs); ``binding``
        (per month: the constraint as published and the share of draws in which
        HBM binds, from the first :data:`BINDING_DRAWS` draws' worth of points);
        ``uncertain_inputs`` (names drawn).

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> r = scenario_ranges(load_scenario("csis-2025-smic-target"), draws=1024)
    >>> r["per_month_as_published"], r["months"]
    (300000.0, 1)
    >>> r["per_month"]["p5"] < 300_000 < r["per_month"]["p95"]
    True
    """
    import numpy as np

    from waferlab.analysis import scenario_model
    from waferlab.timeline import period_labels
    from waferlab.uncertainty import run_uncertainty

    inputs = scenario.funnel_inputs()
    months, start = inputs.months, inputs.start_month
    costs = scenario.cost_inputs() if with_cost else None
    wanted = ["final_units"]
    if costs is not None:
        wanted.append("cost_per_tested_unit_usd")
    f = scenario_model(scenario, outputs=wanted)
    with_binding = scenario_model(
        scenario, outputs=[*wanted, "binding_constraint", "final_units_from_die_bank"]
    )
    point = with_binding({})
    distributions = scenario.input_distributions()
    binding: Any = np.asarray(point["binding_constraint"])
    if distributions:
        common: dict[str, Any] = {
            "seed": seed,
            "method": BOTTOM_LINE_METHOD,
            "correlations": scenario.input_correlations(),
        }
        outs: Mapping[str, Any] = run_uncertainty(f, distributions, draws, **common).outputs
        # Which constraint binds, as a share of draws to the whole percent: fewer draws do.
        binding = run_uncertainty(
            scenario_model(scenario, outputs=["binding_constraint"]),
            distributions,
            min(draws, BINDING_DRAWS),
            **common,
        ).outputs["binding_constraint"]
    else:
        outs = point
    units = np.asarray(outs["final_units"], dtype=float)
    units_point = np.asarray(point["final_units"], dtype=float)[0]
    cumulative = np.cumsum(units, axis=1)
    month_labels, _ = period_labels("month", months, start)

    years: dict[str, Any] = {}
    if start is not None:
        labels, index = period_labels("year", months, start)
        starts = np.searchsorted(index, np.arange(len(labels)))
        sums = np.add.reduceat(units, starts, axis=1)
        sums_point = np.add.reduceat(units_point, starts)
        counts = np.bincount(index, minlength=len(labels))
        for j, label in enumerate(labels):
            years[label] = {
                **_quantiles(sums[:, j]),
                "months_in_horizon": int(counts[j]),
                "as_published": float(sums_point[j]),
            }

    reached = cumulative >= milestone_units
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), months)
    first_q = np.quantile(first, _PROBS, method="inverted_cdf")
    point_reached = np.cumsum(units_point) >= milestone_units
    milestone = {
        "units": float(milestone_units),
        **{k: (None if v >= months else int(v)) for k, v in zip(_Q, first_q, strict=True)},
        "share_of_draws_reaching": float(reached[:, -1].mean()),
        "as_published": int(point_reached.argmax()) if point_reached.any() else None,
    }

    binding_point = [str(b) for b in np.asarray(point["binding_constraint"])[0]]
    cost = None
    if costs is not None:
        # A draw that finishes no unit has no cost per unit (the engine gives inf): the
        # range is over the draws that finish units, and None when none does.
        per_unit = np.asarray(outs["cost_per_tested_unit_usd"], dtype=float)
        finite = np.isfinite(per_unit)
        cost_point = float(np.asarray(point["cost_per_tested_unit_usd"])[0])
        if finite.any():
            cost = {
                **_quantiles(per_unit[finite]),
                "as_published": cost_point if np.isfinite(cost_point) else None,
                "share_of_draws_with_units": float(finite.mean()),
            }
    from_bank = float(np.asarray(point["final_units_from_die_bank"], dtype=float).sum())
    opening = 0.0 if inputs.hbm_stock_stacks is None else inputs.hbm_stock_stacks
    hbm_stock = inputs.hbm_constrained and bool(np.any(np.asarray(opening) > 0))
    supply = (
        0.0 if inputs.hbm_supply_stacks_per_month is None else inputs.hbm_supply_stacks_per_month
    )
    supply_total = float(np.sum(np.broadcast_to(np.asarray(supply, dtype=float), (months,))))
    opening_total = float(np.max(opening))
    stock = {
        "die_bank": bool(np.any(np.asarray(inputs.die_bank_dies) > 0)),
        "hbm_stock": hbm_stock,
        # the share of the HBM available over the horizon that is the opening stock
        "hbm_stock_share": opening_total / (opening_total + supply_total) if hbm_stock else None,
        "packaging_capacity": inputs.packaging_capacity_per_month is not None,
        "final_units_from_die_bank_as_published": from_bank,
        # units come from a one-off stock: the die bank's dies, or an HBM stock that binds
        "driven": from_bank > 0 or (hbm_stock and "hbm" in binding_point),
    }
    return {
        "scenario": scenario.name,
        "months": months,
        "start_month": start,
        "month_labels": month_labels,
        "draws": int(units.shape[0]),
        "method": BOTTOM_LINE_METHOD if distributions else "none (no [distributions])",
        "seed": seed,
        "uncertain_inputs": list(distributions),
        "die_bank": stock["die_bank"],
        "stock": stock,
        "finishes_no_unit": not (np.any(units > 0) or np.any(units_point > 0)),
        "first_month_as_published": float(units_point[0]),
        "per_month": _quantiles(units.sum(axis=1) / months),
        "per_month_as_published": float(units_point.sum() / months),
        "horizon": {**_quantiles(units.sum(axis=1)), "as_published": float(units_point.sum())},
        "years": years,
        "milestone": milestone,
        "cost_per_tested_unit_usd": cost,
        "binding": {
            "as_published": binding_point,
            "hbm_share_of_draws": (binding == "hbm").mean(axis=0).tolist(),
        },
    }


def top_inputs(scenario: Scenario, k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` inputs that move the scenario's finished units most (tornado, p5 to p95).

    Inputs that do not move the units at all (prices) are left out, so fewer
    than ``k`` may come back.

    Each input of the scenario's ``[distributions]`` is set to its p5 and its
    p95 with the others at their medians (:func:`waferlab.uncertainty.tornado`);
    inputs are ranked by the swing of the finished units over the horizon.

    Returns
    -------
    list of dict
        ``input``, ``input_p5``, ``input_p95``, ``units_at_p5``, ``units_at_p95``,
        ``swing`` (absolute), and ``baseline`` (all inputs at their medians).

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> [row["input"] for row in top_inputs(load_scenario("csis-2025-smic-target"))]
    ['wafer_starts_per_month', 'die_yield', 'packaging_yield']
    """
    import numpy as np

    from waferlab.analysis import scenario_model
    from waferlab.uncertainty import tornado

    distributions = scenario.input_distributions()
    if not distributions:
        return []
    f = scenario_model(scenario, outputs=["final_units"])
    t = tornado(f, distributions, output="final_units", reduce=lambda y: np.asarray(y).sum(axis=1))
    rows = []
    for i, name in enumerate(t.names[:k]):
        low, high = float(t.output_low[i]), float(t.output_high[i])
        if low == high:  # ranked last: this input and the rest do not move the units
            break
        rows.append(
            {
                "input": name,
                "input_p5": t.input_low[i],
                "input_p95": t.input_high[i],
                "units_at_p5": low,
                "units_at_p95": high,
                "swing": abs(high - low),
                "baseline": t.baseline,
            }
        )
    return rows


def _sig(x: float, digits: int = 3) -> str:
    """A count to ``digits`` significant figures: 307,000 or 3.69 M."""
    v = float(f"{x:.{digits}g}")
    if abs(v) >= 1e6:
        return f"{float(f'{v / 1e6:.{digits}g}'):g} M"
    return f"{v:,.0f}"


def _sig_range(q: Mapping[str, Any], money: bool = False) -> str:
    """``**median** (p5–p95), point x``: the point value (no draws) beside every median."""
    sign = "$" if money else ""
    text = f"**{sign}{_sig(q['p50'])}** ({sign}{_sig(q['p5'])}–{sign}{_sig(q['p95'])})"
    if q.get("as_published") is not None:
        text += f", point {sign}{_sig(q['as_published'])}"
    return text


def _month_text(label: str) -> str:
    import calendar

    if len(label) == 7 and label[4] == "-":
        return f"{calendar.month_abbr[int(label[5:])]} {label[:4]}"
    return label


def _milestone_text(r: Mapping[str, Any]) -> str:
    """When the milestone is reached: median (p5 – p95), point month (no draws)."""
    m, labels = r["milestone"], r["month_labels"]
    end = _month_text(labels[-1])
    point = m["as_published"]
    point_text = f"point {'not by ' + end if point is None else _month_text(labels[point])}"
    if m["p50"] is None:
        share = m["share_of_draws_reaching"]
        return f"not by {end} ({_pct(share, 0)} of draws reach it), {point_text}"
    text = _month_text(labels[m["p50"]])
    early = _month_text(labels[m["p5"]])
    late = f"not by {end}" if m["p95"] is None else _month_text(labels[m["p95"]])
    spread = text if early == late == text else f"{text} ({early} – {late})"
    return f"{spread}, {point_text}"


def _path_binding(r: Mapping[str, Any]) -> str:
    published = r["binding"]["as_published"]
    labels = r["month_labels"]
    hbm = [i for i, b in enumerate(published) if b == "hbm"]
    shares = r["binding"]["hbm_share_of_draws"]
    if hbm:
        return (
            f"HBM binds from {_month_text(labels[hbm[0]])} at the point values"
            f" ({_pct(shares[-1], 0)} of draws in {_month_text(labels[-1])})"
        )
    if max(shares) > 0:
        first = next(i for i, s in enumerate(shares) if s > 0)
        return (
            f"{binding_text('dies')} at the point values; HBM in up to "
            f"{_pct(max(shares), 0)} of draws"
            f" from {_month_text(labels[first])}"
        )
    if all(b == "none" for b in published):
        return binding_text("none")
    return binding_text("dies")


def _months_note(year: Mapping[str, Any]) -> str:
    n = year["months_in_horizon"]
    return "" if n == 12 else f" ({n} months)"


# --------------------------------------------------------------------------- published figures


def published_year_figures(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario's published calendar-year counts of finished units.

    ``[published]`` entries named ``<what>_units_<YYYY>`` (e.g.
    ``ascend_units_2025``), with the publisher (the ``source`` entry up to its
    first comma).

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> [(f["year"], f["published"], f["by"])
    ...  for f in published_year_figures(load_scenario("semianalysis-2025-hbm-bound"))]
    [('2025', 805000.0, 'SemiAnalysis')]
    """
    by = str(scenario.published.get("source", "")).split(",")[0].strip() or "published"
    out = []
    for key, value in scenario.published.items():
        stem, _, year = key.rpartition("_")
        if key == "source" or not (year.isdigit() and len(year) == 4):
            continue
        if not stem.endswith("units") or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            out.append({"figure": key, "year": year, "published": float(value), "by": by})
    return out


def packaging_line_for(
    scenario: Scenario, figure: Mapping[str, Any], *, milestone_units: float = MILESTONE_UNITS
) -> dict[str, Any] | None:
    """The packaging line that makes the engine reproduce a published calendar-year count.

    For a scenario without a packaging capacity, the packages a month that
    turn into the published finished units of ``figure``'s year (published /
    (packaging yield × test yield) / months of that year in the horizon,
    rounded up to a whole package), and what the month-by-month engine then
    gives: the year's finished units and the month the cumulative count
    reaches ``milestone_units``. None when the scenario already has a
    packaging capacity, has no calendar, its horizon misses the year, or its
    packaging or test yield changes over time.

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> sc = load_scenario("semianalysis-2025-hbm-bound")
    >>> line = packaging_line_for(sc, published_year_figures(sc)[0])
    >>> line["packages_per_month"], line["final_units_in_year"]
    (89445, 805005.0)
    """
    import math

    import numpy as np

    from waferlab.funnel import run_timeline
    from waferlab.timeline import period_labels

    inputs = scenario.funnel_inputs()
    if inputs.start_month is None or inputs.packaging_capacity_per_month is not None:
        return None
    labels, index = period_labels("year", inputs.months, inputs.start_month)
    if figure["year"] not in labels:
        return None
    in_year = index == labels.index(figure["year"])
    survive = np.asarray(inputs.packaging_yield, dtype=float) * np.asarray(
        inputs.test_yield, dtype=float
    )
    if survive.size != 1 or not float(survive) > 0:
        return None
    capacity = math.ceil(figure["published"] / float(survive) / int(in_year.sum()))
    monthly = run_timeline(
        inputs.replace(packaging_capacity_per_month=float(capacity)), outputs=["final_units"]
    ).final_units[0]
    reached = np.flatnonzero(np.cumsum(monthly) >= milestone_units)
    month_labels, _ = period_labels("month", inputs.months, inputs.start_month)
    return {
        "packages_per_month": capacity,
        "packaging_and_test_yield": float(survive),
        "months_in_year": int(in_year.sum()),
        "year": figure["year"],
        "final_units_in_year": float(monthly[in_year].sum()),
        "milestone": month_labels[reached[0]] if reached.size else None,
    }


def stock_at_once(
    scenario: Scenario, first_month: str, first_units: float, total: float, total_span: str
) -> dict[str, str]:
    """Why a stock scenario without packaging capacity front-loads, and its published figure.

    ``text`` for the report (one or two sentences) and ``summary``, a short
    form for the terminal. ``first_units`` finish in ``first_month`` out of
    ``total`` over ``total_span`` (e.g. "in 2025"), all at the point values.

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> said = stock_at_once(load_scenario("semianalysis-2025-hbm-bound"), "Jan 2025",
    ...                      1_234_375, 1_406_250, "in 2025")
    >>> said["summary"].split("; ")[1]
    "SemiAnalysis's 805,000 in 2025 needs 89,445 packages a month"
    """
    text = (
        "no packaging capacity is set, so the engine packages the one-off stock as soon as dies"
        f" and HBM allow: {_n(first_units)} of the {_n(total)} finished units {total_span} come"
        f" in {_month_text(first_month)} (point values): the fastest possible assembly, not a"
        " forecast"
    )
    summary = "no packaging capacity: the stock is packaged at once"
    for figure in published_year_figures(scenario):
        line = packaging_line_for(scenario, figure)
        if line is None:
            continue
        text += (
            f". {figure['by']}'s own figure for {figure['year']} is"
            f" **{_n(figure['published'])}**; the gap is the packaging pace: a line of"
            f" {_n(line['packages_per_month'])} packages a month ({_n(figure['published'])}"
            f" / {_pct(line['packaging_and_test_yield'], 0)} surviving packaging and test"
            f" / {line['months_in_year']} months) gives {_n(line['final_units_in_year'])}"
            f" in {figure['year']} in the same engine"
        )
        summary += (
            f"; {figure['by']}'s {_n(figure['published'])} in {figure['year']} needs"
            f" {_n(line['packages_per_month'])} packages a month"
        )
        if line["milestone"] is not None:
            text += f" and reaches 1 M in {_month_text(line['milestone'])}"
            summary += f", 1 M by {_month_text(line['milestone'])}"
        break
    return {"text": text, "summary": summary}


# --------------------------------------------------------------------------- point vs range


def _point_value(scenario: Scenario, key: str) -> float | None:
    """The preset's own value of a drawn input (``name`` or ``name.timeline_key``)."""
    base, _, sub = key.partition(".")
    value: Any
    if sub:
        entry = scenario.timeline.get(base)
        value = entry.get(sub) if isinstance(entry, Mapping) else None
    else:
        value = scenario.parameters.get(key)
        if value is None:
            value = getattr(scenario.funnel_inputs(), key, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def drawn_input_shifts(scenario: Scenario) -> list[dict[str, Any]]:
    """Drawn inputs that move the units and whose draws do not centre on the preset's value.

    For each input of ``[distributions]`` that is not a price: the preset's
    own value (``point``), the draws' median and range (``low``, ``high``: the
    support, or p5–p95 for an unbounded one) and whether the median is
    ``above`` the point. Inputs whose median equals the point are left out.

    Examples
    --------
    >>> from waferlab.scenarios import load_scenario
    >>> [(s["input"], s["point"], s["median"], s["above"])
    ...  for s in drawn_input_shifts(load_scenario("csis-2025-ramp"))]
    [('die_yield', 0.2, 0.3, True), ('wafer_starts_per_month.2025-12', 50000.0, 47500.0, False)]
    """
    import dataclasses
    import math

    from waferlab.economics import CostInputs

    prices = {f.name for f in dataclasses.fields(CostInputs)}
    out = []
    for key, d in scenario.input_distributions().items():
        if key.partition(".")[0] in prices:
            continue
        point = _point_value(scenario, key)
        if point is None:
            continue
        median = float(d.ppf(0.5))
        low, high = float(d.ppf(0.0)), float(d.ppf(1.0))
        if not (math.isfinite(low) and math.isfinite(high)):
            low, high = float(d.ppf(0.05)), float(d.ppf(0.95))
        if math.isclose(median, point, rel_tol=1e-9, abs_tol=1e-12):
            continue
        out.append(
            {
                "input": key,
                "point": point,
                "median": median,
                "low": low,
                "high": high,
                "above": median > point,
            }
        )
    return out


def _input_value_text(name: str, value: float) -> str:
    base = name.partition(".")[0]
    if base.endswith(("_yield", "_share", "_fraction")):
        return _pct(value, 0 if round(100 * value, 6).is_integer() else 1)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _input_label(name: str) -> str:
    """A drawn input by name: `die_yield`, `wafer_starts_per_month` in Dec 2025."""
    base, _, sub = name.partition(".")
    return f"`{base}` in {_month_text(sub)}" if _month_text(sub) != sub else f"`{name}`"


def _shift_text(shift: Mapping[str, Any]) -> str:
    name = shift["input"]
    label = _input_label(name)

    def value(x: float) -> str:
        return _input_value_text(name, x)

    point = shift["point"]
    text = (
        f"{label} is drawn from {value(shift['low'])}–{value(shift['high'])}"
        f" (median {value(shift['median'])}), {'above' if shift['above'] else 'below'}"
        f" the preset's {value(point)}"
    )
    if point <= shift["low"] or point >= shift["high"]:
        text += f", the range's {'low' if point <= shift['low'] else 'high'} end"
    return text


def _outside_range(r: Mapping[str, Any]) -> list[str]:
    """The figures whose point value lies outside the draws' p5–p95, in words."""
    out = []
    figures = list(r["years"].items()) or [("over the horizon", r["horizon"])]
    for label, q in figures:
        point = q["as_published"]
        where = f"in {label}" if label in r["years"] else label
        if point < q["p5"]:
            out.append(f"{_sig(point)} {where}, below the p5")
        elif point > q["p95"]:
            out.append(f"{_sig(point)} {where}, above the p95")
    m, months = r["milestone"], r["months"]

    def index(v: int | None) -> int:
        return months if v is None else v

    point = index(m["as_published"])
    if point < index(m["p5"]) or point > index(m["p95"]):
        labels = r["month_labels"]
        when = "not reached" if point >= months else f"by {_month_text(labels[point])}"
        side = "earlier than the p5" if point < index(m["p5"]) else "later than the p95"
        out.append(f"1 M {when}, {side}")
    return out


def _outside_range_text(scenario: Scenario, r: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why the point value lies outside the range, where it does: for the report and short."""
    outside = _outside_range(r)
    if not outside:
        return None
    shifts = drawn_input_shifts(scenario)
    reason = (
        "the draws do not centre on the preset's values: "
        + "; ".join(_shift_text(s) for s in shifts)
        if shifts
        else "the output is not linear in the drawn inputs"
    )
    short = f"the point value ({'; '.join(outside)}) lies outside the range: " + (
        ", ".join(
            f"{_input_label(s['input'])} drawn {'above' if s['above'] else 'below'} the"
            f" preset's {_input_value_text(s['input'], s['point'])}"
            for s in shifts
        ).replace("`", "")
        if shifts
        else "the output is not linear in the drawn inputs"
    )
    return f"the point value ({'; '.join(outside)}) lies outside the range because {reason}", short


def _caveat_ft(scenario: Scenario, inputs: _Inputs | None) -> tuple[str, str] | None:
    """The FT yield path: CSIS's target wafer starts throughout, and a 40 % with degraded dies.

    Returns the caveat for the report and a short form for the terminal.
    """
    import numpy as np

    from waferlab.calibration import load_dataset
    from waferlab.scenarios import load_scenario

    given = scenario.funnel_inputs()
    starts = np.unique(np.asarray(given.wafer_starts_per_month, dtype=float))
    if starts.size != 1 or given.start_month is None:
        return None
    observations = inputs.observations if inputs else load_dataset(_DATASET)
    scenarios = inputs.scenarios if inputs else {}

    def wpm(name: str) -> float:
        sc = scenarios.get(name) or load_scenario(name)
        return float(np.max(sc.funnel_inputs().wafer_starts_per_month))

    target, current = wpm("csis-2025-smic-target"), wpm("csis-2025-smic-current")
    ft = next(o for o in observations if o.counts == "good-or-degraded")
    held = (
        f"holds {_n(float(starts[0]))} wafer starts a month from {_month_text(given.start_month)}"
    )
    if float(starts[0]) == target:
        held += f", CSIS's end-2025 target (CSIS puts SMIC at {_n(current)} in early 2025)"
    return (
        f"{held}, and its yield path runs through the FT's {ft.yield_text}, which likely counts"
        " degraded dies too (section 2): an upper bound, not a forecast",
        f"{_n(float(starts[0]))} wafer starts a month from {_month_text(given.start_month)}"
        f" and the FT's {ft.yield_text}, which likely counts degraded dies: an upper bound",
    )


#: Caveats a path preset carries wherever the report shows it, by preset name.
_CAVEATS = {"ft-2025-yield-learning": _caveat_ft}


def _notes(
    scenario: Scenario, r: Mapping[str, Any], inputs: _Inputs | None
) -> tuple[list[str], list[str]]:
    """What a reader must know beside a preset's figures (caveats, stocks, point vs range).

    Returns the notes and short forms of the caveats and stock notes for the terminal.
    """
    notes: list[str] = []
    shorts: list[str] = []
    caveat = _CAVEATS.get(scenario.name)
    texts = caveat(scenario, inputs) if caveat else None
    if texts:
        notes.append(texts[0])
        shorts.append(texts[1])
    if r["stock"]["driven"] and not r["stock"]["packaging_capacity"] and r["months"] > 1:
        if r["years"]:
            year, q = next(iter(r["years"].items()))
            total, span = q["as_published"], f"in {year}"
        else:
            total, span = r["horizon"]["as_published"], "over the horizon"
        at_once = stock_at_once(
            scenario, r["month_labels"][0], r["first_month_as_published"], total, span
        )
        notes.append(at_once["text"])
        shorts.append(at_once["summary"])
    outside = _outside_range_text(scenario, r)
    if outside:
        notes.append(outside[0])
        shorts.append(outside[1])
    return notes, shorts


# --------------------------------------------------------------------------- 0. bottom line


def _stock_share_text(r: Mapping[str, Any]) -> str:
    stock = r["stock"]
    total = r["horizon"]["as_published"]
    from_bank = stock["final_units_from_die_bank_as_published"]
    parts = []
    if from_bank > 0 and total > 0:
        share = from_bank / total
        amount = "all" if share >= 1 - 1e-9 else _n(from_bank)
        parts.append(f"{amount} ({_pct(share, 0)}) from the one-off die bank")
    if stock["hbm_stock"] and "hbm" in r["binding"]["as_published"]:
        parts.append(
            f"HBM binds, {_pct(stock['hbm_stock_share'], 0)} of it a one-off stock"
            " (the rest a flow)"
        )
    return "; ".join(parts) + " (point values)" if parts else ""


def _headline(scenario: Scenario, main: Mapping[str, Any]) -> tuple[str, str]:
    """The bottom line's first bullet and the summary's first figure line."""
    months = main["months"]
    span = f"{months} month{'s' if months > 1 else ''}"
    drawn = len(main["uncertain_inputs"])
    uncertain = f"{drawn} inputs drawn" if drawn else "no input drawn: no [distributions]"
    name = f"`{scenario.name}` ({uncertain})"
    if main["finishes_no_unit"]:
        return (
            f"- **Finished 910C** under {name}: **none** in any draw: every unit is lost in the"
            f" funnel (`waferlab funnel {scenario.name}` shows where), so there is no cost per"
            " finished 910C and no input that matters most.",
            "  finished 910C: none (the scenario finishes no unit: no cost, no sensitivity)",
        )
    start = main["month_labels"][0]
    years = main["years"]
    per_year = "; ".join(f"{label}{_months_note(y)}: {_sig_range(y)}" for label, y in years.items())
    horizon = main["horizon"]
    q = main["per_month"]
    point = f", point {_sig(main['per_month_as_published'])}"
    summary_range = (
        f"{_sig(q['p50'])} ({_sig(q['p5'])}-{_sig(q['p95'])}){point.replace(',', ';', 1)}"
    )
    if main["stock"]["driven"]:
        over = f"over its horizon of {span}" + (f" from {_month_text(start)}" if years else "")
        share = _stock_share_text(main)
        line = (
            f"- **Finished 910C, a one-off total from a stock** under {name}:"
            f" {_sig_range(horizon)}, in total {over}"
            + (f"; {share}" if share else "")
            + ". A stock is used once: this is not a monthly or a yearly rate"
        )
        if len(years) > 1:
            line += f"; per calendar year, {per_year}"
        h = horizon
        summary = (
            f"  finished 910C, one-off total over {span} (from a stock, not a rate):"
            f" {_sig(h['p50'])} ({_sig(h['p5'])}-{_sig(h['p95'])}); point {_sig(h['as_published'])}"
            + (f", {share}" if share else "")
        )
        return line + ".", summary
    if months == 1:
        year_text = (
            "that rate for 12 months: "
            + _sig_range({k: 12 * q[k] for k in _Q})
            + f" per year (point {_sig(12 * main['per_month_as_published'])})"
        )
        average = ""
    else:
        year_text = "per calendar year, " + (per_year or f"over its {span}: {_sig_range(horizon)}")
        average = f" on average over its {months} months from {_month_text(start)}"
    line = (
        f"- **Finished 910C per month** under {name}:"
        f" {_sig_range({**q, 'as_published': None})} per month{average}{point}; {year_text}."
    )
    return line, f"  finished 910C per month: {summary_range}"


def _cost_texts(scenario: Scenario, main: Mapping[str, Any]) -> tuple[str, str]:
    """The bottom line's cost bullet and the summary's cost line."""
    cost = main["cost_per_tested_unit_usd"]
    if main["finishes_no_unit"]:
        return (
            f"none: `{scenario.name}` finishes no 910C",
            "  cost per finished 910C: none (no unit finished)",
        )
    if scenario.cost_inputs() is None:
        return (
            "none: this scenario has no cost inputs (no `[costs]` table); section 4 costs"
            f" `{_COST_SCENARIO}`, the report's own inputs, instead",
            f"  cost per finished 910C: none ({scenario.name} has no costs;"
            f" section 4 costs {_COST_SCENARIO} instead)",
        )
    if cost is None:
        return (
            "none: no draw finishes a unit",
            "  cost per finished 910C: none (no draw finishes a unit)",
        )
    text = f"{_sig_range(cost, money=True)} (CSIS publishes no cost)"
    share = cost.get("share_of_draws_with_units", 1.0)
    if share < 1:
        text += f"; over the {_pct(share, 0)} of draws that finish a unit"
    given = scenario.cost_inputs()
    if main["stock"]["die_bank"] and given is not None and given.die_bank_cost_usd_per_die is None:
        text += "; the die bank's dies are not priced by the scenario and count as $0"
    point = "" if cost["as_published"] is None else f"; point ${_sig(cost['as_published'])}"
    return (
        text,
        f"  cost per finished 910C: ${_sig(cost['p50'])} (${_sig(cost['p5'])}-"
        f"${_sig(cost['p95'])}){point}",
    )


def _bottom_line(
    scenario: Scenario,
    paths: Mapping[str, Mapping[str, Any]],
    inputs: _Inputs | None = None,
) -> tuple[str, list[str], dict[str, Any]]:
    from waferlab.scenarios import load_scenario

    main = scenario_ranges(scenario)
    top = [] if main["finishes_no_unit"] else top_inputs(scenario)
    headline, summary_headline = _headline(scenario, main)

    known = inputs.path_scenarios if inputs else {}
    path_scenarios = {
        name: scenario if name == scenario.name else (known.get(name) or load_scenario(name))
        for name in paths
    }
    years = sorted({y for r in paths.values() for y in r["years"]})
    rows = []
    notes: dict[str, list[str]] = {}
    shorts: dict[str, list[str]] = {}
    for name, r in paths.items():
        sc = path_scenarios[name]
        published = {f["year"]: f for f in published_year_figures(sc)}
        cells = []
        for y in years:
            if y not in r["years"]:
                cells.append("—")
                continue
            q = r["years"][y]
            cell = (
                f"{_sig(q['p50'])} ({_sig(q['p5'])}–{_sig(q['p95'])}),"
                f" point {_sig(q['as_published'])}{_months_note(q)}"
            )
            if y in published:
                cell += f"; {published[y]['by']}: {_n(published[y]['published'])}"
            cells.append(cell)
        stock = " (incl. a one-off die bank)" if r["die_bank"] else ""
        when = _milestone_text(r)
        if r["stock"]["driven"] and not r["stock"]["packaging_capacity"]:
            when += " (stock packaged at once: see below)"
        rows.append([f"`{name}`{stock}", *cells, when])
        notes[name], shorts[name] = _notes(sc, r, inputs)
    if scenario.name not in notes:
        notes[scenario.name], _ = _notes(scenario, main, inputs)
    path_table = _md_table(
        rows, ["preset (finished 910C per calendar year)", *years, "1 M to date by"]
    )
    note_lines = "\n".join(
        f"- `{name}`: " + "; ".join(texts) + "." for name, texts in notes.items() if texts
    )
    cost_text, cost_summary = _cost_texts(scenario, main)
    if main["finishes_no_unit"]:
        top_text = "none: nothing finishes, so no input moves the units"
    else:
        top_text = (
            "; ".join(
                f"{row['input']} ({_sig(row['units_at_p5'])} → {_sig(row['units_at_p95'])})"
                for row in top
            )
            or "none drawn (the scenario has no [distributions])"
        )
    by_text: dict[str, list[str]] = {}
    for name, r in paths.items():
        by_text.setdefault(_path_binding(r), []).append(f"`{name}`")
    bind_text = "; ".join(f"{', '.join(names)}: {text}" for text, names in by_text.items())
    # One line per paragraph, bullet and table row: the answers fit the first screen.
    blocks = [
        "## Bottom line",
        "Central figure = median; brackets = p5–p95 over the published input ranges in each"
        f" preset's `[distributions]` ({main['draws']:,} scrambled Sobol' draws; 3 significant"
        " figures); point = the preset's own values, no draws.",
        headline
        + (
            "\n- **Path, 2025–2027**: finished 910C per calendar year under the time-aware"
            " presets, and the month the cumulative count reaches 1 M, counted from each"
            " preset's first month:"
            if paths
            else ""
        ),
        path_table if paths else "",
        note_lines,
        f"- **Cost per finished 910C** (`{scenario.name}`): {cost_text}.\n"
        "- **Inputs that matter most** (finished units with each at its p5 → p95, others at"
        f" medians): {top_text}." + (f"\n- **What binds**: {bind_text}." if bind_text else ""),
        "Sections 1–4 show how each number is built; method details and sources are at the end.",
    ]
    md = "\n\n".join(b for b in blocks if b) + "\n"
    summary = [
        f"Bottom line ({scenario.name}; median, p5-p95 over the published input ranges;"
        " point = the preset's own values)",
        summary_headline,
        cost_summary,
    ]
    if main["finishes_no_unit"]:
        summary.append("  inputs that matter most: none (nothing finishes)")
    else:
        summary.append(
            "  inputs that matter most: " + (", ".join(row["input"] for row in top) or "none drawn")
        )
    for name, r in paths.items():
        summary.append(f"  {name}: 1 M to date by {_milestone_text(r)}")
        summary += [f"    {short}" for short in shorts.get(name, [])]
    data = {
        "scenario": main,
        "top_inputs": top,
        "paths": dict(paths),
        "notes": {name: texts for name, texts in notes.items() if texts},
    }
    return md, summary, data


# --------------------------------------------------------------------------- 1. dies


def _dies_section(
    inputs: _Inputs, figures: dict[str, bytes]
) -> tuple[str, list[str], dict[str, Any]]:
    from waferlab.geometry import (
        Die,
        Wafer,
        classic_dies_per_wafer,
        expected_dies_per_wafer,
        place_dies,
    )
    from waferlab.plotting import plot_wafer_map

    published = inputs.die
    width_mm = published["die_width_mm"]
    height_mm = published["die_height_mm"]
    area_mm2 = published["die_area_mm2"]
    bare = Wafer(300.0, edge_exclusion_mm=0.0)
    real = Wafer(300.0, edge_exclusion_mm=3.0)
    formula_r = float(classic_dies_per_wafer(300.0, area_mm2))
    mean_bare = expected_dies_per_wafer(bare, Die(width_mm, height_mm, scribe_x_mm=0.0))

    cases = []
    for label, wafer, scribe in (
        ("no edge exclusion, no scribe", bare, 0.0),
        ("3 mm edge exclusion, 0.1 mm scribe", real, 0.1),
    ):
        die = Die(width_mm, height_mm, scribe_x_mm=scribe)
        row: dict[str, Any] = {"assumptions": label}
        row["formula"] = float(
            classic_dies_per_wafer(wafer.usable_radius_mm * 2, die.pitch_x_mm * die.pitch_y_mm)
        )
        for mode in ("die-centered", "street-centered", "optimal"):
            row[mode] = place_dies(wafer, die, offset=mode).gross_dies
        rotated = Die(height_mm, width_mm, scribe_x_mm=scribe)
        row["optimal, rotated"] = place_dies(wafer, rotated, offset="optimal").gross_dies
        cases.append(row)

    best = place_dies(real, Die(width_mm, height_mm, scribe_x_mm=0.1), offset="optimal")
    if inputs.render:
        ax = plot_wafer_map(best)
        ax.set_title(
            f"Ascend 910B ({width_mm:g} × {height_mm:g} mm) on a 300 mm wafer, 3 mm edge exclusion"
        )
        figures["wafer_map_910b.png"] = _png(ax)

    table = _md_table(
        [
            [
                c["assumptions"],
                f"{c['formula']:.1f}",
                c["die-centered"],
                c["street-centered"],
                c["optimal"],
                c["optimal, rotated"],
            ]
            for c in cases
        ],
        [
            "assumptions",
            "classic formula",
            "die-centred",
            "street-centred",
            "optimal",
            "optimal, rotated",
        ],
    )
    centred, streets, best_count = (
        cases[1]["die-centered"],
        cases[1]["street-centered"],
        cases[1]["optimal"],
    )
    # R's "roughly 80" (the CSIS chain's dies per wafer): which conventions give it.
    r_dies = round(float(inputs.scenarios[_COST_SCENARIO].parameters["gross_dies_per_wafer"]))
    formula_text = (
        f"the classic formula ({formula_r:.1f}, whole wafer, no edge exclusion or scribe)"
    )
    grid_text = f"an exact street-centred grid with a 3 mm edge exclusion ({streets})"
    if round(formula_r) == r_dies and streets == r_dies:
        origin = (
            f"Two conventions give R's {r_dies}: {formula_text} and {grid_text}; R does not say"
            " which it used."
        )
        origin_short = "fits two conventions (above) and R does not say which"
    else:
        origin = f"R's {r_dies} is closest to {formula_text}; R does not state its convention."
        origin_short = "is closest to the classic formula, and R does not state its convention"
    md = f"""## 1. Dies per wafer

The report: "each 300-millimeter diameter silicon wafer produces roughly 80 chip dies" for the
{area_mm2:g} mm² Ascend 910B die, "simply counting the number of small rectangles (chip
dies) that can fit inside the large circle". The classic formula π·d²/(4S) − π·d/√(2S) with
d = 300 mm, S = {area_mm2:g} mm², no edge exclusion and no scribe gives **{formula_r:.1f}**.
Morgan Stanley (Sep 2025) uses 78.

An exact placement of the real die ({width_mm:g} × {height_mm:g} mm, die-shot measurement)
counts whole rectangles inside the usable circle:

{table}

The formula knows only the die area and approximates the loss at the wafer edge; the exact
count depends on the die's shape and on where the grid sits. Averaged over all grid positions
the real die fits {mean_bare:.1f} with no edge exclusion. With a 3 mm edge exclusion and
0.1 mm streets, a die-centred grid fits **{centred}** dies of the real 910B, a street-centred
grid {streets}, and the best grid position **{best_count}** (certified optimal: no grid shift
fits more). {origin} The funnels below use the report's {r_dies} where they reproduce its
arithmetic and show the exact count beside it.

![Wafer map](wafer_map_910b.png)

**What it means.** The die count is a convention, and the figures that meet here use three:
R's {r_dies} {origin_short}; Morgan
Stanley's 78 is published without its convention; waferlab's {best_count} is an exact
placement with a 3 mm edge exclusion and 0.1 mm streets at the best grid offset, an upper
bound (a fab's grid need not sit there; a street-centred grid gives {streets}). Every count
downstream scales with it: {best_count} instead of 80 adds {_pct(best_count / 80 - 1, 0)},
instead of 78 {_pct(best_count / 78 - 1, 0)}.
"""
    summary = [
        f"Dies per wafer (Ascend 910B, {area_mm2:g} mm², 300 mm wafer)",
        f"  classic formula, no edge exclusion, no scribe : {formula_r:.1f}   (the report's ~80)",
        f"  exact, 3 mm edge exclusion, 0.1 mm scribe     : {best_count} at the best grid offset"
        f" ({centred} die-centred, {streets} street-centred)",
    ]
    data = {
        "formula_dies_report_assumptions": formula_r,
        "mean_over_grid_shifts_no_edge_exclusion": mean_bare,
        "exact_placement": cases,
    }
    return md, summary, data


# --------------------------------------------------------------------------- 2. yield


def harvest_range(
    ranges: Sequence[Any],
    *,
    die_area_mm2: float,
    fully_good_yield: float,
    good_or_degraded_yield: float,
    n_blocks: int | None = None,
    max_bad_blocks: int | None = None,
) -> list[dict[str, Any]]:
    """The harvestable fraction a good-or-degraded yield implies, over a feasible set.

    For each model of ``ranges`` (:func:`waferlab.calibration.feasible_ranges`)
    that has harvest bins, the fraction is solved
    (:func:`waferlab.harvest.harvestable_fraction_for`) at both ends of the
    parameter's range. The fraction is continuous and monotone in the parameter,
    so between two reachable ends it spans the values at the ends; where one end
    cannot reach the yield (it would need more than the whole die), the reachable
    part of the range runs up to a fraction of exactly 1.

    Returns
    -------
    list of dict
        Per model: ``model``, ``parameter``, ``parameter_range`` (the feasible
        range), ``at_ends`` (the fraction at each end, None where unreachable)
        and ``fraction_range`` ((low, high), or None when neither end reaches it).

    Examples
    --------
    >>> from waferlab.calibration import feasible_ranges, load_dataset, select
    >>> smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    >>> rows = harvest_range(feasible_ranges(smic, tolerance=0.0), die_area_mm2=665.61,
    ...                      fully_good_yield=0.2, good_or_degraded_yield=0.4)
    >>> [(r["model"], r["fraction_range"] and [round(f, 2) for f in r["fraction_range"]])
    ...  for r in rows]
    [('poisson', [0.67, 0.92]), ('seeds', None), ('negative_binomial', [0.89, 1.0])]
    """
    from waferlab.errors import CalibrationError
    from waferlab.harvest import HARVEST_MODELS, harvestable_fraction_for

    out = []
    for r in ranges:
        if r.model not in HARVEST_MODELS or r.is_empty:
            continue
        low, high = r.intervals[0][0], r.intervals[-1][1]
        at_ends: list[float | None] = []
        for value in (low, high):
            try:
                fit = harvestable_fraction_for(
                    r.model,
                    die_area_mm2,
                    fully_good_yield=fully_good_yield,
                    good_or_degraded_yield=good_or_degraded_yield,
                    n_blocks=n_blocks,
                    max_bad_blocks=max_bad_blocks,
                    **{r.parameter: value},
                )
                at_ends.append(fit.harvestable_fraction)
            except CalibrationError:
                at_ends.append(None)
        reached = [h for h in at_ends if h is not None]
        span: tuple[float, float] | None = None
        if len(reached) == 2:
            span = (min(reached), max(reached))
        elif reached:
            span = (reached[0], 1.0)
        out.append(
            {
                "model": r.model,
                "parameter": r.parameter,
                "parameter_range": [low, high],
                "at_ends": at_ends,
                "fraction_range": None if span is None else list(span),
            }
        )
    return out


#: Cores a degraded 910C part may have fused off in the report's second repair rule.
_MAX_BAD_CORES = 2
_PARAM_TEXT = {"gross_yield": "gross yield", "alpha": "α"}


def _ends_text(low: float, high: float) -> str:
    """``[low, high]`` to 3 significant figures, or more where 3 would print a range as a point."""
    for digits in range(3, 8):
        a, b = f"{low:.{digits}g}", f"{high:.{digits}g}"
        if a != b or low == high:
            break
    return f"[{a}, {b}]"


def _interval_text(r: Any) -> str:
    if r.is_empty:
        return "none"
    text = " ∪ ".join(_ends_text(a, b) for a, b in r.intervals)
    top = r.search_bounds[1]
    if r.parameter == "alpha" and r.intervals[-1][1] >= top:  # open-ended: up to Poisson
        text += f" (to the search bound {top:g}: α → ∞ is Poisson)"
    return text


def _names_text(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(n) for n in names]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _range_pct(span: Sequence[float] | None) -> str:
    if span is None:
        return "cannot reach it"
    return f"{100 * span[0]:.0f}–{100 * span[1]:.0f} %"


def _morgan_stanley_point(inputs: _Inputs) -> Observation:
    """Morgan Stanley's ~30 % 910B yield (from its preset) as a point for the yield curves."""
    from waferlab.calibration import Observation
    from waferlab.scenarios import load_scenario

    scenario = inputs.scenarios.get("morgan-stanley-2025") or load_scenario("morgan-stanley-2025")
    die_yield = float(scenario.funnel_inputs().die_yield or 0.0)
    return Observation(
        name="910B (Morgan Stanley)",
        die_area_mm2=inputs.die["die_area_mm2"],
        yield_low=die_yield,
        yield_high=die_yield,
        source=scenario.sources.get("die_yield", ""),
        process="SMIC N+2",
        counts="unspecified",
        status="forecast",
    )


def _under_determined_ranges(observations: Any, comparison: Any) -> list[dict[str, Any]]:
    """For each under-determined row of a comparison, the exact range of its free parameter.

    The parameter is the free one besides D0 (the gross yield or α), or D0 itself when it
    is the only free parameter; the range is :func:`waferlab.calibration.feasible_range`
    at tolerance 0 with the row's fixed values.
    """
    from waferlab.calibration import feasible_range

    out = []
    for row, result in zip(comparison.rows(), comparison.results, strict=True):
        if result.constraint != "under-determined":
            continue
        others = [name for name in result.free if name != "defect_density_per_cm2"]
        parameter = others[0] if others else "defect_density_per_cm2"
        fixed = dict(result.fixed)
        if parameter == "defect_density_per_cm2":
            fixed = {k: v for k, v in result.parameters.items() if k != parameter}
        r = feasible_range(observations, result.model, parameter, fixed=fixed, tolerance=0.0)
        out.append(
            {
                "model": result.model,
                "variant": row["variant"],
                "free": "+".join(_FREE_TEXT.get(n, n) for n in result.free),
                "parameter": parameter,
                "fitted_value": result.parameters.get(parameter),
                "exact_intervals": [list(i) for i in r.intervals],
                "range_text": _interval_text(r),
            }
        )
    return out


_FREE_TEXT = {"defect_density_per_cm2": "D0", "gross_yield": "Y0", "alpha": "α"}


def _yield_section(
    inputs: _Inputs, figures: dict[str, bytes]
) -> tuple[str, list[str], dict[str, Any]]:
    from waferlab.calibration import (
        DEFAULT_TOLERANCE,
        compare_models,
        feasible_ranges,
        fit_yield_model,
        select,
    )
    from waferlab.plotting import plot_yield_curves

    tolerance_text = f"{DEFAULT_TOLERANCE:g} in log-yield, about 1 % of the yield, relative"

    observations = inputs.observations
    tsmc = select(observations, process="TSMC N7")
    smic = select(observations, process="SMIC N+2")
    ga100 = select(tsmc, names=["GA100"])
    a12 = next(o for o in tsmc if o.name == "A12")
    b910 = select(smic, names=["910B"])
    kirin = next(o for o in smic if o.name == "Kirin 9000S")

    claims: list[dict[str, Any]] = []
    single_point: dict[tuple[str, str], CalibrationResult] = {}
    for model in ("poisson", "murphy"):
        fit_g = single_point[model, "GA100"] = fit_yield_model(ga100, model)
        fit_b = single_point[model, "910B"] = fit_yield_model(b910, model)
        claims.append(
            {
                "model": model,
                "d0_from_ga100_per_cm2": fit_g.defect_density_per_cm2,
                "a12_predicted": float(fit_g.predict(a12.die_area_mm2)),
                "d0_from_910b_per_cm2": fit_b.defect_density_per_cm2,
                "kirin_predicted": float(fit_b.predict(kirin.die_area_mm2)),
            }
        )
    # Exact feasible sets (tolerance 0) and, apart, those widened by the fit tolerance.
    exact = feasible_ranges(smic, tolerance=0.0)
    ranges = feasible_ranges(smic)
    comparison_smic = inputs.comparison_smic
    comparison_tsmc = compare_models(tsmc)

    # Curves: TSMC N7 (Murphy from GA100) and SMIC N+2 under three reconciliations. Murphy
    # with a gross yield is under-determined: any Y0 in its exact range fits, so the curve
    # is one named representative (the middle of the range), with the range in its label.
    murphy_range = next(r for r in exact if r.model == "murphy")
    y0_low, y0_high = murphy_range.intervals[0][0], murphy_range.intervals[-1][1]
    y0_mid = 0.5 * (y0_low + y0_high)
    murphy_mid = fit_yield_model(smic, "murphy", fixed={"gross_yield": y0_mid})
    curves = [
        single_point["murphy", "GA100"],
        single_point["murphy", "910B"],
        inputs.smic_calibration,
        murphy_mid,
    ]
    murphy_label = (
        f"SMIC N+2: Murphy, Y0 = {y0_mid:.2f} (middle of [{y0_low:.3g}, {y0_high:.3g}],"
        f" every Y0 there fits), D0 = {murphy_mid.defect_density_per_cm2:.3g} /cm²"
    )
    under = _under_determined_ranges(smic, comparison_smic)
    points = [o for o in observations if o.status == "reported"]
    points.append(_morgan_stanley_point(inputs))
    if inputs.render:
        ax = plot_yield_curves(curves, observations=points, labels=[None, None, None, murphy_label])
        ax.set_title("Die yield vs die area: the report's points and calibrated models")
        figures["yield_curves.png"] = _png(ax)

    # The 20 % vs 40 % question: the FT's figure counts good-or-degraded dies; the
    # harvestable fraction it implies, over the models that meet both SMIC points exactly.
    ft = next(o for o in observations if o.counts == "good-or-degraded")
    die = inputs.die
    harvest_args: dict[str, Any] = {
        "die_area_mm2": b910[0].die_area_mm2,
        "fully_good_yield": b910[0].yield_low,
        "good_or_degraded_yield": ft.yield_low,
    }
    harvest_one = harvest_range(exact, **harvest_args)
    harvest_cores = harvest_range(
        exact, **harvest_args, n_blocks=die["ai_cores"], max_bad_blocks=_MAX_BAD_CORES
    )
    one_spans = [h["fraction_range"] for h in harvest_one if h["fraction_range"]]
    core_spans = [h["fraction_range"] for h in harvest_cores if h["fraction_range"]]
    overall_one = [min(a for a, _ in one_spans), max(b for _, b in one_spans)]
    overall_cores = [min(a for a, _ in core_spans), max(b for _, b in core_spans)]
    by_model = "; ".join(
        f"{h['model']} with {_PARAM_TEXT.get(h['parameter'], h['parameter'])}"
        f" {h['parameter_range'][0]:.3g}–{h['parameter_range'][1]:.3g}:"
        f" {_range_pct(h['fraction_range'])}"
        for h in harvest_one
    )
    harvest_sentence = (
        f"Under the models that meet both SMIC points exactly, the FT's {ft.yield_text} needs "
        f"**{_range_pct(overall_one)}** of the die area to be harvestable if a die with one "
        f"defect in that area is sold as a degraded part ({by_model}), and "
        f"{_range_pct(overall_cores)} if up to {_MAX_BAD_CORES} of the {die['ai_cores']} "
        "DaVinci cores may be fused off."
    )
    covered = {h["model"] for h in harvest_one}
    left_out = [e.model for e in exact if not e.is_empty and e.model not in covered]
    if left_out:
        harvest_sentence += (
            f" The models {_names_text(left_out)} also meet both points but are left out:"
            " waferlab's partial-good (harvest) formulas cover Poisson defects and their gamma"
            " mixtures (Seeds, negative binomial), not Murphy's or Moore's mixing"
            " (docs/harvest-and-simulation.md)."
        )

    claim_rows = [
        [
            c["model"],
            f"{c['d0_from_ga100_per_cm2']:.4f}",
            _pct(c["a12_predicted"]),
            f"{c['d0_from_910b_per_cm2']:.4f}",
            _pct(c["kirin_predicted"]),
        ]
        for c in claims
    ]
    range_rows = [
        [
            e.model,
            _PARAM_TEXT.get(e.parameter, e.parameter),
            _interval_text(e),
            _interval_text(w),
        ]
        for e, w in zip(exact, ranges, strict=True)
    ]
    claims_table = _md_table(
        claim_rows,
        [
            "model",
            f"D0 from GA100 {ga100[0].yield_text} [/cm²]",
            f"A12 predicted (R: {a12.yield_text})",
            f"D0 from 910B {b910[0].yield_text} [/cm²]",
            f"Kirin 9000S predicted (R: {kirin.yield_text})",
        ],
    )
    md = f"""## 2. Yield: which models reproduce the report's numbers

The report's yields (fully functional dies) are stored with their sources in the built-in
dataset `{_DATASET}`; a defect density means nothing without its model, so every D0 below
names one. Fits are per process.

{claims_table}

- **TSMC N7 is consistent.** The D0 implied by the GA100's 41.5 % at 826 mm² predicts ≥ 90 % for
  the 83.27 mm² A12 under Poisson and Murphy, as the report says; the implied D0 (≈ 0.11 /cm²) is
  close to TSMC's published ≈ 0.09 /cm² for N7.
- **SMIC's two figures are not consistent under a random-defect model.** A single D0 fitted to the
  910B's 20 % predicts a phone-SoC yield above the report's 70 % ceiling under Poisson and Murphy.
  Reconciling them needs either defect clustering or an area-independent loss. The parameter
  ranges that meet both SMIC points exactly (tolerance 0), and beside them the same ranges
  widened by the fit tolerance (0.01 in log-yield, about 1 % of the yield, relative) that
  the fits use:

{_md_table(range_rows, ["model", "parameter", "exact range", "with the 0.01 tolerance"])}

The two explanations predict different things for other die sizes (see the curves), so the
report's numbers alone cannot say which holds.

**The 20 % vs 40 % question.** The FT's ≈ 40 % likely counts functional-but-degraded dies as
good. {harvest_sentence}

![Yield curves](yield_curves.png)

**What it means.** R's 20 % for SMIC is the least certain number in the chain: it fits the
phone-chip figure only with defect clustering or an area-independent loss, and the FT's 40 %
is the same dies counted with degraded parts only if most of the die can be fused off. The
bottom line's ranges therefore draw the die yield over the published values rather than
take 20 % as known. (Each model's fit to both processes: Appendix A.)
"""
    under_rows = [
        [u["variant"] or u["model"], u["free"], _PARAM_TEXT.get(u["parameter"], u["parameter"]),
         u["range_text"]]
        for u in under
    ]  # fmt: skip
    under_tsmc = _under_determined_ranges(tsmc, comparison_tsmc)
    under_tsmc_rows = [
        [u["variant"] or u["model"], u["free"], _PARAM_TEXT.get(u["parameter"], u["parameter"]),
         u["range_text"]]
        for u in under_tsmc
    ]  # fmt: skip
    appendix = f"""## Appendix A. Model comparisons

Every registered model fitted to each process's published yields, with one and with two
free parameters. Rows marked under-determined fit as well at other parameter values (see the
feasible ranges in section 2); the value shown is the fit's starting point, not an estimate.
Predicted yields are in percent: ✗ marks a prediction that misses its published value or
range, ≈ one that meets it only within the fits' tolerance ({tolerance_text}), not exactly.
"cost" is what each fit minimises: the sum over the published points of the squared
distance, in log-yield, from the prediction to the published value or range (0 inside it);
0 means every point is met exactly.

### SMIC N+2

```
{comparison_smic.table(mark_tolerance=True)}
```

The under-determined SMIC rows, with the exact range (tolerance 0) of the parameter that
the two points leave free; every value in it fits as well as the one in the table:

{_md_table(under_rows, ["model", "free", "parameter", "exact range meeting both points"])}

### TSMC N7

```
{comparison_tsmc.table(mark_tolerance=True)}
```

The under-determined TSMC rows, likewise:

{_md_table(under_tsmc_rows, ["model", "free", "parameter", "exact range meeting both points"])}
"""
    poisson = claims[0]
    summary = [
        "Yield calibration (dataset csis-2025)",
        f"  TSMC N7: Poisson D0 from GA100 {ga100[0].yield_text}"
        f" = {poisson['d0_from_ga100_per_cm2']:.4f} /cm²"
        f" -> A12 {_pct(poisson['a12_predicted'])} (report: {a12.yield_text})",
        f"  SMIC N+2: Poisson D0 from 910B {b910[0].yield_text}"
        f" = {poisson['d0_from_910b_per_cm2']:.4f} /cm²"
        f" -> Kirin 9000S {_pct(poisson['kirin_predicted'])} (report: {kirin.yield_text}):"
        " inconsistent",
        "  reconciling SMIC needs clustering or a gross yield < 1:",
    ]
    summary += [
        f"    {e.model}: {e.parameter} in {_interval_text(e)} exactly"
        f" ({_interval_text(w)} with the 0.01 tolerance)"
        for e, w in zip(exact, ranges, strict=True)
        if not e.is_empty
    ]
    summary.append(
        f"  FT 40 % as good-or-degraded: {_range_pct(overall_one)} of the die harvestable"
        f" (one-defect repair, models meeting both SMIC points); {_range_pct(overall_cores)}"
        f" with up to {_MAX_BAD_CORES} of {die['ai_cores']} cores off"
    )
    data = {
        "appendix_markdown": appendix,
        "claims": claims,
        "smic_feasible_ranges_exact": [r.to_dict() for r in exact],
        "smic_feasible_ranges_with_tolerance": [r.to_dict() for r in ranges],
        "harvest_ft_40_percent": {
            "one_defect_repair": harvest_one,
            "one_defect_repair_range": overall_one,
            "max_bad_cores": _MAX_BAD_CORES,
            "cores_repair": harvest_cores,
            "cores_repair_range": overall_cores,
        },
        "comparison_smic": comparison_smic.to_dict(),
        "comparison_smic_under_determined_ranges": under,
        "comparison_tsmc_under_determined_ranges": under_tsmc,
        "yield_curve_smic_murphy_representative": {
            "gross_yield": y0_mid,
            "gross_yield_exact_range": [y0_low, y0_high],
            "defect_density_per_cm2": murphy_mid.defect_density_per_cm2,
        },
        "comparison_tsmc": comparison_tsmc.to_dict(),
    }
    return md, summary, data


# --------------------------------------------------------------------------- 3. funnels


def _stocks_text(result: FunnelResult) -> str:
    """The one-off stocks of a funnel, in words ("—" without any)."""
    stocks = result.inputs.one_off_stocks
    parts = []
    if "die_bank" in stocks:
        parts.append(f"{_n(result.die_bank_dies)} die-bank dies")
    opening = result.inputs.hbm_stock_stacks
    if "hbm_stock" in stocks and opening is not None:
        parts.append(f"{_n(float(opening))} HBM stacks")
    return "; ".join(parts) or "—"


def _hbm_stock_binds(result: FunnelResult) -> bool:
    opening = result.inputs.hbm_stock_stacks
    return result.binding_constraint == "hbm" and opening is not None and float(opening) > 0


def _fab_flow_per_month(result: FunnelResult, fab_flow: bool) -> str:
    """Finished units a month from the fab flow, only where no one-off stock drives them."""
    if not fab_flow:
        return "—"
    if result.includes_stock or _hbm_stock_binds(result):
        return "— (set by a stock)"
    return _n(result.final_units / result.months)


def _published_text(scenario: Scenario | None, result: FunnelResult) -> str:
    """The publication's own finished units over the same calendar span, if it gives them."""
    if scenario is None or result.inputs.start_month is None:
        return "—"
    from waferlab.timeline import period_labels

    labels, _ = period_labels("year", result.months, result.inputs.start_month)
    texts = [
        f"{_n(f['published'])} in {f['year']} ({f['by']})"
        for f in published_year_figures(scenario)
        if labels == [f["year"]] and result.months == 12
    ]
    return "; ".join(texts) or "—"


def _monthly_text(values: Any, labels: Sequence[str]) -> str:
    """A month-by-month series in words: the first month, then the rest."""
    first = f"{_n(values[0])} in {_month_text(labels[0])}"
    rest = values[1:]
    if not len(rest):
        return first
    low, high = float(min(rest)), float(max(rest))
    # whole packages a month make a flat flow alternate by a unit or so: "about" it
    then = (
        f"about {_n(sum(rest) / len(rest))}"
        if high - low <= 0.01 * high
        else f"{_n(low)}–{_n(high)}"
    )
    return f"{first}, then {then} a month"


def _stock_notes(scenario: Scenario | None, result: FunnelResult) -> tuple[list[str], float | None]:
    """Month-by-month facts a stock funnel's horizon totals hide (the engine at point values).

    Returns the notes and the finished units made from die-bank dies (None without a bank).
    """
    import numpy as np

    from waferlab.funnel import run_timeline
    from waferlab.timeline import period_labels

    if not (result.includes_stock or _hbm_stock_binds(result)):
        return [], None
    timeline = run_timeline(result.inputs, outputs=["final_units", "final_units_from_die_bank"])
    monthly = timeline.final_units[0]
    from_bank = timeline["final_units_from_die_bank"][0]
    labels, _ = period_labels("month", result.months, result.inputs.start_month)
    notes = []
    if result.includes_stock and result.fab_only_final_units > 0:
        used = np.flatnonzero(from_bank > 0)
        when = ""
        if used.size and result.months > 1:
            first, last = _month_text(labels[used[0]]), _month_text(labels[used[-1]])
            when = f" (in {first})" if first == last else f" ({first} to {last})"
        if result.fab_only_final_units >= result.final_units:
            limit = "HBM" if result.binding_constraint == "hbm" else "the packaging chain"
            notes.append(
                f"over the horizon the die bank of {_n(result.die_bank_dies)} dies adds no"
                f" finished unit while {limit} is the limit (the fab flow alone gives the same"
                f" {_n(result.final_units)}); month by month the bank's dies are used first, so"
                f" {_n(float(from_bank.sum()))} of the finished units are made from them{when}"
            )
        else:
            notes.append(
                f"the die bank of {_n(result.die_bank_dies)} dies gives"
                f" {_n(float(from_bank.sum()))} of the {_n(result.final_units)} finished"
                f" units{when}; the fab flow alone gives {_n(result.fab_only_final_units)}"
            )
    if result.months > 1:
        if scenario is not None and result.inputs.packaging_capacity_per_month is None:
            years, _ = period_labels("year", result.months, result.inputs.start_month)
            span = f"in {years[0]}" if len(years) == 1 else "over the horizon"
            at_once = stock_at_once(
                scenario, labels[0], float(monthly[0]), result.final_units, span
            )
            notes.append(at_once["text"])
        else:
            notes.append(
                f"its finished units month by month: {_monthly_text(monthly, labels)} (the"
                " horizon's total divided by its months is not a rate any month sees)"
            )
    return notes, (float(from_bank.sum()) if result.includes_stock else None)


def _morgan_stanley_link(inputs: _Inputs) -> str | None:
    """Why morgan-stanley-2025's 2025 differs from morgan-stanley-2025-2027's (the path)."""
    import numpy as np

    flat, path = "morgan-stanley-2025", "morgan-stanley-2025-2027"
    if flat not in inputs.funnels or path not in inputs.paths or path not in inputs.path_scenarios:
        return None
    flat_result = inputs.funnels[flat]
    ramp = inputs.path_scenarios[path].timeline.get("die_yield")
    year = inputs.paths[path]["years"].get("2025")
    if not isinstance(ramp, Mapping) or year is None or flat_result.inputs.die_yield is None:
        return None
    points = {k: v for k, v in ramp.items() if _month_text(k) != k}
    first, last = min(points), max(points)
    path_inputs = inputs.path_scenarios[path].funnel_inputs()
    same = (
        float(np.asarray(path_inputs.wafer_starts_per_month, dtype=float).ravel()[0])
        == float(flat_result.inputs.wafer_starts_per_month)
        and path_inputs.gross_dies_per_wafer == flat_result.inputs.gross_dies_per_wafer
    )
    text = (
        f"`{flat}` ({_n(flat_result.final_units)} in 2025) holds Morgan Stanley's end-2025 die"
        f" yield of {_pct(float(flat_result.inputs.die_yield), 0)} all year, while `{path}`,"
        f" the bottom line's path, ramps it from {_pct(points[first], 0)} in"
        f" {_month_text(first)} to {_pct(points[last], 0)} in {_month_text(last)}, so its 2025"
        f" is lower: {_n(year['as_published'])} at the point values"
    )
    if same:
        text += (
            f" (both at {_n(float(flat_result.inputs.wafer_starts_per_month))} wafers a month"
            f" and {float(flat_result.inputs.gross_dies_per_wafer or 0):g} dies per wafer in"
            " 2025)"
        )
    return text


def _funnel_section(
    inputs: _Inputs, figures: dict[str, bytes]
) -> tuple[str, list[str], dict[str, Any]]:
    from waferlab.funnel import run_funnel
    from waferlab.plotting import plot_funnel

    rows: list[list[Any]] = []
    results: dict[str, Any] = {}
    notes: dict[str, list[str]] = {}
    summary = ["Funnels (finished units over each scenario's horizon)"]
    for name, result in inputs.funnels.items():
        given = result.inputs
        results[name] = result
        scenario = inputs.scenarios.get(name)
        dies = result.stage("gross dies").quantity
        fab_flow = bool(given.wafer_starts_per_month and given.capacity_share)
        per_wafer = (
            dies / given.wafer_starts_per_month / given.capacity_share / given.months
            if fab_flow
            else None
        )
        # The yield actually used: given, or from the yield model (good / gross dies).
        used_yield = result.stage("good dies").quantity / dies if fab_flow and dies else None
        yield_text = "-" if used_yield is None else _pct(used_yield, 1)
        if used_yield is not None and given.die_yield is None:
            yield_text += f" ({given.yield_model})"
        stock_notes, bank_units = _stock_notes(scenario, result)
        from_bank = "—" if bank_units is None else _n(bank_units)
        rows.append(
            [
                f"`{name}`",
                _n(result.stage("wafer starts").quantity_in / given.months),
                given.months,
                "-" if per_wafer is None else f"{per_wafer:.0f}",
                yield_text,
                _n(result.final_units),
                _published_text(scenario, result),
                _fab_flow_per_month(result, fab_flow),
                _stocks_text(result),
                from_bank,
                binding_text(result.binding_constraint),
            ]
        )
        if stock_notes:
            notes[name] = stock_notes
        span = "1 month" if result.months == 1 else f"{result.months} months"
        stock = ", incl. a die-bank stock" if result.includes_stock else ""
        summary.append(
            f"  {name:<28} {result.final_units:>12,.0f} units over {span}{stock}"
            f" (binding: {binding_text(result.binding_constraint)})"
        )

    # The report's chain vs computed geometry, same yield (calibrated to the same 20 % point).
    target = inputs.scenarios["csis-2025-smic-target"]
    exact = target.set_parameter("gross_dies_per_wafer", None)
    exact_result = run_funnel(exact.funnel_inputs())
    # ... and with the die yield from a model calibrated to both SMIC points (NB, alpha = 1,
    # one free D0), evaluated at the exact die area instead of the report's rounded 20 %.
    calibrated = inputs.smic_calibration
    calibrated_result = run_funnel(exact.funnel_inputs().with_calibration(calibrated))
    reported = results["csis-2025-smic-target"]
    published = target.published or {}
    check_rows = []
    for stage_name, key in (
        ("gross dies", "gross_dies"),
        ("good dies", "good_dies"),
        ("packages before packaging loss", "packages_before_packaging_loss"),
        ("good packages", "good_packages"),
    ):
        check_rows.append(
            [
                stage_name,
                _n(published[key]) if key in published else "-",
                _n(reported.stage(stage_name).quantity),
                _n(exact_result.stage(stage_name).quantity),
                _n(calibrated_result.stage(stage_name).quantity),
            ]
        )
    hbm = results["semianalysis-2025-hbm-bound"]
    if inputs.render:
        ax = plot_funnel(reported)
        ax.figure.suptitle(
            "CSIS target: 50,000 SMIC 7 nm wafers a month to finished Ascend 910C", y=1.03
        )
        figures["funnel_csis_target.png"] = _png(ax)
        ax = plot_funnel(hbm)
        ax.figure.suptitle("SemiAnalysis 2025: TSMC die bank + SMIC flow, bound by HBM", y=1.03)
        figures["funnel_hbm_bound.png"] = _png(ax)

    target_wpm = target.funnel_inputs().wafer_starts_per_month
    exact_per_wafer = exact_result.stage("gross dies").quantity / target_wpm
    die = inputs.die
    calibrated_yield = float(calibrated.predict(die["die_area_mm2"]))
    area_wh = die["die_width_mm"] * die["die_height_mm"]  # what the funnel's geometry uses
    yield_wh = (
        calibrated_result.stage("good dies").quantity
        / calibrated_result.stage("gross dies").quantity
    )
    starts = [
        r.stage("wafer starts").quantity_in / r.inputs.months
        for r in inputs.funnels.values()
        if r.stage("wafer starts").quantity_in > 0
    ]
    min_wpm, max_wpm = min(starts), max(starts)
    scenario_table = _md_table(
        rows,
        [
            "scenario",
            "wafer starts / month",
            "months",
            "dies / wafer",
            "die yield",
            "finished over the horizon",
            "published, same span",
            "finished per month, fab flow only",
            "one-off stocks",
            "of which from the die bank, month by month",
            "binding constraint",
        ],
    )
    link = _morgan_stanley_link(inputs)
    table_notes = []
    for name, texts in notes.items():
        if len(texts) == 1:
            table_notes.append(f"- `{name}`: {texts[0]}.")
        else:
            table_notes += [f"- `{name}`:", *(f"  - {t[0].upper()}{t[1:]}." for t in texts)]
    if link:
        table_notes.append(f"- {link[0].upper()}{link[1:]}.")
    table_notes_md = "\n".join(table_notes)
    check_table = _md_table(
        check_rows,
        [
            "stage (per month, 50,000 WPM)",
            "report",
            "waferlab, report's inputs",
            f"waferlab, exact placement ({exact_per_wafer:.0f} dies/wafer)",
            f"exact placement + calibrated yield ({calibrated.label()})",
        ],
    )
    md = f"""## 3. From wafer starts to finished 910C

Each scenario is a built-in file with a source for every number (`waferlab scenarios show NAME`).
Each column holds one time basis: the scenario's whole horizon (its months), one month of fab
flow (only where no one-off stock sets the output), or a one-off stock, counted once.

{scenario_table}

{table_notes_md}

### The report's arithmetic, reproduced — and with the exact die count

{check_table}

The calibrated column fits a negative binomial model (α = 1, one free D0) to both SMIC
points at once (910B 20 %, Kirin 9000S 50–70 %); it predicts
{_pct(calibrated_yield)} for the 910B die, so the report's rounded 20 % stands, and the
difference from the report comes from the die count alone. (Packages are whole units,
rounded down. The funnel takes the die area from its width and height,
{die["die_width_mm"]:g} × {die["die_height_mm"]:g} = {area_wh:.4f} mm², a hair more than the
published {die["die_area_mm2"]:g} mm², where the model gives
{yield_wh:.5%}: hence one package fewer in that column.)

![Funnel](funnel_csis_target.png)

### The HBM-bound alternative

```
{hbm.stage_table()}
```

The stage table's "out per month" column is each total divided by the {hbm.months} months, an
average: with one-off stocks it is not a rate any month sees (month by month: the notes under
the table of scenarios above).

![HBM-bound funnel](funnel_hbm_bound.png)

**What it means.** At R's inputs one month of SMIC's 50,000-wafer target gives
{_n(reported.final_units)} finished 910C; the published estimates differ mainly in the wafer
starts they assume ({_n(min_wpm)} to {_n(max_wpm)} a month) and in whether HBM is counted.
Where it is (SemiAnalysis), HBM binds, and the one-off stocks (the TSMC die bank, the HBM
that entered China before the controls) set the total: they are used once, so their output
is a total over the horizon, never a monthly rate.
"""
    summary.append(
        f"  report's chain at 50,000 WPM: {_n(reported.stage('gross dies').quantity)} dies -> "
        f"{_n(reported.stage('good dies').quantity)} good -> "
        f"{_n(reported.stage('packages before packaging loss').quantity)} packages -> "
        f"{_n(reported.final_units)} finished 910C"
    )
    summary.append(
        f"  with the exact die count ({exact_per_wafer:.0f}/wafer):"
        f" {_n(exact_result.final_units)} finished 910C"
    )
    data = {
        "scenarios": {name: r.to_dict() for name, r in results.items()},
        "csis_target_exact_placement": exact_result.to_dict(),
        "csis_target_exact_placement_calibrated_yield": calibrated_result.to_dict(),
        "calibration_used": calibrated.to_dict(),
    }
    return md, summary, data


# --------------------------------------------------------------------------- 4. cost


#: Where the money goes (the cost table's components) -> the spend that buys it.
_SPEND_OF = {
    "silicon": ("wafer_spend_usd", "die_bank_spend_usd"),
    "HBM": ("hbm_spend_usd",),
    "packaging": ("packaging_spend_usd",),
    "test": ("test_spend_usd",),
}


def largest_cost_share(breakdown: Any) -> dict[str, Any] | None:
    """The largest slice of the cost per finished unit, on both definitions of a share.

    ``share_of_unit_cost`` is the component's share of the cost per finished
    unit, as in the cost table and its figure (what the finished unit itself
    holds; the dies, HBM and packaging of failed packages sit in the scrap
    rows). ``share_of_spend`` is everything spent on that input over the
    horizon, scrapped parts included, over all spend (None for the scrap rows).

    Examples
    --------
    >>> from waferlab.economics import cost_breakdown
    >>> from waferlab.funnel import run_funnel
    >>> from waferlab.scenarios import load_scenario
    >>> sc = load_scenario("csis-2025-smic-target")
    >>> top = largest_cost_share(cost_breakdown(run_funnel(sc.funnel_inputs()),
    ...                                         sc.cost_inputs()))
    >>> top["component"], round(top["share_of_unit_cost"], 4), round(top["share_of_spend"], 4)
    ('HBM', 0.3394, 0.4525)
    """
    parts = [c for c in breakdown.components if c.share is not None]
    if not parts:
        return None
    top = max(parts, key=lambda c: c.usd_per_unit)
    if top.usd_per_unit <= 0:
        return None
    total = breakdown.all_in_spend_usd
    spend = None
    if top.name in _SPEND_OF and total > 0:
        spend = sum(getattr(breakdown, key) for key in _SPEND_OF[top.name]) / total
    return {"component": top.name, "share_of_unit_cost": top.share, "share_of_spend": spend}


def _largest_share_text(breakdown: Any) -> str:
    top = largest_cost_share(breakdown)
    if top is None:
        return "nothing is costed"
    name = top["component"]
    text = (
        f"the largest slice is {name}: {_pct(top['share_of_unit_cost'], 0)} of the cost per"
        " finished 910C, as in the table and the figure (what the finished unit holds)"
    )
    if top["share_of_spend"] is not None and round(100 * top["share_of_spend"]) != round(
        100 * top["share_of_unit_cost"]
    ):
        text += (
            f"; counting also the {name} scrapped in failed packages (the table's scrap rows),"
            f" {name} takes {_pct(top['share_of_spend'], 0)} of all spend"
        )
    return text


def _value_text(value: Any) -> str:
    """A cost input for the table: a number, or "not set" (never None)."""
    if value is None:
        return "not set"
    if isinstance(value, int | float):
        return f"{value:,.2f}"
    return str(value)


def _same_scenario(inputs: _Inputs, scenario: Scenario) -> bool:
    """Whether ``scenario`` is the built-in preset of that name, unchanged (its funnel is run)."""
    return inputs.scenarios.get(scenario.name) == scenario


def _cost_section(
    inputs: _Inputs, figures: dict[str, bytes]
) -> tuple[str, list[str], dict[str, Any]]:
    from waferlab.economics import cost_breakdown
    from waferlab.funnel import run_funnel
    from waferlab.plotting import plot_cost_breakdown

    scenario = inputs.chosen
    intro = f"Scenario `{scenario.name}` with its cost inputs (as published, no draws):"
    instead = ""
    if scenario.cost_inputs() is None:
        instead = scenario.name
        scenario = inputs.scenarios[_COST_SCENARIO]
        intro = (
            f"`{instead}`, the scenario of the bottom line, has no cost inputs (no `[costs]`"
            f" table), so this section costs `{scenario.name}`, the report's own inputs,"
            " instead (as published, no draws):"
        )
    costs = scenario.cost_inputs()
    if costs is None:  # pragma: no cover - the built-in preset has costs
        return "", [], {}
    funnel = (
        inputs.funnels[scenario.name]
        if _same_scenario(inputs, scenario)
        else run_funnel(scenario.funnel_inputs())
    )
    cost_sources = [
        [
            f"`{k}`",
            _value_text(v),
            scenario.sources.get(k)
            or ("not set by the scenario" if v is None else "default (not set by the scenario)"),
        ]
        for k, v in costs.to_dict().items()
    ]
    costed = f"{scenario.name}, at its point values"
    if instead:
        costed = f"{scenario.name} instead of {instead}, which has no costs; at its point values"
    inputs_table = _md_table(cost_sources, ["input", "value [USD]", "source"])
    if funnel.final_units <= 0:
        md = f"""## 4. Cost per finished 910C

{intro}

{inputs_table}

**What it means.** `{scenario.name}` finishes no 910C (every unit is lost in its funnel:
`waferlab funnel {scenario.name}` shows where), so there is no cost per finished unit to give.
"""
        summary = [f"Cost ({costed}): none, since the scenario finishes no unit"]
        return md, summary, {"cost": None, "costed_scenario": scenario.name}
    breakdown = cost_breakdown(funnel, costs)
    if inputs.render:
        ax = plot_cost_breakdown(breakdown)
        ax.figure.suptitle(f"Cost per finished Ascend 910C, {scenario.name}", y=1.03)
        figures["cost_breakdown.png"] = _png(ax)
    md = f"""## 4. Cost per finished 910C

{intro}

{inputs_table}

```
{breakdown.table()}
```

![Cost breakdown](cost_breakdown.png)

**What it means.** With the scenario's point values a finished 910C costs
${breakdown.cost_per_tested_unit_usd:,.0f}; {_largest_share_text(breakdown)}. Over the
published price and yield ranges the bottom line gives the range. The prices are the least
sourced inputs here (see each source above): treat the cost as an order of magnitude.
"""
    per_die = breakdown.cost_per_good_die_usd
    die_text = "" if per_die is None else f"${per_die:,.0f} per good die, "
    summary = [
        f"Cost ({costed}): {die_text}${breakdown.cost_per_tested_unit_usd:,.0f} per finished 910C"
    ]
    data = {
        "cost": breakdown.to_dict(),
        "costed_scenario": scenario.name,
        "largest_share": largest_cost_share(breakdown),
    }
    return md, summary, data


# --------------------------------------------------------------------------- assembly


def _sources_section(inputs: _Inputs) -> str:
    lines = ["## Assumptions and sources", "", f"- The report (R): {REPORT_SOURCE}"]
    lines.append("- Yield observations (dataset `csis-2025`):")
    for o in inputs.observations:
        interval = (
            _pct(o.yield_low)
            if o.yield_low == o.yield_high
            else (f"{_pct(o.yield_low, 0)}–{_pct(o.yield_high, 0)}")
        )
        lines.append(
            f"  - {o.name} ({o.process}, {o.die_area_mm2:g} mm², {interval}, counts {o.counts},"
            f" {o.status}): {o.source}"
        )
    for name, scenario in inputs.scenarios.items():
        lines.append(f"- Scenario `{name}`: {scenario.description}")
        for key, source in scenario.sources.items():
            lines.append(f"  - `{key}`: {source}")
    return "\n".join(lines) + "\n"


def build_report(scenario: Scenario | str | None = None, *, render: bool = True) -> Report:
    """Compute the end-to-end report in memory.

    Parameters
    ----------
    scenario : Scenario or str, optional
        The scenario of the bottom line's "under the report's inputs" figures
        and of the cost section: a :class:`~waferlab.scenarios.Scenario`, a
        preset name or a scenario file (default ``csis-2025-smic-target``, the
        report's own inputs). A scenario over several months from a calendar
        month also joins the path table.
    render : bool, default True
        Draw the figures; False computes numbers and text only (what
        ``waferlab report --no-files`` needs).

    Returns
    -------
    Report
        Markdown (and the same as one self-contained HTML page), terminal
        summary, PNG figures and key numbers; call :meth:`Report.write` to save
        them.

    Examples
    --------
    >>> report = build_report(render=False)
    >>> report.data["funnels"]["scenarios"]["csis-2025-smic-target"]["final_units"]
    300000.0
    >>> report.markdown.splitlines()[0]
    '# The CSIS fab arithmetic, recomputed: the bottom line first'
    """
    from waferlab.scenarios import Scenario, load_scenario

    chosen = (
        scenario if isinstance(scenario, Scenario) else load_scenario(scenario or _COST_SCENARIO)
    )
    inputs = _inputs(render, chosen)
    figures: dict[str, bytes] = {}
    parts: list[str] = []
    summary: list[str] = []
    data: dict[str, Any] = {"waferlab_version": __version__, "report_source": REPORT_SOURCE}
    path_scenarios = {name: load_scenario(name) for name in PATH_SCENARIOS}
    cal = chosen.funnel_inputs()
    if cal.months > 1 and cal.start_month is not None and chosen.name not in path_scenarios:
        path_scenarios[chosen.name] = chosen
    paths = {name: scenario_ranges(sc, with_cost=False) for name, sc in path_scenarios.items()}
    inputs = dataclasses.replace(inputs, paths=paths, path_scenarios=path_scenarios)
    bottom, lines, numbers = _bottom_line(chosen, paths, inputs)
    summary += [*lines, ""]
    data["bottom_line"] = numbers
    for key, section in (
        ("dies", _dies_section),
        ("yield", _yield_section),
        ("funnels", _funnel_section),
        ("cost", _cost_section),
    ):
        md, lines, numbers = section(inputs, figures)
        parts.append(md)
        summary += [*lines, ""]
        data[key] = numbers
    header = f"""# The CSIS fab arithmetic, recomputed: the bottom line first

> {REPORT_SOURCE} (R below). waferlab {__version__}.
"""
    method = f"""## Method

waferlab recomputes each step of R's fab arithmetic: dies per wafer, die yield, the
packaging funnel from wafer starts to finished Ascend 910C, and the cost per chip. Every
number carries its source (next section); every step can be rerun and changed with the
`waferlab` command line (`waferlab dies`, `calibrate`, `funnel`, `cost`, `uncertainty`), and
`waferlab report SCENARIO` runs this report on another scenario. The ranges of the bottom
line draw every input of a preset's `[distributions]` table ({BOTTOM_LINE_DRAWS:,} scrambled
Sobol' points, seed 0, the preset's rank correlations) through the month-by-month engine
(`waferlab.funnel.run_timeline`); the p5 and p95 agree to 3 significant figures between
seeds. The inputs that matter most come from a tornado analysis (each input at its p5 and p95,
the others at their medians; `waferlab uncertainty SCENARIO --sensitivity tornado`).
"""
    appendix = data["yield"].pop("appendix_markdown")
    markdown = "\n".join([header, bottom, *parts, method, _sources_section(inputs), appendix])
    return Report(
        markdown=markdown,
        summary="\n".join(summary).rstrip() + "\n",
        figures=figures,
        data=data,
    )
