"""Brief T2's first-night fast paths in `merge.plan_sync_many` give the frozen merge's output.

A first night writes every Destinations group of the pupils who answered: a group whose cells
are all blank is written without `_group_outcome` (`_Run._write_pupil`), the pupil's groups are
hashed into one `sync_hash` text, appended log rows are built from a copy of a blank row, and
`_Table.frame` puts the written cells in column by column. Each hypothesis example starts from
a trust before its first night and applies random changes: group cells staff typed before any
sync (all of a group, only its first cell, only later ones), hashes recorded for cells or for
blank groups, odd `sync_hash` texts, duplicate pupils, edited, stolen and repeated responses
(rows appended and then updated in the same run), and compares the night with the frozen copy
(tests/unit/_reference_merge2) through `test_merge_equivalence._both`.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import merge
from gsync.sample import DEFAULT_QUESTION_MAP
from gsync.template import HASH_GROUPS, values_hash
from tests.unit.test_core_equivalence import NOW, TEMPLATE, _make_trust
from tests.unit.test_merge_equivalence import _both
from tests.unit.test_merge_steady import RAW, _change_dest, _change_raw

Night = list[tuple[str, list[dict[str, Any]]]]
SYNCED = {g: cells for g, cells in HASH_GROUPS.items() if g in ("ct", "ci", "in", "au")}
TEXTS = ("College", "Y", "N", "", "x@y.z", "07700900123", "2026-09-01", "form", "Level 3")


def _pupil_rows(dest: pd.DataFrame) -> list[Any]:
    return dest.index[dest["upn"].astype(str) != ""].tolist()


def _typed(dest: pd.DataFrame, kind: str, rng: random.Random) -> pd.DataFrame:
    """One change to Destinations before a first night (staff typing, older syncs' hashes)."""
    rows = _pupil_rows(dest)
    if not rows:
        return dest
    i = rng.choice(rows)
    group = rng.choice(sorted(SYNCED))
    cells = SYNCED[group]
    text = str(dest.loc[i, "sync_hash"])
    if kind == "first_cell":  # only the group's first cell typed
        dest.loc[i, cells[0]] = rng.choice(TEXTS[:-4])
    elif kind == "later_cell":  # a cell after the first typed, the first blank
        dest.loc[i, rng.choice(cells[1:])] = rng.choice(TEXTS)
    elif kind == "whole_group":
        for c in cells:
            dest.loc[i, c] = rng.choice(TEXTS)
    elif kind == "hashed_group":  # filled, with the hash an older sync recorded (or a wrong one)
        values = tuple(rng.choice(TEXTS) for _ in cells)
        for c, v in zip(cells, values, strict=True):
            dest.loc[i, c] = v
        digest = values_hash(values) if rng.random() < 0.7 else "0" * 8
        token = rng.choice(("", ".abcdef", ".0a1b2c"))
        dest.loc[i, "sync_hash"] = f"{text} {group}={digest}{token}".strip()
    elif kind == "hash_of_blank":  # a group's hash recorded, its cells blank
        digest = values_hash(("",) * len(cells)) if rng.random() < 0.5 else "12345678"
        dest.loc[i, "sync_hash"] = f"{group}={digest}.abcdef {text}".strip()
    elif kind == "hash_text":  # odd texts: blank, junk, loose spacing, a group with no value
        dest.loc[i, "sync_hash"] = rng.choice(
            ("", " ", "junk", f"{text}\tct=", f"  {text}  ", f"ct=1 {text} ct=2", "id=")
        )
    return dest


TYPED = ("first_cell", "later_cell", "whole_group", "hashed_group", "hash_of_blank", "hash_text")
DEST = ("dup_upn", "twin", "upn_typo", "same_email")


def _night(seed: int, changes: list[tuple[str, int]]) -> tuple[dict[str, pd.DataFrame], Night]:
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    tabs = {k: v.copy() for k, v in trust.tabs.items()}
    raw: Night = [(s.school, s.form_responses()) for s in trust.samples]
    for kind, salt in changes:
        rng = random.Random(salt)
        if kind in TYPED:
            tabs["destinations"] = _typed(tabs["destinations"], kind, rng)
        elif kind in DEST:
            tabs["destinations"] = _change_dest(tabs["destinations"], kind, rng)
        else:
            raw = _change_raw(raw, kind, rng)
    return tabs, raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from((3, 4, 11)),
    changes=st.lists(
        st.tuples(st.sampled_from(TYPED + TYPED + DEST + RAW), st.integers(0, 2**32)),
        max_size=25,
    ),
)
def test_first_nights_after_random_changes_equal_the_frozen_merge(
    seed: int, changes: list[tuple[str, int]]
) -> None:
    tabs, raw = _night(seed, changes)
    plan = _both(tabs, raw)
    # And the night after it, the same responses again (the first night's rows as read).
    _both(dict(plan.tabs), raw, NOW + dt.timedelta(days=1))


def test_each_kind_of_typed_group_on_every_pupil() -> None:
    """Deterministic: every pupil's groups typed one way, for each way (the property test may
    not reach a pupil who answers), so each case meets the blank-group shortcut's test."""
    for n, kind in enumerate(TYPED):
        trust = _make_trust(3)
        tabs = {k: v.copy() for k, v in trust.tabs.items()}
        dest = tabs["destinations"]
        rng = random.Random(n)
        for i in _pupil_rows(dest):
            group = rng.choice(sorted(SYNCED))
            cells = SYNCED[group]
            if kind == "first_cell":
                dest.loc[i, cells[0]] = "Y"
            elif kind == "later_cell":
                dest.loc[i, cells[-1]] = "2026-07-01"
            else:
                dest = _typed(dest, kind, random.Random(rng.randrange(2**32)))
        tabs["destinations"] = dest
        raw = [(s.school, s.form_responses()) for s in trust.samples]
        plan = _both(tabs, raw)
        assert plan.counts["applied"] > 0
        if kind in ("first_cell", "later_cell", "whole_group"):
            assert plan.counts["conflicts"] > 0  # typed cells stand against the form


def test_appended_rows_updated_in_the_same_run() -> None:
    """A school listed twice and a response listed by a second school: log rows appended and
    then rewritten in the same run, Exceptions rows appended and then refreshed."""
    trust = _make_trust(11)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    school, responses = raw[0]
    later = [{**r, "lastSubmittedTime": "2026-07-30T10:00:00.000Z"} for r in responses[:5]]
    night = [*raw, (school, responses), (raw[1][0], later)]
    plan = _both(trust.tabs, night)
    assert plan.counts["updated"] > 0


def test_frame_of_written_and_appended_cells() -> None:
    """`_Table.frame` with rows written in different sets of cells (some outside the tab's
    columns, one with none), rows appended with missing cells and then written, equals the
    frame built cell by cell."""
    tab = TEMPLATE.tab("exceptions")
    frame = pd.DataFrame(
        {
            "exception_id": ["a", "b", "c", "d"],
            "school": ["S", "S", "T", "T"],
            "extra": [1, 2, 3, 4],
        }
    )
    table = merge._Table(frame, tab)
    table.update(0, {"reason": "r0", "kind": "k0"})
    table.update(2, {"kind": "k2", "reason": "r2"})  # the same cells in another order
    table.update(1, {"reason": "r1", "nowhere": "x"})  # a cell the tab does not have
    table.update(3, {})
    table.write(3, {"note": "n3", "status": "s3"})
    at = table.append({"exception_id": "e", "school": "U", "nowhere": "y"})
    table.append({"exception_id": "f", "school": "U", "kind": "k5"})
    table.update(at, {"reason": "r4"})
    table.write(at + 1, {"status": "s5"})
    got = table.frame()
    expected = [[table.get(i, c) for c in table.columns] for i in range(len(table))]
    want = pd.DataFrame(np.array(expected, dtype=object), columns=table.columns, dtype=object)
    pd.testing.assert_frame_equal(got, want)
    assert got.loc[1, "reason"] == "r1" and got.loc[3, "status"] == "s3"
    assert got.loc[4, "reason"] == "r4" and got.loc[5, "status"] == "s5"
    assert got.loc[4, "kind"] == "" and got["extra"].tolist()[:4] == ["1", "2", "3", "4"]


def test_log_tabs_with_columns_missing_or_extra() -> None:
    """New responses' log rows built from a blank row (the tab has every cell `_log_row`
    sets) or the long way (a tab without the telephone column, or with extra columns)."""
    trust = _make_trust(4)
    consent = DEFAULT_QUESTION_MAP["consent"]
    raw = [  # every third response without its consent answer (contact details not kept)
        (s.school, [_unanswered(r, consent) if n % 3 == 0 else r for n, r in enumerate(rs)])
        for s, rs in ((s, s.form_responses()) for s in trust.samples)
    ]
    for drop, extra in ((None, True), ("telephone", False), ("personal_email", True)):
        tabs = {k: v.copy() for k, v in trust.tabs.items()}
        log = tabs["responses"]
        if drop is not None:
            log = log.drop(columns=[drop])
        if extra:
            log.insert(1, "comments", pd.Series([], dtype=object))
        tabs["responses"] = log
        plan = _both(tabs, raw)
        assert plan.counts["new"] > 0
        out = plan.tabs["responses"]
        if drop is not None:  # the template's column appended again, blank without consent
            assert out.columns[-1] == drop
            assert (out.loc[out["consent"] != "Y", drop] == "").all()
    assert (out["consent"] == "").any() and (out["consent"] == "N").any()


def _unanswered(response: dict[str, Any], question: str) -> dict[str, Any]:
    answers = {q: a for q, a in (response.get("answers") or {}).items() if q != question}
    return {**response, "answers": answers}


def test_write_is_update() -> None:
    """`_Table.write` leaves the cells, and the schools noted as written (which decide the
    merge memos' use), that `update` with the same cells leaves: on rows as read, rows written
    before (their school too), and rows appended."""
    tab = TEMPLATE.tab("destinations")
    frame = pd.DataFrame({"upn": ["a", "b", "c"], "school": ["S", "T", "U"]})
    tables = [merge._Table(frame, tab) for _ in range(2)]
    for table in tables:
        table.update(2, {"school": "V"})
        table.append({"upn": "d", "school": "W"})
        table.written.clear()
    keys, values = ("consent", "sync_hash"), ("Y", "ct=1")
    by_write, by_update = tables
    for i in range(4):
        by_write.write(i, dict(zip(keys, values, strict=True)))
        by_update.update(i, dict(zip(keys, values, strict=True)))
        assert by_write.written == by_update.written
    assert by_write.written == {"S", "T", "V", "W"}
    assert by_write.frame().equals(by_update.frame())
    assert by_write.edits == by_update.edits
