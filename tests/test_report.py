"""The end-to-end report (library and ``waferlab report``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest


@pytest.fixture()
def report(built_report):  # type: ignore[no-untyped-def]
    return built_report


def test_report_reproduces_the_csis_chain(report) -> None:  # type: ignore[no-untyped-def]
    # CSIS 2025 (Allen): 50,000 WPM x 80 = 4 M dies; x 20 % = 800,000 good;
    # / 2 = 400,000 packages; x 75 % = 300,000.
    target = report.data["funnels"]["scenarios"]["csis-2025-smic-target"]
    quantities = {stage["name"]: stage["quantity"] for stage in target["stages"]}
    assert quantities["gross dies"] == 4_000_000
    assert quantities["good dies"] == pytest.approx(800_000)
    assert quantities["packages before packaging loss"] == 400_000
    assert target["final_units"] == pytest.approx(300_000)


def test_report_formula_gives_the_reports_80(report) -> None:  # type: ignore[no-untyped-def]
    # SOURCES.md §2: the classic formula gives 80.4 for d = 300 mm, S = 665.61 mm².
    assert report.data["dies"]["formula_dies_report_assumptions"] == pytest.approx(80.4, abs=0.05)


def test_report_yield_claims(report) -> None:  # type: ignore[no-untyped-def]
    # Issue 3 §7: D0 implied by 41.5 % at 826 mm²: Poisson 0.1065, Murphy 0.1156 per cm².
    claims = {c["model"]: c for c in report.data["yield"]["claims"]}
    assert claims["poisson"]["d0_from_ga100_per_cm2"] == pytest.approx(0.1065, abs=5e-4)
    assert claims["murphy"]["d0_from_ga100_per_cm2"] == pytest.approx(0.1156, abs=5e-4)
    for claim in claims.values():
        assert claim["a12_predicted"] >= 0.90  # R: A12 >= 90 %
        assert claim["kirin_predicted"] > 0.70  # above R's 50-70 % range: inconsistent


def test_report_markdown_references_every_figure(report) -> None:  # type: ignore[no-untyped-def]
    for name, png in report.figures.items():
        assert f"]({name})" in report.markdown
        assert png.startswith(b"\x89PNG")
    assert "## Assumptions and sources" in report.markdown


def test_report_command_writes_files(runner, cli, cached_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rep"
    result = runner.invoke(cli, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "Dies per wafer" in result.stdout
    assert "report.md" in result.stdout
    for name in (
        "report.md",
        "report.json",
        "wafer_map_910b.png",
        "yield_curves.png",
        "funnel_csis_target.png",
        "cost_breakdown.png",
    ):
        assert (out / name).stat().st_size > 0
    data = json.loads((out / "report.json").read_text())
    assert data["funnels"]["scenarios"]["csis-2025-smic-current"]["final_units"] == pytest.approx(
        120_000  # 20,000 WPM x 80 x 20 % / 2 x 75 % (R's inputs)
    )


def test_report_command_json_and_no_files(runner, cli, cached_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    os.chdir(tmp_path)
    result = runner.invoke(cli, ["report", "--no-files", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["files"] == []
    assert os.listdir(tmp_path) == []


def test_report_command_unwritable_directory(runner, cli, cached_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(cli, ["report", "--out", str(blocker / "sub")])
    assert result.exit_code in (1, 2)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_report_refuses_a_folder_that_is_not_a_report(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A folder holding anything a report does not write (here a sub-folder) is someone's
    # work: refused before the computation unless --force, and left untouched.
    out = tmp_path / "rep"
    (out / "cost_breakdown.png").mkdir(parents=True)
    result = runner.invoke(cli, ["report", "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith("waferlab report: error:")
    assert "--out" in result.stderr and "--force" in result.stderr
    assert sorted(os.listdir(out)) == ["cost_breakdown.png"]


def test_report_out_errors(runner, cli, cached_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from _cli import assert_one_line_error

    assert_one_line_error(runner.invoke(cli, ["report", "--out", ""]), 2, "--out", command="report")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    err = assert_one_line_error(
        runner.invoke(cli, ["report", "--out", str(a_file)]), 1, command="report"
    )
    assert "not a directory" in err
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "missing")
    assert_one_line_error(runner.invoke(cli, ["report", "--out", str(dangling)]), 1)
    # --no-files writes nothing, so --out is not looked at.
    result = runner.invoke(cli, ["report", "--no-files", "--out", str(a_file)])
    assert result.exit_code == 0, result.stderr
