"""The checker's pupil-value look-up (only the values that could be in a cell, normalised in bulk)
finds exactly what the frozen code before it found.

`_reference_disclosure` is the frozen copy. The cases aim at what the fast path changes: texts
normalised all at once (every character's case folding, every kind of whitespace, a text holding
the glue character), distinct texts taken from the column without `dropna().astype(str)` when it
holds texts only (missing cells, numbers, str subclasses, unhashable cells, string dtypes), and
only the substrings of the cells looked up (both ways: all of them, or those of the values'
lengths).
"""

from __future__ import annotations

import random
import sys
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsync import disclosure
from gsync.disclosure import TABLE_COLUMNS, TOTAL
from tests.unit import _reference_disclosure as ref

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()
SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


def test_normalised_is_norm_for_every_character() -> None:
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    rng = random.Random(1)
    texts = ["".join(chars[i : i + 7]) for i in range(0, len(chars), 7)]
    # Every character beside every kind of whitespace, at either end and inside.
    texts += [rng.choice(SPACES) + c + rng.choice(SPACES) * 2 + "Σ" for c in chars[::97]]
    texts += ["", " ", "\t\n", "ΣΑΣ", "ß", "ﬁ X", "İ", "Straße  Σ", "a\u00a0b", "a\u2028b"]
    assert disclosure._normalised(texts) == [disclosure._norm(t) for t in texts]


@pytest.mark.parametrize("seed", range(30))
def test_normalised_is_norm_on_random_texts(seed: int) -> None:
    rng = random.Random(seed)
    alphabet = ["a", "B", "Σ", "ß", "\x00", "\x1f", "İ", *rng.sample(SPACES, 6)]
    texts = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        for _ in range(rng.randint(0, 40))
    ]
    if seed % 2:  # without the glue: the bulk way
        texts = [t.replace("\x00", "") for t in texts]
    assert disclosure._normalised(texts) == [disclosure._norm(t) for t in texts]


def test_distinct_texts_are_those_of_dropna_astype_str() -> None:
    columns = [
        pd.Series(["a", "b", "a", "c "], dtype=object),
        pd.Series(["first", "b", "c", "b"], dtype=object),
        pd.Series(["a", None, "b"], dtype=object),
        pd.Series(["a", float("nan"), pd.NA, pd.NaT, 1, 1.0, True, -0.0, 0.0], dtype=object),
        pd.Series([np.str_("x"), "x", "y"], dtype=object),
        pd.Series([[1], "x", (2,)], dtype=object),
        pd.Series(["a", None, "b"], dtype="string"),
        pd.concat([pd.DataFrame({"a": ["x", "y"]}), pd.DataFrame({"b": ["z"]})])["a"],
        pd.Series([1, 2, 2], dtype="int64"),
        pd.Series([1.5, float("nan")]),
        pd.Series([], dtype=object),
    ]
    for column in columns:
        assert disclosure._distinct_texts(column) == set(column.dropna().astype(str).tolist())


def _breaches(module: Any, tables: dict[str, pd.DataFrame], pupils: pd.DataFrame) -> list[tuple]:
    policy = POLICY if module is disclosure else REF_POLICY
    vocabulary = ["Total", "ab", "Gap year", "Lee", "Ann Lee"]
    found = module.check_disclosure(tables, policy, pupils, vocabulary=vocabulary)
    return [astuple(b) for b in found]


def _text_table(texts: list[Any], column: str = "category") -> pd.DataFrame:
    rows = [["S", "2026 Y11", "intended", "all", "All pupils", TOTAL, 10, 100.0] for _ in texts]
    t = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    t[column] = pd.Series(texts, dtype=object)
    return t


PUPILS = pd.DataFrame(
    {
        "upn": ["A123456789012", "B9", "x\x00y", None, 17, "Q"],
        "date_of_birth": ["2009-01-02", " 2009-01-02", "2010-1-1", "x", "12", [1]],
        "school_email": ["ann.lee@x.org", "bo@x.org", "B9", "  ", "ab", np.str_("np@x.org")],
        "legal_forename": ["Ann", "Bo", "Cy", "ANN", "ab", "Lee"],
        "legal_surname": ["Lee", "Lee  Smith", "O'Neil", "Lee", "x", "Σίσυφος"],
        "preferred_name": ["Ann Lee", "bo lee smith", "cy o'neil", "ANN LEE", "ab ab", "x\x00y z"],
        "personal_email": pd.Series(["cy@y.org", None, "B9", "Q", "ann", "z"], dtype="string"),
        "telephone": [7700900123, 900123, 1, 2, 3, 4],
        "mobile": ["07700 900999", "07700 900998", "0", "1", "2", "3"],
        "address": ["1 High St", float("nan"), "2 Low Rd", "x", "y", float("nan")],
        "intended_other": ["Gap year", "Army", "army", "", "Family business", "Straße"],
        "notes": ["seen", "a long note about Ann Lee", None, True, 1, 2.5],
    },
    dtype=object,  # as the sync's pupil frames hold them (pandas would infer `str`)
)
PUPILS["personal_email"] = PUPILS["personal_email"].astype("string")
PUPILS["legal_surname"] = PUPILS["legal_surname"].astype("str")
CELLS: list[Any] = [
    "A123456789012",
    "pupil a123456789012 left",
    "born 2009-01-02",
    "2009-01-02 born",
    "ann.lee@x.org and B9",
    "write to NP@X.ORG",
    "cy@y.org",
    "ann",
    "Ann Lee",
    "ann   LEE",
    "Bo Lee Smith was here",
    "cy o'neil",
    "ΣΊΣΥΦΟΣ",
    "Lee",
    "Army",
    "army ",
    "STRASSE",
    "Gap year",
    "ab",
    "ab ab",
    "x\x00y",
    "x\x00y z and more",
    "call 7700900123",
    "ring 07700  900999",
    "at 1 high st",
    "900123",
    "12",
    "17",
    "True",
    "2.5",
    "z",
    "Q",
    "",
    " ",
    float("nan"),
    None,
    3,
    "x" * 300 + " ann lee " + "y" * 300,
]


@pytest.mark.parametrize("limit", [disclosure._INSIDE_LIMIT, 0])
def test_checker_identical_on_chosen_values(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    monkeypatch.setattr(disclosure, "_INSIDE_LIMIT", limit)
    short = [c for c in CELLS if not (isinstance(c, str) and len(c) > 100)]
    for cells in (CELLS, short):
        tables = {
            "t": _text_table(cells),
            "u": _text_table(list(reversed(cells)), column="group"),
        }
        want = _breaches(ref, tables, PUPILS)
        assert _breaches(disclosure, tables, PUPILS) == want
        assert len([b for b in want if b[0] == "identifying_value"]) >= 40


@pytest.mark.parametrize("seed", range(40))
def test_checker_identical_on_random_values(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Tiny alphabets: values inside values, inside cells, in several columns, all the time."""
    rng = random.Random(seed)
    monkeypatch.setattr(disclosure, "_INSIDE_LIMIT", rng.choice([0, 50, 10**6]))

    def text(lo: int, hi: int) -> str:
        return "".join(rng.choice("abΣß  A\t") for _ in range(rng.randint(lo, hi)))

    n = rng.randint(1, 30)
    pupils = pd.DataFrame(
        {
            "upn": [text(1, 6) for _ in range(n)],
            "personal_email": [text(2, 9) for _ in range(n)],
            "legal_forename": [text(1, 4) for _ in range(n)],
            "full_name": [text(3, 8) for _ in range(n)],
            "y2_summer_course": [text(1, 5) for _ in range(n)],
            "phone": [text(1, 3) if rng.random() < 0.8 else None for _ in range(n)],
        },
        dtype=object,
    )
    if seed % 3 == 0:
        pupils["full_name"] = pupils["full_name"].astype("str")
    texts = [text(0, rng.choice([6, 12, 40])) for _ in range(rng.randint(1, 60))]
    tables = {"t": _text_table(texts), "u": _text_table(texts[::2], column="school")}
    assert _breaches(disclosure, tables, pupils) == _breaches(ref, tables, pupils)
