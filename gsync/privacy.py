"""Retention and data-subject rights: `gsync purge`, `gsync subject export` and `gsync subject erase`.

- **Purge** removes personal data gsync no longer needs, in one guarded write: for leavers past
  their tracking period (three years after leaving, `TRACKING_YEARS`, overridable with
  `gsync purge --tracking-years N`) their names, date of birth, emails, phone and staff notes; for
  pupils who withdrew consent (consent "N") their personal email and phone, in Destinations and in
  every logged response. Columns that feed the anonymised figures (destinations, cohort, SEND,
  disadvantage...) are kept, so the Summary tabs do not change. The round, LA and
  Reconciliation tabs lose their names, dates of birth and free text the same way (`TAB_PERSONAL`;
  rows by pupil, or by cohort for LA rows matched to nobody).
- **Subject export** gathers everything held about one pupil (right of access).
- **Subject erase** deletes the pupil's rows from every pupil-level tab (any template tab with a
  `upn` column, so tabs added later are covered; LA rows also by the LA's UPN) (right to erasure).
  Their survey-round responses are listed for staff to delete in the round forms.

Logged responses that were purged or erased keep only their response id, and their `school` cell
gets the ` (erased)` marker: the sync then never reads those responses from the form again
(`withheld_response_ids`), since the Forms API cannot delete a response (staff delete them in the
form's Responses tab; the report lists the ids). Each action is logged, without personal data, in
the hidden `_gsync_privacy` tab.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from gsync.config import Config
from gsync.errors import ConfigError, NotFoundError
from gsync.sheetio import Snapshot, TabFrame, WritePlan, apply_plan, read_snapshot
from gsync.workspace import Workspace

#: Destination data is tracked for three years after a pupil leaves (Gatsby Benchmark 3; DfE
#: destination measures), then personal details go. `gsync purge --tracking-years` overrides it.
TRACKING_YEARS = 3
#: Marker appended to a logged response's `school` cell once its personal data is gone.
ERASED_SUFFIX = " (erased)"
#: The hidden tab holding one row per privacy action (counts only, never personal data).
PRIVACY_TAB = "_gsync_privacy"
PRIVACY_HEADER = ["when", "action", "as_of", "pupils", "responses", "cells", "rows_deleted"]

NAME_COLUMNS = (
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
)
CONTACT_COLUMNS = ("personal_email", "telephone")
LEAVER_DEST_COLUMNS = (*NAME_COLUMNS, "school_email", *CONTACT_COLUMNS, "notes")
RESPONSE_PERSONAL = ("full_name", "date_of_birth", "respondent_email", *CONTACT_COLUMNS)
#: Free-text columns staff fill in on pupil-level tabs, which may name people.
NOTE_COLUMNS = ("note", "notes")
#: Personal columns of the other pupil-level tabs (issues 9 and 11), cleared with the leavers'
#: own: (names and dates of birth, kept with `names=False`; free text a pupil typed or that is
#: built from it). What feeds a figure stays (round, destination, level, status, results_change).
#: Reconciliation and Risk are rewritten by the sync from Destinations / LA data, which are
#: purged too, so nothing comes back.
TAB_PERSONAL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "intentions": ((), ("other", "provider", "course", "previous_destination")),
    "applications": ((), ("provider", "course")),
    # Risk's intended destination is rebuilt from Destinations' (kept) by every sync.
    "risk": (("forename", "surname"), ()),
    "la_data": (("forename", "surname", "date_of_birth"), ()),
    "reconciliation": (("name",), ()),
}


@dataclass
class PrivacyReport:
    """What a privacy action did (or would do): counts and response ids, no personal data."""

    action: str
    as_of: str
    pupils: int = 0
    responses: int = 0
    cells: int = 0
    rows_deleted: int = 0
    dry_run: bool = False
    written: bool = False
    form_responses_to_delete: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "as_of": self.as_of,
            "pupils": self.pupils,
            "responses": self.responses,
            "cells": self.cells,
            "rows_deleted": self.rows_deleted,
            "dry_run": self.dry_run,
            "written": self.written,
            "form_responses_to_delete": self.form_responses_to_delete,
            "reasons": self.reasons,
        }


def withheld_response_ids(responses: pd.DataFrame) -> set[str]:
    """Response ids the sync must no longer read from the forms (purged or erased).

    A school column of str only (as read) is tested once per distinct school, and its rows
    marked by a set lookup: `astype(str)` keeps every such cell and `.str.endswith` is
    `str.endswith` (issue 7: ~9 ms of pandas' string methods on the 100k trust's response log,
    tests/unit/test_privacy_withheld.py); the ids of the marked rows, if all str, are theirs."""
    if responses.empty or "school" not in responses or "response_id" not in responses:
        return set()
    schools = responses["school"]
    if isinstance(schools, pd.Series) and schools.dtype == object:
        cells = schools.to_numpy()
        if infer_dtype(cells, skipna=False) == "string":
            return _withheld_by_school(responses, cells)
    marked = responses["school"].astype(str).str.endswith(ERASED_SUFFIX)
    return set(responses.loc[marked, "response_id"].astype(str))


def _withheld_by_school(responses: pd.DataFrame, schools: np.ndarray) -> set[str]:
    """`withheld_response_ids` of a log whose school cells `schools` are all str."""
    texts = schools.tolist()
    erased = {s for s in set(texts) if s.endswith(ERASED_SUFFIX)}
    if not erased:
        return set()
    marked = np.fromiter(map(erased.__contains__, texts), dtype=bool, count=len(texts))
    ids = responses["response_id"]
    if isinstance(ids, pd.Series) and ids.dtype == object:
        picked = ids.to_numpy()[marked].tolist()
        if set(map(type, picked)) == {str}:  # exactly str, as `astype(str)` gives them
            return set(picked)
    return set(responses.loc[marked, "response_id"].astype(str))


def tracking_end(leaving_year: int, years: int = TRACKING_YEARS) -> dt.date:
    """The last day a leaver is tracked: 31 August, `years` after the summer they left."""
    return dt.date(leaving_year + years, 8, 31)


def _blank(frame: pd.DataFrame, rows: pd.Series, columns: tuple[str, ...]) -> int:
    """Clear `columns` on `rows` (a boolean mask); returns how many non-empty cells went."""
    cols = [c for c in columns if c in frame.columns]
    if not cols or not rows.any():
        return 0
    block = frame.loc[rows, cols].fillna("").astype(str)
    cleared = int((block != "").to_numpy().sum())
    frame.loc[rows, cols] = ""
    return cleared


def _mark_erased(log: pd.DataFrame, rows: pd.Series) -> None:
    school = log.loc[rows, "school"].astype(str)
    log.loc[rows, "school"] = [
        s if s.endswith(ERASED_SUFFIX) else s + ERASED_SUFFIX for s in school
    ]


def plan_purge(
    tabs: dict[str, pd.DataFrame],
    as_of: dt.date,
    *,
    tracking_years: int = TRACKING_YEARS,
    names: bool = True,
) -> tuple[dict[str, pd.DataFrame], PrivacyReport]:
    """Pure: the tabs with leavers' and withdrawn pupils' personal data cleared, and counts.

    `names=False` keeps leavers' names and dates of birth (a trust's policy may keep them).
    Idempotent: purging twice changes nothing the second time.
    """
    out = {k: v.copy() for k, v in tabs.items()}
    report = PrivacyReport(action="purge", as_of=as_of.isoformat())
    dest = out["destinations"]
    years = pd.to_numeric(dest["leaving_year"], errors="coerce")
    ended = years.map(
        lambda y: bool(pd.notna(y) and as_of > tracking_end(int(y), tracking_years))
    ).astype(bool)
    withdrawn = (dest["consent"].astype(str) == "N") & ~ended
    leaver_cols = LEAVER_DEST_COLUMNS if names else (*CONTACT_COLUMNS, "school_email", "notes")
    cells = _blank(dest, ended, leaver_cols) + _blank(dest, withdrawn, CONTACT_COLUMNS)
    leavers = set(dest.loc[ended, "upn"].astype(str)) - {""}
    quitters = set(dest.loc[withdrawn, "upn"].astype(str)) - {""}
    log = out["responses"]
    affected: set[str] = set()
    if not log.empty:
        upns = log["upn"].astype(str)
        live = ~log["school"].astype(str).str.endswith(ERASED_SUFFIX)
        personal = RESPONSE_PERSONAL if names else (*CONTACT_COLUMNS, "respondent_email")
        pairs: tuple[tuple[set[str], tuple[str, ...]], ...] = (
            (leavers, personal),
            (quitters, CONTACT_COLUMNS),
        )
        # Responses matched to nobody (unmatched, ambiguous) are kept as long as a leaver of
        # the year they state (else the year they were sent) would be, then purged the same way.
        stated = log["stated_leaving_year"].astype(str) if "stated_leaving_year" in log else upns
        sent = log["last_submitted"].astype(str).str[:4] if "last_submitted" in log else upns
        year = pd.to_numeric(stated.where(stated.str.isdigit(), sent), errors="coerce")
        stale = (upns == "") & year.map(
            lambda y: bool(pd.notna(y) and as_of > tracking_end(int(y), tracking_years))
        ).astype(bool)
        for targets, columns in pairs:
            rows = (upns.isin(targets) | (stale if columns is personal else False)) & live
            held = log.loc[rows, list(columns)].fillna("").astype(str).ne("").any(axis=1)
            rows = rows & held.reindex(log.index, fill_value=False)
            if rows.any():
                cells += _blank(log, rows, columns)
                _mark_erased(log, rows)
                affected |= set(upns[rows]) - {""}
                report.responses += int(rows.sum())
                report.form_responses_to_delete += list(log.loc[rows, "response_id"].astype(str))
    for key, frame in out.items():
        if key in ("destinations", "responses") or frame.empty or "upn" not in frame:
            continue
        # Staff's free-text notes on any other pupil-level tab may name people; the round and LA
        # tabs hold names, dates of birth and free text too. A row goes with its pupil, or with
        # its cohort's tracking period (LA rows matched to nobody have no UPN).
        rows = frame["upn"].astype(str).isin(leavers)
        if "leaving_year" in frame:
            row_years = pd.to_numeric(frame["leaving_year"], errors="coerce")
            rows = rows | row_years.map(
                lambda y: bool(pd.notna(y) and as_of > tracking_end(int(y), tracking_years))
            ).astype(bool)
        held, free = TAB_PERSONAL.get(key, ((), ()))
        columns = tuple(c for c in frame.columns if c in NOTE_COLUMNS) + free
        cells += _blank(frame, rows, columns + (held if names else ()))
    before = tabs["destinations"].fillna("").astype(str)
    changed = (before != dest.fillna("").astype(str)).any(axis=1)
    report.pupils = len(affected | set(dest.loc[changed, "upn"].astype(str)))
    report.reasons = {
        "tracking_period_over": int((changed & ended).sum()),
        "consent_withdrawn": int((changed & withdrawn).sum()),
    }
    report.cells = cells
    return out, report


def _frames(snapshot: Snapshot, template: Any) -> dict[str, TabFrame]:
    """Every pupil-level tab (a template tab with a `upn` column), by key."""
    from gsync.sync import pupil_frame

    keys = [t.key for t in template.tabs if "upn" in t.keys]
    return {k: pupil_frame(snapshot, template.tab(k)) for k in keys}


def _log_action(
    plan: WritePlan, snapshot: Snapshot, report: PrivacyReport, now: dt.datetime
) -> None:
    """Append one row (counts only) to the hidden privacy log tab, creating it if needed."""
    row = [
        now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        report.action,
        report.as_of,
        str(report.pupils),
        str(report.responses),
        str(report.cells),
        str(report.rows_deleted),
    ]
    if snapshot.has(PRIVACY_TAB):
        at = max(len(snapshot.grid(PRIVACY_TAB)), 1)
        rows = [row] if at > 1 else [PRIVACY_HEADER, row]
        plan.write_rows(PRIVACY_TAB, at if at > 1 else 0, 0, rows)
    else:
        plan.add_tab(PRIVACY_TAB, rows=100, cols=len(PRIVACY_HEADER), hidden=True, frozen_rows=1)
        plan.write_rows(PRIVACY_TAB, 0, 0, [PRIVACY_HEADER, row])


def _open(ws: Workspace, config: Config) -> tuple[Snapshot, Any, dict[str, TabFrame]]:
    from gsync.sync import check_template, load_template, trust_spreadsheet_id

    template = load_template(config)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    check_template(snapshot, template)
    return snapshot, template, _frames(snapshot, template)


def purge(
    ws: Workspace,
    config: Config,
    *,
    as_of: dt.date | None = None,
    tracking_years: int = TRACKING_YEARS,
    names: bool = True,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> PrivacyReport:
    """Purge the trust spreadsheet (one read, one guarded atomic write; nothing if nothing due)."""
    from gsync.sync import new_state

    if tracking_years < 1:
        raise ConfigError(
            f"--tracking-years {tracking_years} is too short.",
            fix="use 1 or more (the default, 3, is the Gatsby tracking period).",
        )
    now = now or dt.datetime.now(dt.UTC)
    as_of = as_of or now.date()
    snapshot, template, current = _open(ws, config)
    new, report = plan_purge(
        {k: tf.frame for k, tf in current.items()},
        as_of,
        tracking_years=tracking_years,
        names=names,
    )
    report.dry_run = dry_run
    if not report.cells and not report.responses:
        return report
    plan = WritePlan(snapshot)
    for key, tf in current.items():
        plan.update_frame(tf, new[key])
    _log_action(plan, snapshot, report, now)
    if not dry_run:
        apply_plan(ws, plan, new_state(snapshot, template, now))
        report.written = True
    return report


def _pupil_rows(current: dict[str, TabFrame], upn: str) -> dict[str, pd.Series]:
    """Per tab, a mask of the rows that belong to the pupil (exceptions via their responses too)."""
    masks: dict[str, pd.Series] = {}
    for key, tf in current.items():
        frame = tf.frame
        masks[key] = (
            frame["upn"].astype(str) == upn
            if "upn" in frame
            else pd.Series(False, index=frame.index)
        )
        if "la_upn" in frame:  # LA rows carry the LA's UPN even when matched to nobody
            masks[key] = masks[key] | (frame["la_upn"].astype(str).str.strip().str.upper() == upn)
    log = current["responses"].frame
    ids = set(log.loc[masks["responses"], "response_id"].astype(str))
    if "exceptions" in current:
        exc = current["exceptions"].frame
        masks["exceptions"] = masks["exceptions"] | exc["response_id"].astype(str).isin(ids)
    return masks


def subject_data(ws: Workspace, config: Config, upn: str) -> dict[str, Any]:
    """Everything gsync holds about one pupil (right of access): their rows in every pupil-level
    tab and the live form responses behind their logged ones. Holds personal data: the caller
    writes it only where the user asked."""
    from gsync.formsync import list_responses

    upn = upn.strip().upper()
    snapshot, _template, current = _open(ws, config)
    masks = _pupil_rows(current, upn)
    if not masks["destinations"].any() and not masks["responses"].any():
        raise NotFoundError(
            "No pupil with that UPN is in the trust spreadsheet.",
            fix="check the UPN (13 characters, e.g. from the MIS); erased pupils are not held.",
        )
    out: dict[str, Any] = {"upn": upn, "spreadsheet_id": snapshot.spreadsheet_id, "tabs": {}}
    for key, tf in current.items():
        rows = tf.frame.loc[masks[key]].fillna("").astype(str)
        out["tabs"][tf.title] = rows.to_dict("records")
    ids = set(current["responses"].frame.loc[masks["responses"], "response_id"].astype(str))
    round_ids = _round_response_ids(current, masks)
    forms: list[dict[str, Any]] = []
    for school in config.schools:
        if school.form_id and ids:
            forms += [r for r in list_responses(ws, school.form_id) if r.get("responseId") in ids]
        for held in school.rounds.values():  # survey rounds' forms (issue 11)
            if held.form_id and round_ids:
                forms += [
                    r for r in list_responses(ws, held.form_id) if r.get("responseId") in round_ids
                ]
    out["form_responses"] = forms
    return out


def _round_response_ids(current: dict[str, TabFrame], masks: dict[str, pd.Series]) -> set[str]:
    """The pupil's responses to the survey rounds' forms (Intentions / Applications rows)."""
    ids: set[str] = set()
    for key in ("intentions", "applications"):
        if key in current and "response_id" in current[key].frame:
            frame = current[key].frame
            ids |= set(frame.loc[masks[key], "response_id"].astype(str)) - {""}
    return ids


def erase_subject(
    ws: Workspace,
    config: Config,
    upn: str,
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> PrivacyReport:
    """Erase one pupil everywhere gsync wrote them (right to erasure), in one guarded write.

    Their rows go from every pupil-level tab but Responses, where their logged responses keep
    only the response id (marked erased, so the sync never reads them back from the form).
    """
    from gsync.sync import new_state

    now = now or dt.datetime.now(dt.UTC)
    upn = upn.strip().upper()
    snapshot, template, current = _open(ws, config)
    masks = _pupil_rows(current, upn)
    report = PrivacyReport(action="erase", as_of=now.date().isoformat(), dry_run=dry_run)
    if not masks["destinations"].any() and not masks["responses"].any():
        raise NotFoundError(
            "No pupil with that UPN is in the trust spreadsheet (already erased?).",
            fix="check the UPN; nothing was changed.",
        )
    report.pupils = 1
    plan = WritePlan(snapshot)
    log_tf = current["responses"]
    log = log_tf.frame.copy()
    rows = masks["responses"]
    keep = {"response_id", "school"}
    report.cells += _blank(log, rows, tuple(c for c in log.columns if c not in keep))
    _mark_erased(log, rows)
    report.responses = int(rows.sum())
    report.form_responses_to_delete = list(log.loc[rows, "response_id"].astype(str))
    # Round forms' responses: the Forms API cannot delete them either; staff do (listed). Each
    # gets an id-only "erased" row in the Responses log, so the sync never reads them back.
    round_ids = sorted(_round_response_ids(current, masks))
    report.form_responses_to_delete += round_ids
    dest = current["destinations"].frame
    schools = dest.loc[masks["destinations"], "school"].astype(str).tolist()
    logged = set(log["response_id"].astype(str))
    markers = [
        {**dict.fromkeys(log.columns, ""), "response_id": rid, "school": (schools or [""])[0]}
        for rid in round_ids
        if rid not in logged
    ]
    if markers:
        added = pd.DataFrame(markers, columns=log.columns)
        _mark_erased(added, pd.Series(True, index=added.index))
        log = pd.concat([log, added], ignore_index=True)
    plan.update_frame(log_tf, log)
    deletions: list[dict[str, Any]] = []
    for key, tf in current.items():
        if key == "responses":
            continue
        positions = [i for i, hit in enumerate(masks[key].tolist()) if hit]
        report.rows_deleted += len(positions)
        sheet_id = plan.sheet_id(tf.title)
        for i in sorted(positions, reverse=True):  # bottom-up, so indexes stay right
            deletions.append(
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "ROWS",
                            "startIndex": i + 1,  # row 0 is the header
                            "endIndex": i + 2,
                        }
                    }
                }
            )
    _log_action(plan, snapshot, report, now)
    plan.extend(deletions, change=f"delete {report.rows_deleted} row(s)")
    if not dry_run:
        apply_plan(ws, plan, new_state(snapshot, template, now))
        report.written = True
    return report


def export_json(data: dict[str, Any]) -> str:
    """A subject export as stable, readable JSON."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
