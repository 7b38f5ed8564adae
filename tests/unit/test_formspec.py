"""Form A spec loading / validation, the spec -> Forms API mapping, and the update planner."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync.errors import SpecError
from gsync.formspec import FormSpec, default_spec_path, item_body, load_spec, parse_spec
from gsync.formsync import create_requests, plan_update
from gsync.paths import forms_dir

BASE_DESTINATIONS = [
    "Employment with training",
    "Apprenticeship",
    "College",
    "Sixth form",
    "Voluntary work",
    "Traineeship",
]
KEYS = [
    "full_name",
    "date_of_birth",
    "leaving_year",
    "personal_email",
    "telephone",
    "destination",
    "course",
    "level",
    "provider",
    "start_date",
    "duration",
    "consent",
]


# --- the shipped specs -------------------------------------------------------------------------


def test_base_spec_has_every_form_a_key_in_seed_order() -> None:
    spec = load_spec(forms_dir() / "form_a.toml")
    assert spec.keys() == KEYS
    destination = spec.item("destination")
    assert destination.kind == "radio" and destination.other
    assert destination.options == BASE_DESTINATIONS
    level = spec.item("level")
    assert level.kind == "drop_down"
    assert level.options == ["Entry level", *[f"Level {n}" for n in range(1, 9)], "Not sure"]
    consent = spec.item("consent")
    assert consent.required and consent.options == ["Yes, I agree", "No, I do not agree"]
    assert spec.item("date_of_birth").kind == "date" and spec.item("start_date").kind == "date"
    assert "three years" in spec.description and "anonymised" in spec.description


def test_phase_variants() -> None:
    y11 = load_spec(default_spec_path("Y11"))
    y13 = load_spec(default_spec_path("Y13"))
    assert y11.item("destination").options == BASE_DESTINATIONS
    assert y13.item("destination").options == [
        *BASE_DESTINATIONS,
        "University / higher education",
        "Degree apprenticeship",
    ]
    assert y13.item("destination").other
    assert y13.keys() == KEYS


# --- validation errors name the file and the line or key ---------------------------------------


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD_HEAD = 'title = "T"\n'


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD_HEAD + '[[items]]\nkey = "a"\nkey = "b"\n')
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert f"{path.resolve()}, line 4" in err.value.render()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ('key = "a"\ntitle = "Q"\nkind = "radio"\noptions = []\n', "items[1]"),
        ('key = "a"\ntitle = "Q"\nkind = "radio"\n', "non-empty 'options'"),
        ('key = "a"\ntitle = "Q"\nkind = "drop_down"\noptions = ["x"]\nother = true\n', "other"),
        ('key = "a"\ntitle = "Q"\nkind = "short_text"\ncolour = "red"\n', "items[1].colour"),
        ('key = "a"\ntitle = "Q"\nkind = "slider"\n', "items[1].kind"),
        ('key = "Bad Key"\ntitle = "Q"\nkind = "date"\n', "lower_snake_case"),
        ('key = "a"\ntitle = "Q"\nkind = "radio"\noptions = ["x", "X"]\n', "appears twice"),
        ('key = "first"\ntitle = "Q"\nkind = "date"\n', "used by two items"),
        ('key = "a"\ntitle = "   "\nkind = "date"\n', "blank"),
    ],
)
def test_semantic_errors(tmp_path: Path, item: str, expected: str) -> None:
    text = GOOD_HEAD + '[[items]]\nkey = "first"\ntitle = "Q0"\nkind = "date"\n\n[[items]]\n' + item
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = err.value.render()
    assert str(path.resolve()) in message
    assert expected in message


def test_item_error_points_at_item_line(tmp_path: Path) -> None:
    text = GOOD_HEAD + '\n[[items]]\nkey = "a"\ntitle = "Q"\nkind = "radio"\noptions = []\n'
    with pytest.raises(SpecError) as err:
        load_spec(_write(tmp_path, text))
    assert "items[0].options" in err.value.render()
    assert "line 3" in err.value.render()


def test_missing_items_and_unknown_top_level(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="items: missing"):
        load_spec(_write(tmp_path, GOOD_HEAD))
    with pytest.raises(SpecError, match="colour: unknown key"):
        load_spec(_write(tmp_path, GOOD_HEAD + 'colour = "red"\n', "b.toml"))


def test_variant_errors(tmp_path: Path) -> None:
    base = forms_dir() / "form_a.toml"
    bad_key = f'extends = "{base}"\n[add_options]\nnope = ["x"]\n'
    with pytest.raises(SpecError, match=r"add_options\.nope"):
        load_spec(_write(tmp_path, bad_key))
    not_choice = f'extends = "{base}"\n[add_options]\ncourse = ["x"]\n'
    with pytest.raises(SpecError, match="not a choice"):
        load_spec(_write(tmp_path, not_choice, "c.toml"))
    duplicate = f'extends = "{base}"\n[add_options]\ndestination = ["College"]\n'
    with pytest.raises(SpecError, match="appears twice"):
        load_spec(_write(tmp_path, duplicate, "d.toml"))
    loop = _write(tmp_path, 'extends = "loop.toml"\n', "loop.toml")
    with pytest.raises(SpecError, match="loops"):
        load_spec(loop)
    with pytest.raises(SpecError, match="not found"):
        load_spec(tmp_path / "absent.toml")


def test_school_copy_adds_options_and_retitles(tmp_path: Path) -> None:
    base = forms_dir() / "form_a_y13.toml"
    text = f'extends = "{base}"\ntitle = "Our form"\n[add_options]\ndestination = ["Gap year"]\n'
    spec = load_spec(_write(tmp_path, text))
    assert spec.title == "Our form"
    assert spec.item("destination").options[-3:] == [
        "University / higher education",
        "Degree apprenticeship",
        "Gap year",
    ]


# --- spec -> Forms API -------------------------------------------------------------------------


def test_item_bodies_map_kinds() -> None:
    spec = load_spec(forms_dir() / "form_a.toml")
    dob = item_body(spec.item("date_of_birth"))["questionItem"]["question"]
    assert dob == {"required": True, "dateQuestion": {"includeYear": True}}
    name = item_body(spec.item("full_name"))["questionItem"]["question"]
    assert name == {"required": True, "textQuestion": {}}
    dest = item_body(spec.item("destination"))["questionItem"]["question"]["choiceQuestion"]
    assert dest["type"] == "RADIO"
    assert dest["options"][-1] == {"isOther": True}
    assert [o["value"] for o in dest["options"][:-1]] == BASE_DESTINATIONS
    level = item_body(spec.item("level"))["questionItem"]["question"]["choiceQuestion"]
    assert level["type"] == "DROP_DOWN" and not any(o.get("isOther") for o in level["options"])
    assert item_body(spec.item("personal_email"))["description"].startswith("An email")
    paragraph = parse_spec(
        {"title": "T", "items": [{"key": "a", "title": "Q", "kind": "paragraph"}]}
    )
    assert item_body(paragraph.items[0])["questionItem"]["question"]["textQuestion"] == {
        "paragraph": True
    }


def test_create_requests_order() -> None:
    spec = load_spec(forms_dir() / "form_a.toml")
    requests = create_requests(spec, "RESPONDER_INPUT")
    assert requests[0]["updateFormInfo"]["info"]["description"] == spec.description
    assert requests[1]["updateSettings"]["settings"] == {"emailCollectionType": "RESPONDER_INPUT"}
    creates = [r["createItem"] for r in requests[2:]]
    assert [c["location"]["index"] for c in creates] == list(range(len(KEYS)))
    assert [c["item"]["title"] for c in creates] == [i.title for i in spec.items]


# --- the update planner ------------------------------------------------------------------------


def live_form(spec: FormSpec) -> tuple[dict[str, Any], dict[str, str]]:
    """A live form exactly as `spec` would be created, and the key -> question id map."""
    items = []
    qids = {}
    for n, item in enumerate(spec.items):
        body = item_body(item)
        body["itemId"] = f"item{n}"
        body["questionItem"]["question"]["questionId"] = f"q{n}"
        qids[item.key] = f"q{n}"
        items.append(body)
    info = {"title": spec.title, "description": spec.description, "documentTitle": spec.title}
    return {"formId": "F", "revisionId": "1", "info": info, "items": items}, qids


def _set(target: dict[str, Any], source: dict[str, Any], path: str) -> None:
    parts = path.split(".")
    src: Any = source
    for part in parts:
        src = src.get(part) if isinstance(src, dict) else None
    dst = target
    for part in parts[:-1]:
        dst = dst.setdefault(part, {})
    if src is None:
        dst.pop(parts[-1], None)
    else:
        dst[parts[-1]] = copy.deepcopy(src)


def apply(form: dict[str, Any], requests: list[dict[str, Any]]) -> dict[str, Any]:
    """A minimal model of forms.batchUpdate's item requests, to check a plan's outcome."""
    form = copy.deepcopy(form)
    items = form["items"]
    fresh = 100
    for request in requests:
        ((name, body),) = request.items()
        if name == "createItem":
            item = copy.deepcopy(body["item"])
            item["itemId"] = f"new{fresh}"
            item["questionItem"]["question"]["questionId"] = f"nq{fresh}"
            fresh += 1
            items.insert(body["location"]["index"], item)
        elif name == "deleteItem":
            del items[body["location"]["index"]]
        elif name == "moveItem":
            item = items.pop(body["originalLocation"]["index"])
            items.insert(body["newLocation"]["index"], item)
        elif name == "updateItem":
            target = items[body["location"]["index"]]
            assert target["itemId"] == body["item"]["itemId"]
            for path in body["updateMask"].split(","):
                _set(target, body["item"], path)
        elif name == "updateFormInfo":
            for path in body["updateMask"].split(","):
                _set(form["info"], body["info"], path)
    return form


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    item = copy.deepcopy(item)
    item.pop("itemId", None)
    item["questionItem"]["question"].pop("questionId", None)
    return item


def assert_in_spec(spec: FormSpec, form: dict[str, Any]) -> None:
    assert [_strip(i) for i in form["items"]] == [item_body(i) for i in spec.items]
    assert plan_update(spec, form).requests == []


SPEC = load_spec(forms_dir() / "form_a_y13.toml")


def test_in_spec_form_needs_no_requests() -> None:
    form, qids = live_form(SPEC)
    plan = plan_update(SPEC, form, qids)
    assert plan.requests == []
    assert plan.in_spec
    assert plan.question_ids == qids
    assert all(s.state == "matches" for s in plan.items)


def test_one_option_change_is_one_minimal_update() -> None:
    form, qids = live_form(SPEC)
    options = form["items"][5]["questionItem"]["question"]["choiceQuestion"]["options"]
    options.pop(6)  # drop "University / higher education"
    plan = plan_update(SPEC, form, qids)
    assert len(plan.requests) == 1
    update = plan.requests[0]["updateItem"]
    assert update["updateMask"] == "questionItem.question.choiceQuestion.options"
    assert update["location"] == {"index": 5}
    assert update["item"]["questionItem"]["question"]["questionId"] == "q5"
    status = next(s for s in plan.items if s.key == "destination")
    assert status.state == "differs"
    assert "+'University / higher education'" in status.changes[0]
    assert_in_spec(SPEC, apply(form, plan.requests))


def test_required_and_title_changes_share_one_update() -> None:
    form, qids = live_form(SPEC)
    form["items"][0]["title"] = "Your name"
    form["items"][0]["questionItem"]["question"]["required"] = False
    plan = plan_update(SPEC, form, qids)
    assert len(plan.requests) == 1
    assert plan.requests[0]["updateItem"]["updateMask"] == "title,questionItem.question.required"


def test_match_falls_back_to_title_when_ids_unknown() -> None:
    form, _ = live_form(SPEC)
    plan = plan_update(SPEC, form, {})
    assert plan.requests == []
    assert plan.question_ids["consent"] == "q11"


def test_move_to_end_is_one_move() -> None:
    form, qids = live_form(SPEC)
    form["items"].append(form["items"].pop(0))  # name moved to the end of the live form
    plan = plan_update(SPEC, form, qids)
    assert plan.requests == [
        {"moveItem": {"originalLocation": {"index": 11}, "newLocation": {"index": 0}}}
    ]
    assert_in_spec(SPEC, apply(form, plan.requests))


def test_missing_extra_and_info() -> None:
    form, qids = live_form(SPEC)
    del form["items"][3]  # personal_email missing
    form["items"].insert(0, {"itemId": "x", "title": "Favourite colour", "textItem": {}})
    form["info"]["description"] = "old text"
    plan = plan_update(SPEC, form, qids)
    names = [next(iter(r)) for r in plan.requests]
    assert names == ["updateFormInfo", "deleteItem", "createItem"]
    assert plan.requests[0]["updateFormInfo"]["updateMask"] == "description"
    assert plan.created_keys == ["personal_email"]
    states = {s.key: s.state for s in plan.items}
    assert states["personal_email"] == "missing"
    assert states[None] == "extra"
    assert plan.deleted_question_ids == []  # a text item has no answers
    assert_in_spec(SPEC, apply(form, plan.requests))


def test_kind_change_recreates_question() -> None:
    form, qids = live_form(SPEC)
    form["items"][1]["questionItem"]["question"] = {"questionId": "q1", "textQuestion": {}}
    plan = plan_update(SPEC, form, qids)
    assert plan.deleted_question_ids == ["q1"]
    assert plan.created_keys == ["date_of_birth"]
    assert "date_of_birth" not in plan.question_ids
    assert_in_spec(SPEC, apply(form, plan.requests))


@settings(max_examples=150, deadline=None)
@given(
    order=st.permutations(list(range(len(SPEC.items)))),
    keep=st.lists(st.booleans(), min_size=len(SPEC.items), max_size=len(SPEC.items)),
    extras=st.lists(st.integers(0, 12), max_size=3),
    retitle=st.sets(st.integers(0, len(SPEC.items) - 1), max_size=3),
)
def test_any_live_form_is_brought_to_spec(
    order: list[int], keep: list[bool], extras: list[int], retitle: set[int]
) -> None:
    """Whatever the live form's order, gaps, extras and edits, the plan yields the spec exactly,
    kept items keep their question ids, and moves never exceed the items out of order."""
    form, qids = live_form(SPEC)
    items = [form["items"][i] for i in order if keep[i]]
    for i in retitle:
        for it in items:
            if it["itemId"] == f"item{i}":
                it["description"] = "stale help"
    for n, at in enumerate(extras):
        items.insert(min(at, len(items)), {"itemId": f"extra{n}", "title": f"X{n}", "textItem": {}})
    form["items"] = items
    plan = plan_update(SPEC, form, qids)
    result = apply(form, plan.requests)
    assert_in_spec(SPEC, result)
    kept = {f"q{i}" for i in range(len(SPEC.items)) if keep[i]}
    assert {i["questionItem"]["question"]["questionId"] for i in result["items"]} >= kept
    moves = sum(1 for r in plan.requests if "moveItem" in r)
    assert moves <= sum(keep)
    assert sum(1 for r in plan.requests if "deleteItem" in r) == len(extras)
