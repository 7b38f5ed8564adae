"""`gsync form update --round` and `gsync form show --round` end to end against the emulator."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gsync.formspec import item_body, load_spec
from gsync.formsync import get_form
from gsync.paths import forms_dir

pytestmark = pytest.mark.e2e

BATCH = "forms.forms.batchUpdate"
WRITES = ("forms.forms.create", BATCH, "forms.forms.setPublishSettings", "drive.files.update")
ROUND = "y11_december"  # Northfield is the sample's Y11 school
SPEC = "round_y11_intended.toml"  # deadlines.toml: the December round's form


def school_entry(config_file: Path, name: str) -> dict[str, Any]:
    data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    return next(s for s in data["schools"] if s["name"] == name)


def writes(emulator: Any) -> int:
    return sum(emulator.client.count(method=m) for m in WRITES)


def strip_ids(item: dict[str, Any]) -> dict[str, Any]:
    item = json.loads(json.dumps(item))
    item.pop("itemId", None)
    item.get("questionItem", {}).get("question", {}).pop("questionId", None)
    return item


def create_round(cli: Any, round_key: str = ROUND) -> dict[str, Any]:
    result = cli("form", "create", "--school", "Northfield", "--round", round_key, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_update_round_in_spec_makes_zero_writes(cli: Any, emulator: Any) -> None:
    create_round(cli)
    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Northfield", "--round", ROUND, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["in_spec"] is True and data["round"] == ROUND
    assert data["spec"].endswith(SPEC)
    assert writes(emulator) == 0
    assert emulator.client.count(method="forms.forms.get") == 1
    human = cli("form", "update", "--school", "Northfield", "--round", ROUND)
    assert f"The {ROUND} form for Northfield matches its spec" in human.output


def test_show_round_reads_the_round_form_not_form_a(
    cli: Any, emulator: Any, config_file: Path
) -> None:
    data = create_round(cli)
    result = cli("form", "show", "--school", "Northfield", "--round", ROUND, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["form_id"] == data["form_id"]
    assert shown["round"] == ROUND
    assert shown["in_spec"] is True
    spec = load_spec(forms_dir() / SPEC)
    assert [i["key"] for i in shown["items"]] == spec.keys()
    assert {i["state"] for i in shown["items"]} == {"matches"}
    assert shown["response_count"] == 0
    # Northfield has no Form A: without --round the same command says so.
    assert "form_id" not in school_entry(config_file, "Northfield")
    plain = cli("form", "show", "--school", "Northfield")
    assert plain.exit_code == 2
    assert "gsync form create --school Northfield`" in plain.output
    human = cli("form", "show", "--school", "Northfield", "--round", ROUND)
    assert f"The {ROUND} form for Northfield: {data['form_id']}" in human.output
    assert "In spec." in human.output


def test_update_round_restores_a_hand_edited_round_form(
    cli: Any, emulator: Any, workspace: Any, config_file: Path
) -> None:
    data = create_round(cli)
    form_id = data["form_id"]
    forms = workspace.forms().forms()
    live = get_form(workspace, form_id)
    assert live["items"][4]["title"] == "Subject / course / job title"
    # Someone deletes the course question and adds one of their own at the top.
    hand_edit = [
        {"deleteItem": {"location": {"index": 4}}},
        {
            "createItem": {
                "item": {"title": "Shoe size", "questionItem": {"question": {"textQuestion": {}}}},
                "location": {"index": 0},
            }
        },
    ]
    workspace.execute(forms.batchUpdate(formId=form_id, body={"requests": hand_edit}))

    shown = json.loads(
        cli("form", "show", "--school", "Northfield", "--round", ROUND, "--json").output
    )
    states = {i["key"]: i["state"] for i in shown["items"]}
    assert states["course"] == "missing"
    assert states[None] == "extra"
    assert shown["in_spec"] is False
    human = cli("form", "show", "--school", "Northfield", "--round", ROUND)
    assert f"gsync form update --school Northfield --round {ROUND}` would fix it" in human.output

    dry = cli("form", "update", "--school", "Northfield", "--round", ROUND, "--dry-run")
    assert dry.exit_code == 0, dry.output
    emulator.client.clear_log()
    result = cli("form", "update", "--school", "Northfield", "--round", ROUND, "--json")
    assert result.exit_code == 0, result.output
    assert emulator.client.count(method=BATCH) == 1
    form = get_form(workspace, form_id)
    spec = load_spec(forms_dir() / SPEC)
    assert [strip_ids(i) for i in form["items"]] == [item_body(i) for i in spec.items]
    # The recreated question's id is recorded under the round, where the sync reads it.
    entry = school_entry(config_file, "Northfield")
    held = entry["rounds"][ROUND]["form_questions"]
    assert held["course"] == form["items"][4]["questionItem"]["question"]["questionId"]
    assert held["course"] != data["form_questions"]["course"]
    assert held["full_name"] == data["form_questions"]["full_name"]
    assert "form_questions" not in entry  # Form A's ids untouched
    emulator.client.clear_log()
    again = cli("form", "update", "--school", "Northfield", "--round", ROUND, "--json")
    assert json.loads(again.output)["in_spec"] is True
    assert writes(emulator) == 0


def test_update_round_without_its_form_names_the_create_command(cli: Any) -> None:
    result = cli("form", "update", "--school", "Northfield", "--round", "y11_april")
    assert result.exit_code == 2
    assert "gsync form create --school Northfield --round y11_april" in result.output


def test_round_of_another_phase_or_unknown_is_refused(cli: Any, emulator: Any) -> None:
    emulator.client.clear_log()
    wrong = cli("form", "show", "--school", "Northfield", "--round", "y13_autumn")
    assert wrong.exit_code == 2
    assert "Y13 leavers" in wrong.output
    unknown = cli("form", "update", "--school", "Northfield", "--round", "nope")
    assert unknown.exit_code == 2
    assert "No survey round 'nope'" in unknown.output
    assert writes(emulator) == 0
