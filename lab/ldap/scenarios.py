"""Directory scenarios: the blog's demo steps after the base load, idempotent and in order.

Each scenario can tell whether it is applied (by looking at the directory) and applies only what is
missing, so `apply` twice changes nothing the second time. Prerequisites are applied first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import ldap3

from lab.company import Company, Person
from lab.errors import Problem, UsageError
from lab.ldap.client import Directory
from lab.ldap.hashing import ssha_for
from lab.ldap.ldif import dn_value, group_dn, people_dn

SPECIES = ("Wookiee", "Human", "Droid", "Gungan", "Ewok", "Yoda", "Clone")
FACTIONS = ("Jedi", "Resistance", "Empire", "Droid")
SCHEMA_DN = "cn=lucasfilmperson,cn=schema,cn=config"
ATTRIBUTE_TYPE = (
    "( 1.3.6.1.4.1.55555.1.2 NAME 'species' DESC 'Species of a character' "
    "EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )"
)
OBJECT_CLASS = (
    "( 1.3.6.1.4.1.55555.2.2 NAME 'LucasfilmPerson' DESC 'A character of the saga' SUP top AUXILIARY MAY species )"
)
EXTRA_PEOPLE = (
    Person(
        uid="jarjar.binks",
        given_name="Jar Jar",
        sn="Binks",
        cn="Jar Jar Binks",
        display_name="Jar Jar",
        title="Junior Representative",
        organization="Resistance",
        department="GUNGAN-GRAND-ARMY",
        employee_number="10030",
        postal_address="Otoh Gunga, Naboo",
        species="Gungan",
        groups=("Gungan-Grand-Army", "Light-Side", "Naboo-Delegation"),
    ),
    Person(
        uid="boba.fett",
        given_name="Boba",
        sn="Fett",
        cn="Boba Fett",
        display_name="Boba Fett",
        title="Bounty Hunter",
        organization="Empire",
        department="BOUNTY-HUNTERS-GUILD",
        employee_number="8084",
        postal_address="Slave I, Outer Rim",
        species="Clone",
        groups=("Bounty-Hunters", "Dark-Side"),
    ),
)
EXTRA_GROUPS = {
    "Gungan-Grand-Army": "Soldiers and leaders of the Gungan forces",
    "Bounty-Hunters": "Notorious bounty hunters",
}
POLICY = {
    "pwdAttribute": "userPassword",
    "pwdMinAge": "0",
    "pwdMaxAge": "0",
    "pwdInHistory": "5",
    "pwdCheckQuality": "1",
    "pwdMinLength": "8",
    "pwdExpireWarning": "432000",
    "pwdGraceAuthNLimit": "5",
    "pwdLockout": "TRUE",
    "pwdLockoutDuration": "1800",
    "pwdMaxFailure": "3",
    "pwdFailureCountInterval": "0",
    "pwdMustChange": "FALSE",
    "pwdAllowUserChange": "TRUE",
    "pwdSafeModify": "FALSE",
}


@dataclass
class Context:
    """What a scenario works with."""

    directory: Directory
    company: Company
    mail_domain: str
    demo_password: str
    salt_key: str

    @property
    def base(self) -> str:
        return self.directory.base_dn

    def login(self, p: Person) -> str:
        return p.login(self.mail_domain)

    def people(self) -> list[Person]:
        """The company plus the users `add-users` brought in, when present."""
        extra = [p for p in EXTRA_PEOPLE if self.directory.find_user(self.login(p))]
        return [*self.company.people, *extra]


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    requires: tuple[str, ...]
    is_applied: Callable[[Context], bool]
    apply: Callable[[Context], list[str]]


@dataclass
class Outcome:
    name: str
    changed: bool
    actions: list[str] = field(default_factory=list)
    prerequisite: bool = False


# --- schema -----------------------------------------------------------------------------------


def _schema_loaded(ctx: Context) -> bool:
    conf = ctx.directory.config
    conf.search("cn=schema,cn=config", "(cn=*lucasfilmperson)", ldap3.LEVEL, attributes=["1.1"])
    return bool(conf.entries)


def _schema_applied(ctx: Context) -> bool:
    return _schema_loaded(ctx) and ctx.directory.overlay_dn("constraint") is not None


def _schema_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    if not _schema_loaded(ctx):
        d.config.add(
            SCHEMA_DN,
            ["olcSchemaConfig"],
            {"olcAttributeTypes": ATTRIBUTE_TYPE, "olcObjectClasses": OBJECT_CLASS},
        )
        d.check(d.config, "adding the LucasfilmPerson schema")
        done.append("added schema: attribute species, auxiliary class LucasfilmPerson")
    if d.load_module("constraint"):
        done.append(f"loaded module constraint from {d.module_path}")
    if d.overlay_dn("constraint") is None:
        rule = f'species regex "^({"|".join(SPECIES)})$"'
        d.config.add(
            f"olcOverlay=constraint,{d.db_dn}",
            ["olcOverlayConfig", "olcConstraintConfig"],
            {"olcOverlay": "constraint", "olcConstraintAttribute": rule},
        )
        d.check(d.config, "adding the constraint overlay")
        done.append(f"constraint overlay on {d.db_dn}: species in {', '.join(SPECIES)}")
    return done


# --- species ----------------------------------------------------------------------------------


def _species_pending(ctx: Context) -> list[tuple[str, Person]]:
    out = []
    for p in ctx.company.people:
        if not p.species:
            continue
        entry = ctx.directory.find_user(ctx.login(p), ["objectClass", "species"])
        if entry is None:
            continue
        attrs = entry.entry_attributes_as_dict
        classes = {str(c).lower() for c in attrs.get("objectClass", [])}
        if "lucasfilmperson" not in classes or list(attrs.get("species", [])) != [p.species]:
            out.append((str(entry.entry_dn), p))
    return out


def _species_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    for dn, p in _species_pending(ctx):
        d.data.search(dn, "(objectClass=LucasfilmPerson)", ldap3.BASE, attributes=["1.1"])
        changes: dict[str, list[tuple[str, list[str]]]] = {"species": [(ldap3.MODIFY_REPLACE, [p.species])]}
        if not d.data.entries:
            changes["objectClass"] = [(ldap3.MODIFY_ADD, ["LucasfilmPerson"])]
        d.data.modify(dn, changes)
        d.check(d.data, f"tagging {p.uid} as {p.species}")
        done.append(f"{p.uid}: species {p.species}")
    return done


# --- add-users --------------------------------------------------------------------------------


def _user_attrs(ctx: Context, p: Person) -> dict[str, str]:
    login = ctx.login(p)
    return {
        "uid": login,
        "mail": login,
        "cn": p.cn,
        "sn": p.sn,
        "givenName": p.given_name,
        "displayName": p.display_name,
        "title": p.title,
        "o": p.organization,
        "departmentNumber": p.department,
        "employeeNumber": p.employee_number,
        "postalAddress": p.postal_address,
        "species": p.species,
        "userPassword": ssha_for(ctx.demo_password, ctx.salt_key, p.uid),
    }


def _add_users_pending(ctx: Context) -> list[str]:
    d, missing = ctx.directory, []
    for p in EXTRA_PEOPLE:
        entry = d.find_user(ctx.login(p), ["memberOf"])
        if entry is None:
            missing.append(f"user {p.uid}")
            continue
        member_of = {str(v).split(",", 1)[0].lower() for v in entry.entry_attributes_as_dict.get("memberOf", [])}
        missing += [f"{p.uid} in {g}" for g in p.groups if f"cn={g}".lower() not in member_of]
    return missing


def _add_users_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    classes = ["top", "person", "organizationalPerson", "inetOrgPerson", "LucasfilmPerson"]
    for p in EXTRA_PEOPLE:
        entry = d.find_user(ctx.login(p))
        if entry is None:
            dn = f"uid={dn_value(ctx.login(p))},{people_dn(ctx.base)}"
            d.data.add(dn, classes, _user_attrs(ctx, p))
            d.check(d.data, f"adding {p.uid}")
            done.append(f"added {dn}")
        else:
            dn = str(entry.entry_dn)
        for name in p.groups:
            gdn = group_dn(name, ctx.base)
            if not d.exists(gdn):
                d.data.add(
                    gdn,
                    ["top", "groupOfUniqueNames"],
                    {"cn": name, "description": EXTRA_GROUPS.get(name, name), "uniqueMember": dn},
                )
                d.check(d.data, f"adding group {name}")
                done.append(f"added group {name} with {p.uid}")
                continue
            d.data.search(gdn, f"(uniqueMember={_filter_value(dn)})", ldap3.BASE, attributes=["1.1"])
            if not d.data.entries:
                d.data.modify(gdn, {"uniqueMember": [(ldap3.MODIFY_ADD, [dn])]})
                d.check(d.data, f"adding {p.uid} to {name}")
                done.append(f"{p.uid} joined {name}")
    return done


# --- faction-ous and move-to-ous --------------------------------------------------------------


def _factions(ctx: Context) -> list[str]:
    return list(dict.fromkeys([*FACTIONS, *ctx.company.organizations]))


def _ou_dn(ctx: Context, name: str) -> str:
    return f"ou={dn_value(name)},{people_dn(ctx.base)}"


def _faction_ous_applied(ctx: Context) -> bool:
    return all(ctx.directory.exists(_ou_dn(ctx, f)) for f in _factions(ctx))


def _faction_ous_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    for name in _factions(ctx):
        dn = _ou_dn(ctx, name)
        if not d.exists(dn):
            d.data.add(dn, ["top", "organizationalUnit"], {"ou": name})
            d.check(d.data, f"adding {dn}")
            done.append(f"added {dn}")
    return done


def _moves(ctx: Context) -> list[tuple[str, str, str]]:
    """(current DN, RDN, new parent) for every user not yet in their organisation's OU."""
    out = []
    for p in ctx.people():
        if not p.organization:
            continue
        entry = ctx.directory.find_user(ctx.login(p))
        if entry is None:
            continue
        dn, parent = str(entry.entry_dn), _ou_dn(ctx, p.organization)
        if dn.split(",", 1)[1].lower() != parent.lower():
            out.append((dn, dn.split(",", 1)[0], parent))
    return out


def _move_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    for dn, rdn, parent in _moves(ctx):
        d.data.modify_dn(dn, rdn, delete_old_dn=True, new_superior=parent)
        d.check(d.data, f"moving {dn}")
        done.append(f"moved {rdn} to {parent.split(',', 1)[0]}")
    fixed = _repair_references(ctx, settle=5.0 if done else 0.0)
    if fixed:
        done.append(f"updated {fixed} manager/member reference(s) refint could not reach")
    return done


def _dangling(ctx: Context) -> list[tuple[str, str, str]]:
    """(entry DN, attribute, value) for manager/uniqueMember values naming no entry."""
    d, out = ctx.directory, []
    attrs = ["manager", "uniqueMember"]
    for entry in d.find("(|(manager=*)(uniqueMember=*))", attrs):
        values = entry.entry_attributes_as_dict
        for attr in attrs:
            out += [(str(entry.entry_dn), attr, str(v)) for v in values.get(attr, [])]
    known: dict[str, bool] = {}
    return [r for r in out if not known.setdefault(r[2], d.exists(r[2]))]


def _repair_references(ctx: Context, settle: float) -> int:
    """Point dangling `manager`/`uniqueMember` values at the user's current DN.

    refint updates references asynchronously, so when two related users move back to back
    (Leia, then Han whose manager she is) its update can miss the already-moved entry. Wait for
    refint to settle, then fix by uid whatever still names an old DN.
    """
    deadline = time.monotonic() + settle
    while (stale := _dangling(ctx)) and time.monotonic() < deadline:
        time.sleep(0.5)
    d, fixed = ctx.directory, 0
    for dn, attr, old in stale:
        rdn = old.split(",", 1)[0]
        if not rdn.lower().startswith("uid="):
            continue
        current = d.find(f"({_filter_value(rdn)})")
        if len(current) != 1:
            continue
        new = str(current[0].entry_dn)
        d.data.modify(dn, {attr: [(ldap3.MODIFY_DELETE, [old]), (ldap3.MODIFY_ADD, [new])]})
        d.check(d.data, f"updating {attr} of {dn}")
        fixed += 1
    return fixed


# --- password-policy --------------------------------------------------------------------------


def _policy_dn(ctx: Context) -> str:
    return f"cn=default,ou=pwpolicy,{ctx.base}"


def _policy_changes(ctx: Context) -> dict[str, str]:
    """The POLICY values the default policy entry lacks (the base data holds a lenient one)."""
    d = ctx.directory
    if not d.exists(_policy_dn(ctx)):
        return dict(POLICY)
    d.data.search(_policy_dn(ctx), "(objectClass=*)", ldap3.BASE, attributes=list(POLICY))
    have = d.data.entries[0].entry_attributes_as_dict
    return {k: v for k, v in POLICY.items() if [str(x).upper() for x in have.get(k, [])] != [v.upper()]}


def _policy_applied(ctx: Context) -> bool:
    d = ctx.directory
    return d.overlay_dn("ppolicy") is not None and not _policy_changes(ctx)


def _policy_apply(ctx: Context) -> list[str]:
    d, done = ctx.directory, []
    if d.load_module("ppolicy"):
        done.append(f"loaded module ppolicy from {d.module_path}")
    ou = f"ou=pwpolicy,{ctx.base}"
    if not d.exists(ou):
        d.data.add(ou, ["top", "organizationalUnit"], {"ou": "pwpolicy"})
        d.check(d.data, f"adding {ou}")
        done.append(f"added {ou}")
    if not d.exists(_policy_dn(ctx)):
        d.data.add(_policy_dn(ctx), ["top", "organizationalRole", "pwdPolicy"], {"cn": "default", **POLICY})
        d.check(d.data, "adding the default password policy")
        done.append(f"added {_policy_dn(ctx)} (min length 8, lockout after 3 failures)")
    elif changes := _policy_changes(ctx):
        d.data.modify(_policy_dn(ctx), {k: [(ldap3.MODIFY_REPLACE, [v])] for k, v in changes.items()})
        d.check(d.data, "tightening the default password policy")
        done.append(f"set {_policy_dn(ctx)} to min length 8, lockout after 3 failures")
    if d.overlay_dn("ppolicy") is None:
        d.config.add(
            f"olcOverlay=ppolicy,{d.db_dn}",
            ["olcOverlayConfig", "olcPPolicyConfig"],
            {
                "olcOverlay": "ppolicy",
                "olcPPolicyDefault": _policy_dn(ctx),
                "olcPPolicyHashCleartext": "TRUE",
            },
        )
        d.check(d.config, "adding the ppolicy overlay")
        done.append(f"ppolicy overlay on {d.db_dn}")
    return done


def _filter_value(value: str) -> str:
    return value.replace("\\", "\\5c").replace("*", "\\2a").replace("(", "\\28").replace(")", "\\29")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "schema",
        "attribute species + auxiliary class LucasfilmPerson, constraint overlay",
        (),
        _schema_applied,
        _schema_apply,
    ),
    Scenario(
        "species",
        "tag every sample user with their species",
        ("schema",),
        lambda ctx: not _species_pending(ctx),
        _species_apply,
    ),
    Scenario(
        "add-users",
        "add Jar Jar Binks and Boba Fett with Gungan-Grand-Army, Bounty-Hunters",
        ("schema",),
        lambda ctx: not _add_users_pending(ctx),
        _add_users_apply,
    ),
    Scenario(
        "faction-ous",
        "create ou=Jedi|Resistance|Empire|Droid under ou=People",
        (),
        _faction_ous_applied,
        _faction_ous_apply,
    ),
    Scenario(
        "move-to-ous",
        "move every user into their organisation's OU (refint follows)",
        ("faction-ous",),
        lambda ctx: not _moves(ctx) and not _dangling(ctx),
        _move_apply,
    ),
    Scenario(
        "password-policy",
        "ppolicy overlay with a default policy",
        (),
        _policy_applied,
        _policy_apply,
    ),
)
NAMES = tuple(s.name for s in SCENARIOS)


def get(name: str) -> Scenario:
    for s in SCENARIOS:
        if s.name == name:
            return s
    raise UsageError(
        Problem(
            f"unknown scenario {name!r}",
            f"choose from {', '.join(NAMES)} (`lab ldap scenario list`)",
        )
    )


def plan(names: list[str]) -> list[tuple[Scenario, bool]]:
    """The scenarios to consider, prerequisites first, in the blog's order: (scenario, asked)."""
    asked = {get(n).name for n in names}  # validates every name before anything runs
    wanted = set(asked)
    for s in reversed(SCENARIOS):
        if s.name in wanted:
            wanted.update(s.requires)
    return [(s, s.name in asked) for s in SCENARIOS if s.name in wanted]


def status(ctx: Context) -> dict[str, bool]:
    return {s.name: s.is_applied(ctx) for s in SCENARIOS}


def apply(ctx: Context, names: list[str]) -> list[Outcome]:
    """Apply `names` (and their missing prerequisites); idempotent."""
    out = []
    for scenario, asked in plan(names):
        if scenario.is_applied(ctx):
            if asked:
                out.append(Outcome(scenario.name, False, ["already applied"]))
            continue
        actions = scenario.apply(ctx)
        out.append(Outcome(scenario.name, bool(actions), actions, prerequisite=not asked))
    return out
