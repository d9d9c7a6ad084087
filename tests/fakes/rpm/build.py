"""Build small fake vendor RPMs (and fake/broken JDBC jars) for the okta-scim and okta-opp image
tests, with `rpmbuild` inside the Debian tools image (tests/fakes/rpm/Dockerfile).

    python tests/fakes/rpm/build.py OUT_DIR
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS_IMAGE = "okta-lab-test/rpm-tools:latest"

SCIM_SPEC = """\
Name: OktaOnPremScimServer
Version: 1.7.0
Release: 1
Summary: fake Okta On-prem SCIM Server for okta-lab tests
License: Proprietary-Test
BuildArch: noarch
%description
Test double: serves /ws/rest/jdbc_on_prem/scim/v2/Status over HTTPS on 1443.
%pre
id okscimserver >/dev/null 2>&1 || useradd -r -M -s /sbin/nologin okscimserver
%post
mkdir -p /etc/OktaOnPremScimServer && echo "generated-by-post" > /etc/OktaOnPremScimServer/from-post
%install
mkdir -p %{buildroot}/opt/OktaOnPremScimServer/bin %{buildroot}/opt/OktaOnPremScimServer/userlib
bin=%{buildroot}/opt/OktaOnPremScimServer/bin
install -m 0644 %{_sourcedir}/fake_scim_server.py $bin/fake_scim_server.py
printf '#!/bin/sh\\nexec python3 /opt/OktaOnPremScimServer/bin/fake_scim_server.py\\n' > $bin/OktaOnPremScimServer.sh
chmod 0755 $bin/OktaOnPremScimServer.sh
%files
/opt/OktaOnPremScimServer
"""

OPP_SPEC = """\
Name: OktaProvisioningAgent
Version: 3.0.7
Release: 1
Summary: fake Okta Provisioning Agent for okta-lab tests
License: Proprietary-Test
BuildArch: noarch
%description
Test double: a configure script that writes registration files, and an agent that runs.
%pre
id provisioningagent >/dev/null 2>&1 || useradd -r -M -s /sbin/nologin provisioningagent
%install
mkdir -p %{buildroot}/opt/OktaProvisioningAgent/conf
echo '# packaged default' > %{buildroot}/opt/OktaProvisioningAgent/conf/README
cat > %{buildroot}/opt/OktaProvisioningAgent/OktaProvisioningAgent <<'SH'
#!/bin/sh
echo "fake OktaProvisioningAgent running" >> /opt/OktaProvisioningAgent/logs/agent.log
exec sleep 100000
SH
cat > %{buildroot}/opt/OktaProvisioningAgent/configure_agent.sh <<'SH'
#!/bin/sh
d=/opt/OktaProvisioningAgent
for kv in "orgUrl = https://example.okta.com" "agentId = a1" "keystoreKey = k" "keyPassword = p" \\
    "env = prod" "subdomain = example" "agentKey = x"; do echo "$kv"; done > $d/conf/OktaProvisioningAgent.conf
echo keystore > $d/security/OktaProvisioningKeystore.p12
echo "Register Mode successfully finished"
SH
chmod 0755 %{buildroot}/opt/OktaProvisioningAgent/OktaProvisioningAgent
chmod 0755 %{buildroot}/opt/OktaProvisioningAgent/configure_agent.sh
%files
/opt/OktaProvisioningAgent
"""


def build_tools_image(base_image: str = "debian:bookworm-slim") -> str:
    subprocess.run(
        ["docker", "build", "--force-rm", "-q", "--build-arg", f"BASE_IMAGE={base_image}",
         "-t", TOOLS_IMAGE, str(HERE)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return TOOLS_IMAGE


def build_fake_rpms(out: Path) -> dict[str, Path]:
    """Build both RPMs into `out`; also write a corrupt RPM and good/bad jars. Returns paths."""
    out.mkdir(parents=True, exist_ok=True)
    work = out / "rpmbuild"
    (work / "SOURCES").mkdir(parents=True, exist_ok=True)
    (work / "SPECS").mkdir(parents=True, exist_ok=True)
    (work / "SOURCES" / "fake_scim_server.py").write_bytes((HERE / "fake_scim_server.py").read_bytes())
    (work / "SPECS" / "scim.spec").write_text(SCIM_SPEC)
    (work / "SPECS" / "opp.spec").write_text(OPP_SPEC)
    script = (
        "set -e; for s in /w/SPECS/*.spec; do rpmbuild -bb --quiet --define '_topdir /w' $s; done; "
        "cp /w/RPMS/noarch/*.rpm /out/"
    )
    subprocess.run(
        ["docker", "run", "--rm", "-v", f"{work.resolve()}:/w", "-v", f"{out.resolve()}:/out",
         TOOLS_IMAGE, "sh", "-c", script],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    scim = next(out.glob("OktaOnPremScimServer-*.rpm"))
    opp = next(out.glob("OktaProvisioningAgent-*.rpm"))
    corrupt = out / "corrupt" / scim.name
    corrupt.parent.mkdir(exist_ok=True)
    data = scim.read_bytes()
    # flip bytes inside the compressed payload: the digests no longer match
    corrupt.write_bytes(data[:-200] + bytes(b ^ 0xFF for b in data[-200:-100]) + data[-100:])
    truncated = out / "truncated" / scim.name
    truncated.parent.mkdir(exist_ok=True)
    truncated.write_bytes(data[: len(data) - 500])
    jar = out / "mysql-connector-j-9.6.0.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: fake\n")
        zf.writestr("com/mysql/cj/jdbc/Driver.class", b"\xca\xfe\xba\xbe")
    bad_jar = out / "bad" / "mysql-connector-j-9.6.0.jar"
    bad_jar.parent.mkdir(exist_ok=True)
    bad_jar.write_text("<html>404 Not Found</html>\n")
    return {"scim": scim, "opp": opp, "corrupt": corrupt, "truncated": truncated, "jar": jar,
            "bad_jar": bad_jar}  # fmt: skip


if __name__ == "__main__":
    build_tools_image()
    for name, path in build_fake_rpms(Path(sys.argv[1])).items():
        print(f"{name}: {path}")
