#!/usr/bin/python3
"""Ansible module: idempotent changes to a local slapd over ldapi:/// as root (SASL EXTERNAL).

Uses only the OpenLDAP client tools (ldapsearch, ldapmodify, ldapadd, ldapwhoami, slappasswd), so
the target needs no python-ldap. Three jobs:

- ``dn``/``attributes``: make an entry (e.g. in cn=config) carry the given values; create it with
  ``object_classes`` when missing. ``find_base``/``find_filter`` locate an entry whose RDN carries
  a slapd-assigned ``{n}`` index (overlays, module lists). ``ordered`` names X-ORDERED attributes
  (olcAccess, olcModuleLoad) whose ``{n}`` prefixes are ignored when comparing.
- ``root_password``: make the ``olcRootPW`` of database entry ``dn`` match (checked by binding
  as its ``olcRootDN``; re-hashed with slappasswd only when the bind fails).
- ``ldif``: add every entry of an LDIF file that does not exist yet (RFC 2849 content records).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: slapd_config
short_description: Idempotent slapd entries, root passwords and LDIF loads over ldapi
options:
  dn: {type: str, description: Entry to manage (created here when missing).}
  find_base: {type: str, description: Base for a one-level search locating the entry.}
  find_filter: {type: str, description: Filter of that search.}
  object_classes: {type: list, elements: str, default: [], description: Object classes for a new entry.}
  attributes: {type: dict, default: {}, description: Attribute -> value or list of values.}
  state: {type: str, choices: [exact, present], default: exact, description: Replace or only add values.}
  ordered: {type: list, elements: str, default: [], description: X-ORDERED attributes.}
  root_password: {type: str, no_log: true, description: Password olcRootDN of dn must bind with.}
  ldif: {type: path, description: LDIF file whose missing entries are added.}
  uri: {type: str, default: "ldapi:///", description: Local slapd URI.}
"""

_INDEX = re.compile(r"^\{-?\d+\}")


def _run(module: AnsibleModule, args: list[str], stdin: str | None = None, check: bool = True) -> tuple[int, str, str]:
    proc = subprocess.run(args, input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        module.fail_json(msg=f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}", cmd=args[:4])
    return proc.returncode, proc.stdout, proc.stderr


def parse_ldif(text: str) -> list[tuple[str, dict[str, list[str]]]]:
    """Entries of LDIF content (unfolded, `::` base64 decoded; binary values kept as base64)."""
    entries: list[tuple[str, dict[str, list[str]]]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\n ", "")):
        dn, attrs = "", {}
        for line in block.split("\n"):
            if not line or line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            if value.startswith(":"):
                raw = base64.b64decode(value[1:].strip())
                try:
                    value = raw.decode()
                except UnicodeDecodeError:
                    value = "base64:" + value[1:].strip()
            else:
                value = value.strip()
            if key.lower() == "dn":
                dn = value
            else:
                attrs.setdefault(key, []).append(value)
        if dn:
            entries.append((dn, attrs))
    return entries


def _search(module: AnsibleModule, uri: str, base: str, scope: str, filt: str = "(objectClass=*)") -> list:
    rc, out, err = _run(
        module,
        ["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", uri, "-o", "ldif-wrap=no", "-b", base, "-s", scope, filt],
        check=False,
    )
    if rc == 32:  # no such object
        return []
    if rc != 0:
        module.fail_json(msg=f"ldapsearch {base} failed ({rc}): {err.strip()}")
    return parse_ldif(out)


def _strip(attr: str, values: list[str], ordered: set[str]) -> list[str]:
    return [_INDEX.sub("", v) for v in values] if attr.lower() in ordered else list(values)


def _ldif_value(attr: str, value: str) -> str:
    if value and value.isascii() and "\n" not in value and not value.startswith((" ", ":", "<")):
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode()).decode()}"


def manage_entry(module: AnsibleModule) -> dict:
    p = module.params
    uri, ordered = p["uri"], {a.lower() for a in p["ordered"]}
    wanted = {k: ([str(v) for v in val] if isinstance(val, list) else [str(val)]) for k, val in p["attributes"].items()}
    found = []
    if p["find_base"] and p["find_filter"]:
        found = _search(module, uri, p["find_base"], "one", p["find_filter"])
    elif p["dn"]:
        found = _search(module, uri, p["dn"], "base")
    if not found:
        if not p["dn"] or not p["object_classes"]:
            module.fail_json(
                msg=f"entry not found ({p['find_filter'] or p['dn']}) and no dn/object_classes to create it"
            )
        lines = [f"dn: {p['dn']}"] + [f"objectClass: {oc}" for oc in p["object_classes"]]
        lines += [_ldif_value(a, v) for a, vals in wanted.items() for v in vals]
        if not module.check_mode:
            _run(module, ["ldapadd", "-Q", "-Y", "EXTERNAL", "-H", uri], "\n".join(lines) + "\n")
        created = _search(module, uri, p["find_base"], "one", p["find_filter"]) if p["find_base"] else []
        dn = created[0][0] if created else p["dn"]
        return {"changed": True, "dn": dn, "diff": {"before": "", "after": "\n".join(lines) + "\n"}}
    dn, current = found[0]
    have = {k.lower(): v for k, v in current.items()}
    changes, before, after = [], [], []
    for attr, values in wanted.items():
        cur = _strip(attr, have.get(attr.lower(), []), ordered)
        want = _strip(attr, values, ordered)
        if p["state"] == "exact":
            same = cur == want if attr.lower() in ordered else sorted(cur) == sorted(want)
            if not same:
                changes.append(f"replace: {attr}\n" + "".join(_ldif_value(attr, v) + "\n" for v in want) + "-")
                before += [f"{attr}: {v}" for v in cur]
                after += [f"{attr}: {v}" for v in want]
        else:
            missing = [v for v in want if v not in cur]
            if missing:
                changes.append(f"add: {attr}\n" + "".join(_ldif_value(attr, v) + "\n" for v in missing) + "-")
                after += [f"{attr}: {v}" for v in missing]
    if changes and not module.check_mode:
        _run(
            module,
            ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", uri],
            f"dn: {dn}\nchangetype: modify\n" + "\n".join(changes) + "\n",
        )
    diff = {
        "before": "\n".join(before) + "\n",
        "after": "\n".join(after) + "\n",
        "before_header": dn,
        "after_header": dn,
    }
    return {"changed": bool(changes), "dn": dn, "diff": diff}


def _secret_file(secret: str) -> str:
    fd, path = tempfile.mkstemp(prefix=".slapd-", dir="/run" if os.access("/run", os.W_OK) else None)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return path


def manage_root_password(module: AnsibleModule) -> dict:
    p = module.params
    found = _search(module, p["uri"], p["dn"], "base")
    if not found:
        module.fail_json(msg=f"database entry {p['dn']} does not exist")
    attrs = {k.lower(): v for k, v in found[0][1].items()}
    root_dn = (attrs.get("olcrootdn") or [""])[0]
    if not root_dn:
        module.fail_json(msg=f"{p['dn']} has no olcRootDN")
    path = _secret_file(p["root_password"])
    try:
        rc, _, _ = _run(module, ["ldapwhoami", "-x", "-H", p["uri"], "-D", root_dn, "-y", path], check=False)
        if rc == 0 and attrs.get("olcrootpw"):
            return {"changed": False, "dn": p["dn"], "root_dn": root_dn}
        if module.check_mode:
            return {"changed": True, "dn": p["dn"], "root_dn": root_dn}
        _, hashed, _ = _run(module, ["slappasswd", "-h", "{SSHA}", "-T", path])
    finally:
        os.unlink(path)
    ldif = f"dn: {p['dn']}\nchangetype: modify\nreplace: olcRootPW\nolcRootPW: {hashed.strip()}\n-\n"
    _run(module, ["ldapmodify", "-Q", "-Y", "EXTERNAL", "-H", p["uri"]], ldif)
    return {"changed": True, "dn": p["dn"], "root_dn": root_dn}


def load_ldif(module: AnsibleModule) -> dict:
    """`ldapadd -c`: entries that exist (result 68) are left alone, any other error fails."""
    p = module.params
    with open(p["ldif"], encoding="utf-8") as fh:
        total = len(parse_ldif(fh.read()))
    if module.check_mode:
        return {"changed": False, "entries": total, "msg": "check mode: LDIF not loaded"}
    rc, out, err = _run(module, ["ldapadd", "-c", "-Q", "-Y", "EXTERNAL", "-H", p["uri"], "-f", p["ldif"]], check=False)
    failures = [line for line in err.splitlines() if line.startswith("ldap_add:")]
    exists = [line for line in failures if "(68)" in line]
    other = [line for line in failures if "(68)" not in line]
    if other or (rc not in (0, 68) and not failures):
        module.fail_json(msg=f"loading {p['ldif']} failed: {'; '.join(other[:3]) or err.strip()[-500:]}")
    added = total - len(exists)
    return {"changed": added > 0, "entries": total, "added": added}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dn": {"type": "str"},
            "find_base": {"type": "str"},
            "find_filter": {"type": "str"},
            "object_classes": {"type": "list", "elements": "str", "default": []},
            "attributes": {"type": "dict", "default": {}},
            "state": {"type": "str", "choices": ["exact", "present"], "default": "exact"},
            "ordered": {"type": "list", "elements": "str", "default": []},
            "root_password": {"type": "str", "no_log": True},
            "ldif": {"type": "path"},
            "uri": {"type": "str", "default": "ldapi:///"},
        },
        mutually_exclusive=[("ldif", "dn"), ("ldif", "root_password")],
        required_one_of=[("dn", "ldif", "find_filter")],
        supports_check_mode=True,
    )
    if module.params["ldif"]:
        module.exit_json(**load_ldif(module))
    if module.params["root_password"] is not None:
        module.exit_json(**manage_root_password(module))
    module.exit_json(**manage_entry(module))


if __name__ == "__main__":
    main()
