"""``report --out`` under faults: concurrent writers, signals, a full disk, bad folders.

The report folder is written whole (built aside, renamed into place), writers
serialise on a lock, and an interruption leaves neither a partial folder nor a
temporary file behind. The real report is replaced by a small one (the writing,
not the computing, is under test), in subprocesses where signals are involved.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _cli import assert_one_line_error

from waferlab.report import Report, is_report_folder

FIGURES = 5


def small_report(tag: int) -> Report:
    figures = {f"fig{j}.png": bytes([tag]) * 100_000 for j in range(FIGURES)}
    return Report(markdown=f"# writer {tag}\n", summary=f"writer {tag}\n", figures=figures)


@pytest.fixture()
def small(monkeypatch):  # type: ignore[no-untyped-def]
    import waferlab.report

    monkeypatch.setattr(waferlab.report, "build_report", lambda *a, **k: small_report(7))


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


WRITER = """
import sys, time
from pathlib import Path
from waferlab.report import Report
out, tag, gate = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
figures = {{f"fig{{j}}.png": bytes([tag]) * 100_000 for j in range({figures})}}
report = Report(markdown=f"# writer {{tag}}\\n", summary="", figures=figures)
(gate / f"ready{{tag}}").touch()
while not (gate / "go").exists():  # start together, once every writer is loaded
    time.sleep(0.005)
report.write(out)
"""


def test_concurrent_writers_leave_one_complete_report(tmp_path: Path) -> None:
    # Six writers released at once over an earlier report: each succeeds, and the folder
    # is one writer's complete report (before the fix: a mix of their files).
    out, gate = tmp_path / "rep", tmp_path / "gate"
    gate.mkdir()
    small_report(1).write(out)
    script = WRITER.format(figures=FIGURES)
    tags = range(2, 8)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(out), str(k), str(gate)], stderr=subprocess.PIPE
        )
        for k in tags
    ]
    deadline = time.monotonic() + 60
    while len(os.listdir(gate)) < len(tags) and time.monotonic() < deadline:
        time.sleep(0.01)
    (gate / "go").touch()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    names = sorted(os.listdir(out))
    assert names == sorted(
        ["report.md", "report.html", "report.json"] + [f"fig{j}.png" for j in range(FIGURES)]
    )
    tag = int((out / "report.md").read_text().split()[-1])
    assert tag in tags
    for j in range(FIGURES):  # every file from the same writer
        assert (out / f"fig{j}.png").read_bytes() == bytes([tag]) * 100_000
    assert leftovers(tmp_path) == []


SLOW_WRITER = """
import builtins, sys, time
import waferlab.output, waferlab.report
real_open = builtins.open
def slow_open(path, mode="r", *args, **kwargs):
    if mode == "wb":
        print("writing", flush=True)
        time.sleep(0.2)
    return real_open(path, mode, *args, **kwargs)
waferlab.output.open = slow_open
figures = {f"fig{j}.png": b"x" * 1000 for j in range(50)}
waferlab.report.build_report = lambda *a, **k: waferlab.report.Report("# new", "new\\n", figures)
from waferlab.cli.main import cli
cli(["report", "--out", sys.argv[1]])
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("earlier", [False, True])
def test_signal_during_the_write_leaves_nothing_behind(
    tmp_path: Path, signum: int, earlier: bool
) -> None:
    out = tmp_path / "sub" / "rep"
    if earlier:
        small_report(3).write(out)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for _ in range(3):  # three files are being written
        assert proc.stdout.readline() == "writing\n"
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    name = signal.Signals(signum).name
    assert err == f"waferlab report: error: interrupted by {name} (no partial files left behind)\n"
    if earlier:  # the earlier report is untouched
        assert (out / "report.md").read_text() == "# writer 3\n"
        assert leftovers(out.parent) == []
    else:  # no folder at all: not the report, not the parent created for it
        assert os.listdir(tmp_path) == []


def test_full_disk_names_the_path_and_leaves_nothing(
    runner, cli, small, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import builtins

    import waferlab.output

    real_open = builtins.open

    class Full:
        def __init__(self, path: str) -> None:
            self.handle = real_open(path, "wb")

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(waferlab.output, "open", lambda path, mode: Full(path), raising=False)
    out = tmp_path / "new" / "rep"
    result = runner.invoke(cli, ["report", "--out", str(out)])
    line = assert_one_line_error(result, 1, "No space left on device", command="report")
    assert str(out / "report.md") in line
    assert os.listdir(tmp_path) == []


def test_out_is_checked_before_computing(runner, cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import waferlab.report

    def fail(*args: object, **kwargs: object) -> Report:
        raise AssertionError("computed before --out was checked")

    monkeypatch.setattr(waferlab.report, "build_report", fail)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert_one_line_error(
        runner.invoke(cli, ["report", "--out", str(a_file)]), 1, "not a directory"
    )
    assert_one_line_error(
        runner.invoke(cli, ["report", "--out", str(a_file / "sub")]), 1, str(a_file)
    )
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    assert_one_line_error(runner.invoke(cli, ["report", "--out", str(work)]), 2, "--force")
    assert (work / "notes.txt").read_text() == "mine"


def test_replace_rules(runner, cli, small, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rep"
    small_report(1).write(out)
    (out / "old-figure.png").write_bytes(b"old")
    assert is_report_folder(out)
    result = runner.invoke(cli, ["report", "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["files"]) == 3 + FIGURES
    assert "old-figure.png" not in os.listdir(out)  # replaced whole, not merged
    assert (out / "report.md").read_text() == "# writer 7\n"
    (out / "thesis.tex").write_text("mine")
    assert not is_report_folder(out)
    result = runner.invoke(cli, ["report", "--out", str(out), "--force"])
    assert result.exit_code == 0, result.stderr
    assert "thesis.tex" not in os.listdir(out)
    assert leftovers(tmp_path) == []


def test_empty_existing_folder_is_used(runner, cli, small, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rep"
    out.mkdir()
    result = runner.invoke(cli, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert (out / "report.md").exists()


def test_docs_rule_is_stated(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "docs" / "cli.md").read_text()
    assert "--force" in text and "earlier report" in text


@pytest.mark.parametrize("out", [".", "..", "/"])
def test_the_working_directory_is_never_replaced(
    runner, cli, small, tmp_path, monkeypatch, out
) -> None:  # type: ignore[no-untyped-def]
    # Found by the fuzz suite: --out . --force replaced the working directory whole.
    work = tmp_path / "cwd"
    work.mkdir()
    (work / "mine.txt").write_text("mine")
    monkeypatch.chdir(work)
    result = runner.invoke(cli, ["report", "--out", out, "--force"])
    assert_one_line_error(result, 2, "--out", "working directory", command="report")
    assert (work / "mine.txt").read_text() == "mine"


def test_plot_on_a_full_disk_names_the_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import waferlab.output
    from waferlab.output import write_bytes_atomic

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd: int) -> None:
            self.handle = real_fdopen(fd, "wb")

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(waferlab.output.os, "fdopen", lambda fd, mode: Full(fd))
    with pytest.raises(OSError, match="No space left") as info:
        write_bytes_atomic(tmp_path / "plot.png", b"png")
    assert info.value.filename == str(tmp_path / "plot.png")
    assert os.listdir(tmp_path) == []


def test_replacing_without_an_atomic_exchange(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Where renameat2 is missing, the old folder is moved aside, the new one in, the old removed.
    import waferlab.output

    monkeypatch.setattr(waferlab.output, "_rename_exchange", lambda a, b: False)
    out = tmp_path / "rep"
    small_report(1).write(out)
    small_report(2).write(out)
    assert (out / "report.md").read_text() == "# writer 2\n"
    assert sorted(os.listdir(tmp_path)) == ["rep"]
