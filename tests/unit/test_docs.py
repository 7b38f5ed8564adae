"""Generated documentation cannot drift: README.md holds the current configuration reference."""

from __future__ import annotations

from pathlib import Path

from gsync.docs import BEGIN, END, config_reference

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_config_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == config_reference(), (
        "run `python -m gsync.docs` and paste it into README.md"
    )


def test_reference_lists_every_key() -> None:
    ref = config_reference()
    for key in (
        "spreadsheet_id",
        "form_questions",
        "autumn_start",
        "credentials_file",
        "subject",
        "state_dir",
    ):
        assert f"`{key}`" in ref
