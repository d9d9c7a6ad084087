"""A minimal SCIM client for `lab scim demo` and the checks: bearer token, our own certificate."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

SCIM_JSON = "application/scim+json"


class HttpScim:
    """Sends SCIM requests to `base_url` (…/scim/v2), verifying TLS with `ca_file` when given."""

    def __init__(self, base_url: str, token: str, ca_file: Path | None = None, timeout: float = 30) -> None:
        import httpx

        verify: Any = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": SCIM_JSON},
            verify=verify,
            timeout=timeout,
        )

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        content = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": SCIM_JSON} if body is not None else {}
        response = self._client.request(method, path, content=content, headers=headers)
        try:
            payload = response.json() if response.content else None
        except ValueError:
            payload = response.text
        return response.status_code, payload

    def close(self) -> None:
        self._client.close()
