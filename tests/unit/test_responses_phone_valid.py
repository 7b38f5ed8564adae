"""`responses._uk_valid` (a regex built from phonenumbers' metadata for country code 44) gives
`phonenumbers.is_valid_number`'s verdict on every number.

The numbers are drawn around the metadata's structure: every leading five digits with a random
tail, tails of all 0s and all 9s, lengths either side of ten (which the library judges), a large
seeded random sample, and hypothesis over a 1-6 digit prefix and a tail. The start-up self-check
is shown to refuse a pattern that is wrong for one region or one number type.
"""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import responses


def library(digits: str) -> bool:
    """phonenumbers' own verdict on +44 `digits`."""
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(digits))
    return bool(phonenumbers.is_valid_number(number))


def test_the_fast_check_is_on() -> None:
    """The installed phonenumbers passes the self-check, so ten digits take the regex."""
    assert responses._UK_VALID_10 is not None
    assert responses._uk_valid_checked(10) is not None
    assert responses._uk_valid_10 is responses._UK_VALID_10  # what `plain_phone` calls


def test_every_five_digit_prefix_and_a_seeded_sample() -> None:
    """Every leading five digits (10000-99999) with a random tail, each leading four with a tail
    of 0s and of 9s, and 100,000 random ten-digit numbers: the regex's verdict is the library's."""
    rng = random.Random(4401)
    numbers = [f"{p}{rng.randrange(10**5):05d}" for p in range(10_000, 100_000)]
    numbers += [f"{p}{t}" for p in range(1000, 10_000) for t in ("000000", "999999")]
    numbers += [f"{rng.randrange(10**9, 10**10)}" for _ in range(100_000)]
    fast = responses._UK_VALID_10
    assert fast is not None
    verdicts = [library(d) for d in numbers]
    wrong = [d for d, want in zip(numbers, verdicts, strict=True) if fast(d) != want]
    assert wrong == []
    assert 50_000 < sum(verdicts) < len(numbers) - 50_000  # both verdicts well represented


# A national number: a 1-6 digit prefix (not starting 0), then a tail making 7-12 digits in all,
# mostly ten (the regex's length; the others are left to the library).
prefixes = st.text(alphabet="0123456789", min_size=0, max_size=5).flatmap(
    lambda rest: st.sampled_from("123456789").map(lambda first: first + rest)
)


@settings(max_examples=1000, deadline=None)
@given(
    prefixes,
    st.sampled_from((10, 10, 10, 10, 10, 10, 9, 11, 7, 8, 12)),
    st.randoms(use_true_random=False),
)
def test_uk_valid_is_the_library_verdict(prefix: str, length: int, rng: random.Random) -> None:
    tail = "".join(rng.choice("0123456789") for _ in range(max(length - len(prefix), 0)))
    digits = (prefix + tail)[:length]
    assert responses._uk_valid(digits) == library(digits), digits


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=10**9, max_value=10**10 - 1))
def test_uk_valid_on_any_ten_digits(number: int) -> None:
    digits = str(number)
    assert responses._uk_valid(digits) == library(digits), digits


def test_plain_phone_uses_the_verdict() -> None:
    """A valid and an invalid number of the plain shape, through `plain_phone`."""
    assert responses.plain_phone("07911 123456") == ("+447911123456", True)
    assert responses.plain_phone("07700 900123") == ("07700 900123", False)  # drama, not valid
    im = responses.plain_phone("+44 1624 230123")
    assert im is not None and im[1] is library("1624230123")
    assert responses.plain_phone("0999 999 9999") == ("0999 999 9999", False)


def test_without_the_regex_the_library_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responses, "_UK_VALID_10", None)
    for digits in ("7700900123", "1134960123", "9999999999", "1624230123", "1481256789"):
        assert responses._uk_valid(digits) == library(digits)


@pytest.mark.parametrize("region", ["GB", "GG", "IM", "JE"])
def test_self_check_refuses_a_wrong_region(region: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pattern that judges one region's numbers wrongly (all invalid) is refused."""
    real = responses._region_valid

    def broken(name: str, metadata: object, length: int) -> str:
        return responses._NEVER if name == region else real(name, metadata, length)

    monkeypatch.setattr(responses, "_region_valid", broken)
    assert responses._uk_valid_checked(10) is None


def described(kind: str) -> bool:
    """Whether some region of code 44 describes numbers of `kind` (GB has no shared-cost type)."""
    return any(
        getattr(phonenumbers.PhoneMetadata.metadata_for_region(r), kind, None) is not None
        for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[44]
    )


@pytest.mark.parametrize("kind", [k for k in responses._NUMBER_TYPES if described(k)])
def test_self_check_refuses_a_missing_type(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pattern that leaves out one number type (of those code 44 has) is refused."""
    monkeypatch.setattr(
        responses, "_NUMBER_TYPES", tuple(t for t in responses._NUMBER_TYPES if t != kind)
    )
    assert responses._uk_valid_checked(10) is None


def test_self_check_refuses_any_other_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(responses, "_uk_pattern", lambda length: re.compile(r"[1-9]\d{9}"))
    assert responses._uk_valid_checked(10) is None
    monkeypatch.setattr(responses, "_uk_pattern", lambda length: 1 / 0)
    assert responses._uk_valid_checked(10) is None
