"""The fault-injection lab shared by the fast subset (`make test`) and the soak (`make soak`).

One trust is built per lab on an emulator running in a thread of the test process. Its starting
state S0 holds a first sync, staff edits on pupils who then answer again, and new responses: the
next sync has real work to do. `baseline` is S0 plus one fault-free sync at `NOW`. A scenario
restores S0, runs the sync under faults (or as a subprocess killed at a random moment), then runs
once cleanly, and compares every pupil-level tab with the baseline as multisets of rows (so a lost
or a duplicated row both show).
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httplib2
import requests

from gsync.emulator.server import EmulatorServer
from gsync.errors import GsyncError
from gsync.responses import CONSENT_YES
from gsync.sync import run_sync
from tests.reliability.helpers import SmallTrust, answers, frames, row_multiset, seed_trust

#: The clock of every run: what `gsync sync --as-of 2026-07-10` uses (noon UTC).
NOW = dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC)
AS_OF = "2026-07-10"
COMPARED_TABS = ("destinations", "responses", "contacts", "exceptions")
STAFF_NOTE = "Staff note {n}: phoned home"
STAFF_PROVIDER = "Staff-corrected Provider {n}"


@dataclass
class Figures:
    """What the soak reports: scenarios, faults injected, rows compared, anything lost."""

    scenarios: int = 0
    faults: int = 0
    kills: int = 0
    rows_compared: int = 0
    lost: int = 0
    duplicated: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


class FaultLab:
    """A trust in state S0 and its fault-free result; scenarios run against copies of S0."""

    def __init__(self, tmp: Path, pupils: int = 24, responses: int = 30, seed: int = 5) -> None:
        self.server = EmulatorServer().start()
        self.trust: SmallTrust = seed_trust(
            self.server.url, tmp, pupils=pupils, responses=responses, seed=seed
        )
        self.staff_upns = self._prepare_s0()
        self.s0 = copy.deepcopy(self.server.store._data)  # type: ignore[attr-defined]
        run_sync(self.trust.ws, self.trust.config, now=NOW)
        self.baseline = self.compared()
        self.restore()
        self.figures = Figures()

    def close(self) -> None:
        self.server.stop()

    # -- state
    def _prepare_s0(self) -> list[str]:
        """First sync (a day earlier), staff edits on three answered pupils, who answer again."""
        trust = self.trust
        run_sync(trust.ws, trust.config, now=NOW - dt.timedelta(days=1))
        dest = frames(trust.ws, trust.config)["destinations"]
        answered = dest.index[dest["current_intended_destination"] != ""][:3]
        sheet = trust.ws.sheets().open_by_key(str(trust.config.trust.spreadsheet_id))
        tab = sheet.worksheet("Destinations")
        header = tab.row_values(1)
        notes = header.index("Notes") + 1
        provider = next(
            i + 1
            for i, h in enumerate(header)
            if h.lower().startswith("current intended") and "provider" in h.lower()
        )
        upns: list[str] = []
        by_upn = {p.upn: p for p in trust.sample.pupils}
        for n, row in enumerate(answered):
            upn = str(dest.at[row, "upn"])
            upns.append(upn)
            tab.update_cell(int(row) + 2, notes, STAFF_NOTE.format(n=n))
            tab.update_cell(int(row) + 2, provider, STAFF_PROVIDER.format(n=n))
            pupil = by_upn[upn]
            trust.client.submit_response(
                trust.form_id(),
                answers(
                    trust,
                    {
                        "full_name": f"{pupil.legal_forename} {pupil.legal_surname}",
                        "date_of_birth": pupil.date_of_birth,
                        "leaving_year": str(pupil.leaving_year),
                        "destination": "Apprenticeship",
                        "provider": f"New Provider {n}",
                        "consent": CONSENT_YES,
                    },
                ),
                respondent_email=pupil.school_email,
                submitted_at=NOW - dt.timedelta(hours=6 + n),
            )
        return upns

    def restore(self) -> None:
        data = self.server.store._data  # type: ignore[attr-defined]
        with self.server.store._lock:  # type: ignore[attr-defined]
            data.clear()
            data.update(copy.deepcopy(self.s0))
        self.server.controls.reset()

    def compared(self) -> dict[str, list[tuple[str, ...]]]:
        tabs = frames(self.trust.ws, self.trust.config)
        return {key: row_multiset(tabs[key]) for key in COMPARED_TABS}

    # -- checks
    def check(self, label: str) -> bool:
        """After the faulted run(s): one clean run, then the tabs must equal the baseline.
        Returns whether the clean run had anything left to write."""
        self.server.controls.reset()
        written = run_sync(self.trust.ws, self.trust.config, now=NOW).written
        got = self.compared()
        for key in COMPARED_TABS:
            want, have = self.baseline[key], got[key]
            self.figures.rows_compared += len(want)
            missing = _minus(want, have)
            extra = _minus(have, want)
            self.figures.lost += len(missing)
            self.figures.duplicated += len(extra)
            assert not missing and not extra, (
                f"{label}: tab {key} differs from the fault-free run: "
                f"{len(missing)} row(s) lost or changed, {len(extra)} extra"
            )
        tabs = frames(self.trust.ws, self.trust.config)
        dest = tabs["destinations"]
        assert dest["upn"].is_unique and tabs["responses"]["response_id"].is_unique, label
        for n, upn in enumerate(self.staff_upns):
            row = dest[dest["upn"] == upn].iloc[0]
            assert row["notes"] == STAFF_NOTE.format(n=n), f"{label}: staff note overwritten"
            assert row["current_intended_provider"] == STAFF_PROVIDER.format(n=n), label
        self.figures.scenarios += 1
        return written

    # -- scenarios
    def faulted_run(self, seed: int) -> str:
        """One sync under seeded server-side and client-side faults; returns its outcome."""
        rng = random.Random(seed)
        controls = self.server.controls
        controls.configure(fault_rate=rng.choice((0.0, 0.1, 0.2, 0.3)), seed=seed)
        methods = (
            "sheets.spreadsheets.get",
            "sheets.spreadsheets.batchUpdate",
            "forms.forms.get",
            "forms.forms.responses.list",
            "*",
        )
        for _ in range(rng.randint(1, 3)):
            match = rng.choice(methods)
            if rng.random() < 0.25:
                controls.inject(match, reset=True, count=rng.randint(1, 2))
            else:
                controls.inject(match, status=rng.choice((429, 500, 503)), count=rng.randint(1, 3))
        timeouts = TimeoutInjector(rng, rate=rng.choice((0.0, 0.1, 0.25)))
        before = len(controls.log)
        try:
            with timeouts.installed():
                report = run_sync(self.trust.ws, self.trust.config, now=NOW)
            outcome = "written" if report.written else "nothing"
        except GsyncError as exc:
            outcome = f"exit {exc.exit_code}"
        injected = sum(1 for e in controls.log[before:] if e["status"] in (0, 429, 500, 503))
        self.figures.faults += injected + timeouts.injected
        self.figures.count(outcome)
        return outcome

    def killed_run(self, seed: int, tmp: Path) -> str:
        """`python -m gsync sync` as a real process, SIGKILLed after a seeded delay."""
        rng = random.Random(seed)
        self.server.controls.configure(latency_ms=rng.choice((0, 20, 60)))
        proc = start_sync(self.trust, tmp)
        delay = rng.uniform(0.2, 8.0)
        try:
            proc.wait(timeout=delay)
            outcome = f"finished {proc.returncode}"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            outcome = "killed"
            self.figures.kills += 1
            self.figures.faults += 1
        self.figures.count(outcome)
        return outcome


def _minus(a: list[tuple[str, ...]], b: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Multiset difference a - b."""
    left: dict[tuple[str, ...], int] = {}
    for row in b:
        left[row] = left.get(row, 0) + 1
    out = []
    for row in a:
        if left.get(row, 0):
            left[row] -= 1
        else:
            out.append(row)
    return out


def sync_env(trust: SmallTrust) -> dict[str, str]:
    env = dict(os.environ)
    env["GSYNC_EMULATOR_HOST"] = trust.url.removeprefix("http://")
    env["GSYNC_RETRY_BASE_S"] = "0.01"
    return env


def start_sync(trust: SmallTrust, tmp: Path, *extra: str) -> subprocess.Popen[str]:
    """`python -m gsync sync --as-of AS_OF --json` against the lab's emulator."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gsync",
            "--config",
            str(trust.config_path),
            "sync",
            "--as-of",
            AS_OF,
            "--json",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=sync_env(trust),
        cwd=tmp,
    )


class TimeoutInjector:
    """Client-side timeouts at seeded random requests, before the request is sent (nothing
    happened) or after the answer came back (the server acted, the client never heard)."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng = rng
        self.rate = rate
        self.injected = 0

    def _roll(self, url: str) -> str | None:
        if self.rate <= 0 or "/_emulator/" in url or self.rng.random() >= self.rate:
            return None
        self.injected += 1
        return self.rng.choice(("before", "after"))

    @contextmanager
    def installed(self) -> Iterator[None]:
        real_requests = requests.Session.request
        real_httplib2 = httplib2.Http.request
        injector = self

        def fake_requests(session: Any, method: str, url: str, *a: Any, **k: Any) -> Any:
            when = injector._roll(str(url))
            if when == "before":
                raise requests.Timeout("injected timeout before sending")
            response = real_requests(session, method, url, *a, **k)
            if when == "after":
                raise requests.Timeout("injected timeout: the answer was lost")
            return response

        def fake_httplib2(http: Any, uri: str, *a: Any, **k: Any) -> Any:
            when = injector._roll(str(uri))
            if when == "before":
                raise TimeoutError("injected timeout before sending")
            response = real_httplib2(http, uri, *a, **k)
            if when == "after":
                raise TimeoutError("injected timeout: the answer was lost")
            return response

        requests.Session.request = fake_requests  # type: ignore[method-assign,assignment]
        httplib2.Http.request = fake_httplib2  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            requests.Session.request = real_requests  # type: ignore[method-assign]
            httplib2.Http.request = real_httplib2  # type: ignore[method-assign]


def barrier_before_writes(server: EmulatorServer, readers: int, timeout_s: float = 90.0) -> None:
    """Hold every batchUpdate until `readers` spreadsheets.get requests have been answered, so
    concurrent runs really overlap (all read before any writes) however the OS schedules them."""
    controls = server.controls
    real_take: Callable[[str, str], Any] = controls.take_fault

    def take(api: str, method_id: str) -> Any:
        if method_id == "sheets.spreadsheets.batchUpdate":
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                with controls._lock:
                    done = sum(
                        1
                        for e in controls.log
                        if e["method"] == "sheets.spreadsheets.get" and e["status"] == 200
                    )
                if done >= readers:
                    break
                time.sleep(0.05)
        return real_take(api, method_id)

    controls.take_fault = take  # type: ignore[method-assign]


def remove_barrier(server: EmulatorServer) -> None:
    server.controls.__dict__.pop("take_fault", None)
