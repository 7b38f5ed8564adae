"""`gsync status` and `gsync contacts due`: read the trust spreadsheet once, run the pure core.

The I/O glue between `sheetio` (one `spreadsheets.get`) and `deadlines` / `contacts` (pure
functions over frames). Results carry counts (status) or the pupils due a contact; warnings
(term-date fallbacks, skipped contact rows) never name a pupil.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gsync import deadlines
from gsync.config import Config
from gsync.contacts import DUE_COLUMNS, contacts_due
from gsync.sheetio import Snapshot, read_snapshot, tab_frame
from gsync.template import SUSTAINED_TAB
from gsync.workspace import Workspace

log = logging.getLogger("gsync.status")

#: Columns of `contacts due` that hold no personal data (the default table and the log).
SAFE_DUE_COLUMNS: tuple[str, ...] = tuple(DUE_COLUMNS)


@dataclass
class TrustFrames:
    """The frames status and contacts need, from one read."""

    destinations: pd.DataFrame
    contacts: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def today() -> dt.date:
    """Today as the schools count days (Europe/London)."""
    return deadlines.school_day(dt.datetime.now(dt.UTC))


def frames_from_snapshot(
    snapshot: Snapshot,
    template: Any,  # gsync.template.Template (frozen dataclasses satisfy sheetio's TabLike only as Any)
    rules: deadlines.Rules,
) -> TrustFrames:
    """Destinations (with the Sustained tab's checks folded in as columns) and Contacts.

    Read-only, so lenient: an older spreadsheet (no Sustained tab, missing columns) still gives a
    status, with a warning naming `gsync sheet init`.
    """
    warnings: list[str] = []
    recorded = snapshot.state.get("template_version", "")
    if recorded and recorded != str(template.version):
        warnings.append(
            f"the spreadsheet uses template version {recorded}, this gsync {template.version}: "
            "run `gsync sheet init` to upgrade it"
        )
    dest = tab_frame(snapshot, template.tab("destinations"))
    contacts = tab_frame(snapshot, template.tab("contacts"))
    for tf in (dest, contacts):
        if tf.missing:
            warnings.append(
                f"the tab '{tf.title}' lacks the column(s) {', '.join(tf.missing)}; "
                "run `gsync sheet init` to add them"
            )
    destinations = dest.frame
    try:
        sustained_tab = template.tab(SUSTAINED_TAB)
    except KeyError:
        sustained_tab = None
    if sustained_tab is not None:
        if snapshot.has(sustained_tab.title):
            sustained = tab_frame(snapshot, sustained_tab).frame
            destinations = deadlines.with_sustained(destinations, sustained, rules)
        else:
            warnings.append(
                f"the spreadsheet has no '{sustained_tab.title}' tab (years 1-3 checks): "
                "run `gsync sheet init` to add it"
            )
    return TrustFrames(destinations=destinations, contacts=contacts.frame, warnings=warnings)


def read_frames(ws: Workspace, config: Config) -> TrustFrames:
    """One read of the trust spreadsheet -> TrustFrames."""
    from gsync.sync import load_rules, load_template, trust_spreadsheet_id

    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    return frames_from_snapshot(snapshot, load_template(config), load_rules(config))


@dataclass
class StatusResult:
    """Every live cohort x entry at `as_of`: counts and states only (no personal data)."""

    as_of: dt.date
    rows: pd.DataFrame  # deadlines.STATUS_COLUMNS
    warnings: list[str] = field(default_factory=list)

    @property
    def overdue(self) -> pd.DataFrame:
        return self.rows[self.rows["state"] == "overdue"]

    def records(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows.to_dict("records"):
            out.append(
                {
                    "school": str(r["school"]),
                    "leaving_year": int(r["leaving_year"]),
                    "phase": str(r["phase"]),
                    "entry": str(r["entry"]),
                    "label": str(r["label"]),
                    "due": r["due"].isoformat(),
                    "days_left": int(r["days_left"]),
                    "complete": int(r["complete"]),
                    "total": int(r["total"]),
                    "percent": float(r["percent"]),
                    "state": str(r["state"]),
                }
            )
        return out

    def as_dict(self) -> dict[str, Any]:
        states: dict[str, int] = {}
        for state in self.rows["state"]:
            states[str(state)] = states.get(str(state), 0) + 1
        return {
            "as_of": self.as_of.isoformat(),
            "entries": self.records(),
            "states": states,
            "overdue": len(self.overdue),
            "warnings": self.warnings,
        }


def compute_status(
    frames: TrustFrames,
    rules: deadlines.Rules,
    config: Config,
    as_of: dt.date,
    school: str | None = None,
) -> StatusResult:
    """`deadlines.entry_status` over the frames, ordered by school, cohort, then rules order."""
    rows = deadlines.entry_status(
        frames.destinations, rules, config.term_dates, as_of, school=school
    )
    warnings = [*frames.warnings, *rows.attrs.get("warnings", [])]
    if not rows.empty:
        order = {key: i for i, key in enumerate(rules.keys)}
        rows = rows.assign(_order=rows["entry"].map(order))
        rows = rows.sort_values(["school", "leaving_year", "_order"], kind="stable")
        rows = rows.drop(columns="_order").reset_index(drop=True)
    return StatusResult(as_of=as_of, rows=rows, warnings=list(dict.fromkeys(warnings)))


def trust_status(
    ws: Workspace, config: Config, *, school: str | None = None, as_of: dt.date | None = None
) -> StatusResult:
    """`gsync status`: one read, then every live cohort's entries at `as_of` (default today)."""
    from gsync.sync import load_rules

    name = config.school(school).name if school else None
    rules = load_rules(config)
    return compute_status(read_frames(ws, config), rules, config, as_of or today(), name)


@dataclass
class ContactsDueResult:
    """Whom to contact now. `rows` holds personal data: only for the output the user asked for."""

    as_of: dt.date
    rows: pd.DataFrame  # contacts.DUE_COLUMNS + the contact columns present
    warnings: list[str] = field(default_factory=list)

    @property
    def safe(self) -> pd.DataFrame:
        """The rows without names or contact details (the default table)."""
        return self.rows[[c for c in SAFE_DUE_COLUMNS if c in self.rows.columns]]

    def records(self, *, personal: bool) -> list[dict[str, Any]]:
        frame = self.rows if personal else self.safe
        return [
            {
                str(k): (int(v) if k in ("attempts", "leaving_year") else str(v))
                for k, v in r.items()
            }
            for r in frame.to_dict("records")
        ]


def due_contacts(
    ws: Workspace, config: Config, *, school: str | None = None, as_of: dt.date | None = None
) -> ContactsDueResult:
    """`gsync contacts due`: one read, then the pupils missing the entry now due."""
    from gsync.sync import load_rules

    name = config.school(school).name if school else None
    rules = load_rules(config)
    frames = read_frames(ws, config)
    day = as_of or today()
    rows = contacts_due(frames.destinations, frames.contacts, rules, config.term_dates, day, name)
    warnings = [*frames.warnings, *rows.attrs.get("warnings", [])]
    return ContactsDueResult(as_of=day, rows=rows, warnings=list(dict.fromkeys(warnings)))
