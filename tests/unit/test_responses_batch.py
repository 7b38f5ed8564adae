"""The telephones and emails of many responses judged at once give the one-by-one verdicts.

`normalise_rows` makes each usual response's row in one pass and finishes the rows `_CHUNK` at a
time: their telephones (`responses._phones`) and emails (`responses._emails`) are judged by
regexes run over the texts joined by "\\n", each line one text, and the few of other shapes one
by one. These tests compare those verdicts with `normalise_phone` and `normalise_email` (proven
against the frozen copy elsewhere) on batches mixing every shape, line breaks inside texts
included, and `normalise_rows` with the frozen copy (tests/unit/_reference_responses.py) on
forms spanning several chunks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import responses
from gsync.responses import (
    FORM_KEYS,
    Memo,
    normalise_email,
    normalise_phone,
    normalise_rows,
    plain_phone,
)
from tests.unit import _reference_responses as ref
from tests.unit.test_responses_fast import near_plain
from tests.unit.test_responses_phone_shapes import (
    FAST_PREFIXES,
    NEAR_PREFIXES,
    SEPARATORS,
    library_valid,
    separated,
    ten_digits,
)
from tests.unit.test_responses_usual import QMAP, form, outcome, usual

# Texts that end or break a line somewhere (only "\n" ends a regex's line), blanks, and others.
ODD_TEXTS = (
    "",
    " ",
    "\n",
    "\n\n",
    "\t",
    "\r",
    "\u2028",
    "\x85",
    "\x0b",
    "\x1c",
    "\u3000",
    "07911 123456\n",
    "\n07911 123456",
    "07911\n123456",
    "07911 123456\r",
    "07911\u2028123456",
    "07911\x85123456",
    " 07911  123456 ",
    "\u300007911 123456",
    "07911\u00a0123456",
    "٠٧٩١١١٢٣٤٥٦",  # Arabic-Indic digits
    "０７９１１１２３４５６",  # fullwidth digits
    "phone me",
    "12345",
    "0770 090",
    "+44 20 1",
    "01000 000000",
    "(0113) 496 0123",
    "(0113) 496 012",
    "(0049) 3012345",
    "+44 (0)7911 123456",
    "+44 07911 123456",
    "0800 123456",  # valid with nine digits, or seven
    "+44 800 123456",
    "016977 3456",
    "0169 77 3456",
    "0845 46 47",
    "+44 8001111",
    "0500 123456",
    "brira@example.com",
    " Brira@Example.COM ",
    "brira@example.com\n",
    "brira@\nexample.com",
    "brira\n@example.com",
    "a@b.c\u2028",
    "someone@",
    "@example.com",
    "a b@example.com",
    "Info@Example.COM",
    "info@example.com",
    "POSTMASTER@a.io",
    "a@b.test",
    "a@b.TEST",
    "a@b.LocalHost",
    "a@b.local",
    "a@test.com",
    "a--b@example.com",
    "a@ex--ample.com",
    "a@xn--p1ai.com",
    "a" * 65 + "@b.com",
    "a" * 64 + "@b.com",
    "a" * 62 + "@b.co",
    "a@" + "b" * 63 + ".com",
    "a@" + "b" * 64 + ".com",
)


def phone_text(rng: random.Random) -> str:
    """A telephone answer: the usual shapes, near misses, odd texts."""
    digits = ten_digits(rng)
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(FAST_PREFIXES) + separated(rng, digits, (" ", "-"))
    if roll < 0.4:  # a digit short or over, as typed (the library may find it valid)
        digits = (digits + str(rng.randrange(10)))[: rng.choice((7, 8, 9, 9, 11))]
        return rng.choice(FAST_PREFIXES) + separated(rng, digits, (" ", "-"))
    if roll < 0.55:  # "(0area) rest", ten digits in all or not
        digits = (digits + str(rng.randrange(10)))[: rng.choice((9, 10, 10, 10, 11))]
        cut = rng.randint(1, 6)
        rest = separated(rng, digits[cut:], (" ", "-"))
        return f"(0{digits[:cut]}){rng.choice(('', ' ', '-', '  '))}{rest}"
    if roll < 0.75:
        body = separated(rng, digits[: rng.choice((10, 10, 9, 11))], SEPARATORS)
        return rng.choice(NEAR_PREFIXES + FAST_PREFIXES) + body
    if roll < 0.85:
        spaced = rng.choice(FAST_PREFIXES) + separated(rng, digits, (" ", "-"))
        return rng.choice(("", " ", "  ", "\t", "\n")) + spaced + rng.choice(("", " ", "\n"))
    return rng.choice(ODD_TEXTS)


def email_text(rng: random.Random) -> str:
    """An email answer: near the plain shape (tests/unit/test_responses_fast.py), odd texts."""
    if rng.random() < 0.8:
        return near_plain(rng)
    return rng.choice(ODD_TEXTS)


Batch = Callable[[Sequence[str], Callable[[str], tuple[str, bool]]], Any]


def agrees(batch: Batch, one: Callable[[str], tuple[str, bool]], texts: list[str]) -> None:
    """`batch(texts, judge)` gives `one`'s verdict for each text, in order."""
    memo = Memo()
    values, bad, raised = batch(texts, memo.phone if one is normalise_phone else memo.email)
    want = [one(text) for text in texts]
    assert not raised
    assert values == [value for value, _ in want], texts
    assert all(type(value) is str for value in values)
    assert bad == {i for i, (_, ok) in enumerate(want) if not ok}, texts


def test_phones_as_one_by_one_on_many_batches() -> None:
    rng = random.Random(5150)
    for size in (1, 2, 3, 17, 256, 900):
        for _ in range(4 if size < 900 else 2):
            agrees(responses._phones, normalise_phone, [phone_text(rng) for _ in range(size)])


def test_emails_as_one_by_one_on_many_batches() -> None:
    rng = random.Random(6160)
    for size in (1, 2, 3, 17, 256, 900):
        for _ in range(4 if size < 900 else 2):
            agrees(responses._emails, normalise_email, [email_text(rng) for _ in range(size)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ODD_TEXTS) | st.text(max_size=16), min_size=1, max_size=12))
def test_odd_texts_as_one_by_one(texts: list[str]) -> None:
    agrees(responses._phones, normalise_phone, texts)
    agrees(responses._emails, normalise_email, texts)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.randoms(use_true_random=False), min_size=1, max_size=20))
def test_usual_batches_as_one_by_one(rngs: list[random.Random]) -> None:
    """Mostly of the usual shapes (the lean email regex), an odd one sometimes among them."""
    agrees(responses._phones, normalise_phone, [phone_text(rng) for rng in rngs])
    agrees(responses._emails, normalise_email, [email_text(rng) for rng in rngs])
    plain = [f"{rng.choice(('a', 'Bo.C', 'x+y'))}{rng.randrange(99)}@ex.co.uk" for rng in rngs]
    agrees(responses._emails, normalise_email, plain)


@settings(max_examples=200, deadline=None)
@given(st.emails(), st.emails(), st.sampled_from(ODD_TEXTS))
def test_hypothesis_emails_as_one_by_one(first: str, second: str, odd: str) -> None:
    agrees(responses._emails, normalise_email, [first, second.upper(), odd, first])


def test_lean_email_regex_reads_as_the_full_one() -> None:
    """Where `_lean` lets the lean regex read the lines, it gives what the full one gives."""
    rng = random.Random(7170)
    leans = 0
    for _ in range(6000):
        lines = [near_plain(rng).strip() for _ in range(rng.choice((1, 2, 5)))]
        lines = [line for line in lines if "\n" not in line]
        joined = "\n".join(lines)
        if not lines or not responses._lean(joined, lines):
            continue
        leans += 1
        lean = responses._PLAIN_EMAIL_LINES_LEAN.findall(joined)
        assert lean == responses._PLAIN_EMAIL_LINES.findall(joined), lines
    assert leans > 600


def test_lean_is_refused_for_the_cases_it_leaves_out() -> None:
    lean = responses._lean
    plain = ["ann.b@example.com", "c@d.co.uk", "Info@example.com", "a@b.TEST"]
    assert lean("\n".join(plain), plain)
    for odd in ("a--b@example.com", "a@ex--ample.com", "a" * 59 + "@b.com"):
        lines = [*plain, odd]
        assert not lean("\n".join(lines), lines), odd
    assert lean("a" * 58 + "@b.co", ["a" * 58 + "@b.co"])


@pytest.mark.parametrize("name", ["info", "Info", "POSTMASTER", "sUpPoRt", "www", "noc"])
@pytest.mark.parametrize("tld", ["com", "test", "TEST", "Localhost", "onion", "testing"])
def test_mailbox_and_special_use_names_in_a_batch(name: str, tld: str) -> None:
    """The lean regex reads them as any other address: they are judged one by one."""
    texts = ["ann.b@example.com", f"{name}@example.{tld}", f"{name}x@a.{tld}", f"x.{name}@b.co"]
    assert responses._lean("\n".join(texts), texts)
    agrees(responses._emails, normalise_email, texts)
    agrees(responses._emails, normalise_email, [*texts, "a--b@example.com"])  # the full regex


def test_phone_lines_read_the_shape_as_plain_phone() -> None:
    """Each line of `plain_phone`'s shape gives its ten digits (with their marks), any other
    "" or other than ten digits; as `plain_phone` reads the text alone."""
    rng = random.Random(4190)
    texts = [text for text in (phone_text(rng) for _ in range(20_000)) if "\n" not in text]
    shaped = responses._UK_PHONE_LINES.findall("\n".join(texts))
    taken = 0
    for text, shape in zip(texts, shaped, strict=True):
        plain = plain_phone(text)
        digits = shape.translate(responses._UK_PHONE_MARKS)
        assert (len(digits) == 10) == (plain is not None), text
        if plain is not None:
            taken += 1
            assert plain in (("+44" + digits, True), (text, False)), text
        else:
            assert digits == "" or (digits.isdigit() and digits.isascii()), text
    assert 5_000 < taken < 15_000


def test_valid_lines_as_one_by_one() -> None:
    """The regex for ten digits per line gives `_UK_VALID_10`'s (and the library's) verdicts."""
    assert responses._UK_VALID_LINES is not None
    rng = random.Random(8180)
    numbers = [ten_digits(rng) for _ in range(3000)]
    numbers += [f"{rng.randrange(10**9, 10**10)}" for _ in range(3000)]
    got = responses._UK_VALID_LINES.findall("\n".join(numbers))
    assert got == [d if responses._uk_valid(d) else "" for d in numbers]
    others = [d[: rng.choice((7, 8, 9))] for d in numbers] + [d + d[-1] for d in numbers]
    assert set(responses._UK_VALID_LINES.findall("\n".join(others))) == {""}
    assert [bool(d) for d in got[:500]] == [library_valid(d) for d in numbers[:500]]
    assert 500 < sum(map(bool, got)) < 5500


def raising(real: Callable[[str], tuple[str, bool]]) -> Callable[[str], tuple[str, bool]]:
    """`real`, but raising for the text "boom"."""

    def judge(text: str) -> tuple[str, bool]:
        if text == "boom":
            raise ValueError(text)
        return real(text)

    return judge


def test_a_verdict_that_raises_is_reported() -> None:
    """A text whose verdict raises is reported, by position, for the general path."""
    texts = ["07911 123456", "boom", "phone me", "boom", "01000 000000"]
    values, bad, raised = responses._phones(texts, raising(normalise_phone))
    assert raised == {1, 3} and bad == {2, 4}
    assert values[0] == "+447911123456" and values[2] == "phone me"
    values, bad, raised = responses._emails(["a@b.com", "boom", "x@"], raising(normalise_email))
    assert raised == {1} and bad == {2} and values[0] == "a@b.com"


# --- whole forms, over several chunks -------------------------------------------------------------


def many_responses(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Usual responses with realistic and odd answers; some ids submitted more than once."""
    raw = []
    for i in range(count):
        rid = f"r{rng.randrange(count)}" if rng.random() < 0.1 else f"r{i}"
        when = f"2026-06-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00.{i % 1000:03d}Z"
        texts = {
            "full_name": rng.choice(("Ann  Bee", " ", "Cy Dee", "")),
            "date_of_birth": rng.choice(("2010-04-03", "03/04/2010", "2999-01-01", "", "x")),
            "leaving_year": rng.choice(("2026", "", "Summer 2026", "2026 or 2027")),
            "personal_email": email_text(rng),
            "telephone": phone_text(rng),
            "destination": rng.choice(("College", " Sixth form ", "Gap year", "")),
            "consent": rng.choice(("Yes, I agree", "No, I do not agree", "", "maybe")),
            "start_date": rng.choice(("2026-09-01", "", "soon")),
        }
        response = usual(rid, when, **texts)
        if rng.random() < 0.05:
            response["answers"][QMAP["course"]]["textAnswers"]["answers"].append({"value": "x"})
        if rng.random() < 0.05:
            response["respondentEmail"] = rng.choice((" a@b.com ", None, 5))
        raw.append(response)
    return raw


def test_rows_over_several_chunks_as_before() -> None:
    rng = random.Random(9190)
    memo, old_memo = Memo(), ref.Memo()
    for count in (255, 256, 257, 1000):
        raw = many_responses(rng, count)
        assert outcome(responses, QMAP, raw, memo) == outcome(ref, QMAP, raw, old_memo)


@settings(max_examples=200, deadline=None)
@given(form(), form(), st.sampled_from((1, 2, 3)))
def test_whole_forms_in_small_chunks_as_before(first: Any, second: Any, chunk: int) -> None:
    memo, old_memo = Memo(), ref.Memo()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(responses, "_CHUNK", chunk)
        for qmap, raw in (first, second):
            assert outcome(responses, qmap, raw, memo) == outcome(ref, qmap, raw, old_memo)


def test_a_verdict_that_raises_raises_only_for_a_latest_response() -> None:
    """As before: the general path makes that row and raises; a superseded one is not read."""
    good = usual("r1", "2026-06-02T10:00:00.000Z", full_name="A B", telephone="07911 123456")
    bad = usual("r1", "2026-06-01T10:00:00.000Z", full_name="A B", telephone="boom")
    other = usual("r2", "2026-06-01T10:00:00.000Z", personal_email="boom")
    with pytest.MonkeyPatch.context() as patch:
        for module in (responses, ref):
            patch.setattr(module, "normalise_phone", raising(module.normalise_phone))
            patch.setattr(module, "normalise_email", raising(module.normalise_email))
        for raw in ([bad, good], [good, bad]):
            assert normalise_rows(raw, QMAP) == ref.normalise_rows(raw, QMAP)
        for raw in ([good, other], [bad], [other, bad, good]):
            with pytest.raises(ValueError):
                ref.normalise_rows(raw, QMAP)
            with pytest.raises(ValueError):
                normalise_rows(raw, QMAP)


class Text(str):
    """A str subclass (JSON never gives one): the general path reads it, as before."""

    def __str__(self) -> str:
        return f"<{super().__str__()}>"


def test_a_str_subclass_takes_the_general_path() -> None:
    for key in FORM_KEYS:
        raw = [usual("r1", "2026-06-01T10:00:00.000Z", **{key: Text("07911 123456")})]
        assert outcome(responses, QMAP, raw, Memo()) == outcome(ref, QMAP, raw, ref.Memo())


def test_all_stamped_is_the_stamped_form_of_each() -> None:
    """`all_stamped` (a translation of all the times at once) is `_STAMPED.fullmatch` of each."""
    good = "2026-06-01T10:00:00.500Z"
    odd = [
        "0026-06-01T10:00:00.500Z",
        "2026-06-01T10:00:00.50Z",
        "2026-06-01T10:00:00.5000Z",
        "2026-06-01T10:00:00Z",
        "2026-06-01 10:00:00.500Z",
        "2026-06-01T10:00:00.500z",
        "2026-06-0١T10:00:00.500Z",  # an Arabic-Indic digit
        "2026-06-0１T10:00:00.500Z",  # a fullwidth digit
        "2026-13-01T10:00:00.500Z",  # the form, not a date: stamped
        f"{good}\n{good}",
        f"{good}\n",
        "",
        " " + good,
    ]
    assert responses.all_stamped([]) and responses.all_stamped([good, good])
    for text in odd:
        want = responses.STAMPED.fullmatch(text) is not None
        for times in ([text], [good, text], [text, good, good]):
            assert responses.all_stamped(times) == want, times
    assert not responses.all_stamped([f"{good}\n{good}", ""])


def test_a_time_of_another_form_among_many_as_before() -> None:
    """One last-submitted time not in the stamped form: the rows made again without trust."""
    rng = random.Random(2290)
    raw = many_responses(rng, 600)
    for when in ("2026-06-03T10:00:00Z", "2026-06-03T11:00:00+01:00", "", None, 5):
        raw[rng.randrange(600)]["lastSubmittedTime"] = when
        assert outcome(responses, QMAP, raw, Memo()) == outcome(ref, QMAP, raw, ref.Memo())
