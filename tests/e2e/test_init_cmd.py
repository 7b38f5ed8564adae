"""`gsync init` and `gsync auth login` through the CLI; `init --create` against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gsync.cli import main
from gsync.config import load_config
from gsync.sheetio import read_snapshot
from gsync.sync import load_template

SCHOOLS = ["--school", "Northfield,100001,Y11", "--school", "Southgate", "--urn", "100002"]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GSYNC_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_scripted_init_writes_a_file_load_config_reads(run: Any, tmp_path: Path) -> None:
    result = run("init", "--trust", "Oak Trust", *SCHOOLS, "--phase", "Y13", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    config = load_config(tmp_path / "gsync.toml")
    assert config.trust.name == "Oak Trust"
    assert [(s.name, s.urn, s.phase) for s in config.schools] == [
        ("Northfield", "100001", "Y11"),
        ("Southgate", "100002", "Y13"),
    ]
    assert config.google.auth == "local"
    assert data["term_dates"] == sorted(config.term_dates) and len(data["term_dates"]) == 2
    assert data["created"] is None
    assert any("roster import" in step for step in data["next_steps"])
    assert any("sheet init" in step for step in data["next_steps"])


def test_out_and_auth_options(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "conf" / "trust.toml"
    result = run(
        "init",
        "--trust",
        "Oak",
        "--school",
        "A,100001,Y11",
        "--auth",
        "oauth",
        "--credentials",
        "client.json",
        "--folder",
        "FOLDER1",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    config = load_config(out)
    assert (config.google.auth, config.google.credentials_file) == ("oauth", "client.json")
    assert config.google.folder_id == "FOLDER1"
    assert "auth login" in result.output  # the next steps say to sign in first


def test_refuses_to_overwrite_without_force(run: Any, tmp_path: Path) -> None:
    path = tmp_path / "gsync.toml"
    path.write_text("# mine\n", encoding="utf-8")
    result = run("init", "--trust", "Oak", "--school", "A,100001,Y11")
    assert result.exit_code == 2
    assert "--force" in result.output
    assert path.read_text(encoding="utf-8") == "# mine\n"
    result = run("init", "--trust", "Oak", "--school", "A,100001,Y11", "--force")
    assert result.exit_code == 0, result.output
    assert load_config(path).trust.name == "Oak"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--school", "A,100001,Y11"], "--trust"),
        (["--trust", "Oak"], "--school"),
        (["--trust", "Oak", "--school", "A,100001,Y11", "--auth", "oauth"], "--credentials"),
        (["--trust", "Oak", "--school", "A", "--urn", "100001"], "--phase"),
        (["--trust", "Oak", "--school", "A,12,Y11"], "six digits"),
    ],
)
def test_without_a_terminal_a_missing_value_is_exit_2_naming_the_flag(
    run: Any, tmp_path: Path, args: list[str], flag: str
) -> None:
    result = run("init", *args)
    assert result.exit_code == 2
    assert flag in result.output
    assert not (tmp_path / "gsync.toml").exists()


def test_interactive_prompts_for_what_is_missing(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gsync.cli.init_cmd._stdin_is_tty", lambda: True)
    answers = "\n".join(
        [
            "Oak Trust",  # trust
            "Northfield",  # school
            "12",  # a bad URN: asked again
            "Y11",
            "Northfield",
            "100001",
            "Y11",
            "y",  # another school
            "Southgate",
            "100002",
            "Y13",
            "n",
            "local",  # auth
        ]
    )
    result = run("init", input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert "six digits" in result.output
    config = load_config(tmp_path / "gsync.toml")
    assert [s.name for s in config.schools] == ["Northfield", "Southgate"]
    assert config.schools[1].phase == "Y13"


def test_create_makes_the_spreadsheet_and_forms_and_records_them(
    run: Any, tmp_path: Path, emulator: Any, workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", emulator.url.removeprefix("http://"))
    result = run("init", "--trust", "Oak Trust", *SCHOOLS, "--phase", "Y13", "--create", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    config = load_config(tmp_path / "gsync.toml")
    sid = config.trust.spreadsheet_id
    assert sid and sid == data["created"]["spreadsheet_id"]
    snapshot = read_snapshot(workspace, sid)
    assert snapshot.state["template_version"] == str(load_template(config).version)
    for school in config.schools:
        assert school.form_id == data["created"]["forms"][school.name]["form_id"]
        assert len(school.form_questions) >= 10
        form = workspace.execute(workspace.forms().forms().get(formId=school.form_id))
        assert form["publishSettings"]["publishState"]["isPublished"] is True
    assert emulator.client.count(method="forms.forms.create") == 2
    assert any("viewform" in step for step in data["next_steps"])


# --- gsync auth login ---------------------------------------------------------------------------


def test_auth_login_explains_other_modes(run: Any) -> None:
    assert run("init", "--trust", "Oak", "--school", "A,100001,Y11").exit_code == 0
    result = run("auth", "login")
    assert result.exit_code == 2
    assert '"local"' in result.output and "needs no sign-in" in result.output


def test_auth_login_without_a_terminal_is_exit_3(run: Any, tmp_path: Path) -> None:
    args = ["--auth", "oauth", "--credentials", "client.json"]
    assert run("init", "--trust", "Oak", "--school", "A,100001,Y11", *args).exit_code == 0
    config = tmp_path / "gsync.toml"
    text = config.read_text(encoding="utf-8").replace(
        "[google]\n", '[google]\ntoken_file = "tok.json"\n'
    )
    config.write_text(text, encoding="utf-8")
    result = run("auth", "login")
    assert result.exit_code == 3
    assert "terminal" in result.output
    assert not (tmp_path / "tok.json").exists()
