"""Google's discovery documents as the emulator's route table and request validator.

The documents ship with google-api-python-client (``googleapiclient/discovery_cache/documents``),
so the emulator accepts exactly the paths, query parameters and request bodies the real API
declares, and refuses the rest with Google's own error wording.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from gsync.emulator.core import ApiError, invalid, not_found

DOCUMENTS = {"sheets": "sheets.v4.json", "forms": "forms.v1.json", "drive": "drive.v3.json"}

# Protobuf package of each API, used in Google's "Invalid value at ... (type.googleapis.com/...)".
PACKAGES = {"sheets": "google.apps.sheets.v4", "forms": "google.apps.forms.v1", "drive": "drive.v3"}

# Standard parameters every Google API accepts on every method (the discovery "parameters").
STANDARD_PARAMS = frozenset(
    {
        "alt",
        "fields",
        "key",
        "prettyPrint",
        "quotaUser",
        "access_token",
        "oauth_token",
        "upload_protocol",
        "uploadType",
        "callback",
        "$.xgafv",
    }
)

_TEMPLATE = re.compile(r"\{(\+?)([A-Za-z0-9_]+)\}")


def documents_dir() -> Path:
    """Where google-api-python-client keeps its offline discovery documents."""
    import googleapiclient

    return Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


def camel(name: str) -> str:
    """snake_case → camelCase (Google accepts both spellings of field and parameter names)."""
    if "_" not in name:
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """camelCase → snake_case, as Google names fields in its error messages for parameters."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@dataclass
class Method:
    """One discovery method, with the regex that matches its URL path."""

    api: str
    method_id: str
    http_method: str
    template: str  # the full path template, e.g. "/v4/spreadsheets/{spreadsheetId}"
    regex: re.Pattern[str]
    parameters: dict[str, dict[str, Any]]
    request_ref: str | None
    literal_len: int
    upload: bool = False
    doc: dict[str, Any] = field(default_factory=dict, repr=False)


def _compile(template: str) -> tuple[re.Pattern[str], int]:
    pattern = ""
    pos = 0
    literal = 0
    for m in _TEMPLATE.finditer(template):
        text = template[pos : m.start()]
        literal += len(text)
        pattern += re.escape(text)
        reserved, name = m.group(1), m.group(2)
        pattern += f"(?P<{name}>.+)" if reserved else f"(?P<{name}>[^/]+)"
        pos = m.end()
    pattern += re.escape(template[pos:])
    literal += len(template[pos:])
    return re.compile(pattern), literal


def _walk(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(resource.get("methods", {}).values())
    for child in resource.get("resources", {}).values():
        found.extend(_walk(child))
    return found


@dataclass
class RouteTable:
    """Every method of the three APIs, matched by HTTP method and path."""

    methods: list[Method]
    docs: dict[str, dict[str, Any]]

    def match(self, http_method: str, raw_path: str) -> tuple[Method, dict[str, str]]:
        """The method for a request and its URL-decoded path parameters, or 404 like Google."""
        best: tuple[Method, dict[str, str]] | None = None
        for method in self.methods:
            if method.http_method != http_method:
                continue
            m = method.regex.fullmatch(raw_path)
            if m is None:
                continue
            if best is None or method.literal_len > best[0].literal_len:
                best = (method, {k: unquote(v) for k, v in m.groupdict().items()})
        if best is None:
            raise not_found(f"Method not found: {http_method} {raw_path.split('?')[0][:200]}")
        return best

    def by_id(self, method_id: str) -> Method:
        for method in self.methods:
            if method.method_id == method_id and not method.upload:
                return method
        raise KeyError(method_id)


@lru_cache(maxsize=1)
def route_table() -> RouteTable:
    """Load the three discovery documents once and build the route table."""
    methods: list[Method] = []
    docs: dict[str, dict[str, Any]] = {}
    for api, filename in DOCUMENTS.items():
        doc = json.loads((documents_dir() / filename).read_text(encoding="utf-8"))
        docs[api] = doc
        service_path = "/" + doc.get("servicePath", "")
        for spec in _walk(doc):
            template = service_path + spec.get("flatPath", spec["path"])
            regex, literal = _compile(template)
            request_ref = spec.get("request", {}).get("$ref")
            params = spec.get("parameters", {})
            methods.append(
                Method(
                    api,
                    spec["id"],
                    spec["httpMethod"],
                    template,
                    regex,
                    params,
                    request_ref,
                    literal,
                    doc=doc,
                )
            )
            protocols = spec.get("mediaUpload", {}).get("protocols", {})
            for proto in protocols.values():
                up_regex, up_literal = _compile(proto["path"])
                methods.append(
                    Method(
                        api,
                        spec["id"],
                        spec["httpMethod"],
                        proto["path"],
                        up_regex,
                        params,
                        request_ref,
                        up_literal,
                        upload=True,
                        doc=doc,
                    )
                )
    return RouteTable(methods, docs)


# ---------------------------------------------------------------- query parameters


def _check_scalar(api: str, name: str, spec: dict[str, Any], value: str) -> None:
    kind = spec.get("type", "string")
    where = snake(name)
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise invalid(f"Invalid value at '{where}' (TYPE_INT32), {_json_repr(value)}")
    elif kind == "number":
        try:
            float(value)
        except ValueError:
            raise invalid(
                f"Invalid value at '{where}' (TYPE_DOUBLE), {_json_repr(value)}"
            ) from None
    elif kind == "boolean" and value.lower() not in ("true", "false", "1", "0"):
        raise invalid(f"Invalid value at '{where}' (TYPE_BOOL), {_json_repr(value)}")
    enum = spec.get("enum")
    if enum and value not in enum:
        type_name = name[:1].upper() + name[1:]
        raise invalid(
            f"Invalid value at '{where}' (type.googleapis.com/{PACKAGES[api]}.{type_name}), "
            f"{_json_repr(value)}"
        )


def validate_query(method: Method, query: dict[str, list[str]]) -> dict[str, list[str]]:
    """Check the query string against the method's parameters; return it with camelCase names."""
    out: dict[str, list[str]] = {}
    standard = set(method.doc.get("parameters", {})) | STANDARD_PARAMS
    for raw_name, values in query.items():
        name = raw_name if raw_name in standard else camel(raw_name)
        if name in standard:
            spec = method.doc.get("parameters", {}).get(name, {})
            for value in values:
                _check_scalar(method.api, name, spec, value)
            out.setdefault(name, []).extend(values)
            continue
        spec = method.parameters.get(name)
        if spec is None or spec.get("location") != "query":
            raise invalid(
                f'Invalid JSON payload received. Unknown name "{raw_name}": Cannot bind query '
                f"parameter. Field '{raw_name}' could not be found in request message."
            )
        if len(values) > 1 and not spec.get("repeated"):
            raise invalid(f"Parameter '{raw_name}' is not repeated but was given more than once.")
        for value in values:
            _check_scalar(method.api, name, spec, value)
        out.setdefault(name, []).extend(values)
    for name, spec in method.parameters.items():
        if spec.get("required") and spec.get("location") == "query" and name not in out:
            raise invalid(f"Missing required parameter: {name}")
    return out


# ---------------------------------------------------------------- request bodies


_ECHO_SAFE = re.compile(r"[A-Za-z0-9_.:-]{0,40}")


def _json_repr(value: Any) -> str:
    """The offending value for an error message, as Google echoes it, except free text: that
    could be personal data (a pupil's name sent to the wrong field), so only its size is shown."""
    if isinstance(value, str) and not _ECHO_SAFE.fullmatch(value):
        return f"<text of {len(value)} characters>"
    if isinstance(value, dict | list):
        return "<" + ("object" if isinstance(value, dict) else "list") + ">"
    return json.dumps(value, separators=(",", ":"))


class BodyValidator:
    """Validate a JSON body against a discovery schema; returns it normalised to camelCase."""

    def __init__(self, api: str, doc: dict[str, Any]) -> None:
        self.api = api
        self.schemas: dict[str, Any] = doc.get("schemas", {})

    def _type_url(self, ref: str) -> str:
        return f"type.googleapis.com/{PACKAGES[self.api]}.{ref}"

    def validate(self, ref: str, body: Any) -> Any:
        if not isinstance(body, dict):
            raise invalid(
                'Invalid JSON payload received. Unknown name "": Root element must be a message.'
            )
        return self._message(ref, body, "")

    def _message(self, ref: str, value: dict[str, Any], where: str) -> dict[str, Any]:
        schema = self.schemas[ref]
        props: dict[str, Any] = schema.get("properties", {})
        out: dict[str, Any] = {}
        for raw_name, item in value.items():
            name = raw_name if raw_name in props else camel(raw_name)
            if name not in props:
                at = f" at '{where}'" if where else ""
                raise invalid(
                    f'Invalid JSON payload received. Unknown name "{raw_name}"{at}: '
                    "Cannot find field."
                )
            if item is None:
                continue  # JSON null means "not set" in proto3 JSON
            path = f"{where}.{name}" if where else name
            out[name] = self._value(props[name], item, path, name)
        return out

    def _value(self, spec: dict[str, Any], value: Any, where: str, name: str) -> Any:
        if "$ref" in spec:
            ref = spec["$ref"]
            if not isinstance(value, dict):
                if isinstance(value, list):
                    raise invalid(
                        f'Invalid JSON payload received. Unknown name "{name}" at '
                        f"'{where.rsplit('.', 1)[0] if '.' in where else ''}': Proto field is "
                        "not repeating, cannot start list."
                    )
                raise invalid(
                    f"Invalid value at '{where}' ({self._type_url(ref)}), {_json_repr(value)}"
                )
            return self._message(ref, value, where)
        kind = spec.get("type", "any")
        if kind == "any":
            return value
        if kind == "array":
            item_spec = spec.get("items", {})
            if isinstance(value, list) and item_spec.get("type") == "array":
                inner = item_spec.get("items", {})
                if inner.get("type") == "any" and "$ref" not in inner:
                    # fast path for ValueRange.values (rows of any values): only shape matters
                    for i, row in enumerate(value):
                        if not isinstance(row, list):
                            raise invalid(
                                f"Invalid value at '{where}[{i}]' "
                                f"(type.googleapis.com/google.protobuf.ListValue), {_json_repr(row)}"
                            )
                    return value
            if not isinstance(value, list):
                item = spec.get("items", {})
                label = (item.get("$ref") and self._type_url(item["$ref"])) or _scalar_label(item)
                raise invalid(f"Invalid value at '{where}' ({label}), {_json_repr(value)}")
            return [
                self._value(spec.get("items", {}), v, f"{where}[{i}]", name)
                for i, v in enumerate(value)
            ]
        if kind == "object":
            if not isinstance(value, dict):
                raise invalid(f"Invalid value at '{where}' (TYPE_MESSAGE), {_json_repr(value)}")
            extra = spec.get("additionalProperties")
            if extra is None:
                return value
            return {k: self._value(extra, v, f"{where}[{k}]", name) for k, v in value.items()}
        return self._scalar(spec, value, where, name)

    def _scalar(self, spec: dict[str, Any], value: Any, where: str, name: str) -> Any:
        kind = spec.get("type")
        fmt = spec.get("format", "")
        bad = f"Invalid value at '{where}' ({_scalar_label(spec)}), {_json_repr(value)}"
        if kind == "string":
            enum = spec.get("enum")
            if enum is not None:
                if not isinstance(value, str) or value not in enum:
                    type_name = name[:1].upper() + name[1:]
                    raise invalid(
                        f"Invalid value at '{where}' ({self._type_url(type_name)}), "
                        f"{_json_repr(value)}"
                    )
                return value
            if fmt in ("int64", "uint64"):
                if isinstance(value, bool) or not (
                    (isinstance(value, int))
                    or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))
                ):
                    raise invalid(bad)
                return str(value)
            if not isinstance(value, str):
                raise invalid(bad)
            return value
        if kind == "integer":
            if isinstance(value, bool):
                raise invalid(bad)
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                return int(value)
            if not isinstance(value, int):
                raise invalid(bad)
            return value
        if kind == "number":
            if isinstance(value, bool):
                raise invalid(bad)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise invalid(bad) from None
            if not isinstance(value, int | float):
                raise invalid(bad)
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise invalid(bad)
            return value
        return value


def _scalar_label(spec: dict[str, Any]) -> str:
    kind = spec.get("type")
    fmt = spec.get("format", "")
    if kind == "string":
        return "TYPE_INT64" if fmt in ("int64", "uint64") else "TYPE_STRING"
    if kind == "integer":
        return "TYPE_UINT32" if fmt == "uint32" else "TYPE_INT32"
    if kind == "number":
        return "TYPE_FLOAT" if fmt == "float" else "TYPE_DOUBLE"
    if kind == "boolean":
        return "TYPE_BOOL"
    return "TYPE_MESSAGE"


def validate_body(method: Method, body: Any) -> Any:
    """Validate (and camelCase-normalise) a request body for a method; no schema → as is."""
    if method.request_ref is None:
        return body
    if body is None:
        body = {}
    return BodyValidator(method.api, method.doc).validate(method.request_ref, body)


__all__ = [
    "ApiError",
    "Method",
    "RouteTable",
    "camel",
    "route_table",
    "validate_body",
    "validate_query",
]
