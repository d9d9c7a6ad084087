"""`lab radius test|otp`: a real RADIUS client through the MFA challenge, and the stand-in's codes."""

from __future__ import annotations

import sys

import typer

from lab.cli.common import console, err_console, lab_context, print_json
from lab.errors import Problem, UsageError

app = typer.Typer(help="The RADIUS lab: test a login through the MFA challenge, show TOTP codes.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="radius")


def _need(module: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise UsageError(
            Problem(
                f"{module} is not installed",
                "run `make venv` (it installs the RADIUS extra), or pip install 'okta-lab[radius]'",
            )
        ) from None


@app.command("test")
def test_cmd(
    ctx: typer.Context,
    server: str = typer.Option("", "--server", help="RADIUS server (default: LAB_BIND, or 127.0.0.1 for a wildcard)."),
    port: int = typer.Option(0, "--port", help="UDP port (default: RADIUS_PORT).", min=0, max=65535),
    user: str = typer.Option("", "--user", "-u", help="User-Name (default: luke.skywalker@LDAP_MAIL_DOMAIN)."),
    password: str = typer.Option(
        "", "--password", "-p", help="User-Password (default: LDAP_DEMO_PASSWORD; prompted if empty)."
    ),
    answers: list[str] = typer.Option([], "--answer", "-a", help="Answer to each challenge, in order (repeat)."),
    secret: str = typer.Option("", "--secret", help="Shared secret (default: RADIUS_SECRET)."),
    timeout: float = typer.Option(
        0, "--timeout", help="Seconds to wait for each reply (default: RADIUS_TIMEOUT).", min=0
    ),
    first_timeout: float = typer.Option(
        5.0, "--first-timeout", help="Seconds to wait for the first reply (a wrong secret is named then).", min=0.1
    ),
    push: bool = typer.Option(
        False, "--push", help="The first request itself waits for a push (Okta agent): give it the whole --timeout."
    ),
    interval: float = typer.Option(5.0, "--retransmit", help="Seconds between retransmissions.", min=0.1),
    max_rounds: int = typer.Option(0, "--max-rounds", help="Challenges to follow (default: RADIUS_MAX_ROUNDS).", min=0),
    calling_station: str = typer.Option("127.0.0.1", "--calling-station-id", help="Calling-Station-Id sent."),
    nas_ip: str = typer.Option("127.0.0.1", "--nas-ip", help="NAS-IP-Address sent."),
    as_json: bool = typer.Option(False, "--json", help="Print the exchange as JSON (never the password)."),
) -> None:
    """Log in over RADIUS (PAP) and follow the MFA challenge; exit 0 only on Access-Accept."""
    _need("pyrad")
    from ipaddress import ip_address

    from lab.pipeline import load_config
    from lab.radius.client import RadiusClient, Reply, authenticate

    cfg = load_config(lab_context(ctx))
    host = server or ("127.0.0.1" if cfg.core.publishes_everywhere else cfg.core.bind)
    user = user or f"luke.skywalker@{cfg.ldap.mail_domain}"
    if not user.strip():
        raise UsageError(Problem("--user is empty", "give the User-Name, e.g. luke.skywalker@galaxy.local"))
    try:
        ip_address(nas_ip)
    except ValueError:
        raise UsageError(Problem(f"--nas-ip {nas_ip!r} is not an IP address", "e.g. --nas-ip 127.0.0.1")) from None
    if not password:
        password = cfg.ldap.demo_password if not server or server == host else ""
    if not password:
        password = _prompt("Password", hide=True)
    pending = list(answers)

    def answer(reply: Reply) -> str:
        if not as_json:
            for message in reply.messages or ["(no Reply-Message)"]:
                console.print(message, markup=False, soft_wrap=True)
        if pending:
            given = pending.pop(0)
        elif sys.stdin.isatty():
            given = _prompt("Answer")
        else:
            raise UsageError(
                Problem("the server asks for another answer and none is left", "add --answer values, in order")
            )
        if not given.strip():
            raise UsageError(Problem("the answer is empty", "give the factor number, then the code (--answer)"))
        return given

    with RadiusClient(
        host,
        port or cfg.radius.port,
        secret or cfg.radius.shared_secret,
        timeout=timeout or float(cfg.radius.timeout),
        interval=interval,
        first_timeout=None if push else first_timeout,
        nas_ip=nas_ip,
        calling_station=calling_station,
    ) as client:
        exchange = authenticate(client, user, password, answer, max_rounds=max_rounds or cfg.radius.max_rounds)
    if as_json:
        print_json(exchange.as_dict())
    else:
        last = exchange.rounds[-1]
        for message in last.messages:
            console.print(message, markup=False, soft_wrap=True)
        total = sum(r.seconds for r in exchange.rounds) * 1000
        console.print(
            f"{exchange.code} for {user} from {exchange.server} ({len(exchange.rounds)} round(s), {total:.0f} ms)",
            markup=False,
            soft_wrap=True,
        )
    raise typer.Exit(0 if exchange.accepted else 1)


@app.command("otp")
def otp_cmd(
    ctx: typer.Context,
    user: str = typer.Argument(..., help="User-Name, e.g. luke.skywalker@galaxy.local."),
    uri: bool = typer.Option(False, "--uri", help="Print an otpauth:// URI to enrol an authenticator app instead."),
    any_user: bool = typer.Option(
        False, "--any", help="Also for a user who is not in LAB_COMPANY (one added to the directory by hand)."
    ),
) -> None:
    """Print the user's current TOTP code (RFC 6238), as an authenticator app would show it.

    The user must be one of LAB_COMPANY's people (their User-Name is `uid@LDAP_MAIL_DOMAIN`,
    compared case-blind as the server does), unless `--any`: a code for a mistyped name would
    only be refused later by the server, after a password round."""
    _need("pyotp")
    from lab.company import load_company
    from lab.pipeline import load_config
    from lab.radius import otp

    if not user.strip():
        raise UsageError(Problem("USER is empty", "give the User-Name, e.g. luke.skywalker@galaxy.local"))
    cfg = load_config(lab_context(ctx))
    if not any_user:
        domain = cfg.ldap.mail_domain
        people = load_company(cfg.core.company).people
        logins = [p.login(domain).lower() for p in people]
        if user.strip().lower() not in logins:
            raise UsageError(
                Problem(
                    f"{user.strip()!r} is not a user of LAB_COMPANY ({cfg.core.company})",
                    f"give uid@{domain}, e.g. {logins[0] if logins else 'luke.skywalker@' + domain}, "
                    "or --any for a user added to the directory by hand",
                )
            )
    if uri:
        import pyotp

        secret = otp.user_secret(cfg.radius.totp_key, user)
        link = pyotp.TOTP(secret).provisioning_uri(name=user.strip(), issuer_name="okta-lab RADIUS")
        console.print(link, markup=False, soft_wrap=True)
        return
    console.print(otp.current_code(cfg.radius.totp_key, user), markup=False)


def _prompt(label: str, *, hide: bool = False) -> str:
    if not sys.stdin.isatty():
        raise UsageError(Problem(f"{label.lower()} needed and stdin is not a terminal", f"pass --{label.lower()}"))
    err_console.print(f"{label}: ", end="")
    import getpass

    return getpass.getpass("") if hide else input()
