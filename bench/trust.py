"""Build a synthetic trust on the emulator: N schools x cohorts x pupils, Form A answered.

Setup uses the public gsync functions (sheet init, form create) and the emulator's test-only route
to submit responses (as `gsync.demo.submit_sample` does); it is not part of any measurement.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gsync import sync as sync_mod
from gsync.config import Config, load_config
from gsync.demo import SAMPLE_TERM_DATES, submit_sample
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.formsync import create_form
from gsync.roster import apply_roster, read_roster
from gsync.sample import Sample, make_sample
from gsync.sheetio import WritePlan, apply_plan, read_snapshot
from gsync.workspace import Workspace, workspace_for_endpoint

#: The night the benchmark's job runs (summer term: every entry kind is live somewhere).
NOW = dt.datetime(2026, 7, 10, 2, 30, tzinfo=dt.UTC)
#: Three live cohorts: last two years' leavers and this year's.
COHORTS = (2024, 2025, 2026)
#: Share of each cohort that answered Form A (older cohorts were asked more often).
RESPONSE_RATES = (0.95, 0.9, 0.75)

TERM_DATES = (
    """
[term_dates.2023-24]
autumn_start = 2023-09-05
autumn_end = 2023-12-20
spring_start = 2024-01-08
spring_end = 2024-03-28
summer_start = 2024-04-15
summer_end = 2024-07-23

"""
    + SAMPLE_TERM_DATES
)


def school_name(i: int) -> str:
    return f"School {i + 1:02d}"


def school_phase(i: int) -> str:
    """Every fourth school is a sixth form (Y13 leavers, the longer form)."""
    return "Y13" if i % 4 == 3 else "Y11"


def config_text(schools: int) -> str:
    """gsync.toml for a trust of `schools` schools (no spreadsheet or forms yet)."""
    parts = [
        "# The benchmark's synthetic trust (bench/trust.py).\n",
        '[trust]\nname = "Benchmark Learning Trust"\ndomains = ["bench.sch.uk"]\n',
    ]
    for i in range(schools):
        parts.append(
            f'\n[[schools]]\nname = "{school_name(i)}"\nurn = "{200001 + i}"\n'
            f'phase = "{school_phase(i)}"\ncareers_leader = "Careers Lead {i + 1}"\n'
            f'careers_email = "careers{i + 1}@bench.sch.uk"\n'
            f'email_domain = "pupils.s{i + 1:02d}.bench.sch.uk"\n'
        )
    parts.append(TERM_DATES)
    return "".join(parts)


@dataclass
class BenchTrust:
    """A populated trust on a running emulator, restorable to its pre-sync state."""

    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    samples: dict[str, list[Sample]]
    saved: dict[str, Any] = field(default_factory=dict)
    submitted: int = 0

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    @property
    def pupils(self) -> int:
        return sum(len(s.pupils) for samples in self.samples.values() for s in samples)

    def save(self) -> None:
        """Remember the emulator's state (the night before the job runs)."""
        self.saved = copy.deepcopy(self.server.store._data)

    def restore(self) -> None:
        """Back to the saved state, with no controls and an empty request log."""
        data = self.server.store._data
        data.clear()
        data.update(copy.deepcopy(self.saved))
        self.client.configure(latency_ms=0, quotas={})
        self.client.clear_log()

    def stop(self) -> None:
        self.server.stop()


def make_samples(schools: int, pupils: int, seed: int = 1) -> dict[str, list[Sample]]:
    """Seeded rosters and answers per school and cohort; UPNs unique across the trust."""
    out: dict[str, list[Sample]] = {}
    seen: set[str] = set()
    for i in range(schools):
        name = school_name(i)
        out[name] = []
        for c, year in enumerate(COHORTS):
            smp = make_sample(
                seed=seed * 10_000 + i * 10 + c,
                pupils=pupils,
                responses=max(int(pupils * RESPONSE_RATES[c % len(RESPONSE_RATES)]), 5),
                school=name,
                phase=school_phase(i),
                leaving_year=year,
                email_domain=f"pupils.s{i + 1:02d}.bench.sch.uk",
            )
            # Two generated UPNs can collide across schools; such a pupil stays off the roster
            # (their answers become unmatched exceptions, which a real trust also has).
            kept = tuple(p for p in smp.pupils if p.upn not in seen)
            seen.update(p.upn for p in kept)
            out[name].append(replace(smp, pupils=kept))
    return out


def import_rosters(
    ws: Workspace, config: Config, samples: dict[str, list[Sample]], tmp: Path
) -> None:
    """Every school's roster into Destinations in one read and one write (setup only)."""
    template = sync_mod.load_template(config)
    snapshot = read_snapshot(ws, sync_mod.trust_spreadsheet_id(config))
    dest_tab = template.tab("destinations")
    current = sync_mod.pupil_frame(snapshot, dest_tab)
    frame = current.frame
    for name, cohorts in samples.items():
        school = config.school(name)
        pupils = tuple(p for s in cohorts for p in s.pupils)
        path = tmp / f"roster-{school.urn}.csv"
        path.write_bytes(replace(cohorts[0], pupils=pupils).roster_csv())
        result = read_roster(path, school=school.name, phase=school.phase)
        if result.errors:
            raise RuntimeError(f"synthetic roster of {name} has {len(result.errors)} problem(s)")
        frame, _counts = apply_roster(frame, result.frame)
    plan = WritePlan(snapshot)
    plan.update_frame(current, frame, writable=sync_mod.owned(dest_tab, "sync"))
    apply_plan(ws, plan, sync_mod.new_state(snapshot, template, NOW))


def build_trust(tmp: Path, schools: int, pupils: int, seed: int = 1) -> BenchTrust:
    """Start an emulator and build the trust: sheet, forms, rosters, submitted answers."""
    server = EmulatorServer().start()
    client = EmulatorClient(server.url, timeout=600)
    ws = workspace_for_endpoint(server.url)
    tmp.mkdir(parents=True, exist_ok=True)
    config_path = tmp / "gsync.toml"
    config_path.write_text(config_text(schools), encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path), now=NOW)
    for i in range(schools):
        create_form(ws, load_config(config_path), school_name(i))
    samples = make_samples(schools, pupils, seed)
    config = load_config(config_path)
    import_rosters(ws, config, samples, tmp)
    trust = BenchTrust(server, client, ws, config_path, samples)
    for name, cohorts in samples.items():
        school = config.school(name)
        for smp in cohorts:
            counts = submit_sample(client, str(school.form_id), dict(school.form_questions), smp)
            trust.submitted += counts["submitted"]
    trust.save()
    client.clear_log()
    return trust
