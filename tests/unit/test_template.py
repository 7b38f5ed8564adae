"""The sheet template: the shipped ceiag.toml, validation errors, and the sync_hash groups."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from gsync.errors import SpecError
from gsync.template import (
    CONTACT,
    ENTRIES,
    ENTRY_FIELDS,
    IDENTITY,
    default_template_path,
    group_state,
    load_template,
    parse_template,
    set_group_hash,
)


def test_shipped_template_shape() -> None:
    t = load_template()
    assert [tab.key for tab in t.tabs] == [
        "destinations",
        "responses",
        "contacts",
        "sustained",
        "intentions",
        "applications",
        "risk",
        "exceptions",
        "la_data",
        "reconciliation",
        "dfe_measures",
        "state",
    ]
    assert t.version == 3
    assert t.tab("state").title == "_gsync_state" and t.tab("state").hidden
    dest = t.tab("destinations")
    assert dest.key_columns == ("upn", "leaving_year")
    for key in ("school", "upn", "legal_forename", "preferred_surname", "date_of_birth",
                "school_email", "phase", "send", "disadvantaged", "eal", "looked_after",
                "consent", "do_not_contact", "personal_email", "telephone", "notes"):  # fmt: skip
        assert key in dest.keys
    for entry in ENTRIES:
        for f in ENTRY_FIELDS:
            assert f"{entry}_{f}" in dest.keys
    assert dest.column("sync_hash").hidden and dest.column("sync_hash").owner == "sync"
    assert dest.column("notes").owner == "staff"
    assert all(dest.column(f"actual_validated_{f}").owner == "staff" for f in ENTRY_FIELDS)
    assert dest.column("intended_destination").choices_from == "taxonomy"
    assert dest.column("send").allowed == ("K", "E", "N")
    assert dest.column("consent").allowed == ("Y", "N")
    contacts = t.tab("contacts")
    assert contacts.owned_by("sync") == []
    assert contacts.column("channel").choices == ("email", "phone", "letter", "social media")
    exc = t.tab("exceptions")
    assert exc.owned_by("staff") == ["status", "note"]
    sustained = t.tab("sustained")
    assert sustained.key_columns == ("upn", "leaving_year", "check")
    assert sustained.owned_by("staff") == ["validated", "notes"]
    assert sustained.column("sync_hash").hidden
    # Every years 1-3 check of the shipped rules has a place: a Sustained row, or Contacts' entry.
    import pandas as pd

    from gsync.deadlines import load_rules, sustained_checks
    from gsync.template import HASH_GROUPS, SUSTAINED

    rules = load_rules()
    assert set(sustained_checks(rules, pd.DataFrame(columns=dest.keys))) == set(
        sustained.column("check").choices or ()
    )
    assert set(rules.keys) == set(contacts.column("entry").choices or ())
    outcomes = {o.casefold() for o in contacts.column("outcome").choices or ()}
    assert {o.casefold() for o in rules.contacts.unsuccessful_outcomes} <= outcomes
    assert set(HASH_GROUPS[SUSTAINED]) <= set(sustained.keys)


def _data() -> dict[str, Any]:
    return tomllib.loads(default_template_path().read_text(encoding="utf-8"))


def test_choice_without_values_names_the_key_path() -> None:
    data = _data()
    col = next(c for c in data["tabs"][0]["columns"] if c["key"] == "phase")
    del col["choices"]
    index = data["tabs"][0]["columns"].index(col)
    with pytest.raises(SpecError) as info:
        parse_template(data, "my.toml")
    assert "my.toml" in str(info.value)
    assert f"tabs[0].columns[{index}]" in str(info.value)


def test_missing_tab_and_bad_owner_rejected() -> None:
    data = _data()
    data["tabs"] = [t for t in data["tabs"] if t["key"] != "exceptions"]
    with pytest.raises(SpecError, match="missing tabs: exceptions"):
        parse_template(data)
    data = _data()
    data["tabs"][2]["columns"][0]["owner"] = "robot"
    with pytest.raises(SpecError, match=r"tabs\[2\]\.columns\[0\]\.owner"):
        parse_template(data)


def test_duplicate_column_key_rejected() -> None:
    data = _data()
    data["tabs"][1]["columns"].append(dict(data["tabs"][1]["columns"][0], header="Again"))
    with pytest.raises(SpecError, match="duplicate column keys: response_id"):
        parse_template(data)


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("version = \n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"broken\.toml"):
        load_template(path)
    with pytest.raises(SpecError, match="Cannot read"):
        load_template(tmp_path / "absent.toml")


def test_group_state_detects_staff_edits() -> None:
    row = {"consent": "", "do_not_contact": "", "personal_email": "", "telephone": ""}
    assert group_state(row, CONTACT) == "empty"
    row.update(consent="Y", do_not_contact="N", telephone="+442079460123")
    assert group_state(row, CONTACT) == "edited"  # filled, but not by the sync
    set_group_hash(row, CONTACT)
    assert group_state(row, CONTACT) == "synced"
    set_group_hash(row, IDENTITY)
    assert row["sync_hash"].startswith("id=") and " ct=" in row["sync_hash"]
    row["telephone"] = "+441134960000"
    assert group_state(row, CONTACT) == "edited"
    row.update(consent="", do_not_contact="", telephone="")
    assert group_state(row, CONTACT) == "empty"  # cleared by staff: the sync may fill it again
