"""`lab aws host|schedule|lambda|cleanup`: lab hosts on AWS EC2 (see docs/aws.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from lab.cli.common import console, lab_context, note, print_json

app = typer.Typer(help="Lab hosts on AWS EC2: create, start/stop, schedule, DNS, Lambdas.", no_args_is_help=True)
host_app = typer.Typer(help="EC2 instances for `lab up --host NAME`.", no_args_is_help=True)
lambda_app = typer.Typer(help="The power and DNS Lambda functions (for Okta Workflows).", no_args_is_help=True)
app.add_typer(host_app, name="host")
app.add_typer(lambda_app, name="lambda")

Name = Annotated[str, typer.Argument(help="Host name (a DNS label, e.g. lab1).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="aws")


def _open(ctx: typer.Context):  # type: ignore[no-untyped-def]
    from lab.aws import AwsLab

    return AwsLab.open(lab_context(ctx))


@host_app.command("create")
def create_cmd(
    ctx: typer.Context,
    name: Name,
    instance_type: Annotated[str, typer.Option("--type", help="Instance type (default AWS_INSTANCE_TYPE).")] = "",
    disk: Annotated[int, typer.Option("--disk", help="Root disk in GiB (default AWS_DISK_GB).")] = 0,
    ssh_from: Annotated[
        str, typer.Option("--ssh-from", help="Address/CIDR allowed to SSH (default AWS_SSH_CIDR, else looked up).")
    ] = "",
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Do not wait for SSH (nor pin the host key).")] = False,
) -> None:
    """Create an Ubuntu 24.04 instance, wait for SSH, pin its host key; then `lab up --host NAME`."""
    from lab.aws.hosts import check_name, create_host
    from lab.errors import ConfigError

    problem = check_name(name)
    if problem:
        raise ConfigError(problem)
    record = create_host(
        _open(ctx), name, instance_type=instance_type, disk_gb=disk, ssh_from=ssh_from, step=note, wait_ssh=not no_wait
    )
    console.print(
        f"{name}: {record.instance_id} running, SSH root@{record.ssh_address}:{record.ssh_port} "
        f"(key {record.key_file})",
        markup=False,
        soft_wrap=True,
    )
    console.print(f"next: lab up --host {name}", markup=False)


@host_app.command("start")
def start_cmd(
    ctx: typer.Context,
    name: Name,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Do not wait for SSH.")] = False,
) -> None:
    """Start the instance, update its DNS record, wait for SSH."""
    from lab.aws.hosts import start_host

    record = start_host(_open(ctx), name, step=note, wait_ssh=not no_wait)
    console.print(f"{name}: running at {record.public_ip}, SSH {record.ssh_address}:{record.ssh_port}", markup=False)


@host_app.command("stop")
def stop_cmd(ctx: typer.Context, name: Name) -> None:
    """Stop the instance (its disk is kept); remove or keep its DNS record (AWS_DNS_ON_STOP)."""
    from lab.aws.hosts import stop_host

    stop_host(_open(ctx), name, step=note)
    console.print(f"{name}: stopped", markup=False)


@host_app.command("status")
def status_cmd(ctx: typer.Context, name: Name, as_json: Json = False) -> None:
    """State, addresses and schedules of one host."""
    from lab.aws.hosts import host_status
    from lab.aws.schedule import list_schedules

    lab = _open(ctx)
    st = host_status(lab, name)
    sched = list_schedules(lab, name)
    if as_json:
        print_json({**asdict(st), "schedules": [asdict(s) for s in sched]})
        return
    for label, value in asdict(st).items():
        console.print(f"{label:<14} {value or '-'}", markup=False)
    for s in sched:
        console.print(f"{'schedule':<14} {s.action} {s.expression} {s.timezone}", markup=False)


@host_app.command("list")
def list_cmd(ctx: typer.Context, as_json: Json = False) -> None:
    """Every host of this lab in the region (by tag)."""
    from lab.aws.hosts import list_hosts

    found = list_hosts(_open(ctx))
    if as_json:
        print_json([asdict(h) for h in found])
        return
    table = Table("name", "instance", "state", "type", "public IP", "DNS", "SSH")
    for h in found:
        table.add_row(h.name, h.instance_id, h.state, h.instance_type, h.public_ip, h.dns_name, h.ssh)
    console.print(table)


@host_app.command("destroy")
def destroy_cmd(
    ctx: typer.Context, name: Name, yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False
) -> None:
    """Terminate the instance and delete its disk, key pair, security group, DNS record, schedules."""
    from lab.aws.hosts import destroy_host
    from lab.aws.state import HostStore

    lab = _open(ctx)
    record = HostStore.load(lab.ctx).get(name)
    if not yes and not typer.confirm(f"terminate {name} ({record.instance_id}) and delete its disk?"):
        raise typer.Exit(1)
    destroy_host(lab, name, step=note)
    console.print(f"{name}: destroyed", markup=False)


@app.command("schedule")
def schedule_cmd(
    ctx: typer.Context,
    name: Name,
    stop: Annotated[str, typer.Option("--stop", help="Stop every day at HH:MM.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Rome.")],
    start: Annotated[str | None, typer.Option("--start", help="Also start at HH:MM.")] = None,
    days: Annotated[str, typer.Option("--days", help="Days, e.g. MON-FRI (default: every day).")] = "*",
) -> None:
    """Stop (and start) the host on a schedule with EventBridge Scheduler; replaces its schedules."""
    from lab.aws.schedule import set_schedule, validate
    from lab.errors import ConfigError

    problems = validate(stop, start, tz, days)
    if problems:
        raise ConfigError(*problems)
    for s in set_schedule(_open(ctx), name, stop=stop, start=start, tz=tz, days=days):
        console.print(f"{s.name}: {s.action} {s.expression} {s.timezone}", markup=False)


@lambda_app.command("deploy")
def deploy_cmd(
    ctx: typer.Context,
    show_secret: Annotated[bool, typer.Option("--show-secret", help="Print the URL token.")] = False,
    as_json: Json = False,
) -> None:
    """Publish the power (Function URL) and DNS functions; print what to paste into Okta Workflows."""
    from lab.aws.deploy import deploy, power_token

    lab = _open(ctx)
    result = deploy(lab, step=note)
    token = power_token(lab) if result.auth == "secret" else ""
    shown = token if show_secret else f"(in {result.token_file}; --show-secret prints it)"
    if as_json:
        print_json({**asdict(result), **({"token": token} if show_secret and token else {})})
        return
    console.print(f"power function  {result.power_function} ({result.power_arn})", markup=False, soft_wrap=True)
    console.print(f"Function URL    {result.url} (auth: {result.auth})", markup=False, soft_wrap=True)
    if result.dns_function:
        console.print(f"DNS function    {result.dns_function} <- {result.rule_arn}", markup=False, soft_wrap=True)
    console.print("\nOkta Workflows, HTTP connector (Raw Request / Post):", markup=False)
    console.print(f"  URL      {result.url}", markup=False, soft_wrap=True)
    console.print("  Method   POST", markup=False)
    if result.auth == "secret":
        console.print(f"  Headers  x-lab-token: {shown}", markup=False, soft_wrap=True)
    else:
        console.print("  Auth     AWS SigV4 (service lambda), a user with the policy below", markup=False)
    console.print(
        '  Body     {"operation": "start", "hosts": "all"}   (start | stop | status; NAME,NAME)', markup=False
    )
    if result.auth == "secret":
        console.print(f"  Bookmark {result.url}?operation=start&hosts=all&token={shown}", markup=False, soft_wrap=True)
    console.print("\nOkta Workflows, AWS Lambda connector (Invoke):", markup=False)
    console.print(f"  Region   {result.region}", markup=False)
    console.print(f"  Function {result.power_function}", markup=False)
    console.print('  Payload  {"operation": "stop", "hosts": "all"}', markup=False)
    console.print(f"  IAM policy of the connection's user: {result.invoke_policy}", markup=False, soft_wrap=True)


@app.command("cleanup")
def cleanup_cmd(
    ctx: typer.Context, yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False
) -> None:
    """Remove every AWS resource tagged as this lab's (instances, groups, keys, Lambdas, roles...)."""
    from lab.aws.cleanup import cleanup

    lab = _open(ctx)
    if not yes and not typer.confirm(f"remove every AWS resource tagged okta-lab={lab.project} in {lab.aws.region}?"):
        raise typer.Exit(1)
    removed = cleanup(lab, step=note)
    console.print(f"removed {len(removed)} resource(s)" if removed else "nothing to remove", markup=False)
