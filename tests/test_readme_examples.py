"""Every input file the README shows is accepted by the command it is written for: the
examples are read from README.md (a fenced block after ``<!-- file: NAME -->``) and run
through the CLI in the order a clinic would, the ids each command prints put in place of
the README's placeholders."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"<!-- file: (?P<name>[\w.]+) -->\n```\w*\n(?P<body>.*?)```", re.S)


def readme_files() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _BLOCK.finditer(README.read_text(encoding="utf-8"))}


def test_the_readme_shows_an_example_for_every_file_a_command_reads():
    assert set(readme_files()) >= {"PATIENT.json", "SESSION.json", "EVENT.json", "SCORE.json",
                                   "READINGS.csv", "CURVE.csv", "CAPTURES.csv"}


def test_every_readme_example_is_accepted(cli, store_settings, tmp_path):
    files = readme_files()

    def write(name: str, **ids: str) -> Path:
        text = files[name]
        for placeholder, value in ids.items():
            text = text.replace(placeholder, value)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    def ok(*args):
        result = cli(*args, "--json")
        assert result.code == 0, (args, result.stderr)
        return result.json()

    for command in (("screen",), ("plan",)):
        ok(*command, write("PATIENT.json"))
    patient = ok("patient", "add", write("PATIENT.json"))["id"]
    ok("patient", "consent", patient, "--kind", "treatment", "--version", "2026-01")
    visit = ok("visit", "add", patient, "--timepoint", "baseline", "--date", "2026-11-21")["id"]
    ids = {"P-XXXXXX": patient, "V-XXXXXXXXXX": visit}
    session = ok("session", "add", write("SESSION.json", **ids))["id"]
    ok("event", "add", write("EVENT.json", **{"S-XXXXXXXXXX": session}))
    ok("score", "add", write("SCORE.json", **ids))
    readings = ok("measure", "colour", write("READINGS.csv"))
    assert len(readings) == 2 and readings[0]["ita_deg"] is not None
    curves = ok("measure", "elasticity", write("CURVE.csv"))
    assert curves[0]["parameters"]["R0"] is not None
    summary = ok("repeatability", write("CAPTURES.csv"))
    assert "wrinkles.length_mm" in str(summary)
