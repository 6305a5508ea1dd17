"""``dermatrack kb``: the commands, their exit codes and their messages."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

LASER_PAGE = """<!DOCTYPE html><html><head><title>Fractional Lasers</title></head><body>
<nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
<div id="cookies"><p>This website uses cookies for analytics and marketing. Accept all to
consent to our use of cookies.</p></div>
<main><article><h1>Fractional Lasers</h1>
<p>Fractional lasers treat a grid of microscopic columns of skin and leave the tissue
between them intact, so that healing starts from the untreated bridges of skin.</p>
<h2>Mechanism</h2>
<p>Each microthermal zone is a column of coagulated or vaporised tissue a few hundred
micrometres wide, closed by keratinocytes within a day or two.</p>
<h2>Risk</h2>
<p>Post-inflammatory hyperpigmentation is the commonest complication in darker skin types;
lower densities and longer intervals between sessions reduce it.</p>
</article></main>
<footer><p>Subscribe to our newsletter.</p><p>Copyright 2025 DermaNews.</p></footer>
</body></html>"""


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data directory per test, so imports never touch a real one."""
    directory = tmp_path / "data"
    monkeypatch.setenv("DERMATRACK_DATA_DIR", str(directory))
    return directory


def write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def assert_input_error(result, *needles: str) -> None:
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


# ----------------------------------------------------------------------------- parse/format


def test_parse_then_format_reproduces_seed_000(cli, seed_record_path, tmp_path):
    parsed = cli("kb", "parse", seed_record_path, "--json")
    assert parsed.code == 0, parsed.stderr
    data = parsed.json()
    assert isinstance(data, dict)
    assert data["name"] == "Microneedling" and data["extra"] == {}
    assert len(data["treatment_options"]) == 1
    json_file = write(tmp_path / "record.json", parsed.stdout)
    formatted = cli("kb", "format", json_file)
    assert formatted.code == 0, formatted.stderr
    assert formatted.stdout.encode("utf-8") == seed_record_path.read_bytes()


def test_parse_without_json_prints_a_table(cli, seed_record_path):
    result = cli("kb", "parse", seed_record_path)
    assert result.code == 0
    assert "detailed etiology pathogenesis" in result.stdout


def test_several_records_give_an_array_and_format_back(cli, tmp_path):
    text = "name | Peel |\ntype | Procedure |\n\r\nname | Laser |\nsigns | 1 | Redness |\n|\n"
    result = cli("kb", "parse", write(tmp_path / "two.txt", text), "--json")
    assert [r["name"] for r in result.json()] == ["Peel", "Laser"]
    again = cli("kb", "format", write(tmp_path / "two.json", result.stdout))
    # the final newline read is written back
    assert again.stdout == "name | Peel |\ntype | Procedure |\n\nname | Laser |\n" \
                           "signs | 1 | Redness |\n|\n"


@pytest.mark.parametrize(("content", "line", "needle"), [
    ("name | A |\nsigns | 1 | a | 3 | b |\n|", 2, "out of sequence"),
    ("name | A |\nsigns | 1 | a |\ntype | B |", 3, "not closed"),
    ("name | A |\nsigns | 1 | a |", 2, "not closed"),
    ("name | A |\ntype | B |\ntype | C |", 3, "repeats"),
    ("", 1, "empty file"),
    (b"name | A |\n\x89PNG\x00\x00", 2, "binary"),
    (b"\xff\xd8\xff\xe0 JFIF", 1, "binary"),
    ("name | A |\njust some prose", 2, "expected 'field | value |'"),
])
def test_malformed_records_exit_2_with_the_line(cli, tmp_path, content, line, needle):
    path = write(tmp_path / "bad.txt", content)
    assert_input_error(cli("kb", "parse", path, "--json"), f"line {line}", needle, "bad.txt")


def test_missing_and_unreadable_files_are_named(cli, tmp_path):
    assert_input_error(cli("kb", "parse", tmp_path / "nope.txt"), "nope.txt", "no such file")
    assert_input_error(cli("kb", "parse", tmp_path), "is a directory")
    assert_input_error(cli("kb", "format", tmp_path / "nope.json"), "nope.json")
    assert_input_error(cli("kb", "import-article", tmp_path / "gone.html"), "gone.html")


@pytest.mark.parametrize(("content", "needles"), [
    ('{"name": "A",', ("broken.json", "not valid JSON", "line 1")),
    ('[]', ("broken.json", "empty array")),
    ('"text"', ("broken.json", "JSON object")),
    ('{"nmae": "A"}', ("broken.json", "nmae")),
    ('[{"name": "A"}, {"signs": [1]}]', ("broken.json", "[1]", "signs")),
    ('{"summary": "two\\nlines"}', ("broken.json", "line break", "summary")),
    ('{"signs": []}', ("broken.json", "empty list")),
])
def test_format_rejects_bad_json(cli, tmp_path, content, needles):
    assert_input_error(cli("kb", "format", write(tmp_path / "broken.json", content)), *needles)


# ----------------------------------------------------------------------------- articles


def test_import_article_stores_the_seed_topic_and_show_reloads_it(cli, seed_article_path,
                                                                   data_dir):
    result = cli("kb", "import-article", seed_article_path, "--code", "rejuvenation_copy",
                 "--json")
    assert result.code == 0, result.stderr
    topic = result.json()
    titles = [s["title"] for s in topic["sections"]]
    assert titles == ["Context", "Significance", "Mechanism", "Application", "Metric", "Risk"]
    assert not any("cookie" in s["text"].lower() for s in topic["sections"])
    stored = data_dir / "knowledge" / "topics" / "rejuvenation_copy.json"
    assert Path(topic["path"]) == stored and stored.exists()

    shown = cli("kb", "show", "rejuvenation_copy", "--json")
    assert shown.code == 0, shown.stderr
    assert shown.json()["kind"] == "topic"
    assert shown.json()["data"]["sections"] == topic["sections"]
    listed = cli("kb", "list", "--json").json()
    assert {"kind": "topic", "code": "rejuvenation_copy", "title": "Dermal rejuvenation",
            "imported": True} in listed


def test_the_bundled_topic_is_what_import_article_makes_of_seed_004(cli, seed_article_path,
                                                                     data_dir):
    imported = cli("kb", "import-article", seed_article_path, "--replace", "--json").json()
    assert imported["code"] == "dermal_rejuvenation"
    imported.pop("path")
    bundled = resources.files("dermatrack.knowledge").joinpath(
        "data", "topics", "dermal_rejuvenation.json").read_text(encoding="utf-8")
    assert json.loads(bundled) == imported


def test_import_refuses_to_overwrite_without_replace(cli, tmp_path, data_dir):
    page = write(tmp_path / "fractional-lasers.html", LASER_PAGE)
    first = cli("kb", "import-article", page, "--json")
    assert first.code == 0, first.stderr
    assert first.json()["code"] == "fractional_lasers"
    assert [s["title"] for s in first.json()["sections"]] == ["Mechanism", "Risk"]
    assert "cookies" not in json.dumps(first.json()["sections"])
    assert_input_error(cli("kb", "import-article", page), "--replace")
    assert cli("kb", "import-article", page, "--replace").code == 0
    human = cli("kb", "show", "fractional_lasers")
    assert human.code == 0 and "Mechanism" in human.stdout


def test_import_of_nothing_but_boilerplate_stores_nothing(cli, tmp_path, data_dir):
    page = write(tmp_path / "banner.txt", "We use cookies.\nAccept all cookies\nPrivacy policy")
    assert_input_error(cli("kb", "import-article", page), "banner.txt", "boilerplate")
    assert not (data_dir / "knowledge" / "topics").exists()
    article = write(tmp_path / "peel.txt", "Peels\nA peel removes the outer epidermis.")
    assert_input_error(cli("kb", "import-article", article, "--code", "Bad Code"),
                       "topic code")


# ----------------------------------------------------------------------------- list/show/search


def test_list_names_every_record_topic_and_modality(cli):
    result = cli("kb", "list", "--json")
    assert result.code == 0
    items = {(item["kind"], item["code"]) for item in result.json()}
    assert ("record", "microneedling") in items
    assert ("topic", "dermal_rejuvenation") in items
    assert ("modality", "microneedling") in items
    records = resources.files("dermatrack.knowledge").joinpath("data", "records")
    stems = {e.name[:-4] for e in records.iterdir() if e.name.endswith(".txt")}
    assert {code for kind, code in items if kind == "record"} == stems
    assert "microneedling" in cli("kb", "list").stdout


def test_show_a_record_and_a_modality_sharing_its_code(cli):
    record = cli("kb", "show", "microneedling", "--json").json()
    assert record["kind"] == "record" and record["also"] == ["modality"]
    assert record["data"]["type"] == "Cosmetic Procedure"
    modality = cli("kb", "show", "microneedling", "--kind", "modality", "--json").json()
    assert modality["kind"] == "modality" and modality["data"]["code"] == "microneedling"
    human = cli("kb", "show", "microneedling")
    assert human.code == 0 and "Cosmetic Procedure" in human.stdout
    assert cli("kb", "show", "microneedling", "--kind", "modality").code == 0


def test_show_unknown_code_or_kind_exits_2(cli):
    assert_input_error(cli("kb", "show", "no_such_thing"), "no_such_thing")
    assert_input_error(cli("kb", "show", "microneedling", "--kind", "article"), "kind")


def test_search_ranks_and_survives_fts_syntax(cli):
    result = cli("kb", "search", "acne scars", "--limit", "3", "--json")
    assert result.code == 0, result.stderr
    hits = result.json()
    assert 1 <= len(hits) <= 3
    assert hits == sorted(hits, key=lambda h: -h["score"])
    assert set(hits[0]) == {"kind", "code", "title", "snippet", "score"}
    for query in ('"acne', "acne AND (", "NEAR(scar*", "title:"):
        assert cli("kb", "search", query, "--json").code in (0, 2)
    assert cli("kb", "search", '"acne', "--json").code == 0
    assert_input_error(cli("kb", "search", "***"), "no word")
    assert "microneedling" in cli("kb", "search", "microneedling").stdout


# ----------------------------------------------------------------------------- validate


def test_validate_passes_on_the_bundled_data(cli):
    result = cli("kb", "validate", "--json")
    report = result.json()
    assert report["problems"] == [] and report["ok"] is True, report["problems"]
    assert result.code == 0
    assert report["records"] >= 1 and report["topics"] >= 1


@pytest.fixture
def broken_package_data(tmp_path, monkeypatch):
    """A copy of the package data with a malformed record, read instead of the real one."""
    from dermatrack.knowledge import base, packaged

    copy = tmp_path / "package-data"
    shutil.copytree(Path(str(resources.files("dermatrack.knowledge").joinpath("data"))), copy)
    record = copy / "records" / "microneedling.txt"
    record.write_bytes(record.read_bytes().replace(b"| 2 | Potential", b"| 3 | Potential"))
    monkeypatch.setattr(packaged, "data_root", lambda: copy)
    base._bundled.cache_clear()
    base._bundled_index.cache_clear()
    yield copy
    base._bundled.cache_clear()
    base._bundled_index.cache_clear()


def test_validate_reports_a_broken_record_and_exits_1(cli, broken_package_data):
    result = cli("kb", "validate", "--json")
    assert result.code == 1
    problems = result.json()["problems"]
    assert any("records/microneedling.txt" in p and "line 8" in p and "out of sequence" in p
               for p in problems), problems
    human = cli("kb", "validate")
    assert human.code == 1 and "out of sequence" in human.stdout


def test_kb_format_gives_back_the_seed_and_every_bundled_record_byte_for_byte(
        cli, seed_record_path, tmp_path):
    """parse --json then format writes the very bytes read, final newline included (the
    bundled records end with one, the seed record does not)."""
    from pathlib import Path

    import dermatrack.knowledge as knowledge

    bundled = sorted((Path(knowledge.__file__).parent / "data" / "records").glob("*.txt"))
    assert len(bundled) > 10
    for path in [seed_record_path, *bundled]:
        parsed = cli("kb", "parse", path, "--json")
        assert parsed.code == 0, parsed.stderr
        saved = tmp_path / "record.json"
        saved.write_text(parsed.stdout, encoding="utf-8")
        formatted = cli("kb", "format", saved)
        assert formatted.code == 0, formatted.stderr
        assert formatted.stdout.encode("utf-8") == path.read_bytes(), path.name
