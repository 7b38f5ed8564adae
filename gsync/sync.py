"""The nightly job's shell: read everything once, compute with pure functions, write once.

Per run: one read of the trust spreadsheet (`sheetio.read_snapshot`), one `forms.get` and one
`forms.responses.list` per 5,000 responses per school form, then at most one atomic
`spreadsheets.batchUpdate`. A run with nothing new writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gsync import deadlines, merge, mergememo
from gsync import risk as risk_mod
from gsync import rounds as rounds_mod
from gsync import template as template_mod
from gsync.batchgc import batch_job
from gsync.config import Config, SchoolConfig
from gsync.contacts import apply_three_attempts, apply_three_attempts_sustained
from gsync.errors import ConfigError, DataError, NotFoundError
from gsync.formspec import spec_for_school
from gsync.formsync import get_form, list_responses, match_items, question_id
from gsync.privacy import withheld_response_ids
from gsync.roster import apply_roster, read_roster
from gsync.sheetio import (
    STATE_TAB,
    Snapshot,
    TabFrame,
    WritePlan,
    apply_plan,
    create_spreadsheet,
    read_snapshot,
    tab_frame,
)
from gsync.trustsheet import TITLE_PREFIX, InitResult, plan_init, state_formatting
from gsync.workspace import Workspace

log = logging.getLogger("gsync.sync")

DEADLINES_TAB = "Deadlines"

#: The pupil-level tabs the sync reads and merges into (template keys).
PUPIL_TABS = (
    "destinations",
    "responses",
    "contacts",
    "exceptions",
    "sustained",
    "intentions",
    "applications",
)


def load_template(config: Config) -> Any:
    path = config.resolve(config.specs.template) if config.specs.template else None
    return template_mod.load_template(path)


def load_rules(config: Config) -> deadlines.Rules:
    path = config.resolve(config.specs.deadlines) if config.specs.deadlines else None
    return deadlines.load_rules(path)


def choice_source(config: Config) -> Callable[[str], Sequence[str]]:
    """Resolve a template column's `choices_from` marker to its drop-down values."""

    def resolve(name: str) -> Sequence[str]:
        if name == "taxonomy":
            from gsync import taxonomy

            path = config.resolve(config.specs.taxonomy) if config.specs.taxonomy else None
            return list(taxonomy.load_taxonomy(path).dropdown_values())
        raise ConfigError(
            f"The template names an unknown list of choices {name!r}.",
            fix='use choices = [...] or choices_from = "taxonomy" in the template.',
        )

    return resolve


def trust_spreadsheet_id(config: Config) -> str:
    if not config.trust.spreadsheet_id:
        raise ConfigError(
            "The trust spreadsheet has not been created yet (trust.spreadsheet_id is empty).",
            fix="run `gsync sheet init` to create it, or set trust.spreadsheet_id in gsync.toml.",
        )
    return config.trust.spreadsheet_id


def new_state(snapshot: Snapshot, template: Any, now: dt.datetime, **extra: str) -> dict[str, str]:
    state = dict(snapshot.state)
    state["template_version"] = str(template.version)
    state["last_write"] = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    state.update(extra)
    return state


# --- sheet init -----------------------------------------------------------------------------------


def init_sheet(
    ws: Workspace, config: Config, *, dry_run: bool = False, now: dt.datetime | None = None
) -> InitResult:
    """Create the trust spreadsheet (if none is configured) or upgrade it to the template."""
    now = now or dt.datetime.now(dt.UTC)
    template = load_template(config)
    created = False
    spreadsheet_id = config.trust.spreadsheet_id
    if not spreadsheet_id:
        if dry_run:
            return InitResult(
                spreadsheet_id="",
                created=True,
                tabs_added=[t.title for t in template.tabs if t.title != STATE_TAB],
                template_version=int(template.version),
                changes=[
                    "create the spreadsheet",
                    *[f"add tab '{t.title}'" for t in template.tabs],
                ],
            )
        spreadsheet_id = create_spreadsheet(
            ws, f"{TITLE_PREFIX} - {config.trust.name}", config.google.folder_id
        )
        created = True
        if config.path is not None:
            from gsync.config_edit import set_trust_fields

            set_trust_fields(config.path, spreadsheet_id=spreadsheet_id)
    snapshot = read_snapshot(ws, spreadsheet_id)
    plan, result = plan_init(snapshot, template, choice_source(config))
    result.created = created
    if not dry_run:
        apply_plan(ws, plan, new_state(snapshot, template, now))
    return result


# --- roster import --------------------------------------------------------------------------------


@dataclass
class RosterReport:
    school: str
    rows: int
    added: int
    updated: int
    unchanged: int
    problems: list[str]
    written: bool


def import_roster(
    ws: Workspace,
    config: Config,
    path: Path,
    school_name: str,
    *,
    mapping: dict[str, str] | None = None,
    leaving_year: int | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> RosterReport:
    """Validate the MIS export (all or nothing) and upsert it into Destinations in one write."""
    now = now or dt.datetime.now(dt.UTC)
    school = config.school(school_name)
    result = read_roster(
        path, school=school.name, phase=school.phase, mapping=mapping, leaving_year=leaving_year
    )
    problems = [f"row {p.row}, {p.column}: {p.problem}" for p in result.errors]
    if problems:
        raise DataError(
            f"The roster {path.name} has {len(problems)} problem(s); nothing was imported:\n  "
            + "\n  ".join(problems),
            fix="correct these rows in the MIS export (or the file) and import it again.",
        )
    template = load_template(config)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    check_template(snapshot, template)
    dest_tab = template.tab("destinations")
    current = pupil_frame(snapshot, dest_tab)
    new, counts = apply_roster(current.frame, result.frame)
    plan = WritePlan(snapshot)
    plan.update_frame(current, new, writable=owned(dest_tab, "sync"))
    written = False
    if not dry_run and not plan.is_empty:
        apply_plan(ws, plan, new_state(snapshot, template, now))
        written = True
    return RosterReport(
        school=school.name,
        rows=len(result.frame),
        added=counts.added,
        updated=counts.updated,
        unchanged=counts.unchanged,
        problems=[],
        written=written,
    )


# --- sync -----------------------------------------------------------------------------------------


def owned(tab: Any, owner: str) -> set[str]:
    return {c.key for c in tab.columns if c.owner == owner}


def check_template(snapshot: Snapshot, template: Any) -> None:
    """The spreadsheet must carry this template's version (or `sheet init` must run first)."""
    recorded = snapshot.state.get("template_version", "")
    if not recorded:
        raise ConfigError(
            "The trust spreadsheet has not been set up by gsync (no template version recorded).",
            fix="run `gsync sheet init` once to add gsync's tabs and columns.",
        )
    if recorded != str(template.version):
        raise ConfigError(
            f"The trust spreadsheet uses template version {recorded}; this gsync expects {template.version}.",
            fix="run `gsync sheet init` to upgrade it in place (no data is dropped or moved).",
        )


def pupil_frame(snapshot: Snapshot, tab: Any) -> TabFrame:
    frame = tab_frame(snapshot, tab)
    if frame.missing:
        raise ConfigError(
            f"The tab '{tab.title}' lacks the column(s) {', '.join(frame.missing)} (renamed or deleted?).",
            fix="rename them back, or run `gsync sheet init` to add them again (data is kept).",
        )
    return frame


@dataclass
class SyncReport:
    """Counts of one run (no personal data): what --json prints."""

    schools: dict[str, dict[str, int]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    written: bool = False
    dry_run: bool = False
    requests: int = 0
    changes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)  # own spreadsheets that could not be read

    def as_dict(self) -> dict[str, Any]:
        return {
            "schools": self.schools,
            "totals": self.totals,
            "written": self.written,
            "dry_run": self.dry_run,
            "write_requests": self.requests,
            "changes": self.changes,
            "skipped": self.skipped,
            "unread_school_spreadsheets": self.unread,
        }


def question_map(school: SchoolConfig, spec: Any, form: dict[str, Any]) -> dict[str, str]:
    """Spec key -> question id of the live form (recorded ids first, then matching titles)."""
    items = form.get("items", [])
    matched = match_items(spec, items, dict(school.form_questions))
    out: dict[str, str] = {}
    for key, index in matched.items():
        qid = question_id(items[index])
        if qid:
            out[key] = qid
    return out


def read_round_forms(
    ws: Workspace, config: Config, school: SchoolConfig, rules: deadlines.Rules
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, str]]]:
    """A school's round forms (gsync.toml [schools.rounds.KEY]): responses and question maps."""
    raw: dict[str, list[dict[str, Any]]] = {}
    maps: dict[str, dict[str, str]] = {}
    for key, form_cfg in school.rounds.items():
        if not form_cfg.form_id:
            continue
        try:
            rnd = rules.round(key)
        except KeyError:
            raise ConfigError(
                f"{school.name} has a form for the round {key!r}, which the rules file lacks.",
                fix="add the round to deadlines.toml [[rounds]], or remove it from gsync.toml.",
            ) from None
        form = get_form(ws, form_cfg.form_id)
        items = form.get("items", [])
        matched = match_items(
            rounds_mod.round_spec(config, rnd), items, dict(form_cfg.form_questions)
        )
        maps[key] = {
            k: qid for k, i in matched.items() if (qid := question_id(items[i])) is not None
        }
        raw[key] = list_responses(ws, form_cfg.form_id)
    return raw, maps


@batch_job
def run_sync(
    ws: Workspace,
    config: Config,
    *,
    school: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    on_school: Callable[[str], None] | None = None,
) -> SyncReport:
    """The nightly job: every school's Form A responses into the trust spreadsheet.

    `on_school(name)` is called as each school's form is read (the CLI's progress bar)."""
    now = now or dt.datetime.now(dt.UTC)
    template = load_template(config)
    rules = load_rules(config)
    schools = [config.school(school)] if school else list(config.schools)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    check_template(snapshot, template)
    current = {key: pupil_frame(snapshot, template.tab(key)) for key in PUPIL_TABS}
    tabs = {key: tf.frame for key, tf in current.items()}
    report = SyncReport(dry_run=dry_run)
    entry_for = deadlines.entry_resolver(rules, config.term_dates)
    withheld = withheld_response_ids(tabs["responses"])
    inputs: list[merge.SchoolInput] = []
    memos: dict[str, str] = {}
    for sch in schools:
        if not sch.form_id:
            report.skipped[sch.name] = "no form yet: run `gsync form create --school NAME`"
            continue
        form = get_form(ws, sch.form_id)
        spec = spec_for_school(config, sch)
        qmap = question_map(sch, spec, form)
        if "consent" not in qmap or "destination" not in qmap:
            raise NotFoundError(
                f"{sch.name}'s form lacks the consent or destination question gsync reads.",
                fix=f"run `gsync form update --school {sch.name}` to bring the form back to its spec.",
            )
        responses = list_responses(ws, sch.form_id)
        # Purged or erased responses (gsync.privacy) are never read back from the form.
        responses = [r for r in responses if r.get("responseId") not in withheld]
        inputs.append(merge.SchoolInput(sch.name, responses, qmap))
        if on_school is not None:  # the reads are the slow part; the merge below takes moments
            on_school(sch.name)
    if inputs:
        # One run-level merge (issue 7): the trust's tabs become rows once, not once per school.
        result = merge.plan_sync_many(
            tabs,
            inputs,
            entry_for=entry_for,
            now=now,
            template=template,
            memo=mergememo.from_state(snapshot.state),
            memo_key=merge_memo_key(rules, config.term_dates),
        )
        tabs = dict(result.tabs)
        # Written with the night's changes: a night that writes nothing leaves the old memos,
        # which still describe the rows if nothing changed (else those schools merge in full).
        memos = mergememo.to_state(result.memo)
        if result.reused:
            log.info(
                "merged %d of %d schools from their memos (%d logged responses not merged again)",
                len(result.reused),
                len(result.by_school),
                sum(result.reused.values()),
            )
        for name, school_counts in result.by_school.items():
            report.schools[name] = {k: int(v) for k, v in school_counts.items()}
        report.changes.extend(result.changes)
    # Pre-leaving survey rounds (issue 11): each school's round forms into Intentions / Applications.
    round_inputs: list[rounds_mod.RoundsInput] = []
    for sch in schools:
        round_raw, round_maps = read_round_forms(ws, config, sch, rules)
        # Erased pupils' round responses stay in the forms until staff delete them: skip them.
        round_raw = {
            k: [r for r in v if r.get("responseId") not in withheld] for k, v in round_raw.items()
        }
        if round_raw:
            round_inputs.append(rounds_mod.RoundsInput(sch.name, round_raw, round_maps))
    if round_inputs:
        # Every school in one pass over the round tabs (school after school, as before).
        merged = rounds_mod.merge_rounds_many(
            tabs, round_inputs, rules=rules, now=now, template=template
        )
        tabs = dict(merged.tabs)
        for name, got in merged.by_school.items():
            counts = report.schools.setdefault(name, {})
            counts.update({f"round_{k}": int(v) for k, v in got.items()})
        report.changes.extend(merged.changes)
    as_of = now.date()
    tabs["destinations"] = apply_three_attempts(
        tabs["destinations"], tabs["contacts"], rules, config.term_dates, as_of
    )
    tabs["sustained"] = apply_three_attempts_sustained(
        tabs["sustained"], tabs["destinations"], tabs["contacts"], rules, config.term_dates, as_of
    )
    totals: dict[str, int] = {}
    for counts in report.schools.values():
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    report.totals = totals
    plan = WritePlan(snapshot)
    for key in PUPIL_TABS:
        tab = template.tab(key)
        plan.update_frame(current[key], tabs[key], writable=owned(tab, "sync"))
    # Issue 9: accepted LA destinations fill the validated entry; Reconciliation and DfE measures.
    from gsync.reconcile import plan_outside_data
    from gsync.trust import load_specs

    taxonomy, policy = load_specs(config)
    tabs["destinations"] = plan_outside_data(
        plan,
        snapshot,
        template,
        taxonomy,
        policy,
        current["destinations"],
        tabs["destinations"],
        as_of,
    )
    # The years 1-3 checks live in the long Sustained tab; the derived tabs read them as entries.
    pupils = deadlines.with_sustained(tabs["destinations"], tabs["sustained"], rules)
    write_derived_tabs(
        plan,
        config,
        template,
        rules,
        pupils,
        as_of,
        intentions=tabs["intentions"],
        applications=tabs["applications"],
    )
    risk_mod.write_risk_tab(plan, template, rules, config.term_dates, tabs, as_of, entries=False)
    if any(s.spreadsheet_id for s in config.schools):
        # Schools that keep their own spreadsheet: one read each, aggregated into this same write.
        from gsync.trust import AggregateReport, plan_aggregate

        aggregate = AggregateReport(dry_run=dry_run)
        plan_aggregate(ws, config, plan, pupils, as_of, aggregate)
        report.unread = dict(aggregate.skipped)
    report.requests = len(plan.requests)
    report.changes = [*report.changes, *plan.changes]
    if not dry_run and not plan.is_empty:
        apply_plan(
            ws,
            plan,
            new_state(
                snapshot, template, now, last_counts=json.dumps(totals, sort_keys=True), **memos
            ),
        )
        report.written = True
    return report


def merge_memo_key(rules: deadlines.Rules, term_dates: Mapping[str, Any]) -> str:
    """What decides a response's entry besides the rows (gsync.mergememo's context): the
    deadlines rules and the term dates, as text."""
    dates = {k: v.model_dump(mode="json") for k, v in sorted(term_dates.items())}
    return json.dumps([rules.model_dump(mode="json"), dates], sort_keys=True)


def frame_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """A frame as rows for a sheet, header first."""
    rows: list[list[Any]] = [[str(c) for c in frame.columns]]
    for record in frame.itertuples(index=False):
        rows.append(["" if (isinstance(v, float) and pd.isna(v)) else v for v in record])
    return rows


def write_derived_tabs(
    plan: WritePlan,
    config: Config,
    template: Any,
    rules: deadlines.Rules,
    destinations: pd.DataFrame,
    as_of: dt.date,
    *,
    intentions: pd.DataFrame | None = None,
    applications: pd.DataFrame | None = None,
) -> None:
    """Tabs the sync owns whole and recomputes every run (no personal data): Deadlines, Summary
    (with the survey rounds' figures when given the Intentions / Applications frames)."""
    status = deadlines.entry_status(destinations, rules, config.term_dates, as_of)
    # Days left change every day; the tab keeps due dates and states, so an idle night writes nothing.
    tab = deadlines.deadlines_tab(status).drop(columns=["days_left"], errors="ignore")
    rows = frame_rows(tab)
    if plan.replace_tab(DEADLINES_TAB, rows) and not plan.snapshot.has(DEADLINES_TAB):
        plan.extend(state_formatting(plan.sheet_id(DEADLINES_TAB), rows[0]), None)
    # Summary tabs (issue 6): suppressed and disclosure-checked before this write, with charts.
    from gsync.trust import write_summary_tabs

    write_summary_tabs(
        plan, config, destinations, intentions=intentions, applications=applications, rules=rules
    )
