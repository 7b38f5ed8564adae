"""bench.nights_equal at a tiny size: a dump equals itself, and any changed cell, dtype, memo or
tab is found and named by place (never by its text)."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from bench import nights_equal


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("nights") / "a.json.gz"
    assert nights_equal.main(["dump", "--rows", "300", "--schools", "2", "--out", str(path)]) == 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return path, json.load(f)


def _write(path: Path, data: dict[str, Any]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    return path


def test_a_dump_holds_both_nights_and_equals_itself(
    dump: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = dump
    for night in ("first", "steady"):
        assert {"destinations", "responses", "exceptions"} <= data[night]["tabs"].keys()
        assert len(data[night]["state"]) == 2  # a memo per school
    assert data["steady"]["reused"]  # the steady night merged from the first night's memos
    assert nights_equal.main(["compare", str(path), str(path)]) == 0
    assert "identical" in capsys.readouterr().out


def test_a_changed_cell_is_found_by_place_not_text(
    dump: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = dump
    changed = copy.deepcopy(data)
    cells = changed["first"]["tabs"]["responses"]["cells"]["full_name"]
    secret = "Zebediah Quux-Original"
    cells[3] = ["str", secret]
    assert nights_equal.main(["compare", str(path), str(_write(tmp_path / "b", changed))]) == 1
    out = capsys.readouterr().out
    assert "first night: tab 'responses': column 'full_name' differs at rows 5" in out
    assert secret not in out


def test_a_cell_of_another_type_dtypes_memos_and_tabs_are_found(
    dump: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = dump
    changed = copy.deepcopy(data)
    steady = changed["steady"]
    column = steady["tabs"]["destinations"]["columns"][0]
    kind, text = steady["tabs"]["destinations"]["cells"][column][0]
    steady["tabs"]["destinations"]["cells"][column][0] = ["numpy.str_", text]  # same text
    steady["tabs"]["exceptions"]["dtypes"][0] = "float64"
    school = next(iter(steady["state"]))
    steady["state"][school] += "x"
    del changed["first"]["tabs"]["exceptions"]
    assert nights_equal.main(["compare", str(path), str(_write(tmp_path / "c", changed))]) == 1
    out = capsys.readouterr().out
    assert kind == "str"
    assert f"steady night: tab 'destinations': column '{column}' differs at rows 2" in out
    assert "steady night: tab 'exceptions': its dtypes differ" in out
    assert f"steady night: state row {school!r} differs" in out
    assert "first night: tab 'exceptions' in one dump only" in out


def test_a_file_that_is_no_dump_is_a_usage_error(
    dump: tuple[Path, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json.gz"
    bad.write_text("not gzip", encoding="utf-8")
    assert nights_equal.main(["compare", str(dump[0]), str(bad)]) == 2
    assert "make it with 'dump'" in capsys.readouterr().err
