"""Form A spec model and loader: `forms/*.toml` validated into a `FormSpec`, and its Forms API items.

Every error names the file and the TOML line (syntax errors) or the key path such as
`items[4].options` (semantic errors), so a trust editing a spec can find the mistake.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from gsync.errors import SpecError
from gsync.paths import forms_dir
from gsync.validation import key_path

ItemKind = Literal["short_text", "paragraph", "date", "radio", "drop_down", "checkbox"]
CHOICE_KINDS: dict[str, str] = {"radio": "RADIO", "drop_down": "DROP_DOWN", "checkbox": "CHECKBOX"}
TEXT_KINDS = ("short_text", "paragraph")

# Default spec per leavers' phase (docs/ARCHITECTURE.md, "Form A keys").
DEFAULT_SPECS: dict[str, str] = {"Y11": "form_a_y11.toml", "Y13": "form_a_y13.toml"}

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemSpec(_Strict):
    """One question of the form, identified by a stable `key` the sync relies on."""

    key: str = Field(description="Stable identifier, e.g. 'personal_email' (lower_snake_case).")
    title: str = Field(min_length=1, description="The question as the respondent sees it.")
    kind: ItemKind
    required: bool = False
    help: str | None = Field(default=None, description="Help text shown under the question.")
    options: list[str] = Field(
        default_factory=list, validate_default=True, description="Choices (choice kinds only)."
    )
    other: bool = Field(default=False, description="Add an 'Other' option with a text box.")

    @field_validator("key")
    @classmethod
    def _key_shape(cls, key: str) -> str:
        if not _KEY.match(key):
            raise ValueError(
                f"key {key!r} must be lower_snake_case (a-z, 0-9, _), e.g. 'start_date'"
            )
        return key

    @field_validator("title")
    @classmethod
    def _title_text(cls, title: str) -> str:
        if not title.strip():
            raise ValueError("title must not be blank")
        return title

    # Field validators (not a model validator) so errors name the key: `items[4].options`.
    @field_validator("options")
    @classmethod
    def _options_fit_kind(cls, options: list[str], info: ValidationInfo) -> list[str]:
        kind = info.data.get("kind")
        if kind is None:
            return options  # the kind itself is invalid and reported
        if kind in CHOICE_KINDS:
            if not options:
                raise ValueError(f"a {kind} question needs a non-empty 'options' list")
        elif options:
            raise ValueError(f"a {kind} question takes no 'options' (only choice kinds do)")
        seen: set[str] = set()
        for text in options:
            if not text.strip():
                raise ValueError("options must not be blank")
            if text.casefold() in seen:
                raise ValueError(f"option {text!r} appears twice")
            seen.add(text.casefold())
        return options

    @field_validator("other")
    @classmethod
    def _other_fits_kind(cls, other: bool, info: ValidationInfo) -> bool:
        # Google accepts isOther on RADIO and CHECKBOX only (Forms API v1, Option.isOther).
        if other and info.data.get("kind", "radio") not in ("radio", "checkbox"):
            raise ValueError("'other = true' is allowed only on radio and checkbox questions")
        return other

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS


class FormSpec(_Strict):
    """A whole form: title, description (intro and consent text) and questions in order."""

    title: str = Field(min_length=1)
    document_title: str | None = Field(
        default=None, description="Drive file name (default: title)."
    )
    description: str = ""
    items: list[ItemSpec] = Field(min_length=1)
    source: str = Field(default="", exclude=True, description="The file it was loaded from.")

    @field_validator("items")
    @classmethod
    def _unique_keys(cls, items: list[ItemSpec]) -> list[ItemSpec]:
        seen: set[str] = set()
        for item in items:
            if item.key in seen:
                raise ValueError(f"key {item.key!r} is used by two items; keys must be unique")
            seen.add(item.key)
        return items

    def keys(self) -> list[str]:
        return [item.key for item in self.items]

    def item(self, key: str) -> ItemSpec:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)


class _Variant(_Strict):
    """A file that starts from another spec (`extends`) and adds options or retitles it."""

    extends: str
    title: str | None = None
    document_title: str | None = None
    description: str | None = None
    add_options: dict[str, list[str]] = Field(default_factory=dict)


def _item_lines(text: str) -> list[int]:
    """1-based line numbers of each `[[items]]` header, so errors can point at the item's line."""
    return [
        n
        for n, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*items\s*\]\]", line)
    ]


def _errors(exc: ValidationError, source: str, text: str) -> SpecError:
    item_lines = _item_lines(text)
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = key_path(loc) or "(top level)"
        where = f"{source}: {key}"
        if (
            len(loc) >= 2
            and loc[0] == "items"
            and isinstance(loc[1], int)
            and loc[1] < len(item_lines)
        ):
            where += f" (item starting line {item_lines[loc[1]]})"
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key (remove it or check its spelling)")
        elif err["type"] == "missing":
            lines.append(f"{where}: missing (add it)")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{where}: {msg}")
    return SpecError(
        "Invalid form spec:\n  " + "\n  ".join(lines),
        fix="edit the spec file; forms/form_a.toml documents every key.",
    )


def _read(path: Path) -> tuple[dict[str, Any], str]:
    if not path.is_file():
        raise SpecError(
            f"Form spec {path} not found.",
            fix="check `form_spec` in gsync.toml (paths are relative to the config file).",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text.", fix="save the file as UTF-8.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's TOMLDecodeError carries the position only in its text: "(at line N, ...)".
        found = re.search(r"^(.*?)\s*\(at line (\d+), column (\d+)\)", str(exc))
        where, what = (f"{path}, line {found[2]}", found[1]) if found else (str(path), str(exc))
        raise SpecError(
            f"{where}: not valid TOML ({what}).",
            fix="correct the line named (a key defined twice, a missing quote or bracket).",
        ) from None


def parse_spec(data: dict[str, Any], source: str = "<spec>", text: str = "") -> FormSpec:
    """Validate a full spec mapping (no `extends`)."""
    try:
        spec = FormSpec.model_validate(data)
    except ValidationError as exc:
        raise _errors(exc, source, text) from None
    return spec.model_copy(update={"source": source})


def load_spec(path: str | Path, _seen: tuple[Path, ...] = ()) -> FormSpec:
    """Read and validate a form spec, following `extends` (relative to the file) if present."""
    p = Path(path).resolve()
    if p in _seen:
        raise SpecError(
            f"{p}: `extends` loops back to a file already being loaded.",
            fix="make the chain of `extends` end at a full spec.",
        )
    data, text = _read(p)
    source = str(p)
    if "extends" not in data:
        return parse_spec(data, source, text)
    try:
        variant = _Variant.model_validate(data)
    except ValidationError as exc:
        raise _errors(exc, source, text) from None
    base = load_spec(p.parent / variant.extends, (*_seen, p))
    items = list(base.items)
    for key, extra in variant.add_options.items():
        index = next((i for i, it in enumerate(items) if it.key == key), None)
        if index is None:
            raise SpecError(
                f"{source}: add_options.{key}: no item with key {key!r} in {variant.extends}.",
                fix=f"use one of: {', '.join(base.keys())}.",
            )
        item = items[index]
        if not item.is_choice:
            raise SpecError(
                f"{source}: add_options.{key}: {key!r} is a {item.kind} question, not a choice.",
                fix="add options only to radio, drop_down or checkbox questions.",
            )
        if not extra:
            raise SpecError(
                f"{source}: add_options.{key}: empty list.",
                fix="list at least one option, or remove the key.",
            )
        merged = {**item.model_dump(), "options": [*item.options, *extra]}
        try:
            items[index] = ItemSpec.model_validate(merged)
        except ValidationError as exc:
            raise _errors(exc, f"{source} (add_options)", "") from None
    merged_spec = base.model_dump()
    merged_spec["items"] = [it.model_dump() for it in items]
    for name in ("title", "document_title", "description"):
        value = getattr(variant, name)
        if value is not None:
            merged_spec[name] = value
    return parse_spec(merged_spec, source)


def default_spec_path(phase: str) -> Path:
    """The shipped spec for a leavers' phase (Y11 or Y13)."""
    return forms_dir() / DEFAULT_SPECS[phase]


def spec_path_for_school(config: Any, school: Any) -> Path:
    """The school's `form_spec` (relative to the config file) or the shipped one for its phase."""
    if school.form_spec:
        return Path(config.resolve(school.form_spec))
    return default_spec_path(school.phase)


def spec_for_school(config: Any, school: Any) -> FormSpec:
    """Load and validate the spec a school's Form A is built from."""
    return load_spec(spec_path_for_school(config, school))


def item_body(item: ItemSpec) -> dict[str, Any]:
    """The Forms API `Item` for a spec item (no ids): see Forms v1 Item / Question."""
    question: dict[str, Any] = {"required": item.required}
    if item.kind == "short_text":
        question["textQuestion"] = {}
    elif item.kind == "paragraph":
        question["textQuestion"] = {"paragraph": True}
    elif item.kind == "date":
        question["dateQuestion"] = {"includeYear": True}
    else:
        options: list[dict[str, Any]] = [{"value": text} for text in item.options]
        if item.other:
            options.append({"isOther": True})
        question["choiceQuestion"] = {"type": CHOICE_KINDS[item.kind], "options": options}
    body: dict[str, Any] = {"title": item.title, "questionItem": {"question": question}}
    if item.help:
        body["description"] = item.help
    return body
