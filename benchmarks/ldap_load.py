"""LDAP lab benchmarks, in one run:

1. time from `docker run` to the first healthy `openldap` with The Galaxy;
2. time to load N synthetic users (`lab data generate`, default 10,000) through the image's
   first start (config + certificates + LDIF load), against plain `ldapadd` of the same LDIF into
   an already running, empty slapd of the same image — printed as a ratio.

Usage: .venv/bin/python benchmarks/ldap_load.py [--users 10000] [--image TAG]
Needs a Docker engine; builds compose/openldap when the image is missing.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from dotenv import dotenv_values

from lab import RESOURCES
from lab.company import dump_company, generate_company
from lab.config import LabConfig
from lab.envfile import example_path, generate_secret, render_env, secret_lengths
from lab.render import base_context, template_env

TEMPLATES = ("10-base", "20-people", "30-groups")


def config(company: str) -> LabConfig:
    text = render_env(example_path().read_text(), {"LAB_COMPANY": company})
    values = {k: v or "" for k, v in dotenv_values(stream=io.StringIO(text)).items()}
    for key, length in secret_lengths().items():
        if not values.get(key) and "_S3_" not in key:
            values[key] = generate_secret(length)
    return LabConfig.from_mapping(values)


def render(cfg: LabConfig, out: Path) -> None:
    env, ctx = template_env(), base_context(cfg, [])
    out.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATES:
        (out / f"{name}.ldif").write_text(env.get_template(f"ldif/{name}.ldif.j2").render(**ctx))


def run(name: str, image: str, cfg: LabConfig, data: Path, ldif: Path | None) -> None:
    ld = cfg.ldap
    args = ["docker", "run", "-d", "--init", "--name", name,
            "-e", f"LDAP_DOMAIN={ld.domain}", "-e", f"LDAP_BASE_DN={ld.base_dn}",
            "-e", "LDAP_ADMIN_PASSWORD", "-e", "LDAP_CONFIG_PASSWORD", "-v", f"{data}:/data"]  # fmt: skip
    if ldif:
        args += ["-v", f"{ldif}:/lab/ldif:ro"]
    env = {**os.environ, "LDAP_ADMIN_PASSWORD": ld.admin_password,
           "LDAP_CONFIG_PASSWORD": ld.config_password}  # fmt: skip
    subprocess.run([*args, image], check=True, capture_output=True, env=env)


def wait_healthy(name: str, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["docker", "exec", name, "/usr/local/bin/lab-healthcheck"],
                         capture_output=True).returncode != 0:  # fmt: skip
        if time.monotonic() > deadline:
            raise SystemExit(f"{name} not healthy after {timeout}s")
        time.sleep(0.2)


def first_healthy(image: str, cfg: LabConfig, tmp: Path, tag: str) -> float:
    name = f"ldapbench-{tag}-{os.getpid()}"
    ldif, data = tmp / tag / "ldif", tmp / tag / "data"
    render(cfg, ldif)
    data.mkdir(parents=True)
    start = time.monotonic()
    try:
        run(name, image, cfg, data, ldif)
        wait_healthy(name)
        return time.monotonic() - start
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def plain_ldapadd(image: str, cfg: LabConfig, tmp: Path) -> float:
    """Empty suffix (no LDIF mounted), then ldapadd of the same people and groups."""
    name = f"ldapbench-plain-{os.getpid()}"
    ldif, data = tmp / "plain" / "ldif", tmp / "plain" / "data"
    render(cfg, ldif)
    data.mkdir(parents=True)
    try:
        run(name, image, cfg, data, None)
        wait_healthy(name)
        subprocess.run(["docker", "cp", str(ldif), f"{name}:/tmp/ldif"], check=True)
        script = (
            "set -e; for f in 20-people 30-groups; do ldapadd -Q -Y EXTERNAL "
            "-H ldapi://%2Frun%2Fslapd%2Fldapi -f /tmp/ldif/$f.ldif >/dev/null; done"
        )
        add_ous = (
            f"printf 'dn: ou=People,{cfg.ldap.base_dn}\\nobjectClass: organizationalUnit\\nou: People"
            f"\\n\\ndn: ou=Groups,{cfg.ldap.base_dn}\\nobjectClass: organizationalUnit\\nou: Groups\\n'"
            " | ldapadd -Q -Y EXTERNAL -H ldapi://%2Frun%2Fslapd%2Fldapi >/dev/null"
        )
        subprocess.run(["docker", "exec", name, "sh", "-c", add_ous], check=True)
        start = time.monotonic()
        subprocess.run(["docker", "exec", name, "sh", "-c", script], check=True)
        return time.monotonic() - start
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--image", default="okta-lab-bench/openldap:dev")
    opts = parser.parse_args()
    if subprocess.run(["docker", "image", "inspect", opts.image], capture_output=True).returncode:
        subprocess.run(["docker", "build", "-q", "-t", opts.image,
                        str(RESOURCES / "compose" / "openldap")], check=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="ldapbench-"))
    try:
        galaxy = first_healthy(opts.image, config("galaxy"), tmp, "galaxy")
        print(f"openldap first healthy (The Galaxy, 15 users): {galaxy:.1f} s")
        company = tmp / "company.yaml"
        t0 = time.monotonic()
        dump_company(generate_company(opts.users, seed=0), company)
        print(f"lab data generate --users {opts.users}: {time.monotonic() - t0:.1f} s")
        big = config(str(company))
        ours = first_healthy(opts.image, big, tmp, "big")
        plain = plain_ldapadd(opts.image, big, tmp)
        print(f"{opts.users} users, image first start (config+TLS+load) until healthy: {ours:.1f} s")
        print(f"{opts.users} users, plain ldapadd of the same LDIF: {plain:.1f} s")
        print(f"ratio lab/ldapadd: {ours / plain:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
