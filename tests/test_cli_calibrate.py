"""``waferlab calibrate``: every option and every error path.

Published yields (SOURCES.md §1, CSIS report "R"): GA100 41.5 % at 826 mm² and
A12 ≥ 90 % at 83.27 mm² (TSMC N7); 910B 20 % at 665.61 mm² and a phone SoC at
50–70 % at ≈ 107 mm² (SMIC N+2). Expected numbers are computed in the tests
from the closed-form inverse of the yield models, not taken from the command.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from _cli import assert_one_line_error

from waferlab.yield_models import defect_density_for_yield, die_yield

D0 = "defect_density_per_cm2"
SMIC = ["--process", "SMIC N+2"]
TSMC = ["--process", "TSMC N7"]


def run(runner: Any, cli: Any, args: list[str]) -> Any:
    return runner.invoke(cli, ["calibrate", *args])


def run_json(runner: Any, cli: Any, args: list[str]) -> dict[str, Any]:
    result = run(runner, cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def rows_by(comparison: dict[str, Any]) -> dict[tuple[str, tuple[str, ...]], dict[str, Any]]:
    return {(r["variant"], tuple(r["free"])): r for r in comparison["rows"]}


@pytest.fixture(scope="module")
def default_json() -> dict[str, Any]:
    from click.testing import CliRunner

    from waferlab.cli.main import cli as root

    result = CliRunner().invoke(root, ["calibrate", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --------------------------------------------------------------------------- #
# Default: the comparison of every model, per process
# --------------------------------------------------------------------------- #


def test_default_json_compares_every_model_per_process(default_json: dict[str, Any]) -> None:
    assert default_json["dataset"] == "csis-2025" and default_json["model"] == "all"
    tsmc, smic = default_json["comparisons"]
    assert (tsmc["process"], smic["process"]) == ("TSMC N7", "SMIC N+2")
    # The FT's 40 % (good + degraded) and the Morgan Stanley forecast are left out.
    assert [o["name"] for o in smic["observations"]] == ["910B", "Kirin 9000S"]
    tsmc_rows, smic_rows = rows_by(tsmc), rows_by(smic)
    # (a) Poisson and Murphy meet the GA100 point and the A12's >= 90 % with one D0.
    assert tsmc_rows[("poisson", (D0,))]["all_met"]
    assert tsmc_rows[("murphy", (D0,))]["all_met"]
    # (b) Poisson and Murphy cannot meet the SMIC pair with one D0; Seeds can,
    # and so can Poisson with a gross yield below 1.
    assert not smic_rows[("poisson", (D0,))]["all_met"]
    assert not smic_rows[("murphy", (D0,))]["all_met"]
    assert smic_rows[("seeds", (D0,))]["all_met"]
    poisson_y0 = smic_rows[("poisson", (D0, "gross_yield"))]
    assert poisson_y0["all_met"] and poisson_y0["parameters"]["gross_yield"] < 1.0
    ranges = {(r["model"], r["parameter"]): r for r in smic["feasible_ranges"]}
    alpha = ranges[("negative_binomial", "alpha")]
    assert alpha["low"] < 1.0 < alpha["high"] < 5.0
    assert ranges[("poisson", "gross_yield")]["high"] < 1.0


def test_default_text_has_tables_and_ranges(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, SMIC)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("SMIC N+2: fitted to 910B 20 % at 665.61 mm²")
    assert "Kirin 9000S" in out and "fit met" in out and "✗" in out
    assert "constraint" in out and "identifiable" not in out
    assert "Values that meet every fitted observation" in out
    assert "negative_binomial    alpha: [" in out
    assert "TSMC N7" not in out


def test_explicit_dataset_option(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--dataset", "csis-2025", "--model", "poisson", *TSMC])
    assert data["dataset"] == "csis-2025" and data["observations_file"] is None


# --------------------------------------------------------------------------- #
# Single model
# --------------------------------------------------------------------------- #


def test_single_model_fit_of_the_ga100_point(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--model", "murphy", "--fit-to", "GA100"])
    (fit,) = data["fits"]  # the SMIC process has nothing to fit to, and says so
    (skipped,) = data["not_fitted"]
    assert skipped["process"] == "SMIC N+2" and "--fit-to" in skipped["reason"]
    expected = defect_density_for_yield("murphy", 826.0, 0.415)
    assert fit["parameters"][D0] == pytest.approx(expected, rel=1e-8)
    (a12,) = fit["held_out"]
    assert a12["name"] == "A12" and a12["met"] and a12["prediction"] >= 0.90
    # One point, one D0: the point fixes D0 uniquely, but nothing is left to test.
    assert fit["constraint"] == "exactly determined" and fit["feasible_range"] is None
    assert fit["unique"] is True and fit["testable"] is False


def test_single_model_text(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, ["--model", "poisson", "--fit-to", "910B", *SMIC])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("SMIC N+2: poisson, free defect_density_per_cm2")
    d0 = defect_density_for_yield("poisson", 665.61, 0.2)
    assert f"defect_density_per_cm2 = {d0:.6g}" in out
    kirin = die_yield("poisson", 107.0, d0)
    assert kirin > 0.70  # R's point (b)
    assert f"held out: Kirin 9000S 50–70 % at 107 mm² -> {100 * kirin:.1f} % (not met)" in out


@pytest.mark.parametrize(
    "free_args",
    [
        ["--free", "defect_density_per_cm2,gross_yield"],
        ["--free", "defect_density_per_cm2", "--free", "gross_yield"],
    ],
)
def test_free_comma_list_or_repeated(runner, cli, free_args: list[str]) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--model", "poisson", *SMIC, *free_args])
    (fit,) = data["fits"]
    assert fit["free"] == [D0, "gross_yield"] and fit["all_met"]
    assert fit["parameters"]["gross_yield"] < 1.0


def test_free_with_model_all_restricts_the_rows(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, [*SMIC, "--free", "defect_density_per_cm2,alpha"])
    (comparison,) = data["comparisons"]
    assert [r["model"] for r in comparison["rows"]] == ["negative_binomial"]


def test_alpha_and_n_layers_fixed(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--model", "negative_binomial", "--alpha", "1", *SMIC])
    (fit,) = data["fits"]
    # NB with α = 1 is Seeds: D0 from the 910B point, λ = (1 − y)/y.
    assert fit["parameters"]["alpha"] == 1.0
    assert fit["parameters"][D0] == pytest.approx((1 - 0.2) / 0.2 / 6.6561, rel=1e-6)
    layers = run_json(runner, cli, ["--model", "bose_einstein", "--n-layers", "3", *TSMC])
    assert layers["fits"][0]["parameters"]["n_layers"] == 3
    compared = run_json(runner, cli, [*TSMC, "--alpha", "3", "--n-layers", "4", "--free", D0])
    variants = [r["variant"] for r in compared["comparisons"][0]["rows"]]
    assert "negative_binomial α=3" in variants and "bose_einstein n=4" in variants
    assert "negative_binomial α=0.5" not in variants
    # --model all leaves out the per-layer restatement of bose_einstein
    assert not any(v.startswith("bose_einstein_per_layer") for v in variants)


def test_per_layer_model_by_name(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # GA100, 41.5 % at 826 mm², 10 layers: (1 + 8.26 D_layer)^-10 = 0.415, so
    # D_layer = (0.415^(-1/10) − 1) / 8.26, a tenth of bose_einstein's total D0.
    args = ["--model", "bose_einstein_per_layer", "--n-layers", "10", "--fit-to", "GA100"]
    data = run_json(runner, cli, args)
    (fit,) = data["fits"]
    d_layer = (0.415 ** (-1 / 10) - 1) / 8.26
    assert fit["model"] == "bose_einstein_per_layer"
    assert fit["parameters"][D0] == pytest.approx(d_layer, rel=1e-8)
    assert fit["parameters"]["n_layers"] == 10
    total = run_json(runner, cli, [*args[:1], "bose_einstein", *args[2:]])["fits"][0]
    assert total["parameters"][D0] == pytest.approx(10 * d_layer, rel=1e-8)
    text = run(runner, cli, args).stdout
    assert "bose_einstein_per_layer: the density and λ are those of each layer" in text


def test_gross_yield_fixed(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--model", "poisson", "--gross-yield", "0.8", "--fit-to", "910B"])
    fit = data["fits"][0]
    assert fit["parameters"]["gross_yield"] == 0.8
    expected = defect_density_for_yield("poisson", 665.61, 0.2, gross_yield=0.8)
    assert fit["parameters"][D0] == pytest.approx(expected, rel=1e-8)


def test_feasible_range_option(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--model", "poisson", *SMIC, "--feasible-range", "gross_yield", "--tolerance", "0"]
    data = run_json(runner, cli, args)
    rng = data["fits"][0]["feasible_range"]
    # Closed form (tolerance 0): Y0 = 0.2 · r^(6.6561/5.5861), r in [2.5, 3.5].
    exponent = 6.6561 / 5.5861
    assert rng["low"] == pytest.approx(0.2 * 2.5**exponent, rel=1e-8)
    assert rng["high"] == pytest.approx(0.2 * 3.5**exponent, rel=1e-8)
    text = run(runner, cli, args)
    low, high = 0.2 * 2.5**exponent, 0.2 * 3.5**exponent
    assert f"poisson              gross_yield: [{low:.4g}, {high:.4g}]" in text.stdout


def test_feasible_range_of_the_defect_density(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Seeds, Y0 = 1: λ = (1 − y)/y at the 910B's 20 % ± 1 % (log) bounds D0;
    # the phone SoC's 50–70 % does not bind.
    args = ["--model", "seeds", *SMIC, "--feasible-range", D0]
    rng = run_json(runner, cli, args)["fits"][0]["feasible_range"]
    lam = [(1 - y) / y for y in (0.2 * math.exp(0.01), 0.2 * math.exp(-0.01))]
    assert (rng["low"], rng["high"]) == pytest.approx((lam[0] / 6.6561, lam[1] / 6.6561))
    text = run(runner, cli, args).stdout
    assert f"defect_density_per_cm2: {lam[0] / 6.6561:.4g} – {lam[1] / 6.6561:.4g} /cm²" in text


def _nb_alpha_giving(kirin_yield: float) -> float:
    """The α at which NB, with D0 solved from the 910B's 20 % at 665.61 mm², gives the
    Kirin 9000S (107 mm²) ``kirin_yield``: Y2 = (1 + (A2/A1)(Y1^(-1/α) - 1))^(-α), which
    rises from Y1 (α → 0) to the Poisson limit; solved by bisection on log-yield."""
    from scipy.optimize import brentq

    def log_y2(alpha: float) -> float:
        load = (107.0 / 665.61) * math.expm1(-math.log(0.2) / alpha)
        return -alpha * math.log1p(load) - math.log(kirin_yield)

    return float(brentq(log_y2, 0.01, 1000.0, xtol=1e-12))


def test_feasible_range_is_the_exact_one_and_the_widened_one_is_labelled(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Exact (tolerance 0): the Kirin 9000S's 50-70 % bounds α, the 910B's 20 % gives D0.
    low, high = _nb_alpha_giving(0.5), _nb_alpha_giving(0.7)
    args = ["--model", "negative_binomial", "--free", f"{D0},alpha", *SMIC]
    args += ["--feasible-range", "alpha"]
    fit = run_json(runner, cli, args)["fits"][0]
    exact, widened = fit["feasible_range_exact"], fit["feasible_range"]
    assert exact["tolerance"] == 0.0 and widened["tolerance"] == 0.01
    assert (exact["low"], exact["high"]) == pytest.approx((low, high), rel=1e-6)
    assert widened["low"] < low and widened["high"] > high  # the tolerance widens it
    text = run(runner, cli, args).stdout
    exact_line = f"  negative_binomial    alpha: [{low:.4g}, {high:.4g}]"
    labelled = "Values that meet every fitted observation exactly (D0 solved for):\n" + exact_line
    assert labelled in text
    widened_line = f"alpha: [{widened['low']:.4g}, {widened['high']:.4g}]"
    assert "The same, widened by the fit tolerance (0.01 in log-yield):" in text
    assert text.index(widened_line) > text.index("widened by the fit tolerance")
    # at tolerance 0 only the exact range is printed
    text0 = run(runner, cli, [*args, "--tolerance", "0"]).stdout
    assert exact_line in text0 and "widened" not in text0


def test_tolerance_decides_met(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # NB α = 2 fitted to the GA100 alone predicts the A12 just under 90 %.
    d0 = defect_density_for_yield("negative_binomial", 826.0, 0.415, alpha=2.0)
    a12 = die_yield("negative_binomial", 83.27, d0, alpha=2.0)
    assert 0.9 * 0.99 < a12 < 0.90
    args = ["--model", "negative_binomial", "--alpha", "2", "--fit-to", "GA100"]
    loose = run_json(runner, cli, args)["fits"][0]["held_out"][0]
    strict = run_json(runner, cli, [*args, "--tolerance", "0"])["fits"][0]["held_out"][0]
    assert loose["prediction"] == pytest.approx(a12, rel=1e-8)
    assert loose["met"] and not strict["met"]


# --------------------------------------------------------------------------- #
# Which observations
# --------------------------------------------------------------------------- #


def test_counts_and_forecasts(runner, cli) -> None:  # type: ignore[no-untyped-def]
    degraded = run_json(runner, cli, ["--model", "seeds", "--counts", "good-or-degraded"])
    assert [o["name"] for o in degraded["fits"][0]["observations"]] == ["910B (FT)"]
    args = ["--model", "seeds", "--counts", "unspecified"]
    forecast = run_json(runner, cli, [*args, "--include-forecasts"])
    assert [o["name"] for o in forecast["fits"][0]["observations"]] == ["910B (Morgan Stanley)"]
    result = run(runner, cli, args)
    line = assert_one_line_error(result, 1, "no observations match", "forecasts excluded")
    assert "--include-forecasts" in line and ", (" not in line


def test_no_match_suggests_the_option_that_brings_observations_back(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path
) -> None:
    only_forecast = tmp_path / "forecast.csv"
    only_forecast.write_text("name,die_area_mm2,yield,status\nA,100,0.5,forecast\n")
    result = run(runner, cli, ["--observations", str(only_forecast), "--model", "poisson"])
    line = assert_one_line_error(result, 1, command="calibrate")
    assert "no observations match counts 'fully-good' (forecasts excluded)" in line
    assert line.rstrip().endswith("; try --include-forecasts")
    other_kind = tmp_path / "degraded.csv"
    other_kind.write_text("name,die_area_mm2,yield,counts\nA,100,0.5,good-or-degraded\n")
    result = run(runner, cli, ["--observations", str(other_kind), "--model", "poisson"])
    line = assert_one_line_error(result, 1, "--counts good-or-degraded")
    assert "--include-forecasts" not in line


def test_fit_to_says_which_processes_were_not_fitted(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path
) -> None:
    path = tmp_path / "proc.csv"
    path.write_text("name,die_area_mm2,yield,process\nA,100,0.5,P\nB,300,0.2,P\nC,200,0.4,Q\n")
    args = ["--observations", str(path), "--fit-to", "A"]
    for model in (["--model", "poisson"], []):
        out = run(runner, cli, [*args, *model]).stdout
        assert "Q: not fitted, because none of its observations is named in --fit-to" in out
        assert "(its observations: C)" in out
        data = run_json(runner, cli, [*args, *model])
        assert data["not_fitted"] == [
            {
                "process": "Q",
                "counts": "fully-good",
                "observations": ["C"],
                "reason": "none of its observations is named in --fit-to",
            }
        ]
    # Naming an observation of each process fits both and leaves nothing out.
    data = run_json(runner, cli, [*args, "--fit-to", "C", "--model", "poisson"])
    assert [f["observations"][0]["process"] for f in data["fits"]] == ["P", "Q"]
    assert data["not_fitted"] == []


def test_observations_file_csv_and_json(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text(
        "name,die_area_mm2,yield_low,yield_high,process\n"
        "small,100,0.8,0.8,X\nlarge,400,0.45,0.5,X\n",
        encoding="utf-8",
    )
    data = run_json(runner, cli, ["--observations", str(csv_path), "--model", "poisson"])
    assert data["observations_file"] == str(csv_path) and data["dataset"] is None
    assert [o["name"] for o in data["fits"][0]["observations"]] == ["small", "large"]
    json_path = tmp_path / "mine.json"
    json_path.write_text(
        json.dumps([{"name": "only", "die_area_mm2": 200, "yield": 0.5}]), encoding="utf-8"
    )
    data = run_json(runner, cli, ["--observations", str(json_path), "--model", "seeds"])
    assert data["fits"][0]["parameters"][D0] == pytest.approx(1.0 / 2.0, rel=1e-8)


# --------------------------------------------------------------------------- #
# Plots
# --------------------------------------------------------------------------- #


def test_plot_comparison_and_single(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    both = tmp_path / "curves.png"
    result = run(runner, cli, ["--fit-to", "GA100", "--fit-to", "910B", "--plot", str(both)])
    assert result.exit_code == 0, result.stderr
    assert both.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    single = tmp_path / "seeds.svg"
    result = run(runner, cli, ["--model", "seeds", *SMIC, "--plot", str(single)])
    assert result.exit_code == 0, result.stderr
    assert "<svg" in single.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- #
# Errors: one line on stderr, exit 2 for usage and 1 for domain errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--observations", "/nonexistent/obs.csv"], ["--observations", "does not exist"]),
        (["--dataset", "csis-2024"], ["--dataset", "csis-2025"]),
        (["--model", "gauss"], ["--model", "poisson"]),
        (["--process", "TSMC N5"], ["--process must be one of TSMC N7, SMIC N+2"]),
        (["--model", "poisson", "--free", "alpha"], ["--free must be one of", "gross_yield"]),
        (["--model", "poisson", "--free", "d0"], ["--free", "defect_density_per_cm2"]),
        (["--model", "poisson", "--free", ","], ["--free", "at least one"]),
        (["--model", "poisson", "--alpha", "2"], ["--alpha", "negative_binomial only"]),
        (
            ["--model", "seeds", "--n-layers", "2"],
            ["--n-layers", "bose_einstein and bose_einstein_per_layer only"],
        ),
        (["--model", "bose_einstein"], ["--n-layers", "requires", "bose_einstein"]),
        (
            ["--model", "bose_einstein_per_layer"],
            ["--n-layers", "bose_einstein_per_layer requires"],
        ),
        (["--alpha", "0"], ["--alpha", "> 0"]),
        (["--alpha", "nan"], ["--alpha"]),
        (["--n-layers", "0"], ["--n-layers"]),
        (["--gross-yield", "1.5"], ["--gross-yield"]),
        (
            ["--model", "poisson", "--gross-yield", "0.9", "--free", "gross_yield"],
            ["--free", "not also fixed"],
        ),
        (["--feasible-range", "alpha"], ["--feasible-range needs a single --model"]),
        (
            ["--model", "poisson", "--feasible-range", "alpha"],
            ["--feasible-range", "negative_binomial only"],
        ),
        (["--fit-to", "H100"], ["--fit-to", "GA100"]),
        (["--tolerance", "-1"], ["--tolerance"]),
        (["--format", "xml"], ["--format"]),
        (["--plot", "curves.xyz", "--model", "poisson"], ["--plot"]),
        (["--dataset", "csis-2025", "--observations", __file__], ["not both"]),
    ],
)
def test_usage_errors(  # type: ignore[no-untyped-def]
    runner,
    cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    needles: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(runner, cli, args)
    assert_one_line_error(result, 2, *needles)


def test_wrong_file_extension_is_a_usage_error(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "obs.txt"
    path.write_text("name,die_area_mm2,yield\nx,1,0.5\n", encoding="utf-8")
    assert_one_line_error(run(runner, cli, ["--observations", str(path)]), 2, "--observations")


@pytest.mark.parametrize(
    ("name", "text", "needles"),
    [
        (
            "bad.csv",
            "name,die_area_mm2,yield\nx,100,41.5\n",
            ["line 2", "field 'yield'", "percent"],
        ),
        ("bad.json", "[{", ["bad.json", "not valid JSON"]),
        ("zero.csv", "name,die_area_mm2,yield_low,yield_high\nx,100,0,0.5\n", ["'x'", "above 0"]),
    ],
)
def test_bad_file_content_is_a_domain_error(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path, name: str, text: str, needles: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = run(runner, cli, ["--observations", str(path), "--model", "poisson"])
    assert_one_line_error(result, 1, *needles)


@pytest.mark.parametrize(
    ("name", "data", "needles"),
    [
        ("latin1.csv", b"name,die_area_mm2,yield,note\nA,100,0.5,caf\xe9\n", ["line 2", "UTF-8"]),
        ("utf16.csv", "name,die_area_mm2,yield\nA,100,0.5\n".encode("utf-16"), ["UTF-16"]),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, ["nested too deeply"]),
        ("zero.csv", b"name,die_area_mm2,yield\nA,100,0\n", ["line 2", "field 'yield'", "above 0"]),
        ("null.json", b'[{"name": "A", "die_area_mm2": 100, "yield": null}]', ["field 'yield'"]),
    ],
)
def test_unreadable_observation_files_are_one_line_domain_errors(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path, name: str, data: bytes, needles: list[str]
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    result = run(runner, cli, ["--observations", str(path), "--model", "poisson"])
    assert_one_line_error(result, 1, name, *needles, command="calibrate")


def test_spreadsheet_csv_is_read(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfname,die_area_mm2,yield\r\nA,100,0.5\r\n")
    data = run_json(runner, cli, ["--observations", str(path), "--model", "poisson"])
    assert data["fits"][0]["observations"][0]["name"] == "A"
    # Poisson: D0 = -ln(0.5) / 1 cm²
    assert data["fits"][0]["parameters"][D0] == pytest.approx(math.log(2.0), rel=1e-8)


def test_domain_errors(runner, cli) -> None:  # type: ignore[no-untyped-def]
    too_many = ["--model", "negative_binomial", *TSMC, "--free", f"{D0},gross_yield,alpha"]
    assert_one_line_error(run(runner, cli, too_many), 1, "3 free parameters", "only 2 observations")
    empty = run(runner, cli, [*TSMC, "--counts", "good-or-degraded"])
    assert_one_line_error(empty, 1, "no observations match", "TSMC N7")


def test_plot_into_missing_directory_is_a_domain_error(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "missing" / "curves.png"
    result = run(runner, cli, ["--model", "poisson", *TSMC, "--plot", str(target)])
    assert_one_line_error(result, 1, "cannot access")
    assert not target.parent.exists()


def test_counts_all_fits_each_kind_of_count_separately(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--model", "poisson", *SMIC, "--counts", "all"])
    by_counts = {fit["observations"][0]["counts"]: fit for fit in data["fits"]}
    assert set(by_counts) == {"fully-good", "good-or-degraded"}
    # The FT's 40 % good-or-degraded alone: Poisson D0 = −ln(0.4)/6.6561 cm².
    ft = by_counts["good-or-degraded"]
    assert [o["name"] for o in ft["observations"]] == ["910B (FT)"]
    assert ft["parameters"][D0] == pytest.approx(-math.log(0.4) / 6.6561, rel=1e-7)
    text = run(runner, cli, ["--model", "poisson", *SMIC, "--counts", "all"]).stdout
    assert "SMIC N+2 (good-or-degraded yields): poisson" in text
    table = run(runner, cli, [*SMIC, "--counts", "all", "--free", D0]).stdout
    assert "SMIC N+2 (good-or-degraded yields): fitted to 910B (FT) 40 %" in table


def test_held_out_met_is_its_own_line_and_column(runner, cli) -> None:  # type: ignore[no-untyped-def]
    one = run(runner, cli, ["--model", "seeds", "--fit-to", "GA100", *TSMC]).stdout
    assert "fitted observations met: yes" in one and "held-out observations met: no" in one
    table = run(runner, cli, ["--fit-to", "GA100", *TSMC, "--free", D0]).stdout
    assert "fit met" in table and "held-out met" in table and "all met" not in table


def test_constraint_line_of_a_one_point_fit(runner, cli) -> None:  # type: ignore[no-untyped-def]
    out = run(runner, cli, ["--model", "poisson", "--fit-to", "GA100", *TSMC]).stdout
    assert "constraint: 1 constraining observation for 1 free parameter: exactly determined" in out
    assert "identifiable" not in out


def test_tolerance_help_states_the_scale(runner, cli) -> None:  # type: ignore[no-untyped-def]
    help_text = " ".join(run(runner, cli, ["--help"]).stdout.split())
    assert "0.01 is about 1 % of the yield, relative (±0.2 points at 20 %)" in help_text


def test_comparison_prints_exact_ranges_and_widened_ones_apart(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Issue 10 §2.4: exact (tolerance 0) NB alpha [0.603, 2.102], Poisson Y0 [0.596, 0.890];
    # with the 0.01 log-yield tolerance [0.5824, 2.374] and [0.5877, 0.9022], labelled apart.
    import json

    result = runner.invoke(cli, ["calibrate", "--process", "SMIC N+2"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    exact = out[out.index("exactly (D0 solved for)") : out.index("widened by the fit tolerance")]
    widened = out[out.index("widened by the fit tolerance") :]
    assert "alpha: [0.6034, 2.102]" in exact and "gross_yield: [0.5959, 0.8898]" in exact
    assert "alpha: [0.5824, 2.374]" in widened and "gross_yield: [0.5877, 0.9022]" in widened
    data = json.loads(
        runner.invoke(cli, ["calibrate", "--process", "SMIC N+2", "--format", "json"]).stdout
    )
    comparison = data["comparisons"][0]
    nb = next(r for r in comparison["feasible_ranges_exact"] if r["model"] == "negative_binomial")
    assert nb["intervals"][0][0] == pytest.approx(0.6034, abs=1e-4)
