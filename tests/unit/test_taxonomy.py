"""The destination taxonomy: file validation, every value mapped, level and HE derivation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gsync.errors import SpecError
from gsync.paths import forms_dir, templates_dir
from gsync.taxonomy import (
    CATEGORY_KEYS,
    is_higher_education,
    is_level3_plus,
    load_taxonomy,
    parse_taxonomy,
)

SHIPPED = templates_dir() / "taxonomy.toml"


@pytest.fixture(scope="module")
def tax():  # type: ignore[no-untyped-def]
    return load_taxonomy()


def _shipped_data() -> dict:  # type: ignore[type-arg]
    return tomllib.loads(SHIPPED.read_text(encoding="utf-8"))


def _form_destination_options() -> set[str]:
    options: set[str] = set()
    for path in forms_dir().glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for item in data.get("items", []):
            if item.get("key") == "destination":
                options.update(item.get("options", []))
        options.update(data.get("add_options", {}).get("destination", []))
    return options


def test_shipped_file_has_every_category_with_codes_and_headings(tax) -> None:  # type: ignore[no-untyped-def]
    assert tax.categories() == list(CATEGORY_KEYS)
    codes: list[int] = []
    for key in CATEGORY_KEYS:
        spec = tax.spec.categories[key]
        assert spec.nccis_codes and spec.dfe_heading and spec.label
        codes += spec.nccis_codes
    assert len(codes) == len(set(codes))
    # Spot checks of the NCCIS current-activity table (see the file's source note).
    assert tax.categorise("210").key == "school_sixth_form"
    assert tax.categorise("220").key == "sixth_form_college"
    assert tax.categorise("230").key == "fe_college"
    assert tax.categorise("240").key == "higher_education"
    assert tax.categorise("310").key == "apprenticeship"
    assert tax.categorise("330").key == "employment_without_training"
    assert tax.categorise("450").key == "traineeship"
    assert tax.categorise("619").key == "neet"
    assert tax.categorise("810").key == "unknown"


def test_every_form_option_maps_to_a_real_category(tax) -> None:  # type: ignore[no-untyped-def]
    options = _form_destination_options()
    assert {"College", "Sixth form", "Apprenticeship", "Degree apprenticeship"} <= options
    assert tax.categorise("Not decided yet").key == "unknown"
    for option in options:
        assert option in tax.spec.form_options, option
        assert tax.categorise(option).key in CATEGORY_KEYS


def test_every_dropdown_value_maps_and_every_category_is_reachable(tax) -> None:  # type: ignore[no-untyped-def]
    values = tax.dropdown_values()
    assert values[0] == "School sixth form" and values[-1] == "Unknown"
    reached = {tax.categorise(v).key for v in values}
    assert reached == set(CATEGORY_KEYS)


@pytest.mark.parametrize(
    ("value", "level", "other", "key", "appr", "l3", "he"),
    [
        ("Sixth form", "Level 3", "", "school_sixth_form", "", True, False),
        ("Sixth form", "Not sure", "", "school_sixth_form", "", False, False),
        ("College", "Level 2", "", "fe_college", "", False, False),
        ("College", "Level 3", "", "fe_college", "", True, False),
        ("Apprenticeship", "Level 2", "", "apprenticeship", "intermediate", False, False),
        ("Apprenticeship", "Level 3", "", "apprenticeship", "advanced", True, False),
        ("Apprenticeship", "Level 4", "", "apprenticeship", "higher", True, False),
        ("Apprenticeship", "Level 5", "", "apprenticeship", "higher", True, False),
        ("Apprenticeship", "Level 6", "", "apprenticeship", "degree", True, True),
        ("Apprenticeship", "Level 7", "", "apprenticeship", "degree", True, True),
        ("Apprenticeship", "Not sure", "", "apprenticeship", "", False, False),
        ("Degree apprenticeship", "", "", "apprenticeship", "degree", True, True),
        ("University / higher education", "", "", "higher_education", "", True, True),
        ("Employment with training", "Level 3", "", "employment_with_training", "", True, False),
        (
            "Employment without training",
            "Level 3",
            "",
            "employment_without_training",
            "",
            False,
            False,
        ),
        ("Voluntary work", "", "", "voluntary_work", "", False, False),
        ("Traineeship", "Level 1", "", "traineeship", "", False, False),
        ("Other", "", "Looking for work", "neet", "", False, False),
        ("Other", "", "Volunteering abroad", "voluntary_work", "", False, False),
        ("Other", "", "Something else", "other_education_training", "", False, False),
        (
            "Other",
            "",
            "a degree apprenticeship at an engineering firm",
            "apprenticeship",
            "degree",
            True,
            True,
        ),
        # A response's isOther answer arrives as the respondent's own text.
        ("Starting at the University of Leeds", "", "", "higher_education", "", True, True),
        ("", "", "", "unknown", "", False, False),
        ("Unknown", "Level 3", "", "unknown", "", False, False),
        ("unknown (3 attempts)", "", "", "unknown", "", False, False),
        ("  college  ", "Level 2", "", "fe_college", "", False, False),
        ("Apprenticeship - advanced (Level 3)", "", "", "apprenticeship", "advanced", True, False),
        (
            "Degree apprenticeship (Level 6-7)",
            "Level 2",
            "",
            "apprenticeship",
            "degree",
            True,
            True,
        ),
    ],
)
def test_categorise(tax, value, level, other, key, appr, l3, he) -> None:  # type: ignore[no-untyped-def]
    cat = tax.categorise(value, level, other)
    assert (cat.key, cat.apprenticeship_level) == (key, appr)
    assert is_level3_plus(cat) is l3
    assert is_higher_education(cat) is he
    assert cat.label == tax.label(key)


def test_sixth_form_default_is_configurable(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        'sixth_form_default = "school_sixth_form"', 'sixth_form_default = "sixth_form_college"'
    )
    path = tmp_path / "taxonomy.toml"
    path.write_text(text, encoding="utf-8")
    assert load_taxonomy(path).categorise("Sixth form").key == "sixth_form_college"


def test_unknown_key_is_rejected_naming_file_and_key() -> None:
    data = _shipped_data()
    data["categories"]["neet"]["colour"] = "red"
    with pytest.raises(SpecError) as err:
        parse_taxonomy(data, "custom/taxonomy.toml")
    assert "custom/taxonomy.toml" in str(err.value)
    assert "categories.neet.colour" in str(err.value)


def test_duplicate_code_missing_category_and_bad_mapping_rejected() -> None:
    data = _shipped_data()
    data["categories"]["neet"]["nccis_codes"].append(210)
    with pytest.raises(SpecError, match="210"):
        parse_taxonomy(data)
    data = _shipped_data()
    del data["categories"]["traineeship"]
    with pytest.raises(SpecError, match="missing traineeship"):
        parse_taxonomy(data)
    data = _shipped_data()
    data["staff_dropdown"]["Gap year"] = {"category": "gap_year"}
    with pytest.raises(SpecError, match="gap_year"):
        parse_taxonomy(data)
    data = _shipped_data()
    data["staff_dropdown"]["College"] = {"category": "fe_college", "apprenticeship_level": "degree"}
    with pytest.raises(SpecError, match="non-apprenticeship"):
        parse_taxonomy(data)


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        load_taxonomy(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = [", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_taxonomy(bad)


def test_nccis_status_values() -> None:
    # No NCCIS code has yet been checked against the DfE document's own Appendix A table (see the
    # file's source note), so the shipped file claims none as confirmed; a trust that checks them
    # may set "confirmed", and any other word is rejected.
    shipped = _shipped_data()
    assert {c["nccis_status"] for c in shipped["categories"].values()} == {"secondary"}
    shipped["categories"]["school_sixth_form"]["nccis_status"] = "confirmed"
    assert parse_taxonomy(shipped).categorise("210").nccis_status == "confirmed"
    shipped["categories"]["school_sixth_form"]["nccis_status"] = "verified"
    with pytest.raises(SpecError, match=r"categories\.school_sixth_form\.nccis_status"):
        parse_taxonomy(shipped)
