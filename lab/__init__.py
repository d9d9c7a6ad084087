"""okta-lab: on-premises identity labs for Okta demos, built and verified."""

from pathlib import Path

__version__ = "0.1.0"

#: The checkout that holds compose/, templates/, roles/ and tests/infra/.
RESOURCES = Path(__file__).resolve().parent.parent
