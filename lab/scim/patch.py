"""PATCH operations (RFC 7644 §3.5.2) applied to a canonical User document.

The result is a complete desired User; the service turns the difference between it and the
stored user into connector operations (update, activate/deactivate, add/remove entitlement).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from lab.scim.errors import bad_request, invalid_syntax, mutability
from lab.scim.filters import Node, matches, parse_filter
from lab.scim.mapping import (
    ENTERPRISE,
    LAB,
    MULTI,
    READ_ONLY,
    canon_attr,
    check_scoped,
    is_ignored,
    sub_names,
)

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAX_OPERATIONS = 100
_PATH = re.compile(r"^(?P<attr>[A-Za-z][\w$-]*)(?:\[(?P<filter>.+)\])?(?:\.(?P<sub>[A-Za-z][\w$-]*))?$")


def apply_patch(user: Mapping[str, Any], body: Any) -> dict[str, Any]:
    """Apply a PatchOp request body to `user` and return the new document."""
    if not isinstance(body, Mapping):
        raise invalid_syntax("the request body must be a JSON object")
    if PATCH_OP not in (body.get("schemas") or []):
        raise invalid_syntax(f"`schemas` must contain {PATCH_OP}")
    ops = body.get("Operations", body.get("operations"))
    if not isinstance(ops, list) or not ops:
        raise invalid_syntax("`Operations` must be a non-empty list")
    if len(ops) > MAX_OPERATIONS:
        raise invalid_syntax(f"at most {MAX_OPERATIONS} operations per request")
    doc = copy.deepcopy(dict(user))
    for op in ops:
        if not isinstance(op, Mapping):
            raise invalid_syntax("each operation must be an object")
        kind = str(op.get("op", "")).lower()
        if kind not in ("add", "replace", "remove"):
            raise invalid_syntax(f"unknown PATCH op {op.get('op')!r}; use add, replace or remove")
        path = op.get("path")
        if path is not None and not isinstance(path, str):
            raise invalid_syntax("`path` must be a string")
        if not path:
            if kind == "remove":
                raise bad_request("remove needs a path", "noTarget")
            _merge_root(doc, kind, op.get("value"))
        else:
            _apply_path(doc, kind, path.strip(), op.get("value"))
    return doc


def _merge_root(doc: dict[str, Any], kind: str, value: Any) -> None:
    """An operation without `path` (RFC 7644 §3.5.2.1/.3): the same rules as with a path."""
    if not isinstance(value, Mapping):
        raise invalid_syntax("an operation without path needs an object value")
    for key, sub in value.items():
        if key in (ENTERPRISE, LAB):
            if not isinstance(sub, Mapping):
                raise bad_request(f"{key} must be an object")
            for ext_key, ext_value in sub.items():
                if ext_key != "schemas":
                    _set_scoped(doc, key, ext_key, kind, ext_value)
        elif key.lower() in READ_ONLY or key == "schemas":
            raise mutability(f"{key} is read-only")
        elif ":" in key:
            scope, _, name = key.rpartition(":")
            if scope not in (ENTERPRISE, LAB):
                raise invalid_syntax(f"unknown attribute {key!r}")
            _set_scoped(doc, scope, name, kind, sub)
        else:
            _set_scoped(doc, "", key, kind, sub)


def _set_scoped(doc: dict[str, Any], scope: str, key: str, kind: str, value: Any) -> None:
    """Set one attribute named in a request: read-only ones are 400 `mutability`, ignored ones skipped."""
    if scope == LAB:
        raise mutability(f"{scope}:{key} is read-only (set by the database)")
    if is_ignored(scope, key):
        return  # a standard attribute the table has no column for: accepted, not stored
    _set(doc, scope, canon_attr(scope, key), kind, value)


def _apply_path(doc: dict[str, Any], kind: str, path: str, value: Any) -> None:
    scope = ""
    for urn in (ENTERPRISE, LAB):
        if path == urn:
            if urn == LAB:
                raise mutability(f"{urn} is read-only (set by the database)")
            if kind == "remove":
                doc.pop(urn, None)
            else:
                _merge_root(doc, kind, {urn: value})
            return
        if path.startswith(urn + ":"):
            scope, path = urn, path[len(urn) + 1 :]
    m = _PATH.match(path)
    if not m:
        raise (
            invalid_syntax(f"invalid path {path!r}")
            if "[" not in path
            else bad_request(f"invalid path {path!r}", "invalidPath")
        )
    raw_attr, filt, sub = m.group("attr"), m.group("filter"), m.group("sub")
    if raw_attr.lower() in READ_ONLY or raw_attr == "schemas":
        raise mutability(f"{raw_attr} is read-only")
    if scope == LAB:
        raise mutability(f"{raw_attr} is read-only (set by the database)")
    if is_ignored(scope, raw_attr):
        return  # standard attributes the table has no column for: accepted, not stored
    attr = canon_attr(scope, raw_attr)
    if filt is not None or sub is not None:
        _apply_sub(doc, scope, attr, kind, parse_filter(filt) if filt else None, sub, value)
        return
    if kind == "remove":
        if attr == "userName":
            raise bad_request("userName is required and cannot be removed")
        if attr in MULTI and isinstance(value, list) and value:
            _remove_values(doc, scope, attr, value)
        else:
            _container(doc, scope).pop(attr, None)
        return
    _set(doc, scope, attr, kind, value)


def _set(doc: dict[str, Any], scope: str, attr: str, kind: str, value: Any) -> None:
    target = _container(doc, scope)
    checked = check_scoped(scope, attr, value)
    if checked is None:
        target.pop(attr, None)
    elif attr in MULTI and kind == "add" and attr == "entitlements":
        existing = target.get(attr) or []
        have = {str(e.get("value")) for e in existing}
        target[attr] = existing + [e for e in checked if str(e.get("value")) not in have]
    elif attr in MULTI:
        target[attr] = checked  # one stored value: add replaces it
    elif isinstance(checked, dict) and isinstance(target.get(attr), dict):
        target[attr] = {**target[attr], **checked}
    else:
        target[attr] = checked


def _apply_sub(
    doc: dict[str, Any], scope: str, attr: str, kind: str, filt: Node | None, sub: str | None, value: Any
) -> None:
    target = _container(doc, scope)
    sub_name = None
    if sub is not None:
        sub_name = next((n for n in sub_names(attr) if n.lower() == sub.lower()), None)
        if sub_name is None:
            raise bad_request(f"unknown attribute {attr}.{sub}", "noTarget")
    current = target.get(attr)
    if attr not in MULTI:
        if filt is not None:
            raise bad_request(f"{attr} is not multi-valued: a filter cannot select it", "invalidPath")
        obj = dict(current or {})
        if kind == "remove":
            obj.pop(sub_name or "", None)
        else:
            obj[sub_name or ""] = check_scoped(scope, attr, {sub_name: value})[sub_name]
        target[attr] = obj or None
        if not obj:
            target.pop(attr, None)
        return
    items = list(current or [])
    selected = [i for i, item in enumerate(items) if filt is None or matches(filt, item)]
    if not selected and kind != "add":
        raise bad_request(f"no value of {attr} matches the path", "noTarget")
    if kind == "remove" and sub_name is None:
        target[attr] = [item for i, item in enumerate(items) if i not in selected]
    elif sub_name is not None:
        if not selected:  # add through a filter that matches nothing: create the value
            items.append({})
            selected = [len(items) - 1]
        for i in selected:
            item = dict(items[i])
            if kind == "remove":
                item.pop(sub_name, None)
            else:
                item[sub_name] = check_scoped(scope, attr, [{sub_name: value}])[0][sub_name]
            items[i] = item
        target[attr] = items
    else:
        replacement = check_scoped(scope, attr, value)
        target[attr] = [item for i, item in enumerate(items) if i not in selected] + replacement
    if not target.get(attr):
        target.pop(attr, None)


def _remove_values(doc: dict[str, Any], scope: str, attr: str, values: list[Any]) -> None:
    target = _container(doc, scope)
    drop = {str(v.get("value")) for v in check_scoped(scope, attr, values)}
    kept = [v for v in target.get(attr) or [] if str(v.get("value")) not in drop]
    if kept:
        target[attr] = kept
    else:
        target.pop(attr, None)


def _container(doc: dict[str, Any], scope: str) -> dict[str, Any]:
    if not scope:
        return doc
    ext = doc.get(scope)
    if not isinstance(ext, dict):
        ext = doc[scope] = {}
    return ext
