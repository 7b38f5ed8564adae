"""`python -m bench.profile` at a tiny size: pyinstrument's tree names the core's stages."""

from __future__ import annotations

import pytest

from bench import profile


@pytest.mark.parametrize("night", profile.NIGHTS)
def test_profile_reports_the_merge_and_the_derived_tabs(
    night: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        profile.main(["--rows", "120", "--schools", "2", "--night", night, "--interval", "0.0001"])
        == 0
    )
    text = capsys.readouterr().out
    # The night's stages, as `bench.core_scale.run_night` runs them, appear in the call tree.
    for name in ("run_night", "plan_sync_many", "write_derived_tabs"):
        assert name in text, name
