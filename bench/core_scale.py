"""The sync's pure core at 3k-100k pupil rows, in memory (no emulator): `python -m bench.core_scale`.

The spreadsheet is built as a `Snapshot` from `gsync.sample` rosters and answers for a trust of
`SCHOOLS` schools x three cohorts, then the same functions `gsync.sync.run_sync` calls run on it, in
its order: `merge.plan_sync_many` (every school in one pass), the three-attempts rules, `WritePlan.update_frame` per pupil
tab, `deadlines.with_sustained`, the derived tabs (Deadlines, Summary with its disclosure check) and
the Risk tab. Building the data is not measured. Two nights are measured:

- first: the Responses log is empty, so every response is new;
- steady: the spreadsheet as the first night left it (its derived tabs too, as read back:
  `with_written_tabs`), and a few responses more (the Forms API still lists every response).

The telephone answers are made realistic here (`realistic_phones`), not in `gsync.sample`: the
sample draws its numbers from Ofcom's drama ranges (`DRAMA_PHONES` and a 3-digit tail, about 4,000
numbers for any trust), so a cache of verdicts by number hides what judging a number costs, while a
real trust has one number per pupil, typed in many ways. The sample's draws stay as they are because
the tests depend on them (its random stream, hence every later answer); the bench replaces each of
its valid numbers afterwards with one drawn per pupil from a separate seeded stream, and leaves its
bad numbers bad. The personal email answers likewise (`realistic_emails`): the sample's
`forename.N@example.com` gives about 19,000 addresses for 86,000 responses, a real trust one per pupil.

CPU is `time.process_time` per stage; peak memory is `tracemalloc` in a second, separate pass.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import phonenumbers

from bench.trust import COHORTS, NOW, RESPONSE_RATES, config_text, school_name, school_phase
from gsync import deadlines, disclosure, merge, mergememo
from gsync import risk as risk_mod
from gsync import sync as sync_mod

# The sync has imported gsync.trust (for load_specs) before its derived tabs: imported here too, so
# the derived stage's lap does not count compiling those modules.
from gsync import trust as _trust  # noqa: F401
from gsync.batchgc import collector_paused
from gsync.config import Config, load_config
from gsync.contacts import apply_three_attempts, apply_three_attempts_sustained
from gsync.privacy import withheld_response_ids
from gsync.roster import apply_roster, read_roster
from gsync.sample import DEFAULT_QUESTION_MAP, DRAMA_PHONES, make_sample
from gsync.sheetio import STATE_TAB, CellBlock, Snapshot, TabInfo, WritePlan, cell

SCHOOLS = 20
DEFAULT_SIZES = (3_000, 10_000, 30_000, 100_000)
#: The steady night's new responses per school (a quiet night in term).
STEADY_NEW_PER_SCHOOL = 3
#: The stages issue 7 names as the core: normalise, match, merge (the merge stage), the contact
#: and deadline rules and the summaries. Not the edges: reading the grid into frames
#: ("read frames") and turning the changes into the batchUpdate's requests ("update_frame").
CORE_STAGES = (
    "merge",
    "three attempts",
    "with_sustained",
    "deadlines + summary + disclosure",
    "risk",
)
#: Issue 7's target for the core at 100,000 pupil rows.
TARGET_CPU_S = 2.0
TARGET_PEAK_MB = 500.0


@dataclass
class Trust:
    """A synthetic trust in memory: its config, the first night's snapshot, each school's answers."""

    config: Config
    template: Any
    rules: deadlines.Rules
    snapshot: Snapshot
    raw: dict[str, list[dict[str, Any]]]  # school -> Forms API responses (the steady night's list)
    held_back: set[str]  # response ids that arrive only on the steady night
    pupils: int


def sheet_snapshot(
    template: Any, frames: Mapping[str, pd.DataFrame], state: Mapping[str, str] | None = None
) -> Snapshot:
    """A spreadsheet as read: every template tab (headers, then the frame's rows as text), and
    the state tab's rows (the template version, then `state`)."""
    tabs: dict[str, TabInfo] = {}
    grids: dict[str, list[list[str]]] = {}
    for index, tab in enumerate(template.tabs):
        headers = {c.key: c.header for c in tab.columns}
        frame = frames.get(tab.key)
        names = list(frame.columns) if frame is not None else list(tab.keys)
        names += [k for k in tab.keys if k not in names]
        grid = [[headers.get(n, n) for n in names]]
        if frame is not None:
            body = frame.reindex(columns=names, fill_value="").fillna("").astype(str)
            grid += [list(r) for r in body.itertuples(index=False)]
        if tab.title == STATE_TAB:
            grid = [["key", "value"], ["template_version", str(template.version)]]
            grid += [[k, v] for k, v in (state or {}).items()]
        grids[tab.title] = grid
        tabs[tab.title] = TabInfo(index + 1, tab.title, index, len(grid) + 100, len(grid[0]) + 2)
    return Snapshot("bench", "Benchmark", tabs, grids)


def _shown(data: Mapping[str, Any]) -> str:
    """A written cell as the next night reads it (its formatted value)."""
    value = data.get("userEnteredValue", {})
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return "TRUE" if value["boolValue"] else "FALSE"
    if "numberValue" in value:
        number = float(value["numberValue"])
        return str(int(number)) if number.is_integer() else repr(number)
    return ""


def with_written_tabs(snapshot: Snapshot, plan: WritePlan, filled: Sequence[str] = ()) -> Snapshot:
    """`snapshot` plus the tabs `plan` adds (the derived tabs: Deadlines, Summary...) and the
    cells it writes into the tabs titled `filled` (Risk, which the template holds), as the next
    night reads them, so a steady night compares those tabs instead of writing them whole."""
    added: dict[int, tuple[str, int, int]] = {}
    for title in filled:
        info = snapshot.tabs[title]
        added[info.sheet_id] = (title, info.rows, info.cols)
    # The plan's items: request dicts, and cell writes kept as values (read without their dicts).
    requests = [r for r in plan.items if isinstance(r, dict)]
    for request in requests:
        props = request.get("addSheet", {}).get("properties")
        if props and props["title"] not in snapshot.tabs:
            size = props.get("gridProperties", {})
            added[props["sheetId"]] = (
                props["title"],
                size.get("rowCount", 0),
                size.get("columnCount", 0),
            )
    cells: dict[int, dict[tuple[int, int], str]] = {sid: {} for sid in added}
    for item in plan.items:
        if isinstance(item, CellBlock):
            if item.sheet not in added:
                continue
            target = cells[item.sheet]
            for i, values in enumerate(item.values()):
                for j, value in enumerate(values):
                    target[(item.row0 + i, item.col0 + j)] = _shown(cell(value))
            continue
        update = item.get("updateCells")
        if update is None or update["start"]["sheetId"] not in added:
            continue
        start = update["start"]
        target = cells[start["sheetId"]]
        for i, row in enumerate(update["rows"]):
            for j, data in enumerate(row["values"]):
                target[(start["rowIndex"] + i, start["columnIndex"] + j)] = _shown(data)
    charts = dict(snapshot.charts)
    titles = {
        **{info.sheet_id: t for t, info in snapshot.tabs.items()},
        **{s: a[0] for s, a in added.items()},
    }
    for request in requests:  # the charts the plan adds, as the next night's read counts them
        anchor = request.get("addChart", {}).get("chart", {}).get("position", {})
        sheet = anchor.get("overlayPosition", {}).get("anchorCell", {}).get("sheetId")
        if sheet in titles:
            charts[titles[sheet]] = charts.get(titles[sheet], 0) + 1
    tabs, grids = dict(snapshot.tabs), dict(snapshot.grids)
    for sid, (title, rows, cols) in added.items():
        grid: list[list[str]] = []
        if title in snapshot.tabs:  # a tab the template holds: its header as read
            grid = [list(line) for line in snapshot.grid(title)]
        for (r, c), text in cells[sid].items():
            while len(grid) <= r:
                grid.append([])
            line = grid[r]
            line.extend([""] * (c + 1 - len(line)))
            line[c] = text
        for line in grid:
            while line and line[-1] == "":
                line.pop()
        while grid and not grid[-1]:
            grid.pop()
        grids[title] = grid
        index = snapshot.tabs[title].index if title in snapshot.tabs else len(tabs)
        tabs[title] = TabInfo(sid, title, index, max(rows, len(grid)), cols)
    return Snapshot(snapshot.spreadsheet_id, snapshot.title, tabs, grids, charts)


def build(pupil_rows: int, tmp: Path, *, schools: int = SCHOOLS, seed: int = 7) -> Trust:
    """Rosters imported (as `gsync roster import` leaves them), no response logged yet."""
    path = tmp / f"gsync-{schools}.toml"
    path.write_text(config_text(schools), encoding="utf-8")
    config = load_config(path)
    template = sync_mod.load_template(config)
    rules = sync_mod.load_rules(config)
    per_cohort = max(pupil_rows // (schools * len(COHORTS)) - 2, 3)  # make_sample adds 2 twins
    destinations = pd.DataFrame(columns=template.tab("destinations").keys, dtype=object)
    raw: dict[str, list[dict[str, Any]]] = {}
    held: set[str] = set()
    seen: set[str] = set()
    for i in range(schools):
        name = school_name(i)
        raw[name] = []
        for c, year in enumerate(COHORTS):
            smp = make_sample(
                seed=seed * 10_000 + i * 10 + c,
                pupils=per_cohort,
                responses=max(int(per_cohort * RESPONSE_RATES[c]), 5),
                school=name,
                phase=school_phase(i),
                leaving_year=year,
                email_domain=f"pupils.s{i + 1:02d}.bench.sch.uk",
            )
            kept = tuple(p for p in smp.pupils if p.upn not in seen)
            seen.update(p.upn for p in kept)
            csv = tmp / "roster.csv"
            csv.write_bytes(replace(smp, pupils=kept).roster_csv())
            roster = read_roster(csv, school=name, phase=school_phase(i))
            destinations, _ = apply_roster(destinations, roster.frame)
            raw[name].extend(smp.form_responses(DEFAULT_QUESTION_MAP, edited=True))
        # The latest few submissions arrive only on the steady night.
        latest = sorted(raw[name], key=lambda r: (r["lastSubmittedTime"], r["responseId"]))
        held.update(r["responseId"] for r in latest[-STEADY_NEW_PER_SCHOOL:])
    realistic_phones(raw, seed)
    realistic_emails(raw, seed)
    snapshot = sheet_snapshot(template, {"destinations": destinations})
    return Trust(config, template, rules, snapshot, raw, held, len(destinations))


T = TypeVar("T")

# How people type a UK number, by its ten digits (national significant number) `n`, with weights
# (of 100): mostly spaced or run together with a "0", some with "+44", a few as "+44 (0)" or
# with dashes or brackets (which `phonenumbers.parse` reads).
_MOBILE_STYLES: tuple[tuple[int, Callable[[str], str]], ...] = (
    (40, lambda n: f"0{n[:4]} {n[4:]}"),
    (25, lambda n: f"0{n}"),
    (10, lambda n: f"+44 {n[:4]} {n[4:]}"),
    (5, lambda n: f"+44{n}"),
    (8, lambda n: f"0{n[:4]} {n[4:7]} {n[7:]}"),
    (4, lambda n: f"+44 (0){n[:4]} {n[4:]}"),
    (4, lambda n: f"0{n[:4]}-{n[4:7]}-{n[7:]}"),
    (4, lambda n: f" 0{n[:4]}  {n[4:]} "),
)
_LANDLINE_STYLES: tuple[tuple[int, Callable[[str], str]], ...] = (
    (40, lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}"),
    (25, lambda n: f"0{n}"),
    (10, lambda n: f"+44 {n[:3]} {n[3:6]} {n[6:]}"),
    (10, lambda n: f"0{n[:3]} {n[3:]}"),
    (10, lambda n: f"(0{n[:3]}) {n[3:6]} {n[6:]}"),
    (5, lambda n: f"0{n[:3]}-{n[3:6]}-{n[6:]}"),
)
#: The share of pupils who give a landline (geographic, 01 or 02) rather than a mobile (07).
LANDLINE_SHARE = 0.2


# How a pupil's own address is written (local part from their name and a number, in one of the
# reserved example domains), with weights: mostly lower case, some capitalised, a few with
# spaces around (which the sync strips) or an upper-case domain (which it lower-cases).
_EMAIL_STYLES: tuple[tuple[int, Callable[[str, str], str]], ...] = (
    (70, lambda local, domain: f"{local}@{domain}"),
    (15, lambda local, domain: f"{local.title()}@{domain}"),
    (10, lambda local, domain: f" {local}@{domain} "),
    (5, lambda local, domain: f"{local}@{domain.upper()}"),
)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.co.uk")
# The sample's valid personal addresses (`gsync.sample`: forename, a number, example.com).
_SAMPLE_EMAIL = re.compile(r"[^@\s]+\.[0-9]{1,2}@example\.com")


def realistic_emails(raw: Mapping[str, list[dict[str, Any]]], seed: int = 7) -> int:
    """Replace, in place, each personal email answer of the sample's valid form with an address of
    the pupil's own (`_own_answers`), written in one of the usual ways; the bad addresses stay.
    Returns how many distinct addresses."""
    rng = random.Random(f"emails {seed}")
    weights = [w for w, _ in _EMAIL_STYLES]
    styles = [f for _, f in _EMAIL_STYLES]
    taken: set[tuple[str, str]] = set()

    def draw(name: str) -> tuple[str, str]:
        stem = ".".join(re.findall("[a-z]+", name)) or "pupil"
        while True:
            local = f"{stem}{rng.randrange(1, 10_000)}"
            domain = rng.choice(_EMAIL_DOMAINS)
            if (local, domain) not in taken:
                taken.add((local, domain))
                return local, domain

    return _own_answers(
        raw,
        "personal_email",
        _SAMPLE_EMAIL,
        draw,
        lambda got: rng.choices(styles, weights)[0](*got),
    )


def _own_answers(
    raw: Mapping[str, list[dict[str, Any]]],
    key: str,
    sample: re.Pattern[str],
    draw: Callable[[str], T],
    typed: Callable[[T], str],
) -> int:
    """Replace, in place, each answer to the Form A question `key` that `sample` matches whole
    with `typed(value)`, the value drawn once per pupil (`draw` of their name: by school, name
    and date of birth as answered, so a pupil who answers twice gives the same value, maybe
    typed otherwise), in the order of the schools' names and their responses. Returns how many
    values were drawn."""
    qid = DEFAULT_QUESTION_MAP[key]
    name_q, dob_q = DEFAULT_QUESTION_MAP["full_name"], DEFAULT_QUESTION_MAP["date_of_birth"]
    drawn: dict[tuple[str, str, str], T] = {}
    for school in sorted(raw):
        for response in raw[school]:
            answers = response.get("answers") or {}
            if not sample.fullmatch(_answer(answers, qid)):
                continue
            name = " ".join(_answer(answers, name_q).split()).casefold()
            pupil = (school, name, _answer(answers, dob_q))
            got = drawn.get(pupil)
            if got is None:
                got = drawn[pupil] = draw(name)
            answers[qid]["textAnswers"]["answers"][0]["value"] = typed(got)
    return len(drawn)


def _answer(answers: Mapping[str, Any], qid: str) -> str:
    """One question's text answer as the sample writes it ("" when unanswered)."""
    got = answers.get(qid)
    return str(got["textAnswers"]["answers"][0]["value"]) if got else ""


def _uk_number(rng: random.Random, taken: set[str]) -> str:
    """Ten digits of a valid UK number (to `phonenumbers`) not in `taken`: a mobile or a landline."""
    while True:
        if rng.random() < LANDLINE_SHARE:
            digits = rng.choice("12") + f"{rng.randrange(10**9):09d}"
        else:
            digits = "7" + f"{rng.randrange(10**9):09d}"
        number = phonenumbers.PhoneNumber(country_code=44, national_number=int(digits))
        if digits not in taken and phonenumbers.is_valid_number(number):
            taken.add(digits)
            return digits


def _styled(rng: random.Random, digits: str) -> str:
    """`digits` typed one of the ways people type a number."""
    styles = _MOBILE_STYLES if digits[0] == "7" else _LANDLINE_STYLES
    weights = [w for w, _ in styles]
    return rng.choices([f for _, f in styles], weights)[0](digits)


def realistic_phones(raw: Mapping[str, list[dict[str, Any]]], seed: int = 7) -> int:
    """Replace, in place, each telephone answer drawn from `DRAMA_PHONES` (a valid number) with a
    number of the pupil's own (`_own_answers`), typed in one of the usual ways; the bad numbers
    stay. Returns how many distinct numbers were drawn."""
    rng = random.Random(f"phones {seed}")
    drama = re.compile("(?:" + "|".join(re.escape(p) for p in DRAMA_PHONES) + r")[0-9]{3}")
    taken: set[str] = set()
    return _own_answers(
        raw, "telephone", drama, lambda _name: _uk_number(rng, taken), lambda d: _styled(rng, d)
    )


@dataclass
class Night:
    """One measured night: CPU seconds per stage, peak memory, what it would write."""

    pupil_rows: int
    responses: int
    night: str
    cpu_s: float = 0.0
    wall_s: float = 0.0
    peak_mb: float = 0.0
    requests: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    stage_peaks_mb: dict[str, float] = field(default_factory=dict)
    memo_schools: int = 0  # schools merged from their memos (gsync.mergememo)
    memo_responses: int = 0  # logged responses those schools did not merge again

    @property
    def core_cpu_s(self) -> float:
        """CPU of the issue's core stages (`CORE_STAGES`: not the read and write edges)."""
        return sum(v for k, v in self.stages.items() if k in CORE_STAGES)

    @property
    def core_peak_mb(self) -> float:
        """tracemalloc's peak during the core stages (what they hold and what they inherit)."""
        return max((v for k, v in self.stage_peaks_mb.items() if k in CORE_STAGES), default=0.0)


def fresh_caches() -> None:
    """Empties what gsync's modules remember between calls, so a measured night starts as the
    nightly job does, in a fresh process: every `functools` cache of a loaded gsync module and
    the disclosure check's remembered answers. Without this a night measured after another in
    the same process reuses the earlier night's solved equations and verdicts (the steady night
    measured 0.1-0.2 s under a fresh process's)."""
    for name, module in list(sys.modules.items()):
        if name == "gsync" or name.startswith("gsync."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear) and callable(getattr(value, "cache_info", None)):
                    clear()
    disclosure.forget()


def run_night(
    trust: Trust,
    snapshot: Snapshot,
    raw: Mapping[str, list[dict[str, Any]]],
    clock: Callable[[], float] = time.process_time,
    on_lap: Callable[[str], None] | None = None,
    state_out: dict[str, str] | None = None,
    memo_out: dict[str, int] | None = None,
) -> tuple[dict[str, pd.DataFrame], WritePlan, dict[str, float]]:
    """`run_sync`'s compute on a snapshot and each school's responses (no forms, no I/O).
    `on_lap(stage)` is called as each stage ends (the memory pass records its peak there);
    `state_out` receives the state-tab rows the night leaves (the merge's memos), `memo_out`
    each school merged from its memo and how many logged responses it did not merge again."""
    stages: dict[str, float] = {}
    mark = clock()

    def lap(stage: str) -> None:
        nonlocal mark
        now = clock()
        stages[stage] = stages.get(stage, 0.0) + now - mark
        if on_lap is not None:
            on_lap(stage)
        mark = clock()

    template, rules, config = trust.template, trust.rules, trust.config
    sync_mod.check_template(snapshot, template)
    current = {k: sync_mod.pupil_frame(snapshot, template.tab(k)) for k in sync_mod.PUPIL_TABS}
    tabs = {key: tf.frame for key, tf in current.items()}
    entry_for = deadlines.entry_resolver(rules, config.term_dates)
    withheld = withheld_response_ids(tabs["responses"])
    lap("read frames")
    inputs = [
        merge.SchoolInput(
            sch.name,
            [r for r in raw[sch.name] if r.get("responseId") not in withheld],
            DEFAULT_QUESTION_MAP,
        )
        for sch in config.schools
    ]
    result = merge.plan_sync_many(
        tabs,
        inputs,
        entry_for=entry_for,
        now=NOW,
        template=template,
        memo=mergememo.from_state(snapshot.state),
        memo_key=sync_mod.merge_memo_key(rules, config.term_dates),
    )
    tabs = dict(result.tabs)
    if state_out is not None:
        state_out.update(mergememo.to_state(result.memo))
    if memo_out is not None:
        memo_out.update(result.reused)
    lap("merge")
    as_of = NOW.date()
    tabs["destinations"] = apply_three_attempts(
        tabs["destinations"], tabs["contacts"], rules, config.term_dates, as_of
    )
    tabs["sustained"] = apply_three_attempts_sustained(
        tabs["sustained"], tabs["destinations"], tabs["contacts"], rules, config.term_dates, as_of
    )
    lap("three attempts")
    plan = WritePlan(snapshot)
    for key in sync_mod.PUPIL_TABS:
        tab = template.tab(key)
        plan.update_frame(current[key], tabs[key], writable=sync_mod.owned(tab, "sync"))
    lap("update_frame")
    pupils = deadlines.with_sustained(tabs["destinations"], tabs["sustained"], rules)
    lap("with_sustained")
    # Deadlines, then the Summary tabs (suppression + disclosure check), as the sync writes them.
    sync_mod.write_derived_tabs(
        plan,
        config,
        template,
        rules,
        pupils,
        as_of,
        intentions=tabs.get("intentions"),
        applications=tabs.get("applications"),
    )
    lap("deadlines + summary + disclosure")
    risk_mod.write_risk_tab(plan, template, rules, config.term_dates, tabs, as_of, entries=False)
    lap("risk")
    return tabs, plan, stages


def measure(
    trust: Trust, snapshot: Snapshot, raw: Mapping[str, list[dict[str, Any]]], night: str, *,
    memory: bool = True, state: dict[str, str] | None = None,
) -> tuple[Night, dict[str, pd.DataFrame], WritePlan]:  # fmt: skip
    """CPU (and wall) in one pass, tracemalloc's peak in another (`state`: `run_night`'s)."""
    fresh_caches()
    gc.collect()
    reused: dict[str, int] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    with collector_paused():  # as `run_sync` runs (gsync/batchgc.py)
        tabs, plan, stages = run_night(trust, snapshot, raw, state_out=state, memo_out=reused)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    out = Night(
        trust.pupils,
        sum(len(r) for r in raw.values()),
        night,
        cpu,
        wall,
        requests=len(plan.requests),
        memo_schools=len(reused),
        memo_responses=sum(reused.values()),
    )
    out.stages = {k: round(v, 3) for k, v in stages.items()}
    if memory:
        fresh_caches()
        gc.collect()
        peaks: dict[str, float] = {}

        def stage_peak(stage: str) -> None:
            peaks[stage] = max(peaks.get(stage, 0.0), tracemalloc.get_traced_memory()[1] / 2**20)
            tracemalloc.reset_peak()

        tracemalloc.start()
        try:
            with collector_paused():
                run_night(trust, snapshot, raw, on_lap=stage_peak)
        finally:
            tracemalloc.stop()
        out.stage_peaks_mb = {k: round(v, 1) for k, v in peaks.items()}
        out.peak_mb = max(peaks.values(), default=0.0)
    return out, tabs, plan


def nights(pupil_rows: int, *, memory: bool = True, schools: int = SCHOOLS) -> list[Night]:
    """The first night (every response new) and the steady night after it (a few new)."""
    with tempfile.TemporaryDirectory() as tmp:
        trust = build(pupil_rows, Path(tmp), schools=schools)
    first_raw = {
        s: [r for r in rs if r["responseId"] not in trust.held_back] for s, rs in trust.raw.items()
    }
    state: dict[str, str] = {}
    first, tabs, plan = measure(
        trust, trust.snapshot, first_raw, "first", memory=memory, state=state
    )
    after = with_written_tabs(
        sheet_snapshot(trust.template, tabs, state), plan, [trust.template.tab("risk").title]
    )
    del plan
    steady, _, _ = measure(trust, after, trust.raw, "steady", memory=memory)
    return [first, steady]


def markdown(results: list[Night]) -> str:
    """The results as a Markdown table (CPU split by stage)."""
    stages = list(dict.fromkeys(s for n in results for s in n.stages))
    lines = [
        "| pupil rows | night | responses | CPU | core CPU | wall | peak (tracemalloc) | core peak "
        "| requests | from memos | " + " | ".join(stages) + " |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(stages),
    ]  # fmt: skip
    for n in results:
        cells = [f"{n.stages.get(s, 0):.2f}" for s in stages]
        peak = f"{n.peak_mb:.0f} MB" if n.peak_mb else "-"
        core_peak = f"{n.core_peak_mb:.0f} MB" if n.stage_peaks_mb else "-"
        lines.append(
            f"| {n.pupil_rows} | {n.night} | {n.responses} | {n.cpu_s:.2f} s | "
            f"{n.core_cpu_s:.2f} s | {n.wall_s:.2f} s | {peak} | {core_peak} | {n.requests} | "
            f"{n.memo_schools} schools, {n.memo_responses} responses | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.core_scale", description=__doc__)
    parser.add_argument(
        "--rows", default=",".join(str(s) for s in DEFAULT_SIZES),
        help="pupil-row sizes, comma-separated (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("--schools", type=int, default=SCHOOLS)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results: list[Night] = []
    for size in (int(s) for s in args.rows.split(",") if s.strip()):
        for n in nights(size, memory=not args.no_memory, schools=args.schools):
            results.append(n)
            print(
                f"{n.pupil_rows} rows, {n.night} night: {n.cpu_s:.2f} s CPU "
                f"(core {n.core_cpu_s:.2f} s), {n.peak_mb:.0f} MB peak "
                f"(core {n.core_peak_mb:.0f} MB), {n.requests} requests, "
                f"{n.memo_schools} schools merged from memos",
                file=sys.stderr,
                flush=True,
            )
    print(markdown(results))
    if args.json:
        rows = [
            {**asdict(n), "core_cpu_s": n.core_cpu_s, "core_peak_mb": n.core_peak_mb}
            for n in results
        ]
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
