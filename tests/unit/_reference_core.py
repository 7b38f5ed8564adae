"""A frozen copy of the per-school merge and the per-pupil deadlines/contacts rules (before issue 7's
run-level merge and vectorisation): a reference for tests/unit/test_core_equivalence.py only.

Copied from gsync/merge.py, gsync/deadlines.py, gsync/contacts.py and gsync/risk.py (`assess`) at
commit 6346ea1 (only names changed where two modules' helpers clash). Never imported by gsync; do not "fix" it, or the
equivalence test stops proving the new code gives the old output.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gsync.config import TermDates
from gsync.contacts import (
    ATTEMPTS_COLUMNS,
    DEFAULT_CONTACT_COLUMNS,
    DUE_COLUMNS,
    PLACEHOLDER_TOKEN,
    SUSTAINED_KEYS,
)
from gsync.deadlines import (
    STATUS_COLUMNS,
    SUSTAINED_FIELDS,
    UNKNOWN_DESTINATION,
    UNKNOWN_SOURCE,
    _entry_present,
    Rule,
    Rules,
    cohort_state,
    due_date,
    entry_for_date,
    live_cohorts,
    parse_iso,
    sustained_checks,
    window_of,
)
from gsync.matching import match_responses
from gsync.risk import RiskEntry, _assess_pupil, round_window
from gsync.risk import _text as _risk_text
from gsync.responses import RESPONSE_COLUMNS, normalise_responses, timestamp
from gsync.template import (
    CONTACT,
    ENTRY_GROUP,
    HASH_GROUPS,
    SUSTAINED,
    SUSTAINED_TAB,
    SYNC_ENTRY_FIELDS,
    Tab,
    Template,
    group_source,
    group_state,
    load_template,
    set_group_hash,
)

EntryFor = Callable[[dt.datetime, int], "str | None"]
FRAME_TABS: tuple[str, ...] = ("destinations", "responses", "contacts", "exceptions")
RESOLVED = "no longer applies (the response was edited or the roster updated)"


def default_entry_for(submitted: dt.datetime, leaving_year: int) -> str | None:
    """Which entry a Form A submission fills, until the deadlines rules (issue 5) replace this.

    Before 1 September of the leaving year: the current leavers' intended destination; from then
    to 30 September: the (past leavers') intended destination; later: the actual destination,
    unvalidated. The validated actual destination comes only from staff or the local authority.
    """
    day = submitted.date()
    if day < dt.date(leaving_year, 9, 1):
        return "current_intended"
    if day <= dt.date(leaving_year, 9, 30):
        return "intended"
    return "actual_unvalidated"


@dataclass(frozen=True)
class SyncPlan:
    """The new frames (every tab passed in, changed or not), counts, and a readable change list."""

    tabs: dict[str, pd.DataFrame]
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


# --- frames as rows ---------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


class _Rows:
    """A tab's frame as a list of dicts (all text), template columns ensured, extras kept in place."""

    def __init__(self, frame: pd.DataFrame | None, tab: Tab) -> None:
        frame = frame if frame is not None else pd.DataFrame()
        self.columns = [str(c) for c in frame.columns]
        for key in tab.keys:
            if key not in self.columns:
                self.columns.append(key)
        # Column by column, then zipped into dicts: same cells as `to_dict("records")` + `_cell`,
        # several times faster (plan_sync converts every tab once per school; bench/RESULTS.md).
        present = set(frame.columns)
        n = len(frame)
        values = [_texts(frame[c].tolist()) if c in present else [""] * n for c in self.columns]
        self.rows: list[dict[str, str]] = [
            dict(zip(self.columns, r, strict=True)) for r in zip(*values, strict=True)
        ]

    def append(self, values: Mapping[str, str]) -> dict[str, str]:
        row = dict.fromkeys(self.columns, "")
        row.update({k: v for k, v in values.items() if k in row})
        self.rows.append(row)
        return row

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return pd.DataFrame(self.rows, columns=self.columns, dtype=object)
        # Column-wise: the frame `pd.DataFrame(self.rows, columns=...)` gives, built faster.
        data = {c: [r.get(c, np.nan) for r in self.rows] for c in self.columns}
        return pd.DataFrame(data, columns=self.columns, dtype=object)


def _texts(values: list[Any]) -> list[str]:
    """`_cell` over a column, skipped when every value is already text (the usual case)."""
    if all(type(v) is str for v in values):
        return values
    return [_cell(v) for v in values]


def _stable_id(kind: str, *parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=6).hexdigest()
    return f"{kind}-{digest}"


def _parse_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- the plan ---------------------------------------------------------------------------------------


def plan_sync(
    tabs: Mapping[str, pd.DataFrame],
    raw_responses: list[dict[str, Any]],
    *,
    school: str,
    question_map: Mapping[str, str],
    entry_for: EntryFor = default_entry_for,
    now: dt.datetime,
    template: Template | None = None,
) -> SyncPlan:
    """Merge one school's responses into the tabs (keyed by template tab key); pure and idempotent.

    `question_map` maps Form A keys to the form's question ids. Responses already in the Responses
    log but missing from `raw_responses` still count (so a partial read never undoes a newer one).
    """
    template = template or load_template()
    dest = _Rows(tabs.get("destinations"), template.tab("destinations"))
    # Years 1-3 checks go to the Sustained tab, but only when the caller passed it in (and will
    # write it back): otherwise such a response stays a `no_entry` exception, never lost.
    sustained = (
        _Rows(tabs.get(SUSTAINED_TAB), template.tab(SUSTAINED_TAB))
        if SUSTAINED_TAB in tabs and any(t.key == SUSTAINED_TAB for t in template.tabs)
        else None
    )
    log = _Rows(tabs.get("responses"), template.tab("responses"))
    exc = _Rows(tabs.get("exceptions"), template.tab("exceptions"))
    counts = dict.fromkeys(
        (
            "new",
            "updated",
            "unchanged",
            "applied",
            "conflicts",
            "exceptions",
            "unmatched",
            "ambiguous",
            "invalid",
        ),
        0,
    )
    changes: list[str] = []

    fresh = _not_yet_logged(raw_responses, log, school)
    pool = _pool(normalise_responses(fresh, question_map), log, school)
    matched = match_responses(pool, dest.frame(), school=school)
    responses = [{str(k): _cell(v) for k, v in r.items()} for r in matched.to_dict("records")]
    for r in responses:
        r["entry"] = _entry(r, entry_for, sustained is not None)

    _log_responses(log, responses, school, counts)
    if counts["new"] or counts["updated"]:
        changes.append(
            f"{school}: Responses: {counts['new']} new, {counts['updated']} updated "
            f"({counts['unchanged']} unchanged)"
        )

    wanted: list[dict[str, str]] = []  # exceptions this run would raise
    for r in responses:
        status = r["match_status"]
        if status in ("unmatched", "ambiguous"):
            counts[status] += 1
            wanted.append(_exception(school, status, r, r["reason"]))
        if r["issues"]:
            counts["invalid"] += 1
            wanted.append(_exception(school, "invalid", r, "problems: " + r["issues"]))
        if status == "matched" and r["destination"] and not r["entry"]:
            wanted.append(
                _exception(school, "no_entry", r, "the submission time falls in no entry's window")
            )

    index = {(r["upn"], r["leaving_year"]): i for i, r in enumerate(dest.rows) if r["upn"]}
    ours = [r for r in responses if r["match_status"] == "matched"]
    for (upn, year, group), winner in sorted(_winners(ours).items()):
        row_no = index.get((upn, year))
        if row_no is None:
            continue
        if group.startswith("s:"):
            assert sustained is not None
            outcome = _write_sustained(sustained, dest.rows[row_no], winner, school)
            check = winner["entry"]
            if outcome == "written":
                counts["applied"] += 1
                changes.append(
                    f"{school}: Sustained: {check} check of row {row_no + 2} from the form"
                )
            elif outcome == "conflict":
                counts["conflicts"] += 1
                wanted.append(
                    _exception(
                        school,
                        "conflict",
                        winner,
                        f"staff edited the {check} check; the form's newer answer was not written",
                        extra=(group, winner["last_submitted"]),
                    )
                )
            continue
        row = dest.rows[row_no]
        cells = _entry_cells(winner) if group != CONTACT else _contact_cells(winner, row)
        label = "contact details" if group == CONTACT else f"{winner['entry']} entry"
        outcome = _write_group(row, group, cells, _source_token(winner))
        if outcome == "written":
            counts["applied"] += 1
            changes.append(f"{school}: Destinations row {row_no + 2}: {label} from the form")
        elif outcome == "conflict":
            counts["conflicts"] += 1
            wanted.append(
                _exception(
                    school,
                    "conflict",
                    winner,
                    f"staff edited the {label}; the form's newer answer was not written",
                    entry=winner["entry"] if group != CONTACT else "contact",
                    extra=(group, winner["last_submitted"]),
                )
            )

    _raise_exceptions(exc, wanted, school, responses, now, counts, changes)
    out = dict(tabs)
    out["destinations"] = dest.frame()
    out["responses"] = log.frame()
    out["exceptions"] = exc.frame()
    if sustained is not None:
        out[SUSTAINED_TAB] = sustained.frame()
    if "contacts" not in out:
        out["contacts"] = _Rows(None, template.tab("contacts")).frame()
    return SyncPlan(tabs=out, counts=counts, changes=changes)


def _not_yet_logged(raw: list[dict[str, Any]], log: _Rows, school: str) -> list[dict[str, Any]]:
    """The responses to normalise: new or edited ones. A submission the Responses log already
    holds (same id, same last-submitted time) is taken from the log, which holds its normalised
    values, so phonenumbers / email-validator run only on what is new (issue 7: steady nights)."""
    held = {
        r["response_id"]: r.get("last_submitted", "")
        for r in log.rows
        if r.get("school") == school and r.get("response_id")
    }
    if not held:
        return raw
    return [
        r
        for r in raw
        if held.get(str(r.get("responseId", "")))
        != timestamp(r.get("lastSubmittedTime") or r.get("createTime", ""))
    ]


def _pool(fresh: pd.DataFrame, log: _Rows, school: str) -> pd.DataFrame:
    """This run's responses plus the school's logged ones (whichever submission is newer wins)."""
    by_id: dict[str, dict[str, str]] = {}
    for r in log.rows:
        if r.get("school") == school and r.get("response_id"):
            row = {c: r.get(c, "") for c in RESPONSE_COLUMNS}
            row["leaving_year"] = r.get("stated_leaving_year", "")
            by_id[r["response_id"]] = row
    for r in fresh.to_dict("records"):
        row = {str(k): _cell(v) for k, v in r.items()}
        held = by_id.get(row["response_id"])
        if held is None or row["last_submitted"] >= held["last_submitted"]:
            by_id[row["response_id"]] = row
    rows = sorted(by_id.values(), key=lambda r: (r["last_submitted"], r["response_id"]))
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS), dtype=object)


def _entry(response: dict[str, str], entry_for: EntryFor, sustained: bool = False) -> str:
    if response["match_status"] != "matched":
        return ""
    submitted = _parse_time(response["last_submitted"])
    if submitted is None or not response["leaving_year"].isdigit():
        return ""
    entry = entry_for(submitted, int(response["leaving_year"]))
    if entry in ENTRY_GROUP or (sustained and entry):
        return str(entry)
    return ""


def _log_row(response: dict[str, str], school: str) -> dict[str, str]:
    row = dict(response)
    row["school"] = school
    if row.get("consent") != "Y":  # consent: no contact details kept without agreement
        row["personal_email"] = ""
        row["telephone"] = ""
    return row


def _log_responses(
    log: _Rows, responses: list[dict[str, str]], school: str, counts: dict[str, int]
) -> None:
    at = {r["response_id"]: i for i, r in enumerate(log.rows) if r.get("response_id")}
    keys = [c for c in log.columns if c in _LOG_KEYS]
    for response in responses:
        wanted = _log_row(response, school)
        i = at.get(response["response_id"])
        if i is None:
            log.append(wanted)
            counts["new"] += 1
            continue
        row = log.rows[i]
        if all(row[c] == wanted.get(c, "") for c in keys):
            counts["unchanged"] += 1
            continue
        for c in keys:
            row[c] = wanted.get(c, "")
        counts["updated"] += 1


_LOG_KEYS = frozenset(
    (
        *RESPONSE_COLUMNS,
        "school",
        "stated_leaving_year",
        "match_status",
        "match_method",
        "upn",
        "leaving_year",
        "entry",
        "reason",
    )
)


def _winners(responses: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, str]]:
    """Per (upn, leaving_year, group): the latest submission (ties broken by response id)."""
    best: dict[tuple[str, str, str], dict[str, str]] = {}

    def offer(key: tuple[str, str, str], r: dict[str, str]) -> None:
        held = best.get(key)
        if held is None or (r["last_submitted"], r["response_id"]) > (
            held["last_submitted"],
            held["response_id"],
        ):
            best[key] = r

    for r in responses:
        pupil = (r["upn"], r["leaving_year"])
        if r["consent"]:
            offer((*pupil, CONTACT), r)
        if r["entry"] and r["destination"]:
            offer((*pupil, ENTRY_GROUP.get(r["entry"], f"s:{r['entry']}")), r)
    return best


def _entry_cells(r: dict[str, str]) -> dict[str, str]:
    values = _entry_values(r)
    return {f"{r['entry']}_{f}": values[f] for f in SYNC_ENTRY_FIELDS}


def _write_sustained(
    sustained: _Rows, pupil: dict[str, str], winner: dict[str, str], school: str
) -> str:
    """Write a response into the pupil's Sustained row for its check (appended if none)."""
    key = (pupil["upn"], pupil["leaving_year"], winner["entry"])
    row = next(
        (
            r
            for r in sustained.rows
            if (r["upn"].strip().upper(), r["leaving_year"].strip(), r["check"].strip()) == key
        ),
        None,
    )
    if row is None:
        row = sustained.append(
            {"school": school, "upn": key[0], "leaving_year": key[1], "check": key[2]}
        )
    return _write_group(row, SUSTAINED, _entry_values(winner), _source_token(winner))


def _entry_values(r: dict[str, str]) -> dict[str, str]:
    """One submission's entry cells by field name (destination, other, ...)."""
    issues = set(r["issues"].split())
    values = {
        "destination": r["destination"],
        "other": r["destination_other"],
        "provider": r["provider"],
        "course": r["course"],
        "level": r["level"],
        "start_date": "" if "bad_start_date" in issues else r["start_date"],
        "source": "form",
        "recorded": r["last_submitted"][:10],
    }
    return {f: values[f] for f in SYNC_ENTRY_FIELDS}


def _contact_cells(r: dict[str, str], row: dict[str, str]) -> dict[str, str]:
    if r["consent"] != "Y":
        return {"consent": "N", "do_not_contact": "Y", "personal_email": "", "telephone": ""}
    issues = set(r["issues"].split())
    email = row.get("personal_email", "")
    phone = row.get("telephone", "")
    if r["personal_email"] and "bad_personal_email" not in issues:
        email = r["personal_email"]
    if r["telephone"] and "bad_telephone" not in issues:
        phone = r["telephone"]
    return {"consent": "Y", "do_not_contact": "N", "personal_email": email, "telephone": phone}


def _source_token(r: dict[str, str]) -> str:
    """A short digest naming one submission (response id and its last-submitted time)."""
    return hashlib.blake2b(
        f"{r['response_id']}\x1f{r['last_submitted']}".encode(), digest_size=3
    ).hexdigest()


def _write_group(row: dict[str, str], group: str, cells: dict[str, str], source: str) -> str:
    """Write a group's cells from one submission unless staff edited them.

    Returns 'written', 'unchanged', 'kept' (staff corrected what this same submission said:
    their version stands, quietly) or 'conflict' (staff edited, and a different submission
    now says something else).
    """
    assert set(cells) == set(HASH_GROUPS[group])
    state = group_state(row, group)
    if all(row.get(c, "") == v for c, v in cells.items()):
        if state != "synced" or group_source(row, group) != source:
            set_group_hash(row, group, source)  # already shows this submission: record it
        return "unchanged"
    if state == "edited":
        return "kept" if group_source(row, group) == source else "conflict"
    row.update(cells)
    set_group_hash(row, group, source)
    return "written"


def _exception(
    school: str,
    kind: str,
    r: dict[str, str],
    reason: str,
    *,
    entry: str = "",
    extra: tuple[str, ...] = (),
) -> dict[str, str]:
    return {
        "exception_id": _stable_id(kind, school, r["response_id"], *extra),
        "school": school,
        "kind": kind,
        "response_id": r["response_id"],
        "upn": r.get("upn", ""),
        "leaving_year": r.get("leaving_year", ""),
        "entry": entry or r.get("entry", ""),
        "reason": reason,
    }


def _raise_exceptions(
    exc: _Rows,
    wanted: list[dict[str, str]],
    school: str,
    responses: list[dict[str, str]],
    now: dt.datetime,
    counts: dict[str, int],
    changes: list[str],
) -> None:
    at = {r["exception_id"]: i for i, r in enumerate(exc.rows) if r.get("exception_id")}
    wanted_ids = {w["exception_id"] for w in wanted}
    seen_responses = {r["response_id"] for r in responses}
    # Exceptions about a response that no longer has the problem: say so (rows are never deleted).
    for row in exc.rows:
        if (
            row.get("school") == school
            and row.get("kind") in ("unmatched", "ambiguous", "invalid", "no_entry")
            and row.get("response_id") in seen_responses
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
            row = exc.rows[i]
            for key, value in w.items():  # sync-owned cells only; status/note stay staff's
                row[key] = value


# --- deadlines (frozen) ---


def is_unknown_by_attempts(row: Mapping[str, Any], entry: str) -> bool:
    """True if the entry holds the three-attempts placeholder."""
    return _dcell(row, f"{entry}_source").casefold() == UNKNOWN_SOURCE


def _dcell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column, "")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def pupil_complete(row: Mapping[str, Any], rule: Rule) -> bool:
    """Whether one Destinations row satisfies `rule.completed_by` (ignoring dates)."""
    dest = _dcell(row, f"{rule.key}_destination")
    if not dest:
        return False
    if is_unknown_by_attempts(row, rule.key):
        return "unknown_after_attempts" in rule.completed_by
    if "recorded" in rule.completed_by:
        return True
    validated = _dcell(row, f"{rule.key}_validated").upper() == "Y"
    return "recorded_and_validated" in rule.completed_by and validated


def pupil_completion(
    row: Mapping[str, Any], rule: Rule, as_of: dt.date
) -> tuple[bool, dt.date | None]:
    """(complete as of `as_of`, completion date if known).

    Point in time: a record dated after `as_of` did not exist yet. A complete record with no
    readable `E_recorded` date counts as complete, with an unknown date (never "late").
    """
    if not pupil_complete(row, rule):
        return False, None
    recorded = parse_iso(_dcell(row, f"{rule.key}_recorded"))
    if recorded is not None and recorded > as_of:
        return False, None
    return True, recorded


def entry_status(
    destinations: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    *,
    school: str | None = None,
    due_soon_days: int | None = None,
) -> pd.DataFrame:
    """One row per live cohort (school, leaving year, phase) x entry, with counts and a state.

    Columns: STATUS_COLUMNS (`due` a date, `days_left` negative when overdue, `percent` 0-100).
    Entries whose `E_destination` column the frame lacks are skipped with a warning in
    `result.attrs["warnings"]`, as are term-date fallbacks.
    """
    soon = rules.due_soon_days if due_soon_days is None else due_soon_days
    warnings: list[str] = []
    frame = destinations
    if school is not None and "school" in frame.columns:
        frame = frame[frame["school"].astype(str).str.casefold() == school.casefold()]
    rules_present = []
    for rule in rules.entries:
        if _entry_present(frame, rule.key):
            rules_present.append(rule)
        else:
            warnings.append(
                f"the Destinations tab has no '{rule.key}_destination' column; entry skipped"
            )
    live = set(live_cohorts(as_of, rules.live_years))
    rows: list[dict[str, Any]] = []
    if not frame.empty:
        years = frame["leaving_year"].map(lambda v: int(v) if str(v).strip().isdigit() else -1)
        work = frame.assign(_year=years)
        work = work[work["_year"].isin(live)]
        groups = work.groupby(
            [work.get("school", pd.Series("", index=work.index)), "_year", _phase(work)],
            sort=True,
        )
        for (school_name, year, phase), group in groups:
            records = group.to_dict("records")
            for rule in rules_present:
                due, w = due_date(rule, int(year), term_dates)
                warnings.extend(w)
                complete = late = 0
                for record in records:
                    done, when = pupil_completion(record, rule, as_of)
                    if done:
                        complete += 1
                        late += int(when is not None and when > due)
                total = len(records)
                rows.append(
                    {
                        "school": str(school_name),
                        "leaving_year": int(year),
                        "phase": str(phase),
                        "entry": rule.key,
                        "label": rule.label,
                        "due": due,
                        "days_left": (due - as_of).days,
                        "complete": complete,
                        "total": total,
                        "percent": round(100.0 * complete / total, 1) if total else 0.0,
                        "state": cohort_state(
                            due=due,
                            as_of=as_of,
                            complete=complete,
                            total=total,
                            late=late,
                            due_soon_days=soon,
                        ),
                    }
                )
    result = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result


def _phase(frame: pd.DataFrame) -> pd.Series:
    if "phase" in frame.columns:
        return frame["phase"].astype(str)
    return pd.Series("", index=frame.index, name="phase")


def _pupil_key(upn: object, year: object) -> tuple[str, int] | None:
    upn_text = "" if upn is None else str(upn).strip().upper()
    year_text = "" if year is None else str(year).strip()
    if not upn_text or not year_text.isdigit():
        return None
    return upn_text, int(year_text)


def with_sustained(
    destinations: pd.DataFrame, sustained: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    """Destinations plus `{check}_{field}` columns filled from the long Sustained tab.

    For every rule Destinations has no columns for (the years 1-3 checks), so `entry_status`,
    `contacts_due` and `pupil_completion` read them like any entry. In memory only: never written
    back. Where staff logged a check twice, a row with a destination wins over one without, then
    the later `recorded` date, then the lower row. Returns a new frame.
    """
    result = destinations.copy()
    result.attrs = dict(destinations.attrs)
    checks = sustained_checks(rules, destinations)
    if not checks:
        return result
    wanted = set(checks)
    best: dict[tuple[str, int, str], dict[str, str]] = {}
    for record in sustained.to_dict("records"):
        check = _dcell(record, "check")
        key = _pupil_key(record.get("upn"), record.get("leaving_year"))
        if check not in wanted or key is None:
            continue
        row = {f: _dcell(record, f) for f in SUSTAINED_FIELDS}
        ident = (key[0], key[1], check)
        held = best.get(ident)
        rank = (bool(row["destination"]), row["recorded"])
        if held is None or rank >= (bool(held["destination"]), held["recorded"]):
            best[ident] = row
    keys = [
        _pupil_key(u, y)
        for u, y in zip(
            result.get("upn", pd.Series(dtype=object)),
            result.get("leaving_year", pd.Series(dtype=object)),
            strict=True,
        )
    ]
    columns: dict[str, list[str]] = {}
    for check in checks:
        rows = [best.get((k[0], k[1], check), {}) if k is not None else {} for k in keys]
        for f in SUSTAINED_FIELDS:
            columns[f"{check}_{f}"] = [r.get(f, "") for r in rows]
    extra = pd.DataFrame(columns, index=result.index, dtype=object)
    out = pd.concat([result, extra], axis=1)
    out.attrs = dict(result.attrs)
    return out


# --- contacts (frozen) ---


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _year(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() else None


def _key(upn: Any, leaving_year: Any) -> tuple[str, int] | None:
    year = _year(leaving_year)
    upn_text = _text(upn).upper()
    return (upn_text, year) if upn_text and year is not None else None


def attempts(
    contacts: pd.DataFrame,
    destinations: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    *,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Unsuccessful attempts per pupil per entry, counted inside the entry's window.

    A Contacts row counts when its outcome is one of `rules.contacts.unsuccessful_outcomes`
    (case-insensitive), its date is readable (and not after `as_of`), the pupil (upn, leaving_year)
    is in Destinations, and the date lies in the window of its `entry` (a blank entry means the
    entry whose window holds the date; an entry without a window counts at any date). Rows with the
    same pupil, entry, date and channel count once (one attempt logged twice).
    Columns: ATTEMPTS_COLUMNS (`attempts` int, `last_attempt` ISO date, `channels` the channels
    tried, sorted and joined with ", ").
    """
    unsuccessful = {o.casefold() for o in rules.contacts.unsuccessful_outcomes}
    schools: dict[tuple[str, int], str] = {}
    for record in destinations.to_dict("records"):
        key = _key(record.get("upn"), record.get("leaving_year"))
        if key is not None:
            schools[key] = _text(record.get("school"))
    skipped = {"date": 0, "entry": 0, "pupil": 0, "window": 0}
    seen: set[tuple[str, int, str, dt.date, str]] = set()
    counts: dict[tuple[str, int, str], list[dt.date]] = {}
    channels: dict[tuple[str, int, str], set[str]] = {}
    warnings: list[str] = []
    keys = set(rules.keys)
    for record in contacts.to_dict("records"):
        if _text(record.get("outcome")).casefold() not in unsuccessful:
            continue
        day = parse_iso(_text(record.get("date")))
        if day is None:
            skipped["date"] += 1
            continue
        if as_of is not None and day > as_of:
            continue
        key = _key(record.get("upn"), record.get("leaving_year"))
        if key is None or key not in schools:
            skipped["pupil"] += 1
            continue
        entry = _text(record.get("entry"))
        if not entry:
            found, w = entry_for_date(rules, term_dates, day, key[1])
            warnings.extend(w)
            if found is None:
                skipped["window"] += 1
                continue
            entry = found
        elif entry not in keys:
            skipped["entry"] += 1
            continue
        else:
            window, w = window_of(rules.rule(entry), key[1], term_dates)
            warnings.extend(w)
            if window is not None and not window[0] <= day <= window[1]:
                skipped["window"] += 1
                continue
        ident = (key[0], key[1], entry, day, _text(record.get("channel")).casefold())
        if ident in seen:
            continue
        seen.add(ident)
        counts.setdefault((key[0], key[1], entry), []).append(day)
        channel = _text(record.get("channel")).casefold()
        if channel:
            channels.setdefault((key[0], key[1], entry), set()).add(channel)
    rows = [
        {
            "school": schools[(upn, year)],
            "upn": upn,
            "leaving_year": year,
            "entry": entry,
            "attempts": len(days),
            "last_attempt": max(days).isoformat(),
            "channels": ", ".join(sorted(channels.get((upn, year, entry), ()))),
        }
        for (upn, year, entry), days in sorted(counts.items())
    ]
    reasons = {
        "date": "an unreadable date",
        "pupil": "a pupil not in Destinations",
        "entry": "an unknown entry",
        "window": "a date outside the entry's window",
    }
    for reason, n in skipped.items():
        if n:
            warnings.append(f"{n} unsuccessful contact row(s) not counted: {reasons[reason]}")
    result = pd.DataFrame(rows, columns=ATTEMPTS_COLUMNS)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result


def apply_three_attempts(
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
) -> pd.DataFrame:
    """Mark entries with >= `rule.attempts` unsuccessful attempts and no destination as unknown.

    Sets `E_destination` = "Unknown", `E_source` = "unknown (3 attempts)", `E_recorded` = as_of,
    only for rules whose `completed_by` allows "unknown_after_attempts". A recorded destination is
    never overwritten (and an existing placeholder keeps its date), so a later response or staff
    entry that replaces the placeholder stays. Returns a new frame; the input is unchanged.
    """
    result = destinations.copy()
    result.attrs = dict(destinations.attrs)
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    by_pupil: dict[tuple[str, int, str], int] = {
        (str(r["upn"]), int(r["leaving_year"]), str(r["entry"])): int(r["attempts"])
        for r in counted.to_dict("records")
    }
    if not by_pupil:
        return result
    row_keys = [_key(u, y) for u, y in zip(result["upn"], result["leaving_year"], strict=True)]
    for rule in rules.entries:
        if "unknown_after_attempts" not in rule.completed_by:
            continue
        dest_col = f"{rule.key}_destination"
        if dest_col not in result.columns:
            continue
        src_col, rec_col = f"{rule.key}_source", f"{rule.key}_recorded"
        for col in (src_col, rec_col):
            if col not in result.columns:
                result[col] = ""
        for pos, key in enumerate(row_keys):
            if key is None or by_pupil.get((key[0], key[1], rule.key), 0) < rule.attempts:
                continue
            label = result.index[pos]
            if _text(result.at[label, dest_col]):
                continue
            result.at[label, dest_col] = UNKNOWN_DESTINATION
            result.at[label, src_col] = UNKNOWN_SOURCE
            result.at[label, rec_col] = as_of.isoformat()
            group = ENTRY_GROUP.get(rule.key)
            if group is not None and "sync_hash" in result.columns:
                row = {str(c): _text(v) for c, v in result.loc[label].items()}
                set_group_hash(row, group, PLACEHOLDER_TOKEN)
                result.at[label, "sync_hash"] = row["sync_hash"]
    return result


def apply_three_attempts_sustained(
    sustained: pd.DataFrame,
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
) -> pd.DataFrame:
    """`apply_three_attempts` for the checks kept in the long Sustained tab.

    For a check (an entry Destinations has no columns for) with >= `rule.attempts` unsuccessful
    attempts and no row holding a destination, fills the pupil's blank row for that check or
    appends one: destination "Unknown", source "unknown (3 attempts)", recorded `as_of`, with the
    row's `sync_hash` set so a later response replaces it. Existing rows keep their order.
    """
    checks = set(sustained_checks(rules, destinations))
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    columns = [str(c) for c in sustained.columns]
    needed = [*SUSTAINED_KEYS, "destination", "source", "recorded", "sync_hash"]
    columns += [c for c in needed if c not in columns]
    rows = [
        {c: _text(r.get(c)) for c in columns}
        for r in sustained.reindex(columns=columns).to_dict("records")
    ]
    at: dict[tuple[str, int, str], int] = {}
    for i, row in enumerate(rows):
        key = _key(row["upn"], row["leaving_year"])
        if key is not None and row["check"] in checks:
            ident = (key[0], key[1], row["check"])
            if ident not in at or row["destination"]:
                at[ident] = i
    changed = False
    for r in counted.to_dict("records"):
        check = str(r["entry"])
        if check not in checks:
            continue
        rule = rules.rule(check)
        if "unknown_after_attempts" not in rule.completed_by or int(r["attempts"]) < rule.attempts:
            continue
        ident = (str(r["upn"]), int(r["leaving_year"]), check)
        held = at.get(ident)
        if held is not None and rows[held]["destination"]:
            continue
        if held is None:
            rows.append(dict.fromkeys(columns, ""))
            at[ident] = len(rows) - 1
        row = rows[at[ident]]
        row.update(
            school=str(r["school"]),
            upn=ident[0],
            leaving_year=str(ident[1]),
            check=check,
            destination=UNKNOWN_DESTINATION,
            source=UNKNOWN_SOURCE,
            recorded=as_of.isoformat(),
        )
        set_group_hash(row, SUSTAINED, PLACEHOLDER_TOKEN)
        changed = True
    result = pd.DataFrame(rows, columns=columns, dtype=object) if changed else sustained.copy()
    result.attrs = dict(sustained.attrs)
    return result


def contacts_due(
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    school: str | None = None,
    *,
    contact_columns: Sequence[str] = DEFAULT_CONTACT_COLUMNS,
) -> pd.DataFrame:
    """Whom to contact now: live-cohort pupils missing the entry whose window holds `as_of`.

    Leaves out pupils marked `do_not_contact` = "Y" and those already complete. Carries their
    unsuccessful attempts so far and the `contact_columns` present in Destinations (personal data:
    for the CSV the user asked for only). Columns: DUE_COLUMNS + those contact columns.
    """
    frame = destinations
    if school is not None and "school" in frame.columns:
        frame = frame[frame["school"].astype(str).str.casefold() == school.casefold()]
    extra = [c for c in contact_columns if c in frame.columns]
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    so_far = {
        (str(r["upn"]), int(r["leaving_year"]), str(r["entry"])): (
            int(r["attempts"]),
            str(r["last_attempt"]),
            str(r["channels"]),
        )
        for r in counted.to_dict("records")
    }
    live = set(live_cohorts(as_of, rules.live_years))
    warnings = list(counted.attrs.get("warnings", []))
    now_due: dict[int, str | None] = {}
    rows: list[dict[str, Any]] = []
    for record in frame.to_dict("records"):
        key = _key(record.get("upn"), record.get("leaving_year"))
        if key is None or key[1] not in live:
            continue
        if _text(record.get("do_not_contact")).upper() == "Y":
            continue
        if key[1] not in now_due:
            found, w = entry_for_date(rules, term_dates, as_of, key[1])
            warnings.extend(w)
            now_due[key[1]] = found
        entry = now_due[key[1]]
        if entry is None or f"{entry}_destination" not in frame.columns:
            continue
        rule = rules.rule(entry)
        if pupil_completion(record, rule, as_of)[0]:
            continue
        due, w = due_date(rule, key[1], term_dates)
        warnings.extend(w)
        count, last, tried = so_far.get((key[0], key[1], entry), (0, "", ""))
        row: dict[str, Any] = {
            "school": _text(record.get("school")),
            "upn": key[0],
            "leaving_year": key[1],
            "phase": _text(record.get("phase")),
            "entry": entry,
            "label": rule.label,
            "due": due.isoformat(),
            "attempts": count,
            "last_attempt": last,
            "channels": tried,
        }
        row.update({c: _text(record.get(c)) for c in extra})
        rows.append(row)
    result = pd.DataFrame(rows, columns=[*DUE_COLUMNS, *extra])
    if not result.empty:
        result = result.sort_values(["school", "leaving_year", "upn"], kind="stable")
        result = result.reset_index(drop=True)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result


# --- risk (frozen) ---


def _risk_records(frame: pd.DataFrame | None) -> list[dict[str, str]]:
    if frame is None or frame.empty:
        return []
    return [{str(k): _risk_text(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _risk_on_or_before(day_text: str, as_of: dt.date) -> bool:
    day = parse_iso(day_text)
    return day is None or day <= as_of


def risk_assess(
    destinations: pd.DataFrame,
    intentions: pd.DataFrame | None,
    applications: pd.DataFrame | None,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    *,
    school: str | None = None,
) -> list[RiskEntry]:
    """Every pupil at risk as of `as_of`, highest risk first (see the module docstring)."""
    order = [r.key for r in rules.rounds]
    intents: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _risk_records(intentions):
        if (
            row.get("round") in order
            and row.get("response_id")
            and row.get("submitted")
            and _risk_on_or_before(row["submitted"], as_of)
        ):
            intents.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    apps: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _risk_records(applications):
        if (
            row.get("round") in order
            and (row.get("provider") or row.get("course"))
            and _risk_on_or_before(row.get("recorded", ""), as_of)
        ):
            apps.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    entries: list[RiskEntry] = []
    for pupil in _risk_records(destinations):
        if school is not None and pupil.get("school", "").casefold() != school.casefold():
            continue
        year = pupil.get("leaving_year", "")
        if not pupil.get("upn") or not year.isdigit():
            continue
        rounds = [r for r in rules.rounds if r.phase == pupil.get("phase")]
        windows = {r.key: round_window(r, int(year), term_dates) for r in rounds}
        opened = [r for r in rounds if windows[r.key][0] <= as_of]
        if not opened or as_of > max(w[1] for w in windows.values()):
            continue  # the cohort is not in its survey rounds
        key = (pupil["upn"], year)
        entry = _assess_pupil(
            pupil, opened, windows, intents.get(key, []), apps.get(key, []), order, as_of
        )
        if entry is not None:
            entries.append(entry)
    return sorted(entries, key=RiskEntry.sort_key)
