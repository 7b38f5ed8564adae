"""bench.core_scale's personal email answers: one address per pupil, written in the usual ways,
instead of the sample's few thousand; the sample's bad addresses stay bad."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any

from bench import core_scale
from gsync.responses import normalise_email
from gsync.sample import BAD_EMAILS, DEFAULT_QUESTION_MAP

EMAIL = DEFAULT_QUESTION_MAP["personal_email"]
NAME = DEFAULT_QUESTION_MAP["full_name"]


def emails(raw: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        r["answers"][EMAIL]["textAnswers"]["answers"][0]["value"]
        for rs in raw.values()
        for r in rs
        if EMAIL in r["answers"]
    ]


def test_each_pupil_has_an_address_of_their_own(tmp_path: Path) -> None:
    trust = core_scale.build(600, tmp_path, schools=2)
    got = emails(trust.raw)
    assert not any(core_scale._SAMPLE_EMAIL.fullmatch(e) for e in got)
    verdicts = [normalise_email(e) for e in got]
    valid = [e for e, ok in verdicts if ok]
    bad = [e for e, (_, ok) in zip(got, verdicts, strict=True) if not ok]
    assert set(bad) <= set(BAD_EMAILS) and 0 < len(bad) < len(got) / 5
    # Nearly one address per response (a pupil answering twice gives the same address).
    assert len(set(valid)) > 0.9 * len(valid)
    # Normalised: stripped, the domain lower-cased (the local part kept as written).
    assert all(e == e.strip() and e.split("@")[1].islower() for e in valid)
    styles = Counter(
        "spaced"
        if e != e.strip()
        else "capital"
        if e[0].isupper()
        else "shouting"
        if e.split("@")[-1].isupper()
        else "plain"
        for e in got
        if e not in BAD_EMAILS
    )
    assert set(styles) == {"spaced", "capital", "shouting", "plain"}


def test_the_addresses_are_the_same_each_build() -> None:
    def answer(qid: str, value: str) -> dict[str, Any]:
        return {qid: {"textAnswers": {"answers": [{"value": value}]}}}

    raw = {
        "A": [
            {
                "responseId": str(i),
                "answers": {
                    **answer(EMAIL, f"pupil.{i % 90 + 1}@example.com" if i % 5 else BAD_EMAILS[0]),
                    **answer(NAME, f"Pupil {i // 2}"),
                },
            }
            for i in range(40)
        ]
    }
    again = copy.deepcopy(raw)
    assert core_scale.realistic_emails(raw) == core_scale.realistic_emails(again) > 10
    assert emails(raw) == emails(again)
    assert emails(raw)[0] == BAD_EMAILS[0]
    # The two responses of a pupil (same name) give the same address, however written.
    got = [normalise_email(e)[0].casefold() for e in emails(raw)]
    assert all(got[i] == got[i + 1] for i in range(2, 40, 2) if i % 5 and (i + 1) % 5)
