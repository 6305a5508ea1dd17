"""The seed record format: parser, writer, round trips and every malformed case."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dermatrack.errors import InputError
from dermatrack.knowledge.record import (
    FIELDS,
    LIST_FIELDS,
    SCALAR_FIELDS,
    ExtraField,
    Record,
    format_record,
    format_records,
    parse_record,
    parse_records,
)

SIMPLE = "name | Peel |\nsigns | 1 | Redness | 2 | Peeling |\n|\nprognosis | Good. |"


def error_of(text: str | bytes) -> InputError:
    with pytest.raises(InputError) as info:
        parse_records(text, source="test.txt")
    return info.value


# ----------------------------------------------------------------------------- seed 000


def test_seed_record_round_trips_byte_for_byte(seed_record_path):
    raw = seed_record_path.read_bytes()
    record = parse_record(raw)
    assert format_record(record).encode("utf-8") == raw
    # and through the JSON form the CLI uses
    assert format_record(Record.from_json(record.to_json())).encode("utf-8") == raw


def test_seed_record_values(seed_record_path):
    record = parse_record(seed_record_path.read_bytes())
    assert record.code == "microneedling"
    assert record.title == "Microneedling"
    assert record.values["type"] == "Cosmetic Procedure"
    assert record.values["signs"] == ["Mild redness, swelling, or bruising at the treatment site.",
                                      "Potential for mild itching or discomfort."]
    assert len(record.values["other_important_details"]) == 4
    assert record.treatment_options == ["The procedure itself is the treatment."]
    # every field of the seed is present, and lists are exactly the conventional list fields
    assert all(record.get(name) is not None for name in FIELDS)
    assert {n for n in FIELDS if isinstance(record.get(n), list)} == set(LIST_FIELDS)
    assert set(SCALAR_FIELDS) | set(LIST_FIELDS) == set(FIELDS) and len(FIELDS) == 15


def test_to_json_shape(seed_record_path):
    data = parse_record(seed_record_path.read_bytes()).to_json()
    assert list(data)[:15] == [name.replace(" ", "_") for name in FIELDS]
    assert data["detailed_etiology_pathogenesis"].startswith("Microneedling works")
    assert data["extra"] == {}


def test_the_bundled_microneedling_record_is_the_seed(seed_record_path):
    from importlib import resources

    bundled = resources.files("dermatrack.knowledge").joinpath("data", "records",
                                                              "microneedling.txt")
    assert bundled.read_bytes() == seed_record_path.read_bytes()


# ----------------------------------------------------------------------------- tolerance


def test_crlf_trailing_spaces_and_final_newline_are_tolerated():
    messy = SIMPLE.replace("\n", "  \r\n") + "   \r\n"
    assert parse_record(messy) == parse_record(SIMPLE)
    assert format_record(parse_record(messy)) == SIMPLE


def test_ten_items_with_digits_commas_and_pipes_in_scalars():
    items = [f"Step {n}: 2,5 mg/ml, 10% at {n * 3} weeks" for n in range(1, 13)]
    body = " | ".join(f"{n} | {item}" for n, item in enumerate(items, start=1))
    text = (f"summary | A | B: the value may hold ' | ' itself |\nname | Protocol |\n"
            f"prevention | {body} |\n|")
    record = parse_record(text)
    assert record.values["prevention"] == items
    assert record.values["summary"] == "A | B: the value may hold ' | ' itself"
    assert format_record(record) == text


def test_list_or_scalar_is_decided_by_syntax_not_name():
    record = parse_record("symptoms | none reported |\nprognosis | 1 | Good | 2 | Variable |\n|")
    assert record.values["symptoms"] == "none reported"
    assert record.values["prognosis"] == ["Good", "Variable"]


def test_unknown_fields_are_kept_and_written_back_where_they_were():
    text = ("icd code | L90.5 |\nname | Peel |\nsource note | 1 | a | 2 | b |\n|\n"
            "type | Procedure |\nreviewed | 2024 |")
    record = parse_record(text)
    assert record.extra == {
        "icd code": ExtraField("L90.5", None),
        "source note": ExtraField(["a", "b"], "name"),
        "reviewed": ExtraField("2024", "type"),
    }
    assert format_record(record) == text
    assert format_record(Record.from_json(record.to_json())) == text


def test_several_records_separated_by_blank_lines():
    text = SIMPLE + "\n\n\nname | Laser |\ntype | Energy |\n"
    records = parse_records(text)
    assert [r.code for r in records] == ["peel", "laser"]
    # The final newline read is written back (kb format is byte for byte).
    assert format_records(records) == SIMPLE + "\n\nname | Laser |\ntype | Energy |\n"


# ----------------------------------------------------------------------------- rejections


@pytest.mark.parametrize(("text", "line", "expected"), [
    ("name | A |\nsigns | 1 | a | 3 | b |\n|", 2, "expected item 2, found '3'"),
    ("name | A |\nsigns | 2 | a |\n|", 2, "expected item 1, found '2'"),
    ("name | A |\nsigns | 1 | a | 2 | b |\ntype | B |", 3, "not closed"),
    ("name | A |\nsigns | 1 | a |\n\nname | B |", 3, "not closed"),
    ("name | A |\nsigns | 1 | a |", 2, "found the end of the file"),
    ("name | A |\ntype | B |\nName | C |", 3, "repeats (first on line 1)"),
    ("name | A |\nx | 1 |\nx | 2 |", 3, "repeats"),
    ("name | A |\nthis line is prose", 2, "expected 'field | value |'"),
    ("name | A |\ntype | B", 2, "no closing ' |'"),
    ("name | A |\n  | B |", 2, "no field name"),
    ("name | A |\n| B |", 2, "no ' | ' between"),
    ("name | A |\ntype | |", 2, "no ' | ' between"),
    ("name | A |\ntype | B |\n|", 3, "no list open"),
    ("name | A |\nsigns | 1 | a | 2 |\n|", 2, "no text"),
    ("", 1, "empty file"),
    ("\n  \r\n\n", 1, "empty file"),
])
def test_malformed_input_names_the_line(text, line, expected):
    error = error_of(text)
    assert error.line == line
    assert expected in error.message
    assert f"line {line}" in str(error)


def test_binary_data_is_rejected_with_its_line():
    assert error_of(b"name | A |\ntype | \x00\x01 |").line == 2
    error = error_of(b"name | A |\n\ntype | \xff\xfe |")
    assert error.line == 3 and "binary" in error.message
    assert error_of("name | A\x00 |").line == 1


def test_nothing_is_half_loaded():
    # the first record is valid, the second is not: no record comes back
    with pytest.raises(InputError):
        parse_records(SIMPLE + "\n\nname | B |\nsigns | 1 | a |")


def test_parse_record_wants_exactly_one():
    with pytest.raises(InputError, match="expected one record, found 2"):
        parse_record(SIMPLE + "\n\nname | B |")


@pytest.mark.parametrize(("values", "field"), [
    ({"summary": "two\nlines"}, "summary"),
    ({"summary": "3 | looks like a list"}, "summary"),
    ({"signs": []}, "signs"),
    ({"signs": ["fine", "a | b"]}, "signs[2]"),
    ({"signs": ["ends with |"]}, "signs[1]"),
])
def test_writer_refuses_values_the_format_cannot_hold(values, field):
    with pytest.raises(InputError) as info:
        format_record(Record(values=values))
    assert info.value.field == field


@pytest.mark.parametrize("data", [
    [], "text", {"nmae": "typo"}, {"signs": [1, 2]}, {"summary": {"a": 1}},
    {"extra": []}, {"extra": {"x": {"after": "name"}}}, {"extra": {"x": {"value": "v",
                                                                        "after": "nowhere"}}},
])
def test_from_json_rejects_bad_shapes(data):
    with pytest.raises(InputError):
        Record.from_json(data)


def test_from_json_accepts_bare_extra_values_at_the_end():
    record = Record.from_json({"name": "A", "extra": {"note": "kept"}})
    assert format_record(record) == "name | A |\nnote | kept |"


# ----------------------------------------------------------------------------- properties
# Values avoid the reserved sequences listed in dermatrack.knowledge.record's docstring:
# no \n, \r or NUL anywhere (other control and separator characters are allowed), scalars
# not starting "<digits> | ", list items without a '|' beside a space, lists not empty.
# The alphabet adds '|', digits, commas and spaces so that everything else the format
# allows is exercised.

_ALPHABET = st.characters(exclude_categories=("Cs",), exclude_characters="\n\r\x00")
_text = st.text(alphabet=st.one_of(_ALPHABET, st.sampled_from("| ,0123456789")), max_size=40)
_scalar = _text.filter(lambda s: not re.match(r"\d+ \| ", s))
_item = _text.filter(lambda s: " |" not in s and "| " not in s)
_list = st.lists(_item, min_size=1, max_size=12)
_values = st.fixed_dictionaries({}, optional={name.replace(" ", "_"): st.one_of(_scalar, _list)
                                              for name in FIELDS})
_extra_names = st.from_regex(r"[a-z][a-z ]{0,10}[a-z]", fullmatch=True).filter(
    lambda name: name.replace(" ", "_") not in {f.replace(" ", "_") for f in FIELDS}
    and "  " not in name)
_extras = st.dictionaries(_extra_names,
                          st.builds(ExtraField, st.one_of(_scalar, _list),
                                    st.sampled_from([None, *[f.replace(" ", "_") for f in
                                                             FIELDS]])),
                          max_size=3)
_records = st.builds(Record, values=_values, extra=_extras).filter(
    lambda r: any(v is not None for v in r.values.values()) or r.extra)


@settings(max_examples=150, deadline=None)
@given(_records)
def test_format_then_parse_gives_the_record_back(record):
    parsed = parse_record(format_record(record))
    assert parsed.values == record.values
    # an extra anchored after an absent field comes back anchored to the nearest field
    # before it, so compare the values and the written layout
    assert {name: extra.value for name, extra in parsed.extra.items()} == \
        {name: extra.value for name, extra in record.extra.items()}
    assert format_record(parsed) == format_record(record)


@settings(max_examples=100, deadline=None)
@given(st.lists(_records, min_size=1, max_size=3), st.booleans(),
       st.sampled_from(["", " ", "\t  "]), st.sampled_from(["", "\n", "\n\n"]))
def test_parse_format_parse_is_idempotent(records, crlf, trailing, final):
    clean = format_records(records)
    # the same text as another editor might save it
    messy = (trailing + ("\r\n" if crlf else "\n")).join(clean.split("\n")) + final
    once = parse_records(messy)
    ends = messy.endswith("\n") and not messy.endswith("\n\n")
    assert format_records(once) == clean + ("\n" if ends else "")
    assert parse_records(format_records(once)) == once
