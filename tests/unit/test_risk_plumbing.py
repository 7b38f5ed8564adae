"""The risk list's plumbing (issue 7, brief Q3) gives the entries of the frozen P4 code.

`risk.assess` converts only the PUPIL_FIELDS cells of the pupils whose cohort is in its survey
rounds, decides each column's conversion on the whole column, and hands `_assess_pupil` a dict of
those cells; `write_risk_tab` / `risk_rows` pick each entry's cells from one tuple. Checked here:
`_assess_pupil` reads no cell outside PUPIL_FIELDS (and gives the same entry from the whole row),
a column's texts at some rows are its whole texts at those rows, and `assess` / `risk_rows` equal
tests/unit/_reference_p4/risk.py on frames with loose cells whose kinds differ between the
listed pupils and the others, repeated column names, no phase column and a school filter.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsync import deadlines, risk
from tests.unit._reference_p4 import risk as ref_risk
from tests.unit.test_core_equivalence import AS_OF, RULES, TERMS, merged  # noqa: F401 (fixture)
from tests.unit.test_derived_equivalence import _rounds_tabs, _typed


class Reading(Mapping[str, str]):
    """A row that records which keys are read."""

    def __init__(self, row: Mapping[str, str], read: set[str]) -> None:
        self.row, self.read = row, read

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.row[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the rules must read cells by name")

    def __len__(self) -> int:
        return len(self.row)


def _entries(got: list[risk.RiskEntry]) -> Any:
    return _typed([e.__dict__ for e in got])


@pytest.mark.parametrize("as_of", AS_OF[:2])  # cohorts in their survey rounds
def test_assess_pupil_reads_only_pupil_fields(
    merged: dict[str, pd.DataFrame],  # noqa: F811
    as_of: dt.date,
) -> None:
    dest = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    intents, apps = _rounds_tabs(dest, as_of.day)
    rng = random.Random(as_of.toordinal())
    dest = dest.assign(
        on_track_level=[rng.choice(("Level 2", "Level 3", "", "Entry level")) for _ in dest.index],
        current_intended_level=[rng.choice(("Level 4", "Not sure", "")) for _ in dest.index],
        latest_guidance_interview=[rng.choice(("", "2026-01-05")) for _ in dest.index],
    )
    order = [r.key for r in RULES.rounds]
    by_pupil: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in risk._records(intents):
        if row["round"] in order and row["response_id"] and row["submitted"]:
            by_pupil.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    apps_of: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in risk._records(apps):
        if row["round"] in order:
            apps_of.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    read: set[str] = set()
    assessed = 0
    for row in risk._records(dest):
        if not row.get("upn") or not row.get("leaving_year", "").isdigit():
            continue
        rounds = [r for r in RULES.rounds if r.phase == row.get("phase")]
        cohort = risk._cohort(rounds, int(row["leaving_year"]), TERMS, order, as_of)
        if cohort is None:
            continue
        key = (row["upn"], row["leaving_year"])
        args = (
            cohort.opened,
            cohort.windows,
            by_pupil.get(key, []),
            apps_of.get(key, []),
            order,
            as_of,
        )
        whole = risk._assess_pupil(Reading(row, read), *args)
        fields = {f: row[f] for f in risk.PUPIL_FIELDS if f in row}
        assert risk._assess_pupil(fields, *args, cohort=cohort) == whole
        assert risk._assess_pupil(fields, *args) == whole
        assessed += 1
    assert assessed > 20
    assert {"upn", "current_intended_destination", "on_track_level", "send"} <= read
    assert read <= set(risk.PUPIL_FIELDS)


ODD_COLUMNS: dict[str, list[Any]] = {
    "text with a blank": ["a ", None, " b", "a ", float("nan")],
    "text": [" x", "y ", "x", "z", "y"],
    "numbers": [1, 1.0, np.int64(2), 2.5, True],
    "numbers and blanks": [1, None, pd.NA, float("nan"), " 3 "],
    "na and text": [pd.NA, "a", None, "b ", pd.NaT],
    "blanks": [None, float("nan"), None, None, None],
    "numpy text": [np.str_(" p "), "p", np.str_("q"), None, "q"],
}


@pytest.mark.parametrize("name", sorted(ODD_COLUMNS))
def test_texts_at_rows_are_the_whole_columns_texts(name: str) -> None:
    series = pd.Series(ODD_COLUMNS[name] * 3, dtype=object)
    whole = risk._texts(series)
    if name != "na and text":  # pd.NA / NaT among text read as blanks, as before
        assert whole == [ref_risk._text(v) for v in series]
    for rows in ([0, 2, 4], [1], [3, 4, 9, 14], [], list(range(15))):
        at = np.array(rows, dtype=np.int64)
        assert risk._texts(series, at) == [whole[i] for i in rows], rows
    frame = pd.DataFrame({"c": series})
    table = risk._Columns(frame)
    assert table.cells("c", np.array([1, 5])) == [whole[1], whole[5]]
    table.column("c")
    assert table.cells("c", np.array([1, 5])) == [whole[1], whole[5]]


def _loosen(dest: pd.DataFrame, seed: int, listed: set[int]) -> pd.DataFrame:
    """Cells of PUPIL_FIELDS columns whose kind differs between listed pupils and the others:
    numbers only outside the list (so a column of text among the listed is not one of text), and
    NaN / None / pd.NA / numpy text among them."""
    rng = random.Random(seed)
    out = dest.copy()
    others = [i for i in range(len(out)) if i not in listed] or [0]
    inside = sorted(listed) or [0]
    for col in ("legal_forename", "current_intended_level", "on_track_level", "eal", "school"):
        values = out[col].astype(object).tolist()
        for i in rng.sample(others, min(3, len(others))):
            values[i] = rng.choice((7, 2.0, np.int64(3), True))
        for i in rng.sample(inside, min(6, len(inside))):
            values[i] = rng.choice((None, float("nan"), pd.NA, np.str_(" Level 2 "), " y "))
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


@pytest.mark.parametrize("as_of", AS_OF)
def test_assess_equals_p4_on_loose_cells(
    merged: dict[str, pd.DataFrame],  # noqa: F811
    as_of: dt.date,
) -> None:
    dest = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    dest = dest.reset_index(drop=True)
    listed_upns = {e.upn for e in ref_risk.assess(dest, None, None, RULES, TERMS, as_of)}
    listed = {i for i, u in enumerate(dest["upn"].astype(str).str.strip()) if u in listed_upns}
    odd = _loosen(dest, as_of.toordinal(), listed)
    intents, apps = _rounds_tabs(dest, as_of.month)
    columns = [*risk._RISK_KEYS, "nope", "upn", "rank"]
    school = str(dest["school"].iloc[-1])
    cases = {
        "odd": (odd, {}),
        "odd_rounds": (odd, {"intentions": intents, "applications": apps}),
        "odd_school": (odd, {"school": f" {school.lower()} "[1:-1]}),
        "no_phase": (odd.drop(columns=["phase"]), {}),
        "repeated_names": (
            pd.concat(
                [odd, odd[["send", "on_track_level"]].iloc[::-1].reset_index(drop=True)], axis=1
            ),
            {},
        ),
        "no_pupil_fields": (odd[["upn", "leaving_year", "phase"]], {}),
    }
    listed_somewhere = 0
    for name, (frame, kw) in cases.items():
        rounds = {
            "intentions": kw.pop("intentions", None),
            "applications": kw.pop("applications", None),
        }
        want = ref_risk.assess(
            frame, rounds["intentions"], rounds["applications"], RULES, TERMS, as_of, **kw
        )
        got = risk.assess(
            frame, rounds["intentions"], rounds["applications"], RULES, TERMS, as_of, **kw
        )
        assert _entries(got) == _entries(want), name
        assert risk.risk_rows(got, columns) == ref_risk.risk_rows(want, columns), name
        assert risk.risk_rows(got, []) == ref_risk.risk_rows(want, []), name
        listed_somewhere += len(want)
    if as_of in AS_OF[:2]:
        assert listed_somewhere > 0


def _old_records(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{str(k): ref_risk._text(v) for k, v in r.items()} for r in frame.to_dict("records")]


def test_records_are_the_old_records() -> None:
    frame = pd.DataFrame(
        {
            "text": [" a", "b ", "c", "d"],
            "text_with_blanks": ["a", None, float("nan"), pd.NA],
            "mixed": [np.int64(3), np.float32(0.1), pd.NA, np.datetime64("2026-01-02")],
            "ints": np.array([1, 2, 3, 4], dtype=np.int64),
            "floats": [1.5, float("nan"), 2.0, 0.1],
            "masked": pd.array([1, None, 3, 4], dtype="Int64"),
            "strs": pd.array([" x", None, "y", "z"], dtype="str"),
            "flags": [True, False, np.True_, None],
            "days": pd.to_datetime(["2026-01-01", None, "2026-03-01", "2026-04-01"]),
            "category": pd.Categorical(["p", "q", None, "p"]),
            7: ["n", "u", "m", "b"],
        }
    )
    assert _typed(risk._records(frame)) == _typed(_old_records(frame))
    as_text = frame.rename(columns={7: "7"}).assign(**{"7 ": frame[7]})
    assert risk._records(as_text) == _old_records(as_text)
    clash = frame.rename(columns={"ints": "7"})  # 7 and "7": one key, as before
    assert risk._records(clash) == _old_records(clash)
    assert risk._records(frame.iloc[0:0]) == [] and risk._records(None) == []


@pytest.mark.parametrize("as_of", AS_OF[:2])
def test_assess_equals_p4_with_loose_round_tabs(
    merged: dict[str, pd.DataFrame],  # noqa: F811
    as_of: dt.date,
) -> None:
    dest = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    intents, apps = _rounds_tabs(dest, as_of.day + 3)
    rng = random.Random(as_of.toordinal())
    intents = intents.astype(object)
    apps = apps.astype(object)
    for frame, cols in ((intents, ("submitted", "destination", "level", "upn")), (apps, ("recorded", "status", "provider"))):  # fmt: skip
        for col in cols:
            for i in rng.sample(list(frame.index), len(frame) // 5):
                frame.loc[i, col] = rng.choice(
                    (None, float("nan"), pd.NA, 5, f" {frame.loc[i, col]} ")
                )
    intents.loc[intents.index[:4], "submitted"] = pd.Timestamp("2026-01-10")
    intents["leaving_year"] = [int(y) if str(y).isdigit() else y for y in intents["leaving_year"]]
    want = ref_risk.assess(dest, intents, apps, RULES, TERMS, as_of)
    got = risk.assess(dest, intents, apps, RULES, TERMS, as_of)
    assert _entries(got) == _entries(want)
    assert len(want) > 10
