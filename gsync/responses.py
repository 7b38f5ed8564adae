"""Forms API responses -> the normalised response frame (one row per response id).

Each Form A answer is cleaned the same way every run (so a re-run is idempotent): names
whitespace-collapsed, dates ISO, phones E.164 (`phonenumbers`, region GB), emails checked with
`email-validator` (no DNS), the destination split into an option and its "Other" text, consent Y/N.
A value that cannot be cleaned is kept as typed and its problem code added to `issues`. Text is
otherwise kept verbatim: a leading `=`, `+`, `-` or `@` stays literal text, because the writer
stores every cell as a string value, never a formula.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import itemgetter, not_, setitem
from typing import Any, TypeVar

import pandas as pd
import phonenumbers
from email_validator import (
    SPECIAL_USE_DOMAIN_NAMES,
    EmailNotValidError,
    rfc_constants,
    validate_email,
)

from gsync.roster import parse_date

FORM_KEYS: tuple[str, ...] = (
    "full_name",
    "date_of_birth",
    "leaving_year",
    "personal_email",
    "telephone",
    "destination",
    "course",
    "level",
    "provider",
    "start_date",
    "duration",
    "consent",
)
RESPONSE_COLUMNS: tuple[str, ...] = (
    "response_id",
    "created",
    "last_submitted",
    "respondent_email",
    "full_name",
    "date_of_birth",
    "leaving_year",
    "personal_email",
    "telephone",
    "destination",
    "destination_other",
    "course",
    "level",
    "provider",
    "start_date",
    "duration",
    "consent",
    "issues",
)
# Form A's destination options, base and Y13 (docs/ARCHITECTURE.md, "Form A keys"); any other
# answer to the isOther question is the respondent's "Other" text.
DESTINATION_OPTIONS: tuple[str, ...] = (
    "Employment with training",
    "Apprenticeship",
    "College",
    "Sixth form",
    "Voluntary work",
    "Traineeship",
    "University / higher education",
    "Degree apprenticeship",
)
OTHER = "Other"
CONSENT_YES = "Yes, I agree"
CONSENT_NO = "No, I do not agree"
MAX_CHARS = 50_000  # a Sheets cell holds at most 50,000 characters


def collapse(text: str) -> str:
    """Trim and collapse runs of whitespace to single spaces."""
    return " ".join(str(text).split())


# A UK number as people usually type it: "0", "+44" or "+44 (0)" then ten digits, the first not
# 0, spaced or dashed anyhow; or the area code in brackets, "(0113) 496 0123". `phonenumbers.parse(
# value, "GB")` drops the brackets, spaces and dashes, and reads it as country code 44 and those ten
# digits (a "0" is GB's national prefix, stripped after "+44" too; "+44" the country code);
# `plain_phone` skips the parse.
_UK_PHONE = re.compile(
    r"(?:0|\+44[ -]?(?:\(0\)[ -]?)?)([1-9](?:[ -]?+[0-9]){9})"
    r"|\(0([1-9][0-9]{1,4})\)[ -]?([0-9](?:[ -]?+[0-9]){4,8})"
)  # (a separator is always followed by a digit: taking it possessively changes no match)


def plain_phone(value: str) -> tuple[str, bool] | None:
    """`normalise_phone(value)` for a collapsed `value` of the `_UK_PHONE` shape, judged by
    `phonenumbers.is_valid_number` without parsing; None for any other shape."""
    got = _UK_PHONE.fullmatch(value)
    if got is None:
        return None
    digits = got[1]
    if digits is None:  # "(0area) rest": ten digits in all, or left to the parse
        digits = got[2] + got[3]
        if len(digits.replace(" ", "").replace("-", "")) != 10:
            return None
    digits = digits.replace(" ", "").replace("-", "")
    if _uk_valid_10(digits):
        return f"+44{digits}", True  # format_number(number, E164)
    return value, False


@functools.lru_cache(maxsize=1 << 16)
def _uk_valid_slow(digits: str) -> bool:
    """`phonenumbers.is_valid_number` of +44 `digits` (~16 us; one number is typed many ways)."""
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(digits))
    return bool(phonenumbers.is_valid_number(number))


# `phonenumbers.is_valid_number` of a number of country code 44, as one regex per length of its
# national significant number, built from the library's own metadata. The library finds the
# number's region among those sharing the code, in their order (GB, GG, IM, JE): a region with
# `leading_digits` claims the numbers starting so, any other those valid in it; the number is valid
# if its region is 44's and the region's `_number_type_helper` gives a type: the general
# description matches and so does one type's description (premium rate ... fixed line, then
# mobile unless its pattern is the fixed line's). A description matches a number of one of its
# possible lengths (any, if none listed) that its pattern matches whole.
_NUMBER_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_NEVER = "(?!)"


def _desc_pattern(desc: Any, length: int) -> str | None:
    """The pattern of a PhoneNumberDesc for numbers of `length` digits; None if it matches none."""
    if desc is None:
        return None
    lengths = desc.possible_length
    if len(lengths) > 0 and length not in lengths:
        return None
    pattern = desc.national_number_pattern
    if pattern is None or len(pattern) == 0:
        return None
    return f"(?:{pattern})"


def _region_valid(region: str, metadata: Any, length: int) -> str:
    """A pattern matching (to the end) the `length`-digit numbers valid in `region`."""
    if phonenumbers.country_code_for_valid_region(region) != 44:
        return _NEVER
    general = _desc_pattern(metadata.general_desc, length)
    types = [
        _desc_pattern(getattr(metadata, name), length)
        for name in _NUMBER_TYPES
        if name != "mobile" or not metadata.same_mobile_and_fixed_line_pattern
    ]
    kinds = [t for t in types if t is not None]
    if general is None or not kinds:
        return _NEVER
    return rf"(?={general}\Z)(?:{'|'.join(kinds)})\Z"


def _uk_pattern(length: int) -> re.Pattern[str]:
    """`is_valid_number` of +44 and a national number of `length` digits (no leading zero) as a
    regex's `match`, from phonenumbers' metadata (see above)."""
    from phonenumbers.phonemetadata import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    regions = COUNTRY_CODE_TO_REGION_CODE[44]
    if len(regions) == 1:  # the only region: no choosing
        meta = PhoneMetadata.metadata_for_region(regions[0].upper(), None)
        return re.compile(_NEVER if meta is None else _region_valid(regions[0], meta, length))
    rest = _NEVER  # no region claims it: invalid
    for region in reversed(regions):
        meta = PhoneMetadata.metadata_for_region(region.upper(), None)
        if meta is None:
            continue
        valid = _region_valid(region, meta, length)
        if meta.leading_digits is None:  # claims (and is) the numbers valid in it
            rest = f"(?:{valid}|{rest})"
        else:
            lead = f"(?:{meta.leading_digits})"
            rest = f"(?:(?={lead}){valid}|(?!{lead}){rest})"
    return re.compile(rest)


def _uk_valid_checked(length: int) -> Callable[[str], bool] | None:
    """`_uk_pattern(length)` as a test of `length`-digit strings, if it gives the installed
    phonenumbers' verdicts on its own example numbers and their neighbours (the tests prove it on
    many); None if not, or if the metadata is not as this reads it."""
    try:
        from phonenumbers.phonemetadata import PhoneMetadata
        from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

        pattern = _uk_pattern(length)
        samples = {str(d) * length for d in range(1, 10)}
        for region in COUNTRY_CODE_TO_REGION_CODE[44]:
            meta = PhoneMetadata.metadata_for_region(region.upper(), None)
            for desc in vars(meta).values() if meta is not None else ():  # every description
                example = getattr(desc, "example_number", None) or ""
                if len(example) == length and example.isdigit() and example[0] != "0":
                    head, last = example[:-1], int(example[-1])
                    samples.update(f"{head}{(last + k) % 10}" for k in range(10))
                    samples.add(example[:4] + "0" * (length - 4))
                    samples.add(example[:2] + "9" * (length - 2))
        for digits in sorted(samples):
            if (pattern.match(digits) is not None) != _uk_valid_slow.__wrapped__(digits):
                return None
    except Exception:
        return None
    match = pattern.match
    return lambda digits: match(digits) is not None


_UK_VALID_10 = _uk_valid_checked(10)


def _uk_valid(digits: str) -> bool:
    """`phonenumbers.is_valid_number` of +44 `digits` (digits only, the first not 0): by the
    metadata's regex for ten digits (~0.5 us), else by the library."""
    if _UK_VALID_10 is not None and len(digits) == 10:
        return _UK_VALID_10(digits)
    return _uk_valid_slow(digits)


# `_uk_valid` of ten digits.
_uk_valid_10: Callable[[str], bool] = _UK_VALID_10 or _uk_valid_slow


def normalise_phone(text: str) -> tuple[str, bool]:
    """(E.164, True) for a valid number (UK numbers without +44 read as GB); else (text, False)."""
    if type(text) is str:  # of the `_UK_PHONE` shape as typed: collapsed already (single spaces)
        plain = plain_phone(text)
        if plain is not None:
            return plain
    value = collapse(text)
    if not value:
        return "", True
    plain = plain_phone(value)
    if plain is not None:
        return plain
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value, False
    if not phonenumbers.is_valid_number(number):
        return value, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


# The usual shape of an address, which `plain_email` judges without `email-validator`: an ASCII
# dot-atom local part of at most 64 characters, then LDH labels of at most 63 characters each
# (none holding "--", so no Punycode and no R-LDH label), the last one ending with a letter.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_PLAIN_EMAIL = re.compile(
    rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"((?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]))"
)
# The last labels of email-validator's special-use names (which it rejects with their subdomains).
_SPECIAL_TLDS = frozenset(d.rpartition(".")[2].lower() for d in SPECIAL_USE_DOMAIN_NAMES)
# RFC 2142's mailbox names, which email-validator lower-cases.
_CASELESS_MAILBOXES = frozenset(getattr(rfc_constants, "CASE_INSENSITIVE_MAILBOX_NAMES", ()))


def plain_email(value: str) -> str | None:
    """`validate_email(value, check_deliverability=False).normalized` for an address of the usual
    shape (see `_PLAIN_EMAIL`) that is not special-use; None for anything else, which is left to
    `email-validator`. The domain is lower-cased (as UTS-46 maps ASCII), and so is an RFC 2142
    mailbox name ("Info" -> "info")."""
    if len(value) > 254:
        return None
    got = _PLAIN_EMAIL.fullmatch(value)
    if got is None:
        return None
    local, domain, tld = got.groups()
    if len(local) > 64 or len(domain) > 253 or "--" in domain:
        return None
    if tld.lower() in _SPECIAL_TLDS:
        return None
    if local.lower() in _CASELESS_MAILBOXES:
        local = local.lower()
    return f"{local}@{domain.lower()}"


def _plain_email_checked() -> bool:
    """Whether `plain_email` gives the installed email-validator's answers on a few addresses
    (the tests prove it on many; this keeps it off for a version that would normalise otherwise)."""
    for address in ("Info@Example.COM", "a.B+c@x-1.co.UK", "POSTMASTER@a.io", "x@sub.example.org"):
        try:
            want = validate_email(address, check_deliverability=False).normalized
        except EmailNotValidError:
            return False
        if plain_email(address) != want:
            return False
    return True


_PLAIN_EMAIL_ON = _plain_email_checked()


def normalise_email(text: str) -> tuple[str, bool]:
    """(normalised address, True) if it is a syntactically valid address; else (text, False)."""
    value = str(text).strip()
    if not value:
        return "", True
    plain = plain_email(value) if _PLAIN_EMAIL_ON else None
    if plain is not None:
        return plain, True
    try:
        return validate_email(value, check_deliverability=False).normalized, True
    except EmailNotValidError:
        return value, False


# --- many answers at once ------------------------------------------------------------------------
# A run judges ~80,000 distinct telephone and email answers, nearly all of the usual shapes. A regex
# run over them all, joined by "\n", reads each one's verdict in C: in MULTILINE mode `^` and `$`
# take only "\n" for a line's end, as `.` does, so each text without "\n" is one line and each line
# gives one match of `^(?:...|.*)$` (the usual shape, else the rest of the line). The few texts of
# other shapes, and any holding "\n", are judged one by one as before.

# Each line of `plain_phone`'s shape (`_UK_PHONE`) but for its count of digits: what follows its
# prefix ("0", "+44 (0)"...: digits, one separator between two; "(0": area code, ")", the rest, ten
# digits in all); "" for a line of another shape. (Ten digits after "0" or "+44": its shape.)
_UK_PHONE_LINES = re.compile(
    r"^(?:(?:(?:0|\+44[ -]?(?:\(0\)[ -]?)?)(?=[1-9][0-9]*+(?:[ -][0-9]++)*+$)"
    r"|\(0(?=[1-9](?:[0-9]\)[ -]?[0-9](?:[ -]?+[0-9]){7}"
    r"|[0-9]{2}\)[ -]?[0-9](?:[ -]?+[0-9]){6}"
    r"|[0-9]{3}\)[ -]?[0-9](?:[ -]?+[0-9]){5}"
    r"|[0-9]{4}\)[ -]?[0-9](?:[ -]?+[0-9]){4})$))(.+)|.*)$",
    re.MULTILINE,
)
_UK_PHONE_MARKS = str.maketrans("", "", " -)")


def _uk_valid_lines() -> re.Pattern[str] | None:
    """`_UK_VALID_10` over lines of digits: each line of ten read as itself if valid, any other
    "" (its regex with each `\\Z` a line's end); None if that test is off, or if this form of it
    does not give its verdicts on a few thousand numbers."""
    if _UK_VALID_10 is None:
        return None
    try:
        anchored = _uk_pattern(10).pattern.replace(r"\Z", "$")
        lines = re.compile(rf"^(?:(?=[0-9]{{10}}$)({anchored})|.*)$", re.MULTILINE)
        samples = [f"{head}{tail}" for head in range(100, 1000) for tail in _LINE_TAILS]
        want = [digits if _UK_VALID_10(digits) else "" for digits in samples]
        if lines.findall("\n".join(samples)) != want:
            return None
    except Exception:
        return None
    return lines


_LINE_TAILS = ("0000000", "1234567", "5550123", "9460018", "9999999")
_UK_VALID_LINES = _uk_valid_lines()


# Verdicts of many answers at once: (each one's value, the positions of those not valid, the
# positions of those for which the verdict raised).
_Verdicts = tuple[list[str], set[int], set[int]]


def _one_by_one(texts: Sequence[str], judge: Callable[[str], tuple[str, bool]]) -> _Verdicts:
    """`judge` of each text (a memo's: once per distinct text), as `_Verdicts`."""
    values, bad, raised = [""] * len(texts), set[int](), set[int]()
    for i, text in enumerate(texts):
        try:
            values[i], ok = judge(text)
        except Exception:
            raised.add(i)
            continue
        if not ok:
            bad.add(i)
    return values, bad, raised


def _patch(
    values: list[str],
    texts: Sequence[str],
    todo: Iterable[int],
    judge: Callable[[str], tuple[str, bool]],
    bad: set[int],
) -> set[int]:
    """Puts `judge(texts[i])` in values[i] for each i in `todo` (adding i to `bad` if not
    valid); returns those for which it raised."""
    raised = set[int]()
    for i in todo:
        try:
            values[i], ok = judge(texts[i])
        except Exception:
            raised.add(i)
            continue
        if not ok:
            bad.add(i)
    return raised


def _phones(texts: Sequence[str], judge: Callable[[str], tuple[str, bool]]) -> _Verdicts:
    """`normalise_phone` of each text (each a str), as `_Verdicts`: those of `plain_phone`'s
    shape as typed by the regexes above, the others by `judge` (`Memo.phone`)."""
    if _UK_VALID_LINES is None:
        return _one_by_one(texts, judge)
    shaped = _UK_PHONE_LINES.findall("\n".join(texts))
    if len(shaped) != len(texts):  # a text holding "\n" (two lines or more): rare
        return _one_by_one(texts, judge)
    numbers = _UK_VALID_LINES.findall("\n".join(shaped).translate(_UK_PHONE_MARKS))
    values = list(map("+44".__add__, numbers))  # `plain_phone`'s (E.164, True)
    bad, raised = set[int](), set[int]()
    if not all(numbers):
        others = []
        for i in compress(range(len(texts)), map(not_, numbers)):
            if len(shaped[i].translate(_UK_PHONE_MARKS)) == 10:  # `plain_phone`'s (text, False)
                values[i] = texts[i]
                bad.add(i)
            else:
                others.append(i)
        raised = _patch(values, texts, _collapsed_phones(values, texts, others, bad), judge, bad)
    return values, bad, raised


def _collapsed_phones(
    values: list[str], texts: Sequence[str], todo: list[int], bad: set[int]
) -> list[int]:
    """For each i in `todo` (texts not of `plain_phone`'s shape as typed): `normalise_phone`'s
    verdict on texts[i] collapsed, put in values[i] (i added to `bad` if not valid), if it is
    blank or of that shape; returns the others."""
    if not todo or _UK_VALID_LINES is None:
        return todo
    lines = [" ".join(texts[i].split()) for i in todo]  # `collapse` (no "\n" left)
    shaped = _UK_PHONE_LINES.findall("\n".join(lines))
    numbers = _UK_VALID_LINES.findall("\n".join(shaped).translate(_UK_PHONE_MARKS))
    if not len(shaped) == len(numbers) == len(todo):  # (never: one line each)
        return todo
    others = []
    for i, line, shape, number in zip(todo, lines, shaped, numbers, strict=True):
        if number:
            values[i] = "+44" + number
        elif len(shape.translate(_UK_PHONE_MARKS)) == 10:
            values[i] = line
            bad.add(i)
        elif not line:
            values[i] = ""
        else:
            others.append(i)
    return others


def _plain_email_lines(lean: bool) -> re.Pattern[str]:
    """`_PLAIN_EMAIL` and `plain_email`'s tests of lengths and "--" as one regex over lines: each
    line gives (its local part and "@", its domain, the domain's last label) if it is of that
    shape, else ("", "", ""); `plain_email` gives the first two, the domain lower-cased, unless
    the local part is an RFC 2142 mailbox name or the last label a special-use name (which
    `_emails` tests). `lean`: for lines none of which is longer than 64 characters or holds "--"
    (so all within the limits: an LDH label as runs of letters and digits joined by "-")."""
    if lean:
        return re.compile(
            rf"^(?:({_ATEXT}++(?:\.{_ATEXT}++)*+@)"
            r"((?:[A-Za-z0-9]++(?:-[A-Za-z0-9]++)*+\.)++"
            r"((?:[A-Za-z0-9][A-Za-z0-9-]*)?[A-Za-z]))|.*)$",
            re.MULTILINE,
        )
    return re.compile(
        rf"^(?:(?=.{{0,254}}$)(?=[^@]{{0,64}}@)({_ATEXT}+(?:\.{_ATEXT}+)*@)(?=.{{0,253}}$)(?!.*--)"
        r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
        r"((?:[A-Za-z0-9][A-Za-z0-9-]{0,61})?[A-Za-z]))|.*)$",
        re.MULTILINE,
    )


_PLAIN_EMAIL_LINES = _plain_email_lines(lean=False)
_PLAIN_EMAIL_LINES_LEAN = _plain_email_lines(lean=True)
# A local part and "@" shorter than this may be an RFC 2142 mailbox name's.
_SHORT_LOCAL = max(map(len, _CASELESS_MAILBOXES), default=0) + 2


def _lean(joined: str, lines: Sequence[str]) -> bool:
    """Whether the lean regex may read `lines` (joined by "\n": `joined`)."""
    return "--" not in joined and max(map(len, lines), default=0) <= 64


def _emails(texts: Sequence[str], judge: Callable[[str], tuple[str, bool]]) -> _Verdicts:
    """`normalise_email` of each text (each a str), as `_Verdicts`: those `plain_email` reads by
    the regexes above, the others by `judge` (`Memo.email`)."""
    lines = list(map(str.strip, texts))  # as `normalise_email` reads them
    joined = "\n".join(lines)
    if not _PLAIN_EMAIL_ON:
        return _one_by_one(texts, judge)
    lean = _lean(joined, lines)
    found = (_PLAIN_EMAIL_LINES_LEAN if lean else _PLAIN_EMAIL_LINES).findall(joined)
    if len(found) != len(texts):  # a text holding "\n" within (two lines or more): rare
        return _one_by_one(texts, judge)
    locals_, domains, tlds = zip(*found, strict=True)
    values = list(map(str.__add__, locals_, map(str.lower, domains)))
    # One by one: those of other shapes, or with a special-use name or a mailbox name.
    others = set[int]() if all(locals_) else set(compress(range(len(texts)), map(not_, locals_)))
    special = {tld for tld in set(tlds) if tld.lower() in _SPECIAL_TLDS}
    if special:
        others.update(compress(range(len(texts)), map(special.__contains__, tlds)))
    if min(map(len, filter(None, locals_)), default=_SHORT_LOCAL) < _SHORT_LOCAL:
        others.update(
            i for i, local in enumerate(locals_) if local[:-1].lower() in _CASELESS_MAILBOXES
        )
    bad = set[int]()
    return values, bad, _patch(values, texts, others, judge, bad) if others else set[int]()


def normalise_date(text: str) -> tuple[str, bool]:
    """(ISO date, True) from ISO or dd/mm/yyyy; else (text, False)."""
    value = collapse(text)
    if not value:
        return "", True
    try:
        return parse_date(value), True
    except ValueError:
        return value, False


def normalise_year(text: str) -> tuple[str, bool]:
    """(YYYY, True) when the answer holds exactly one plausible year; else (text, False)."""
    value = collapse(text)
    if not value:
        return "", True
    years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", value)
    if len(set(years)) == 1:
        return years[0], True
    return value, False


def normalise_consent(text: str) -> str:
    """Form A's consent answer -> "Y" / "N"; "" when unanswered or unrecognised."""
    value = collapse(text).casefold()
    if value == CONSENT_YES.casefold() or value.startswith("yes"):
        return "Y"
    if value == CONSENT_NO.casefold() or value.startswith("no"):
        return "N"
    return ""


# `YYYY-MM-DDTHH:MM:SS[.fff...]Z` from year 1000 on, the Forms API's form of a time.
_UTC_STAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]+))?Z"
)


# Text already in that form, which `timestamp` returns as it is (whether or not it parses).
STAMPED = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def timestamp(text: str) -> str:
    """An RFC 3339 time as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (sorts as text); unparsable kept as is."""
    if type(text) is str and STAMPED.fullmatch(text):
        return text  # the Forms API's usual form: what the steps below would give
    value = str(text or "").strip()
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    utc = _UTC_STAMP.fullmatch(value)
    if utc is not None:  # already UTC: its own digits, the fraction cut to milliseconds
        return f"{value[:19]}.{(utc[1] or '')[:3]:0<3}Z"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    return f"{parsed:%Y-%m-%dT%H:%M:%S}.{parsed.microsecond // 1000:03d}Z"


def _answer_text(answer: Any) -> str:
    """One question's answer as text: its text answers joined by "; ", blanks left out."""
    if type(answer) is dict:  # the Forms API's usual shape, one text answer: read it directly
        texts = answer.get("textAnswers")
        if type(texts) is dict:
            items = texts.get("answers")
            if type(items) is list and len(items) == 1 and type(items[0]) is dict:
                return str(items[0].get("value", ""))
    answer = answer or {}
    values = [
        str(a.get("value", ""))
        for a in (answer.get("textAnswers") or {}).get("answers") or []
        if isinstance(a, Mapping)
    ]
    return "; ".join(v for v in values if v != "")


@dataclass
class Memo:
    """phonenumbers' and email-validator's verdicts by answer text, for one run: each distinct
    telephone or email answer is judged once (the same functions, called fewer times). The
    usual responses' telephones and emails of the usual shapes are judged in batches instead
    (`_phones`, `_emails`: nearly all distinct), the others through the memo."""

    phones: dict[str, tuple[str, bool]] = field(default_factory=dict)
    emails: dict[str, tuple[str, bool]] = field(default_factory=dict)
    dates: dict[str, tuple[str, bool]] = field(default_factory=dict)
    years: dict[str, tuple[str, bool]] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)

    def phone(self, text: str) -> tuple[str, bool]:
        return _judged(self.phones, normalise_phone, text)

    def email(self, text: str) -> tuple[str, bool]:
        return _judged(self.emails, normalise_email, text)

    def date(self, text: str) -> tuple[str, bool]:
        return _judged(self.dates, normalise_date, text)

    def year(self, text: str) -> tuple[str, bool]:
        return _judged(self.years, normalise_year, text)

    def consent(self, text: str) -> str:
        return _judged(self.consents, normalise_consent, text)


_V = TypeVar("_V")


def _judged(verdicts: dict[str, _V], judge: Callable[[str], _V], text: str) -> _V:
    """`judge(text)`, remembered in `verdicts` (judged once per distinct text)."""
    got = verdicts.get(text)
    if got is None:
        got = verdicts[text] = judge(text)
    return got


def normalise_response(
    response: Mapping[str, Any],
    question_map: Mapping[str, str],
    destination_options: Collection[str] = DESTINATION_OPTIONS,
    *,
    memo: Memo | None = None,
) -> dict[str, str]:
    """One FormResponse -> one normalised row (see the module docstring)."""
    return _normalise(response, _slots(question_map), destination_options, memo or Memo())


_SLOT = {key: i for i, key in enumerate(FORM_KEYS)}
_TRUNCATED = tuple(f"truncated_{key}" for key in FORM_KEYS)


def _slots(question_map: Mapping[str, str]) -> list[tuple[int, str]]:
    """The form's Form A questions in `question_map`'s order: (position in FORM_KEYS, question id)."""
    return [(_SLOT[key], qid) for key, qid in question_map.items() if key in _SLOT]


def _normalise(
    response: Mapping[str, Any],
    slots: list[tuple[int, str]],
    destination_options: Collection[str],
    memo: Memo,
    last_submitted: str | None = None,
) -> dict[str, str]:
    """`slots`: `_slots(question_map)`. `last_submitted`: `timestamp` of the response's
    last-submitted (else creation) time, when the caller has it."""
    return _normalise_all([(last_submitted, response)], slots, destination_options, memo)[0]


def _normalise_all(
    responses: Iterable[tuple[str | None, Mapping[str, Any]]],
    slots: list[tuple[int, str]],
    destination_options: Collection[str],
    memo: Memo,
) -> list[dict[str, str]]:
    """`_normalise` of each (last_submitted, response), in order: any answer shape."""
    answer_text, truncated, stamp, n_keys = _answer_text, _TRUNCATED, timestamp, len(FORM_KEYS)
    row_of = _row_maker(destination_options, memo)
    rows: list[dict[str, str]] = []
    append = rows.append
    for last_submitted, response in responses:
        issues = ""  # " " before each issue
        answers = response.get("answers") or {}
        # The answers' texts by position in FORM_KEYS ("" for a question not in the map), each
        # cut to a cell's size (a "truncated_" issue, in the map's order).
        texts = [""] * n_keys
        for slot, qid in slots:
            text = answer_text(answers.get(qid))
            if len(text) > MAX_CHARS:
                text = text[:MAX_CHARS]
                issues += " " + truncated[slot]
            texts[slot] = text
        created = stamp(response.get("createTime", ""))
        if last_submitted is None:
            last = response.get("lastSubmittedTime")
            last_submitted = stamp(last) if last else created
        rid = str(response.get("responseId", ""))
        append(row_of(texts, rid, created, last_submitted, response, issues))
    return rows


_Row = Callable[[Sequence[str], str, str, str, Mapping[str, Any], str], dict[str, str]]


def _row_maker(destination_options: Collection[str], memo: Memo) -> _Row:
    """`row(texts, rid, created, last_submitted, response, issues)`: a response's row from its
    answers' texts by position in FORM_KEYS, validated (`issues`: those found so far, each after
    a space). The verdicts are the memo's; destinations looked up once per text."""
    dates, years, phones, emails, consents = (
        memo.dates,
        memo.years,
        memo.phones,
        memo.emails,
        memo.consents,
    )
    blank = dict.fromkeys(RESPONSE_COLUMNS, "")
    places: dict[str, tuple[str, str]] = {}  # destination answer -> (destination, its "Other" text)

    def row(
        texts: Sequence[str],
        rid: str,
        created: str,
        when: str,
        response: Mapping[str, Any],
        issues: str,
    ) -> dict[str, str]:
        (
            full_name,
            date_of_birth,
            leaving_year,
            personal_email,
            telephone,
            destination,
            course,
            level,
            provider,
            start_date,
            duration,
            consent,
        ) = texts
        full_name = " ".join(full_name.split())  # `collapse`
        if not full_name:
            issues += " missing_name"
        # (A verdict is a non-empty tuple: true.)
        date_of_birth, dob_ok = dates.get(date_of_birth) or memo.date(date_of_birth)
        if not dob_ok:
            issues += " bad_date_of_birth"
        start_date, ok = dates.get(start_date) or memo.date(start_date)
        if not ok:
            issues += " bad_start_date"
        if not date_of_birth:
            issues += " missing_date_of_birth"
        elif dob_ok and date_of_birth > (when[:10] or date_of_birth):
            issues += " future_date_of_birth"  # born after submitting: a typo to check
        leaving_year, ok = years.get(leaving_year) or memo.year(leaving_year)
        if not ok:
            issues += " bad_leaving_year"
        telephone, ok = phones.get(telephone) or memo.phone(telephone)
        if not ok:
            issues += " bad_telephone"
        personal_email, ok = emails.get(personal_email) or memo.email(personal_email)
        if not ok:
            issues += " bad_personal_email"
        placed = places.get(destination)
        if placed is None:
            place = destination.strip()
            placed = places[destination] = (
                (OTHER, place) if place and place not in destination_options else (place, "")
            )
        destination, other = placed
        verdict = consents.get(consent)
        if verdict is None:  # (a verdict may be "": no consent)
            verdict = memo.consent(consent)
        if not verdict:
            issues += " missing_consent"
        respondent = response.get("respondentEmail")
        if type(respondent) is not str:
            respondent = str(respondent or "")
        out = blank.copy()  # the keys in order (a little faster than a dict literal)
        out["response_id"] = rid
        out["created"] = created
        out["last_submitted"] = when
        out["respondent_email"] = respondent.strip()
        out["full_name"] = full_name
        out["date_of_birth"] = date_of_birth
        out["leaving_year"] = leaving_year
        out["personal_email"] = personal_email
        out["telephone"] = telephone
        out["destination"] = destination
        out["destination_other"] = other
        out["course"] = course.strip()
        out["level"] = level.strip()
        out["provider"] = provider.strip()
        out["start_date"] = start_date
        out["duration"] = duration.strip()
        out["consent"] = verdict
        out["issues"] = issues[1:]
        return out

    return row


def normalise_rows(
    raw: list[dict[str, Any]],
    question_map: Mapping[str, str],
    *,
    destination_options: Collection[str] = DESTINATION_OPTIONS,
    memo: Memo | None = None,
) -> list[dict[str, str]]:
    """`normalise_responses` as a list of row dicts (response column -> text), in its order.

    `memo`: phone and email verdicts to reuse (a run passes one for all its schools)."""
    slots = _slots(question_map)
    memo = memo or Memo()
    # Each response id's latest submission: (when, rid, its row or None, response). The rows of
    # the usual shape are made here, in `raw`'s order (the order the responses sit in memory, so
    # far fewer cache misses than in time order); any other response is left (None) to
    # `_normalise_all` below, which is the only path that reads it, as before.
    latest = _usual_rows(raw, slots, destination_options, memo)
    # Each row's (last_submitted, response_id) is its (when, rid), distinct by rid: ordering the
    # responses by it orders the rows as sorting them would (the tuples never compare further).
    ordered = sorted(latest.values())
    unusual = [(when, response) for when, _, row, response in ordered if row is None]
    if not unusual:
        return [row for _, _, row, _ in ordered if row is not None]  # (all of them)
    others = iter(_normalise_all(unusual, slots, destination_options, memo))
    return [row if row is not None else next(others) for _, _, row, _ in ordered]


_STR_TYPES = (str,) * len(FORM_KEYS)
# What `_usual_rows` reads for a question missing from a response's answers: the text ""
# (`_answer_text(None)`, as the general path reads it).
_UNANSWERED: Mapping[str, Any] = {"textAnswers": {"answers": ({"value": ""},)}}


class _Unusual(Exception):
    """A response not of the usual shape, left to the general path."""


def _usual_rows(
    raw: list[dict[str, Any]],
    slots: list[tuple[int, str]],
    destination_options: Collection[str],
    memo: Memo,
    trust: bool = True,
) -> dict[str, tuple[str, str, dict[str, str] | None, Mapping[str, Any]]]:
    """Each response id's latest submission in `raw` as (when, rid, row, response): `row` is
    `_normalise(response, slots, destination_options, memo, when)` for a response of the usual
    shape (each Form A question answered with one text answer or left unanswered, of at most
    MAX_CHARS in all, in a dict of the Forms API's JSON), None for any other (whose row the caller
    makes).

    Each row is made as `_row_maker` makes it, but its telephone and email are judged
    afterwards, `_CHUNK` rows' at a time (`_phones`, `_emails`: nearly every one is distinct, and
    new on a first night), and its row finished then.

    `trust`: each last-submitted time that is a str is taken to be of the Forms API's form (as
    it is), and checked for all of them at once at the end; if one is not, the responses are
    read again without that trust."""
    stamp, stamped = timestamp, STAMPED.fullmatch
    trusted: list[str] = []  # the last-submitted times taken as `STAMPED`
    trusting = trusted.append
    str_types = _STR_TYPES
    dates, years, consents = memo.dates, memo.years, memo.consents
    date, year_of, consent_of = memo.date, memo.year, memo.consent
    blank = dict.fromkeys(RESPONSE_COLUMNS, "")
    places: dict[str, tuple[str, str]] = {}  # destination answer -> (destination, its "Other" text)
    # The rows to finish (see `_finish`): each one, its telephone and email answers, and (its
    # position among them, its issues so far, whether consent is missing) for those with issues.
    outs: list[dict[str, str]] = []
    telephones: list[str] = []
    emails: list[str] = []
    marked: list[tuple[int, str, bool]] = []
    qids = dict(slots)
    answers_of, ordered = None, list[str]()
    if len(qids) == len(FORM_KEYS):  # every Form A question in the map: their answers in order
        ordered = [qids[i] for i in range(len(FORM_KEYS))]
        answers_of = itemgetter(*ordered)
    latest: dict[str, tuple[str, str, dict[str, str] | None, Mapping[str, Any]]] = {}
    for response in raw:
        # As the old first pass: the response id and the time that picks the latest submission.
        rid = str(response.get("responseId", ""))
        last = response.get("lastSubmittedTime")
        if type(last) is str and (trust or stamped(last) is not None):
            when = last  # `timestamp`'s first case
            trusting(last)
        else:
            when = stamp(last or response.get("createTime", ""))
            last = None
        held = latest.get(rid)
        if held is not None and when < held[0]:
            continue
        row = None
        try:
            if answers_of is None:
                raise _Unusual
            answers = response["answers"]
            if type(answers) is not dict:
                raise _Unusual
            try:
                (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) = answers_of(answers)
            except KeyError:  # a question left unanswered (not in `answers`) reads as ""
                get = answers.get
                (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11) = [
                    get(qid, _UNANSWERED) for qid in ordered
                ]
            # One text answer each: any other JSON shape raises (KeyError, TypeError, ValueError)
            # and takes the general path (which reads a dict, list, str, number or None as here).
            (v0,) = a0["textAnswers"]["answers"]
            (v1,) = a1["textAnswers"]["answers"]
            (v2,) = a2["textAnswers"]["answers"]
            (v3,) = a3["textAnswers"]["answers"]
            (v4,) = a4["textAnswers"]["answers"]
            (v5,) = a5["textAnswers"]["answers"]
            (v6,) = a6["textAnswers"]["answers"]
            (v7,) = a7["textAnswers"]["answers"]
            (v8,) = a8["textAnswers"]["answers"]
            (v9,) = a9["textAnswers"]["answers"]
            (v10,) = a10["textAnswers"]["answers"]
            (v11,) = a11["textAnswers"]["answers"]
            texts = (
                full_name := v0["value"],
                date_of_birth := v1["value"],
                leaving_year := v2["value"],
                personal_email := v3["value"],
                telephone := v4["value"],
                destination := v5["value"],
                course := v6["value"],
                level := v7["value"],
                provider := v8["value"],
                start_date := v9["value"],
                duration := v10["value"],
                consent := v11["value"],
            )
            # Each a str (its exact type: `type(...)` calls are the fastest test), of at most
            # MAX_CHARS in all.
            types = (
                type(full_name),
                type(date_of_birth),
                type(leaving_year),
                type(personal_email),
                type(telephone),
                type(destination),
                type(course),
                type(level),
                type(provider),
                type(start_date),
                type(duration),
                type(consent),
            )
            if types != str_types or len("".join(texts)) > MAX_CHARS:
                raise _Unusual
            created = response.get("createTime", "")
            # Usually the last-submitted time, which `timestamp` left as it is: so is this.
            if type(created) is not str or (created != last and stamped(created) is None):
                created = stamp(created)
            # The row, as `_row_maker` makes it (a verdict is a non-empty tuple: true).
            full_name = " ".join(full_name.split())  # `collapse`
            issues = "" if full_name else " missing_name"  # " " before each issue
            date_of_birth, dob_ok = dates.get(date_of_birth) or date(date_of_birth)
            if not dob_ok:
                issues += " bad_date_of_birth"
            start_date, ok = dates.get(start_date) or date(start_date)
            if not ok:
                issues += " bad_start_date"
            if not date_of_birth:
                issues += " missing_date_of_birth"
            elif dob_ok and date_of_birth > (when[:10] or date_of_birth):
                issues += " future_date_of_birth"  # born after submitting: a typo to check
            leaving_year, ok = years.get(leaving_year) or year_of(leaving_year)
            if not ok:
                issues += " bad_leaving_year"
            placed = places.get(destination)
            if placed is None:
                place = destination.strip()
                placed = places[destination] = (
                    (OTHER, place) if place and place not in destination_options else (place, "")
                )
            verdict = consents.get(consent)
            if verdict is None:
                verdict = consent_of(consent)
            respondent = response.get("respondentEmail")
            if type(respondent) is not str:
                respondent = str(respondent or "")
            out = blank.copy()  # the keys in order (a little faster than a dict literal)
            out["response_id"] = rid
            out["created"] = created
            out["last_submitted"] = when
            out["respondent_email"] = respondent.strip()
            out["full_name"] = full_name
            out["date_of_birth"] = date_of_birth
            out["leaving_year"] = leaving_year
            out["destination"], out["destination_other"] = placed
            out["course"] = course.strip()
            out["level"] = level.strip()
            out["provider"] = provider.strip()
            out["start_date"] = start_date
            out["duration"] = duration.strip()
            out["consent"] = verdict
            if issues or not verdict:
                marked.append((len(outs), issues, not verdict))
            outs.append(out)
            telephones.append(telephone)
            emails.append(personal_email)
            row = out
        except Exception:
            row = None
        latest[rid] = (when, rid, row, response)
        if len(outs) == _CHUNK:  # finished while their texts are in the cache
            _finish(outs, telephones, emails, marked, latest, memo)
            outs, telephones, emails, marked = [], [], [], []
    if outs:
        _finish(outs, telephones, emails, marked, latest, memo)
    if trust and not all_stamped(trusted):  # (then the rows are made again: rare)
        return _usual_rows(raw, slots, destination_options, memo, trust=False)
    return latest


# Digits as "0", and `STAMPED` so: its digits any ASCII digits, the first not "0".
_ZEROS = str.maketrans("123456789", "0" * 9)
_STAMP_SHAPE = "0000-00-00T00:00:00.000Z"


def all_stamped(times: list[str]) -> bool:
    """Whether each of `times` is of the `STAMPED` form (each line of their join one time)."""
    joined = "\n".join(times)  # (a time holding "\n" makes it longer)
    shapes = "\n".join([_STAMP_SHAPE] * len(times))
    return joined.translate(_ZEROS) == shapes and joined[:1] != "0" and "\n0" not in joined


# `_usual_rows` finishes the rows so many at a time (while their texts are in the CPU's cache).
_CHUNK = 256


def _finish(
    outs: list[dict[str, str]],
    telephones: list[str],
    emails: list[str],
    marked: list[tuple[int, str, bool]],
    latest: dict[str, tuple[str, str, dict[str, str] | None, Mapping[str, Any]]],
    memo: Memo,
) -> None:
    """Finishes the rows `outs` (all but their telephone, email and issues made, the issues
    ""): judges their `telephones` and `emails` all at once and writes them, and the issues of
    those that have any (`marked`: (position, issues so far, whether consent is missing) of
    those with any before these two). A row for which a verdict raised is left (None) to the
    general path, which raises, as before."""
    phones, bad_phones, raised = _phones(telephones, memo.phone)
    addresses, bad_emails, raised_too = _emails(emails, memo.email)
    _consume(map(setitem, outs, repeat("telephone"), phones))
    _consume(map(setitem, outs, repeat("personal_email"), addresses))
    if marked or bad_phones or bad_emails:
        known = {i: (issues, no_consent) for i, issues, no_consent in marked}
        for i in known.keys() | bad_phones | bad_emails:
            issues, no_consent = known.get(i, ("", False))
            if i in bad_phones:
                issues += " bad_telephone"
            if i in bad_emails:
                issues += " bad_personal_email"
            if no_consent:
                issues += " missing_consent"
            outs[i]["issues"] = issues[1:]
    for i in raised | raised_too:  # the general path makes it (and raises)
        rid = outs[i]["response_id"]
        held = latest[rid]
        if held[2] is outs[i]:
            latest[rid] = (held[0], rid, None, held[3])


_consume: Callable[[Iterable[Any]], None] = deque(maxlen=0).extend  # runs an iterator through


def normalise_responses(
    raw: list[dict[str, Any]],
    question_map: Mapping[str, str],
    *,
    destination_options: Collection[str] = DESTINATION_OPTIONS,
) -> pd.DataFrame:
    """Forms API responses -> one normalised row per response id (its latest submission).

    `question_map` maps Form A keys (docs/ARCHITECTURE.md) to the live form's question ids.
    Rows are ordered by (last_submitted, response_id), so the result does not depend on page order.
    """
    rows = normalise_rows(raw, question_map, destination_options=destination_options)
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS), dtype=object)
