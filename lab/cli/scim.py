"""`lab scim serve|demo|creds`: the toolkit's SCIM 2.0 server over the JDBC lab database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lab.cli.common import console, lab_context, note, print_json
from lab.config import LabConfig
from lab.errors import ConfigError, Problem, TargetError

app = typer.Typer(help="The toolkit's SCIM 2.0 server (jdbc stack).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="scim")


def _data_dir(ctx: typer.Context) -> Path:
    return lab_context(ctx).data_dir / "scim"


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(0, help="Port (default: SCIM_PORT)."),
    db_host: str = typer.Option("127.0.0.1", help="MariaDB host."),
    db_port: int = typer.Option(0, help="MariaDB port (default: MARIADB_PORT)."),
    no_tls: bool = typer.Option(False, "--no-tls", help="Plain HTTP (development only)."),
) -> None:
    """Run the SCIM server in the foreground (development; the `scim` service runs the same app)."""
    from lab.scim.server import config_from_environ, run

    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    environ = {
        "SCIM_DB_HOST": db_host,
        "SCIM_DB_PORT": str(db_port or cfg.jdbc.port),
        "MARIADB_DATABASE": cfg.jdbc.database,
        "MARIADB_USER": cfg.jdbc.user,
        "MARIADB_PASSWORD": cfg.jdbc.password,
        "SCIM_DATA_DIR": str(_data_dir(ctx)),
        "SCIM_LISTEN": host,
        "SCIM_LISTEN_PORT": str(port or cfg.scim.port),
        "SCIM_TLS": "0" if no_tls else "1",
        "SCIM_OPERATIONS_FILE": _ops_file(lab.root, cfg),
        "SCIM_OPERATION_KIND": cfg.scim.operation_kind,
        "SCIM_POOL_SIZE": str(cfg.scim.pool_size),
        "SCIM_MAX_RESULTS": str(cfg.scim.max_results),
        "SCIM_CERT_HOSTNAME": cfg.scim.cert_hostname,
        "SCIM_DB_ENGINE": cfg.jdbc.engine,
    }
    config, listen = config_from_environ(environ)
    scheme = "http" if no_tls else "https"
    note(f"SCIM server on {scheme}://{host}:{listen.port}/scim/v2 (token: `lab scim creds`)")
    run(config, listen)


@app.command()
def creds(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show the SCIM base URLs, bearer token and certificate (the token is a secret)."""
    info = _creds(ctx)
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        console.print(f"{key:<16} {value}", markup=False, soft_wrap=True)


@app.command()
def demo(
    ctx: typer.Context,
    user_name: str = typer.Option("", "--user", help="Demo userName (default: rey.skywalker@MAIL_DOMAIN)."),
    url: str = typer.Option("", help="SCIM base URL (default: https://LAB_BIND:SCIM_PORT/scim/v2)."),
    db_host: str = typer.Option("", help="Read the views over TCP from this host (default: docker exec)."),
    as_json: bool = typer.Option(False, "--json", help="Print the steps as JSON."),
) -> None:
    """Play Okta's part: create, update, deactivate, reactivate, remove an entitlement."""
    from lab.pipeline import lab_target
    from lab.scim.client import HttpScim
    from lab.scim.demo import DemoError, DemoStep, DemoUser, run_demo
    from lab.state import DockerLocal

    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    target = lab_target(lab, cfg)  # where the lab runs: the views are read there (over SSH if remote)
    remote = target if not isinstance(target.record, DockerLocal) else None
    # a remote lab's certificate is copied here, in the same SSH session that reads the token
    cert = lab.lab_dir / "scim-demo.crt" if remote else _data_dir(ctx) / "scim.crt"
    info = _creds(ctx, copy_certificate_to=cert if remote else None)
    base = url or info["url"]
    scim = HttpScim(base, info["token"], cert if cert.exists() and base.startswith("https") else None)
    views = _views(cfg, db_host, target)
    user = DemoUser(user_name or f"rey.skywalker@{cfg.ldap.mail_domain}")

    def show(step: DemoStep) -> None:
        if as_json:
            return
        console.print(f"\n[bold]{step.title}[/bold]")
        console.print(f"  {step.request} -> {step.status}", markup=False)
        for view, rows in step.rows.items():
            console.print(f"  {view}: " + ("(no rows)" if not rows else ""), markup=False)
            for row in rows:
                console.print("    " + "  ".join(f"{k}={v}" for k, v in row.items()), markup=False)

    try:
        steps = run_demo(scim, views, user, on_step=show)
    except DemoError as exc:
        raise TargetError(Problem(str(exc), "check `lab status` and `lab logs scim`")) from None
    except OSError as exc:
        hint = "open the tunnel `lab up --host` printed (or pass --url)" if remote else "run `lab up jdbc`"
        raise TargetError(Problem(f"cannot reach the SCIM server at {base}: {exc}", hint)) from None
    finally:
        scim.close()
        target.close()
    if as_json:
        print_json([{"title": s.title, "request": s.request, "status": s.status, "rows": s.rows} for s in steps])


def _creds(ctx: typer.Context, copy_certificate_to: Path | None = None) -> dict[str, str]:
    from lab.catalog import load_catalog
    from lab.datafiles import lab_data_files
    from lab.state import LabState

    lab = lab_context(ctx)
    cfg = LabConfig.from_env(lab.env_path)
    with lab_data_files(lab, LabState.load(lab), load_catalog()) as files:  # SSH for remote/native labs
        token = files.read("scim/token")
        where, certificate = files.where("scim/token"), files.where("scim/scim.crt")
        pem = files.read("scim/scim.crt") if copy_certificate_to else None
    if copy_certificate_to and pem:
        copy_certificate_to.parent.mkdir(parents=True, exist_ok=True)
        copy_certificate_to.write_text(pem + "\n")
    if not token:
        raise ConfigError(
            Problem(f"no SCIM token at {where}", "start the server first: `lab up jdbc` or `lab scim serve`")
        )
    host = "127.0.0.1" if cfg.core.bind in ("0.0.0.0", "::") else cfg.core.bind
    base = f"https://{host}:{cfg.scim.port}"
    return {
        "url": f"{base}/scim/v2",
        "onprem_url": f"{base}/ws/rest/{cfg.scim.app}/scim/v2",
        "token": token,
        "authorization": f"Bearer {token}",
        "certificate": certificate,
    }


def _views(cfg: LabConfig, db_host: str, target: Any) -> Any:
    from lab.scim.demo import DockerExecViews, PsqlExecViews, PyMySQLViews
    from lab.targets.base import ServiceExec

    if (db_host or cfg.jdbc.publish) and cfg.jdbc.is_postgresql:
        import psycopg

        from lab.scim.pgdb import upper_dict_row

        pg_host = db_host or ("127.0.0.1" if cfg.core.bind in ("0.0.0.0", "::") else cfg.core.bind)

        def pg_connect() -> Any:
            return psycopg.connect(
                host=pg_host,
                port=cfg.jdbc.port,
                user=cfg.jdbc.user,
                password=cfg.jdbc.password,
                dbname=cfg.jdbc.database,
                connect_timeout=5,
                row_factory=upper_dict_row,
            )

        return PyMySQLViews(pg_connect)
    if db_host or cfg.jdbc.publish:
        import pymysql
        import pymysql.cursors

        host = db_host or ("127.0.0.1" if cfg.core.bind in ("0.0.0.0", "::") else cfg.core.bind)

        def connect() -> Any:
            return pymysql.connect(
                host=host,
                port=cfg.jdbc.port,
                user=cfg.jdbc.user,
                password=cfg.jdbc.password,
                database=cfg.jdbc.database,
                cursorclass=pymysql.cursors.DictCursor,
                connect_timeout=5,
            )

        return PyMySQLViews(connect)
    if target.container("db") is None:
        raise TargetError(Problem("the db container is not running", "run `lab up jdbc`, or pass --db-host"))
    readers = PsqlExecViews if cfg.jdbc.is_postgresql else DockerExecViews
    return readers(ServiceExec(target, "db"), cfg.jdbc.database, cfg.jdbc.user, cfg.jdbc.password)


def _ops_file(root: Path, cfg: LabConfig) -> str:
    if not cfg.scim.operations_file:
        return ""
    path = Path(cfg.scim.operations_file)
    return str(path if path.is_absolute() else root / path)
