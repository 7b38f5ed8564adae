"""`gsync demo`: the main job end to end on the embedded local workspace, no Google account needed.

It also holds `submit_sample`, which plays the pupils: it submits a synthetic sample's answers to a
form through the emulator's test-only route (Google has no API to submit a response).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsync.config import load_config
from gsync.sample import Sample, make_sample

DEMO_CONFIG = """\
# gsync demo: a trust of two schools on the embedded local workspace (no Google account).
# Every command the demo runs works on this file: gsync --config {path} <command>

[trust]
name = "Demo Learning Trust"
domains = ["northfield.sch.uk", "southgate.sch.uk"]

[[schools]]
name = "Northfield"
urn = "100001"
phase = "Y11"
careers_leader = "Sam Careers"
careers_email = "careers@northfield.sch.uk"
email_domain = "pupils.northfield.sch.uk"

[[schools]]
name = "Southgate"
urn = "100002"
phase = "Y13"
careers_leader = "Ali Leader"
careers_email = "careers@southgate.sch.uk"
email_domain = "pupils.southgate.sch.uk"

[workspace]
state_dir = ".gsync/workspace"

[term_dates.2025-26]
autumn_start = 2025-09-03
autumn_end = 2025-12-19
spring_start = 2026-01-05
spring_end = 2026-03-27
summer_start = 2026-04-13
summer_end = 2026-07-21

[term_dates.2026-27]
autumn_start = 2026-09-02
autumn_end = 2026-12-18
spring_start = 2027-01-04
spring_end = 2027-03-26
summer_start = 2027-04-12
summer_end = 2027-07-21
"""


def _answers(body: dict[str, Any]) -> dict[str, list[str]]:
    return {
        qid: [a["value"] for a in ans["textAnswers"]["answers"]]
        for qid, ans in body["answers"].items()
    }


def submit_sample(
    client: Any, form_id: str, question_map: dict[str, str], sample: Sample
) -> dict[str, int]:
    """Submit every sample response (then its later edits) as pupils would; counts by outcome.

    Pupils without a school account answer from a personal one (the form records a verified
    address either way). The emulator refuses what Google's form would refuse (an impossible date,
    say); those count as `refused`, as a pupil would have had to correct them before submitting.
    """
    ids: dict[str, str] = {}
    counts = {"submitted": 0, "edited": 0, "refused": 0}
    for batch, edited in ((sample.responses, False), (sample.edits, True)):
        for response in batch:
            body = response.form_response(question_map)
            email = (
                response.respondent_email
                or f"leaver.{response.response_id[-6:].lower()}@example.com"
            )
            when = dt.datetime.fromisoformat(response.last_submitted.replace("Z", "+00:00"))
            if edited and response.response_id not in ids:
                continue
            try:
                made = client.submit_response(
                    form_id,
                    _answers(body),
                    respondent_email=email,
                    response_id=ids.get(response.response_id) if edited else None,
                    submitted_at=when,
                )
            except Exception:  # the emulator refused it, as Google's form would
                counts["refused"] += 1
                continue
            ids[response.response_id] = str(made["responseId"])
            counts["edited" if edited else "submitted"] += 1
    return counts


@dataclass
class DemoStep:
    command: str
    summary: str


@dataclass
class DemoResult:
    out_dir: Path
    config_path: Path
    steps: list[DemoStep] = field(default_factory=list)


def run_demo(out_dir: Path, echo: Callable[[str], None] = print) -> DemoResult:
    """Build a demo trust from scratch in `out_dir` and run the main job on it."""
    from gsync import formsync, sync
    from gsync.emulator.testing import EmulatorClient
    from gsync.workspace import open_workspace

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    config_path = out_dir / "gsync.toml"
    config_path.write_text(DEMO_CONFIG.format(path=config_path), encoding="utf-8")
    result = DemoResult(out_dir=out_dir, config_path=config_path)
    prefix = f"gsync --config {config_path}"

    def step(command: str, summary: str) -> None:
        result.steps.append(DemoStep(command, summary))
        echo(f"$ {prefix} {command}\n  {summary}")

    ws = open_workspace(load_config(config_path))
    try:
        echo(f"Workspace: {ws.describe()}")
        init = sync.init_sheet(ws, load_config(config_path))
        step(
            "sheet init",
            f"created the trust spreadsheet {init.spreadsheet_id} with tabs {', '.join(init.tabs_added)}",
        )
        samples: dict[str, Sample] = {}
        for index, school in enumerate(load_config(config_path).schools):
            form = formsync.create_form(ws, load_config(config_path), school.name)
            step(
                f"form create --school {school.name}",
                f"Form A published: {form.get('responder_uri', '')}",
            )
            leaving_year = 2026
            smp = make_sample(
                seed=index + 1,
                pupils=120,
                responses=150,
                school=school.name,
                phase=school.phase,
                leaving_year=leaving_year,
                email_domain=school.email_domain or "pupils.example.sch.uk",
            )
            samples[school.name] = smp
            roster_path = out_dir / f"roster-{school.name.lower()}.csv"
            roster_path.write_bytes(smp.roster_csv(("sims", "arbor", "bromcom")[index % 3]))
            report = sync.import_roster(ws, load_config(config_path), roster_path, school.name)
            step(
                f"roster import {roster_path.name} --school {school.name}",
                f"{report.rows} pupils: {report.added} added, {report.updated} updated",
            )
        client = EmulatorClient(str(ws.emulator_url))
        config = load_config(config_path)
        for school in config.schools:
            counts = submit_sample(
                client, str(school.form_id), dict(school.form_questions), samples[school.name]
            )
            echo(
                f"  (pupils of {school.name} answered Form A: {counts['submitted']} responses, "
                f"{counts['edited']} later edited, {counts['refused']} refused by the form)"
            )
        as_of = "2026-07-10"
        now = dt.datetime(2026, 7, 10, 2, 30, tzinfo=dt.UTC)
        first = sync.run_sync(ws, config, now=now)
        step(f"sync --as-of {as_of}", _sync_summary(first))
        second = sync.run_sync(ws, config, now=now)
        step(f"sync --as-of {as_of}", _sync_summary(second) + " (a repeat run writes nothing)")
        from gsync import trust

        site = out_dir / "website"
        files = [
            *trust.export_website(ws, config, site, fmt="csv").files,
            *trust.export_website(ws, config, site, fmt="html").files,
        ]
        step(
            f"summary export --out {site} (csv, then --format html)",
            "anonymised tables and charts for the school website: "
            + ", ".join(sorted(p.name for p in files)),
        )
        agg = trust.aggregate_trust(ws, config, now=now)
        step(
            f"trust aggregate --as-of {as_of}",
            f"wrote {', '.join(agg.tabs)}" if agg.written else "nothing changed",
        )
    finally:
        ws.close()
    echo("")
    echo("Where to look:")
    echo(f"  configuration:   {config_path}")
    echo(f"  local workspace: {out_dir / '.gsync' / 'workspace'} (SQLite; survives restarts)")
    echo(f"  what it holds:   {prefix} workspace info")
    echo(f"  serve it:        gsync emulator serve --state {out_dir / '.gsync' / 'workspace'}")
    return result


def _sync_summary(report: Any) -> str:
    totals = report.totals
    return (
        f"{totals.get('new', 0)} new, {totals.get('updated', 0)} updated, "
        f"{totals.get('unchanged', 0)} unchanged, {totals.get('exceptions', 0)} new exceptions; "
        + ("spreadsheet written in one batch" if report.written else "nothing written")
    )
