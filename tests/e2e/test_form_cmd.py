"""`gsync form create / update / show / letter` end to end against the emulator."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gsync.config import load_config
from gsync.errors import GsyncError
from gsync.formspec import item_body, load_spec
from gsync.formsync import get_form, update_form
from gsync.paths import forms_dir

pytestmark = pytest.mark.e2e

BATCH = "forms.forms.batchUpdate"
WRITES = ("forms.forms.create", BATCH, "forms.forms.setPublishSettings", "drive.files.update")


def school_entry(config_file: Path, name: str) -> dict[str, Any]:
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    return next(s for s in data["schools"] if s["name"] == name)


def create(cli: Any, school: str = "Southgate", *extra: str) -> dict[str, Any]:
    result = cli("form", "create", "--school", school, "--json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def writes(emulator: Any) -> int:
    return sum(emulator.client.count(method=m) for m in WRITES)


def strip_ids(item: dict[str, Any]) -> dict[str, Any]:
    item = json.loads(json.dumps(item))
    item.pop("itemId", None)
    item.get("questionItem", {}).get("question", {}).pop("questionId", None)
    return item


def test_create_builds_every_form_a_field_published(
    cli: Any, emulator: Any, workspace: Any, config_file: Path
) -> None:
    emulator.client.clear_log()
    data = create(cli)
    # Exactly: forms.create, one batchUpdate, setPublishSettings (plus reads).
    assert emulator.client.count(method="forms.forms.create") == 1
    assert emulator.client.count(method=BATCH) == 1
    assert emulator.client.count(method="forms.forms.setPublishSettings") == 1

    form = get_form(workspace, data["form_id"])
    spec = load_spec(forms_dir() / "form_a_y13.toml")
    assert [strip_ids(i) for i in form["items"]] == [item_body(i) for i in spec.items]
    titles = [i["title"] for i in form["items"]]
    assert titles[0] == "Name" and titles[-1].startswith("Do you agree")
    destination = form["items"][5]["questionItem"]["question"]["choiceQuestion"]
    assert destination["type"] == "RADIO"
    assert {"isOther": True} in destination["options"]
    assert {"value": "University / higher education"} in destination["options"]
    assert form["info"]["description"] == spec.description
    assert form["publishSettings"]["publishState"] == {
        "isPublished": True,
        "isAcceptingResponses": True,
    }
    assert form["settings"]["emailCollectionType"] == "VERIFIED"
    assert data["responder_uri"] == form["responderUri"]

    # Recorded in gsync.toml (comments kept), where the sync finds them.
    entry = school_entry(config_file, "Southgate")
    assert entry["form_id"] == data["form_id"]
    live_qids = [i["questionItem"]["question"]["questionId"] for i in form["items"]]
    assert list(entry["form_questions"].values()) == live_qids
    assert list(entry["form_questions"]) == spec.keys()
    assert config_file.read_text(encoding="utf-8").startswith("# A trust of two schools")
    assert "form_id" not in school_entry(config_file, "Northfield")


def test_create_human_output_prints_responder_link(cli: Any, config_file: Path) -> None:
    result = cli(
        "form", "create", "--school", "northfield", "--email-collection", "responder-input"
    )
    assert result.exit_code == 0, result.output
    assert "Responder link: https://" in result.output
    config = load_config(config_file)
    assert config.school("Northfield").form_id


def test_responder_input_and_y11_options(cli: Any, workspace: Any) -> None:
    data = create(cli, "Northfield", "--email-collection", "responder-input")
    form = get_form(workspace, data["form_id"])
    assert form["settings"]["emailCollectionType"] == "RESPONDER_INPUT"
    options = form["items"][5]["questionItem"]["question"]["choiceQuestion"]["options"]
    assert {"value": "University / higher education"} not in options


def test_second_create_refuses(cli: Any, emulator: Any, config_file: Path) -> None:
    first = create(cli)
    emulator.client.clear_log()
    result = cli("form", "create", "--school", "Southgate")
    assert result.exit_code == 2
    assert "already has Form A" in result.output
    assert "gsync form update --school Southgate" in result.output
    assert writes(emulator) == 0
    assert school_entry(config_file, "Southgate")["form_id"] == first["form_id"]


def test_interrupted_create_is_resumed_not_duplicated(
    cli: Any, emulator: Any, workspace: Any, config_file: Path
) -> None:
    emulator.client.inject(BATCH, status=503, count=100)  # more than the bounded retries
    failed = cli("form", "create", "--school", "Southgate")
    assert failed.exit_code == 4, failed.output
    emulator.client.clear_faults()
    form_id = school_entry(config_file, "Southgate")["form_id"]  # recorded straight away
    assert get_form(workspace, form_id).get("items", []) == []
    emulator.client.clear_log()
    data = create(cli)
    assert data["form_id"] == form_id
    assert emulator.client.count(method="forms.forms.create") == 0
    assert len(get_form(workspace, form_id)["items"]) == 12
    assert len(school_entry(config_file, "Southgate")["form_questions"]) == 12


def test_create_dry_run_writes_nothing(cli: Any, emulator: Any, config_file: Path) -> None:
    emulator.client.clear_log()
    result = cli("form", "create", "--school", "Southgate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "createItem at 11" in result.output
    assert emulator.client.log() == []
    assert "form_id" not in school_entry(config_file, "Southgate")


def test_create_into_folder(cli: Any, workspace: Any) -> None:
    folder = workspace.execute(
        workspace.drive()
        .files()
        .create(body={"name": "CEIAG", "mimeType": "application/vnd.google-apps.folder"})
    )
    data = create(cli, "Southgate", "--folder", folder["id"])
    meta = workspace.execute(
        workspace.drive().files().get(fileId=data["form_id"], fields="parents")
    )
    assert meta["parents"] == [folder["id"]]


def test_update_in_spec_makes_zero_writes(cli: Any, emulator: Any) -> None:
    create(cli)
    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Southgate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["in_spec"] is True
    assert emulator.client.count(method=BATCH) == 0
    assert writes(emulator) == 0
    assert emulator.client.count(method="forms.forms.get") == 1


def _with_options(config_file: Path, tmp_path: Path, extra: str) -> None:
    spec = tmp_path / "our_form.toml"
    spec.write_text(
        f'extends = "{forms_dir() / "form_a_y13.toml"}"\n[add_options]\n{extra}\n',
        encoding="utf-8",
    )
    text = config_file.read_text(encoding="utf-8")
    marker = 'name = "Southgate"\n'
    config_file.write_text(
        text.replace(marker, marker + 'form_spec = "our_form.toml"\n'), encoding="utf-8"
    )


def test_one_option_change_is_one_minimal_batch_update(
    cli: Any, emulator: Any, workspace: Any, config_file: Path, tmp_path: Path
) -> None:
    data = create(cli)
    _with_options(config_file, tmp_path, 'destination = ["Gap year"]')
    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Southgate", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["requests"] == [
        "updateItem at 5: "
        "'Destination information: what have you secured to do after leaving our academy?' "
        "[questionItem.question.choiceQuestion.options]"
    ]
    assert emulator.client.count(method=BATCH) == 1
    form = get_form(workspace, data["form_id"])
    options = form["items"][5]["questionItem"]["question"]["choiceQuestion"]["options"]
    assert options[-2:] == [{"value": "Gap year"}, {"isOther": True}]
    # The question id survives the update, so the sync keeps reading the same answers.
    qid = form["items"][5]["questionItem"]["question"]["questionId"]
    assert school_entry(config_file, "Southgate")["form_questions"]["destination"] == qid
    emulator.client.clear_log()
    again = cli("form", "update", "--school", "Southgate")
    assert "matches its spec" in again.output
    assert emulator.client.count(method=BATCH) == 0


def test_update_dry_run(cli: Any, emulator: Any, config_file: Path, tmp_path: Path) -> None:
    create(cli)
    _with_options(config_file, tmp_path, 'level = ["Level 9"]')
    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Southgate", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would send one forms.batchUpdate of 1 request" in result.output
    assert writes(emulator) == 0


def test_update_is_guarded_by_revision(
    cli: Any, emulator: Any, workspace: Any, config_file: Path, tmp_path: Path
) -> None:
    """A form edited between gsync's read and its write is not overwritten."""
    data = create(cli)
    _with_options(config_file, tmp_path, 'level = ["Level 9"]')
    form_id = data["form_id"]
    real_execute = workspace.execute
    rename = {"updateFormInfo": {"info": {"title": "Edited meanwhile"}, "updateMask": "title"}}

    def racing_execute(request: Any, what: str | None = None) -> Any:
        if getattr(request, "methodId", "") == BATCH:
            forms = workspace.forms().forms()
            real_execute(forms.batchUpdate(formId=form_id, body={"requests": [rename]}))
        return real_execute(request, what)

    workspace.execute = racing_execute
    with pytest.raises(GsyncError, match="revision") as err:
        update_form(workspace, load_config(config_file), "Southgate")
    assert "nothing was written" in err.value.render()
    workspace.execute = real_execute
    form = get_form(workspace, form_id)
    assert form["info"]["title"] == "Edited meanwhile"
    level = form["items"][7]["questionItem"]["question"]["choiceQuestion"]["options"]
    assert {"value": "Level 9"} not in level


def test_update_restores_a_hand_edited_form(
    cli: Any, emulator: Any, workspace: Any, config_file: Path
) -> None:
    data = create(cli)
    form_id = data["form_id"]
    live = get_form(workspace, form_id)
    forms = workspace.forms().forms()
    # Someone moves "Name" to the end, deletes "Telephone" and adds a question of their own.
    hand_edit = [
        {"moveItem": {"originalLocation": {"index": 0}, "newLocation": {"index": 11}}},
        {"deleteItem": {"location": {"index": 3}}},
        {
            "createItem": {
                "item": {"title": "Shoe size", "questionItem": {"question": {"textQuestion": {}}}},
                "location": {"index": 0},
            }
        },
    ]
    workspace.execute(forms.batchUpdate(formId=form_id, body={"requests": hand_edit}))
    assert live["items"][4]["title"] == "Telephone number"

    shown = json.loads(cli("form", "show", "--school", "Southgate", "--json").output)
    states = {i["key"]: i["state"] for i in shown["items"]}
    assert states["telephone"] == "missing"
    assert states["full_name"] == "differs"
    assert states[None] == "extra"
    assert shown["in_spec"] is False

    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Southgate", "--json")
    assert result.exit_code == 0, result.output
    assert emulator.client.count(method=BATCH) == 1
    form = get_form(workspace, form_id)
    spec = load_spec(forms_dir() / "form_a_y13.toml")
    assert [strip_ids(i) for i in form["items"]] == [item_body(i) for i in spec.items]
    entry = school_entry(config_file, "Southgate")
    assert (
        entry["form_questions"]["telephone"]
        == (form["items"][4]["questionItem"]["question"]["questionId"])
    )
    assert entry["form_questions"]["full_name"] == data["form_questions"]["full_name"]


def test_deleting_an_answered_question_needs_force(
    cli: Any, emulator: Any, workspace: Any, config_file: Path
) -> None:
    data = create(cli)
    form_id = data["form_id"]
    forms = workspace.forms().forms()
    extra = {
        "createItem": {
            "item": {"title": "Shoe size", "questionItem": {"question": {"textQuestion": {}}}},
            "location": {"index": 12},
        }
    }
    reply = workspace.execute(forms.batchUpdate(formId=form_id, body={"requests": [extra]}))
    shoe = reply["replies"][0]["createItem"]["questionId"][0]
    q = data["form_questions"]
    emulator.client.submit_response(
        form_id,
        {
            q["full_name"]: "A Pupil",
            q["date_of_birth"]: "2008-01-02",
            q["leaving_year"]: "2026",
            q["consent"]: "Yes, I agree",
            shoe: "7",
        },
        respondent_email="pupil@pupils.southgate.sch.uk",
    )
    emulator.client.clear_log()
    refused = cli("form", "update", "--school", "Southgate")
    assert refused.exit_code == 2
    assert "1 question(s) that already have answers" in refused.output
    assert "A Pupil" not in refused.output
    assert emulator.client.count(method=BATCH) == 0

    shown = json.loads(cli("form", "show", "--school", "Southgate", "--json").output)
    assert shown["response_count"] == 1

    forced = cli("form", "update", "--school", "Southgate", "--force")
    assert forced.exit_code == 0, forced.output
    assert emulator.client.count(method=BATCH) == 1
    assert len(get_form(workspace, form_id)["items"]) == 12


def test_show_human(cli: Any) -> None:
    create(cli)
    result = cli("form", "show", "--school", "Southgate")
    assert result.exit_code == 0, result.output
    assert "Published: yes; accepting responses: yes; email collection: VERIFIED" in result.output
    assert "matches  consent" in result.output
    assert "In spec." in result.output


def test_update_without_form_is_clear(cli: Any) -> None:
    result = cli("form", "update", "--school", "Southgate")
    assert result.exit_code == 2
    assert "gsync form create --school Southgate" in result.output


def test_malformed_spec_makes_no_request(
    cli: Any, emulator: Any, config_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "bad.toml").write_text(
        'title = "T"\n[[items]]\nkey = "a"\ntitle = "Q"\nkind = "radio"\noptions = []\n',
        encoding="utf-8",
    )
    text = config_file.read_text(encoding="utf-8")
    marker = 'name = "Southgate"\n'
    config_file.write_text(text.replace(marker, marker + 'form_spec = "bad.toml"\n'))
    emulator.client.clear_log()
    for command in ("create", "update", "show"):
        result = cli("form", command, "--school", "Southgate")
        assert result.exit_code == 2, result.output
        assert "bad.toml: items[0].options" in result.output
        assert "Traceback" not in result.output
    assert emulator.client.log() == []


def test_letter_command(cli: Any, tmp_path: Path, config_file: Path) -> None:
    out = tmp_path / "letters"
    result = cli("form", "letter", "--school", "Southgate", "--out", str(out))
    assert result.exit_code == 0, result.output
    page = (out / "form_b_southgate.html").read_text(encoding="utf-8")
    assert "Ali Leader" in page and "mailto:careers@southgate.sch.uk" in page
    assert (out / "form_b_southgate.md").exists()
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace('careers_leader = "Sam Careers"\n', ""), encoding="utf-8")
    missing = cli("form", "letter", "--school", "Northfield", "--out", str(out))
    assert missing.exit_code == 2
    assert "careers_leader" in missing.output
