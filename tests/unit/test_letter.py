"""Form B (the letter to parents / carers): content, school details, escaping, missing config."""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest

from gsync.config import SchoolConfig
from gsync.errors import ConfigError
from gsync.letter import render_letter, slug, write_letter


def school(**overrides: object) -> SchoolConfig:
    fields: dict[str, object] = {
        "name": "Northfield",
        "urn": "100001",
        "phase": "Y13",
        "careers_leader": "Sam Careers",
        "careers_email": "careers@northfield.sch.uk",
    }
    fields.update(overrides)
    return SchoolConfig.model_validate(fields)


class _Text(html.parser.HTMLParser):
    """Collects the visible text and the links of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.hrefs: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs.extend(v or "" for k, v in attrs if k == "href")


def test_letter_names_the_school_and_careers_leader() -> None:
    letter = render_letter(school())
    for text in (letter.markdown, letter.html):
        assert "Dear Parent / Carer," in text
        assert "Northfield" in text
        assert "Sam Careers" in text
        assert "careers@northfield.sch.uk" in text
        assert "three years" in text
        assert "Year 12 and Year 13 students" in text
        assert "Ali" not in text  # the seed's own careers leader never leaks into a letter
    assert "<careers@northfield.sch.uk>" in letter.markdown


def test_year_11_school_talks_about_year_11() -> None:
    letter = render_letter(school(phase="Y11"))
    assert "Year 11 pupils" in letter.markdown
    assert "Year 12" not in letter.markdown


def test_html_is_escaped() -> None:
    nasty = school(name='St <Mary> & "Joseph"', careers_leader="<script>alert(1)</script>")
    page = render_letter(nasty).html
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    parser = _Text()
    parser.feed(page)
    visible = "".join(parser.text)
    assert 'St <Mary> & "Joseph"' in visible  # escaped, so it renders exactly as typed
    assert "<script>alert(1)</script>" in visible
    assert parser.hrefs == ["mailto:careers@northfield.sch.uk"]


def test_markdown_is_escaped() -> None:
    letter = render_letter(school(careers_leader="Jo *Bold* [link](x)"))
    assert r"Jo \*Bold\* \[link\]\(x\)" in letter.markdown


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ({"careers_leader": None}, "careers_leader"),
        ({"careers_email": None}, "careers_email"),
        ({"careers_leader": " ", "careers_email": None}, "careers_leader or careers_email"),
    ],
)
def test_missing_details_are_a_clear_config_error(missing: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError) as err:
        render_letter(school(**missing))
    assert named in err.value.render()
    assert "gsync.toml" in err.value.render()
    assert err.value.exit_code == 2


def test_write_letter(tmp_path: Path) -> None:
    md, page = write_letter(school(name="St Mary's High"), tmp_path / "out")
    assert md.name == "form_b_st-mary-s-high.md" and page.name == "form_b_st-mary-s-high.html"
    assert "St Mary's High" in md.read_text(encoding="utf-8")
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert slug("  ") == "school"
