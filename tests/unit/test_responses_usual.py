"""`normalise_rows`' path for responses of the usual shape gives the old rows.

`responses._usual_rows` makes the row of each response whose twelve Form A answers are each one
text answer (a dict holding a str "value") in the Forms API's JSON, in the input's order; any other
response is left to the general path, in time order, as before. These properties compare
`normalise_rows` with the frozen copy (tests/unit/_reference_responses.py) on whole forms (so the
usual path is taken), with odd answers, times, ids and responses mixed in: each outcome, rows or
the exception raised, is the old one.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import responses
from gsync.responses import FORM_KEYS, MAX_CHARS, Memo, normalise_rows
from tests.unit import _reference_responses as ref

QMAP = {key: f"q_{key}" for key in FORM_KEYS}

TEXTS = st.one_of(
    st.sampled_from(
        (
            "",
            " ",
            "Brira  Ashford",
            "\u2003Brira\u00a0 Ashford\u3000",
            "\u200b",
            "2010-04-03",
            " 03/04/2010 ",
            "2999-01-01",
            "31/02/2010",
            "2026",
            "Summer 2026",
            "2026 or 2027",
            "0113 496 0018",
            "+44 161 496 0810",
            "07700\u00a0900123",
            "12345",
            "brira@example.com",
            "Brira@Example.COM",
            "someone@",
            "College",
            " Sixth form ",
            "\tCollege\n",
            "Gap year",
            "Other",
            "Yes, I agree",
            "No, I do not agree",
            "yes",
            "maybe",
            "x" * (MAX_CHARS + 1),
            "y" * (MAX_CHARS // 2),
            "z" * MAX_CHARS,
        )
    ),
    st.text(max_size=12),
)
# JSON values of any shape (what an odd answer at any level could hold).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXTS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(("value", "answers", "textAnswers", "x")), inner, max_size=3
        )
    ),
    max_leaves=6,
)


@st.composite
def answer(draw: st.DrawFn, qid: str, clean: bool) -> Any:
    """The Forms API's one text answer if `clean`, else sometimes an odd shape at some level."""
    if clean or draw(st.integers(0, 2)):
        return {"questionId": qid, "textAnswers": {"answers": [{"value": draw(TEXTS)}]}}
    odd: list[Any] = [
        {"questionId": qid},  # no textAnswers
        {"questionId": qid, "textAnswers": {}},
        {"textAnswers": {"answers": []}},
        {"textAnswers": {"answers": [{"value": draw(TEXTS)}, {"value": draw(TEXTS)}]}},
        {"textAnswers": {"answers": [{"value": draw(JSON)}]}},  # a value that may not be a str
        {"textAnswers": {"answers": [draw(JSON)]}},  # an answer that may not be a dict
        {"textAnswers": {"answers": [{}]}},
        {"textAnswers": {"answers": {"value": draw(TEXTS)}}},  # a dict for the list
        {"textAnswers": {"answers": draw(JSON)}},
        {"textAnswers": draw(JSON)},
        draw(JSON),  # None, a list, a str, a number...
    ]
    return draw(st.sampled_from(odd))


TIMES = st.sampled_from(
    (
        "2026-06-01T10:00:00.500Z",
        "2026-06-01T10:00:00.500Z",
        "2026-06-02T09:00:00.000Z",
        "2026-06-01T10:00:00Z",
        "2026-06-01T11:00:00+01:00",
        "2026-06-02T10:00:00.123456Z",
        "2026-13-01T10:00:00.000Z",  # the stamped shape, not a date
        "2026-06-01",
        " 2026-06-01T10:00:00.500Z",
        "not a time",
        "",
        None,
        0,
        1.5,
    )
)


@st.composite
def response(draw: st.DrawFn, qmap: dict[str, str]) -> Any:
    """A response to the form, mostly of the usual shape; sometimes odd at the top level."""
    out: dict[str, Any] = {"responseId": draw(st.sampled_from(("r1", "r2", "r3", "r4", "")))}
    if draw(st.integers(0, 9)) == 0:
        out["responseId"] = draw(st.sampled_from((None, 7, "r1 ")))
    created = draw(TIMES)
    if draw(st.integers(0, 5)):
        out["createTime"] = created
    if draw(st.integers(0, 5)):  # usually the same time as created, as the API gives
        out["lastSubmittedTime"] = created if draw(st.booleans()) else draw(TIMES)
    if draw(st.booleans()):
        out["respondentEmail"] = draw(st.sampled_from((" a@b.com ", None, "", 5, "\u3000x")))
    clean = draw(st.integers(0, 2)) > 0  # two in three of the usual shape throughout
    # A quarter of those with questions left unanswered (absent from `answers`, as the API has it).
    sparse = clean and draw(st.integers(0, 3)) == 0
    answers = {
        qid: draw(answer(qid, clean))
        for qid in qmap.values()
        if (clean and not sparse) or draw(st.integers(0, 2 if sparse else 9))
    }
    kind = draw(st.integers(0, 40)) if not clean else 40
    if kind == 0:
        return out  # no answers at all
    out["answers"] = answers if kind > 2 else draw(st.sampled_from((None, {}, [], "x")))
    return out


@st.composite
def form(draw: st.DrawFn) -> tuple[dict[str, str], list[Any]]:
    """A whole Form A map (in any order, with an extra key, sometimes two keys on one question,
    rarely a key short) and its responses."""
    keys = draw(st.permutations(FORM_KEYS))
    qmap = {key: f"q_{key}" for key in keys}
    if draw(st.integers(0, 5)) == 0:
        qmap[draw(st.sampled_from(FORM_KEYS))] = qmap[draw(st.sampled_from(FORM_KEYS))]
    if draw(st.integers(0, 9)) == 0:
        del qmap[draw(st.sampled_from(FORM_KEYS))]
    qmap["extra"] = "q_extra"
    raw = [draw(response(qmap)) for _ in range(draw(st.integers(0, 7)))]
    return qmap, raw


def outcome(module: Any, qmap: dict[str, str], raw: list[Any], memo: Any, **kw: Any) -> Any:
    """The rows as (column, text, type) lists, or "raised" (the old code raises for a latest
    response with a malformed answer: which error, for more than one, changed in session 8)."""
    try:
        rows = module.normalise_rows(raw, qmap, memo=memo, **kw)
    except (AttributeError, TypeError):
        return "raised"
    return [[(k, v, type(v)) for k, v in row.items()] for row in rows]


@settings(max_examples=250, deadline=None)
@given(form(), form(), st.sampled_from((None, ("College", "Gap year"), ["Other", "", " College"])))
def test_normalise_rows_as_before_on_whole_forms(first: Any, second: Any, options: Any) -> None:
    memo, old_memo = Memo(), ref.Memo()
    kw = {} if options is None else {"destination_options": options}
    for qmap, raw in (first, second):  # one memo for both, as a run shares it
        assert outcome(responses, qmap, raw, memo, **kw) == outcome(ref, qmap, raw, old_memo, **kw)


def usual(rid: str, when: str, **texts: str) -> dict[str, Any]:
    values = {key: "" for key in FORM_KEYS} | texts
    return {
        "responseId": rid,
        "createTime": when,
        "lastSubmittedTime": when,
        "answers": {
            QMAP[k]: {"questionId": QMAP[k], "textAnswers": {"answers": [{"value": v}]}}
            for k, v in values.items()
        },
    }


def rows_and_general(raw: list[Any]) -> tuple[list[dict[str, str]], list[Any]]:
    """`normalise_rows(raw, QMAP)` and the response ids it left to the general path."""
    seen: list[Any] = []
    general = responses._normalise_all

    def spy(items: Any, *args: Any) -> Any:
        seen.extend(items)
        return general(items, *args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(responses, "_normalise_all", spy)
        rows = normalise_rows(raw, QMAP)
    return rows, [response["responseId"] for _, response in seen]


def test_the_usual_path_makes_the_rows() -> None:
    """Responses of the usual shape never reach the general path; an odd one does, alone."""
    raw = [usual(f"r{i}", f"2026-06-0{9 - i}T10:00:00.000Z", full_name=f"N {i}") for i in range(5)]
    raw[2]["answers"][QMAP["course"]]["textAnswers"]["answers"].append({"value": "Art"})
    rows, general = rows_and_general(raw)
    assert general == ["r2"]
    assert [row["response_id"] for row in rows] == ["r4", "r3", "r2", "r1", "r0"]
    assert rows == ref.normalise_rows(raw, QMAP)


def test_unanswered_questions_stay_on_the_usual_path() -> None:
    """Form A's optional questions left unanswered (absent from the answers) read as blank on
    the usual path, as the general path reads them; an answer given as null goes the general way."""
    raw = [
        usual(f"r{i}", f"2026-06-0{i + 1}T10:00:00.000Z", full_name=f"N {i}", consent="Yes")
        for i in range(4)
    ]
    for key in ("course", "level", "provider", "start_date", "duration"):
        del raw[0]["answers"][QMAP[key]]
    del raw[1]["answers"][QMAP["telephone"]]
    raw[2]["answers"] = {QMAP["full_name"]: raw[2]["answers"][QMAP["full_name"]]}
    raw[3]["answers"][QMAP["level"]] = None
    rows, general = rows_and_general(raw)
    assert general == ["r3"]
    assert rows == ref.normalise_rows(raw, QMAP)
    assert rows[0]["course"] == rows[0]["start_date"] == "" and rows[1]["telephone"] == ""
    assert rows[2]["issues"] == "missing_date_of_birth missing_consent"


def test_sum_of_lengths_over_the_cell_size_goes_the_general_way() -> None:
    """Texts under MAX_CHARS each but over it in all: the general path, no truncation."""
    raw = [usual("r1", "2026-06-01T10:00:00.000Z", course="c" * MAX_CHARS, level="l" * 9)]
    assert normalise_rows(raw, QMAP) == ref.normalise_rows(raw, QMAP)
    raw = [usual("r1", "2026-06-01T10:00:00.000Z", course="c" * (MAX_CHARS + 1))]
    (row,) = normalise_rows(raw, QMAP)
    assert row["issues"] == "truncated_course missing_name missing_date_of_birth missing_consent"
    assert row == ref.normalise_rows(raw, QMAP)[0]


def test_a_malformed_response_raises_only_if_it_is_the_latest() -> None:
    """As before: a superseded malformed submission is never read; a latest one raises."""
    good = usual("r1", "2026-06-02T10:00:00.000Z", full_name="A B")
    bad = {"responseId": "r1", "lastSubmittedTime": "2026-06-01T10:00:00.000Z", "answers": [1]}
    assert normalise_rows([bad, good], QMAP) == ref.normalise_rows([bad, good], QMAP)
    assert normalise_rows([good, bad], QMAP) == ref.normalise_rows([good, bad], QMAP)
    bad["lastSubmittedTime"] = "2026-06-03T10:00:00.000Z"
    for order in ([bad, good], [good, bad]):
        with pytest.raises(AttributeError):
            ref.normalise_rows(order, QMAP)
        with pytest.raises(AttributeError):
            normalise_rows(order, QMAP)


def test_created_time_shortcut() -> None:
    """created is normalised unless it is the last-submitted time already in the stamped form."""
    for created, last in (
        ("2026-06-01T10:00:00Z", "2026-06-01T10:00:00Z"),
        ("2026-06-01T10:00:00.000Z", "2026-06-01T10:00:00.000Z"),
        ("2026-06-01T11:00:00+01:00", "2026-06-01T10:00:00.000Z"),
        ("2026-13-01T10:00:00.000Z", "2026-13-01T10:00:00.000Z"),
        ("", "2026-06-01T10:00:00.000Z"),
    ):
        raw = [usual("r1", last) | {"createTime": created}]
        assert normalise_rows(raw, QMAP) == ref.normalise_rows(raw, QMAP), created


def test_no_time_and_dates_of_birth() -> None:
    """A response without times (last_submitted "") and the dates of birth around it."""
    for created in ("", None, "2010-04-03T00:00:00.000Z", "2010-04-02T23:00:00.000Z"):
        for dob in ("2010-04-03", "03/04/2010", "2999-01-01", "31/02/2010", ""):
            raw = [usual("r1", "", date_of_birth=dob) | {"createTime": created}]
            del raw[0]["lastSubmittedTime"]
            assert normalise_rows(raw, QMAP) == ref.normalise_rows(raw, QMAP), (created, dob)
