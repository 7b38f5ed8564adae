"""Brief C's steady-night shortcuts in `merge.plan_sync_many` give the frozen merge's output,
under random mixes of what a night between two runs can bring.

The shortcuts: a Destinations group showing its winner with its hash and token recorded is
found unchanged before `_group_outcome` (`_Run._write_pupil`); winners and exceptions are
collected in the matching loop and the entry worked out there for matched responses only; a
logged response's derived cells are read once in `_pool` and compared there; `match_one` takes
a key's one pupil at once; the schools' `PupilIndex`es share one name-part cache; and
`_Table.by_school` reads the school column as read. Each hypothesis example applies a random
list of changes to a trust after its first night (staff edits of synced cells, blank or
rewritten `sync_hash` cells, duplicate UPNs across schools, school emails moved between pupils
so a logged response moves pupil, renamed pupils, hand-edited and copied log rows, edited and
new responses) and compares two more nights with the frozen copy
(tests/unit/_reference_merge2) through `test_merge_equivalence._both`.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync.sample import DEFAULT_QUESTION_MAP
from gsync.template import HASH_GROUPS, parse_sync_hash
from tests.unit.test_core_equivalence import NOW, _make_trust
from tests.unit.test_merge_equivalence import _both

Night = list[tuple[str, list[dict[str, Any]]]]
LATER = NOW + dt.timedelta(days=1)
SYNCED = {g: cells for g, cells in HASH_GROUPS.items() if g in ("ct", "ci", "in", "au")}


@functools.cache
def _first(seed: int) -> tuple[dict[str, pd.DataFrame], Night]:
    """A trust after its first night (checked against the frozen merge) and that night's input."""
    trust = _make_trust(seed, sustained=seed % 2 == 0)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    return dict(_both(trust.tabs, raw).tabs), raw


def _rows(frame: pd.DataFrame, column: str) -> list[Any]:
    return frame.index[frame[column].astype(str) != ""].tolist()


def _change_dest(dest: pd.DataFrame, kind: str, rng: random.Random) -> pd.DataFrame:
    hashed = _rows(dest, "sync_hash")
    pupils = _rows(dest, "upn")
    if kind == "hash_blank" and hashed:
        dest.loc[rng.choice(hashed), "sync_hash"] = rng.choice(("", " ", "junk"))
    elif kind == "hash_token" and hashed:  # another submission's token, or none
        i = rng.choice(hashed)
        hashes = parse_sync_hash(str(dest.loc[i, "sync_hash"]))
        if not hashes:  # a cell blanked to " " or "junk" by an earlier change
            return dest
        group = rng.choice(sorted(hashes))
        digest = hashes[group].partition(".")[0]
        hashes[group] = digest + rng.choice(("", ".", ".abcdef", ".x.y"))
        dest.loc[i, "sync_hash"] = " ".join(f"{g}={v}" for g, v in hashes.items())
    elif kind == "hash_loose" and hashed:  # the same parts reordered, tabbed, repeated
        i = rng.choice(hashed)
        parts = str(dest.loc[i, "sync_hash"]).split()
        rng.shuffle(parts)
        extra = rng.choice(("", f" {rng.choice(sorted(SYNCED))}=00000000.bad", " ct="))
        dest.loc[i, "sync_hash"] = rng.choice((" ", "\t", "  ")).join(parts) + extra
    elif kind == "hash_digest" and hashed:  # a wrong hash, the token kept (cells retyped)
        i = rng.choice(hashed)
        hashes = parse_sync_hash(str(dest.loc[i, "sync_hash"]))
        group = rng.choice(sorted(set(hashes) & set(SYNCED)) or ["ct"])
        digest, _, token = hashes.get(group, "0.x").partition(".")
        hashes[group] = f"{'0' * 8 if digest != '0' * 8 else '1' * 8}.{token}"
        dest.loc[i, "sync_hash"] = " ".join(f"{g}={v}" for g, v in hashes.items())
    elif kind == "staff_edit" and hashed:  # a synced cell corrected by staff
        i = rng.choice(hashed)
        cells = SYNCED[rng.choice(sorted(SYNCED))]
        dest.loc[i, rng.choice(cells)] = rng.choice(("Corrected", "", "Y", "N", "x@y.z"))
    elif kind == "group_blank" and hashed:
        i = rng.choice(hashed)
        for c in SYNCED[rng.choice(sorted(SYNCED))]:
            dest.loc[i, c] = ""
    elif kind == "dup_upn" and pupils:  # the same pupil-in-cohort listed by another school
        i = rng.choice(pupils)
        copy = dest.loc[[i]].copy()
        others = sorted(set(dest["school"].astype(str)) - {str(dest.loc[i, "school"])})
        copy["school"] = rng.choice(others) if others else "Elsewhere"
        if rng.random() < 0.5:
            copy["sync_hash"] = ""
        dest = pd.concat([dest, copy], ignore_index=True)
    elif kind == "move_email" and len(pupils) > 1:  # a logged response now matches another pupil
        a, b = rng.sample(pupils, 2)
        dest.loc[a, "school_email"], dest.loc[b, "school_email"] = (
            dest.loc[b, "school_email"],
            dest.loc[a, "school_email"] if rng.random() < 0.5 else "",
        )
    elif kind == "same_email" and len(pupils) > 1:  # two pupils of a school share an email
        i = rng.choice(pupils)
        school = dest.loc[i, "school"]
        mates = [j for j in pupils if j != i and dest.loc[j, "school"] == school]
        if mates:
            dest.loc[rng.choice(mates), "school_email"] = dest.loc[i, "school_email"]
    elif kind == "twin" and pupils:  # another pupil of the school with the same name and birth
        i = rng.choice(pupils)
        copy = dest.loc[[i]].copy()
        copy["upn"] = f"{copy['upn'].iloc[0]}T"
        copy["school_email"] = rng.choice(("", "twin@example.org"))
        copy["leaving_year"] = rng.choice((str(copy["leaving_year"].iloc[0]), "2027"))
        dest = pd.concat([dest, copy], ignore_index=True)
    elif kind == "rename" and pupils:
        i = rng.choice(pupils)
        dest.loc[i, "legal_forename"] = rng.choice(
            ("Renamed", "Zoë", str(dest.loc[i, "legal_surname"]))
        )
        dest.loc[i, "school_email"] = rng.choice(("", str(dest.loc[i, "school_email"])))
    elif kind == "upn_typo" and pupils:
        i = rng.choice(pupils)
        dest.loc[i, rng.choice(("upn", "leaving_year"))] = rng.choice(("", "X", "2031"))
    return dest


def _change_log(log: pd.DataFrame, kind: str, rng: random.Random) -> pd.DataFrame:
    if not len(log):
        return log
    i = rng.choice(list(log.index))
    if kind == "log_derived":
        column = rng.choice(("upn", "leaving_year", "match_method", "match_status", "reason",
                             "entry", "personal_email", "telephone", "consent"))  # fmt: skip
        log.loc[i, column] = rng.choice(("", "typed", "Y", "2026"))
    elif kind == "log_school":
        log.loc[i, "school"] = rng.choice(("", str(log.loc[i, "school"]).upper(), "Elsewhere"))
    elif kind == "log_copy":  # the same response id twice, in or out of the school
        copy = log.loc[[i]].copy()
        if rng.random() < 0.5:
            copy["school"] = "Elsewhere"
        if rng.random() < 0.5:
            copy["upn"] = "copied"
        log = pd.concat([log, copy], ignore_index=True)
    return log


def _change_raw(raw: Night, kind: str, rng: random.Random) -> Night:
    """One change of the listing, made to one to four responses."""
    for _ in range(rng.randint(1, 4)):
        raw = _change_one(raw, kind, rng)
    return raw


def _change_one(raw: Night, kind: str, rng: random.Random) -> Night:
    school, responses = raw[rng.randrange(len(raw))]
    if not responses:
        return raw
    k = rng.randrange(len(responses))
    r = responses[k]
    answers = dict(r.get("answers") or {})
    # The test's `_entry_for` reads the minute: 0 and 1 a years 1-3 check, 2 none, else by year.
    minute = rng.choice((0, 1, 2, 13, 23, 33, 44))
    later = f"2026-07-{rng.randint(10, 31):02d}T{rng.randint(0, 23):02d}:{minute:02d}:00.000Z"
    if kind == "resp_edit":  # resubmitted: another destination, consent, or email
        q = DEFAULT_QUESTION_MAP[rng.choice(("destination", "consent", "course", "telephone"))]
        value = rng.choice(("College", "No, I do not agree", "Yes, I agree", "Plumbing", "bad"))
        answers[q] = {"textAnswers": {"answers": [{"value": value}]}}
        moved = {**r, "answers": answers, "lastSubmittedTime": later}
    elif kind == "resp_new":  # a new response, sometimes from another pupil's school account
        other = rng.choice(responses)
        moved = {**r, "responseId": f"{school}-new-{rng.randrange(10**6)}",
                 "respondentEmail": other.get("respondentEmail", ""), "lastSubmittedTime": later}  # fmt: skip
    elif kind == "resp_year":  # another leaving year stated (chooses between cohorts)
        q = DEFAULT_QUESTION_MAP["leaving_year"]
        year = rng.choice(("2024", "2025", "2026", "2027", "soon"))
        answers[q] = {"textAnswers": {"answers": [{"value": year}]}}
        moved = {**r, "answers": answers, "lastSubmittedTime": later}
    elif kind == "resp_steal":  # listed by another school, later: its log row moves school
        others = [s for s, _ in raw if s != school]
        if not others:
            return raw
        to = rng.choice(others)
        stolen = {**r, "lastSubmittedTime": later}
        return [(s, [*rs, stolen] if s == to else rs) for s, rs in raw]
    elif kind == "school_twice":  # a school listed twice in one run
        return [*raw, (school, responses)]
    elif kind == "resp_time":  # the same time in another form, or an older one listed
        when = str(r.get("lastSubmittedTime") or "")
        moved = {**r, "lastSubmittedTime": rng.choice((when[:19] + "Z", when.replace("Z", "+00:00"),
                                                      "2020-01-01T00:00:00.000Z", ""))}  # fmt: skip
    else:  # "resp_drop": missing from this night's listing (the log still counts it)
        moved = None
    changed = [*responses[:k], *([moved] if moved is not None else []), *responses[k + 1 :]]
    return [(s, changed if s == school else rs) for s, rs in raw]


DEST = ("hash_blank", "hash_token", "hash_digest", "hash_loose", "staff_edit", "group_blank",
        "dup_upn", "move_email", "same_email", "twin", "rename", "upn_typo")  # fmt: skip
LOG = ("log_derived", "log_school", "log_copy")
RAW = ("resp_edit", "resp_new", "resp_year", "resp_steal", "school_twice", "resp_time",
       "resp_drop")  # fmt: skip
Change = tuple[str, int]


def _apply(tabs: dict[str, pd.DataFrame], raw: Night, kind: str, rng: random.Random) -> Night:
    """One change of `kind`: into the tabs (in place) or the responses; the responses after it."""
    if kind in DEST:
        tabs["destinations"] = _change_dest(tabs["destinations"], kind, rng)
    elif kind in LOG:
        tabs["responses"] = _change_log(tabs["responses"], kind, rng)
    else:
        raw = _change_raw(raw, kind, rng)
    return raw


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from((3, 4, 11)),
    changes=st.lists(
        st.tuples(st.sampled_from(DEST + LOG + RAW), st.integers(0, 2**32)), max_size=20
    ),
)
def test_nights_after_random_changes_equal_the_frozen_merge(
    seed: int, changes: list[Change]
) -> None:
    tabs, raw = _first(seed)
    tabs = {k: v.copy() for k, v in tabs.items()}
    for kind, salt in changes:
        raw = _apply(tabs, raw, kind, random.Random(salt))
    plan = _both(tabs, raw, LATER)
    # And the steady night after it: the same listing again.
    _both(dict(plan.tabs), raw, LATER + dt.timedelta(days=1))


def test_the_random_changes_reach_the_slow_paths() -> None:
    """Guards the property test above: its changes do make conflicts, updates, re-matches and
    records of hashes, not only unchanged nights."""
    tabs, raw = _first(4)
    tabs = {k: v.copy() for k, v in tabs.items()}
    rng = random.Random(1)
    for kind in (*DEST, *DEST, *LOG, *RAW, *RAW):
        raw = _apply(tabs, raw, kind, rng)
    before = tabs["destinations"]["sync_hash"].copy()
    plan = _both(tabs, raw, LATER)
    assert plan.counts["updated"] > 0 and plan.counts["new"] > 0
    assert plan.counts["applied"] + plan.counts["conflicts"] > 0
    after = plan.tabs["destinations"]["sync_hash"]
    assert after.ne(before.reindex(after.index, fill_value="")).any()
