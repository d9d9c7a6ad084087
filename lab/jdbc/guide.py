"""`lab jdbc guide`: everything the Okta admin console asks for, for this lab.

Okta's "On-prem connector for Generic Databases" is configured in three places: the provisioning
agent and SCIM server (host, bearer token, certificate), the database connection (type, host,
port, name, user, `allowMultiQueries=true`), and the ten operations, each either an "Execute
Stored Procedure" call or an "SQL Statement" with its parameters (type DATABASE_FIELD, in order).
The operations come from the SCIM server's operation map (`lab.scim.operations`), so what the
guide tells you to paste is what `lab`'s own SCIM server executes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lab.config import LabConfig
from lab.scim.operations import Operation, OperationMap

HIDDEN = "(hidden: add --show-secrets, or run `lab creds okta-scim`)"
NOT_YET = "(generated on the first start of okta-scim: put its RPM in packages/ and run `lab up okta-scim`)"

#: Okta profile attribute -> app attribute (To App) as the public lab documents them, with the
#: manager mapped to MANAGERID (which holds the manager's USER_ID here).
TO_APP = (
    ("user.login", "ext_USER_ID"),
    ("user.login", "ext_USERNAME"),
    ("user.firstName", "ext_FIRSTNAME"),
    ("user.lastName", "ext_LASTNAME"),
    ("user.email", "ext_EMAIL"),
    ("user.displayName", "ext_DISPLAYNAME"),
    ("user.title", "ext_TITLE"),
    ("user.organization", "ext_ORGANIZATION"),
    ("user.department", "ext_DEPARTMENT"),
    ("user.employeeNumber", "ext_EMPLOYEENUMBER"),
    ("user.managerId", "ext_MANAGERID"),
    ("user.mobilePhone", "ext_MOBILEPHONE"),
)
TO_OKTA = (
    ("appuser.ext_FIRSTNAME", "firstName"),
    ("appuser.ext_LASTNAME", "lastName"),
    ("appuser.ext_EMAIL", "email"),
    ("appuser.ext_USERNAME", "login"),
    ("appuser.ext_DISPLAYNAME", "displayName"),
    ("appuser.ext_TITLE", "title"),
    ("appuser.ext_ORGANIZATION", "organization"),
    ("appuser.ext_DEPARTMENT", "department"),
    ("appuser.ext_EMPLOYEENUMBER", "employeeNumber"),
    ("appuser.ext_MANAGERID", "managerId"),
)


@dataclass(frozen=True)
class Setting:
    label: str
    value: str


@dataclass(frozen=True)
class Guide:
    """The handout: sections of settings, the operations, and the attribute mappings."""

    agent: tuple[Setting, ...]
    database: tuple[Setting, ...]
    operations: tuple[Operation, ...]
    to_app: tuple[tuple[str, str], ...] = TO_APP
    to_okta: tuple[tuple[str, str], ...] = TO_OKTA
    notes: tuple[str, ...] = field(default=())


def scim_server_files(cfg: LabConfig, data_dir: Path) -> tuple[Path, Path]:
    """(properties file, certificate) the okta-scim container keeps under data/okta-scim."""
    cid = cfg.jdbc.customer_id
    base = data_dir / "okta-scim"
    return (
        base / "conf" / f"config-{cid}.properties",
        base / "certs" / f"OktaOnPremScimServer-{cid}.crt",
    )


def read_scim_token(properties: Path) -> str | None:
    """`scim.security.bearer.token` from the On-prem SCIM Server's properties file, if present."""
    try:
        text = properties.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^\s*scim\.security\.bearer\.token\s*=\s*(\S+)\s*$", text, re.MULTILINE)
    return match.group(1) if match else None


def build_guide(cfg: LabConfig, data_dir: Path, operations: OperationMap, *, show_secrets: bool = False) -> Guide:
    """Collect the settings for `cfg`; secrets appear only with `show_secrets`."""
    properties, cert = scim_server_files(cfg, data_dir)
    token = read_scim_token(properties)
    shown = f"Bearer {token}" if show_secrets else HIDDEN
    token_text = NOT_YET if token is None else shown
    agent = (
        Setting("Provisioning agent", "okta-opp (the OPP agent registered with `lab configure okta-opp`)"),
        Setting("SCIM server hostname", cfg.jdbc.scim_host),
        Setting("SCIM server port", "1443"),
        Setting("API token (with the literal 'Bearer ' prefix)", token_text),
        Setting("SCIM server certificate (upload)", str(cert) if cert.exists() else NOT_YET),
    )
    password = cfg.jdbc.password if show_secrets else "(MARIADB_PASSWORD: `lab creds db`)"
    if cfg.jdbc.is_postgresql:
        database = (
            Setting("Database type", "PostgreSQL"),
            Setting("Host", "db"),
            Setting("Port", "5432"),
            Setting("Database name", cfg.jdbc.database),
            Setting("Username", cfg.jdbc.user),
            Setting("Password", password),
            Setting("JDBC driver class", cfg.jdbc.driver_class),
            Setting("JDBC URL", cfg.jdbc.jdbc_url),
        )
    else:
        database = (
            Setting("Database type", "MySQL (also for MariaDB)"),
            Setting("Host", "db"),
            Setting("Port", "3306"),
            Setting("Database name", cfg.jdbc.database),
            Setting("Username", cfg.jdbc.user),
            Setting("Password", password),
            Setting("Additional properties", "allowMultiQueries=true"),
            Setting("JDBC URL", cfg.jdbc.jdbc_url),
        )
    notes = [
        "Operation type must be 'Execute Stored Procedure' for CALL statements and 'SQL Statement' "
        "for the others; a mismatch fails with 400 'executeCall not allowed'.",
        "Parameters are of type DATABASE_FIELD and are bound in the order listed.",
        "Import is full-only (the USERS table has no change timestamp).",
    ]
    if cfg.jdbc.is_postgresql:
        notes += [
            "On PostgreSQL the four reads (and GET_ALL_USERS) are functions returning a table: enter "
            "them as 'SQL Statement' `SELECT * FROM NAME(?)`; the six writes are procedures (CALL). "
            "Every routine parameter is VARCHAR, as the connector binds strings.",
            "Routine errors are RAISE ... USING ERRCODE '45000' with messages starting 'unknown user:', "
            "'unknown entitlement:', 'duplicate user:' or 'missing mandatory field:'.",
        ]
    else:
        notes.append(
            "Procedure errors are SIGNAL SQLSTATE 45000 with messages starting 'unknown user:', "
            "'unknown entitlement:', 'duplicate user:' or 'missing mandatory field:'."
        )
    operations = operations.for_engine(cfg.jdbc.engine)
    return Guide(agent, database, tuple(operations), notes=tuple(notes))


# --- rendering ------------------------------------------------------------------------------------


def _params(params: tuple[str, ...]) -> list[str]:
    return [f"{i}. DATABASE_FIELD {name}" for i, name in enumerate(params, 1)] or ["(none)"]


def render_text(guide: Guide) -> str:
    out: list[str] = []

    def section(title: str, settings: tuple[Setting, ...]) -> None:
        out.extend([title, "=" * len(title)])
        width = max(len(s.label) for s in settings)
        out.extend(f"  {s.label.ljust(width)}  {s.value}" for s in settings)
        out.append("")

    section("Okta: provisioning agent and SCIM server", guide.agent)
    section("Okta: database connection", guide.database)
    out.extend(["Okta: operations", "================"])
    for op in guide.operations:
        out.append(f"{op.label} ({op.direction})")
        for form, title in ((op.procedure, "Execute Stored Procedure"), (op.sql, "SQL Statement")):
            mark = "  [in use by lab's SCIM server]" if form.kind == op.kind else ""
            out.append(f"  {title}:{mark}")
            out.append(f"    {form.text}")
            out.extend(f"      {p}" for p in _params(form.params))
        if op.id_column:
            extra = f", display column {op.display_column}" if op.display_column else ""
            out.append(f"  ID column {op.id_column}{extra}")
        out.append("")
    out.extend(["Attribute mappings: Okta to app", "==============================="])
    out.extend(f"  {src} -> {dst}" for src, dst in guide.to_app)
    out.extend(["", "Attribute mappings: app to Okta", "==============================="])
    out.extend(f"  {src} -> {dst}" for src, dst in guide.to_okta)
    out.extend(["", "Notes", "====="])
    out.extend(f"  - {note}" for note in guide.notes)
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    """A table cell: code-formatted unless the text itself holds backticks."""
    text = text.replace("|", "\\|")
    return text if "`" in text or text.startswith("(") else f"`{text}`"


def render_markdown(guide: Guide) -> str:
    out = ["# Okta Generic Database Connector: lab settings", ""]
    for title, settings in (("Provisioning agent and SCIM server", guide.agent),
                            ("Database connection", guide.database)):  # fmt: skip
        out += [f"## {title}", "", "| Setting | Value |", "|---|---|"]
        out += [f"| {s.label} | {_md_cell(s.value)} |" for s in settings]
        out.append("")
    out += ["## Operations", ""]
    for op in guide.operations:
        out += [f"### {op.label} ({op.direction})", ""]
        for form, title in ((op.procedure, "Execute Stored Procedure"), (op.sql, "SQL Statement")):
            used = " — in use by lab's SCIM server" if form.kind == op.kind else ""
            out += [f"**{title}**{used}", "", "```sql", form.text, "```", ""]
            if form.params:
                out += ["| # | Parameter type | Database field |", "|---|---|---|"]
                out += [f"| {i} | DATABASE_FIELD | `{p}` |" for i, p in enumerate(form.params, 1)]
            else:
                out.append("No parameters.")
            out.append("")
        if op.id_column:
            extra = f", display column `{op.display_column}`" if op.display_column else ""
            out += [f"ID column `{op.id_column}`{extra}.", ""]
    for title, rows in (("Attribute mappings: Okta to app", guide.to_app),
                        ("Attribute mappings: app to Okta", guide.to_okta)):  # fmt: skip
        out += [f"## {title}", "", "| From | To |", "|---|---|"]
        out += [f"| `{a}` | `{b}` |" for a, b in rows]
        out.append("")
    out += ["## Notes", ""] + [f"- {n}" for n in guide.notes]
    return "\n".join(out) + "\n"
