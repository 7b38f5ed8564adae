"""Forms v1 through the real HTTP server and the real google-api-python-client."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httplib2
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient, EmulatorError


@pytest.fixture
def service(server: EmulatorServer) -> Any:
    return build(
        "forms",
        "v1",
        http=httplib2.Http(),
        client_options={"api_endpoint": server.url + "/"},
        static_discovery=True,
    )


def status_of(request: Any) -> int:
    with pytest.raises(HttpError) as info:
        request.execute()
    return int(info.value.resp.status)


def make_form(service: Any) -> str:
    form = service.forms().create(body={"info": {"title": "Form A"}}).execute()
    service.forms().batchUpdate(
        formId=form["formId"],
        body={
            "requests": [
                {
                    "createItem": {
                        "item": {
                            "title": "Full name",
                            "questionItem": {
                                "question": {
                                    "questionId": "0000000a",
                                    "required": True,
                                    "textQuestion": {},
                                }
                            },
                        },
                        "location": {"index": 0},
                    }
                },
                {
                    "createItem": {
                        "item": {
                            "title": "Destination",
                            "questionItem": {
                                "question": {
                                    "questionId": "0000000b",
                                    "choiceQuestion": {
                                        "type": "RADIO",
                                        "options": [{"value": "College"}, {"isOther": True}],
                                    },
                                }
                            },
                        },
                        "location": {"index": 1},
                    }
                },
            ]
        },
    ).execute()
    return str(form["formId"])


def test_lifecycle_through_the_client(service: Any, control: EmulatorClient) -> None:
    form_id = make_form(service)
    with pytest.raises(EmulatorError, match="403"):
        control.submit_response(form_id, {"0000000a": "x"})
    service.forms().setPublishSettings(
        formId=form_id,
        body={
            "publishSettings": {
                "publishState": {"isPublished": True, "isAcceptingResponses": True}
            },
            "updateMask": "publishState",
        },
    ).execute()
    control.set_clock(datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    first = control.submit_response(form_id, {"0000000a": "x", "0000000b": "Gap year"})
    second = control.submit_response(
        form_id, {"0000000a": "y"}, submitted_at=datetime(2026, 7, 2, 10, 0, tzinfo=UTC)
    )
    assert first["createTime"] == "2026-07-01T10:00:00.000000Z"
    responses = service.forms().responses()
    page = responses.list(formId=form_id, pageSize=1).execute()
    assert [r["responseId"] for r in page["responses"]] == [first["responseId"]]
    rest = responses.list(formId=form_id, pageToken=page["nextPageToken"]).execute()
    assert [r["responseId"] for r in rest["responses"]] == [second["responseId"]]
    newer = responses.list(formId=form_id, filter="timestamp > 2026-07-01T12:00:00Z").execute()
    assert [r["responseId"] for r in newer["responses"]] == [second["responseId"]]
    got = responses.get(formId=form_id, responseId=first["responseId"]).execute()
    assert got["answers"]["0000000b"]["textAnswers"]["answers"] == [{"value": "Gap year"}]
    assert (
        status_of(responses.list(formId=form_id, filter="timestamp < 2026-07-01T00:00:00Z")) == 400
    )


def test_submission_errors_in_google_shape(service: Any, control: EmulatorClient, api: Any) -> None:
    form_id = make_form(service)
    answer = api.post(f"/_emulator/forms/{form_id}/responses", json={"answers": {}})
    assert answer.status_code == 403
    assert answer.json()["error"]["status"] == "PERMISSION_DENIED"
    missing = api.post("/_emulator/forms/nope/responses", json={"answers": {}})
    assert missing.status_code == 404


def test_create_refuses_items_and_batch_is_atomic(service: Any) -> None:
    forms = service.forms()
    assert status_of(forms.create(body={"info": {"title": "t"}, "items": [{"title": "x"}]})) == 400
    form_id = make_form(service)
    before = forms.get(formId=form_id).execute()
    bad = {
        "requests": [
            {"deleteItem": {"location": {"index": 0}}},
            {"moveItem": {"originalLocation": {"index": 0}, "newLocation": {"index": 7}}},
        ]
    }
    with pytest.raises(HttpError) as info:
        forms.batchUpdate(formId=form_id, body=bad).execute()
    assert info.value.resp.status == 400 and "requests[1]" in str(info.value)
    assert forms.get(formId=form_id).execute() == before


def test_stale_revision_is_refused(service: Any) -> None:
    forms = service.forms()
    form_id = make_form(service)
    rev = forms.get(formId=form_id).execute()["revisionId"]
    update = {"updateFormInfo": {"info": {"description": "d"}, "updateMask": "description"}}
    body: dict[str, Any] = {"requests": [update], "writeControl": {"requiredRevisionId": rev}}
    forms.batchUpdate(formId=form_id, body=body).execute()
    assert status_of(forms.batchUpdate(formId=form_id, body=body)) == 400


def test_watches_are_not_implemented(service: Any) -> None:
    assert status_of(service.forms().watches().list(formId="x")) == 501
