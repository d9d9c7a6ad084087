"""The demo card: what an SE needs in front of a customer, per service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.catalog import Component
from lab.config import REDACTED, LabConfig
from lab.datafiles import MISSING, DataFiles
from lab.render import template_env


@dataclass(frozen=True)
class CardEntry:
    service: str
    label: str
    value: str
    secret: bool


def demo_card(
    config: LabConfig,
    components: list[Component],
    *,
    reveal: bool,
    data_dir: Path | None = None,
    files: DataFiles | None = None,
) -> list[CardEntry]:
    """Card lines of `components`; secrets shown only with `reveal`.

    Values are Jinja2 expressions over `cfg`; `addr` is the address to put in the service's URLs
    on its target (LAB_BIND on Docker; on a native host its inventory address when LAB_BIND is a
    wildcard, else LAB_BIND there); `host_name(service)` names the native host that runs it;
    `exists(path)` tells whether a path under the lab folder exists here;
    `data_file("scim/token")` reads a value a service generated on first start under `data/` (or
    where `files` says the lab keeps it), and `data_path(...)` says where that file is. Lines with a
    `target:` are shown on that target only.
    """
    env = template_env()
    files = files or DataFiles(data_dir or Path("data"))
    place = files.place()

    def data_file(rel: str) -> str:
        text = files.read(rel)
        return MISSING if text is None else text

    def exists(rel: str) -> bool:
        return (files.data_dir.parent / rel).exists()

    out = []
    for comp in components:
        for line in comp.card:
            if line.target and line.target != place.kind:
                continue
            value = env.from_string(line.value).render(
                cfg=config,
                c=comp,
                bind=config.core.bind,
                addr=place.address(comp.service, config),
                host_name=place.host_name,
                ssh_to=place.ssh_to,
                exists=exists,
                data_file=data_file,
                data_path=files.where,
            )
            if line.secret and not reveal:
                value = REDACTED
            out.append(CardEntry(comp.service, line.label, value, line.secret))
    return out
