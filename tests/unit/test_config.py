"""Configuration: valid files load; every error names the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from gsync.config import load_config
from gsync.errors import ConfigError
from tests.conftest import SAMPLE_CONFIG


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "gsync.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_sample_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SAMPLE_CONFIG))
    assert [s.name for s in config.schools] == ["Northfield", "Southgate"]
    assert config.school("southgate").phase == "Y13"
    assert config.term_dates["2025-26"].autumn_start.isoformat() == "2025-09-03"
    assert config.google.auth == "local"


def test_missing_file_names_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "nope.toml")
    assert "gsync init" in str(exc.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.replace('phase = "Y11"', 'phase = "Y12"'), "schools[0].phase"),
        (lambda s: s.replace('urn = "100001"', 'urn = "12"'), "schools[0].urn"),
        (lambda s: s + "\n[surprise]\nx = 1\n", "unknown key 'surprise'"),
        (lambda s: s.replace('name = "Test Learning Trust"\n', ""), "missing key 'trust.name'"),
        (lambda s: s.replace("[term_dates.2025-26]", "[term_dates.2025]"), "term_dates"),
        (
            lambda s: s.replace("autumn_end = 2025-12-19", "autumn_end = 2025-08-19"),
            "term_dates.2025-26",
        ),
        (lambda s: s.replace('name = "Southgate"', 'name = "northfield"'), "unique"),
    ],
)
def test_invalid_config_names_key(tmp_path: Path, edit: object, expected: str) -> None:
    text = edit(SAMPLE_CONFIG)  # type: ignore[operator]
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    message = str(exc.value)
    assert expected in message
    assert "gsync.toml" in message


def test_bad_toml_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, SAMPLE_CONFIG + "\nbroken = \n"))
    assert "line" in str(exc.value)


def test_unknown_school_lists_known(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SAMPLE_CONFIG))
    with pytest.raises(ConfigError) as exc:
        config.school("Eastfield")
    assert "Northfield" in str(exc.value) and "Southgate" in str(exc.value)


def test_set_trust_fields_keeps_comments(tmp_path: Path) -> None:
    from gsync.config_edit import set_trust_fields

    path = write(tmp_path, SAMPLE_CONFIG)
    set_trust_fields(path, spreadsheet_id="abc123")
    text = path.read_text(encoding="utf-8")
    assert "# A trust of two schools" in text
    assert load_config(path).trust.spreadsheet_id == "abc123"
    set_trust_fields(path, spreadsheet_id=None)
    assert load_config(path).trust.spreadsheet_id is None
