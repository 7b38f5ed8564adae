"""Real gspread and google-api-python-client calls, made through gsync's own factories
(`gsync.workspace`), round-trip against the emulator; bounded retry and error translation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import gspread
import pytest

from gsync.errors import GoogleApiError, NotFoundError
from gsync.google.retry import RetryPolicy
from gsync.workspace import Workspace, workspace_for_endpoint


def test_sheets_round_trip_raw_and_user_entered(workspace: Workspace) -> None:
    gc = workspace.sheets()
    sh = gc.create("Round trip")
    tab = sh.add_worksheet("Leavers 2026", rows=20, cols=5)
    tab.update([["=1+1", "+44", "@x"]], "A1", value_input_option="RAW")
    tab.update([["=1+1", "TRUE", "'=kept"]], "A2", value_input_option="USER_ENTERED")
    values = sh.values_batch_get(
        ["'Leavers 2026'!A1:C2", "'Leavers 2026'!A1:A1"], params={"valueRenderOption": "FORMULA"}
    )
    ranges = values["valueRanges"]
    assert ranges[0]["values"][0] == ["=1+1", "+44", "@x"]
    assert ranges[0]["values"][1][0] == "=1+1"
    grid = sh.fetch_sheet_metadata(
        params={
            "includeGridData": "true",
            "ranges": "'Leavers 2026'!A1:C2",
            "fields": "sheets.data.rowData.values.userEnteredValue",
        }
    )
    rows = grid["sheets"][0]["data"][0]["rowData"]
    assert rows[0]["values"][0]["userEnteredValue"] == {"stringValue": "=1+1"}  # RAW: text
    assert rows[1]["values"][0]["userEnteredValue"] == {
        "formulaValue": "=1+1"
    }  # USER_ENTERED: formula
    assert rows[1]["values"][1]["userEnteredValue"] == {"boolValue": True}
    assert rows[1]["values"][2]["userEnteredValue"] == {"stringValue": "=kept"}


def test_forms_round_trip_publish_submit_page_filter(workspace: Workspace, emulator: Any) -> None:
    forms = workspace.forms().forms()
    form = workspace.execute(forms.create(body={"info": {"title": "Form A"}}))
    form_id = form["formId"]
    assert form["publishSettings"]["publishState"]["isAcceptingResponses"] is False
    items = [
        {"title": "Destination", "questionItem": {"question": {"required": True, "choiceQuestion": {
            "type": "RADIO", "options": [{"value": "College"}, {"value": "Apprenticeship"}, {"isOther": True}]}}}},
        {"title": "Start date", "questionItem": {"question": {"dateQuestion": {"includeYear": True}}}},
        {"title": "Provider", "questionItem": {"question": {"textQuestion": {}}}},
    ]  # fmt: skip
    requests = [
        {"createItem": {"item": item, "location": {"index": i}}} for i, item in enumerate(items)
    ]
    reply = workspace.execute(forms.batchUpdate(formId=form_id, body={"requests": requests}))
    qids = [r["createItem"]["questionId"][0] for r in reply["replies"]]
    # Unpublished forms take no responses.
    with pytest.raises(Exception, match=r"accept|publish"):
        emulator.client.submit_response(form_id, {qids[0]: "College"})
    publish = {
        "publishSettings": {"publishState": {"isPublished": True, "isAcceptingResponses": True}},
        "updateMask": "publishState",
    }
    workspace.execute(forms.setPublishSettings(formId=form_id, body=publish))
    base = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    for n in range(7):
        answers = {
            qids[0]: "Gap year" if n == 3 else "College",
            qids[1]: "2026-09-01",
            qids[2]: f"P{n}",
        }
        emulator.client.submit_response(form_id, answers, submitted_at=base + dt.timedelta(days=n))
    seen: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"formId": form_id, "pageSize": 3}
        if token:
            kwargs["pageToken"] = token
        page = workspace.execute(forms.responses().list(**kwargs))
        seen.extend(page["responses"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(seen) == 7 and len({r["responseId"] for r in seen}) == 7
    other = [
        r for r in seen if r["answers"][qids[0]]["textAnswers"]["answers"][0]["value"] == "Gap year"
    ]
    assert len(other) == 1
    cut = (base + dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = workspace.execute(forms.responses().list(formId=form_id, filter=f"timestamp >= {cut}"))
    assert len(later["responses"]) == 3
    with pytest.raises(GoogleApiError, match="400"):
        workspace.execute(forms.responses().list(formId=form_id, filter="createTime > 2026"))


def test_bounded_retry_through_the_factories(emulator: Any) -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_s=0.001, cap_s=0.01, sleep=waits.append)
    ws = workspace_for_endpoint(emulator.url, policy=policy)
    emulator.client.inject(
        "drive.files.create", status=503, count=2
    )  # gspread creates through Drive
    sh = ws.sheets().create("after two 503s")
    assert sh.id and len(waits) == 2
    emulator.client.inject("forms.forms.create", status=429, count=5)
    with pytest.raises(GoogleApiError, match="quota"):
        ws.execute(ws.forms().forms().create(body={"info": {"title": "x"}}))
    emulator.client.clear_faults()
    emulator.client.inject("drive.files.list", reset=True, count=1)
    listed = ws.execute(ws.drive().files().list(q="trashed = false"))
    assert "files" in listed


def test_missing_things_become_clear_errors(workspace: Workspace) -> None:
    with pytest.raises(NotFoundError, match=r"gsync\.toml"):
        workspace.execute(workspace.forms().forms().get(formId="no-such-form"))
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        workspace.sheets().open_by_key("no-such-sheet")
