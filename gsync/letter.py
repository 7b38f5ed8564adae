"""Form B: the letter to parents / carers (seed 003, "Form B: Communication to Parents / Carers"),
rendered for one school as Markdown and as HTML (every configured value HTML-escaped).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from gsync.config import SchoolConfig
from gsync.errors import ConfigError

# Which pupils the letter talks about: seed 003 is written for a sixth form (Years 12 and 13);
# a Year 11 school's leavers are its Year 11 pupils.
_YEARS = {"Y13": "Year 12 and Year 13 students", "Y11": "Year 11 pupils"}


@dataclass(frozen=True)
class Letter:
    """The rendered letter in both formats."""

    markdown: str
    html: str


def _paragraphs(school: SchoolConfig) -> list[str]:
    """The letter's body paragraphs (plain text), seed 003's words with the school's details."""
    years = _YEARS[school.phase]
    return [
        "To make sure we're providing great careers guidance and information, we record where "
        "our pupils go after they finish their time at school and the following three years.",
        f"To be able to do this, we'll be talking to our {years} about how we collect and "
        "maintain their destination data. We will then ask their permission to securely store "
        "their personal email address and telephone number so that we may contact them.",
        "This data helps to review the impact our careers programme has had and is a vital part "
        "of enabling us to identify ways we can improve our careers offer for future pupils.",
    ]


def _require(school: SchoolConfig) -> tuple[str, str]:
    missing = [
        key
        for key, value in (
            ("careers_leader", school.careers_leader),
            ("careers_email", school.careers_email),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise ConfigError(
            f"School {school.name!r} has no {' or '.join(missing)} in the configuration; "
            "the letter names the careers leader and their email.",
            fix=f"add {', '.join(f'{k} = ...' for k in missing)} to the school's [[schools]] "
            "entry in gsync.toml.",
        )
    return str(school.careers_leader).strip(), str(school.careers_email).strip()


def _md_escape(text: str) -> str:
    """Escape Markdown's inline markup characters so a name renders as typed."""
    return re.sub(r"([\\`*_{}\[\]<>()#+!|~])", r"\\\1", text)


def render_letter(school: SchoolConfig) -> Letter:
    """Form B for `school`: its name, careers leader and email (ConfigError if either is missing)."""
    leader, email = _require(school)
    paragraphs = _paragraphs(school)
    contact_md = (
        f"Have any questions about this? Please get in touch with {_md_escape(leader)} at "
        f"<{email}> - our Careers Leader."
    )
    markdown = "\n\n".join(
        [
            f"# {_md_escape(school.name)}",
            "## Destination data: a letter to parents and carers",
            "Dear Parent / Carer,",
            *paragraphs,
            contact_md,
            f"{_md_escape(school.name)}",
        ]
    )
    e = html.escape
    contact_html = (
        f"Have any questions about this? Please get in touch with {e(leader)} at "
        f'<a href="mailto:{e(email, quote=True)}">{e(email)}</a> - our Careers Leader.'
    )
    body = "\n".join(f"<p>{e(p)}</p>" for p in ["Dear Parent / Carer,", *paragraphs])
    page = (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(school.name)}: destination data letter</title>\n</head>\n<body>\n"
        f"<h1>{e(school.name)}</h1>\n"
        "<h2>Destination data: a letter to parents and carers</h2>\n"
        f"{body}\n<p>{contact_html}</p>\n<p>{e(school.name)}</p>\n</body>\n</html>\n"
    )
    return Letter(markdown=markdown + "\n", html=page)


def slug(name: str) -> str:
    """A file-name-safe version of a school name."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "school"


def write_letter(school: SchoolConfig, out_dir: Path) -> tuple[Path, Path]:
    """Write `form_b_<school>.md` and `.html` into `out_dir`; returns both paths."""
    letter = render_letter(school)
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir / f"form_b_{slug(school.name)}"
    md_path, html_path = base.with_suffix(".md"), base.with_suffix(".html")
    md_path.write_text(letter.markdown, encoding="utf-8")
    html_path.write_text(letter.html, encoding="utf-8")
    return md_path, html_path
