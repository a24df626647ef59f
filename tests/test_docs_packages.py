"""docs/packages.md and docs/catalog.md stay true: examples run, pasted output is real."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from waferlab.catalog import list_entries, sources

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", ["packages.md", "catalog.md"])
def test_python_examples_run(name: str) -> None:
    failures, tried = doctest.testfile(
        str(DOCS / name),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert tried > 0 and failures == 0


def _console_blocks() -> list[tuple[str, str]]:
    blocks = []
    for name in ("packages.md", "cli.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        blocks += [
            (args, out)
            for args, out in re.findall(r"```console\n\$ waferlab (.+?)\n(.*?)\n```", text, re.S)
            if args.split()[0] in ("package", "catalog") and "--help" not in args
        ]
    return blocks


@pytest.mark.parametrize(("args", "expected"), _console_blocks())
def test_pasted_package_output_is_real(runner, cli, args: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, args.split())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == expected


def test_catalog_page_lists_every_entry_and_source() -> None:
    text = (DOCS / "catalog.md").read_text(encoding="utf-8")
    for entry in list_entries():
        assert f"### `{entry.name}` — {entry.display_name}" in text, entry.name
        for _, fact in entry.facts():
            if fact.source:
                assert f"`{fact.source}`" in text
    for source_id in sources():
        assert f"| `{source_id}` |" in text, source_id
