"""Pre-leaving survey rounds (issue 11): the pure merge of round responses into Intentions and Applications.

Each round (sheets_templates/deadlines.toml `[[rounds]]`) has its own form per school, built from a
spec in forms/ (`gsync form create --round KEY`). `merge_rounds` takes the tabs as read and every
round form's responses and returns the new frames; it does no I/O. The guarantees are Form A's
(gsync.merge):

- answers are cleaned the same way (gsync.responses) and matched the same way (gsync.matching):
  verified school email, then name + date of birth; unmatched, ambiguous and invalid responses go
  to Exceptions under a stable id (`entry` = the round's key), never dropped;
- per pupil per round the latest submission wins: one Intentions row, and one Applications row per
  application (numbered as on the form); rows are updated in place, never deleted;
- a sync-written row staff edited since is left alone, and a newer submission raises a `conflict`;
- a destination changed on or after the phase's results day keeps that day's date and what it
  was before (`results_change`, `previous_destination`), so summaries can count plans changed
  with results;
- round forms collect no contact details; the April Y11 round's consent to share with the local
  authority is kept as `share_with_la` (Y/N);
- the same input gives the same output (idempotent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gsync.config import SchoolConfig
from gsync.deadlines import RoundRule, Rules, resolve, school_day
from gsync.errors import ConfigError
from gsync.formspec import FormSpec, load_spec
from gsync.matching import PupilIndex, match_one
from gsync.merge import RESOLVED, _cell, _stable_id, _Table
from gsync.paths import forms_dir
from gsync.responses import (
    DESTINATION_OPTIONS,
    FORM_KEYS,
    Memo,
    _answer_text,
    normalise_consent,
    normalise_rows,
    timestamp,
)
from gsync.template import Template, load_template

UNDECIDED = "Not decided yet"  # the round forms' "no plan yet" option (forms/round_*.toml)
STATUSES: tuple[str, ...] = ("applied", "interview", "offer", "accepted", "rejected")
OFFER_STATUSES = frozenset(("offer", "accepted"))
ROUND_TABS: tuple[str, ...] = ("intentions", "applications")
# The cells of a row the sync writes from one submission (hashed in `sync_hash`).
INTENT_CELLS: tuple[str, ...] = (
    "response_id",
    "submitted",
    "destination",
    "other",
    "provider",
    "course",
    "level",
    "share_with_la",
)
APP_CELLS: tuple[str, ...] = ("response_id", "provider", "course", "level", "status", "recorded")
_APP_KEY = re.compile(r"^app(\d+)_(provider|course|level|status)$")
_ROUND_EXCEPTION_KINDS = ("unmatched", "ambiguous", "invalid")


@dataclass(frozen=True)
class RoundsPlan:
    """The new frames (every tab passed in), counts and a readable change list (no personal data).

    `by_school`: each school's counts (`merge_rounds_many`); `counts` is their total."""

    tabs: dict[str, pd.DataFrame]
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    by_school: dict[str, dict[str, int]] = field(default_factory=dict)


# --- responses --------------------------------------------------------------------------------------


def _answer(response: Mapping[str, Any], question_id: str) -> str:
    return _answer_text((response.get("answers") or {}).get(question_id)).strip()


def application_numbers(question_map: Mapping[str, str]) -> list[int]:
    """The application groups a round form has (`app1_...`, `app2_...`), in order."""
    return sorted({int(m[1]) for k in question_map if (m := _APP_KEY.match(k))})


def normalise_round_responses(
    raw: list[dict[str, Any]], question_map: Mapping[str, str], *, memo: Memo | None = None
) -> list[dict[str, Any]]:
    """A round form's responses -> one cleaned row per response id (its latest submission).

    Each row has the response columns of gsync.responses plus `share_with_la` and `applications`
    (a list of {number, provider, course, level, status}); `issues` lists problem codes.
    `memo`: phone and email verdicts to reuse (gsync.responses.Memo).
    """
    latest: dict[str, dict[str, Any]] = {}
    for response in raw:
        rid = str(response.get("responseId", ""))
        when = timestamp(response.get("lastSubmittedTime") or response.get("createTime", ""))
        held = latest.get(rid)
        if held is None or when >= timestamp(
            held.get("lastSubmittedTime") or held.get("createTime", "")
        ):
            latest[rid] = response
    form_map = {k: v for k, v in question_map.items() if k in FORM_KEYS}
    records = normalise_rows(
        list(latest.values()),
        form_map,
        destination_options=(*DESTINATION_OPTIONS, UNDECIDED),
        memo=memo,
    )
    numbers = application_numbers(question_map)
    out: list[dict[str, Any]] = []
    for record in records:
        row: dict[str, Any] = dict(record)
        source = latest[row["response_id"]]
        # Round forms ask no contact-details consent: that is Form A's question.
        issues = [i for i in row["issues"].split() if i != "missing_consent"]
        row["consent"] = ""
        row["share_with_la"] = (
            normalise_consent(_answer(source, question_map["share_with_la"]))
            if "share_with_la" in question_map
            else ""
        )
        apps: list[dict[str, str]] = []
        for n in numbers:
            values = {
                f: _answer(source, question_map[f"app{n}_{f}"])
                if f"app{n}_{f}" in question_map
                else ""
                for f in ("provider", "course", "level", "status")
            }
            values["status"] = values["status"].casefold()
            if not any(values.values()):
                continue
            if values["status"] and values["status"] not in STATUSES:
                issues.append(f"bad_app{n}_status")
            if not values["provider"] and not values["course"]:
                issues.append(f"incomplete_app{n}")
            apps.append({"number": str(n), **values})
        row["applications"] = apps
        row["issues"] = " ".join(issues)
        out.append(row)
    return out


# --- rows and hashes --------------------------------------------------------------------------------


def _digest(values: Iterable[str]) -> str:
    return hashlib.blake2b("\x1f".join(values).encode("utf-8"), digest_size=4).hexdigest()


def _source(r: Mapping[str, Any]) -> str:
    """A short digest naming one submission (response id and last-submitted time)."""
    text = f"{r['response_id']}\x1f{r['last_submitted']}"
    return hashlib.blake2b(text.encode(), digest_size=3).hexdigest()


def _write(row: dict[str, str], cells: Mapping[str, str], source: str) -> str:
    """Write one submission's cells unless staff edited them: written/unchanged/kept/conflict."""
    recorded, _, recorded_source = row.get("sync_hash", "").partition(".")
    blank = all(not row.get(c, "") for c in cells)
    edited = not blank and recorded != _digest(row.get(c, "") for c in cells)
    if all(row.get(c, "") == v for c, v in cells.items()):
        if edited or recorded_source != source:
            row["sync_hash"] = f"{_digest(cells.values())}.{source}"
        return "unchanged"
    if edited:
        return "kept" if recorded_source == source else "conflict"
    row.update(cells)
    row["sync_hash"] = f"{_digest(row.get(c, '') for c in cells)}.{source}"
    return "written"


def results_day(rules: Rules, phase: str, leaving_year: int) -> dt.date | None:
    """The phase's results day in the leaving year (deadlines.toml [results_days]), if set."""
    expr = rules.results_days.get(phase)  # type: ignore[call-overload]
    if expr is None:
        return None
    return resolve(expr, leaving_year, {})[0]


def destination_label(row: Mapping[str, str]) -> str:
    """An intention as one line: destination (or the Other text), course, level, provider."""
    what = row.get("other", "") if row.get("destination") == "Other" else row.get("destination", "")
    parts = [what or row.get("destination", "")]
    parts += [row.get(k, "") for k in ("course", "level", "provider")]
    return ", ".join(p for p in parts if p)


def _plan_key(row: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(
        " ".join(str(row.get(k, "")).split()).casefold()
        for k in ("destination", "other", "provider", "course", "level")
    )


# --- the merge --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundsInput:
    """One school's part of a run: round key -> its form's raw responses, and question maps."""

    school: str
    responses: Mapping[str, list[dict[str, Any]]]
    question_maps: Mapping[str, Mapping[str, str]]


def merge_rounds(
    tabs: Mapping[str, pd.DataFrame],
    responses: Mapping[str, list[dict[str, Any]]],
    *,
    school: str,
    rules: Rules,
    question_maps: Mapping[str, Mapping[str, str]],
    now: dt.datetime,
    template: Template | None = None,
) -> RoundsPlan:
    """Merge one school's round responses (round key -> raw responses) into the tabs; pure.

    Reads `destinations` (to match pupils) and updates `intentions`, `applications` and
    `exceptions`; every other tab passes through unchanged. A one-school `merge_rounds_many`.
    """
    return merge_rounds_many(
        tabs,
        [RoundsInput(school, responses, question_maps)],
        rules=rules,
        now=now,
        template=template,
    )


def merge_rounds_many(
    tabs: Mapping[str, pd.DataFrame],
    schools: Sequence[RoundsInput],
    *,
    rules: Rules,
    now: dt.datetime,
    template: Template | None = None,
) -> RoundsPlan:
    """Merge several schools' round responses, school after school, in one pass over the tabs.

    The same tabs, counts and changes as calling `merge_rounds` school by school (each on the
    previous one's tabs), but the tabs become rows once and frames once, and rows are found
    through indexes (issue 7). `counts` holds the totals and `by_school` each school's.
    """
    run = _RoundsRun(tabs, template or load_template())
    counts = dict.fromkeys(_ROUND_COUNTS, 0)
    changes: list[str] = []
    by_school: dict[str, dict[str, int]] = {}
    for sch in schools:
        got = run.merge(sch, rules, now, changes)
        by_school[sch.school] = got
        for key, value in got.items():
            counts[key] += value
    out = dict(tabs)
    out["intentions"] = run.intents.frame()
    out["applications"] = run.apps.frame()
    out["exceptions"] = run.exc.frame()
    return RoundsPlan(tabs=out, counts=counts, changes=changes, by_school=by_school)


_ROUND_COUNTS = (
    "responses",
    "applied",
    "applications",
    "conflicts",
    "exceptions",
    "results_changes",
)


class _RoundsRun:
    """Intentions, Applications and Exceptions as `_Table`s for one run, with the indexes the
    merge finds rows by (each gives what the scan it replaces would at that moment: key cells
    are never rewritten, appended rows join the indexes)."""

    def __init__(self, tabs: Mapping[str, pd.DataFrame], template: Template) -> None:
        self.intents = _Table(tabs.get("intentions"), template.tab("intentions"))
        self.apps = _Table(tabs.get("applications"), template.tab("applications"))
        self.exc = _Table(tabs.get("exceptions"), template.tab("exceptions"))
        dest = tabs.get("destinations", pd.DataFrame())
        self.dest = dest
        # Three columns, not every Destinations cell (issue 7: `to_dict("records")` per school was slow).
        self.phase_of = {
            (str(upn), str(year)): str(phase)
            for upn, year, phase in zip(
                *(
                    dest[c].tolist() if c in dest.columns else [""] * len(dest)
                    for c in ("upn", "leaving_year", "phase")
                ),
                strict=True,
            )
        }
        self.memo = Memo()
        self.pupils: dict[str, PupilIndex] = {}
        # `_find`: the first row whose stripped (upn, leaving_year, round) cells are the key.
        self.intent_at: dict[tuple[str, str, str], int] = {}
        # `_previous`: a pupil's Intentions rows by their (upn, leaving_year) cells as they are.
        self.intents_of: dict[tuple[str, str], list[int]] = {}
        cols = [self.intents.column(c) for c in ("upn", "leaving_year", "round")]
        for i, (upn, year, rnd) in enumerate(zip(*cols, strict=True)):
            self._index_intent(i, upn, year, rnd)
        # `_write_applications`: rows by (upn, leaving_year, round) cells as they are.
        self.apps_of: dict[tuple[str, str, str], list[int]] = {}
        cols = [self.apps.column(c) for c in ("upn", "leaving_year", "round")]
        for i, key in enumerate(zip(*cols, strict=True)):
            self.apps_of.setdefault(key, []).append(i)
        # `_raise`: exception id -> its last row.
        self.exc_at = {e: i for i, e in enumerate(self.exc.column("exception_id")) if e}

    def _index_intent(self, i: int, upn: str, year: str, rnd: str) -> None:
        self.intent_at.setdefault((upn.strip(), year.strip(), rnd.strip()), i)
        self.intents_of.setdefault((upn, year), []).append(i)

    def pupil_index(self, school: str) -> PupilIndex:
        """`match_responses`' index of the school's pupils (Destinations is only read here)."""
        got = self.pupils.get(school)
        if got is None:
            dest = self.dest
            if "school" in dest.columns:
                dest = dest[dest["school"].map(_cell).to_numpy() == school]
            columns = {
                str(k): [_cell(v) for v in dest[k].tolist()]
                for k in dest.columns
                if str(k) in PupilIndex.COLUMNS
            }
            got = self.pupils[school] = PupilIndex.from_columns(columns, range(len(dest)), school)
        return got

    def merge(
        self, sch: RoundsInput, rules: Rules, now: dt.datetime, changes: list[str]
    ) -> dict[str, int]:
        """One school's round responses into the rows; returns its counts, appends its changes."""
        school, responses = sch.school, sch.responses
        counts = dict.fromkeys(_ROUND_COUNTS, 0)
        order = [r.key for r in rules.rounds]
        for rnd in sorted(
            (rules.round(k) for k in responses if k in order), key=lambda r: order.index(r.key)
        ):
            qmap = sch.question_maps.get(rnd.key, {})
            rows = normalise_round_responses(responses[rnd.key], qmap, memo=self.memo)
            counts["responses"] += len(rows)
            index = self.pupil_index(school)
            for r in rows:
                m = match_one(
                    r["respondent_email"],
                    r["full_name"],
                    r["date_of_birth"],
                    r["issues"],
                    r["leaving_year"],
                    index,
                )
                r["upn"], r["leaving_year"], _, r["match_status"], r["reason"] = m
            wanted: list[dict[str, str]] = []
            for r in rows:
                if r["match_status"] in ("unmatched", "ambiguous"):
                    wanted.append(_exception(school, rnd, r["match_status"], r, r["reason"]))
                if r["issues"]:
                    wanted.append(_exception(school, rnd, "invalid", r, "problems: " + r["issues"]))
            winners: dict[tuple[str, str], dict[str, Any]] = {}
            for r in rows:
                if r["match_status"] != "matched":
                    continue
                key = (r["upn"], r["leaving_year"])
                held = winners.get(key)
                if held is None or (r["last_submitted"], r["response_id"]) > (
                    held["last_submitted"],
                    held["response_id"],
                ):
                    winners[key] = r
            written = 0
            for (upn, year), r in sorted(winners.items()):
                phase = self.phase_of.get((upn, year), rnd.phase)
                outcome, changed = self._write_intention(rnd, rules, order, school, phase, r)
                if outcome == "written":
                    written += 1
                    counts["applied"] += 1
                    counts["results_changes"] += int(changed)
                elif outcome == "conflict":
                    counts["conflicts"] += 1
                    wanted.append(
                        _exception(
                            school,
                            rnd,
                            "conflict",
                            r,
                            f"staff edited the {rnd.key} intention; the form's newer answer was not written",
                            extra=("intention", r["last_submitted"]),
                        )
                    )
                for number, outcome in self._write_applications(rnd, school, r):
                    if outcome == "written":
                        counts["applications"] += 1
                    elif outcome == "conflict":
                        counts["conflicts"] += 1
                        wanted.append(
                            _exception(
                                school,
                                rnd,
                                "conflict",
                                r,
                                f"staff edited application {number} of {rnd.key}; "
                                "the form's newer answer was not written",
                                extra=(f"app{number}", r["last_submitted"]),
                            )
                        )
            if written:
                changes.append(f"{school}: Intentions: {written} {rnd.key} row(s) from the form")
            seen = {r["response_id"] for r in rows}
            self._raise(wanted, school, rnd, seen, now, counts, changes)
        return counts

    def _write_intention(
        self,
        rnd: RoundRule,
        rules: Rules,
        order: list[str],
        school: str,
        phase: str,
        r: Mapping[str, Any],
    ) -> tuple[str, bool]:
        """Write the pupil's row for this round; (outcome, whether a results-day change was recorded)."""
        intents = self.intents
        at = self.intent_at.get((r["upn"], r["leaving_year"], rnd.key))
        if at is None:
            at = intents.append(
                {
                    "school": school,
                    "upn": r["upn"],
                    "leaving_year": r["leaving_year"],
                    "round": rnd.key,
                }
            )
            row = intents.row(at)
            self._index_intent(at, row["upn"], row["leaving_year"], row["round"])
        else:
            row = intents.row(at)
        cells = {
            "response_id": r["response_id"],
            "submitted": r["last_submitted"][:10],
            "destination": r["destination"],
            "other": r["destination_other"],
            "provider": r["provider"],
            "course": r["course"],
            "level": r["level"],
            "share_with_la": r["share_with_la"],
        }
        before = dict(row) if row.get("destination") else self._previous(order, rnd, r)
        outcome = _write(row, cells, _source(r))
        changed = False
        if outcome == "written" and before and _plan_key(before) != _plan_key(row):
            submitted = _parse_time(r["last_submitted"])
            day = school_day(submitted) if submitted else None
            results = results_day(rules, phase, int(r["leaving_year"]))
            if day is not None and results is not None and day >= results:
                row["results_change"] = day.isoformat()
                row["previous_destination"] = destination_label(before)
                changed = True
        return outcome, changed

    def _previous(
        self, order: list[str], rnd: RoundRule, r: Mapping[str, Any]
    ) -> dict[str, str] | None:
        """The pupil's intention in the latest earlier round that has one."""
        earlier = order[: order.index(rnd.key)]
        best: dict[str, str] | None = None
        for i in self.intents_of.get((r["upn"], r["leaving_year"]), []):
            row = self.intents.row(i)
            if (
                row.get("round") in earlier
                and row.get("destination")
                and (best is None or earlier.index(row["round"]) > earlier.index(best["round"]))
            ):
                best = row
        return dict(best) if best else None

    def _write_applications(
        self, rnd: RoundRule, school: str, r: Mapping[str, Any]
    ) -> list[tuple[str, str]]:
        """One row per reported application; rows a newer submission no longer lists are blanked."""
        apps = self.apps
        reported = {a["number"]: a for a in r["applications"]}
        key = (r["upn"], r["leaving_year"], rnd.key)
        positions = self.apps_of.setdefault(key, [])
        existing = {apps.get(i, "number"): i for i in positions}
        out: list[tuple[str, str]] = []
        for number in sorted(set(reported) | set(existing), key=int):
            app = reported.get(number)
            at = existing.get(number)
            if at is None:
                at = apps.append(
                    {
                        "school": school,
                        "upn": r["upn"],
                        "leaving_year": r["leaving_year"],
                        "round": rnd.key,
                        "number": number,
                    }
                )
                added = (apps.get(at, "upn"), apps.get(at, "leaving_year"), apps.get(at, "round"))
                self.apps_of.setdefault(added, []).append(at)
            cells = {
                "response_id": r["response_id"],
                "provider": app["provider"] if app else "",
                "course": app["course"] if app else "",
                "level": app["level"] if app else "",
                "status": app["status"] if app else "",
                "recorded": r["last_submitted"][:10],
            }
            out.append((number, _write(apps.row(at), cells, _source(r))))
        return out

    def _raise(
        self,
        wanted: list[dict[str, str]],
        school: str,
        rnd: RoundRule,
        seen: set[str],
        now: dt.datetime,
        counts: dict[str, int],
        changes: list[str],
    ) -> None:
        exc, at = self.exc, self.exc_at
        wanted_ids = {w["exception_id"] for w in wanted}
        for i in exc.by_school().get(school, []):
            if (
                exc.get(i, "entry") == rnd.key
                and exc.get(i, "kind") in _ROUND_EXCEPTION_KINDS
                and exc.get(i, "response_id") in seen
                and exc.get(i, "exception_id") not in wanted_ids
            ):
                exc.update(i, {"reason": RESOLVED})
        stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for w in wanted:
            held = at.get(w["exception_id"])
            if held is None:
                at[w["exception_id"]] = exc.append({**w, "first_seen": stamp, "status": "open"})
                counts["exceptions"] += 1
                changes.append(f"{school}: Exceptions: new {w['kind']} ({w['exception_id']})")
            else:
                exc.update(held, w)  # sync-owned cells only; status/note stay staff's


def _parse_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _exception(
    school: str,
    rnd: RoundRule,
    kind: str,
    r: Mapping[str, Any],
    reason: str,
    *,
    extra: tuple[str, ...] = (),
) -> dict[str, str]:
    return {
        "exception_id": _stable_id(kind, school, rnd.key, r["response_id"], *extra),
        "school": school,
        "kind": kind,
        "response_id": r["response_id"],
        "upn": r.get("upn", ""),
        "leaving_year": r.get("leaving_year", ""),
        "entry": rnd.key,
        "reason": reason,
    }


def round_spec_path(config: Any, rnd: RoundRule) -> Path:
    """The round's form spec: `form` relative to the config file if it exists there, else forms/."""
    if config is not None and getattr(config, "path", None) is not None:
        local = Path(config.resolve(rnd.form))
        if local.is_file():
            return local
    return forms_dir() / rnd.form


def round_spec(config: Any, rnd: RoundRule) -> FormSpec:
    """Load and validate the spec a round's form is built from."""
    return load_spec(round_spec_path(config, rnd))


class RoundTarget(SchoolConfig):
    """A school seen through one round's form: `form_id`/`form_questions` are the round's."""

    round_key: str


def round_form_target(
    config: Any, school: SchoolConfig, round_key: str, rules: Rules | None = None
) -> tuple[FormSpec, RoundTarget]:
    """The spec and the form ids of a school's survey round, for `gsync form create --round`."""
    if rules is None:
        from gsync.sync import load_rules

        rules = load_rules(config)
    try:
        rnd = rules.round(round_key)
    except KeyError:
        known = ", ".join(r.key for r in rules.rounds) or "none"
        raise ConfigError(
            f"No survey round {round_key!r} in the rules file.",
            fix=f"use one of: {known} (sheets_templates/deadlines.toml [[rounds]]).",
        ) from None
    if rnd.phase != school.phase:
        raise ConfigError(
            f"The round {round_key!r} is for {rnd.phase} leavers; {school.name} is a {school.phase} school.",
            fix=f"use a {school.phase} round from deadlines.toml [[rounds]].",
        )
    held = school.rounds.get(round_key)
    data = school.model_dump()
    data.update(
        form_id=held.form_id if held else None,
        form_questions=dict(held.form_questions) if held else {},
        round_key=round_key,
    )
    return round_spec(config, rnd), RoundTarget(**data)
