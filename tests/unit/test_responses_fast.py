"""The fast normalising of responses gives the old output.

The old code is frozen in tests/unit/_reference_responses.py. `plain_email` (the usual shape of
an address judged without `email-validator`) is compared with `email-validator` itself, on
addresses built around the edges of that shape; `normalise_rows` with the frozen copy, on
responses of every shape the Forms API or a hand-made test could give.
"""

from __future__ import annotations

import random
import string
from typing import Any

from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import responses
from gsync.responses import (
    FORM_KEYS,
    Memo,
    normalise_email,
    normalise_phone,
    normalise_rows,
    plain_email,
    plain_phone,
)
from tests.unit import _reference_responses as ref


def validator(value: str) -> str | None:
    """email-validator's normalised address for `value`, None when it rejects it."""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def agrees(value: str) -> bool:
    """`plain_email` gives email-validator's answer whenever it gives one; True if it did."""
    fast = plain_email(value)
    if fast is not None:
        assert fast == validator(value), value
    assert normalise_email(value) == ref.normalise_email(value), value
    return fast is not None


# --- addresses around the edges of the plain shape -----------------------------------------------

ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
NEAR_LOCAL = ATEXT + ' ."(),:;<>@[\\]\té\u0301ßＡ\x00'
LDH = string.ascii_letters + string.digits + "-"
NEAR_DOMAIN = LDH + "._é\u0301ßＡ。ﬁ\u200d@ "
TLDS = (
    "com", "COM", "Uk", "org", "x", "a1b", "c1", "1", "", "-a", "a-", "a-b", "b--c", "xn--p1ai",
    "xn--abc", "XN--P1AI", "test", "TEST", "arpa", "local", "localhost", "LocalHost", "onion",
    "invalid", "example", "ab--cd", "z" * 63, "z" * 64, "x-" * 31 + "y",
)  # fmt: skip
MAILBOXES = ("info", "Info", "SUPPORT", "postmaster", "www", "Www2", "abuse", "noc.x", "sales")


def _atom(rng: random.Random, alphabet: str, top: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, top)))


def near_plain(rng: random.Random) -> str:
    """An address near the plain shape: mostly plain, with edge cases and stray characters."""
    odd = rng.random() < 0.3
    local_chars = NEAR_LOCAL if odd else ATEXT
    domain_chars = NEAR_DOMAIN if odd and rng.random() < 0.5 else LDH
    if rng.random() < 0.1:
        local = rng.choice(MAILBOXES)
    else:
        atoms = rng.choice((1, 1, 2, 3))
        top = rng.choice((8, 8, 8, 30, 70))
        local = ".".join(
            _atom(rng, local_chars, top) or rng.choice(("", "a")) for _ in range(atoms)
        )
    labels = [
        _atom(rng, domain_chars, rng.choice((6, 6, 6, 62, 66)))
        for _ in range(rng.choice((0, 1, 1, 2, 4)))
    ]
    labels = [label.strip("-") if rng.random() < 0.7 else label for label in labels]
    domain = ".".join([*labels, rng.choice(TLDS)])
    if rng.random() < 0.05:
        domain = ".".join(["a" * 63] * 4)[: rng.choice((240, 250, 253, 254, 255))] + ".com"
    if rng.random() < 0.05:
        local = "a" * rng.choice((60, 63, 64, 65, 200))
    address = f"{local}@{domain}"
    if rng.random() < 0.05:
        address = rng.choice(("", " ", "\t", '"a b"', "<", "Name <")) + address
    if rng.random() < 0.05:
        address += rng.choice(("", " ", ".", "@", ">", "\n"))
    if rng.random() < 0.3:
        address = "".join(c.upper() if rng.random() < 0.3 else c for c in address)
    return address


def test_plain_email_agrees_with_email_validator_on_many_near_addresses() -> None:
    rng = random.Random(2026)
    accepted = sum(agrees(near_plain(rng)) for _ in range(30_000))
    assert 3_000 < accepted < 25_000  # both the fast path and the fallback are exercised


@settings(max_examples=600, deadline=None)
@given(st.randoms(use_true_random=False))
def test_plain_email_agrees_on_near_addresses(rng: random.Random) -> None:
    agrees(near_plain(rng))


@settings(max_examples=400, deadline=None)
@given(st.emails())
def test_plain_email_agrees_on_hypothesis_emails(address: str) -> None:
    agrees(address)
    agrees(address.upper())


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(NEAR_LOCAL + NEAR_DOMAIN), max_size=40))
def test_plain_email_agrees_on_text(text: str) -> None:
    agrees(text)
    agrees(f"{text}@example.com")
    agrees(f"a@{text}.com")


def test_plain_email_shapes() -> None:
    assert plain_email("Hawen.9@Example.COM") == "Hawen.9@example.com"
    assert plain_email("Info@EXAMPLE.co.uk") == "info@example.co.uk"
    assert plain_email("a@b.c") == "a@b.c"
    for other in ("a@b.test", "a@b.arpa", "a@xn--p1ai.com", "a@ab--c.com", "a..b@c.com", "a@b.c1"):
        assert plain_email(other) is None
        assert normalise_email(other) == ref.normalise_email(other)
    assert plain_email("a" * 64 + "@b.com") is not None and plain_email("a" * 65 + "@b.com") is None
    long_domain = ".".join(["a" * 63] * 3) + "." + "b" * 61  # 253 characters
    assert plain_email("a@" + long_domain) == validator("a@" + long_domain)
    assert plain_email("ab@" + long_domain) is None  # 256 characters in all


def test_special_use_names_are_single_labels() -> None:
    """`_SPECIAL_TLDS` holds every special-use name's last label; email-validator rejects them."""
    for name in responses.SPECIAL_USE_DOMAIN_NAMES:
        assert name.rpartition(".")[2] in responses._SPECIAL_TLDS
        assert plain_email(f"a@b.{name}") is None
        assert validator(f"a@b.{name}") is None


# --- UK phone numbers against phonenumbers (through the frozen normalise_phone) ------------------


def spaced(rng: random.Random, text: str) -> str:
    """`text` with spaces put between some of its characters (and sometimes around it)."""
    out = "".join(c + (" " * rng.choice((0, 0, 0, 1, 2))) for c in text)
    return rng.choice(("", " ", "\t")) + out + rng.choice(("", " "))


def phone_agrees(value: str) -> bool:
    """`normalise_phone` gives the old answer; True if the fast path judged it."""
    assert normalise_phone(value) == ref.normalise_phone(value), value
    return plain_phone(" ".join(value.split())) is not None


def test_plain_phone_agrees_with_phonenumbers_over_every_prefix() -> None:
    """Every first three of the ten digits (0-999: those starting 0 are not the fast shape), a
    dozen random rests each, in the three fast forms and a few others, spaced at random."""
    rng = random.Random(44)
    judged = valid = 0
    for prefix in range(1000):
        for _ in range(12):
            digits = f"{prefix:03d}{rng.randrange(10**7):07d}"
            if rng.random() < 0.8:
                form = rng.choice(("0", "+44", "+44 "))
            else:
                form = rng.choice(("+44 0", "0044", "44", "", "(0)", "0 ", "+ 44"))
            value = form + (spaced(rng, digits) if rng.random() < 0.7 else digits)
            if rng.random() < 0.1:
                value = spaced(rng, value)
            if phone_agrees(value):
                judged += 1
                valid += normalise_phone(value)[1]
    assert judged > 6_000 and 1_000 < valid < judged  # valid and invalid numbers both judged


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(("0", "+44", "+44 ", "+440", "0", "+4", "00", "")),
    st.text(alphabet="0123456789", min_size=8, max_size=12),
    st.randoms(use_true_random=False),
)
def test_plain_phone_agrees_on_near_numbers(form: str, digits: str, rng: random.Random) -> None:
    phone_agrees(form + digits)
    phone_agrees(spaced(rng, form + digits))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +4-()x#\t7"), max_size=20))
def test_plain_phone_agrees_on_text(text: str) -> None:
    phone_agrees(text)


def test_plain_phone_shapes() -> None:
    assert plain_phone("0113 496 0018") == ("+441134960018", True)
    assert plain_phone("+44 161 496 0810") == ("+441614960810", True)
    assert plain_phone("+441614960810") == ("+441614960810", True)
    assert plain_phone("07700 900123") == ref.normalise_phone("07700 900123")
    assert plain_phone("(0113) 496 0018") == ("+441134960018", True)
    assert plain_phone("+44 (0)161-496-0810") == ("+441614960810", True)
    for other in ("0770 090", "+44 0161 496 0810", "00441614960810", "(0113) 496 001"):
        assert plain_phone(other) is None


# --- normalise_rows against the frozen copy ------------------------------------------------------

TEXTS = st.one_of(
    st.sampled_from(
        (
            "",
            " ",
            "Brira  Ashford",
            "2010-04-03",
            "03/04/2010",
            "2999-01-01",
            "31/02/2010",
            "Summer 2026",
            "2026 or 2027",
            "020 7946 0123",
            "+44 161 496 0810",
            "07700 900123",
            "12345",
            "brira@example.com",
            "Brira@Example.COM",
            "someone@",
            "a@b.test",
            "College",
            " Sixth form ",
            "Gap year",
            "Yes, I agree",
            "No, I do not agree",
            "yes",
            "maybe",
            "x" * 50_001,
        )
    ),
    st.text(max_size=12),
)
TIMES = st.sampled_from(
    (
        "2026-06-01T10:00:00.500Z",
        "2026-06-01T10:00:00Z",
        "2026-06-01T11:00:00+01:00",
        "2026-06-02T10:00:00.123456Z",
        "2026-06-01",
        "not a time",
        "",
    )
)


@st.composite
def answer(draw: st.DrawFn) -> Any:
    """One question's answer: usually the Forms API's shape, sometimes an odd one."""
    kind = draw(st.integers(0, 9))
    if kind <= 5:
        return {"questionId": "q", "textAnswers": {"answers": [{"value": draw(TEXTS)}]}}
    if kind == 6:
        return {
            "textAnswers": {
                "answers": [{"value": draw(TEXTS)} for _ in range(draw(st.integers(0, 3)))]
            }
        }
    if kind == 7:
        return {"textAnswers": {"answers": [{"value": draw(st.integers())}]}}
    if kind == 8:
        return {"textAnswers": {"answers": [{}]}} if draw(st.booleans()) else {"textAnswers": {}}
    return draw(
        st.sampled_from((None, {}, {"textAnswers": None}, {"textAnswers": {"answers": None}}))
    )


@st.composite
def form(draw: st.DrawFn) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """A question map (some keys left out, in any order, plus a non-Form-A key) and responses."""
    keys = draw(st.permutations(FORM_KEYS))
    keys = [*keys[: draw(st.integers(0, len(keys)))], "extra"]
    question_map = {key: f"q_{key}" for key in keys}
    raw = []
    for _ in range(draw(st.integers(0, 6))):
        response: dict[str, Any] = {"responseId": draw(st.sampled_from(("r1", "r2", "r3", "")))}
        for field, times in (("createTime", TIMES), ("lastSubmittedTime", TIMES)):
            if draw(st.booleans()):
                response[field] = draw(times)
        if draw(st.booleans()):
            response["respondentEmail"] = draw(st.sampled_from((" a@b.com ", None, "")))
        response["answers"] = {
            qid: draw(answer()) for qid in question_map.values() if draw(st.integers(0, 5)) > 0
        }
        raw.append(response)
    return question_map, raw


@settings(max_examples=300, deadline=None)
@given(form(), form())
def test_normalise_rows_as_before(first: Any, second: Any) -> None:
    memo, old_memo = Memo(), ref.Memo()
    for question_map, raw in (first, second):  # one memo for both, as a run shares it
        got = normalise_rows(raw, question_map, memo=memo)
        want = ref.normalise_rows(raw, question_map, memo=old_memo)
        assert [list(row.items()) for row in got] == [list(row.items()) for row in want]
        response = raw[0] if raw else {"answers": {}}
        assert list(responses.normalise_response(response, question_map).items()) == list(
            ref.normalise_response(response, question_map).items()
        )


def test_plain_email_is_on_and_checked() -> None:
    """The installed email-validator passes the import-time check, so the fast path is used."""
    assert responses._PLAIN_EMAIL_ON and responses._plain_email_checked()
    assert {"info", "postmaster"} <= responses._CASELESS_MAILBOXES


def test_rows_hold_the_response_columns_in_order() -> None:
    """The row literal and the unpacking of the answers follow RESPONSE_COLUMNS and FORM_KEYS."""
    qmap = {key: f"q{i}" for i, key in enumerate(FORM_KEYS)}
    answers = {
        f"q{i}": {"textAnswers": {"answers": [{"value": f"v{key}"}]}}
        for i, key in enumerate(FORM_KEYS)
    }
    row = responses.normalise_response({"responseId": "r1", "answers": answers}, qmap)
    assert list(row) == list(responses.RESPONSE_COLUMNS)
    for key in ("course", "level", "provider", "duration"):
        assert row[key] == f"v{key}"
