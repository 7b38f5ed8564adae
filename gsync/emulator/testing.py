"""A client for the emulator's test controls (``/_emulator/...``), over HTTP.

Tests and the demo use it against any running emulator, in-process or not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests


class EmulatorError(RuntimeError):
    """A control request the emulator refused."""


class EmulatorClient:
    """Drive an emulator's controls: reset, request log, latency, quotas, faults, clock."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()

    def _call(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.session.request(
            verb, f"{self.url}/_emulator/{path}", json=body, timeout=self.timeout
        )
        if not response.ok:
            raise EmulatorError(f"{verb} /_emulator/{path}: {response.status_code} {response.text}")
        return response.json() if response.content else {}

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "handlers": [...method ids...]}``."""
        result: dict[str, Any] = self._call("GET", "health")
        return result

    def reset(self) -> None:
        """Clear all state and controls."""
        self._call("POST", "reset")

    def log(self) -> list[dict[str, Any]]:
        """Every API request so far: ``{"api", "method", "http_method", "path", "status"}``."""
        result: list[dict[str, Any]] = self._call("GET", "log")["requests"]
        return result

    def clear_log(self) -> None:
        self._call("DELETE", "log")

    def count(self, api: str | None = None, method: str | None = None) -> int:
        """How many logged requests match an api name and/or a method id."""
        return sum(
            1
            for entry in self.log()
            if (api is None or entry["api"] == api)
            and (method is None or entry["method"] == method)
        )

    def configure(
        self,
        latency_ms: int | None = None,
        quotas: dict[str, int] | str | None = None,
        fault_rate: float | None = None,
        seed: int | None = None,
        max_request_bytes: int | None = None,
    ) -> dict[str, Any]:
        """Set latency, quotas (dict by bucket, or a preset such as ``"google_per_user"``),
        the random fault rate and its seed, and the largest request body accepted (10 MiB, as
        Google's front end, by default). Returns the resulting configuration."""
        body = {
            "latency_ms": latency_ms,
            "quotas": quotas,
            "fault_rate": fault_rate,
            "seed": seed,
            "max_request_bytes": max_request_bytes,
        }
        result: dict[str, Any] = self._call(
            "POST", "config", {k: v for k, v in body.items() if v is not None}
        )
        return result

    def inject(
        self, match: str, status: int | None = None, count: int = 1, reset: bool = False
    ) -> None:
        """Fail the next ``count`` requests matching a method id, an api or ``*``."""
        self._call(
            "POST", "faults", {"match": match, "status": status, "count": count, "reset": reset}
        )

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_clock(self, now: datetime | None) -> None:
        """Freeze the emulator's clock at a timezone-aware time, or back to real time (None)."""
        self._call("POST", "clock", {"now": now.isoformat() if now is not None else None})

    def submit_response(
        self,
        form_id: str,
        answers: dict[str, str | list[str]],
        respondent_email: str | None = None,
        response_id: str | None = None,
        submitted_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Submit (or, with response_id, edit) a form response as a respondent would; returns
        the FormResponse. Google has no API for this: it is the emulator's test-only route."""
        body: dict[str, Any] = {"answers": answers}
        if respondent_email is not None:
            body["respondentEmail"] = respondent_email
        if response_id is not None:
            body["responseId"] = response_id
        if isinstance(submitted_at, datetime):
            body["submittedAt"] = submitted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif submitted_at is not None:
            body["submittedAt"] = submitted_at
        result: dict[str, Any] = self._call("POST", f"forms/{form_id}/responses", body)
        return result
