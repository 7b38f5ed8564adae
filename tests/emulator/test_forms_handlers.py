"""Forms v1 handlers, called directly on an in-memory store (no HTTP server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gsync.emulator import forms
from gsync.emulator.core import HANDLERS, MIME_FORM, ApiError, MemoryStore, Request

T0 = datetime(2026, 7, 1, 9, 0, 0, tzinfo=UTC)


class Api:
    """Calls handlers the way the framework will: one transaction per call."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.now = T0

    def call(
        self,
        method_id: str,
        body: Any = None,
        query: dict[str, Any] | None = None,
        **path: str,
    ) -> Any:
        q = {k: [str(v)] for k, v in (query or {}).items()}
        with self.store.transaction() as tx:
            req = Request("forms", method_id, path, q, body, tx, now=self.now)
            return HANDLERS[method_id](req)

    def submit(self, form_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.transaction() as tx:
            return forms.submit_response(tx, form_id, body, self.now)

    def get(self, kind: str, key: str) -> Any:
        with self.store.transaction() as tx:
            return tx.get(kind, key)


def error(fn: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def api() -> Api:
    return Api()


def new_form(api: Api) -> str:
    form = api.call("forms.forms.create", {"info": {"title": "Form A", "documentTitle": "Doc A"}})
    return str(form["formId"])


def radio(values: list[str], other: bool = False, kind: str = "RADIO") -> dict[str, Any]:
    options: list[dict[str, Any]] = [{"value": v} for v in values]
    if other:
        options.append({"isOther": True})
    return {"choiceQuestion": {"type": kind, "options": options}}


def create_item(index: int, question: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "createItem": {
            "item": {"title": "Q", "questionItem": {"question": {**question, **extra}}},
            "location": {"index": index},
        }
    }


def batch(api: Api, form_id: str, *requests: dict[str, Any], **body: Any) -> Any:
    return api.call("forms.forms.batchUpdate", {"requests": list(requests), **body}, formId=form_id)


def publish(api: Api, form_id: str) -> None:
    api.call(
        "forms.forms.setPublishSettings",
        {
            "publishSettings": {
                "publishState": {"isPublished": True, "isAcceptingResponses": True}
            },
            "updateMask": "publishState",
        },
        formId=form_id,
    )


# --- create / get ------------------------------------------------------------------------


def test_create_sets_google_fields_and_starts_unpublished(api: Api) -> None:
    form = api.call(
        "forms.forms.create", {"info": {"title": "T", "documentTitle": "D"}}, {"unpublished": False}
    )
    form_id = form["formId"]
    assert form["info"] == {"title": "T", "documentTitle": "D"}
    assert form["responderUri"] == f"https://docs.google.com/forms/d/e/{form_id}/viewform"
    assert form["settings"]["emailCollectionType"] == "DO_NOT_COLLECT"
    assert form["publishSettings"]["publishState"] == {
        "isPublished": False,
        "isAcceptingResponses": False,
    }
    assert "items" not in form and form["revisionId"]
    drive_file = api.get("files", form_id)
    assert drive_file["mimeType"] == MIME_FORM and drive_file["name"] == "D"
    assert api.call("forms.forms.get", formId=form_id) == form


@pytest.mark.parametrize(
    "body",
    [
        {"info": {"title": "T", "description": "d"}},
        {"info": {"title": "T"}, "items": [{"textItem": {}}]},
        {"info": {"title": "T"}, "settings": {"emailCollectionType": "VERIFIED"}},
    ],
)
def test_create_refuses_anything_but_titles(api: Api, body: dict[str, Any]) -> None:
    err = error(api.call, "forms.forms.create", body)
    assert err.code == 400
    with api.store.transaction() as tx:
        assert tx.keys("forms") == [] and tx.keys("files") == []


def test_get_unknown_form_is_404(api: Api) -> None:
    assert error(api.call, "forms.forms.get", formId="nope").code == 404


# --- batchUpdate -------------------------------------------------------------------------


def test_create_item_reply_shape_and_ids(api: Api) -> None:
    form_id = new_form(api)
    result = batch(
        api,
        form_id,
        create_item(0, {"textQuestion": {}}, required=True),
        create_item(1, radio(["Yes", "No"])),
        {"updateFormInfo": {"info": {"description": "intro"}, "updateMask": "description"}},
    )
    first, second, third = result["replies"]
    assert third == {}
    assert set(first["createItem"]) == {"itemId", "questionId"}
    for reply in (first, second):
        (qid,) = reply["createItem"]["questionId"]
        assert len(qid) == 8 and int(qid, 16) >= 0
    form = api.call("forms.forms.get", formId=form_id)
    assert [i["itemId"] for i in form["items"]] == [
        first["createItem"]["itemId"],
        second["createItem"]["itemId"],
    ]
    assert form["info"]["description"] == "intro"
    assert result["writeControl"]["requiredRevisionId"] == form["revisionId"]


def test_caller_ids_kept_and_must_be_unused(api: Api) -> None:
    form_id = new_form(api)
    reply = batch(api, form_id, create_item(0, {"textQuestion": {}}, questionId="0000abcd"))
    assert reply["replies"][0]["createItem"]["questionId"] == ["0000abcd"]
    err = error(batch, api, form_id, create_item(1, {"textQuestion": {}}, questionId="0000abcd"))
    assert err.code == 400 and "requests[0]" in err.message


@pytest.mark.parametrize(
    "question",
    [
        radio([]),
        radio(["A", "A"]),
        radio(["A"], other=True, kind="DROP_DOWN"),
        {"choiceQuestion": {"type": "RADIO", "options": [{"isOther": True}, {"isOther": True}]}},
        {"choiceQuestion": {"options": [{"value": "A"}]}},
        {"textQuestion": {}, "dateQuestion": {}},
        {},
        {"fileUploadQuestion": {"folderId": "x"}},
    ],
)
def test_invalid_questions_refused(api: Api, question: dict[str, Any]) -> None:
    form_id = new_form(api)
    assert error(batch, api, form_id, create_item(0, question)).code == 400


def test_is_other_allowed_on_checkbox(api: Api) -> None:
    form_id = new_form(api)
    batch(api, form_id, create_item(0, radio(["A", "B"], other=True, kind="CHECKBOX")))
    options = api.call("forms.forms.get", formId=form_id)["items"][0]["questionItem"]["question"]
    assert options["choiceQuestion"]["options"][-1] == {"isOther": True}


def test_batch_is_atomic_and_names_the_failing_index(api: Api) -> None:
    form_id = new_form(api)
    before = api.call("forms.forms.get", formId=form_id)
    err = error(
        batch,
        api,
        form_id,
        create_item(0, {"textQuestion": {}}),
        create_item(5, {"textQuestion": {}}),
    )
    assert err.code == 400 and "requests[1]" in err.message
    assert api.call("forms.forms.get", formId=form_id) == before


def test_location_index_bounds(api: Api) -> None:
    form_id = new_form(api)
    batch(api, form_id, create_item(0, {"textQuestion": {}}))
    batch(api, form_id, create_item(1, {"textQuestion": {}}))  # index == len is allowed
    assert error(batch, api, form_id, create_item(3, {"textQuestion": {}})).code == 400
    assert error(batch, api, form_id, {"deleteItem": {"location": {"index": 2}}}).code == 400


def test_required_revision_id(api: Api) -> None:
    form_id = new_form(api)
    rev0 = api.call("forms.forms.get", formId=form_id)["revisionId"]
    result = batch(
        api,
        form_id,
        create_item(0, {"textQuestion": {}}),
        writeControl={"requiredRevisionId": rev0},
    )
    rev1 = result["writeControl"]["requiredRevisionId"]
    assert rev1 != rev0
    err = error(
        batch,
        api,
        form_id,
        create_item(0, {"textQuestion": {}}),
        writeControl={"requiredRevisionId": rev0},
    )
    assert err.code == 400 and err.status == "FAILED_PRECONDITION"
    assert api.call("forms.forms.get", formId=form_id)["revisionId"] == rev1


def test_include_form_in_response(api: Api) -> None:
    form_id = new_form(api)
    result = batch(api, form_id, create_item(0, {"textQuestion": {}}), includeFormInResponse=True)
    assert result["form"] == api.call("forms.forms.get", formId=form_id)
    assert "form" not in batch(api, form_id, create_item(0, {"textQuestion": {}}))


def test_update_move_delete_items(api: Api) -> None:
    form_id = new_form(api)
    batch(
        api,
        form_id,
        create_item(0, {"textQuestion": {}}),
        create_item(1, radio(["A"])),
        create_item(2, {"dateQuestion": {"includeYear": True}}),
    )
    items = api.call("forms.forms.get", formId=form_id)["items"]
    ids = [i["itemId"] for i in items]
    qid0 = items[0]["questionItem"]["question"]["questionId"]
    batch(
        api,
        form_id,
        {
            "updateItem": {
                "item": {"title": "Name", "questionItem": {"question": {"required": True}}},
                "location": {"index": 0},
                "updateMask": "title,questionItem.question.required",
            }
        },
        {"moveItem": {"originalLocation": {"index": 0}, "newLocation": {"index": 2}}},
        {"deleteItem": {"location": {"index": 0}}},
    )
    items = api.call("forms.forms.get", formId=form_id)["items"]
    assert [i["itemId"] for i in items] == [ids[2], ids[0]]
    moved = items[1]
    assert moved["title"] == "Name"
    assert moved["questionItem"]["question"] == {
        "questionId": qid0,
        "required": True,
        "textQuestion": {},
    }


def test_update_item_needs_a_valid_mask(api: Api) -> None:
    form_id = new_form(api)
    batch(api, form_id, create_item(0, {"textQuestion": {}}))
    item = {"title": "x"}
    for mask in (None, "", "notAField", "questionItem.nope"):
        spec: dict[str, Any] = {"item": item, "location": {"index": 0}}
        if mask is not None:
            spec["updateMask"] = mask
        assert error(batch, api, form_id, {"updateItem": spec}).code == 400


def test_update_item_star_keeps_question_id(api: Api) -> None:
    form_id = new_form(api)
    reply = batch(api, form_id, create_item(0, {"textQuestion": {}}))
    qid = reply["replies"][0]["createItem"]["questionId"][0]
    new_item = {"title": "Where?", "questionItem": {"question": radio(["A", "B"])}}
    batch(
        api,
        form_id,
        {"updateItem": {"item": new_item, "location": {"index": 0}, "updateMask": "*"}},
    )
    question = api.call("forms.forms.get", formId=form_id)["items"][0]["questionItem"]["question"]
    assert question["questionId"] == qid and "textQuestion" not in question


def test_update_form_info_cannot_change_document_title(api: Api) -> None:
    form_id = new_form(api)
    for mask in ("documentTitle", "*"):
        spec = {"info": {"title": "x", "documentTitle": "y"}, "updateMask": mask}
        assert error(batch, api, form_id, {"updateFormInfo": spec}).code == 400
    batch(api, form_id, {"updateFormInfo": {"info": {"title": "New"}, "updateMask": "title"}})
    info = api.call("forms.forms.get", formId=form_id)["info"]
    assert info == {"title": "New", "documentTitle": "Doc A"}


def test_update_settings(api: Api) -> None:
    form_id = new_form(api)
    spec = {"settings": {"emailCollectionType": "VERIFIED"}}
    assert error(batch, api, form_id, {"updateSettings": spec}).code == 400
    batch(api, form_id, {"updateSettings": {**spec, "updateMask": "emailCollectionType"}})
    settings = api.call("forms.forms.get", formId=form_id)["settings"]
    assert settings["emailCollectionType"] == "VERIFIED"


def test_request_with_two_kinds_refused(api: Api) -> None:
    form_id = new_form(api)
    two = {**create_item(0, {"textQuestion": {}}), "deleteItem": {"location": {"index": 0}}}
    assert "requests[0]" in error(batch, api, form_id, two).message


# --- setPublishSettings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "mask"),
    [
        ({"isPublished": False, "isAcceptingResponses": True}, "publishState"),
        ({"isPublished": True}, "publishState"),
        ({"isPublished": True, "isAcceptingResponses": True}, "publishSettings"),
        ({"isPublished": True, "isAcceptingResponses": True}, None),
    ],
)
def test_set_publish_settings_refusals(api: Api, state: dict[str, bool], mask: str | None) -> None:
    form_id = new_form(api)
    body: dict[str, Any] = {"publishSettings": {"publishState": state}}
    if mask:
        body["updateMask"] = mask
    assert error(api.call, "forms.forms.setPublishSettings", body, formId=form_id).code == 400


def test_publish(api: Api) -> None:
    form_id = new_form(api)
    publish(api, form_id)
    state = api.call("forms.forms.get", formId=form_id)["publishSettings"]["publishState"]
    assert state == {"isPublished": True, "isAcceptingResponses": True}


# --- submission and responses ------------------------------------------------------------


@pytest.fixture
def form_a(api: Api) -> dict[str, str]:
    """A published form: name (required text), dob (date), destination (RADIO + Other),
    subjects (CHECKBOX), level (DROP_DOWN)."""
    form_id = new_form(api)
    batch(
        api,
        form_id,
        create_item(0, {"textQuestion": {}}, required=True, questionId="00000001"),
        create_item(1, {"dateQuestion": {"includeYear": True}}, questionId="00000002"),
        create_item(2, radio(["College", "Sixth form"], other=True), questionId="00000003"),
        create_item(3, radio(["Maths", "Art"], kind="CHECKBOX"), questionId="00000004"),
        create_item(4, radio(["Level 1", "Level 2"], kind="DROP_DOWN"), questionId="00000005"),
    )
    publish(api, form_id)
    return {"id": form_id}


def test_submit_and_read_back(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    rec = api.submit(
        form_id,
        {
            "answers": {
                "00000001": "A Pupil",
                "00000002": "2008-02-29",
                "00000003": "Gap year",
                "00000004": ["Maths", "Art"],
            },
            "respondentEmail": "ignored@example.org",
        },
    )
    assert "respondentEmail" not in rec  # DO_NOT_COLLECT
    got = api.call("forms.forms.responses.get", formId=form_id, responseId=rec["responseId"])
    assert got["formId"] == form_id and got["createTime"] == got["lastSubmittedTime"]
    assert got["answers"]["00000003"] == {
        "questionId": "00000003",
        "textAnswers": {"answers": [{"value": "Gap year"}]},
    }
    assert [a["value"] for a in got["answers"]["00000004"]["textAnswers"]["answers"]] == [
        "Maths",
        "Art",
    ]
    listed = api.call("forms.forms.responses.list", formId=form_id)
    assert "formId" not in listed["responses"][0]
    assert listed["responses"][0]["responseId"] == rec["responseId"]


@pytest.mark.parametrize(
    "answers",
    [
        {"00000002": "2008-01-01"},  # required name missing
        {"00000001": "x", "99999999": "y"},  # unknown question
        {"00000001": "x", "00000002": "01/02/2008"},
        {"00000001": "x", "00000002": "2008-02-30"},
        {"00000001": "x", "00000004": ["Maths", "Dance"]},  # no isOther on the checkbox
        {"00000001": "x", "00000005": "Level 9"},  # drop-down never has Other
        {"00000001": "x", "00000003": ["College", "Sixth form"]},  # RADIO: one value
        {"00000001": ["x", "y"]},  # text: one value
    ],
)
def test_submit_refusals(api: Api, form_a: dict[str, str], answers: dict[str, Any]) -> None:
    err = error(api.submit, form_a["id"], {"answers": answers})
    assert err.code == 400
    assert "Dance" not in err.message and "01/02/2008" not in err.message
    assert api.call("forms.forms.responses.list", formId=form_a["id"]) == {}


def test_submit_refused_unless_published_and_accepting(api: Api) -> None:
    form_id = new_form(api)
    assert error(api.submit, form_id, {"answers": {}}).code == 403
    api.call(
        "forms.forms.setPublishSettings",
        {
            "publishSettings": {
                "publishState": {"isPublished": True, "isAcceptingResponses": False}
            },
            "updateMask": "*",
        },
        formId=form_id,
    )
    assert error(api.submit, form_id, {"answers": {}}).code == 403
    publish(api, form_id)
    assert api.submit(form_id, {"answers": {}})["responseId"]


def test_email_collection(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    spec = {"settings": {"emailCollectionType": "VERIFIED"}, "updateMask": "emailCollectionType"}
    batch(api, form_id, {"updateSettings": spec})
    answers = {"00000001": "x"}
    assert error(api.submit, form_id, {"answers": answers}).code == 400
    rec = api.submit(form_id, {"answers": answers, "respondentEmail": "p@school.example"})
    assert rec["respondentEmail"] == "p@school.example"
    edit = {"answers": answers, "responseId": rec["responseId"]}
    err = error(api.submit, form_id, {**edit, "respondentEmail": "q@school.example"})
    assert err.code == 403 and "school.example" not in err.message
    assert api.submit(form_id, {**edit, "respondentEmail": "p@school.example"})["answers"]


def test_edit_keeps_create_time(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    first = api.submit(form_id, {"answers": {"00000001": "x"}})
    api.now = T0 + timedelta(days=2)
    edited = api.submit(form_id, {"answers": {"00000001": "y"}, "responseId": first["responseId"]})
    assert edited["createTime"] == first["createTime"]
    assert edited["lastSubmittedTime"] == "2026-07-03T09:00:00.000000Z"
    listed = api.call("forms.forms.responses.list", formId=form_id)["responses"]
    assert len(listed) == 1 and listed[0]["answers"]["00000001"]["textAnswers"]["answers"] == [
        {"value": "y"}
    ]
    assert error(api.submit, form_id, {"answers": {}, "responseId": "unknown"}).code == 404


def _submit_at(api: Api, form_id: str, stamps: list[str]) -> list[str]:
    return [
        api.submit(form_id, {"answers": {"00000001": "x"}, "submittedAt": s})["responseId"]
        for s in stamps
    ]


def test_list_filter_operators(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    ids = _submit_at(
        api, form_id, ["2026-07-01T10:00:00Z", "2026-07-01T11:00:00Z", "2026-07-01T12:00:00Z"]
    )

    def listed(filter_text: str) -> list[str]:
        out = api.call("forms.forms.responses.list", query={"filter": filter_text}, formId=form_id)
        return [r["responseId"] for r in out.get("responses", [])]

    assert listed("timestamp > 2026-07-01T11:00:00Z") == ids[2:]
    assert listed("timestamp >= 2026-07-01T11:00:00Z") == ids[1:]
    assert listed("timestamp >= 2026-07-01T11:00:00.000000001Z") == ids[2:]
    for bad in (
        "timestamp < 2026-07-01T11:00:00Z",
        "createTime > 2026-07-01T11:00:00Z",
        "timestamp > 2026-07-01T11:00:00+01:00",
        "timestamp > yesterday",
    ):
        err = error(api.call, "forms.forms.responses.list", query={"filter": bad}, formId=form_id)
        assert err.code == 400


def test_filter_compares_last_submitted_time(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    (rid,) = _submit_at(api, form_id, ["2026-07-01T10:00:00Z"])
    api.submit(
        form_id,
        {"answers": {"00000001": "y"}, "responseId": rid, "submittedAt": "2026-07-05T10:00:00Z"},
    )
    out = api.call(
        "forms.forms.responses.list",
        query={"filter": "timestamp > 2026-07-02T00:00:00Z"},
        formId=form_id,
    )
    assert [r["responseId"] for r in out["responses"]] == [rid]


def test_pagination_and_tokens(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    ids = _submit_at(api, form_id, [f"2026-07-01T10:00:0{n}Z" for n in range(5)])
    seen: list[str] = []
    query: dict[str, Any] = {"pageSize": 2, "filter": "timestamp >= 2026-07-01T00:00:00Z"}
    pages = 0
    while True:
        out = api.call("forms.forms.responses.list", query=query, formId=form_id)
        seen += [r["responseId"] for r in out["responses"]]
        pages += 1
        if "nextPageToken" not in out:
            break
        query["pageToken"] = out["nextPageToken"]
    assert seen == ids and pages == 3
    query["filter"] = "timestamp > 2026-07-01T00:00:00Z"
    assert error(api.call, "forms.forms.responses.list", query=query, formId=form_id).code == 400
    bad = {"pageToken": "garbage!"}
    assert error(api.call, "forms.forms.responses.list", query=bad, formId=form_id).code == 400


def test_page_size_zero_and_cap(api: Api, form_a: dict[str, str]) -> None:
    form_id = form_a["id"]
    _submit_at(api, form_id, ["2026-07-01T10:00:00Z", "2026-07-01T10:00:01Z"])
    for size in (0, 100000):
        out = api.call("forms.forms.responses.list", query={"pageSize": size}, formId=form_id)
        assert len(out["responses"]) == 2 and "nextPageToken" not in out


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1), timezones=st.just(UTC)
    ),
    st.integers(min_value=0, max_value=999),
)
@example(datetime(2515, 1, 1, 0, 0, 0, 999999, tzinfo=UTC), 0)  # microseconds a float would round
def test_parse_zulu_orders_like_datetimes(moment: datetime, extra_nanos: int) -> None:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{extra_nanos:03d}Z"
    nanos = forms.parse_zulu(text)
    # Exact integer microseconds since the epoch (`moment.timestamp()` is a float: by year 2515
    # its microseconds round away, which made this check fail on rare examples).
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert nanos == micros * 1000 + extra_nanos
    assert forms.parse_zulu(moment.strftime("%Y-%m-%dT%H:%M:%SZ")) == nanos - (
        moment.microsecond * 1000 + extra_nanos
    )
