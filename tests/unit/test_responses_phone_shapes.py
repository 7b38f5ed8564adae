"""`normalise_phone` on the ways people type a UK number gives the frozen copy's answer (which
parses every number with `phonenumbers.parse(value, "GB")`).

The fast shapes ("0", "+44", "+44 (0)" then ten digits spaced or dashed; "(0area) rest") are
built from valid and invalid numbers, every area-code split and separator, and near misses
around them (other brackets, separators, prefixes and lengths), which must take the parse.
"""

from __future__ import annotations

import random

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync.responses import normalise_phone, plain_phone
from tests.unit import _reference_responses as ref

FAST_PREFIXES = ("0", "+44", "+44 ", "+44-", "+44(0)", "+44 (0)", "+44 (0) ", "+44(0)-", "+44-(0)-")
NEAR_PREFIXES = (
    "+44 0", "+440", "0044 ", "44 ", "(0)", "+(44)", "(+44) ", "+44 ((0))", "+44 (0 )", "+44 ( 0)",
    "+44 (00)", "+44 (1)", "+44 (0", "+44 0)", "+44--", "+44 - ", "+ 44", "++44", "0 ", "0-", "00",
    "", "+44 [0]", "+44.", "+44/", "+44 (0)(0)", "+4 4", "+44 (0)0",
)  # fmt: skip
SEPARATORS = ("", "", "", " ", " ", "-", "-", "--", " -", "- ", " - ", ".", "/", "  ", "\t", "–")


def library_valid(digits: str) -> bool:
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(digits))
    return bool(phonenumbers.is_valid_number(number))


def ten_digits(rng: random.Random) -> str:
    """A national number: half of them valid, the rest any ten digits (first not 0)."""
    while True:
        digits = rng.choice("1277123456789") + f"{rng.randrange(10**9):09d}"
        if rng.random() < 0.5 or library_valid(digits):
            return digits


def separated(rng: random.Random, digits: str, separators: tuple[str, ...]) -> str:
    """`digits` with one of `separators` between some of them."""
    if not digits:
        return ""
    out = digits[0]
    for d in digits[1:]:
        out += rng.choice(separators) if rng.random() < 0.3 else ""
        out += d
    return out


def agrees(value: str) -> bool:
    """The fast path (if it takes `value`) and `normalise_phone` give the frozen answer."""
    want = ref.normalise_phone(value)
    assert normalise_phone(value) == want, value
    fast = plain_phone(" ".join(value.split()))
    if fast is not None:
        assert fast == want, value
    return fast is not None


def test_fast_shapes_over_many_numbers() -> None:
    """Each fast prefix and the bracketed area code, over 4,000 numbers, spaced and dashed."""
    rng = random.Random(7744)
    taken = valid = 0
    for _ in range(4000):
        digits = ten_digits(rng)
        body = separated(rng, digits, (" ", "-"))
        values = [rng.choice(FAST_PREFIXES) + body]
        cut = rng.randint(2, 5)  # "(0" area code ")" rest
        rest = separated(rng, digits[cut:], (" ", "-"))
        values.append(f"(0{digits[:cut]}){rng.choice(('', ' ', '-'))}{rest}")
        for value in values:
            taken += agrees(value)
            valid += normalise_phone(value)[1]
    assert taken == 8000 and 2000 < valid < 6000


def test_near_misses_take_the_parse_and_agree() -> None:
    """Other prefixes, separators, brackets and lengths: the same answers as the frozen copy."""
    rng = random.Random(4477)
    for _ in range(3000):
        digits = ten_digits(rng)[: rng.choice((10, 10, 9, 8, 7))]
        digits += "".join(rng.choice("0123456789") for _ in range(rng.choice((0, 0, 0, 1, 2))))
        body = separated(rng, digits, SEPARATORS)
        agrees(rng.choice(NEAR_PREFIXES + FAST_PREFIXES) + body)
        cut = rng.randint(1, 7)
        opener = rng.choice(("(0", "(0", "(", "((0", "[0", "(00", "0("))
        closer = rng.choice((")", ")", "))", "]", "", ") )"))
        between = rng.choice(("", " ", "-", "  ", " -", ".", ") "))
        agrees(f"{opener}{digits[:cut]}{closer}{between}{separated(rng, digits[cut:], SEPARATORS)}")


def test_examples() -> None:
    for value in (
        "07911 123456",
        "+44 (0)7911 123456",
        "+44(0)7911-123-456",
        "07911-123-456",
        "(0113) 496 0123",
        "(020) 7946 0123",
        "(01624) 230123",
        "(0113)-496-0123",
        "+44-7911-123456",
    ):
        assert agrees(value), value
        assert normalise_phone(value)[0] == ref.normalise_phone(value)[0]
    for value in ("(0113) 496 012", "(0113) 496 01234", "(0)7911 123456", "+44 07911 123456"):
        assert not agrees(value), value
    # "00" is GB's international prefix: "(0049) ..." is a German number, for the parse to read.
    for value in ("(0049) 3012345", "(0049)-301-2345", "(0049) 30123456", "(0033) 1234567"):
        assert not agrees(value), value
    assert normalise_phone("(0049) 3012345") == ("+493012345", True)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +4-()0(0)7-"), max_size=24))
def test_any_text_of_those_characters(text: str) -> None:
    agrees(text)


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from((*FAST_PREFIXES, *NEAR_PREFIXES, "(0")),
    st.text(alphabet="0123456789", min_size=7, max_size=12),
    st.lists(st.sampled_from((*SEPARATORS, ")", ") ", "(", "-)")), min_size=12, max_size=12),
)
def test_prefix_digits_and_separators(prefix: str, digits: str, seps: list[str]) -> None:
    agrees(prefix + "".join(d + s for d, s in zip(digits, seps, strict=False)))
