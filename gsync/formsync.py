"""Form A on Google Forms: build the create requests, diff a live form against its spec, and plan
the fewest `forms.batchUpdate` requests that bring it back (pure functions), plus the thin I/O
shell the `gsync form` commands and the demo call (`create_form`, `update_form`, `show_form`).

Google facts used here (../shared/DESIGN.md section 3): `forms.create` copies only the title; the
description, settings and items go in one all-or-nothing `forms.batchUpdate` whose requests apply
in order (so every `location.index` is the index at that point of the batch); API-made forms are
unpublished until `forms.setPublishSettings`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from gsync.config import Config, SchoolConfig
from gsync.errors import ConfigError, GoogleApiError, NotFoundError
from gsync.formspec import CHOICE_KINDS, FormSpec, ItemSpec, item_body, spec_for_school

log = logging.getLogger("gsync.formsync")

EmailCollection = Literal["VERIFIED", "RESPONDER_INPUT"]
ItemState = Literal["matches", "differs", "missing", "extra", "replaced"]

_Q = "questionItem.question"
_CHOICE_BY_TYPE = {v: k for k, v in CHOICE_KINDS.items()}
_FAMILY = {
    "short_text": "text",
    "paragraph": "text",
    "date": "date",
    "radio": "choice",
    "drop_down": "choice",
    "checkbox": "choice",
}


# ---------------------------------------------------------------------------------------------
# Pure part: requests for a new form, and the diff / plan for an existing one
# ---------------------------------------------------------------------------------------------


def publish_request() -> dict[str, Any]:
    """Body of `forms.setPublishSettings`: published and accepting responses (DESIGN.md, Forms)."""
    return {
        "publishSettings": {"publishState": {"isPublished": True, "isAcceptingResponses": True}},
        "updateMask": "publishState",
    }


def info_request(spec: FormSpec) -> dict[str, Any]:
    """`updateFormInfo` setting the title and the intro/consent text."""
    info: dict[str, Any] = {"title": spec.title, "description": spec.description}
    mask = ["title", "description"]
    if spec.document_title:
        info["documentTitle"] = spec.document_title
        mask.append("documentTitle")
    return {"updateFormInfo": {"info": info, "updateMask": ",".join(mask)}}


def create_requests(spec: FormSpec, email_collection: EmailCollection) -> list[dict[str, Any]]:
    """The one batchUpdate that fills a fresh form: info, settings, then every item in order."""
    requests: list[dict[str, Any]] = [
        info_request(spec),
        {
            "updateSettings": {
                "settings": {"emailCollectionType": email_collection},
                "updateMask": "emailCollectionType",
            }
        },
    ]
    for index, item in enumerate(spec.items):
        requests.append({"createItem": {"item": item_body(item), "location": {"index": index}}})
    return requests


def question_id(live_item: dict[str, Any]) -> str | None:
    """The question id of a live question item (None for text, image, page-break items)."""
    qid = live_item.get("questionItem", {}).get("question", {}).get("questionId")
    return str(qid) if qid else None


def live_kind(live_item: dict[str, Any]) -> str | None:
    """The spec kind a live item corresponds to, or None if gsync specs have no such kind."""
    question = live_item.get("questionItem", {}).get("question")
    if not isinstance(question, dict):
        return None
    if "textQuestion" in question:
        return "paragraph" if question["textQuestion"].get("paragraph") else "short_text"
    if "dateQuestion" in question:
        return "date"
    if "choiceQuestion" in question:
        return _CHOICE_BY_TYPE.get(question["choiceQuestion"].get("type", ""))
    return None


def _live_options(live_item: dict[str, Any]) -> tuple[list[str], bool]:
    choice = live_item["questionItem"]["question"].get("choiceQuestion", {})
    values: list[str] = []
    other = False
    for option in choice.get("options", []):
        if option.get("isOther"):
            other = True
        else:
            values.append(str(option.get("value", "")))
    return values, other


@dataclass(frozen=True)
class Change:
    """One way a live item differs from its spec item, and the updateMask path that fixes it."""

    what: str  # human text, no personal data (titles and options are the school's own words)
    mask: str  # "" means the item must be replaced (delete + create)


def item_changes(spec_item: ItemSpec, live_item: dict[str, Any]) -> list[Change]:
    """How a live item differs from its spec item (empty: it matches)."""
    kind = live_kind(live_item)
    if kind is None or _FAMILY[kind] != _FAMILY[spec_item.kind]:
        # Google does not change a question's type in place; the item is recreated.
        return [Change(f"kind {kind or 'unsupported'} -> {spec_item.kind}", "")]
    changes: list[Change] = []
    if live_item.get("title", "") != spec_item.title:
        changes.append(Change("title", "title"))
    if (live_item.get("description") or "") != (spec_item.help or ""):
        changes.append(Change("help text", "description"))
    question = live_item["questionItem"]["question"]
    if bool(question.get("required", False)) != spec_item.required:
        changes.append(Change(f"required -> {str(spec_item.required).lower()}", f"{_Q}.required"))
    if spec_item.is_choice:
        if kind != spec_item.kind:
            changes.append(
                Change(f"choice type {kind} -> {spec_item.kind}", f"{_Q}.choiceQuestion.type")
            )
        values, other = _live_options(live_item)
        if values != spec_item.options or other != spec_item.other:
            changes.append(
                Change(
                    _describe_options(values, other, spec_item),
                    f"{_Q}.choiceQuestion.options",
                )
            )
    elif spec_item.kind in ("short_text", "paragraph") and kind != spec_item.kind:
        changes.append(Change(f"{kind} -> {spec_item.kind}", f"{_Q}.textQuestion.paragraph"))
    elif spec_item.kind == "date":
        date = question.get("dateQuestion", {})
        if not date.get("includeYear", False) or date.get("includeTime", False):
            changes.append(Change("date must include the year only", f"{_Q}.dateQuestion"))
    return changes


def _describe_options(values: list[str], other: bool, spec_item: ItemSpec) -> str:
    added = [v for v in spec_item.options if v not in values]
    removed = [v for v in values if v not in spec_item.options]
    parts = [f"+{v!r}" for v in added] + [f"-{v!r}" for v in removed]
    if other != spec_item.other:
        parts.append("+Other" if spec_item.other else "-Other")
    if not parts:
        parts.append("order")
    return "options " + ", ".join(parts)


@dataclass(frozen=True)
class ItemStatus:
    """One row of `gsync form show`: a spec item or a live item, and how they compare."""

    key: str | None
    title: str
    state: ItemState
    changes: tuple[str, ...] = ()
    moved: bool = False
    question_id: str | None = None
    spec_index: int | None = None
    live_index: int | None = None


@dataclass
class FormPlan:
    """What `plan_update` decided: the batchUpdate requests and the item-by-item comparison."""

    requests: list[dict[str, Any]]
    items: list[ItemStatus]
    info_changes: list[str]
    question_ids: dict[str, str]  # spec key -> question id, for items kept
    created_keys: list[str]  # spec keys of createItem requests, in request order
    deleted_question_ids: list[str] = field(default_factory=list)
    create_request_index: dict[str, int] = field(default_factory=dict)

    @property
    def in_spec(self) -> bool:
        return not self.requests


def match_items(
    spec: FormSpec, live_items: list[dict[str, Any]], recorded: dict[str, str]
) -> dict[str, int]:
    """Spec key -> index of its live item: by the recorded question id, else by the same title."""
    by_qid = {question_id(it): i for i, it in enumerate(live_items) if question_id(it)}
    matched: dict[str, int] = {}
    taken: set[int] = set()
    for item in spec.items:
        qid = recorded.get(item.key)
        if qid and qid in by_qid and by_qid[qid] not in taken:
            matched[item.key] = by_qid[qid]
            taken.add(by_qid[qid])
    for item in spec.items:
        if item.key in matched:
            continue
        want = item.title.strip().casefold()
        for i, live in enumerate(live_items):
            if i not in taken and str(live.get("title", "")).strip().casefold() == want:
                matched[item.key] = i
                taken.add(i)
                break
    return matched


def _longest_increasing(seq: list[int]) -> set[int]:
    """Positions (in `seq`) of one longest strictly increasing subsequence (O(n^2), n is small)."""
    if not seq:
        return set()
    best = [1] * len(seq)
    prev = [-1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i] and best[j] + 1 > best[i]:
                best[i], prev[i] = best[j] + 1, j
    end = max(range(len(seq)), key=lambda i: (best[i], -i))
    keep: set[int] = set()
    while end != -1:
        keep.add(end)
        end = prev[end]
    return keep


def plan_update(
    spec: FormSpec, live_form: dict[str, Any], recorded: dict[str, str] | None = None
) -> FormPlan:
    """The fewest batchUpdate requests that turn `live_form` into `spec` (none if it matches).

    Order: updateFormInfo; deleteItem (highest index first); createItem / moveItem so items that
    are already in relative order (a longest increasing run) stay put; then updateItem with a
    mask naming only the changed fields, at each item's final index.
    """
    recorded = recorded or {}
    live_items: list[dict[str, Any]] = list(live_form.get("items", []))
    requests: list[dict[str, Any]] = []

    info = live_form.get("info", {})
    info_changes: list[str] = []
    mask: list[str] = []
    if info.get("title", "") != spec.title:
        info_changes.append("title")
        mask.append("title")
    if (info.get("description") or "") != spec.description:
        info_changes.append("description")
        mask.append("description")
    if spec.document_title and info.get("documentTitle") != spec.document_title:
        info_changes.append("document title")
        mask.append("documentTitle")
    if mask:
        info_body = {"title": spec.title, "description": spec.description}
        if spec.document_title:
            info_body["documentTitle"] = spec.document_title
        requests.append({"updateFormInfo": {"info": info_body, "updateMask": ",".join(mask)}})

    matched = match_items(spec, live_items, recorded)
    changes: dict[str, list[Change]] = {}
    replaced: set[str] = set()
    replaced_live: set[int] = set()
    for key, index in list(matched.items()):
        changes[key] = item_changes(spec.item(key), live_items[index])
        if any(c.mask == "" for c in changes[key]):
            replaced.add(key)  # its live item is deleted and a new one created
            replaced_live.add(index)
            del matched[key]
    kept_live = set(matched.values())

    # Deletes, highest index first, so lower indices stay valid.
    current: list[str] = [str(it.get("itemId", f"#{i}")) for i, it in enumerate(live_items)]
    deleted_qids: list[str] = []
    for index in sorted(set(range(len(live_items))) - kept_live, reverse=True):
        requests.append({"deleteItem": {"location": {"index": index}}})
        del current[index]
        qid = question_id(live_items[index])
        if qid:
            deleted_qids.append(qid)
    statuses_extra = [
        ItemStatus(
            key=None,
            title=str(live_items[index].get("title", "")),
            state="extra",
            changes=("not in the spec",),
            question_id=question_id(live_items[index]),
            live_index=index,
        )
        for index in sorted(set(range(len(live_items))) - kept_live - replaced_live)
    ]

    # Creates and moves. Tokens: a kept item's itemId, or "new:<key>".
    target = [
        str(live_items[matched[it.key]].get("itemId", f"#{matched[it.key]}"))
        if it.key in matched
        else f"new:{it.key}"
        for it in spec.items
    ]
    kept_order = [current.index(tok) for tok in target if not tok.startswith("new:")]
    kept_tokens = [tok for tok in target if not tok.startswith("new:")]
    anchors = {kept_tokens[i] for i in _longest_increasing(kept_order)}
    created: list[str] = []
    create_index: dict[str, int] = {}
    moved: set[str] = set()
    for i, tok in enumerate(target):
        if tok in anchors:
            continue
        if tok.startswith("new:"):
            new_index = current.index(target[i - 1]) + 1 if i else 0
            key = tok.removeprefix("new:")
            create_index[key] = len(requests)
            requests.append(
                {
                    "createItem": {
                        "item": item_body(spec.items[i]),
                        "location": {"index": new_index},
                    }
                }
            )
            current.insert(new_index, tok)
            created.append(key)
        else:
            old_index = current.index(tok)
            current.pop(old_index)
            new_index = current.index(target[i - 1]) + 1 if i else 0
            current.insert(new_index, tok)
            if new_index != old_index:
                requests.append(
                    {
                        "moveItem": {
                            "originalLocation": {"index": old_index},
                            "newLocation": {"index": new_index},
                        }
                    }
                )
                moved.add(spec.items[i].key)
    if current != target:  # cannot happen; guards the simulation above
        raise RuntimeError("form planner: the simulated form does not equal the spec")

    # Updates at final indices, only the changed fields.
    statuses: list[ItemStatus] = []
    qids: dict[str, str] = {}
    for i, item in enumerate(spec.items):
        found = changes.get(item.key, [])
        if item.key in matched:
            live = live_items[matched[item.key]]
            qid = question_id(live)
            if qid:
                qids[item.key] = qid
            if found:
                body: dict[str, Any] = item_body(item)
                body["itemId"] = live.get("itemId")
                if qid:
                    body["questionItem"]["question"]["questionId"] = qid
                requests.append(
                    {
                        "updateItem": {
                            "item": body,
                            "location": {"index": i},
                            "updateMask": ",".join(c.mask for c in found),
                        }
                    }
                )
            state: ItemState = "differs" if found or item.key in moved else "matches"
            statuses.append(
                ItemStatus(
                    key=item.key,
                    title=item.title,
                    state=state,
                    changes=tuple(c.what for c in found)
                    + (("position",) if item.key in moved else ()),
                    moved=item.key in moved,
                    question_id=qid,
                    spec_index=i,
                    live_index=matched[item.key],
                )
            )
        else:
            statuses.append(
                ItemStatus(
                    key=item.key,
                    title=item.title,
                    state="replaced" if item.key in replaced else "missing",
                    changes=tuple(c.what for c in found),
                    spec_index=i,
                )
            )
    return FormPlan(
        requests=requests,
        items=statuses + statuses_extra,
        info_changes=info_changes,
        question_ids=qids,
        created_keys=created,
        deleted_question_ids=deleted_qids,
        create_request_index=create_index,
    )


def answered_questions(responses: list[dict[str, Any]]) -> dict[str, int]:
    """Question id -> how many responses answer it."""
    counts: dict[str, int] = {}
    for response in responses:
        for qid in response.get("answers", {}) or {}:
            counts[qid] = counts.get(qid, 0) + 1
    return counts


def summarise_request(request: dict[str, Any]) -> str:
    """One line per request for --dry-run output (titles only, never answers)."""
    (name, body), *_ = request.items()
    if name == "createItem":
        return f"createItem at {body['location']['index']}: {body['item'].get('title', '')!r}"
    if name == "updateItem":
        return (
            f"updateItem at {body['location']['index']}: {body['item'].get('title', '')!r} "
            f"[{body['updateMask']}]"
        )
    if name == "deleteItem":
        return f"deleteItem at {body['location']['index']}"
    if name == "moveItem":
        return f"moveItem {body['originalLocation']['index']} -> {body['newLocation']['index']}"
    if name == "updateFormInfo":
        return f"updateFormInfo [{body['updateMask']}]"
    if name == "updateSettings":
        return f"updateSettings [{body['updateMask']}]"
    return name


# ---------------------------------------------------------------------------------------------
# I/O shell: every call goes through ws.execute (bounded retry, counted by the emulator's log)
# ---------------------------------------------------------------------------------------------


def get_form(ws: Any, form_id: str) -> dict[str, Any]:
    """`forms.get`; NotFoundError if the form no longer exists."""
    result: dict[str, Any] = ws.execute(ws.forms().forms().get(formId=form_id), "Forms forms.get")
    return result


def list_responses(ws: Any, form_id: str) -> list[dict[str, Any]]:
    """Every response of a form (all pages, 5,000 per page: the API's maximum)."""
    responses: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"formId": form_id, "pageSize": 5000}
        if token:
            kwargs["pageToken"] = token
        page = ws.execute(
            ws.forms().forms().responses().list(**kwargs), "Forms forms.responses.list"
        )
        responses.extend(page.get("responses", []))
        token = page.get("nextPageToken")
        if not token:
            return responses


def _existing_form(ws: Any, school: SchoolConfig) -> dict[str, Any] | None:
    if not school.form_id:
        return None
    try:
        return get_form(ws, school.form_id)
    except NotFoundError:
        return None


def _record(config: Config, school: SchoolConfig, **fields: Any) -> bool:
    """Write fields back into gsync.toml (if the config came from a file)."""
    if config.path is None:
        return False
    from gsync.config_edit import set_round_fields, set_school_fields

    round_key = getattr(school, "round_key", None)  # a round's form (gsync.rounds.RoundTarget)
    if round_key:
        set_round_fields(config.path, school.name, round_key, **fields)
        return True
    set_school_fields(config.path, school.name, **fields)
    return True


def create_form(
    ws: Any,
    config: Config,
    school_name: str,
    *,
    email_collection: EmailCollection = "VERIFIED",
    folder: str | None = None,
    dry_run: bool = False,
    round_key: str | None = None,
) -> dict[str, Any]:
    """Create, fill and publish a school's Form A; record its id and question ids in the config.

    Refuses (ConfigError) if the school's recorded form still exists and has items. A recorded
    form with no items (a create interrupted after `forms.create`) is reused, not duplicated.
    With `round_key`, the form of that survey round (deadlines.toml [[rounds]], issue 11) is made
    from the round's spec instead and recorded under `[schools.rounds.KEY]`.
    """
    school = config.school(school_name)
    if round_key is not None:
        from gsync.rounds import round_form_target

        spec, school = round_form_target(config, school, round_key)
    else:
        spec = spec_for_school(config, school)  # validated before any request
    existing = _existing_form(ws, school)
    if existing is not None and existing.get("items"):
        what = f"the {round_key} form" if round_key else "Form A"
        raise ConfigError(
            f"School {school.name!r} already has {what} ({school.form_id}); not creating another.",
            fix=f"run `gsync form update --school {school.name}"
            + (f" --round {round_key}" if round_key else "")
            + "` to bring it to its spec, or remove form_id from gsync.toml to create a new form.",
        )
    requests = create_requests(spec, email_collection)
    plan = {
        "school": school.name,
        "spec": spec.source,
        "reuse_form_id": existing.get("formId") if existing else None,
        "requests": [summarise_request(r) for r in requests],
        "publish": True,
        "folder": folder,
    }
    if dry_run:
        return {"dry_run": True, **plan}

    forms = ws.forms().forms()
    if existing is None:
        document_title = spec.document_title or f"{spec.title} - {school.name}"  # names it in Drive
        body = {"info": {"title": spec.title, "documentTitle": document_title}}
        created = ws.execute(forms.create(body=body), "Forms forms.create")
        form_id = str(created["formId"])
        # Recorded at once, so a failure below leaves no orphan: a rerun reuses this form.
        _record(config, school, form_id=form_id, form_questions={})
        revision = created.get("revisionId")
    else:
        form_id = str(existing["formId"])
        revision = existing.get("revisionId")
    batch: dict[str, Any] = {"requests": requests}
    if revision:
        batch["writeControl"] = {"requiredRevisionId": revision}
    reply = ws.execute(forms.batchUpdate(formId=form_id, body=batch), "Forms forms.batchUpdate")
    replies = reply.get("replies", [])
    question_ids: dict[str, str] = {}
    offset = len(requests) - len(spec.items)
    for i, item in enumerate(spec.items):
        ids = replies[offset + i].get("createItem", {}).get("questionId", [])
        if ids:
            question_ids[item.key] = str(ids[0])
    ws.execute(
        forms.setPublishSettings(formId=form_id, body=publish_request()),
        "Forms forms.setPublishSettings",
    )
    if folder:
        move_to_folder(ws, form_id, folder)
    recorded = _record(config, school, form_id=form_id, form_questions=question_ids)
    form = get_form(ws, form_id)
    log.info("created Form A %s with %d questions", form_id, len(question_ids))
    return {
        "dry_run": False,
        **plan,
        "form_id": form_id,
        "responder_uri": form.get("responderUri"),
        "form_questions": question_ids,
        "config_updated": recorded,
    }


def move_to_folder(ws: Any, file_id: str, folder: str) -> None:
    """Move a file into a Drive folder or Shared Drive (addParents; old parents removed)."""
    drive = ws.drive().files()
    meta = ws.execute(
        drive.get(fileId=file_id, fields="id,parents", supportsAllDrives=True), "Drive files.get"
    )
    old = [p for p in meta.get("parents", []) if p != folder]
    kwargs: dict[str, Any] = {
        "fileId": file_id,
        "addParents": folder,
        "supportsAllDrives": True,
        "fields": "id,parents",
        "body": {},
    }
    if old:
        kwargs["removeParents"] = ",".join(old)
    ws.execute(drive.update(**kwargs), "Drive files.update")


def _target(
    config: Config, school_name: str, round_key: str | None
) -> tuple[FormSpec, SchoolConfig]:
    """The spec and form ids of a school's Form A, or of one survey round's form (issue 11)."""
    school = config.school(school_name)
    if round_key is None:
        return spec_for_school(config, school), school
    from gsync.rounds import round_form_target

    return round_form_target(config, school, round_key)


def _require_form(ws: Any, school: SchoolConfig) -> dict[str, Any]:
    round_key = getattr(school, "round_key", None)  # a round's form (gsync.rounds.RoundTarget)
    if not school.form_id:
        what = f"no form for the round {round_key!r}" if round_key else "no form_id"
        flag = f" --round {round_key}" if round_key else ""
        raise ConfigError(
            f"School {school.name!r} has {what} in the configuration.",
            fix=f"run `gsync form create --school {school.name}{flag}` first.",
        )
    return get_form(ws, school.form_id)


def update_form(
    ws: Any,
    config: Config,
    school_name: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    round_key: str | None = None,
) -> dict[str, Any]:
    """Bring a school's live Form A (or `round_key`'s form) to its spec in one guarded
    batchUpdate (none if in spec); new question ids are recorded where the form's are."""
    spec, school = _target(config, school_name, round_key)
    live = _require_form(ws, school)
    plan = plan_update(spec, live, school.form_questions)
    answered: dict[str, int] = {}
    if plan.deleted_question_ids:
        counts = answered_questions(list_responses(ws, str(live["formId"])))
        answered = {q: counts[q] for q in plan.deleted_question_ids if q in counts}
    result: dict[str, Any] = {
        "school": school.name,
        "form_id": live.get("formId"),
        "spec": spec.source,
        "in_spec": plan.in_spec,
        "requests": [summarise_request(r) for r in plan.requests],
        "deletes_answered_questions": len(answered),
        "dry_run": dry_run,
        "round": round_key,
    }
    if answered and not force and not dry_run:
        raise ConfigError(
            f"The update would delete {len(answered)} question(s) that already have answers "
            f"({sum(answered.values())} answer(s) in all); nothing was changed.",
            fix="check the spec (a renamed key or a changed kind recreates the question), or "
            "rerun with --force to delete them.",
        )
    if dry_run:
        return result
    question_ids = dict(plan.question_ids)
    if plan.requests:
        body = {
            "requests": plan.requests,
            "writeControl": {"requiredRevisionId": live.get("revisionId")},
        }
        try:
            reply = ws.execute(
                ws.forms().forms().batchUpdate(formId=str(live["formId"]), body=body),
                "Forms forms.batchUpdate",
            )
        except GoogleApiError as exc:
            if exc.status in (400, 412) and "revision" in exc.message.casefold():
                raise GoogleApiError(
                    f"{exc.message} (someone changed the form while gsync was updating it; "
                    "nothing was written)",
                    status=exc.status,
                    reason=exc.reason,
                    fix=f"run `gsync form update --school {school.name}"
                    + (f" --round {round_key}" if round_key else "")
                    + "` again.",
                ) from None
            raise
        replies = reply.get("replies", [])
        for key, index in plan.create_request_index.items():
            ids = replies[index].get("createItem", {}).get("questionId", []) if replies else []
            if ids:
                question_ids[key] = str(ids[0])
    if question_ids != school.form_questions:
        result["config_updated"] = _record(config, school, form_questions=question_ids)
    result["form_questions"] = question_ids
    return result


def show_form(
    ws: Any, config: Config, school_name: str, *, round_key: str | None = None
) -> dict[str, Any]:
    """The live form (Form A, or `round_key`'s form) against its spec, publish state, accepting
    responses, response count."""
    spec, school = _target(config, school_name, round_key)
    live = _require_form(ws, school)
    plan = plan_update(spec, live, school.form_questions)
    state = live.get("publishSettings", {}).get("publishState", {})
    responses = list_responses(ws, str(live["formId"]))
    return {
        "school": school.name,
        "round": round_key,
        "form_id": live.get("formId"),
        "responder_uri": live.get("responderUri"),
        "spec": spec.source,
        "in_spec": plan.in_spec,
        "info_differs": plan.info_changes,
        "items": [
            {
                "key": s.key,
                "title": s.title,
                "state": s.state,
                "changes": list(s.changes),
                "question_id": s.question_id,
            }
            for s in plan.items
        ],
        # Forms made before the publish settings existed report none and are published.
        "published": bool(state.get("isPublished", not state)),
        "accepting_responses": bool(state.get("isAcceptingResponses", not state)),
        "email_collection": live.get("settings", {}).get("emailCollectionType"),
        "response_count": len(responses),
        "pending_requests": [summarise_request(r) for r in plan.requests],
    }
