"""The sample company as data: one model feeds the LDAP LDIF and the JDBC SQL seed.

`load_company("galaxy")` reads the packaged "The Galaxy"; any other value is a YAML path in the same
format (`lab data generate` writes one). Identities line up across labs: a person's `uid` is the
local part (`luke.skywalker`); LDAP `uid`/`mail` and SQL `USER_ID`/`USERNAME` are
`person.login(mail_domain)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from lab.errors import ConfigError, Problem
from lab.yamlload import FAST_LOADER

PACKAGED = {"galaxy": Path(__file__).resolve().parent / "data" / "galaxy.yaml"}


@dataclass(frozen=True)
class Entitlement:
    id: int
    name: str
    description: str = ""


@dataclass(frozen=True)
class Person:
    uid: str
    given_name: str
    sn: str
    cn: str
    display_name: str
    title: str = ""
    organization: str = ""
    department: str = ""
    manager: str | None = None
    employee_number: str = ""
    postal_address: str = ""
    groups: tuple[str, ...] = ()
    entitlements: tuple[int, ...] = ()
    assigned: str | None = None  # ISO datetime of the entitlement assignment
    hire_date: str | None = None  # ISO date
    species: str = ""

    def login(self, mail_domain: str) -> str:
        """The login/mail used in both labs, e.g. `luke.skywalker@galaxy.local`."""
        return f"{self.uid}@{mail_domain}"


@dataclass(frozen=True)
class Group:
    name: str
    description: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Company:
    name: str
    people: tuple[Person, ...]
    groups: tuple[Group, ...]
    entitlements: tuple[Entitlement, ...]
    _by_uid: dict[str, Person] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_uid.update({p.uid: p for p in self.people})

    def person(self, uid: str) -> Person:
        return self._by_uid[uid]

    def has_person(self, uid: str) -> bool:
        return uid in self._by_uid

    def group(self, name: str) -> Group:
        for g in self.groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def entitlement(self, ent_id: int) -> Entitlement:
        for e in self.entitlements:
            if e.id == ent_id:
                return e
        raise KeyError(ent_id)

    @property
    def organizations(self) -> list[str]:
        """Distinct organisations, in order of first appearance."""
        return list(dict.fromkeys(p.organization for p in self.people if p.organization))

    @property
    def assignment_count(self) -> int:
        return sum(len(p.entitlements) for p in self.people)


# --- loading and validation -------------------------------------------------------------------


def load_company(name_or_path: str) -> Company:
    """ "galaxy" (the packaged company) or a path to a company YAML file."""
    path = PACKAGED.get(name_or_path, Path(name_or_path))
    if not path.is_file():
        raise ConfigError(
            Problem(
                f"LAB_COMPANY={name_or_path!r}: no such company file",
                "use `galaxy`, or a YAML file written by `lab data generate --users N --out FILE`",
            )
        )
    key = f"LAB_COMPANY={name_or_path!r}"
    fix = "fix the file, or write a new one with `lab data generate --users N --out FILE`"
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(Problem(f"{key}: {path}{where} is not valid YAML: {reason}", fix)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(f"{key}: {path} cannot be read: {exc}", fix)) from None
    try:
        return company_from_dict(data, source=str(path))
    except ConfigError as exc:
        raise ConfigError(*(Problem(f"{key}: {p.what}", p.hint or fix) for p in exc.problems)) from None


def company_from_dict(data: Any, source: str = "company") -> Company:
    """Build and validate a Company; every problem is reported together."""
    if not isinstance(data, dict) or not isinstance(data.get("people"), list):
        raise ConfigError(Problem(f"{source} is not a company file", "it needs `people`"))
    problems: list[Problem] = []
    groups = tuple(
        Group(g["name"], g.get("description", ""), tuple(g.get("members") or ())) for g in data.get("groups") or ()
    )
    member_of: dict[str, list[str]] = {}
    for g in groups:
        for uid in g.members:
            member_of.setdefault(uid, []).append(g.name)
    people = []
    for raw in data["people"]:
        try:
            people.append(_person(raw, tuple(member_of.get(str(raw.get("uid")), ()))))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(Problem(f"{source}: person {raw!r:.60} is invalid: {exc}"))
    ents = tuple(
        Entitlement(int(e["id"]), str(e["name"]), str(e.get("description", ""))) for e in data.get("entitlements") or ()
    )
    company = Company(str(data.get("name", "Company")), tuple(people), groups, ents)
    problems.extend(validate_company(company, source))
    if problems:
        raise ConfigError(*problems)
    return company


def _person(raw: dict[str, Any], groups: tuple[str, ...]) -> Person:
    uid = str(raw["uid"])
    return Person(
        uid=uid,
        given_name=str(raw["given_name"]),
        sn=str(raw["sn"]),
        cn=str(raw.get("cn") or f"{raw['given_name']} {raw['sn']}"),
        display_name=str(raw.get("display_name") or raw.get("cn") or uid),
        title=str(raw.get("title") or ""),
        organization=str(raw.get("organization") or ""),
        department=str(raw.get("department") or ""),
        manager=raw.get("manager") or None,
        employee_number=str(raw.get("employee_number") or ""),
        postal_address=str(raw.get("postal_address") or ""),
        groups=groups,
        entitlements=tuple(int(e) for e in raw.get("entitlements") or ()),
        assigned=_iso(raw.get("assigned")),
        hire_date=_iso(raw.get("hire_date")),
        species=str(raw.get("species") or ""),
    )


def _iso(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    (datetime if "T" in text or " " in text else date).fromisoformat(text)  # validates
    return text


def validate_company(company: Company, source: str = "company") -> list[Problem]:
    """Unique uids; managers, group members and entitlement ids all resolve."""
    out: list[Problem] = []
    seen: set[str] = set()
    ent_ids = {e.id for e in company.entitlements}
    for p in company.people:
        if p.uid in seen:
            out.append(Problem(f"{source}: uid {p.uid!r} appears twice"))
        seen.add(p.uid)
        if not p.uid or any(c in p.uid for c in ',=+<>#;"\\ @'):
            out.append(Problem(f"{source}: uid {p.uid!r} must be a plain local part"))
        if p.manager and not company.has_person(p.manager):
            out.append(Problem(f"{source}: manager {p.manager!r} of {p.uid!r} is not a person"))
        for e in p.entitlements:
            if e not in ent_ids:
                out.append(Problem(f"{source}: entitlement {e} of {p.uid!r} is not defined"))
    for g in company.groups:
        for uid in g.members:
            if not company.has_person(uid):
                out.append(Problem(f"{source}: member {uid!r} of group {g.name!r} is not a person"))
    return out


def company_to_dict(company: Company) -> dict[str, Any]:
    """The YAML shape (`Person.groups` is derived from group members, so it is not written)."""
    people = []
    for p in company.people:
        row: dict[str, Any] = {
            "uid": p.uid,
            "given_name": p.given_name,
            "sn": p.sn,
            "cn": p.cn,
            "display_name": p.display_name,
            "title": p.title,
            "organization": p.organization,
            "department": p.department,
            "manager": p.manager,
            "employee_number": p.employee_number,
            "postal_address": p.postal_address,
            "species": p.species,
            "entitlements": list(p.entitlements),
            "assigned": p.assigned,
            "hire_date": p.hire_date,
        }
        people.append(row)
    return {
        "name": company.name,
        "entitlements": [{"id": e.id, "name": e.name, "description": e.description} for e in company.entitlements],
        "people": people,
        "groups": [{"name": g.name, "description": g.description, "members": list(g.members)} for g in company.groups],
    }


def dump_company(company: Company, path: Path) -> None:
    """Write `company` as YAML that `load_company(str(path))` reads back unchanged."""
    text = yaml.safe_dump(company_to_dict(company), sort_keys=False, allow_unicode=True, width=100)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# generated by lab — company file\n{text}", encoding="utf-8")


# --- synthetic companies ----------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Ada Alan Amara Anika Bruno Carla Chen Dara Diego Elena Emeka Farah Felix Grace Hana Hugo "
    "Ines Ivan Jonas Kai Kenji Lara Leon Lina Malik Maya Mateo Nadia Noah Omar Olga Priya Quinn "
    "Rafael Rosa Sami Sofia Tariq Tessa Uma Viktor Wen Xenia Yara Yusuf Zoe"
)
_LAST = _words(
    "Abbott Adler Baptiste Berg Castillo Chandra Dubois Duarte Eriksen Fischer Garcia Haddad "
    "Hoffmann Ito Jansen Kaur Kowalski Larsen Lopez Moreau Nakamura Novak Okafor Olsen Park "
    "Petrov Quinn Rossi Santos Schmidt Silva Tanaka Torres Ueda Varga Weber Wong Yilmaz Zhang"
)
_ORGS = {
    "Engineering": ("Platform", "Applications", "Security", "Data"),
    "Sales": ("Enterprise", "Commercial", "Partners"),
    "Operations": ("IT", "Facilities", "Support"),
    "Finance": ("Accounting", "Procurement"),
    "People": ("Recruiting", "HR-Operations"),
}
_TITLES = ("Associate", "Specialist", "Senior Specialist", "Lead", "Principal")
_CITIES = ("Berlin", "Lisbon", "Milan", "Nairobi", "Osaka", "Toronto", "Austin", "Sydney")
_GALAXY_ENTITLEMENTS = (
    "VPN Access:Access to company VPN",
    "GitHub Admin:Administrative access to GitHub repositories",
    "AWS Console:Access to AWS Management Console",
    "Jira Admin:Administrative access to Jira",
    "Confluence Edit:Edit permissions in Confluence",
    "Database Read:Read-only access to production databases",
    "Database Write:Write access to production databases",
    "Slack Admin:Administrative access to Slack workspace",
    "Office 365:Microsoft Office 365 license",
    "Salesforce:Access to Salesforce CRM",
)


def generate_company(users: int, seed: int = 0) -> Company:
    """A deterministic synthetic company of `users` people (same seed → same company).

    Each organisation has a head (reporting to the CEO, the first person); everyone else reports to
    someone earlier in the same organisation, so manager links always resolve and form a tree.
    Groups: one per organisation, one per department, plus `All-Staff`.
    """
    if users < 1:
        raise ConfigError(Problem(f"--users {users} is too small", "use 1 or more"))
    rng = random.Random(seed)
    ents = tuple(Entitlement(i + 1, *text.split(":", 1)) for i, text in enumerate(_GALAXY_ENTITLEMENTS))
    orgs = list(_ORGS)
    by_org: dict[str, list[str]] = {o: [] for o in orgs}
    by_dept: dict[str, list[str]] = {}
    used: set[str] = set()
    people: list[Person] = []
    start = datetime(2015, 1, 1)
    for i in range(users):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        uid = base = f"{first}.{last}".lower()
        n = 1
        while uid in used:
            n += 1
            uid = f"{base}{n}"
        used.add(uid)
        org = orgs[i % len(orgs)] if i else "Executive"
        dept = rng.choice(_ORGS[org]) if i else "Office-of-the-CEO"
        members = by_org.setdefault(org, [])
        manager = None if i == 0 else (rng.choice(members[-50:]) if members else people[0].uid)
        hired = start + timedelta(days=rng.randrange(0, 3650))
        ent_ids = tuple(sorted(rng.sample(range(1, 11), rng.randint(1, 5)) + [1]))
        people.append(
            Person(
                uid=uid,
                given_name=first,
                sn=last,
                cn=f"{first} {last}",
                display_name=f"{first} {last}",
                title="Chief Executive Officer" if i == 0 else f"{rng.choice(_TITLES)}, {dept}",
                organization=org,
                department=dept.upper(),
                manager=manager,
                employee_number=str(100000 + i),
                postal_address=f"{rng.randint(1, 300)} Main Street, {rng.choice(_CITIES)}",
                entitlements=tuple(dict.fromkeys(ent_ids)),
                assigned=(hired + timedelta(days=30, hours=9)).isoformat(),
                hire_date=hired.date().isoformat(),
                species="Human",
            )
        )
        members.append(uid)
        by_dept.setdefault(dept, []).append(uid)
    groups = [Group("All-Staff", "Everyone in the company", tuple(p.uid for p in people))]
    groups += [Group(f"Org-{o}", f"Members of {o}", tuple(m)) for o, m in by_org.items() if m]
    groups += [Group(f"Dept-{d}", f"Department {d}", tuple(m)) for d, m in sorted(by_dept.items())]
    member_of: dict[str, list[str]] = {}
    for g in groups:
        for uid in g.members:
            member_of.setdefault(uid, []).append(g.name)
    final = tuple(Person(**{**p.__dict__, "groups": tuple(member_of.get(p.uid, ()))}) for p in people)
    return Company(f"Synthetic company ({users} users, seed {seed})", final, tuple(groups), ents)
