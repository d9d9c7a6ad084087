"""Build a small fake `OktaLDAPAgent-*.deb` with the vendor's layout, for tests only.

It installs what the lab image relies on: `scripts/OktaLDAPAgent` (a long-running process),
`scripts/configure_agent.sh` (non-interactive here: it writes the files a real registration
leaves behind), a `jre/bin/keytool` that records imports, and the `OktaLDAPService` user.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

HOME = "opt/Okta/OktaLDAPAgent"
VERSION = "99.00.00-fake"

FILES = {
    f"{HOME}/scripts/OktaLDAPAgent": """#!/bin/sh
echo "fake OktaLDAPAgent started" >> /opt/Okta/OktaLDAPAgent/logs/agent.log
exec sleep 100000
""",
    f"{HOME}/scripts/configure_agent.sh": """#!/bin/sh
# Fake registration: what the vendor's interactive script leaves behind.
set -e
conf=/opt/Okta/OktaLDAPAgent/conf
lib=/var/lib/oktaldapagent
orgurl=$(sed -n 's/^orgUrl=//p' "$conf/InstallOktaLDAPAgent.conf")
printf 'orgUrl = %s\\nldapAdminPassword = fake\\n' "$orgurl" > "$conf/OktaLDAPAgent.conf"
printf 'keystoreKey = fake\\nkeyPassword = fake\\n' > "$lib/AdditionalOktaLDAPAgent.conf"
mkdir -p "$lib/security" && printf 'p12' > "$lib/security/OktaLdapKeystore.p12"
echo "fake agent registered with $orgurl"
""",
    f"{HOME}/jre/bin/keytool": """#!/bin/sh
echo "$*" >> /opt/Okta/OktaLDAPAgent/jre/lib/security/keytool.log
case "$*" in *-delete*) exit 1 ;; esac
exit 0
""",
    f"{HOME}/conf/logback.xml": "<configuration/>\n",
    f"{HOME}/jre/lib/security/cacerts": "fake\n",
}
CONTROL = f"""Package: oktaldapagent
Version: {VERSION}
Architecture: all
Maintainer: okta-lab tests <tests@example.invalid>
Description: Fake Okta LDAP Agent for okta-lab tests
"""
POSTINST = """#!/bin/sh
set -e
id OktaLDAPService >/dev/null 2>&1 || useradd --system --no-create-home OktaLDAPService
"""


def build_fake_agent_deb(out_dir: Path) -> Path:
    """Write `OktaLDAPAgent-99.00.00-fake.x86_64.deb` into `out_dir` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"OktaLDAPAgent-{VERSION}.x86_64.deb"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        for rel, text in {**FILES, "DEBIAN/control": CONTROL, "DEBIAN/postinst": POSTINST}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o755 if text.startswith("#!") else 0o644)
        (root / HOME / "logs").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(target)],
            check=True,
            capture_output=True,
        )
    return target


def write_invalid_deb(out_dir: Path) -> Path:
    """A file named like the agent package that is not a Debian archive."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "OktaLDAPAgent-00.00.00-broken.x86_64.deb"
    target.write_bytes(b"<html>login required</html>\n")
    return target


if __name__ == "__main__":
    import sys

    print(build_fake_agent_deb(Path(sys.argv[1] if len(sys.argv) > 1 else ".")))
