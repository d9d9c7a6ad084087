"""`lab headerapp test|reload`: rehearse an Okta Access Gateway header app and its custom code."""

from __future__ import annotations

import typer

from lab.cli.common import console, lab_context, note, print_json
from lab.config import LabConfig
from lab.context import LabContext
from lab.errors import ConfigError, Problem, UsageError, VerifyError

app = typer.Typer(help="The header-app lab: Okta Access Gateway header apps.", no_args_is_help=True)

CUSTOM = "oag-sim/custom.conf"
#: as root: the container's user, or sudo on a native host whose SSH user is not root
RELOAD = 'if [ "$(id -u)" = 0 ]; then exec /usr/local/bin/lab-reload; else exec sudo -n /usr/local/bin/lab-reload; fi'


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="headerapp")


@app.command()
def test(
    ctx: typer.Context,
    user: str = typer.Option("", "--user", "-u", help="A lab directory uid (default: HEADERAPP_DEFAULT_USER)."),
    expect: str = typer.Option(
        "username", help="What Authorization should carry: username (snippet 1) or names (snippet 2)."
    ),
    url: str = typer.Option("", help="oag-sim's public URL (default: http://LAB_BIND:HEADERAPP_PORT)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Send a request through oag-sim as a lab user; show what the app received, decoded.

    Exit 0 when Authorization is the base64 of the expected value, 1 when it is not.
    """
    from lab.company import load_company
    from lab.headerapp.check import expected_authorization, fetch, judge
    from lab.headerapp.directory import find_person

    if expect not in ("username", "names"):
        raise UsageError(Problem(f"--expect {expect!r} is not known", "use --expect username or --expect names"))
    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    h = cfg.headerapp
    person = find_person(load_company(cfg.core.company), user or h.default_user, cfg.ldap.mail_domain)
    base = (url or f"http://{_gateway_host(lab, cfg)}:{h.port}").rstrip("/")
    try:
        received = fetch(f"{base}/headers.json", person.uid)
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        raise UsageError(
            Problem(f"oag-sim does not answer at {base} ({reason})", "run `lab up headerapp` (or pass --url)")
        ) from None
    wanted = expected_authorization(person, expect, h.header_map, cfg.ldap.mail_domain)  # type: ignore[arg-type]
    ok, verdict = judge(received, wanted)
    if as_json:
        print_json({"ok": ok, "user": person.uid, "expected": wanted, "verdict": verdict, **received.document})
    else:
        console.print(f"[bold]{person.uid}[/bold] through {base}: the app received", highlight=False)
        for hd in received.headers:
            mark = "*" if hd["identity"] else " "
            line = f" {mark} {hd['name']}: {hd['value']}"
            if hd["decoded"] is not None:
                line += f"  (decoded: {hd['decoded']})"
            console.print(line, markup=False, soft_wrap=True)
    if not ok:
        other = "names" if expect == "username" else "username"
        hint = f"fix data/{CUSTOM} and run `lab headerapp reload` (or, for the other example, --expect {other})"
        raise VerifyError(Problem(verdict, hint))
    if not as_json:
        console.print(f"ok: {verdict}", markup=False, soft_wrap=True)


def _gateway_host(lab: LabContext, cfg: LabConfig) -> str:
    """Where oag-sim answers: its inventory host on a native lab, LAB_BIND otherwise (on a
    `lab up --host` lab, the tunnel it printed)."""
    import json

    from lab.state import LabState, NativeHosts

    state = LabState.load(lab)
    targets = lab.lab_dir / "host" / "targets.json"
    if state is not None and isinstance(state.target, NativeHosts) and targets.exists():
        found = json.loads(targets.read_text()).get("services", {}).get("oag-sim")
        if found:
            return str(found["address"])
    return "127.0.0.1" if cfg.core.publishes_everywhere else cfg.core.url_host


@app.command()
def reload(ctx: typer.Context) -> None:
    """Check data/oag-sim/custom.conf with `nginx -t`, then reload oag-sim gracefully.

    A snippet nginx refuses is reported with nginx's message and line (exit 2); oag-sim keeps
    serving the last custom code it accepted (no restart, ever).
    """
    from lab.headerapp.check import parse_nginx_test
    from lab.pipeline import lab_target

    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    target = lab_target(lab, cfg)
    try:
        if target.container("oag-sim") is None:
            raise UsageError(Problem("oag-sim is not running", "run `lab up headerapp` first"))
        where = target.file_where(CUSTOM)
        rc, out = target.exec("oag-sim", ["sh", "-c", RELOAD])
    finally:
        target.close()
    text = out.decode("utf-8", "replace").strip()
    if rc != 0:
        err = parse_nginx_test(text)
        if err is None:
            raise ConfigError(Problem(f"oag-sim refused {where}: {text.splitlines()[-1] if text else rc}"))
        at = f" line {err.line}" if err.line is not None else ""
        raise ConfigError(
            Problem(
                f"{where}{at}: {err.message} (nginx -t)",
                "fix it and run `lab headerapp reload` again; oag-sim keeps serving the last code nginx accepted",
            )
        )
    if "unchanged" in text.splitlines()[-1:]:
        note(f"{where} is what oag-sim already runs: nothing to reload")
    else:
        console.print(f"oag-sim reloaded with {where}", markup=False, soft_wrap=True)
