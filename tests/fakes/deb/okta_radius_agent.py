"""Build a small fake `OktaRadiusAgentSetup-*.deb` (package `ragent`) with the vendor's layout,
for tests only.

It has what the lab image relies on: an interactive `postinst` (which must be skipped: it would
hang or fail the build), packaged defaults in `user/config/radius/`, a `jre/linux/bin/java` that
stays up and logs to `logs/okta_radius.log`, and `scripts/configure.sh` (non-interactive here:
it prints a URL and exits 0, or 1 when FAKE_REGISTRATION_FAILS is set).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

HOME = "opt/okta/ragent"
VERSION = "99.00.00-fake"

FILES = {
    f"{HOME}/jre/linux/bin/java": """#!/bin/sh
# fake java: "-jar .../OKTARadiusAgent.jar CONFIG" stays up, logging its config file
for last; do :; done
echo "fake OKTARadiusAgent started with $last" >> /opt/okta/ragent/logs/okta_radius.log
exec sleep 100000
""",
    f"{HOME}/bin/OKTARadiusAgent.jar": "fake jar\n",
    f"{HOME}/scripts/configure.sh": """# run with bash by the lab's configure.sh
echo "Please visit the URL: https://acme.okta.com/fake-activate before it expires"
[ -n "${FAKE_REGISTRATION_FAILS:-}" ] && exit 1
echo "ragent.fake.registered = true" >> /opt/okta/ragent/user/config/radius/config.properties
""",
    f"{HOME}/user/config/radius/config.properties": "ragent.okta.org = https://example.okta.com\n",
    f"{HOME}/user/config/radius/log4j2.xml": "<Configuration/>\n",
}
CONTROL = f"""Package: ragent
Version: {VERSION}
Architecture: all
Maintainer: okta-lab tests <tests@example.invalid>
Description: Fake Okta RADIUS Server Agent for okta-lab tests
"""
POSTINST = """#!/bin/sh
# the vendor's post-install is interactive: here it fails loudly if it ever runs
echo "interactive post-install ran" >&2
exit 1
"""


def build_fake_radius_agent_deb(out_dir: Path) -> Path:
    """Write `OktaRadiusAgentSetup-99.00.00-fake.deb` into `out_dir` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"OktaRadiusAgentSetup-{VERSION}.deb"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        for rel, text in {**FILES, "DEBIAN/control": CONTROL, "DEBIAN/postinst": POSTINST}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(0o755 if text.startswith("#!") or rel.endswith(".sh") else 0o644)
        (root / HOME / "logs").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(target)],
            check=True,
            capture_output=True,
        )
    return target


def write_wrong_package_deb(out_dir: Path) -> Path:
    """A valid .deb named like the agent that holds another package."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pkg"
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(CONTROL.replace("Package: ragent", "Package: something-else"))
        target = out_dir / "OktaRadiusAgentSetup-00.00.00-wrong.deb"
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "--build", str(root), str(target)], check=True, capture_output=True
        )
    return target
