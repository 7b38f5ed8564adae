# REFERENCE COPY, for tests only: gsync/rounds.py as of commit 6cea1cc, before brief P3's speed-up of
# normalise / match / merge / rounds. Only the imports of the four sibling modules point here.
# Used by tests/unit/test_merge_equivalence.py; never imported by gsync; do not "fix" it.
# ruff: noqa
# mypy: ignore-errors
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gsync.config import SchoolConfig
from gsync.deadlines import RoundRule, Rules, resolve, school_day
from gsync.errors import ConfigError
from gsync.formspec import FormSpec, load_spec
from tests.unit._reference_merge2.matching import match_responses
from tests.unit._reference_merge2.merge import RESOLVED, _Rows, _stable_id
from gsync.paths import forms_dir
from tests.unit._reference_merge2.responses import (
    DESTINATION_OPTIONS,
    FORM_KEYS,
    RESPONSE_COLUMNS,
    normalise_consent,
    normalise_responses,
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
    """The new frames (every tab passed in), counts and a readable change list (no personal data)."""

    tabs: dict[str, pd.DataFrame]
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


# --- responses --------------------------------------------------------------------------------------


def _answer(response: Mapping[str, Any], question_id: str) -> str:
    answer = (response.get("answers") or {}).get(question_id) or {}
    values = [
        str(a.get("value", ""))
        for a in (answer.get("textAnswers") or {}).get("answers") or []
        if isinstance(a, Mapping)
    ]
    return "; ".join(v for v in values if v != "").strip()


def application_numbers(question_map: Mapping[str, str]) -> list[int]:
    """The application groups a round form has (`app1_...`, `app2_...`), in order."""
    return sorted({int(m[1]) for k in question_map if (m := _APP_KEY.match(k))})


def normalise_round_responses(
    raw: list[dict[str, Any]], question_map: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A round form's responses -> one cleaned row per response id (its latest submission).

    Each row has the response columns of gsync.responses plus `share_with_la` and `applications`
    (a list of {number, provider, course, level, status}); `issues` lists problem codes.
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
    frame = normalise_responses(
        list(latest.values()), form_map, destination_options=(*DESTINATION_OPTIONS, UNDECIDED)
    )
    numbers = application_numbers(question_map)
    out: list[dict[str, Any]] = []
    for record in frame.to_dict("records"):
        row: dict[str, Any] = {str(k): str(v) for k, v in record.items()}
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
    `exceptions`; every other tab passes through unchanged.
    """
    template = template or load_template()
    intents = _Rows(tabs.get("intentions"), template.tab("intentions"))
    apps = _Rows(tabs.get("applications"), template.tab("applications"))
    exc = _Rows(tabs.get("exceptions"), template.tab("exceptions"))
    dest = tabs.get("destinations", pd.DataFrame())
    # Three columns, not every Destinations cell (issue 7: `to_dict("records")` per school was slow).
    phase_of = {
        (str(upn), str(year)): str(phase)
        for upn, year, phase in zip(
            *(
                dest[c].tolist() if c in dest.columns else [""] * len(dest)
                for c in ("upn", "leaving_year", "phase")
            ),
            strict=True,
        )
    }
    counts = dict.fromkeys(
        ("responses", "applied", "applications", "conflicts", "exceptions", "results_changes"), 0
    )
    changes: list[str] = []
    order = [r.key for r in rules.rounds]
    for rnd in sorted(
        (rules.round(k) for k in responses if k in order), key=lambda r: order.index(r.key)
    ):
        qmap = question_maps.get(rnd.key, {})
        rows = normalise_round_responses(responses[rnd.key], qmap)
        counts["responses"] += len(rows)
        frame = pd.DataFrame(
            [{c: r[c] for c in RESPONSE_COLUMNS} for r in rows],
            columns=list(RESPONSE_COLUMNS),
            dtype=object,
        )
        matched = match_responses(frame, dest, school=school)
        for r, m in zip(rows, matched.to_dict("records"), strict=True):
            for k in ("upn", "leaving_year", "match_status", "reason"):
                r[k] = str(m[k])
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
            phase = phase_of.get((upn, year), rnd.phase)
            outcome, changed = _write_intention(intents, rnd, rules, order, school, phase, r)
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
            for number, outcome in _write_applications(apps, rnd, school, r):
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
        _raise(exc, wanted, school, rnd, {r["response_id"] for r in rows}, now, counts, changes)
    out = dict(tabs)
    out["intentions"] = intents.frame()
    out["applications"] = apps.frame()
    out["exceptions"] = exc.frame()
    return RoundsPlan(tabs=out, counts=counts, changes=changes)


def _find(rows: _Rows, **key: str) -> dict[str, str] | None:
    for row in rows.rows:
        if all(str(row.get(k, "")).strip() == v for k, v in key.items()):
            return row
    return None


def _write_intention(
    intents: _Rows,
    rnd: RoundRule,
    rules: Rules,
    order: list[str],
    school: str,
    phase: str,
    r: Mapping[str, Any],
) -> tuple[str, bool]:
    """Write the pupil's row for this round; (outcome, whether a results-day change was recorded)."""
    key = {"upn": r["upn"], "leaving_year": r["leaving_year"], "round": rnd.key}
    row = _find(intents, **key)
    if row is None:
        row = intents.append({"school": school, **key})
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
    before = dict(row) if row.get("destination") else _previous(intents, order, rnd, r)
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
    intents: _Rows, order: list[str], rnd: RoundRule, r: Mapping[str, Any]
) -> dict[str, str] | None:
    """The pupil's intention in the latest earlier round that has one."""
    earlier = order[: order.index(rnd.key)]
    best: dict[str, str] | None = None
    for row in intents.rows:
        if (
            row.get("upn") == r["upn"]
            and row.get("leaving_year") == r["leaving_year"]
            and row.get("round") in earlier
            and row.get("destination")
            and (best is None or earlier.index(row["round"]) > earlier.index(best["round"]))
        ):
            best = row
    return dict(best) if best else None


def _write_applications(
    apps: _Rows, rnd: RoundRule, school: str, r: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """One row per reported application; rows a newer submission no longer lists are blanked."""
    reported = {a["number"]: a for a in r["applications"]}
    existing = {
        row["number"]: row
        for row in apps.rows
        if row.get("upn") == r["upn"]
        and row.get("leaving_year") == r["leaving_year"]
        and row.get("round") == rnd.key
    }
    out: list[tuple[str, str]] = []
    for number in sorted(set(reported) | set(existing), key=int):
        app = reported.get(number)
        row = existing.get(number)
        if row is None:
            row = apps.append(
                {
                    "school": school,
                    "upn": r["upn"],
                    "leaving_year": r["leaving_year"],
                    "round": rnd.key,
                    "number": number,
                }
            )
        cells = {
            "response_id": r["response_id"],
            "provider": app["provider"] if app else "",
            "course": app["course"] if app else "",
            "level": app["level"] if app else "",
            "status": app["status"] if app else "",
            "recorded": r["last_submitted"][:10],
        }
        out.append((number, _write(row, cells, _source(r))))
    return out


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


def _raise(
    exc: _Rows,
    wanted: list[dict[str, str]],
    school: str,
    rnd: RoundRule,
    seen: set[str],
    now: dt.datetime,
    counts: dict[str, int],
    changes: list[str],
) -> None:
    at = {r["exception_id"]: i for i, r in enumerate(exc.rows) if r.get("exception_id")}
    wanted_ids = {w["exception_id"] for w in wanted}
    for row in exc.rows:
        if (
            row.get("school") == school
            and row.get("entry") == rnd.key
            and row.get("kind") in _ROUND_EXCEPTION_KINDS
            and row.get("response_id") in seen
            and row["exception_id"] not in wanted_ids
        ):
            row["reason"] = RESOLVED
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for w in wanted:
        i = at.get(w["exception_id"])
        if i is None:
            exc.append({**w, "first_seen": stamp, "status": "open"})
            at[w["exception_id"]] = len(exc.rows) - 1
            counts["exceptions"] += 1
            changes.append(f"{school}: Exceptions: new {w['kind']} ({w['exception_id']})")
        else:
            exc.rows[i].update(w)  # sync-owned cells only; status/note stay staff's


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
