"""Frozen copy of `gsync.privacy.withheld_response_ids` before issue 7's set lookup (session 11),
for tests/unit/test_privacy_withheld.py. Do not edit."""

from __future__ import annotations

import pandas as pd

ERASED_SUFFIX = " (erased)"


def withheld_response_ids(responses: pd.DataFrame) -> set[str]:
    """Response ids the sync must no longer read from the forms (purged or erased)."""
    if responses.empty or "school" not in responses or "response_id" not in responses:
        return set()
    marked = responses["school"].astype(str).str.endswith(ERASED_SUFFIX)
    return set(responses.loc[marked, "response_id"].astype(str))
