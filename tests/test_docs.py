"""The documentation stays true: README examples run, every option is documented, links resolve."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import click
import pytest

from waferlab.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))


def _leaf_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    out = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                leaf = command.get_command(ctx, sub)
                assert leaf is not None
                out.append((f"{name} {sub}", leaf))
        else:
            out.append((name, command))
    return out


def test_readme_python_examples_run() -> None:
    failures, tried = doctest.testfile(
        str(ROOT / "README.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert tried > 0
    assert failures == 0


@pytest.mark.parametrize(("name", "command"), _leaf_commands())
def test_every_option_is_in_the_cli_reference(name: str, command: click.Command) -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"## waferlab {name}" in text
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--"):
                assert opt in text, f"{opt} of waferlab {name} is not in docs/cli.md"


@pytest.mark.parametrize("path", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_quickstart_has_two_commands_and_ci_runs_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```console\n(.+?)\n```", quickstart)
    assert len(commands) == 2
    main_job, tests = commands
    assert main_job.endswith("waferlab report")
    assert tests.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert 'pip install -q -e ".[test]"' in ci
    assert "pytest" in ci
    assert "waferlab report" in ci


def _readme_console_blocks() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n\$ waferlab (.+?)\n(.*?)\n```", readme, re.S)
    return [(args, out) for args, out in blocks if not args.startswith("report")]


@pytest.mark.parametrize(("args", "expected"), _readme_console_blocks())
def test_readme_console_output_is_real(runner, cli, args: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, args.split())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == expected


def test_readme_report_summary_is_real(runner, cli, cached_report) -> None:  # type: ignore[no-untyped-def]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pasted = re.search(r"```text\n\$ waferlab report\n(.*?)\n\nWrote", readme, re.S)
    assert pasted is not None
    result = runner.invoke(cli, ["report", "--no-files"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == pasted.group(1)


def _console_blocks(name: str) -> list[tuple[str, str]]:
    text = (ROOT / "docs" / name).read_text(encoding="utf-8")
    return re.findall(r"```console\n\$ waferlab (.+?)\n(.*?)\n```", text, re.S)


@pytest.mark.parametrize(("args", "expected"), _console_blocks("timeline.md"))
def test_timeline_doc_console_output_is_real(runner, cli, args: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    import shlex

    result = runner.invoke(cli, shlex.split(args))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == expected


_HELP_BLOCK = re.compile(r"```console\n\$ waferlab ((?:[a-z0-9 ]+ )?)--help\n(.*?)\n```", re.S)


def _help_blocks() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    return [(m.group(1).strip(), m.group(2)) for m in _HELP_BLOCK.finditer(text)]


def test_cli_md_shows_every_command_help() -> None:
    shown = {name for name, _ in _help_blocks()}
    assert shown >= {name for name, _ in _leaf_commands()} | {""}


@pytest.mark.parametrize(("name", "pasted"), _help_blocks(), ids=lambda v: v[:30] or "waferlab")
def test_cli_md_help_is_the_real_help(name: str, pasted: str) -> None:
    # as printed on an 80-column terminal (click wraps help to its width - 2)
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*name.split(), "--help"], terminal_width=78)
    assert result.exit_code == 0
    assert result.output.rstrip("\n") == pasted
