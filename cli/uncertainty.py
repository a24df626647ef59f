"""``waferlab uncertainty``: a scenario's published ranges carried to its outputs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
import numpy as np

from waferlab.analysis import by_period, scenario_model
from waferlab.output import binding_text, format_table, outside_range_text, to_csv
from waferlab.scenarios import DISTRIBUTION_SOURCE_PREFIX, Scenario
from waferlab.uncertainty import (
    SAMPLING_METHODS,
    outside_valid_range,
    run_uncertainty,
    sobol_sensitivity,
    tornado,
)

from .helpers import emit_json, resolve_scenario, save_plot
from .main import DomainError
from .main import command as waferlab_command
from .options import Integer, by_option, format_option, plot_option, scenario_argument, set_option

#: The most draws a run takes (10^6 draws × 36 months stream in a few seconds).
MAX_DRAWS = 1_000_000
#: Above this many draw-periods the draws are streamed into histograms (quantiles within
#: one bin of the exact ones) instead of kept, so that memory stays bounded.
KEEP_CELLS = 2_000_000
#: Draws per call of the engine when a progress bar is shown.
PROGRESS_CHUNK = 10_000
#: Runs with at least this many draws show a progress bar (at a terminal).
PROGRESS_FROM = 50_000

METHOD_NAMES = {"mc": "Monte Carlo", "lhs": "Latin hypercube", "sobol": "scrambled Sobol'"}
CSV_COLUMNS = ["output", "period", "p5", "p50", "p95"]
SENSITIVITY_OUTPUT = "final_units"
#: Outputs in the text table (JSON and CSV have every output).
TEXT_OUTPUTS = (
    "wafer_starts",
    "good_dies",
    "packages_started",
    "final_units",
    "compute_equivalents",
    "cost_per_tested_unit_usd",
)


#: Below this many draws the text output warns that the tail quantiles are rough.
ROUGH_BELOW_DRAWS = 1_000


def number_text(value: Any) -> Any:
    """A number as table text: thousands separators from 1,000, four digits below."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def distribution_rows(scenario: Scenario, distributions: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per uncertain input: its distribution, p5/p50/p95 and source."""
    rows = []
    for name, d in distributions.items():
        rows.append(
            {
                "input": name,
                "distribution": repr(d),
                "p5": d.p5,
                "p50": d.median,
                "p95": d.p95,
                # the positions a from_calibration yield model adds share its source
                "source": scenario.sources.get(
                    DISTRIBUTION_SOURCE_PREFIX + name,
                    scenario.sources.get(DISTRIBUTION_SOURCE_PREFIX + name.split(".")[0], ""),
                ),
            }
        )
    return rows


@contextmanager
def progress(n: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for long runs at a terminal (else nothing)."""
    if n < PROGRESS_FROM or not sys.stderr.isatty():
        yield lambda _: None
        return
    with click.progressbar(length=n, label=label, file=sys.stderr) as bar:
        yield bar.update


def _total(y: Any) -> Any:
    return np.asarray(y).sum(axis=1)


@waferlab_command("uncertainty")
@scenario_argument
@set_option
@click.option(
    "--draws",
    type=Integer(2, MAX_DRAWS),
    default=10_000,
    show_default=True,
    help="Number of draws of the uncertain inputs.",
)
@click.option(
    "--seed", type=Integer(min=0), default=0, show_default=True, help="Seed of the draws (>= 0)."
)
@click.option(
    "--method",
    type=click.Choice(SAMPLING_METHODS),
    default="lhs",
    show_default=True,
    help="Sampling: plain Monte Carlo, Latin hypercube or scrambled Sobol' points.",
)
@click.option(
    "--sensitivity",
    type=click.Choice(["tornado", "sobol"]),
    default=None,
    help="Also rank the inputs by their effect on the final units over the horizon: "
    "p5/p95 swings (tornado) or Sobol' first-order and total indices.",
)
@by_option("Quantiles of the horizon total, or of each month, quarter or year.")
@format_option(("text", "json", "csv"))
@plot_option(
    "Write a chart (.png, .svg or .pdf): the fan chart of finished units to date, or with "
    "--sensitivity tornado the tornado chart."
)
def command(
    scenario: str,
    overrides: tuple[str, ...],
    draws: int,
    seed: int,
    method: str,
    sensitivity: str | None,
    by: str,
    output_format: str,
    plot_path: str | None,
) -> None:
    """Carry the published ranges of SCENARIO's inputs to its outputs.

    Draws every input of the scenario's [distributions] table, runs the
    month-by-month engine on all draws at once and prints the p5, p50 and p95
    of each stage (per period and to date), the share of draws in which each
    constraint binds, and the cost per finished unit. --set fixes an input
    (its distribution is dropped).

    Example: waferlab uncertainty csis-2025-smic-target --sensitivity tornado
    """
    resolved = resolve_scenario(scenario, overrides)
    distributions = resolved.input_distributions()
    if not distributions:
        raise DomainError(
            f"scenario {resolved.name!r} has no [distributions]: nothing is uncertain "
            "(add a [distributions] table to a scenario file; see docs/uncertainty.md)"
        )
    correlations = resolved.input_correlations()
    inputs = resolved.funnel_inputs()
    if plot_path is not None and sensitivity != "tornado" and inputs.months < 2:
        raise click.UsageError(
            "--plot draws a fan chart over months, and this scenario has one month: "
            "add --sensitivity tornado to plot the tornado chart"
        )
    f = scenario_model(resolved)
    labels, g = by_period(f, by, inputs.months, inputs.start_month)

    def draw(model: Callable[[Mapping[str, Any]], Any], periods: int) -> Any:
        """Run the draws through ``model`` (the same draws for every model)."""
        with progress(draws, "drawing") as advance:

            def counted(x: Mapping[str, Any]) -> Any:
                y = model(x)
                advance(int(np.shape(y["final_units"])[0]))
                return y

            return run_uncertainty(
                counted,
                distributions,
                draws,
                seed=seed,
                method=method,  # type: ignore[arg-type]
                correlations=correlations,
                chunk_draws=PROGRESS_CHUNK if draws >= PROGRESS_FROM else None,
                keep_draws=draws * periods <= KEEP_CELLS,
            )

    result = draw(g, len(labels))

    sens: Any = None
    if sensitivity == "tornado":
        sens = tornado(f, distributions, output=SENSITIVITY_OUTPUT, reduce=_total)
    elif sensitivity == "sobol":
        n = 1 << max(6, min(12, int(np.log2(draws))))
        sens = sobol_sensitivity(
            f, distributions, n=n, seed=seed, output=SENSITIVITY_OUTPUT, reduce=_total
        )

    if plot_path is not None:
        from waferlab.plotting import plot_fan_chart, plot_tornado

        if sensitivity == "tornado":
            ax = plot_tornado(sens, xlabel=f"finished units over {_span(inputs)}")
        else:
            fan, fan_labels = result, labels
            if by == "total":  # one period is no path: draw the months (the same draws)
                fan_labels, monthly = by_period(f, "month", inputs.months, inputs.start_month)
                fan = draw(monthly, inputs.months)
            ax = plot_fan_chart(
                fan,
                output="final_units",
                cumulative=True,
                periods=fan_labels,
                published=_published_on(resolved, inputs, fan_labels),
                ylabel="finished units to date",
                title=f"{resolved.name}: p5-p95, p25-p75 and median ({draws:,} draws)",
            )
        save_plot(ax, plot_path)

    summary = result.to_dict()
    quantiles = summary["quantiles"]
    outside = outside_valid_range(distributions)
    if output_format == "json":
        data: dict[str, Any] = {
            "scenario": resolved.name,
            "description": resolved.description,
            "n_draws": result.n_draws,
            "method": method,
            "seed": seed,
            "by": by,
            "periods": labels,
            "quantiles": quantiles,
            "shares": summary["shares"],
            "distributions": {
                row["input"]: {
                    **{k: row[k] for k in ("distribution", "p5", "p50", "p95", "source")},
                    "outside_valid_range": outside.get(row["input"]),
                }
                for row in distribution_rows(resolved, distributions)
            },
            "correlations": [list(c) for c in correlations],
        }
        if sens is not None:
            details = sens.to_dict()
            data["sensitivity_method"] = sensitivity
            data["sensitivity_output"] = f"{SENSITIVITY_OUTPUT} over the horizon"
            data["sensitivity"] = details.pop("inputs")
            data["sensitivity_details"] = details
        emit_json(data)
        return
    rows = _quantile_rows(quantiles, labels)
    if output_format == "csv":
        click.echo(to_csv(rows, CSV_COLUMNS), nl=False)
        return
    lines = [f"{resolved.name}: {resolved.description}", ""]
    lines.append(
        f"{result.n_draws:,} draws ({METHOD_NAMES[method]}, seed {seed}) over {_span(inputs)}"
    )
    if result.n_draws < ROUGH_BELOW_DRAWS:
        lines.append(
            f"note: with fewer than {ROUGH_BELOW_DRAWS:,} draws the p5 and p95 are rough "
            "(they move from seed to seed); use --draws 10000 or more for figures to quote"
        )
    lines += ["", "uncertain inputs:"]
    lines.append(
        format_table(
            [
                {k: number_text(v) for k, v in row.items()}
                for row in distribution_rows(resolved, distributions)
            ],
            ["input", "distribution", "p5", "p50", "p95"],
        )
    )
    for name, info in outside.items():
        lines.append("note: " + outside_range_text(name, distributions[name], info))
    if correlations:
        lines.append(
            "rank correlations: " + ", ".join(f"{a} ~ {b}: {rho:+g}" for a, b, rho in correlations)
        )
    lines += ["", f"quantiles ({'per ' + by if by != 'total' else 'horizon total'}):"]
    shown = [r for r in rows if r["output"] in (*TEXT_OUTPUTS, "final_units to date")]
    lines.append(
        format_table(
            shown,
            CSV_COLUMNS,
            headers=["output", "period", "p5", "p50", "p95"],
            float_format=",.0f",
        )
    )
    shares = summary["shares"].get("binding_constraint", {})
    if shares:
        lines += ["", "share of draws in which each constraint binds (last month of the period):"]
        share_rows = [
            {"period": label, **{k: f"{v[j]:.0%}" for k, v in shares.items()}}
            for j, label in enumerate(labels)
        ]
        lines.append(
            format_table(
                share_rows, ["period", *shares], headers=["period", *map(binding_text, shares)]
            )
        )
    if sens is not None:
        lines += ["", _sensitivity_text(sens, sensitivity, inputs)]
    click.echo("\n".join(lines))


def _published_on(scenario: Scenario, inputs: Any, labels: list[str]) -> list[Any]:
    """Published calendar-year counts as points of the fan chart of units to date.

    A year's count is the running total at the year's last period only when the
    horizon starts in that year's January; other years are left out.
    """
    from .funnel import published_points

    points = []
    for year, value, figure in published_points(scenario):
        in_year = [j for j, label in enumerate(labels) if label.startswith(year)]
        if in_year and inputs.start_month == f"{year}-01":
            points.append((in_year[-1], value, f"{figure}: {value:,.0f} in {year} (published)"))
    return points


def _span(inputs: Any) -> str:
    span = f"{inputs.months} month{'s' if inputs.months > 1 else ''}"
    return span + (f" from {inputs.start_month}" if inputs.start_month else "")


def _quantile_rows(quantiles: Mapping[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    """Rows output × period with p5/p50/p95, then the cumulative ones (``<output> to date``)."""
    rows = []
    for name, q in quantiles.items():
        if not isinstance(q["p50"], list):
            rows.append({"output": name, "period": "horizon", **{k: q[k] for k in CSV_COLUMNS[2:]}})
            continue
        for j, label in enumerate(labels):
            rows.append({"output": name, "period": label, **{k: q[k][j] for k in CSV_COLUMNS[2:]}})
        if "cumulative" in q and len(labels) > 1:
            c = q["cumulative"]
            for j, label in enumerate(labels):
                rows.append(
                    {
                        "output": f"{name} to date",
                        "period": label,
                        **{k: c[k][j] for k in CSV_COLUMNS[2:]},
                    }
                )
    return rows


def _sensitivity_text(sens: Any, kind: str | None, inputs: Any) -> str:
    data = sens.to_dict()
    if kind == "tornado":
        rows = [
            {
                "input": name,
                "at p5": value["low"],
                "at p95": value["high"],
                "swing": abs(value["high"] - value["low"]),
            }
            for name, value in data["inputs"].items()
        ]
        head = (
            f"tornado: finished units over {_span(inputs)}, each input at its p5 and p95 "
            f"with the others at their medians (baseline {data['baseline']:,.0f}):"
        )
        return head + "\n" + format_table(rows, ["input", "at p5", "at p95", "swing"],
                                          float_format=",.0f")  # fmt: skip
    rows = []
    for name, value in data["inputs"].items():
        rows.append(
            {
                "input": name,
                "first order": _with_interval(value["first_order"], value["first_order_interval"]),
                "total": _with_interval(value["total"], value["total_interval"]),
            }
        )
    head = (
        f"Sobol' indices of the finished units over {_span(inputs)} "
        f"(N = {data['n']:,}, 95 % intervals; inputs taken as independent):"
    )
    return head + "\n" + format_table(rows, ["input", "first order", "total"])


def _with_interval(value: float, interval: Any) -> str:
    if not interval:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"
