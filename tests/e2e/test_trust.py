"""`gsync trust aggregate` end to end: seven schools, three of them broken, against the emulator.

Built once per module: the trust spreadsheet holds Hub's pupils (and one stale Alder row); Alder,
Beech and Cedar keep their own spreadsheets; Damson's lost its Destinations tab, Fir's lost a
column, Elm's id does not exist. Every expected figure is worked out by hand from the rows below.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from gsync import sync as sync_mod
from gsync import trust as trust_mod
from gsync.cli import main
from gsync.config import Config, load_config
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.export import tables_from_rows
from gsync.sheetio import WritePlan, apply_plan, read_snapshot, tab_frame
from gsync.sync import load_template
from gsync.workspace import Workspace, workspace_for_endpoint

AS_OF = "2026-01-15"  # intended (autumn week 2) and unvalidated (31 Dec) due; validated not yet
YEAR = "2025"
SCHOOLS = ["Hub", "Alder", "Beech", "Cedar", "Damson", "Elm", "Fir"]
OWN = ["Alder", "Beech", "Cedar", "Damson", "Elm", "Fir"]

CONFIG_HEAD = """\
[trust]
name = "Seven Schools Trust"

[specs]
suppression = "open-policy.toml"
"""

# Aggregation is under test here, not suppression (tests/unit/test_disclosure.py): publish every
# count so each figure can be checked by hand.
OPEN_POLICY = """\
version = 1
threshold = 1
min_base = 0
symbol = "c"
small_percent_symbol = "~"
percent_decimals = 0
"""

TERMS = """
[term_dates.2025-26]
autumn_start = 2025-09-03
autumn_end = 2025-12-19
spring_start = 2026-01-05
spring_end = 2026-03-27
summer_start = 2026-04-13
summer_end = 2026-07-21
"""


def school_block(name: str, urn: int, spreadsheet_id: str | None) -> str:
    sid = f'spreadsheet_id = "{spreadsheet_id}"\n' if spreadsheet_id else ""
    return f'\n[[schools]]\nname = "{name}"\nurn = "{urn}"\nphase = "Y11"\n{sid}'


# Per school: (intended destination, recorded date or "") for 12 pupils. Hand-made so that the
# trust's intended counts are known: Sixth form 6 per school, College 6 or fewer.
def pupils(school: str, n_recorded: int) -> list[dict[str, str]]:
    rows = []
    for i in range(12):
        dest = "Sixth form" if i < 6 else "College"
        recorded = "2025-09-10" if i < n_recorded else ""
        row = {
            "school": school,
            "upn": f"{school[0]}{i:012d}",
            "legal_forename": f"Kid{school}{i}",
            "legal_surname": "Testperson",
            "leaving_year": YEAR,
            "phase": "Y11",
            "send": "N",
            "disadvantaged": "N",
            "eal": "N",
            "looked_after": "N",
            "intended_destination": dest if recorded else "",
            "intended_recorded": recorded,
            "intended_source": "staff" if recorded else "",
        }
        rows.append(row)
    return rows


RECORDED = {"Hub": 12, "Alder": 12, "Beech": 9, "Cedar": 6, "Damson": 12, "Fir": 12}


@dataclass
class Built:
    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    ids: dict[str, str]
    saved: dict[str, Any]

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def restore(self) -> None:
        # The memory store replaces values on commit and never mutates them in place
        # (gsync/emulator/core.py), so a copy of each kind's mapping is a full restore.
        data = self.server.store._data
        data.clear()
        data.update({kind: dict(values) for kind, values in self.saved.items()})
        self.client.clear_log()


def new_sheet(ws: Workspace, base: Config) -> str:
    """A spreadsheet in the template layout (as a school that keeps its own would have)."""
    bare = base.model_copy(
        update={"trust": base.trust.model_copy(update={"spreadsheet_id": None}), "path": None}
    )
    return sync_mod.init_sheet(ws, bare).spreadsheet_id


def fill(ws: Workspace, config: Config, spreadsheet_id: str, rows: list[dict[str, str]]) -> None:
    template = load_template(config)
    snap = read_snapshot(ws, spreadsheet_id)
    current = tab_frame(snap, template.tab("destinations"))
    new = pd.DataFrame(rows).reindex(columns=current.frame.columns, fill_value="")
    plan = WritePlan(snap)
    plan.update_frame(current, new)
    apply_plan(ws, plan, sync_mod.new_state(snap, template, dt.datetime.now(dt.UTC)))


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("trust")
    server = EmulatorServer().start()
    client = EmulatorClient(server.url)
    ws = workspace_for_endpoint(server.url)
    path = tmp / "gsync.toml"
    (tmp / "open-policy.toml").write_text(OPEN_POLICY, encoding="utf-8")
    path.write_text(CONFIG_HEAD + school_block("Hub", 200000, None) + TERMS, encoding="utf-8")
    base = load_config(path)
    ids = {s: new_sheet(ws, base) for s in OWN if s != "Elm"}
    ids["Elm"] = "1NoSuchSpreadsheetIdForElm000000000000000"
    body = CONFIG_HEAD + "".join(
        school_block(s, 200001 + i, ids.get(s)) for i, s in enumerate(SCHOOLS)
    )
    path.write_text(body + TERMS, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(path))  # creates the trust spreadsheet, records its id
    config = load_config(path)
    # The trust spreadsheet: Hub's pupils, plus a stale Alder row its own spreadsheet overrides.
    stale = dict(pupils("Alder", 12)[0], intended_destination="Traineeship")
    fill(ws, config, str(config.trust.spreadsheet_id), [*pupils("Hub", RECORDED["Hub"]), stale])
    for school in ("Alder", "Beech", "Cedar", "Damson", "Fir"):
        fill(ws, config, ids[school], pupils(school, RECORDED[school]))
    # Damson: the Destinations tab deleted. Fir: the intended-destination column renamed.
    damson = read_snapshot(ws, ids["Damson"])
    ws.sheets().http_client.batch_update(
        ids["Damson"],
        {"requests": [{"deleteSheet": {"sheetId": damson.tabs["Destinations"].sheet_id}}]},
    )
    sheet = ws.sheets().open_by_key(ids["Fir"]).worksheet("Destinations")
    header = sheet.row_values(1)
    col = next(i for i, h in enumerate(header) if h.lower().startswith("intended: destination"))
    sheet.update_cell(1, col + 1, "Where they went")
    saved = {kind: dict(values) for kind, values in server.store._data.items()}
    built = Built(server, client, ws, path, ids, saved)
    yield built
    server.stop()


@pytest.fixture
def built(_built: Built) -> Built:
    _built.restore()
    return _built


def run(built: Built, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", built.server.url.removeprefix("http://"))
    return CliRunner().invoke(main, ["--config", str(built.config_path), *args])


def grid(built: Built, title: str) -> list[list[str]]:
    return read_snapshot(built.ws, str(built.config.trust.spreadsheet_id)).grid(title)


def test_aggregate_reads_each_school_once_skips_broken_ones_and_writes_once(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = run(built, monkeypatch, "trust", "aggregate", "--as-of", AS_OF, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data["skipped"]) == {"Damson", "Elm", "Fir"}
    assert "Destinations" in data["skipped"]["Damson"] and "tab" in data["skipped"]["Damson"]
    assert "not found" in data["skipped"]["Elm"]
    assert "intended_destination" in data["skipped"]["Fir"]
    assert data["written"]
    assert {s: data["schools"][s]["pupils"] for s in SCHOOLS} == {
        "Hub": 12,
        "Alder": 12,  # own spreadsheet's 12; the stale trust row for the same pupil is replaced
        "Beech": 12,
        "Cedar": 12,
        "Damson": 0,
        "Elm": 0,
        "Fir": 0,
    }
    log = [e["method"] for e in built.client.log()]
    # One read of the trust spreadsheet and of each school spreadsheet (Elm's fails), one write.
    assert log.count("sheets.spreadsheets.get") == 1 + 6
    assert log.count("sheets.spreadsheets.batchUpdate") == 1

    # Compliance: school x cohort x entry with completion worked out by hand.
    rows = grid(built, "Compliance")
    head = rows[0]
    table = [dict(zip(head, r + [""] * (len(head) - len(r)), strict=True)) for r in rows[1:]]
    intended = {r["school"]: r for r in table if r["entry"] == "intended"}
    assert set(intended) == {"Hub", "Alder", "Beech", "Cedar"}
    assert {s: intended[s]["percent"] for s in intended} == {
        "Hub": "100.0",
        "Alder": "100.0",
        "Beech": "75.0",  # 9 of 12
        "Cedar": "50.0",  # 6 of 12
    }
    assert intended["Hub"]["state"] == "complete" and intended["Beech"]["state"] == "overdue"
    assert intended["Alder"]["source"] == "school spreadsheet"
    assert intended["Hub"]["source"] == "trust spreadsheet"
    assert all(r["leaving_year"] == YEAR for r in intended.values())
    not_read = {r["school"]: r for r in table if r["state"] == "not_read"}
    assert set(not_read) == {"Damson", "Elm", "Fir"}

    # Trust summary: intended destinations of the 48 pupils read, by hand: Sixth form 6 per
    # school = 24; College 6 + 6 + 3 + 0 = 15; not captured 0 + 0 + 3 + 6 = 9.
    summary = tables_from_rows(grid(built, "Trust summary"))["destinations"]
    sel = summary[(summary["entry"] == "intended") & (summary["group"] == "All pupils")]
    got = dict(zip(sel["category"], sel["count"], strict=True))
    assert got["Total"] == 48
    assert got["School sixth form"] == 24
    assert got["Further education college"] == 15
    assert got["Unknown / not captured"] == 9
    assert got["Traineeship"] == 0  # the stale trust-spreadsheet row did not count
    charts = built.ws.sheets().http_client.fetch_sheet_metadata(
        str(built.config.trust.spreadsheet_id),
        params={"fields": "sheets(properties(title,sheetId),charts.chartId)"},
    )
    by_title = {s["properties"]["title"]: s for s in charts["sheets"]}
    assert len(by_title["Trust summary"].get("charts", [])) == 1


def test_second_aggregate_writes_nothing_and_a_deleted_chart_comes_back_once(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(built, monkeypatch, "trust", "aggregate", "--as-of", AS_OF).exit_code == 0
    built.client.clear_log()
    res = run(built, monkeypatch, "trust", "aggregate", "--as-of", AS_OF, "--json")
    assert res.exit_code == 0 and not json.loads(res.output)["written"]
    assert built.client.count(method="sheets.spreadsheets.batchUpdate") == 0
    sid = str(built.config.trust.spreadsheet_id)
    meta = built.ws.sheets().http_client.fetch_sheet_metadata(
        sid, params={"fields": "sheets(properties.title,charts.chartId)"}
    )
    chart_id = next(
        s["charts"][0]["chartId"]
        for s in meta["sheets"]
        if s["properties"]["title"] == "Trust summary"
    )
    built.ws.sheets().http_client.batch_update(
        sid, {"requests": [{"deleteEmbeddedObject": {"objectId": chart_id}}]}
    )
    res = run(built, monkeypatch, "trust", "aggregate", "--as-of", AS_OF, "--json")
    assert json.loads(res.output)["changes"] == ["add chart to 'Trust summary'"]
    meta = built.ws.sheets().http_client.fetch_sheet_metadata(
        sid, params={"fields": "sheets(properties.title,charts.chartId)"}
    )
    counts = {s["properties"]["title"]: len(s.get("charts", [])) for s in meta["sheets"]}
    assert counts["Trust summary"] == 1


def test_dry_run_and_unshared_school(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 403 on a school spreadsheet is reported as not shared; --dry-run writes nothing."""
    real = trust_mod.read_charted

    def forbid_beech(ws: Workspace, spreadsheet_id: str, what: str) -> Any:
        if spreadsheet_id == built.ids["Beech"]:
            raise trust_mod.Unreadable("not shared with gsync (403 permission denied)")
        return real(ws, spreadsheet_id, what)

    monkeypatch.setattr(trust_mod, "read_charted", forbid_beech)
    res = run(built, monkeypatch, "trust", "aggregate", "--as-of", AS_OF, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "Beech: skipped (not shared with gsync (403" in res.output
    assert "Dry run: nothing written" in res.output
    assert built.client.count(method="sheets.spreadsheets.batchUpdate") == 0


def test_read_charted_maps_403_to_not_shared(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator cannot refuse one file, so the HTTP layer's 403 is simulated here."""
    import gspread
    import requests

    response = requests.Response()
    response.status_code = 403
    response._content = (
        b'{"error": {"code": 403, "message": "The caller does not have permission"}}'
    )
    client = built.ws.sheets().http_client

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise gspread.exceptions.APIError(response)

    monkeypatch.setattr(client, "request", refuse)
    with pytest.raises(trust_mod.Unreadable, match="not shared"):
        trust_mod.read_charted(built.ws, built.ids["Alder"], "Reading")


def test_nightly_sync_aggregates_in_its_one_write(built: Built) -> None:
    """`gsync sync` reads each school spreadsheet once and puts Trust summary + Compliance into the
    trust spreadsheet's single write: 2 requests on the trust spreadsheet for the whole job."""
    now = dt.datetime.fromisoformat(AS_OF + "T02:30:00+00:00")
    report = sync_mod.run_sync(built.ws, built.config, now=now)
    assert set(report.unread) == {"Damson", "Elm", "Fir"}
    log = [e["method"] for e in built.client.log()]
    assert log.count("sheets.spreadsheets.get") == 1 + 6
    assert log.count("sheets.spreadsheets.batchUpdate") == 1
    rows = grid(built, "Compliance")
    schools = {r[0] for r in rows[1:]}
    assert {"Hub", "Alder", "Beech", "Cedar"} <= schools
    summary = tables_from_rows(grid(built, "Trust summary"))["destinations"]
    sel = summary[(summary["entry"] == "intended") & (summary["group"] == "All pupils")]
    assert dict(zip(sel["category"], sel["count"], strict=True))["Total"] == 48
    built.client.clear_log()
    again = sync_mod.run_sync(built.ws, built.config, now=now)
    assert not again.written
