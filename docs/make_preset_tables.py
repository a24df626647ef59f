"""Write the per-preset sections at the end of docs/scenarios.md from the preset files.

Run ``python docs/make_preset_tables.py`` after changing a preset;
``tests/test_scenarios.py`` checks that the file is up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from waferlab.scenarios import list_scenarios, load_scenario, parameter_unit

DOC = Path(__file__).resolve().parent / "scenarios.md"
MARKER = "The sections below list every value of every preset with its source, as the\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.10g}" if abs(value) >= 1000 else f"{value:.10g}"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _number(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def section(name: str) -> str:
    """Return the Markdown section of one preset."""
    s = load_scenario(name)
    lines = [f"### `{name}`", "", s.description, ""]
    if s.inherits:
        lines += [
            f"Inherits `{s.inherits}`; the table lists the resolved values, inherited ones "
            "included.",
            "",
        ]
    lines += ["| key | value | unit | source |", "|---|---|---|---|"]
    for table in (s.parameters, s.timeline, s.costs):
        for key, value in table.items():
            shown = _value(value)
            if table is s.timeline:
                shown = f"`[timeline]` {shown}"
            unit = parameter_unit(key)
            unit = "" if unit == "1" else unit
            lines.append(f"| `{key}` | {shown} | {unit} | {s.sources[key]} |")
    lines.append("")
    if s.distributions:
        lines += [
            "Distributions (`[distributions]`, used by `waferlab uncertainty`):",
            "",
            "| input | distribution | p5 | median | p95 | source |",
            "|---|---|---|---|---|---|",
        ]
        for key, d in s.input_distributions().items():
            spec = s.distributions[key]
            source = s.sources[f"distributions.{key}"]
            quantiles = " | ".join(_number(q) for q in (d.p5, d.median, d.p95))
            lines.append(f"| `{key}` | {_value(spec)} | {quantiles} | {source} |")
        lines.append("")
    if s.correlations:
        pairs = ", ".join(f"`{a}` ~ `{b}` {rho:+g}" for a, b, rho in s.input_correlations())
        lines += [f"Rank correlations (`[[correlations]]`): {pairs}.", ""]
    if s.published:
        figures = ", ".join(f"`{k}` = {_value(v)}" for k, v in s.published.items() if k != "source")
        lines += [f"Published figures (`[published]`, {s.published['source']}): {figures}.", ""]
    if s.notes:
        paragraphs = [" ".join(p.split()) for p in s.notes.split("\n\n") if p.strip()]
        lines += ["Notes in the file:", ""]
        lines.append("\n>\n".join(f"> {p}" for p in paragraphs))
        lines.append("")
    return "\n".join(lines)


def document() -> str:
    """Return docs/scenarios.md with its preset sections regenerated."""
    text = DOC.read_text(encoding="utf-8")
    head = text[: text.index(MARKER)]
    intro = MARKER + "files state them (`waferlab scenarios show NAME` prints the same).\n\n"
    return head + intro + "\n".join(section(name) for name in list_scenarios())


if __name__ == "__main__":
    new = document()
    if "--check" in sys.argv:
        sys.exit(0 if new == DOC.read_text(encoding="utf-8") else 1)
    DOC.write_text(new, encoding="utf-8")
