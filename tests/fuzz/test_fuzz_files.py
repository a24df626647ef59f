"""Fuzz the file readers: mutated scenario files and observations files.

A file either loads, or is refused with a :class:`~waferlab.errors.WaferlabError`
whose message is one line of bounded length; never another exception, never a
hang. Scenario files are the built-in presets mutated (bytes flipped, lines
dropped or repeated, nasty values and deep nesting inserted, inherits pointed
anywhere).
"""

from __future__ import annotations

import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from _contract import count, examples, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waferlab.errors import WaferlabError
from waferlab.observations import load_observations
from waferlab.scenarios import list_scenarios, load_scenario

SETTINGS = settings(
    max_examples=examples(150),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

PRESETS = {
    name: (resources.files("waferlab.scenarios") / f"{name}.toml").read_text(encoding="utf-8")
    for name in list_scenarios()
}

NASTY_VALUES = [
    "nan",
    "inf",
    "-inf",
    "-0.0",
    "1e308",
    "-1",
    "9" * 400,
    "9" * 5000,
    "0x7fffffffffffffff",
    '"text"',
    "true",
    "[1, 2]",
    "{ a = 1 }",
    "[" * 500 + "]" * 500,
    '"' + "x" * 20000 + '"',
    "1979-05-27",
    "07:32:00",
    '"\\u0000"',
    "2147483648",
    "9223372036854775807",
]
INHERITS = [
    "../x.toml",
    "/etc/passwd",
    "~/x.toml",
    "/proc/self/environ",
    "sub/../../x.toml",
    "x.toml",
    "csis-2025-smic-target",
    "nosuch",
    "",
    "a\\u0000b.toml",
    "." * 300 + ".toml",
]


@st.composite
def mutated_scenarios(draw: Any) -> bytes:
    text = PRESETS[draw(st.sampled_from(sorted(PRESETS)))]
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["value", "drop", "repeat", "inherits", "bytes", "table"]))
        k = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "value" and "=" in lines[k]:
            key = lines[k].split("=", 1)[0]
            lines[k] = f"{key}= {draw(st.sampled_from(NASTY_VALUES))}"
        elif kind == "drop" and lines:
            del lines[k]
        elif kind == "repeat" and lines:
            lines.insert(k, lines[k])
        elif kind == "inherits":
            lines.insert(0, f'inherits = "{draw(st.sampled_from(INHERITS))}"')
        elif kind == "table":
            lines.insert(k, draw(st.sampled_from(["[parameters]", "[x]", "[[a]]", "[a.b.c.d.e]"])))
    data = bytearray("\n".join(lines).encode("utf-8"))
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 3))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _refused_cleanly(exc: WaferlabError) -> None:
    message = str(exc)
    assert message and "\n" not in message, message
    assert len(message) < 3000, len(message)
    assert "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" not in message


@SETTINGS
@given(mutated_scenarios())
def test_mutated_scenario_files(data: bytes) -> None:
    count("files scenario")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "box" / "s.toml"
        path.parent.mkdir()
        path.write_bytes(data)
        Path(tmp, "x.toml").write_text('api_token = "s3cret"\n')
        try:
            with time_limit(10.0):
                scenario = load_scenario(path)
        except WaferlabError as exc:
            _refused_cleanly(exc)
            assert "s3cret" not in str(exc) and "api_token" not in str(exc)
            return
        scenario.funnel_inputs()  # a loaded scenario builds its inputs


CELLS = st.one_of(
    st.sampled_from(["0.5", "100", "", "nan", "-0", "1e400", "٥", "1_0", "x" * 20000, '"', "\x00"]),
    st.text(max_size=8),
)
COLUMNS = ["name", "die_area_mm2", "yield", "yield_low", "yield_high", "process", "note", "bogus"]


@st.composite
def csv_files(draw: Any) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=6))
    rows = draw(st.lists(st.lists(CELLS, max_size=7), max_size=6))
    text = ",".join(header) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b""])) + data
    return data


JSON_DOCS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*COLUMNS, "observations"]), inner, max_size=5),
    ),
    max_leaves=20,
)


@SETTINGS
@given(st.one_of(csv_files().map(lambda d: ("csv", d)), JSON_DOCS.map(lambda d: ("json", d))))
def test_observation_files(case: tuple[str, Any]) -> None:
    import json

    count("files observations")
    kind, content = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"obs.{kind}"
        if kind == "csv":
            path.write_bytes(content)
        else:
            path.write_text(json.dumps(content), encoding="utf-8")
        try:
            with time_limit(10.0):
                observations = load_observations(path)
        except WaferlabError as exc:
            _refused_cleanly(exc)
            return
        assert observations
        for obs in observations:
            assert 0.0 < obs.yield_low <= obs.yield_high <= 1.0
            assert obs.die_area_mm2 > 0.0


def test_deep_json_and_huge_numbers(tmp_path: Path) -> None:
    for text in ("[" * 100_000 + "]" * 100_000, "[" + "9" * 5000 + "]", "[1e400]"):
        path = tmp_path / "obs.json"
        path.write_text(text)
        try:
            load_observations(path)
        except WaferlabError as exc:
            _refused_cleanly(exc)
    assert os.listdir(tmp_path) == ["obs.json"]
