"""Brief Q1's steady-night fast paths in `merge.plan_sync_many` give the frozen merge's output.

A night that repeats the last one takes the fast paths: each Destinations group is written, or
found unchanged, on tuples of its cells (`_Run._write_pupil`, no row dicts), logged responses whose submission has not
changed are compared on the few cells a response can change without a new submission
(`_log_responses`), and logged submission times in `timestamp`'s form are not parsed again
(`_not_yet_logged`). Each test below changes what those shortcuts assume (sync hashes, log
cells, the roster, times, consent) and compares the whole plan with the frozen copy
(tests/unit/_reference_merge2) through `test_merge_equivalence._both`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from gsync import matching as merge_matching
from gsync import merge
from gsync import responses as merge_responses
from gsync.sample import DEFAULT_QUESTION_MAP
from gsync.template import HASH_GROUPS, group_hash, parse_sync_hash, values_hash
from tests.unit._reference_merge2 import matching as ref_matching
from tests.unit._reference_merge2 import merge as ref
from tests.unit._reference_merge2 import responses as ref_responses
from tests.unit.test_core_equivalence import NOW, SEEDS, _make_trust, _staff_edits
from tests.unit.test_merge_equivalence import _both

Night = list[tuple[str, list[dict[str, Any]]]]
LATER = NOW + dt.timedelta(days=1)


def _first_night(seed: int) -> tuple[dict[str, pd.DataFrame], Night]:
    trust = _make_trust(seed, sustained=seed != 11)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(trust.tabs, raw)
    return dict(plan.tabs), raw


def _copy(tabs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in tabs.items()}


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record `_Run._write_pupil`'s outcomes (so a test can tell which cases ran)."""
    seen: list[str] = []
    real = merge._Run._write_pupil

    def write(self: Any, *args: Any) -> list[str]:
        got = real(self, *args)
        seen.extend(got)
        return got

    monkeypatch.setattr(merge._Run, "_write_pupil", write)
    return seen


@pytest.mark.parametrize("seed", SEEDS)
def test_a_steady_night_takes_the_fast_paths(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    tabs, raw = _first_night(seed)
    seen = _spy(monkeypatch)
    slow: list[str] = []  # responses logged the long way (`_log_row` of every cell)
    log_row = merge._log_row
    monkeypatch.setattr(merge, "_log_row", lambda r, s: slow.append(s) or log_row(r, s))
    plan = _both(tabs, raw, LATER)
    assert plan.counts["updated"] == 0 and plan.counts["applied"] == 0
    assert plan.counts["unchanged"] == sum(len(r) for _, r in raw) > 0
    assert seen and set(seen) == {"unchanged"}
    assert slow == []
    # And a night after staff edits and edited responses: some groups take the slow path.
    seen.clear()
    edited = _staff_edits(tabs, seed)
    trust = _make_trust(seed, sustained=seed != 11)
    again = [(s.school, s.form_responses(edited=True)) for s in trust.samples]
    plan = _both(edited, again, LATER)
    assert {"unchanged", "written"} <= set(seen) and {"kept", "conflict"} & set(seen)
    assert plan.counts["conflicts"] + plan.counts["applied"] > 0


def _hash_texts(tabs: dict[str, pd.DataFrame], change: Callable[[str, random.Random], str],
                seed: int) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Rewrite the `sync_hash` cell of every third Destinations row that has one."""
    out = _copy(tabs)
    dest = out["destinations"]
    rng = random.Random(seed)
    for n, i in enumerate(dest.index[dest["sync_hash"].astype(str) != ""]):
        if n % 3 == 0:
            dest.loc[i, "sync_hash"] = change(str(dest.loc[i, "sync_hash"]), rng)
    return out


def _other_token(text: str, rng: random.Random) -> str:
    """Each group's hash kept, its source token replaced (another submission, or none)."""
    parts = []
    for group, value in parse_sync_hash(text).items():
        digest = value.partition(".")[0]
        parts.append(f"{group}={digest}" + rng.choice(("", ".abcdef", ".", ".x.y")))
    return " ".join(parts)


def _wrong_digest(text: str, rng: random.Random) -> str:
    """One group's hash wrong (as if staff edited the cells and typed the old values back)."""
    hashes = parse_sync_hash(text)
    group = rng.choice(sorted(hashes))
    digest, _, source = hashes[group].partition(".")
    hashes[group] = f"{digest[::-1]}.{source}" if rng.random() < 0.5 else digest.upper()
    return " ".join(f"{g}={v}" for g, v in hashes.items())


def _loose_text(text: str, rng: random.Random) -> str:
    """The same hashes written loosely: reordered, padded, unknown and repeated parts (the
    last of a repeated group counts); a synced group stays as typed."""
    parts = [f"{g}={v}" for g, v in parse_sync_hash(text).items()]
    rng.shuffle(parts)
    group = rng.choice(sorted(HASH_GROUPS))
    return "  zz=1 " + f"{group}=00000000.bad " + "\t".join(parts) + " junk= =x "


def _dropped_group(text: str, rng: random.Random) -> str:
    hashes = parse_sync_hash(text)
    hashes.pop(rng.choice(sorted(hashes)))
    return " ".join(f"{g}={v}" for g, v in hashes.items()) if rng.random() < 0.8 else ""


@pytest.mark.parametrize("change", [_other_token, _wrong_digest, _loose_text, _dropped_group])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_sync_hash_texts_the_fast_path_must_not_trust(
    seed: int, change: Callable[[str, random.Random], str]
) -> None:
    tabs, raw = _first_night(seed)
    plan = _both(_hash_texts(tabs, change, seed), raw, LATER)
    if change is not _loose_text:  # something to record again, or a conflict to raise
        assert plan.tabs["destinations"]["sync_hash"].ne(tabs["destinations"]["sync_hash"]).any()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_destination_cells_edited_blanked_or_retyped(seed: int) -> None:
    tabs, raw = _first_night(seed)
    out = _copy(tabs)
    dest = out["destinations"]
    rng = random.Random(seed)
    filled = dest.index[dest["consent"].astype(str) != ""].tolist()
    for i in rng.sample(filled, min(len(filled), 12)):
        kind = rng.randrange(5)
        if kind == 0:  # the whole contact group cleared (empty: written again)
            for c in HASH_GROUPS["ct"]:
                dest.loc[i, c] = ""
        elif kind == 1:  # an email retyped in capitals (edited: kept or a conflict)
            dest.loc[i, "personal_email"] = str(dest.loc[i, "personal_email"]).upper() or "X@Y.Z"
        elif kind == 2:  # an entry group cleared
            for g in ("ci", "in", "au"):
                for c in HASH_GROUPS[g]:
                    dest.loc[i, c] = ""
        elif kind == 3:  # a telephone cell with padding
            dest.loc[i, "telephone"] = f" {dest.loc[i, 'telephone']}"
        else:  # consent flipped by staff
            dest.loc[i, "consent"] = "N" if dest.loc[i, "consent"] == "Y" else "Y"
    _both(out, raw, LATER)


@pytest.mark.parametrize("seed", SEEDS)
def test_logged_cells_a_steady_night_must_correct(seed: int) -> None:
    """Log rows changed by hand: every derived cell, contact details kept without consent,
    a response column, and rows copied (the same response id twice, in and out of the school)."""
    tabs, raw = _first_night(seed)
    out = _copy(tabs)
    log = out["responses"]
    rng = random.Random(seed)
    derived = ("upn", "leaving_year", "match_method", "match_status", "reason", "entry")
    for n, i in enumerate(rng.sample(list(log.index), min(len(log), 30))):
        if n % 5 == 0:
            log.loc[i, derived[n % len(derived)]] = "typed"
        elif n % 5 == 1:
            log.loc[i, derived[(n + 1) % len(derived)]] = ""
        elif n % 5 == 2:  # no consent, yet contact details in the log
            log.loc[i, "consent"] = rng.choice(("N", "", "y"))
            log.loc[i, "personal_email"] = "kept@example.com"
            log.loc[i, "telephone"] = "+442079460123"
        elif n % 5 == 3:
            log.loc[i, rng.choice(("course", "issues", "full_name", "stated_leaving_year"))] = "x"
        else:
            log.loc[i, "school"] = rng.choice(("", str(log.loc[i, "school"]).upper()))
    copies = log.loc[rng.sample(list(log.index), min(len(log), 6))].copy()
    copies.loc[copies.index[::2], "school"] = "Another school"
    copies.loc[copies.index[1::3], "upn"] = "copied"
    out["responses"] = pd.concat([log, copies], ignore_index=True)
    plan = _both(out, raw, LATER)
    assert plan.counts["updated"] > 0


def _retime(raw: Night, when: Callable[[str], Any], every: int = 4) -> Night:
    out = []
    for school, responses in raw:
        moved = [
            {**r, "lastSubmittedTime": when(r["lastSubmittedTime"])} if k % every == 0 else r
            for k, r in enumerate(responses)
        ]
        out.append((school, moved))
    return out


@pytest.mark.parametrize(
    ("logged", "listed"),
    [
        (lambda t: f" {t} ", lambda t: f" {t} "),  # padded in the log and in the form's answer
        (lambda t: t[:19] + "Z", lambda t: t[:19] + "Z"),  # no milliseconds, both
        (lambda t: t[:19] + ".5Z", lambda t: t[:19] + ".5Z"),
        (lambda t: t.lower(), lambda t: t.lower()),
        (lambda t: t[:19] + "+00:00", lambda t: t[:19] + "+00:00"),
        (lambda t: "0999" + t[4:], lambda t: "0999" + t[4:]),  # parsed, yet rewritten
        (lambda t: t, lambda t: t[:19] + "Z"),  # the same time in another form
        (lambda t: t, lambda t: t.replace("Z", "+00:00")),
        (lambda t: "2026-13-01T10:00:00.000Z", lambda t: "2026-13-01T10:00:00.000Z"),  # unparsable
        (lambda t: "", lambda t: None),  # no time: the creation time counts
    ],
)
def test_logged_submission_times_in_other_forms(logged: Any, listed: Any) -> None:
    tabs, raw = _first_night(SEEDS[0])
    out = _copy(tabs)
    log = out["responses"]
    changed = log.index[::4]
    log.loc[changed, "last_submitted"] = [
        logged(str(t)) for t in log.loc[changed, "last_submitted"]
    ]
    by_id = dict(zip(log["response_id"], log["last_submitted"], strict=True))
    relisted = [
        (school, [{**r, "lastSubmittedTime": listed(by_id[r["responseId"]])}
                  if r["responseId"] in by_id and by_id[r["responseId"]] != r["lastSubmittedTime"]
                  else r for r in responses])
        for school, responses in raw
    ]  # fmt: skip
    _both(out, relisted, LATER)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_roster_changes_move_logged_matches(seed: int) -> None:
    """Without new submissions, logged responses re-match: a pupil's school email changed,
    a pupil renamed, a UPN retyped, a pupil moved school, a row copied (now ambiguous)."""
    tabs, raw = _first_night(seed)
    out = _copy(tabs)
    dest = out["destinations"]
    rng = random.Random(seed)
    pupils = dest.index[dest["upn"].astype(str) != ""].tolist()
    picked = rng.sample(pupils, min(len(pupils), 15))
    schools = sorted(set(dest["school"]))
    for n, i in enumerate(picked):
        if n % 5 == 0:
            dest.loc[i, "school_email"] = ""
        elif n % 5 == 1:
            dest.loc[i, "legal_forename"] = "Renamed"
            dest.loc[i, "preferred_forename"] = ""
        elif n % 5 == 2:
            dest.loc[i, "upn"] = f"{dest.loc[i, 'upn']}X"
        elif n % 5 == 3:
            dest.loc[i, "school"] = rng.choice(schools)
    copies = dest.loc[picked[4::5]].copy()
    copies["upn"] = [f"{u}C" for u in copies["upn"]]
    out["destinations"] = pd.concat([dest, copies], ignore_index=True)
    plan = _both(out, raw, LATER)
    assert plan.counts["updated"] > 0


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_consent_withdrawn_and_new_submissions(seed: int) -> None:
    """Some pupils submit again: consent withdrawn, another destination; others are new."""
    tabs, raw = _first_night(seed)
    rng = random.Random(seed)
    consent_q, dest_q = DEFAULT_QUESTION_MAP["consent"], DEFAULT_QUESTION_MAP["destination"]
    again: Night = []
    for school, responses in raw:
        moved = []
        for k, r in enumerate(responses):
            if k % 3 == 0:
                answers = dict(r["answers"])
                answers[consent_q] = {"textAnswers": {"answers": [{"value": "No, I do not agree"}]}}
                if k % 2:
                    answers[dest_q] = {"textAnswers": {"answers": [{"value": "College"}]}}
                r = {**r, "answers": answers, "lastSubmittedTime": "2026-07-31T10:00:00.000Z"}
            moved.append(r)
        extra = {**rng.choice(responses), "responseId": f"{school}-new"}
        again.append((school, [*moved, extra]))
    plan = _both(tabs, again, LATER)
    assert plan.counts["updated"] > 0 and plan.counts["new"] > 0


def bad_start_dates_night(trust: Any) -> Night:
    """Each school's responses with every other one's start date typed as the form's checks
    find it: unreadable, impossible, blank or fine, in turn."""
    start_q = DEFAULT_QUESTION_MAP["start_date"]
    raw: Night = []
    for s in trust.samples:
        responses = s.form_responses()
        for k, r in enumerate(responses):
            if k % 2 == 0:
                answers = dict(r["answers"])
                typed = ("soon", "31/02/2027", "", "2027-09-01")[k % 4]
                answers[start_q] = {"textAnswers": {"answers": [{"value": typed}]}}
                responses[k] = {**r, "answers": answers}
        raw.append((s.school, responses))
    return raw


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_bad_start_dates(seed: int) -> None:
    """A start date that cannot be read is not written (blank in the entry): first and steady
    night, and a staff-typed `issues` cell in the log that only looks like the code."""
    trust = _make_trust(seed, sustained=False)
    raw = bad_start_dates_night(trust)
    plan = _both(trust.tabs, raw)
    tabs = _copy(plan.tabs)
    log = tabs["responses"]
    bad = log.index[log["issues"].str.contains("bad_start_date")]
    assert len(bad) > 0
    log.loc[bad[::3], "issues"] = "not_bad_start_date"
    log.loc[bad[1::3], "issues"] = "bad_start_date bad_telephone"
    _both(tabs, raw, LATER)


def test_the_tuples_equal_the_dicts() -> None:
    """`_entry_tuple` and `_contact_values` give `_entry_values` / the contact cells as the
    frozen merge builds them."""
    rng = random.Random(5)
    issues = ("", "bad_start_date", "bad_start_date bad_telephone", "not_bad_start_date",
              "bad_personal_email", "bad_telephone", "missing_consent")  # fmt: skip
    for k in range(300):
        r = {c: rng.choice(("", "x", f"v{k}")) for c in merge.RESPONSE_COLUMNS}
        r.update(issues=rng.choice(issues), last_submitted=rng.choice(("", "2026-07-31T10:00:00.000Z", "2026")),
                 consent=rng.choice(("Y", "N", "", "y")), entry="intended")  # fmt: skip
        assert merge._entry_tuple(r) == tuple(ref._entry_values(r).values())
        row = {"personal_email": rng.choice(("", "old@x.y")), "telephone": rng.choice(("", "+44"))}
        old = ref._contact_cells(r, row)
        got = merge._contact_values(r, row["personal_email"], row["telephone"])
        assert got == tuple(old[c] for c in HASH_GROUPS["ct"])


PARTS = ("Jo", "JO-ellen", "Zoë", "Łukasz", "O'Dunmore", "Ørsted", "---", "", " ", "ß", "ﬁona",
         "Smith", "a\u0301", "İlkay", "2nd", "Σίσυφος", "x\ty")  # fmt: skip


def test_pupil_index_name_keys_from_parts() -> None:
    """`PupilIndex.from_columns` joins the name keys of ASCII name parts: every mix of ASCII and
    other forenames and surnames (legal and preferred) matches as the frozen matcher does."""
    rng = random.Random(9)
    rows, asks = [], []
    for k in range(400):
        fore, pref, sur, psur = (rng.choice(PARTS) for _ in range(4))
        dob = f"2010-01-0{1 + k % 3}"
        rows.append({"school": "North", "upn": f"U{k % 150}", "leaving_year": "2026",
                     "legal_forename": fore, "preferred_forename": pref, "legal_surname": sur,
                     "preferred_surname": psur, "date_of_birth": dob, "school_email": ""})  # fmt: skip
        typed = f"{rng.choice((fore, pref))} {rng.choice((sur, psur))}"
        asks.append({"response_id": f"r{k}", "full_name": typed, "date_of_birth": dob,
                     "respondent_email": "", "leaving_year": "", "issues": ""})  # fmt: skip
    dest, responses = pd.DataFrame(rows, dtype=object), pd.DataFrame(asks, dtype=object)
    new = merge_matching.match_responses(responses, dest, school="North")
    assert_frame_equal(new, ref_matching.match_responses(responses, dest, school="North"))
    assert {"matched", "ambiguous", "unmatched"} <= set(new["match_status"])


def test_timestamps_already_in_form() -> None:
    """`timestamp` returns text already in its form at once: the same as the frozen one for
    such text, parsable or not, and for near misses."""
    base = "2026-06-01T10:00:00.123Z"
    near = [base, "2026-02-30T10:00:00.000Z", "2026-06-01T24:00:00.000Z", "9999-12-31T23:59:59.999Z",
            "1000-01-01T00:00:00.000Z", "0999-01-01T00:00:00.000Z", base + " ", " " + base,
            base[:-1], base.replace("Z", "z"), base.replace(".123", ".12"), base.replace(".123", ".1234"),
            base.replace("T", " "), "2026-06-01T10:00:00.123Z\n", "٢٠٢٦-06-01T10:00:00.123Z"]  # fmt: skip
    for text in near:
        assert merge_responses.timestamp(text) == ref_responses.timestamp(text), repr(text)


def test_values_hash_is_group_hash() -> None:
    rng = random.Random(3)
    for group, cells in HASH_GROUPS.items():
        for _ in range(50):
            row = {c: rng.choice(("", "x", "Zoë", "a\\x1fb", " ")) for c in cells}
            assert values_hash(tuple(row[c] for c in cells)) == group_hash(row, group)
