"""The report's bottom line, its tables and report.html, checked against the engine.

Figures of the bottom line are recomputed here by other routes than the report's
(the CSIS chain in closed form on the same draws, the cost ladder of
:mod:`waferlab.economics`, the month-by-month engine called directly), never
compared with numbers copied from a run.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from waferlab.report import BOTTOM_LINE_DRAWS, BOTTOM_LINE_METHOD, MILESTONE_UNITS


@pytest.fixture()
def bottom(built_report):  # type: ignore[no-untyped-def]
    return built_report.data["bottom_line"]


def _three_figures(x: float) -> str:
    return f"{float(f'{x:.3g}'):,.0f}"


def test_per_month_range_is_the_csis_chain_on_the_same_draws(bottom) -> None:  # type: ignore[no-untyped-def]
    # R's chain, W x 80 dies x Y / 2 dies per package (whole packages) x packaging yield,
    # written out here for the draws the report uses; quantiles must agree.
    from waferlab.scenarios import load_scenario
    from waferlab.uncertainty import sample

    scenario = load_scenario("csis-2025-smic-target")
    x = sample(
        scenario.input_distributions(),
        BOTTOM_LINE_DRAWS,
        seed=0,
        method=BOTTOM_LINE_METHOD,
        correlations=scenario.input_correlations(),
    )
    units = np.floor(x["wafer_starts_per_month"] * 80 * x["die_yield"] / 2) * x["packaging_yield"]
    expected = np.quantile(units, [0.05, 0.5, 0.95])
    got = bottom["scenario"]["per_month"]
    assert [got["p5"], got["p50"], got["p95"]] == pytest.approx(expected, rel=1e-6)
    assert bottom["scenario"]["per_month_as_published"] == 300_000  # R: 300,000 a month


def test_cost_as_published_is_the_cost_ladder(bottom) -> None:  # type: ignore[no-untyped-def]
    from waferlab.economics import cost_breakdown
    from waferlab.funnel import run_funnel
    from waferlab.scenarios import load_scenario

    scenario = load_scenario("csis-2025-smic-target")
    ladder = cost_breakdown(run_funnel(scenario.funnel_inputs()), scenario.cost_inputs())
    cost = bottom["scenario"]["cost_per_tested_unit_usd"]
    assert cost["as_published"] == pytest.approx(ladder.cost_per_tested_unit_usd, rel=1e-9)
    assert cost["p5"] < cost["p50"] < cost["p95"]


@pytest.mark.parametrize("name", ["morgan-stanley-2025-2027", "semianalysis-2025-2027-ramp"])
def test_paths_as_published_are_the_engine_month_by_month(bottom, name: str) -> None:  # type: ignore[no-untyped-def]
    from waferlab.funnel import run_timeline
    from waferlab.scenarios import load_scenario

    monthly = run_timeline(load_scenario(name).funnel_inputs()).final_units[0]
    path = bottom["paths"][name]
    years = path["years"]
    assert list(years) == ["2025", "2026", "2027"]
    for j, year in enumerate(years.values()):
        assert year["as_published"] == pytest.approx(monthly[12 * j : 12 * j + 12].sum())
        assert year["p5"] <= year["p50"] <= year["p95"]
    reached = np.flatnonzero(np.cumsum(monthly) >= MILESTONE_UNITS)
    assert path["milestone"]["as_published"] == reached[0]
    m = path["milestone"]
    assert m["p5"] <= m["p50"] <= m["p95"]


def test_binding_follows_the_engine(bottom) -> None:  # type: ignore[no-untyped-def]
    # SemiAnalysis: 13 M + 2 M/yr HBM stacks at 8 per 910C bind; the CSIS ramp models no HBM.
    assert set(bottom["paths"]["semianalysis-2025-2027-ramp"]["binding"]["as_published"]) == {"hbm"}
    assert set(bottom["paths"]["csis-2025-ramp"]["binding"]["as_published"]) == {"none"}


def test_top_inputs_are_the_largest_swings(bottom) -> None:  # type: ignore[no-untyped-def]
    # Closed form at the medians: W x 80 x Y / 2 x p with one input at its p5 and p95.
    from waferlab.scenarios import load_scenario

    d = load_scenario("csis-2025-smic-target").input_distributions()
    med = {
        k: float(d[k].ppf(0.5)) for k in ("wafer_starts_per_month", "die_yield", "packaging_yield")
    }

    def units(**x: float) -> float:
        v = {**med, **x}
        return v["wafer_starts_per_month"] * 80 * v["die_yield"] / 2 * v["packaging_yield"]

    swings = {
        k: units(**{k: float(d[k].ppf(0.95))}) - units(**{k: float(d[k].ppf(0.05))}) for k in med
    }
    expected = sorted(swings, key=lambda k: -swings[k])
    assert [row["input"] for row in bottom["top_inputs"]] == expected
    for row in bottom["top_inputs"]:
        assert row["swing"] == pytest.approx(swings[row["input"]], rel=1e-3)


def test_ranges_are_stable_to_three_figures() -> None:
    # Another seed of the same draw count: the p5 and p95 agree to 3 significant figures.
    from waferlab.report import scenario_ranges
    from waferlab.scenarios import load_scenario

    for name in ("csis-2025-smic-target", "morgan-stanley-2025-2027"):
        scenario = load_scenario(name)
        a, b = scenario_ranges(scenario, seed=0), scenario_ranges(scenario, seed=1)
        pairs = [(a["per_month"], b["per_month"])]
        pairs += [(a["years"][y], b["years"][y]) for y in a["years"]]
        for qa, qb in pairs:
            for k in ("p5", "p95"):
                assert qa[k] == pytest.approx(qb[k], rel=1e-3), (name, k)


def test_markdown_opens_with_the_bottom_line(built_report, bottom) -> None:  # type: ignore[no-untyped-def]
    lines = built_report.markdown.splitlines()
    first_section = next(i for i, line in enumerate(lines) if line.startswith("## 1."))
    assert first_section <= 30  # the answers fit the first screen
    head = "\n".join(lines[:first_section])
    assert lines[4] == "## Bottom line"
    per_month = bottom["scenario"]["per_month"]
    assert f"**{_three_figures(per_month['p50'])}** ({_three_figures(per_month['p5'])}–" in head
    for row in bottom["top_inputs"]:
        assert row["input"] in head
    assert "1 M to date by" in head and "Cost per finished 910C" in head
    # Method and sources come after the sections.
    assert built_report.markdown.index("## Method") > built_report.markdown.index("## 4.")


def test_scenario_table_has_one_time_basis_per_column(built_report) -> None:  # type: ignore[no-untyped-def]
    md = built_report.markdown
    header = next(line for line in md.splitlines() if line.startswith("| scenario |"))
    columns = [c.strip() for c in header.strip("|").split("|")]
    for column in columns:
        assert not ("month" in column and "year" in column), column
    row = next(line for line in md.splitlines() if "`semianalysis-2025-hbm-bound`" in line)
    cells = dict(zip(columns, [c.strip() for c in row.strip("|").split("|")], strict=True))
    result = built_report.data["funnels"]["scenarios"]["semianalysis-2025-hbm-bound"]
    assert cells["finished over the horizon"] == f"{result['final_units']:,.0f}"
    # SemiAnalysis: 2.9 M TSMC dies, 13 M HBM stacks
    assert cells["one-off stocks"] == "2,900,000 die-bank dies; 13,000,000 HBM stacks"
    target = next(line for line in md.splitlines() if line.startswith("| `csis-2025-smic-target`"))
    assert "300,000" in target  # R: 300,000 a month


def test_html_is_one_self_contained_page(built_report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import base64

    page = built_report.html()
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(built_report.figures)
    for png in built_report.figures.values():
        assert "data:image/png;base64," + base64.b64encode(png).decode() in sources
    assert "<h2>Bottom line</h2>" in page and "<table>" in page
    assert not re.search(r'(href|src)="(?!data:)', page)
    written = built_report.write(tmp_path / "rep")
    assert [p.name for p in written][:3] == ["report.md", "report.html", "report.json"]


def test_report_on_a_users_scenario_file(tmp_path: Path) -> None:
    from waferlab.report import _bottom_line
    from waferlab.scenarios import load_scenario

    path = tmp_path / "my-fab.toml"
    path.write_text(
        'name = "my-fab"\ndescription = "mine"\ninherits = "csis-2025-smic-target"\n'
        "[parameters]\nwafer_starts_per_month = 10_000\n"
    )
    md, summary, data = _bottom_line(load_scenario(str(path)), {})
    assert data["scenario"]["per_month_as_published"] == pytest.approx(
        60_000
    )  # 10k x 80 x .2/2 x .75
    assert "`my-fab`" in md and summary[0].startswith("Bottom line (my-fab")


def test_cli_passes_the_scenario(runner, cli, monkeypatch, built_report) -> None:  # type: ignore[no-untyped-def]
    import waferlab.report

    calls = []

    def fake(scenario=None, *, render=True):  # type: ignore[no-untyped-def]
        calls.append((scenario, render))
        return built_report

    monkeypatch.setattr(waferlab.report, "build_report", fake)
    assert runner.invoke(cli, ["report", "--no-files"]).exit_code == 0
    assert calls[-1] == (None, False)  # no figure is drawn for --no-files
    result = runner.invoke(cli, ["report", "csis-2025-smic-current", "--no-files"])
    assert result.exit_code == 0, result.stderr
    assert calls[-1][0].name == "csis-2025-smic-current"
    args = ["report", "--scenario", "bis-2025-ceiling", "--set", "die_yield=0.3", "--no-files"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    assert calls[-1][0].funnel_inputs().die_yield == 0.3
    result = runner.invoke(cli, ["report", "a", "--scenario", "b", "--no-files"])
    assert result.exit_code == 2 and result.stderr.startswith("waferlab report: error:")


def test_uncertainty_doc_pastes_the_real_bottom_line(built_report) -> None:  # type: ignore[no-untyped-def]
    doc = (Path(__file__).resolve().parents[1] / "docs" / "uncertainty.md").read_text()
    pasted = re.search(r"## In the report: the bottom line\n.*?```text\n(.*?)\n```", doc, re.S)
    assert pasted is not None
    md = built_report.markdown
    start = md.index("## Bottom line\n") + len("## Bottom line\n")
    section = md[start : md.index("\n## ", start)]
    assert pasted.group(1).strip() == section.strip()


def test_report_on_a_users_multi_month_scenario(tmp_path: Path) -> None:
    from waferlab.funnel import run_timeline
    from waferlab.report import _bottom_line
    from waferlab.scenarios import load_scenario

    path = tmp_path / "my-ramp.toml"
    path.write_text(
        'name = "my-ramp"\ndescription = "mine"\ninherits = "morgan-stanley-2025-2027"\n'
        "[parameters]\ncapacity_share = 0.8\n"
    )
    scenario = load_scenario(str(path))
    md, _, data = _bottom_line(scenario, {})
    monthly = run_timeline(scenario.funnel_inputs()).final_units[0]
    years = data["scenario"]["years"]
    assert [y["as_published"] for y in years.values()] == pytest.approx(
        [monthly[:12].sum(), monthly[12:24].sum(), monthly[24:].sum()]
    )
    assert data["scenario"]["per_month_as_published"] == pytest.approx(monthly.mean())
    assert "on average over its 36 months from Jan 2025" in md and "per calendar year, 2025:" in md
