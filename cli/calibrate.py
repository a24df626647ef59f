"""``waferlab calibrate``: fit yield models to published yields.

By default every registered model is fitted to the built-in ``csis-2025``
observations, process by process, and printed as one comparison table per
process with the parameter ranges that reconcile all observations. With
``--model NAME`` one model is fitted and its fit shown observation by
observation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from waferlab.calibration import (
    COUNTS,
    DATASETS,
    FITTABLE_PARAMETERS,
    CalibrationResult,
    FeasibleRange,
    ModelComparison,
    Observation,
    compare_models,
    feasible_range,
    feasible_ranges,
    fit_yield_model,
    load_dataset,
    load_observations,
)
from waferlab.errors import CalibrationError
from waferlab.observations import (
    FitGroup,
    NoMatchingObservationsError,
    SkippedGroup,
    fit_groups,
)
from waferlab.output import (
    calibration_fit_text,
    feasible_range_text,
    group_title,
    skipped_groups_text,
)
from waferlab.yield_models import YIELD_MODELS

from .helpers import emit_json, save_plot
from .main import command as waferlab_command
from .options import (
    ALL_MODELS,
    NON_NEGATIVE,
    POSITIVE,
    POSITIVE_FRACTION,
    FilePath,
    Integer,
    format_option,
    model_option,
    plot_option,
)

ALL_COUNTS = "all"
D0 = "defect_density_per_cm2"

# Rows of a comparison drawn with --plot: the one-parameter fits of the three
# classic models and the two-parameter fits that add a gross yield or α.
_PLOTTED_ROWS = (
    ("poisson", (D0,)),
    ("murphy", (D0,)),
    ("seeds", (D0,)),
    ("poisson", (D0, "gross_yield")),
    ("negative_binomial", (D0, "alpha")),
)


def _parse_free(values: Sequence[str]) -> tuple[str, ...] | None:
    """``--free a,b --free c`` -> ``("a", "b", "c")``; None when not given."""
    if not values:
        return None
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for name in names:
        if name not in FITTABLE_PARAMETERS:
            raise click.BadParameter(
                f"must be one of {', '.join(FITTABLE_PARAMETERS)} (got {name!r})",
                param_hint="--free",
            )
    if not names:
        raise click.BadParameter("give at least one parameter name", param_hint="--free")
    return tuple(names)


def _load(
    ctx: click.Context, dataset: str, observations_path: str | None
) -> tuple[tuple[Observation, ...], dict[str, Any]]:
    if observations_path is None:
        return load_dataset(dataset), {"dataset": dataset, "observations_file": None}
    if ctx.get_parameter_source("dataset") is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("give either --dataset or --observations, not both")
    if Path(observations_path).suffix.lower() not in (".csv", ".json"):
        raise click.BadParameter(
            f"must be a .csv or .json file (got {observations_path!r})",
            param_hint="--observations",
        )
    return load_observations(observations_path), {
        "dataset": None,
        "observations_file": observations_path,
    }


#: The command line's words for the reason codes of skipped groups.
_SKIP_REASONS = {"none_named_in_fit_to": "none of its observations is named in --fit-to"}


def _groups(
    pool: tuple[Observation, ...],
    process: str | None,
    counts: str,
    include_forecasts: bool,
    fit_to: Sequence[str],
) -> tuple[tuple[FitGroup, ...], tuple[SkippedGroup, ...]]:
    """:func:`~waferlab.observations.fit_groups`, its no-match error in option terms."""
    try:
        return fit_groups(
            pool,
            process=process,
            counts=None if counts == ALL_COUNTS else counts,
            include_forecasts=include_forecasts,
            fit_to=fit_to,
        )
    except NoMatchingObservationsError as exc:
        raise CalibrationError(_no_match_message(exc)) from exc


def _no_match_message(exc: NoMatchingObservationsError) -> str:
    """Why no observation is left, and which option would bring some back."""
    wanted = [f"process {exc.process!r}"] if exc.process is not None else []
    wanted.append(f"counts {exc.counts if exc.counts is not None else ALL_COUNTS!r}")
    message = "no observations match " + " and ".join(wanted)
    if not exc.include_forecasts:
        message += " (forecasts excluded)"
    hints = ["--include-forecasts"] if exc.forecasts_would_match else []
    if exc.other_counts:
        hints.append(" or ".join(f"--counts {kind}" for kind in exc.other_counts))
    if hints:
        message += "; try " + ", or ".join(hints)
    return message


def _skipped_records(skipped: Sequence[SkippedGroup]) -> list[dict[str, Any]]:
    return [{**g.to_dict(), "reason": _SKIP_REASONS.get(g.reason, g.reason)} for g in skipped]


def _result_title(result: CalibrationResult) -> str:
    return group_title(result.observations[0].process, result.observations[0].counts)


def _check_model_options(model: str, alpha: float | None, n_layers: int | None) -> None:
    if model == ALL_MODELS:
        return
    parameters = YIELD_MODELS[model].parameters
    for value, name, flag in ((alpha, "alpha", "--alpha"), (n_layers, "n_layers", "--n-layers")):
        if value is not None and name not in parameters:
            takers = " and ".join(n for n, m in YIELD_MODELS.items() if name in m.parameters)
            raise click.BadParameter(f"applies to {takers} only, not to {model}", param_hint=flag)


@waferlab_command("calibrate")
@click.option(
    "--dataset",
    type=click.Choice(list(DATASETS)),
    default="csis-2025",
    show_default=True,
    help="Built-in observations.",
)
@click.option(
    "--observations",
    "observations_path",
    type=FilePath(exists=True, dir_okay=False, readable=True),
    default=None,
    help="Your own observations (.csv or .json; see docs/calibration.md) instead of a dataset.",
)
@click.option(
    "--process",
    default=None,
    help="Fit only this process (default: every process, one fit each).",
)
@click.option(
    "--counts",
    type=click.Choice([*COUNTS, ALL_COUNTS]),
    default="fully-good",
    show_default=True,
    help=(
        "Which yields to use: what they count as a good die ('all': every kind, "
        "each fitted separately)."
    ),
)
@click.option(
    "--include-forecasts",
    is_flag=True,
    default=False,
    help="Also use forecast yields.",
)
@click.option(
    "--fit-to",
    multiple=True,
    metavar="NAME",
    help="Fit to these observations only (repeatable); the others are predicted.",
)
@model_option
@click.option(
    "--free",
    multiple=True,
    metavar="NAMES",
    help=(
        "Free parameters (repeatable or comma-separated): "
        + ", ".join(FITTABLE_PARAMETERS)
        + " [default: defect_density_per_cm2; with --model all: D0, D0+gross_yield, D0+alpha]."
    ),
)
@click.option(
    "--alpha",
    type=POSITIVE,
    default=None,
    help="Fixed α of negative_binomial (with --model all: instead of 0.5, 1, 2, 5).",
)
@click.option(
    "--n-layers",
    type=Integer(min=1),
    default=None,
    help=(
        "Fixed layer count of bose_einstein and bose_einstein_per_layer (with --model all: "
        "of bose_einstein, instead of 10)."
    ),
)
@click.option(
    "--gross-yield",
    type=POSITIVE_FRACTION,
    default=None,
    help="Fixed gross yield Y0 (unless it is free) [default: 1].",
)
@click.option(
    "--feasible-range",
    "range_parameter",
    type=click.Choice(["gross_yield", "alpha", D0]),
    default=None,
    help="With --model NAME: also print the values of this parameter that meet every observation.",
)
@click.option(
    "--tolerance",
    type=NON_NEGATIVE,
    default=0.01,
    show_default=True,
    help=(
        "Largest distance in log-yield between a prediction and a published yield "
        "that counts as met; 0.01 is about 1 % of the yield, relative (±0.2 points at 20 %)."
    ),
)
@format_option()
@plot_option("Write the yield curves with the observations to this file (.png, .svg or .pdf).")
@click.pass_context
def command(
    ctx: click.Context,
    dataset: str,
    observations_path: str | None,
    process: str | None,
    counts: str,
    include_forecasts: bool,
    fit_to: tuple[str, ...],
    model: str,
    free: tuple[str, ...],
    alpha: float | None,
    n_layers: int | None,
    gross_yield: float | None,
    range_parameter: str | None,
    tolerance: float,
    output_format: str,
    plot_path: str | None,
) -> None:
    """Fit yield models to published yields.

    Without --model every registered model is fitted to each process of the
    observations (one and two free parameters) and printed as a comparison
    table, followed by the gross yields and α values that reconcile all
    observations. bose_einstein_per_layer is left out of that table (it is
    bose_einstein at n times the density); fit it with --model. Yields that
    count degraded dies (the FT's 40 %) and forecasts are left out unless
    asked for.
    """
    free_names = _parse_free(free)
    _check_model_options(model, alpha, n_layers)
    if range_parameter is not None and model == ALL_MODELS:
        raise click.UsageError("--feasible-range needs a single --model")
    if range_parameter == "alpha" and "alpha" not in YIELD_MODELS[model].parameters:
        raise click.BadParameter(
            f"alpha applies to negative_binomial only, not to {model}",
            param_hint="--feasible-range",
        )
    pool, origin = _load(ctx, dataset, observations_path)
    groups, skipped = _groups(pool, process, counts, include_forecasts, fit_to)
    fixed: dict[str, float] = {}
    if gross_yield is not None:
        fixed["gross_yield"] = gross_yield

    if model == ALL_MODELS:
        comparisons: list[tuple[ModelComparison, tuple[FeasibleRange, ...], Any]] = []
        exact_ranges: dict[int, tuple[FeasibleRange, ...]] = {}
        for group in groups:
            fitted, held, context = group.fitted, group.held_out, group.context
            comparison = compare_models(
                fitted,
                alphas=(alpha,) if alpha is not None else (0.5, 1.0, 2.0, 5.0),
                n_layers=(n_layers,) if n_layers is not None else (10,),
                free_sets=None if free_names is None else [free_names],
                fixed=fixed,
                held_out=held,
                tolerance=tolerance,
            )
            ranges = feasible_ranges(fitted, tolerance=tolerance) if len(fitted) > 1 else ()
            exact = (
                feasible_ranges(fitted, tolerance=0.0) if len(fitted) > 1 and tolerance else ranges
            )
            exact_ranges[id(comparison)] = exact
            comparisons.append((comparison, ranges, context))
        if plot_path is not None:
            _plot(
                [
                    (
                        group_title(comparison.process, comparison.counts),
                        [
                            r
                            for plotted, free_set in _PLOTTED_ROWS
                            for r in comparison.results
                            if r.model == plotted and r.free == free_set
                        ],
                        context,
                    )
                    for comparison, _, context in comparisons
                ],
                plot_path,
            )
        if output_format == "json":
            emit_json(
                {
                    **origin,
                    "model": ALL_MODELS,
                    "tolerance": tolerance,
                    "comparisons": [
                        {
                            **c.to_dict(),
                            "feasible_ranges_exact": [r.to_dict() for r in exact_ranges[id(c)]],
                            "feasible_ranges": [r.to_dict() for r in ranges],
                        }
                        for c, ranges, _ in comparisons
                    ],
                    "not_fitted": _skipped_records(skipped),
                }
            )
            return
        blocks = []
        for comparison, ranges, _ in comparisons:
            text = comparison.table()
            if ranges:
                text += (
                    "\nValues that meet every fitted observation exactly (D0 solved for):\n"
                    + "\n".join(feasible_range_text(r) for r in exact_ranges[id(comparison)])
                )
                if tolerance:
                    text += (
                        f"\nThe same, widened by the fit tolerance ({tolerance:g} in log-yield):\n"
                        + "\n".join(feasible_range_text(r) for r in ranges)
                    )
            blocks.append(text)
        if skipped:
            blocks.append(skipped_groups_text(skipped, _SKIP_REASONS))
        click.echo("\n\n".join(blocks))
        return

    fixed_model = dict(fixed)
    if alpha is not None:
        fixed_model["alpha"] = alpha
    if n_layers is not None:
        fixed_model["n_layers"] = n_layers
    fits = []
    for group in groups:
        fitted, held, context = group.fitted, group.held_out, group.context
        result = fit_yield_model(
            fitted,
            model,
            free=free_names or (D0,),
            fixed=fixed_model,
            tolerance=tolerance,
        )
        predictions = ModelComparison(fitted, (result,), held).held_out_predictions(result)
        held_rows = [(o, p, ok) for o, (p, ok) in zip(held, predictions, strict=True)]
        feasible: tuple[FeasibleRange, FeasibleRange] | None = None
        if range_parameter is not None:
            range_fixed = {k: v for k, v in fixed_model.items() if k != range_parameter}
            widened_range = feasible_range(
                fitted, model, range_parameter, fixed=range_fixed, tolerance=tolerance
            )
            exact_range = (
                feasible_range(fitted, model, range_parameter, fixed=range_fixed, tolerance=0.0)
                if tolerance
                else widened_range
            )
            feasible = (exact_range, widened_range)
        fits.append((result, held_rows, feasible, context))
    if plot_path is not None:
        _plot([(_result_title(r), [r], ctx_obs) for r, _, _, ctx_obs in fits], plot_path)
    if output_format == "json":
        emit_json(
            {
                **origin,
                "model": model,
                "tolerance": tolerance,
                "fits": [
                    {
                        **result.to_dict(),
                        "held_out": [
                            {**o.to_dict(), "prediction": p, "met": ok} for o, p, ok in held_rows
                        ],
                        "feasible_range_exact": None if feasible is None else feasible[0].to_dict(),
                        "feasible_range": None if feasible is None else feasible[1].to_dict(),
                    }
                    for result, held_rows, feasible, _ in fits
                ],
                "not_fitted": _skipped_records(skipped),
            }
        )
        return
    blocks = []
    for result, held_rows, feasible, _ in fits:
        text = calibration_fit_text(result, held_rows)
        if feasible is not None:
            text += "\n" + _feasible_text(feasible[0], feasible[1], tolerance)
        blocks.append(text)
    if skipped:
        blocks.append(skipped_groups_text(skipped, _SKIP_REASONS))
    click.echo("\n\n".join(blocks))


def _feasible_text(exact: FeasibleRange, widened: FeasibleRange, tolerance: float) -> str:
    """The exact feasible range, then (with a tolerance) the tolerance-widened one, labelled."""
    solved = "" if exact.parameter == D0 else " (D0 solved for)"
    text = f"Values that meet every fitted observation exactly{solved}:\n" + feasible_range_text(
        exact
    )
    if tolerance:
        text += (
            f"\nThe same, widened by the fit tolerance ({tolerance:g} in log-yield):\n"
            + feasible_range_text(widened)
        )
    return text


def _plot(
    panels: list[tuple[str, list[CalibrationResult], Sequence[Observation]]], path: str
) -> None:
    """One yield-curve panel per process, two to a row, each with its legend below it."""
    import matplotlib.pyplot as plt

    from waferlab.plotting import plot_yield_curves

    columns = max(1, min(2, len(panels)))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(7.5 * columns, 7.0 * rows), squeeze=False)
    for ax, (title, results, observations) in zip(axes.flat, panels, strict=False):
        plot_yield_curves(results, observations=observations, ax=ax)
        ax.set_title(title)
    for ax in axes.flat[len(panels) :]:
        ax.remove()
    fig.tight_layout()
    save_plot(axes[0][0], path)
