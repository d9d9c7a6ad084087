"""`attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) applied to a resource."""

from __future__ import annotations

from typing import Any

ALWAYS = frozenset({"schemas", "id", "meta"})


def parse_attribute_list(value: str | None) -> list[str]:
    return [a.strip() for a in (value or "").split(",") if a.strip()]


#: Sub-attributes published with `returned: request` (RFC 7643 §7): only sent when asked for.
ON_REQUEST = {"entitlements": "display"}


def project(resource: dict[str, Any], attributes: list[str], excluded: list[str]) -> dict[str, Any]:
    """Keep only `attributes` (plus id, schemas, meta), or drop `excluded` ones."""
    asked = {a.lower() for a in attributes}
    for attr, sub in ON_REQUEST.items():
        if f"{attr}.{sub}".lower() not in asked and isinstance(resource.get(attr), list):
            resource = {**resource, attr: [_without(i, sub) for i in resource[attr]]}
    if attributes:
        out = {k: v for k, v in resource.items() if k in ALWAYS}
        for path in attributes:
            _copy(resource, out, path)
        return out
    if excluded:
        out = dict(resource)
        for path in excluded:
            _drop(out, path)
        return out
    return resource


def _split(path: str, resource: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """-> (extension key or None, attribute, sub-attribute)."""
    for key in resource:
        if key.startswith("urn:") and path.lower().startswith(key.lower() + ":"):
            rest = path[len(key) + 1 :]
            attr, _, sub = rest.partition(".")
            return key, attr, sub or None
    if path.lower().startswith("urn:"):
        urn, _, rest = path.rpartition(":")
        if any(k.lower() == path.lower() for k in resource):
            return None, next(k for k in resource if k.lower() == path.lower()), None
        return urn, rest, None
    attr, _, sub = path.partition(".")
    return None, attr, sub or None


def _find(scope: dict[str, Any], name: str) -> str | None:
    return next((k for k in scope if k.lower() == name.lower()), None)


def _copy(src: dict[str, Any], dst: dict[str, Any], path: str) -> None:
    ext, attr, sub = _split(path, src)
    scope = src.get(ext) if ext else src
    if not isinstance(scope, dict):
        return
    key = _find(scope, attr)
    if key is None or key in ALWAYS:
        return
    target = dst.setdefault(ext, {}) if ext else dst
    value = scope[key]
    if sub is None:
        target[key] = value
        return
    if isinstance(value, list):
        items = [{k: v for k, v in item.items() if k.lower() == sub.lower()} for item in value]
        target[key] = [i for i in items if i]
    elif isinstance(value, dict):
        picked = {k: v for k, v in value.items() if k.lower() == sub.lower()}
        if picked:
            target.setdefault(key, {}).update(picked)


def _drop(resource: dict[str, Any], path: str) -> None:
    ext, attr, sub = _split(path, resource)
    scope = resource.get(ext) if ext else resource
    if not isinstance(scope, dict):
        return
    key = _find(scope, attr)
    if key is None or key in ALWAYS:
        return
    if ext:
        scope = resource[ext] = dict(scope)
    if sub is None:
        scope.pop(key)
        return
    value = scope[key]
    if isinstance(value, list):
        scope[key] = [{k: v for k, v in i.items() if k.lower() != sub.lower()} for i in value]
    elif isinstance(value, dict):
        scope[key] = {k: v for k, v in value.items() if k.lower() != sub.lower()}


def _without(item: Any, sub: str) -> Any:
    return {k: v for k, v in item.items() if k != sub} if isinstance(item, dict) else item
