"""`gsync demo`: the main job end to end on the embedded local workspace, no Google account needed.

It also holds `submit_sample`, which plays the pupils: it submits a synthetic sample's answers to a
form through the emulator's test-only route (Google has no API to submit a response).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gsync.config import load_config
from gsync.sample import Sample, make_sample

#: The two sample schools (a Year 11 and a Year 13 school), shared by the demo, the tests and
#: the benchmark so their configurations cannot drift apart.
SAMPLE_SCHOOLS = """\
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

"""

#: Term dates of the academic years the samples cover (2024-25 to 2026-27).
SAMPLE_TERM_DATES = """\
[term_dates.2024-25]
autumn_start = 2024-09-04
autumn_end = 2024-12-20
spring_start = 2025-01-06
spring_end = 2025-04-04
summer_start = 2025-04-22
summer_end = 2025-07-22

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

DEMO_CONFIG = (
    """\
# gsync demo: a trust of two schools on the embedded local workspace (no Google account).
# Every command the demo runs works on this file: gsync --config {path} <command>

[trust]
name = "Demo Learning Trust"
domains = ["northfield.sch.uk", "southgate.sch.uk"]

"""
    + SAMPLE_SCHOOLS
    + """\
[workspace]
state_dir = ".gsync/workspace"

"""
    + SAMPLE_TERM_DATES
)


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


# --- the whole year --------------------------------------------------------------------------------
#
# Two cohorts per school: the 2025 leavers (followed through the year after they left: intended
# destination in September, actual destination by 31 December, validated by 31 March, the first
# sustained check in the summer) and the 2026 leavers (Form A before they leave). Dates follow
# sheets_templates/deadlines.toml and the term dates in DEMO_CONFIG.

PAST, CURRENT = 2025, 2026
# Follow-up answers by phase: (Form A destination option, level, weight). Y13 adds the
# higher-education options (forms/ spec); "Looking for work" is an "Other" answer (NEET).
FOLLOW_UPS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "Y11": (
        ("Sixth form", "Level 3", 38),
        ("College", "Level 3", 18),
        ("College", "Level 2", 16),
        ("Apprenticeship", "Level 2", 10),
        ("Apprenticeship", "Level 3", 4),
        ("Employment with training", "Level 2", 4),
        ("Traineeship", "Level 1", 3),
        ("Looking for work", "Not sure", 5),
    ),
    "Y13": (
        ("University / higher education", "Level 6", 48),
        ("Degree apprenticeship", "Level 6", 7),
        ("Apprenticeship", "Level 3", 12),
        ("Employment with training", "Level 3", 14),
        ("College", "Level 4", 6),
        ("Voluntary work", "Not sure", 3),
        ("Looking for work", "Not sure", 6),
    ),
}
# Staff contact attempts that fail (deadlines.toml [contacts]: three, then unknown).
FAILED_ATTEMPTS = (("email", "no reply"), ("phone", "no answer"), ("letter", "letter returned"))


@dataclass
class DemoStep:
    command: str
    summary: str


@dataclass
class DemoResult:
    out_dir: Path
    config_path: Path
    steps: list[DemoStep] = field(default_factory=list)
    report: Path | None = None
    xlsx: Path | None = None
    website: Path | None = None


def _moment(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=dt.UTC)


def _spread(start: str, end: str, i: int, n: int) -> dt.datetime:
    """The i-th of n moments spread evenly from `start` to `end` (school hours)."""
    a, b = _moment(start, 9), _moment(end, 9)
    step = (b - a) / max(n, 1)
    return a + step * i + dt.timedelta(minutes=37 * (i % 11))


def follow_up_answers(pupil: Any, phase: str, rng: random.Random) -> dict[str, str]:
    """A pupil's Form A answers after leaving: a realistic destination for the phase."""
    options = FOLLOW_UPS[phase]
    destination, level, _ = rng.choices(options, [w for *_, w in options])[0]
    return {
        "full_name": f"{pupil.preferred_forename or pupil.legal_forename} {pupil.legal_surname}",
        "date_of_birth": pupil.date_of_birth,
        "leaving_year": str(pupil.leaving_year),
        "destination": destination,
        "level": level,
        "course": "" if destination == "Looking for work" else "Main course",
        "consent": "Yes, I agree",
    }


def submit_follow_ups(
    client: Any,
    form_id: str,
    question_map: dict[str, str],
    pupils: list[Any],
    phase: str,
    window: tuple[str, str],
    rng: random.Random,
) -> set[str]:
    """Each pupil answers Form A once inside `window` (from their school account); their UPNs."""
    done: set[str] = set()
    for i, pupil in enumerate(pupils):
        answers = follow_up_answers(pupil, phase, rng)
        client.submit_response(
            form_id,
            {question_map[k]: [v] for k, v in answers.items() if v and k in question_map},
            respondent_email=pupil.school_email,
            submitted_at=_spread(*window, i, len(pupils)),
        )
        done.add(pupil.upn)
    return done


def log_attempts(ws: Any, config: Any, rows: list[tuple[str, str, int, str]]) -> int:
    """Staff log failed contact attempts (school, upn, leaving year, day) in the Contacts tab,
    in one append as a careers leader pasting a day's log would; returns the rows added."""
    from gsync.sync import load_template

    if not rows:
        return 0
    tab = load_template(config).tab("contacts")
    sheet = ws.sheets().open_by_key(str(config.trust.spreadsheet_id)).worksheet(tab.title)
    header = sheet.row_values(1)
    keys = {c.header: c.key for c in tab.columns}
    out = []
    for n, (school, upn, year, day) in enumerate(rows):
        channel, outcome = FAILED_ATTEMPTS[n % len(FAILED_ATTEMPTS)]
        values = {
            "contact_id": f"demo-{upn}-{day}",
            "school": school,
            "upn": upn,
            "leaving_year": str(year),
            "date": day,
            "channel": channel,
            "outcome": outcome,
            "by": "careers",
        }
        out.append([values.get(keys.get(h, h), "") for h in header])
    sheet.append_rows(out, value_input_option="RAW")
    return len(out)


def validate_actuals(ws: Any, config: Any, school: str, year: int, upns: set[str], day: str) -> int:
    """Staff confirm the unvalidated actual destinations of `upns` (with the local authority's
    data, say): copy them into the validated entry with source "LA" and validated "Y"."""
    from gsync.sheetio import read_snapshot, tab_frame
    from gsync.sync import load_template

    tab = load_template(config).tab("destinations")
    snap = read_snapshot(ws, str(config.trust.spreadsheet_id))
    tf = tab_frame(snap, tab)
    frame = tf.frame
    updates: list[dict[str, Any]] = []
    from gspread.utils import rowcol_to_a1

    for i, row in enumerate(frame.to_dict("records")):
        if row["school"] != school or row["leaving_year"] != str(year) or row["upn"] not in upns:
            continue
        if not row["actual_unvalidated_destination"]:
            continue
        values = {
            "actual_validated_destination": row["actual_unvalidated_destination"],
            "actual_validated_other": row["actual_unvalidated_other"],
            "actual_validated_level": row["actual_unvalidated_level"],
            "actual_validated_source": "LA",
            "actual_validated_recorded": day,
            "actual_validated_validated": "Y",
        }
        for key, value in values.items():
            a1 = rowcol_to_a1(i + 2, tf.layout[key] + 1)
            updates.append({"range": a1, "values": [[value]]})
    if updates:
        sheet = ws.sheets().open_by_key(str(config.trust.spreadsheet_id)).worksheet(tab.title)
        sheet.batch_update(updates, value_input_option="RAW")
    return len(updates) // 6


DEMO_STEPS = 18  # the commands run_demo shows, for the progress bar


def run_demo(
    out_dir: Path, echo: Callable[[str], None] = print, *, quiet: bool = False
) -> DemoResult:
    """Build a demo trust from scratch in `out_dir` and run a whole year of gsync on it.

    Every step is what a command does (the command line is printed with it), run with the
    `now=` the command's `--as-of` would give, so the year passes in about a minute. Progress:
    a bar on a terminal, one summary line on stderr otherwise (`quiet`: none), JSON events
    under `--log-format json` (gsync.progress).
    """
    from gsync import formsync, report, status, sync, trust, xlsx
    from gsync.emulator.testing import EmulatorClient
    from gsync.progress import Progress
    from gsync.workspace import open_workspace

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    config_path = out_dir / "gsync.toml"
    config_path.write_text(DEMO_CONFIG.format(path=config_path), encoding="utf-8")
    result = DemoResult(out_dir=out_dir, config_path=config_path)
    prefix = f"gsync --config {config_path}"
    rng = random.Random(2025)

    def step(command: str, summary: str) -> None:
        result.steps.append(DemoStep(command, summary))
        echo(f"$ {prefix} {command}\n  {summary}")
        bar.advance(detail=command.split(" --")[0])

    def chapter(text: str) -> None:
        echo(f"\n== {text}")

    def run_sync(day: str) -> None:
        report_ = sync.run_sync(ws, load_config(config_path), now=_moment(day, 2))
        step(f"sync --as-of {day}", _sync_summary(report_))

    ws = open_workspace(load_config(config_path))
    bar = Progress("gsync demo", total=DEMO_STEPS, unit="commands", quiet=quiet)
    try:
        bar.__enter__()
        echo(f"Workspace: {ws.describe()}")
        chapter("Setting up: the trust spreadsheet, Form A for each school, the rosters")
        init = sync.init_sheet(ws, load_config(config_path), now=_moment("2025-04-22"))
        step("sheet init", f"created the trust spreadsheet with {len(init.tabs_added)} tabs")
        samples: dict[tuple[str, int], Sample] = {}
        for index, school in enumerate(load_config(config_path).schools):
            form = formsync.create_form(ws, load_config(config_path), school.name)
            step(
                f"form create --school {school.name}",
                f"Form A published: {form.get('responder_uri', '')}",
            )
            for year, pupils in ((PAST, 70), (CURRENT, 80)):
                smp = make_sample(
                    seed=10 * index + year - PAST + 1,
                    pupils=pupils,
                    responses=pupils,
                    school=school.name,
                    phase=school.phase,
                    leaving_year=year,
                    email_domain=school.email_domain or "pupils.example.sch.uk",
                )
                samples[(school.name, year)] = smp
                roster_path = out_dir / f"roster-{school.name.lower()}-{year}.csv"
                roster_path.write_bytes(smp.roster_csv(("sims", "arbor", "bromcom")[index % 3]))
                rep = sync.import_roster(ws, load_config(config_path), roster_path, school.name)
                step(
                    f"roster import {roster_path.name} --school {school.name}",
                    f"{rep.rows} pupils leaving in {year}: {rep.added} added",
                )
        client = EmulatorClient(str(ws.emulator_url))
        config = load_config(config_path)
        schools = list(config.schools)

        def pupils_of(name: str, year: int) -> list[Any]:
            return list(samples[(name, year)].pupils)

        chapter("Summer 2025: the 2025 leavers answer Form A before they leave")
        for sch in schools:
            counts = submit_sample(
                client, str(sch.form_id), dict(sch.form_questions), samples[(sch.name, PAST)]
            )
            echo(f"  ({sch.name}: {counts['submitted']} responses, {counts['edited']} edited)")
        run_sync("2025-07-21")

        # Each later window: most pupils answer the follow-up Form A; staff make three
        # attempts to reach most of the rest (then the sync records them as unknown); a few
        # are not chased in time, so a deadline is missed.
        def season(
            title: str, window: tuple[str, str], share: float, chase: float, days: list[str]
        ) -> None:
            chapter(title)
            attempts: list[tuple[str, str, int, str]] = []
            for sch in schools:
                cohort = pupils_of(sch.name, PAST)
                rng.shuffle(cohort)
                answered = cohort[: int(len(cohort) * share)]
                rest = cohort[len(answered) :]
                submit_follow_ups(
                    client,
                    str(sch.form_id),
                    dict(sch.form_questions),
                    answered,
                    sch.phase,
                    window,
                    rng,
                )
                chased = rest[: int(len(rest) * chase)]
                attempts += [(sch.name, p.upn, PAST, d) for p in chased for d in days]
                echo(
                    f"  ({sch.name}: {len(answered)} of {len(cohort)} 2025 leavers answered; "
                    f"staff tried {len(chased)} others three times)"
                )
            log_attempts(ws, config, attempts)

        season(
            "September 2025: intended destinations of the 2025 leavers (due end of week 2)",
            ("2025-08-04", "2025-09-10"),
            0.6,
            0.8,
            ["2025-08-20", "2025-09-01", "2025-09-09"],
        )
        run_sync("2025-09-15")
        season(
            "Autumn 2025: actual destinations of the 2025 leavers (due 31 December)",
            ("2025-09-22", "2025-12-12"),
            0.72,
            1.0,
            ["2025-10-06", "2025-11-10", "2025-12-08"],
        )
        run_sync("2025-12-19")

        chapter("Spring 2026: staff validate the actual destinations (due 31 March)")
        for sch in schools:
            cohort = [p.upn for p in pupils_of(sch.name, PAST)]
            on_time = set(cohort[: int(len(cohort) * 0.85)])
            n = validate_actuals(ws, config, sch.name, PAST, on_time, "2026-03-20")
            echo(f"  ({sch.name}: {n} actual destinations validated by 20 March)")
        run_sync("2026-04-01")
        for sch in schools:
            cohort = [p.upn for p in pupils_of(sch.name, PAST)]
            late = set(cohort[int(len(cohort) * 0.85) :])
            n = validate_actuals(ws, config, sch.name, PAST, late, "2026-04-20")
            echo(f"  ({sch.name}: {n} more validated late, on 20 April)")

        chapter("Summer 2026: the 2026 leavers answer Form A; staff chase the silent ones")
        attempts = []
        for sch in schools:
            smp = samples[(sch.name, CURRENT)]
            counts = submit_sample(client, str(sch.form_id), dict(sch.form_questions), smp)
            answered = {
                r.respondent_email for r in smp.responses if r.respondent_email and r.kind == "ok"
            }
            silent = [p for p in smp.pupils if p.school_email not in answered]
            chased = silent[: len(silent) // 3]
            attempts += [
                (sch.name, p.upn, CURRENT, d)
                for p in chased
                for d in ("2026-06-08", "2026-06-22", "2026-07-06")
            ]
            echo(
                f"  ({sch.name}: {counts['submitted']} responses; staff tried {len(chased)} "
                "pupils three times)"
            )
        log_attempts(ws, config, attempts)
        as_of = "2026-07-10"
        run_sync(as_of)
        second = sync.run_sync(ws, config, now=_moment(as_of, 2))
        step(f"sync --as-of {as_of}", _sync_summary(second) + " (a repeat run writes nothing)")

        chapter("Where things stand: deadlines, the trust, the website, governors, a backup")
        st = status.trust_status(ws, config, as_of=dt.date.fromisoformat(as_of))
        states: dict[str, int] = {}
        for s in st.rows["state"]:
            states[str(s)] = states.get(str(s), 0) + 1
        step(
            f"status --as-of {as_of}",
            f"{len(st.rows)} deadlines across the live cohorts: "
            + ", ".join(f"{n} {k}" for k, n in sorted(states.items())),
        )
        agg = trust.aggregate_trust(ws, config, now=_moment(as_of, 3))
        step(
            f"trust aggregate --as-of {as_of}",
            f"wrote {', '.join(agg.tabs)}" if agg.written else "nothing changed",
        )
        site = out_dir / "website"
        files = [
            *trust.export_website(ws, config, site, fmt="csv").files,
            *trust.export_website(ws, config, site, fmt="html").files,
        ]
        result.website = site
        step(
            f"summary export --out {site} (csv, then --format html)",
            f"{len(files)} files of anonymised tables and charts for the school websites",
        )
        rep_path = out_dir / "governors-report.html"
        made = report.write_report(ws, config, rep_path, as_of=dt.date.fromisoformat(as_of))
        result.report = rep_path
        step(
            f"report --out {rep_path} --as-of {as_of}",
            f"the governors' report: cohorts {', '.join(made.cohorts)}, "
            f"{made.overdue} overdue deadline(s)",
        )
        xlsx_path = out_dir / "trust-spreadsheet.xlsx"
        exported = xlsx.export_xlsx(ws, config, xlsx_path)
        result.xlsx = xlsx_path
        step(
            f"export --xlsx {xlsx_path}",
            f"{len(exported.tabs)} tabs; holds pupil data, so readable by you only (mode 0600)",
        )
    except BaseException as exc:
        bar.__exit__(type(exc), exc, exc.__traceback__)
        raise
    else:
        bar.__exit__(None, None, None)
    finally:
        ws.close()
    echo("")
    echo("Where to look:")
    echo(f"  governors' report: {result.report} (open in a browser; print to PDF)")
    echo(f"  website export:    {result.website}/destinations.html and the CSV and SVG files")
    echo(f"  spreadsheet copy:  {result.xlsx} (pupil data: mode 0600)")
    echo(f"  configuration:     {config_path}")
    echo(f"  local workspace:   {out_dir / '.gsync' / 'workspace'} (SQLite; survives restarts)")
    echo(f"  try a command:     {prefix} status --as-of 2026-07-10")
    echo(f"  serve it:          gsync emulator serve --state {out_dir / '.gsync' / 'workspace'}")
    return result


def _sync_summary(report: Any) -> str:
    totals = report.totals
    return (
        f"{totals.get('new', 0)} new, {totals.get('updated', 0)} updated, "
        f"{totals.get('unchanged', 0)} unchanged, {totals.get('exceptions', 0)} new exceptions; "
        + ("spreadsheet written in one batch" if report.written else "nothing written")
    )
