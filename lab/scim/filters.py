"""SCIM filter expressions (RFC 7644 §3.4.2.2): parsed into a tree and evaluated in Python.

The server evaluates the tree against SCIM resources built from "get all users" (every user,
active or not); the few filters a database can answer are translated to parameterised SQL
instead (lab.scim.sqlfilter), and their string conditions re-checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.scim.errors import ScimError, invalid_filter

COMPARE_OPS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")
MAX_FILTER_LENGTH = 2048
MAX_DEPTH = 32

#: Attributes compared case-sensitively (RFC 7643 §3.1: `id` and `externalId` are caseExact).
CASE_EXACT = frozenset({"id", "externalid"})

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<lparen>\() | (?P<rparen>\)) | (?P<lbrack>\[) | (?P<rbrack>\])
    | (?P<word>[A-Za-z0-9_:.$\-+]+)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Compare:
    path: str
    op: str
    value: Any


@dataclass(frozen=True)
class Present:
    path: str


@dataclass(frozen=True)
class Logical:
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class ValuePath:
    path: str
    inner: Node


Node = Compare | Present | Logical | Not | ValuePath


def parse_filter(text: str) -> Node:
    """Parse `text`; raise a SCIM 400 `invalidFilter` error if it is not a valid filter."""
    if len(text) > MAX_FILTER_LENGTH:
        raise invalid_filter(f"the filter is longer than {MAX_FILTER_LENGTH} characters")
    tokens = _tokenize(text)
    if not tokens:
        raise invalid_filter("the filter is empty")
    parser = _Parser(tokens)
    node = parser.parse_or(0)
    if parser.pos != len(tokens):
        raise invalid_filter(f"unexpected {tokens[parser.pos][1]!r} in filter")
    return node


def equality_on(node: Node, attribute: str) -> str | None:
    """The value of a top-level `attribute eq "value"` filter, else None (for fast paths)."""
    if isinstance(node, Compare) and node.op == "eq" and node.path.lower() == attribute.lower():
        return node.value if isinstance(node.value, str) else None
    return None


def matches(node: Node, resource: Mapping[str, Any]) -> bool:
    """Evaluate the filter against one SCIM resource (a JSON-shaped dict)."""
    return _eval(node, resource, "")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise invalid_filter(f"unexpected character {text[pos]!r} in filter")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise invalid_filter("the filter ends too early")
        self.pos += 1
        return token

    def keyword(self, *words: str) -> str | None:
        kind, value = self.peek()
        if kind == "word" and value.lower() in words:
            self.pos += 1
            return value.lower()
        return None

    def parse_or(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise invalid_filter("the filter is nested too deeply")
        node = self.parse_and(depth)
        while self.keyword("or"):
            node = Logical("or", node, self.parse_and(depth))
        return node

    def parse_and(self, depth: int) -> Node:
        node = self.parse_unary(depth)
        while self.keyword("and"):
            node = Logical("and", node, self.parse_unary(depth))
        return node

    def parse_unary(self, depth: int) -> Node:
        if self.keyword("not"):
            return Not(self.group(depth))
        if self.peek()[0] == "lparen":
            return self.group(depth)
        return self.parse_attr(depth)

    def group(self, depth: int) -> Node:
        if self.take()[0] != "lparen":
            raise invalid_filter("expected '(' after 'not'")
        node = self.parse_or(depth + 1)
        if self.take()[0] != "rparen":
            raise invalid_filter("missing ')' in filter")
        return node

    def parse_attr(self, depth: int) -> Node:
        kind, path = self.take()
        if kind != "word" or not re.match(r"^(?:urn:[^\s]+:)?[A-Za-z][\w$-]*(?:\.[A-Za-z][\w$-]*)?$", path):
            raise invalid_filter(f"expected an attribute name, got {path!r}")
        if self.peek()[0] == "lbrack":
            self.pos += 1
            inner = self.parse_or(depth + 1)
            if self.take()[0] != "rbrack":
                raise invalid_filter("missing ']' in filter")
            return ValuePath(path, inner)
        kind, op = self.take()
        op = op.lower()
        if kind != "word":
            raise invalid_filter(f"expected an operator after {path!r}")
        if op == "pr":
            return Present(path)
        if op not in COMPARE_OPS:
            raise invalid_filter(f"unsupported operator {op!r}; use one of {', '.join(COMPARE_OPS)}, pr")
        return Compare(path, op, self.value())

    def value(self) -> Any:
        kind, raw = self.take()
        if kind == "string":
            return _unescape(raw[1:-1])
        if kind == "word":
            low = raw.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", raw):
                return float(raw) if any(c in raw for c in ".eE") else int(raw)
        raise invalid_filter(f"expected a value (string, number, true, false or null), got {raw!r}")


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), raw)


def _eval(node: Node, resource: Mapping[str, Any], prefix: str) -> bool:
    if isinstance(node, Logical):
        left = _eval(node.left, resource, prefix)
        if node.op == "and":
            return left and _eval(node.right, resource, prefix)
        return left or _eval(node.right, resource, prefix)
    if isinstance(node, Not):
        return not _eval(node.inner, resource, prefix)
    if isinstance(node, ValuePath):
        items = _lookup(resource, node.path)
        return any(isinstance(i, Mapping) and _eval(node.inner, i, "") for i in items)
    if isinstance(node, Present):
        return any(v not in (None, "", [], {}) for v in _lookup(resource, node.path))
    values = _lookup(resource, node.path)
    exact = node.path.split(":")[-1].lower() in CASE_EXACT
    if node.op == "ne":
        return not any(_compare("eq", v, node.value, exact) for v in values)
    return any(_compare(node.op, v, node.value, exact) for v in values)


def _lookup(resource: Mapping[str, Any], path: str) -> list[Any]:
    """Values at `path` (`name.givenName`, `emails.value`, `urn:...:User:department`)."""
    scope: Any = resource
    if path.lower().startswith("urn:"):
        urn, _, path = path.rpartition(":")
        scope = _get_ci(resource, urn)
        if scope is None:
            return []
    values: list[Any] = [scope]
    for part in path.split("."):
        nxt: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Mapping):
                    got = _get_ci(item, part)
                    if got is not None:
                        nxt.append(got)
        values = nxt
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _get_ci(mapping: Mapping[str, Any], key: str) -> Any:
    if key in mapping:
        return mapping[key]
    low = key.lower()
    for k, v in mapping.items():
        if k.lower() == low:
            return v
    return None


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda a, b: a == b,
    "co": lambda a, b: b in a,
    "sw": lambda a, b: a.startswith(b),
    "ew": lambda a, b: a.endswith(b),
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}


def _compare(op: str, actual: Any, wanted: Any, exact: bool) -> bool:
    if wanted is None:
        return op == "eq" and actual is None
    if isinstance(wanted, bool) or isinstance(actual, bool):
        if op != "eq":
            raise invalid_filter(f"operator {op!r} cannot compare booleans")
        return bool(actual) == wanted if isinstance(actual, bool) else False
    if isinstance(wanted, int | float) and not isinstance(actual, str):
        try:
            return _STRING_OPS[op](actual, wanted)  # type: ignore[arg-type]
        except TypeError:
            return False
    a, b = str(actual), str(wanted)
    if not exact:
        a, b = a.lower(), b.lower()
    return _STRING_OPS[op](a, b)


__all__ = ["Node", "ScimError", "equality_on", "matches", "parse_filter"]
