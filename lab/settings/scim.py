"""The toolkit's SCIM 2.0 server (service `scim` in the jdbc stack)."""

from __future__ import annotations

from typing import Literal

from lab.settings.base import Section, env, port


class ScimSettings(Section):
    port: int = port("SCIM_PORT", 1443)
    app: str = env(
        "SCIM_APP",
        "jdbc_on_prem",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="use letters, digits, '-' and '_' (the {app} in /ws/rest/{app}/scim/v2)",
    )
    operations_file: str = env(
        "SCIM_OPERATIONS_FILE",
        "",
        description="a YAML operation map (see docs/scim.md); empty = the lab's procedures",
    )
    operation_kind: Literal["procedure", "sql"] = env(
        "SCIM_OPERATION_KIND",
        "procedure",
        description="use procedure (Execute Stored Procedure) or sql (SQL Statement)",
    )
    pool_size: int = env("SCIM_POOL_SIZE", 8, ge=1, le=64)
    max_results: int = env("SCIM_MAX_RESULTS", 1000, ge=1, le=100000)
    cert_hostname: str = env("SCIM_CERT_HOSTNAME", "")
