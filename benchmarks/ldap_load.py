"""LDAP lab benchmarks, in one run:

1. time from `docker run` to the first healthy `openldap` with The Galaxy;
2. time to first healthy with N synthetic users (`lab data generate`, default 10,000; `--100k` adds
   100,000) through the image's first start (config + certificates + offline load + slapd start),
   side by side with `slapadd -q` alone of the same LDIF — printed with the ratio.
   Targets (issue 11): 10,000 users <= 10 s, 100,000 users <= 90 s.

Usage: .venv/bin/python benchmarks/ldap_load.py [--users 10000] [--100k] [--image TAG]
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


def slapadd_alone(image: str, cfg: LabConfig, tmp: Path, tag: str) -> float:
    """`slapadd -q` of the same LDIF into a fresh database under the image's own cn=config.

    The configuration comes from a first start without LDIF (suffix only); its database is then
    emptied and the LDIF loaded in a container that runs nothing but slapadd. Timed: that
    `docker run`, start to exit.
    """
    name = f"ldapbench-slapadd-{tag}-{os.getpid()}"
    ldif, data = tmp / f"slapadd-{tag}" / "ldif", tmp / f"slapadd-{tag}" / "data"
    render(cfg, ldif)
    (ldif / "all.ldif").write_text("\n".join((ldif / f"{n}.ldif").read_text() for n in TEMPLATES))
    data.mkdir(parents=True)
    try:
        run(name, image, cfg, data, None)
        wait_healthy(name)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    script = 'rm -f /data/db/*.mdb && slapadd -q -F /data/slapd.d -b "$1" -l /lab/ldif/all.ldif'
    cmd = ["docker", "run", "--rm", "--entrypoint", "sh", "-v", f"{data}:/data", "-v", f"{ldif}:/lab/ldif:ro",
           image, "-c", script, "slapadd", cfg.ldap.base_dn]  # fmt: skip
    start = time.monotonic()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.monotonic() - start


def measure(image: str, tmp: Path, users: int) -> None:
    company = tmp / f"company-{users}.yaml"
    t0 = time.monotonic()
    dump_company(generate_company(users, seed=0), company)
    print(f"lab data generate --users {users}: {time.monotonic() - t0:.1f} s")
    big = config(str(company))
    ours = first_healthy(image, big, tmp, f"u{users}")
    alone = slapadd_alone(image, big, tmp, f"u{users}")
    print(f"{users:>7} users  first start until healthy: {ours:6.1f} s   slapadd -q alone: {alone:6.1f} s   "
          f"ratio {ours / alone:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--100k", dest="hundred_k", action="store_true", help="also 100,000 users")
    parser.add_argument("--image", default="okta-lab-bench/openldap:dev")
    opts = parser.parse_args()
    subprocess.run(["docker", "build", "-q", "-t", opts.image,
                    str(RESOURCES / "compose" / "openldap")], check=True, capture_output=True)  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="ldapbench-"))
    try:
        galaxy = first_healthy(opts.image, config("galaxy"), tmp, "galaxy")
        print(f"openldap first healthy (The Galaxy, 15 users): {galaxy:.1f} s")
        measure(opts.image, tmp, opts.users)
        if opts.hundred_k:
            measure(opts.image, tmp, 100_000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
