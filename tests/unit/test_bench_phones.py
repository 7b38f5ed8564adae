"""bench.core_scale's telephone answers: one valid number per pupil, typed in the usual ways,
instead of the sample's few thousand drama numbers; the sample's bad numbers stay bad."""

from __future__ import annotations

import copy
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench import core_scale
from gsync.responses import normalise_phone
from gsync.sample import BAD_PHONES, DEFAULT_QUESTION_MAP, DRAMA_PHONES

PHONE = DEFAULT_QUESTION_MAP["telephone"]


def phones(raw: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [
        r["answers"][PHONE]["textAnswers"]["answers"][0]["value"]
        for rs in raw.values()
        for r in rs
        if PHONE in r["answers"]
    ]


def test_each_pupil_has_a_number_of_their_own(tmp_path: Path) -> None:
    trust = core_scale.build(600, tmp_path, schools=2)
    got = phones(trust.raw)
    drama = re.compile("(?:" + "|".join(re.escape(p) for p in DRAMA_PHONES) + r")[0-9]{3}")
    assert not any(drama.fullmatch(p) for p in got)
    verdicts = [normalise_phone(p) for p in got]
    valid = [e164 for e164, ok in verdicts if ok]
    bad = [p for p, (_, ok) in zip(got, verdicts, strict=True) if not ok]
    assert set(bad) <= set(BAD_PHONES) and 0 < len(bad) < len(got) / 5
    # Nearly one number per response (a pupil answering twice gives the same number).
    assert len(set(valid)) > 0.9 * len(valid)
    assert all(e.startswith("+44") and len(e) == 13 for e in valid)
    shapes = Counter(re.sub("[0-9]", "9", p) for p in got if p not in BAD_PHONES)
    assert len(shapes) >= 8  # typed in many ways
    assert any(not p.startswith(("0", "+44")) for p in shapes)  # "(0113) ..."
    assert any("-" in p for p in shapes) and any(p.startswith("+99 ") for p in shapes)


def test_the_numbers_are_the_same_each_build() -> None:
    raw = {
        "A": [
            {
                "responseId": str(i),
                "answers": {
                    q: {"textAnswers": {"answers": [{"value": v}]}}
                    for q, v in (
                        (PHONE, DRAMA_PHONES[i % 4] + f"{i:03d}" if i % 5 else BAD_PHONES[0]),
                        (DEFAULT_QUESTION_MAP["full_name"], f"Pupil {i // 2}"),
                    )
                },
            }
            for i in range(40)
        ]
    }
    again = copy.deepcopy(raw)
    assert core_scale.realistic_phones(raw) == core_scale.realistic_phones(again) > 10
    assert phones(raw) == phones(again)
    assert phones(raw)[0] == BAD_PHONES[0]
    # The two responses of a pupil (same name) give the same number.
    pairs = [normalise_phone(p)[0] for p in phones(raw)]
    assert all(pairs[i] == pairs[i + 1] for i in range(2, 40, 2) if i % 5 and (i + 1) % 5)
