"""``dermatrack repeatability`` on CSV files written by the tests."""

from __future__ import annotations

import pytest

from dermatrack.outcomes.repeatability import repeatability

from .test_repeatability import SHROUT_FLEISS


def _write(tmp_path, text: str):
    path = tmp_path / "captures.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _shrout_fleiss_csv() -> str:
    lines = ["subject,metric,region,session,replicate,value"]
    for i, row in enumerate(SHROUT_FLEISS):
        for j, value in enumerate(row):
            lines.append(f"t{i},wrinkle_index,cheek,{1 + j // 2},{1 + j % 2},{value:g}")
    # A second metric, two captures of three subjects, one missing.
    lines += ["t0,ita,,1,1,41.0", "t0,ita,,1,2,43.0", "t1,ita,,1,1,30.5",
              "t1,ita,,1,2,29.5", "t2,ita,,1,1,20.0", "t2,ita,,1,2,NA"]
    return "\n".join(lines) + "\n"


def test_json_matches_core(cli, tmp_path):
    result = cli("repeatability", _write(tmp_path, _shrout_fleiss_csv()), "--json")
    assert result.code == 0, result.stderr
    metrics = {item["metric"]: item for item in result.json()["metrics"]}
    wrinkles = metrics["wrinkle_index"]
    assert wrinkles["region"] == "cheek"
    expected = repeatability(SHROUT_FLEISS)
    assert wrinkles["icc_1_1"]["value"] == pytest.approx(expected.icc_1_1.value)
    assert wrinkles["icc_2_1"]["value"] == pytest.approx(0.29, abs=0.005)
    assert wrinkles["icc_3_1"]["value"] == pytest.approx(0.71, abs=0.005)
    assert wrinkles["mdc95"] == pytest.approx(expected.mdc95)
    assert wrinkles["n_subjects"] == 6 and wrinkles["n_observations"] == 24
    ita = metrics["ita"]
    assert ita["region"] is None
    assert (ita["n_subjects"], ita["n_observations"]) == (2, 4)
    assert ita["bland_altman"]["bias"] == pytest.approx(0.5)


def test_human_table(cli, tmp_path):
    result = cli("repeatability", _write(tmp_path, _shrout_fleiss_csv()))
    assert result.code == 0, result.stderr
    assert "wrinkle_index" in result.stdout and "cheek" in result.stdout and "ita" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "MDC95" in result.stdout
    assert "0.17" in result.stdout  # ICC(1,1) of the Shrout & Fleiss data


def test_replicates_numbered_by_order_without_occasion_columns(cli, tmp_path):
    text = "Subject,Metric,Value\na,x,1\nb,x,2\na,x,3\nb,x,2\nc,x,5\nc,x,7\n"
    result = cli("repeatability", _write(tmp_path, text), "--json")
    assert result.code == 0, result.stderr
    (summary,) = result.json()["metrics"]
    assert summary["sem"] == pytest.approx((4 / 3) ** 0.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subject,metric,score\na,x,1\n", ["line 1", "'value'"]),
        ("subject,value\na,1\n", ["line 1", "'metric'"]),
        ("subject,metric,value\na,x,1\na,x,high\n", ["line 3", "'value'", "high"]),
        ("subject,metric,value\na,x,1\nb,x,2\nc,x,3\n", ["'replicate'", "metric 'x'"]),
        ("subject,metric,session,value\na,x,1,1\na,x,1,2\nb,x,1,3\n",
         ["line 3", "'replicate'", "line 2"]),
        ("subject,metric,value\n,x,1\n", ["line 2", "'subject'"]),
        ("", ["empty"]),
        ("subject,metric,value\n", ["no measurements"]),
    ],
)
def test_bad_input_exits_2_naming_column_and_row(cli, tmp_path, text, expected):
    result = cli("repeatability", _write(tmp_path, text))
    assert result.code == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for fragment in expected:
        assert fragment in result.stderr
    assert result.stdout == ""


def test_missing_file(cli, tmp_path):
    result = cli("repeatability", tmp_path / "absent.csv", "--json")
    assert result.code == 2
    assert "absent.csv" in result.stderr and result.stdout == ""


def test_directory_and_binary_files_exit_2(cli, tmp_path):
    binary = tmp_path / "captures.csv"
    binary.write_bytes(b"subject,metric,value\n\x00\x01\n")
    result = cli("repeatability", binary, "--json")
    assert result.code == 2 and "line 2" in result.stderr and "binary" in result.stderr
    result = cli("repeatability", tmp_path, "--json")
    assert result.code == 2 and "directory" in result.stderr and result.stdout == ""
