"""The naive baseline: the same sync written the way most tutorials do it, with gspread.

Per school it lists the form's responses (as gsync does), reads the Destinations and Responses
tabs once each (`get_all_values`, generous: many tutorials call `find` per response), then per
response: `append_row` to the Responses log and, for a matched pupil, one `update` of that
pupil's entry cells (again generous: tutorials often call `update_cell` once per cell).
Matching is the same idea as gsync's (school email, then name + date of birth), done in Python.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any

from gspread.utils import rowcol_to_a1

from gsync.config import Config
from gsync.formsync import list_responses
from gsync.google.retry import RetryPolicy
from gsync.workspace import workspace_for_endpoint

#: The Destinations cells a naive sync writes per matched response (the current leavers' entry).
ENTRY_COLUMNS = (
    "Current intended: destination",
    "Current intended: provider",
    "Current intended: course / job title",
    "Current intended: level",
    "Current intended: start date",
    "Current intended: source",
    "Current intended: recorded",
)
ANSWER_KEYS = ("destination", "provider", "course", "level", "start_date")


@dataclass
class NaiveResult:
    responses_done: int
    responses_total: int
    wall_s: float
    writes: int
    reads: int
    errors: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _answers(resp: dict[str, Any], qmap: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, qid in qmap.items():
        ans = resp.get("answers", {}).get(qid, {})
        values = [a.get("value", "") for a in ans.get("textAnswers", {}).get("answers", [])]
        out[key] = values[0] if values else ""
    return out


def _column(header: list[str], title: str) -> int | None:
    wanted = _norm(title).replace("_", " ")
    for i, text in enumerate(header):
        if _norm(text).replace("_", " ") == wanted:
            return i
    return None


def naive_sync(url: str, config: Config, *, limit: int | None = None) -> NaiveResult:
    """Run the naive sync against the emulator at `url`; stop after `limit` responses (a cap)."""
    # A patient retry (up to ~6 minutes per call) stands in for gspread's BackOffHTTPClient, so
    # the baseline waits out 429s instead of failing: the comparison is about time, not failures.
    ws = workspace_for_endpoint(url, policy=RetryPolicy(max_attempts=14, base_s=1.0, cap_s=32.0))
    gc = ws.sheets()
    sheet = gc.open_by_key(str(config.trust.spreadsheet_id))
    dest_ws = sheet.worksheet("Destinations")
    log_ws = sheet.worksheet("Responses")
    reads = 3
    writes = 0
    done = 0
    total = 0
    start = time.perf_counter()
    dest = dest_ws.get_all_values()
    log_rows = log_ws.get_all_values()
    reads += 2
    header = dest[0]
    col = {name: _column(header, name) for name in ("UPN", "Leaving year", "School email",
                                                    "Legal forename", "Preferred forename",
                                                    "Legal surname", "Date of birth")}  # fmt: skip
    by_email: dict[str, int] = {}
    by_name: dict[tuple[str, str], list[int]] = {}
    for r, row in enumerate(dest[1:], start=2):

        def get(name: str, row: list[str] = row) -> str:
            i = col[name]
            return row[i] if i is not None and i < len(row) else ""

        if get("School email"):
            by_email[get("School email").casefold()] = r
        for fore in {get("Legal forename"), get("Preferred forename")} - {""}:
            by_name.setdefault(
                (_norm(f"{fore} {get('Legal surname')}"), get("Date of birth")), []
            ).append(r)
    entry_cols = [_column(header, name) for name in ENTRY_COLUMNS]
    logged = {row[0] for row in log_rows[1:] if row}
    for school in config.schools:
        if not school.form_id:
            continue
        responses = list_responses(ws, school.form_id)
        reads += 1
        total += len(responses)
        qmap = dict(school.form_questions)
        for resp in responses:
            if limit is not None and done >= limit:
                continue
            done += 1
            rid = str(resp.get("responseId", ""))
            answers = _answers(resp, qmap)
            if rid not in logged:
                log_ws.append_row([rid, school.name, resp.get("lastSubmittedTime", ""),
                                   resp.get("respondentEmail", ""),
                                   *[answers.get(k, "") for k in qmap]],
                                  value_input_option="RAW")  # fmt: skip
                writes += 1
                logged.add(rid)
            row_no = by_email.get(str(resp.get("respondentEmail", "")).casefold())
            if row_no is None:
                matches = by_name.get(
                    (_norm(answers.get("full_name", "")), answers.get("date_of_birth", "")), []
                )
                row_no = matches[0] if len(matches) == 1 else None
            if row_no is None or None in entry_cols:
                continue
            values = [answers.get(k, "") for k in ANSWER_KEYS] + [
                "form",
                dt.date.today().isoformat(),
            ]
            first = min(c for c in entry_cols if c is not None)
            last = max(c for c in entry_cols if c is not None)
            block = [""] * (last - first + 1)
            current = dest[row_no - 1] + [""] * (last + 1)
            block = current[first : last + 1]
            for c, v in zip(entry_cols, values, strict=True):
                if c is not None:
                    block[c - first] = v
            dest_ws.update(
                range_name=f"{rowcol_to_a1(row_no, first + 1)}:{rowcol_to_a1(row_no, last + 1)}",
                values=[block],
                value_input_option="RAW",
            )
            writes += 1
    return NaiveResult(done, total, time.perf_counter() - start, writes, reads)
