"""Forms API v1 handlers for the emulator, and the test-only response submission.

State: kind ``"forms"`` (key: form id) holds the Form resource as Google returns it; kind
``"form_responses"`` (key: ``"<formId>/<responseId>"``) holds each FormResponse. Every rule
enforced here is one Google documents for Forms v1 (developers.google.com/forms/api/reference)
unless a comment says it is the emulator's own reading.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
import secrets
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any

from gsync.emulator.core import (
    MIME_FORM,
    ApiError,
    Request,
    Tx,
    control_route,
    handler,
    invalid,
    new_id,
    not_found,
    register_file,
    rfc3339,
    touch_file,
)

FORMS = "forms"
RESPONSES = "form_responses"

# responses.list: "If unspecified or zero, at most 5000 responses are returned."
MAX_PAGE_SIZE = 5000

# Google documents the filter as "responses submitted after timestamp N" without naming the
# field (DESIGN.md: unconfirmed). The emulator reads "submitted" as the latest submission, so
# an edited response passes a watermark filter. Tests may set this to "createTime" to check a
# client copes with the other reading.
FILTER_TIMESTAMP_FIELD = "lastSubmittedTime"

ITEM_KINDS = (
    "questionItem",
    "questionGroupItem",
    "pageBreakItem",
    "textItem",
    "imageItem",
    "videoItem",
)
QUESTION_KINDS = (
    "choiceQuestion",
    "textQuestion",
    "scaleQuestion",
    "dateQuestion",
    "timeQuestion",
    "fileUploadQuestion",
    "rowQuestion",
    "ratingQuestion",
)
EMAIL_COLLECTED = ("VERIFIED", "RESPONDER_INPUT")

_ZULU = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")
_FILTER = re.compile(r"^\s*timestamp\s*(>=|>)\s*(\S+)\s*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")


# --- helpers -----------------------------------------------------------------------------


def failed_precondition(message: str) -> ApiError:
    """Google answers a stale requiredRevisionId with 400 and a FAILED_PRECONDITION status."""
    return ApiError(400, message, "FAILED_PRECONDITION")


def parse_zulu(text: str) -> int:
    """An RFC3339 UTC ("Zulu") timestamp as integer nanoseconds since the epoch; ValueError else."""
    match = _ZULU.match(text)
    if not match:
        raise ValueError("not an RFC3339 UTC timestamp")
    whole = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    nanos = int((match.group(2) or "").ljust(9, "0"))
    return int(whole.timestamp()) * 1_000_000_000 + nanos


def _load_form(tx: Tx, form_id: str) -> dict[str, Any]:
    form = tx.get(FORMS, form_id)
    if form is None:
        raise not_found(f"Requested entity was not found. (form {form_id})")
    return dict(form)


def _next_revision(revision: str) -> str:
    # Revision ids are opaque to clients; the emulator counts in 8 hex digits.
    return f"{int(revision, 16) + 1:08x}"


def _mask_paths(mask: Any, where: str) -> list[str]:
    if not isinstance(mask, str) or not mask.strip():
        raise invalid(f"{where}: updateMask is required")
    return [p.strip() for p in mask.split(",") if p.strip()]


@cache
def _schemas() -> dict[str, Any]:
    """The Forms v1 discovery schemas shipped with google-api-python-client (field-mask checks)."""
    doc = resources.files("googleapiclient") / "discovery_cache" / "documents" / "forms.v1.json"
    return dict(json.loads(doc.read_text(encoding="utf-8"))["schemas"])


def _check_path(schema_name: str, path: str, where: str) -> None:
    """Refuse a field-mask path that names no field of the schema (Google: invalid mask)."""
    schemas = _schemas()
    current: dict[str, Any] | None = schemas[schema_name]
    for part in path.split("."):
        props = (current or {}).get("properties", {})
        if part not in props:
            raise invalid(f"{where}: invalid field mask path {path!r}")
        prop = props[part]
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        current = schemas.get(ref) if ref else None


def _apply_mask(target: dict[str, Any], source: dict[str, Any], paths: list[str]) -> None:
    """Copy each masked path from source to target; a path absent from source is cleared."""
    for path in paths:
        parts = path.split(".")
        src: Any = source
        for part in parts:
            src = src.get(part) if isinstance(src, dict) else None
        dst = target
        for part in parts[:-1]:
            nxt = dst.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                dst[part] = nxt
            dst = nxt
        if src is None:
            dst.pop(parts[-1], None)
        else:
            dst[parts[-1]] = copy.deepcopy(src)


# --- form creation -----------------------------------------------------------------------


def new_form(
    tx: Tx,
    form_id: str,
    title: str,
    document_title: str,
    now: datetime,
    parents: list[str] | None = None,
) -> dict[str, Any]:
    """Create an empty, unpublished form and its Drive file; return the Form resource.

    Used by ``forms.create`` and by Drive ``files.create`` with the form mime type.
    """
    form: dict[str, Any] = {
        "formId": form_id,
        "info": {"title": title, "documentTitle": document_title},
        "settings": {"emailCollectionType": "DO_NOT_COLLECT"},
        "revisionId": f"{1:08x}",
        "responderUri": f"https://docs.google.com/forms/d/e/{form_id}/viewform",
        # Forms created through the API after 30 June 2026 start unpublished (Google's
        # "API changes to Google Forms"); the `unpublished` parameter cannot publish them.
        "publishSettings": {"publishState": {"isPublished": False, "isAcceptingResponses": False}},
    }
    tx.put(FORMS, form_id, form)
    register_file(tx, form_id, document_title, MIME_FORM, now, parents)
    return form


def _public(form: dict[str, Any]) -> dict[str, Any]:
    """The form as Google returns it: no `items` key when there are none."""
    out = dict(form)
    if not out.get("items"):
        out.pop("items", None)
    return out


@handler("forms.forms.create")
def create_form(req: Request) -> dict[str, Any]:
    """forms.create: only info.title and info.documentTitle may be set (Google's reference)."""
    body = req.body if isinstance(req.body, dict) else {}
    extra = sorted(k for k in body if k != "info")
    info = body.get("info") or {}
    extra += sorted(f"info.{k}" for k in info if k not in ("title", "documentTitle"))
    if extra:
        raise invalid(
            "Only info.title and info.document_title may be set when creating a form; "
            f"other fields are not allowed: {', '.join(extra)}"
        )
    title = str(info.get("title", ""))
    document_title = str(info.get("documentTitle") or title or "Untitled form")
    form = new_form(req.tx, new_id(33), title, document_title, req.now)
    return _public(form)


@handler("forms.forms.get")
def get_form(req: Request) -> dict[str, Any]:
    """forms.get."""
    return _public(_load_form(req.tx, req.path_params["formId"]))


# --- items -------------------------------------------------------------------------------


def _used_ids(items: list[dict[str, Any]]) -> set[str]:
    used: set[str] = set()
    for item in items:
        if item.get("itemId"):
            used.add(item["itemId"])
        used.update(_question_ids(item))
    return used


def _questions(item: dict[str, Any]) -> list[dict[str, Any]]:
    """Every question object inside an item (one for a question item, rows for a grid)."""
    if "questionItem" in item:
        question = item["questionItem"].get("question")
        return [question] if isinstance(question, dict) else []
    if "questionGroupItem" in item:
        return [q for q in item["questionGroupItem"].get("questions", []) if isinstance(q, dict)]
    return []


def _question_ids(item: dict[str, Any]) -> list[str]:
    return [q["questionId"] for q in _questions(item) if q.get("questionId")]


def _fresh_id(used: set[str]) -> str:
    while True:
        candidate = secrets.token_hex(4)
        if candidate not in used:
            used.add(candidate)
            return candidate


def _check_choice(choice: dict[str, Any], where: str, grid: bool = False) -> None:
    kind = choice.get("type")
    if kind not in ("RADIO", "CHECKBOX", "DROP_DOWN"):
        raise invalid(f"{where}: choiceQuestion.type must be RADIO, CHECKBOX or DROP_DOWN")
    if grid and kind == "DROP_DOWN":
        raise invalid(f"{where}: grid columns must be RADIO or CHECKBOX")
    options = choice.get("options") or []
    if not options:
        raise invalid(f"{where}: a choice question needs at least one option")
    seen: set[str] = set()
    others = 0
    for n, option in enumerate(options):
        if option.get("isOther"):
            # Google: "isOther ... only for RADIO and CHECKBOX" (Option reference).
            if kind not in ("RADIO", "CHECKBOX") or grid:
                raise invalid(
                    f"{where}: options[{n}].isOther is allowed only on RADIO and CHECKBOX"
                )
            others += 1
            continue
        value = option.get("value")
        if not isinstance(value, str) or not value:
            raise invalid(f"{where}: options[{n}].value must not be empty")
        if value in seen:
            raise invalid(f"{where}: duplicate option value at options[{n}]")
        seen.add(value)
    if others > 1:
        raise invalid(f"{where}: at most one option may be isOther")


def _check_question(question: dict[str, Any], where: str, in_group: bool = False) -> None:
    kinds = [k for k in QUESTION_KINDS if k in question]
    if len(kinds) != 1:
        raise invalid(f"{where}: a question must have exactly one kind, found {len(kinds)}")
    kind = kinds[0]
    if in_group and kind != "rowQuestion":
        raise invalid(f"{where}: questions in a question group must be rowQuestion")
    if not in_group and kind == "rowQuestion":
        raise invalid(f"{where}: rowQuestion is only allowed inside a questionGroupItem")
    if kind == "fileUploadQuestion":
        # Google: "Creating file upload questions through the API is not supported."
        raise invalid(f"{where}: file upload questions cannot be created through the API")
    if kind == "choiceQuestion":
        _check_choice(question["choiceQuestion"], where)
    if kind == "scaleQuestion":
        scale = question["scaleQuestion"]
        low, high = scale.get("low", 0), scale.get("high", 0)
        if low not in (0, 1) or not 2 <= high <= 10:
            raise invalid(f"{where}: scaleQuestion needs low 0 or 1 and high 2..10")
    if kind == "ratingQuestion":
        rating = question["ratingQuestion"]
        if not 3 <= rating.get("ratingScaleLevel", 0) <= 10:
            raise invalid(f"{where}: ratingQuestion.ratingScaleLevel must be 3..10")
        if rating.get("iconType") in (None, "RATING_ICON_TYPE_UNSPECIFIED"):
            raise invalid(f"{where}: ratingQuestion.iconType is required")


def _check_item(item: dict[str, Any], where: str) -> None:
    kinds = [k for k in ITEM_KINDS if k in item]
    if len(kinds) != 1:
        raise invalid(f"{where}: an item must have exactly one kind, found {len(kinds)}")
    if "questionItem" in item:
        question = item["questionItem"].get("question")
        if not isinstance(question, dict):
            raise invalid(f"{where}: questionItem.question is required")
        _check_question(question, where)
    if "questionGroupItem" in item:
        group = item["questionGroupItem"]
        rows = group.get("questions") or []
        if not rows:
            raise invalid(f"{where}: a question group needs at least one question")
        for row in rows:
            _check_question(row, where, in_group=True)
        grid = group.get("grid")
        if not isinstance(grid, dict) or not isinstance(grid.get("columns"), dict):
            raise invalid(f"{where}: questionGroupItem.grid.columns is required")
        _check_choice(grid["columns"], where, grid=True)


def _index(location: Any, upper: int, where: str, name: str = "location") -> int:
    """A location index checked against 0..upper inclusive."""
    if not isinstance(location, dict) or "index" not in location:
        raise invalid(f"{where}: {name}.index is required")
    index = location["index"]
    if not isinstance(index, int) or not 0 <= index <= upper:
        raise invalid(f"{where}: {name}.index {index} is out of range 0..{upper}")
    return index


def _create_item(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = form.setdefault("items", [])
    item = spec.get("item")
    if not isinstance(item, dict):
        raise invalid(f"{where}: item is required")
    item = copy.deepcopy(item)
    index = _index(spec.get("location"), len(items), where)
    _check_item(item, where)
    used = _used_ids(items)
    # Caller-chosen ids must be unused in the form (Item.itemId / Question.questionId docs).
    wanted = ([item["itemId"]] if item.get("itemId") else []) + _question_ids(item)
    for chosen in wanted:
        if chosen in used:
            raise invalid(f"{where}: id {chosen!r} is already used in this form")
        used.add(chosen)
    if len(set(wanted)) != len(wanted):
        raise invalid(f"{where}: the same id is given twice")
    if not item.get("itemId"):
        item["itemId"] = _fresh_id(used)
    for question in _questions(item):
        if not question.get("questionId"):
            question["questionId"] = _fresh_id(used)
    items.insert(index, item)
    reply: dict[str, Any] = {"itemId": item["itemId"]}
    qids = _question_ids(item)
    if qids:
        reply["questionId"] = qids
    return {"createItem": reply}


def _update_item(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = form.get("items", [])
    if not items:
        raise invalid(f"{where}: the form has no items")
    index = _index(spec.get("location"), len(items) - 1, where)
    source = spec.get("item")
    if not isinstance(source, dict):
        raise invalid(f"{where}: item is required")
    paths = _mask_paths(spec.get("updateMask"), where)
    old = items[index]
    if source.get("itemId") and source["itemId"] != old["itemId"]:
        raise invalid(f"{where}: itemId cannot be changed")
    if paths == ["*"]:
        updated = copy.deepcopy(source)
    else:
        for path in paths:
            _check_path("Item", path, where)
        updated = copy.deepcopy(old)
        _apply_mask(updated, source, paths)
        # A new kind replaces the old one (Item's kinds are a oneof).
        set_kinds = {p.split(".")[0] for p in paths} & set(ITEM_KINDS)
        for kind in ITEM_KINDS:
            if kind in updated and set_kinds and kind not in set_kinds:
                del updated[kind]
    updated["itemId"] = old["itemId"]
    _check_item(updated, where)
    old_qids = _question_ids(old)
    used = _used_ids(items[:index] + items[index + 1 :])
    for n, question in enumerate(_questions(updated)):
        qid = question.get("questionId")
        if qid and qid not in old_qids and qid in used:
            raise invalid(f"{where}: id {qid!r} is already used in this form")
        if not qid:
            question["questionId"] = old_qids[n] if n < len(old_qids) else _fresh_id(used)
        used.add(question["questionId"])
    items[index] = updated
    return {}


def _move_item(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = form.get("items", [])
    last = len(items) - 1
    if last < 0:
        raise invalid(f"{where}: the form has no items")
    src = _index(spec.get("originalLocation"), last, where, "originalLocation")
    dst = _index(spec.get("newLocation"), last, where, "newLocation")
    items.insert(dst, items.pop(src))
    return {}


def _delete_item(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = form.get("items", [])
    if not items:
        raise invalid(f"{where}: the form has no items")
    del items[_index(spec.get("location"), len(items) - 1, where)]
    return {}


def _update_info(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    info = spec.get("info")
    if not isinstance(info, dict):
        raise invalid(f"{where}: info is required")
    paths = _mask_paths(spec.get("updateMask"), where)
    if paths == ["*"]:
        if "documentTitle" in info:
            raise invalid(f"{where}: info.documentTitle cannot be updated")
        paths = ["title", "description"]
    for path in paths:
        _check_path("Info", path, where)
        if path == "documentTitle":
            # Info.documentTitle is output-only after creation (Google's Info reference).
            raise invalid(f"{where}: info.documentTitle cannot be updated")
    _apply_mask(form["info"], info, paths)
    return {}


def _update_settings(form: dict[str, Any], spec: dict[str, Any], where: str) -> dict[str, Any]:
    settings = spec.get("settings")
    if not isinstance(settings, dict):
        raise invalid(f"{where}: settings is required")
    paths = _mask_paths(spec.get("updateMask"), where)
    if paths == ["*"]:
        paths = ["emailCollectionType", "quizSettings"]
    for path in paths:
        _check_path("FormSettings", path, where)
    target = form.setdefault("settings", {})
    _apply_mask(target, settings, paths)
    if target.get("emailCollectionType") in (None, "EMAIL_COLLECTION_TYPE_UNSPECIFIED"):
        target["emailCollectionType"] = "DO_NOT_COLLECT"
    return {}


_APPLY = {
    "createItem": _create_item,
    "updateItem": _update_item,
    "moveItem": _move_item,
    "deleteItem": _delete_item,
    "updateFormInfo": _update_info,
    "updateSettings": _update_settings,
}


@handler("forms.forms.batchUpdate")
def batch_update(req: Request) -> dict[str, Any]:
    """forms.batchUpdate: all requests apply to a copy; any error leaves the form unchanged."""
    form_id = req.path_params["formId"]
    form = _load_form(req.tx, form_id)
    body = req.body if isinstance(req.body, dict) else {}
    control = body.get("writeControl") or {}
    current = form["revisionId"]
    for key in ("requiredRevisionId", "targetRevisionId"):
        # targetRevisionId asks Google to transform the batch against later edits; the
        # emulator does not transform, so it accepts only the current revision for either.
        if key in control and control[key] != current:
            raise failed_precondition(
                f"The form's revision does not match writeControl.{key}; the form has changed."
            )
    requests = body.get("requests") or []
    replies: list[dict[str, Any]] = []
    for n, request in enumerate(requests):
        kinds = [k for k in _APPLY if k in (request or {})]
        if len(kinds) != 1:
            raise invalid(f"Invalid requests[{n}]: exactly one request kind must be set")
        kind = kinds[0]
        replies.append(_APPLY[kind](form, request[kind], f"Invalid requests[{n}].{kind}"))
    if requests:
        form["revisionId"] = _next_revision(current)
        req.tx.put(FORMS, form_id, form)
        touch_file(req.tx, form_id, req.now)
    result: dict[str, Any] = {
        "replies": replies,
        "writeControl": {"requiredRevisionId": form["revisionId"]},
    }
    if body.get("includeFormInResponse"):
        result["form"] = _public(form)
    return result


@handler("forms.forms.setPublishSettings")
def set_publish_settings(req: Request) -> dict[str, Any]:
    """forms.setPublishSettings: publishState with both flags; accepting needs published."""
    form_id = req.path_params["formId"]
    form = _load_form(req.tx, form_id)
    body = req.body if isinstance(req.body, dict) else {}
    mask = body.get("updateMask")
    if mask not in ("publishState", "*"):
        raise invalid("updateMask must be 'publishState' (or '*')")
    state = (body.get("publishSettings") or {}).get("publishState")
    if not isinstance(state, dict):
        raise invalid("publishSettings.publishState is required")
    for flag in ("isPublished", "isAcceptingResponses"):
        if not isinstance(state.get(flag), bool):
            raise invalid(f"publishSettings.publishState.{flag} is required")
    if state["isAcceptingResponses"] and not state["isPublished"]:
        raise invalid("A form that is not published cannot accept responses")
    form["publishSettings"] = {"publishState": dict(state)}
    req.tx.put(FORMS, form_id, form)
    touch_file(req.tx, form_id, req.now)
    return {"formId": form_id, "publishSettings": form["publishSettings"]}


# --- responses ---------------------------------------------------------------------------


def _form_responses(tx: Tx, form_id: str) -> list[dict[str, Any]]:
    prefix = f"{form_id}/"
    found = [tx.get(RESPONSES, key) for key in tx.keys(RESPONSES) if key.startswith(prefix)]
    # Stable order: first submission, then id (the emulator's choice; Google promises none).
    return sorted(
        (r for r in found if r is not None), key=lambda r: (r["createTime"], r["responseId"])
    )


def _encode_token(filter_text: str, last: tuple[str, str]) -> str:
    raw = json.dumps({"f": filter_text, "k": list(last)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, filter_text: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        key = (str(data["k"][0]), str(data["k"][1]))
        same_filter = data["f"] == filter_text
    except (binascii.Error, ValueError, KeyError, IndexError, TypeError) as exc:
        raise invalid("Invalid page token") from exc
    if not same_filter:
        # "the form and the values of the filter must be the same as for the original request"
        raise invalid("The page token was issued for a different filter")
    return key


def _parse_filter(text: str) -> tuple[str, int] | None:
    if not text.strip():
        return None
    match = _FILTER.match(text)
    if not match:
        raise invalid("Invalid filter: only 'timestamp > T' and 'timestamp >= T' are supported")
    try:
        return match.group(1), parse_zulu(match.group(2))
    except ValueError as exc:
        raise invalid("Invalid filter: the timestamp must be RFC3339 UTC ('Zulu')") from exc


@handler("forms.forms.responses.list")
def list_responses(req: Request) -> dict[str, Any]:
    """responses.list: pageSize (0 means 5000), pageToken bound to its filter, timestamp filter."""
    form_id = req.path_params["formId"]
    _load_form(req.tx, form_id)
    try:
        size = int(req.param("pageSize") or 0)
    except ValueError as exc:
        raise invalid("pageSize must be an integer") from exc
    if size < 0:
        raise invalid("pageSize must not be negative")
    size = MAX_PAGE_SIZE if size == 0 else min(size, MAX_PAGE_SIZE)
    filter_text = req.param("filter") or ""
    condition = _parse_filter(filter_text)
    rows = _form_responses(req.tx, form_id)
    if condition is not None:
        op, bound = condition
        stamps = [parse_zulu(r[FILTER_TIMESTAMP_FIELD]) for r in rows]
        rows = [
            r for r, s in zip(rows, stamps, strict=True) if s > bound or (op == ">=" and s == bound)
        ]
    token = req.param("pageToken")
    if token:
        after = _decode_token(token, filter_text)
        rows = [r for r in rows if (r["createTime"], r["responseId"]) > after]
    page = rows[:size]
    result: dict[str, Any] = {}
    if page:
        # "the formId field isn't returned in the FormResponse object for list requests"
        result["responses"] = [{k: v for k, v in r.items() if k != "formId"} for r in page]
    if len(rows) > size:
        result["nextPageToken"] = _encode_token(
            filter_text, (page[-1]["createTime"], page[-1]["responseId"])
        )
    return result


@handler("forms.forms.responses.get")
def get_response(req: Request) -> dict[str, Any]:
    """responses.get."""
    form_id = req.path_params["formId"]
    _load_form(req.tx, form_id)
    found = req.tx.get(RESPONSES, f"{form_id}/{req.path_params['responseId']}")
    if found is None:
        raise not_found("Requested entity was not found.")
    return dict(found)


# --- test-only submission ----------------------------------------------------------------


def _question_index(form: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """questionId -> (question, choice spec or {}) for every question of the form."""
    index: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for item in form.get("items", []):
        grid = item.get("questionGroupItem", {}).get("grid", {}).get("columns", {})
        for question in _questions(item):
            choice = question.get("choiceQuestion") or (grid if "rowQuestion" in question else {})
            index[question["questionId"]] = (question, choice)
    return index


def _check_answer(question: dict[str, Any], choice: dict[str, Any], values: list[str]) -> None:
    """Refuse an answer Google's form would refuse. Messages name the question, never the value."""
    qid = question["questionId"]
    if choice:
        options = choice.get("options", [])
        allowed = {o.get("value") for o in options if not o.get("isOther")}
        has_other = any(o.get("isOther") for o in options)
        if choice.get("type") != "CHECKBOX" and len(values) > 1:
            raise invalid(f"Question {qid} accepts one value only")
        if len(set(values)) != len(values):
            raise invalid(f"Question {qid}: the same option is given twice")
        strangers = [v for v in values if v not in allowed]
        # A value outside the options is the respondent's "Other" text (ARCHITECTURE.md).
        if strangers and not has_other:
            raise invalid(f"Question {qid}: a value is not one of the options")
        if len(strangers) > 1:
            raise invalid(f"Question {qid}: only one 'Other' answer is allowed")
        return
    if len(values) > 1:
        raise invalid(f"Question {qid} accepts one value only")
    value = values[0]
    if "dateQuestion" in question:
        try:
            if not _DATE.match(value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError as exc:
            raise invalid(f"Question {qid}: a date answer must be YYYY-MM-DD") from exc
    elif "timeQuestion" in question:
        if not _TIME.match(value):
            raise invalid(f"Question {qid}: a time answer must be HH:MM or HH:MM:SS")
    elif "scaleQuestion" in question:
        scale = question["scaleQuestion"]
        if not value.isdigit() or not scale.get("low", 0) <= int(value) <= scale.get("high", 0):
            raise invalid(f"Question {qid}: the answer is outside the scale")
    elif "ratingQuestion" in question:
        level = question["ratingQuestion"].get("ratingScaleLevel", 0)
        if not value.isdigit() or not 1 <= int(value) <= level:
            raise invalid(f"Question {qid}: the answer is outside the rating scale")
    elif "fileUploadQuestion" in question:
        raise invalid(f"Question {qid}: file uploads cannot be submitted to the emulator")


def submit_response(tx: Tx, form_id: str, body: Any, now: datetime) -> dict[str, Any]:
    """Record (or edit) a response as a respondent would submit it; return the FormResponse.

    Body: ``{"answers": {questionId: "v" | ["v", ...]}, "respondentEmail", "responseId",
    "submittedAt"}``. Google has no API for this; it backs ``POST
    /_emulator/forms/{formId}/responses``.
    """
    form = _load_form(tx, form_id)
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object")
    state = form.get("publishSettings", {}).get("publishState", {})
    if not state.get("isPublished"):
        raise ApiError(403, "The form is not published", "PERMISSION_DENIED")
    if not state.get("isAcceptingResponses"):
        raise ApiError(403, "The form is not accepting responses", "PERMISSION_DENIED")
    response_id = body.get("responseId")
    existing = None
    if response_id is not None:
        existing = tx.get(RESPONSES, f"{form_id}/{response_id}")
        if existing is None:
            raise not_found("The response to edit was not found")
    answers_in = body.get("answers", {})
    if not isinstance(answers_in, dict):
        raise invalid("answers must be an object of questionId to value or list of values")
    questions = _question_index(form)
    answers: dict[str, Any] = {}
    for qid, raw in answers_in.items():
        if qid not in questions:
            raise invalid(f"Unknown question id {qid}")
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise invalid(f"Question {qid}: an answer is a string or a list of strings")
        values = [v for v in values if v != ""]
        if not values:
            continue
        question, choice = questions[qid]
        _check_answer(question, choice, values)
        answers[qid] = {
            "questionId": qid,
            "textAnswers": {"answers": [{"value": v} for v in values]},
        }
    for qid, (question, _) in questions.items():
        if question.get("required") and qid not in answers:
            raise invalid(f"Question {qid} is required")
    submitted = body.get("submittedAt")
    if submitted is None:
        stamp = rfc3339(now)
    else:
        try:
            nanos = parse_zulu(str(submitted))
        except ValueError as exc:
            raise invalid("submittedAt must be RFC3339 UTC ('Zulu')") from exc
        moment = datetime.fromtimestamp(nanos // 1_000_000_000, UTC)
        stamp = rfc3339(moment.replace(microsecond=(nanos % 1_000_000_000) // 1000))
    if existing is not None:
        create_time = existing["createTime"]
        if parse_zulu(stamp) < parse_zulu(create_time):
            raise invalid("submittedAt is earlier than the response's createTime")
    else:
        response_id = new_id(24)
        create_time = stamp
    record: dict[str, Any] = {
        "formId": form_id,
        "responseId": response_id,
        "createTime": create_time,
        "lastSubmittedTime": stamp,
    }
    collection = form.get("settings", {}).get("emailCollectionType", "DO_NOT_COLLECT")
    if collection in EMAIL_COLLECTED:
        email = body.get("respondentEmail")
        if not isinstance(email, str) or "@" not in email:
            raise invalid("respondentEmail is required: the form collects email addresses")
        if (
            collection == "VERIFIED"
            and existing is not None
            and existing.get("respondentEmail") not in (None, email)
        ):
            # A verified respondent can edit only their own response.
            raise ApiError(403, "Only the respondent can edit this response", "PERMISSION_DENIED")
        record["respondentEmail"] = email
    if answers:  # Google leaves `answers` out of a response with none
        record["answers"] = answers
    tx.put(RESPONSES, f"{form_id}/{response_id}", record)
    return record


@control_route("POST", r"/_emulator/forms/(?P<formId>[^/]+)/responses")
def submit_route(req: Request) -> dict[str, Any]:
    """POST /_emulator/forms/{formId}/responses: the test-only submission (see submit_response)."""
    return submit_response(req.tx, req.path_params["formId"], req.body, req.now)


def delete_form(tx: Tx, form_id: str) -> None:
    """Remove a form and its responses (Drive files.delete on a form)."""
    tx.delete(FORMS, form_id)
    prefix = f"{form_id}/"
    for key in tx.keys(RESPONSES):
        if key.startswith(prefix):
            tx.delete(RESPONSES, key)


def rename_form(tx: Tx, form_id: str, name: str) -> None:
    """Drive's file name is the form's documentTitle: keep them the same after a rename."""
    form = tx.get(FORMS, form_id)
    if form is not None:
        form["info"]["documentTitle"] = name
        tx.put(FORMS, form_id, form)
