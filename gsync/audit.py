"""`gsync audit`: who can open the trust spreadsheet, each school's spreadsheet and each Form A.

Reads Drive `permissions.list` for every file gsync knows of (ids from gsync.toml) and flags
grants outside the trust's domains (`trust.domains` and the schools' email domains, subdomains
included) and any "anyone with the link" or public sharing. Read-only: it changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gsync.config import Config
from gsync.errors import GsyncError
from gsync.workspace import Workspace

PERMISSION_FIELDS = (
    "nextPageToken,permissions(id,type,role,emailAddress,domain,allowFileDiscovery,deleted)"
)

ANYONE_WITH_LINK = "anyone with the link"
PUBLIC = "public on the web (anyone can find it)"
OUTSIDE = "outside the trust's domains"


@dataclass
class Grant:
    """One permission on one file, with the reason it is flagged (None: fine)."""

    file: str
    file_id: str
    type: str
    role: str
    who: str
    flag: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "file_id": self.file_id,
            "type": self.type,
            "role": self.role,
            "who": self.who,
            "flag": self.flag,
        }


@dataclass
class AuditReport:
    """Every grant on every file, plus files whose permissions could not be read."""

    domains: list[str]
    grants: list[Grant] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)
    account: str | None = None

    @property
    def flagged(self) -> list[Grant]:
        return [g for g in self.grants if g.flag]

    def as_dict(self) -> dict[str, Any]:
        return {
            "domains": self.domains,
            "grants": [g.as_dict() for g in self.grants],
            "flagged": len(self.flagged),
            "unreadable": self.unreadable,
            "account": self.account,
        }


def trust_domains(config: Config) -> list[str]:
    """The trust's own domains: `trust.domains` plus each school's email domain."""
    found = {d.strip().lower().lstrip("@") for d in config.trust.domains if d.strip()}
    for school in config.schools:
        if school.email_domain:
            found.add(school.email_domain.strip().lower().lstrip("@"))
    return sorted(found)


def inside(domain: str, domains: list[str]) -> bool:
    """Whether `domain` is one of `domains` or a subdomain of one."""
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in domains)


def flag_for(permission: dict[str, Any], domains: list[str]) -> str | None:
    """Why a permission needs attention, or None."""
    kind = permission.get("type")
    if kind == "anyone":
        return PUBLIC if permission.get("allowFileDiscovery") else ANYONE_WITH_LINK
    if kind == "domain":
        return None if inside(str(permission.get("domain", "")), domains) else OUTSIDE
    email = str(permission.get("emailAddress", ""))
    if kind in ("user", "group"):
        return None if inside(email.rpartition("@")[2], domains) else OUTSIDE
    return None


def audited_files(config: Config) -> list[tuple[str, str]]:
    """(label, Drive file id) of every file gsync.toml names."""
    files: list[tuple[str, str]] = []
    if config.trust.spreadsheet_id:
        files.append(("trust spreadsheet", config.trust.spreadsheet_id))
    for school in config.schools:
        if school.spreadsheet_id:
            files.append((f"{school.name} spreadsheet", school.spreadsheet_id))
        if school.form_id:
            files.append((f"{school.name} Form A", school.form_id))
    return files


def list_permissions(ws: Workspace, file_id: str) -> list[dict[str, Any]]:
    """Every permission on a file (all pages; Shared Drive files too)."""
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        request = (
            ws.drive()
            .permissions()
            .list(
                fileId=file_id,
                fields=PERMISSION_FIELDS,
                pageSize=100,
                supportsAllDrives=True,
                **({"pageToken": token} if token else {}),
            )
        )
        page = ws.execute(request, what="Listing a file's sharing (Drive permissions.list)")
        out.extend(page.get("permissions", []))
        token = page.get("nextPageToken")
        if not token:
            return out


def own_account(ws: Workspace) -> str | None:
    """The account gsync itself signs in as (Drive about.get), never flagged: it owns the files."""
    try:
        about = ws.execute(
            ws.drive().about().get(fields="user(emailAddress)"), what="Reading gsync's account"
        )
    except GsyncError:
        return None
    email = about.get("user", {}).get("emailAddress")
    return str(email).lower() if email else None


def run_audit(ws: Workspace, config: Config) -> AuditReport:
    """List and flag the grants on every file gsync knows of (one permissions.list per page)."""
    report = AuditReport(domains=trust_domains(config))
    me = own_account(ws)
    report.account = me
    for label, file_id in audited_files(config):
        try:
            permissions = list_permissions(ws, file_id)
        except GsyncError as exc:
            report.unreadable[label] = exc.message
            continue
        for p in permissions:
            if p.get("deleted"):
                continue
            who = str(p.get("emailAddress") or p.get("domain") or p.get("type", ""))
            report.grants.append(
                Grant(
                    file=label,
                    file_id=file_id,
                    type=str(p.get("type", "")),
                    role=str(p.get("role", "")),
                    who=who,
                    flag=None if me and who.lower() == me else flag_for(p, report.domains),
                )
            )
    return report
