"""Semantic versions and npm version ranges, matching npm's own ``semver`` package exactly.

Plugins declare the host versions they run on (``catalystVersion``) and the versions of other
plugins they need (``dependencies``) as npm ranges: ``>=1.0.0``, ``^1.2``, ``~1.2.3``, ``1.x``,
``>=1 <2``, ``1.2 - 2``, ``a || b`` or ``*``. :func:`parse_range` and :meth:`Range.match` are a
port of ``semver`` 7's ``Range`` (strict mode, default options): the same desugaring of hyphen
ranges, tildes, carets and x-ranges, the same refusals (``1.x.0`` and ``x.1`` are not ranges), and
the same prerelease rule (``2.0.0-rc.1`` only satisfies a comparator set that names a prerelease
of ``2.0.0``). ``tests/plugins/test_semver_npm.py`` checks thousands of random pairs against npm's
package itself. Why a port and not a library: ``semantic_version``'s ``NpmSpec`` and the
``node-semver`` package both follow older npm rules (they accept ``x.1``, and do not reduce
``* || …`` to ``*``), and disagreed with npm on about 1 in 100 random ranges.

Three deliberate differences: versions are strict semver 2.0 (npm also accepts ``v1.2.3`` and
surrounding spaces, which a manifest should not hold); an empty range is refused (npm reads it as
``*``; in a manifest it is a mistake); and a range is at most 256 characters (npm's limit for a
version), which also bounds the regex work on hostile input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["Range", "Version", "parse_range", "parse_version", "satisfies"]

_EXAMPLES: Final = "e.g. >=1.0.0, ^1.2, ~1.2.3, 1.x, >=1 <2, 1.x || 2.x"
MAX_LENGTH: Final = 256
MAX_SAFE_INTEGER: Final = 2**53 - 1

# The regexes of semver/internal/re.js (strict variants; \d spelled [0-9] as in JavaScript).
_NUM = r"0|[1-9][0-9]*"
_NUM_LOOSE = r"[0-9]+"
_NONNUM = r"[0-9]*[a-zA-Z-][a-zA-Z0-9-]*"
_MAIN = rf"({_NUM})\.({_NUM})\.({_NUM})"
_MAIN_LOOSE = rf"({_NUM_LOOSE})\.({_NUM_LOOSE})\.({_NUM_LOOSE})"
_PRE_ID = rf"(?:{_NONNUM}|{_NUM})"
_PRE_ID_LOOSE = rf"(?:{_NONNUM}|{_NUM_LOOSE})"
_PRE = rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))"
_PRE_LOOSE = rf"(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))"
_BUILD = r"(?:\+([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*))"
_FULL_PLAIN = rf"v?{_MAIN}{_PRE}?{_BUILD}?"
_LOOSE_PLAIN = rf"[v=\s]*{_MAIN_LOOSE}{_PRE_LOOSE}?{_BUILD}?"
_GTLT = r"((?:<|>)?=?)"
_XID = rf"{_NUM}|x|X|\*"
_X_PLAIN = rf"[v=\s]*({_XID})(?:\.({_XID})(?:\.({_XID})(?:{_PRE})?{_BUILD}?)?)?"

_VERSION = re.compile(rf"{_MAIN}{_PRE}?{_BUILD}?")  # strict semver 2.0: no "v", no spaces
_SEMVER = re.compile(_FULL_PLAIN)
_BUILD_RE = re.compile(_BUILD)
_HYPHEN = re.compile(rf"\s*({_X_PLAIN})\s+-\s+({_X_PLAIN})\s*")
_COMPARATOR_TRIM = re.compile(rf"(\s*){_GTLT}\s*({_LOOSE_PLAIN}|{_X_PLAIN})")
_TILDE_TRIM = re.compile(r"(\s*)(?:~>?)\s+")
_CARET_TRIM = re.compile(r"(\s*)(?:\^)\s+")
_TILDE = re.compile(rf"(?:~>?){_X_PLAIN}")
_CARET = re.compile(rf"(?:\^){_X_PLAIN}")
_XRANGE = re.compile(rf"{_GTLT}\s*{_X_PLAIN}")
_STAR = re.compile(r"(<|>)?=?\s*\*")
_GTE0 = re.compile(r"\s*>=\s*0\.0\.0\s*")
_COMPARATOR = re.compile(rf"{_GTLT}\s*({_FULL_PLAIN})|")
_SPACES = re.compile(r"\s+")

Identifier = int | str
_DIGITS = re.compile(r"[0-9]+")


def _identifier(text: str) -> Identifier:
    if _DIGITS.fullmatch(text) and int(text) < MAX_SAFE_INTEGER:
        return int(text)
    return text


def _compare_identifiers(a: Identifier, b: Identifier) -> int:
    a_num, b_num = bool(_DIGITS.fullmatch(str(a))), bool(_DIGITS.fullmatch(str(b)))
    if a_num and b_num:
        a, b = int(a), int(b)
    if a == b:
        return 0
    if a_num != b_num:
        return -1 if a_num else 1
    return -1 if a < b else 1  # type: ignore[operator]  # both int or both str here


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A semantic version; compares (``==``, ``<`` …) like npm: build metadata is ignored."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[Identifier, ...]
    text: str

    @classmethod
    def from_match(cls, m: re.Match[str], text: str) -> Version:
        numbers = [int(m.group(i)) for i in (1, 2, 3)]
        if any(n > MAX_SAFE_INTEGER for n in numbers):
            raise ValueError(f"'{text}' has a number beyond {MAX_SAFE_INTEGER}")
        pre = tuple(_identifier(p) for p in m.group(4).split(".")) if m.group(4) else ()
        return cls(numbers[0], numbers[1], numbers[2], pre, text)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch, tuple(map(str, self.prerelease))))

    def compare(self, other: Version) -> int:
        main = (self.major, self.minor, self.patch)
        theirs = (other.major, other.minor, other.patch)
        if main != theirs:
            return -1 if main < theirs else 1
        if not self.prerelease or not other.prerelease:
            # A release sorts after its prereleases.
            return (not self.prerelease) - (not other.prerelease)
        for a, b in zip(self.prerelease, other.prerelease, strict=False):
            if (c := _compare_identifiers(a, b)) != 0:
                return c
        n, k = len(self.prerelease), len(other.prerelease)
        return 0 if n == k else (1 if n > k else -1)


_OPERATORS: Final[dict[str, Callable[[int], bool]]] = {
    "": lambda c: c == 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
}


@dataclass(frozen=True)
class _Comparator:
    operator: str
    semver: Version | None  # None: any version

    @property
    def value(self) -> str:
        if self.semver is None:
            return ""
        v = self.semver
        pre = "-" + ".".join(map(str, v.prerelease)) if v.prerelease else ""
        return f"{self.operator}{v.major}.{v.minor}.{v.patch}{pre}"

    @classmethod
    def parse(cls, text: str) -> _Comparator:
        m = _COMPARATOR.fullmatch(" ".join(_SPACES.split(text.strip())))
        if m is None:
            raise ValueError(f"invalid comparator {text!r}")
        operator = "" if m.group(1) in (None, "=") else m.group(1)
        if not m.group(2):
            return cls(operator, None)
        version = m.group(2).strip()
        full = _SEMVER.fullmatch(version)
        if len(m.group(2)) > MAX_LENGTH or full is None:
            raise ValueError(f"invalid version {version!r}")
        return cls(operator, Version.from_match(full, version))

    def test(self, version: Version) -> bool:
        return self.semver is None or _OPERATORS[self.operator](version.compare(self.semver))


def _is_x(part: str | None) -> bool:
    return not part or part.lower() == "x" or part == "*"


def _hyphen(m: re.Match[str]) -> str:
    frm, f_maj, f_min, f_pat = m.group(1, 2, 3, 4)
    to, t_maj, t_min, t_pat, t_pre = m.group(7, 8, 9, 10, 11)
    if _is_x(f_maj):
        frm = ""
    elif _is_x(f_min):
        frm = f">={f_maj}.0.0"
    elif _is_x(f_pat):
        frm = f">={f_maj}.{f_min}.0"
    else:
        frm = f">={frm}"
    if _is_x(t_maj):
        to = ""
    elif _is_x(t_min):
        to = f"<{int(t_maj) + 1}.0.0-0"
    elif _is_x(t_pat):
        to = f"<{t_maj}.{int(t_min) + 1}.0-0"
    elif t_pre:
        to = f"<={t_maj}.{t_min}.{t_pat}-{t_pre}"
    else:
        to = f"<={to}"
    return f"{frm} {to}".strip()


def _tilde_or_caret(m: re.Match[str], caret: bool) -> str:
    major, minor, patch, pre = m.group(1, 2, 3, 4)
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0 <{int(major) + 1}.0.0-0"
    if _is_x(patch):
        if caret and major != "0":
            return f">={major}.{minor}.0 <{int(major) + 1}.0.0-0"
        return f">={major}.{minor}.0 <{major}.{int(minor) + 1}.0-0"
    low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    if not caret or major == "0":
        if caret and minor == "0":
            return f"{low} <{major}.{minor}.{int(patch) + 1}-0"
        return f"{low} <{major}.{int(minor) + 1}.0-0"
    return f"{low} <{int(major) + 1}.0.0-0"


def _xrange(m: re.Match[str]) -> str:
    gtlt, major, minor, patch = m.group(1, 2, 3, 4)
    if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
        return m.string  # npm leaves "x.1" and "1.x.2" alone, and the comparator refuses them
    x_major = _is_x(major)
    x_minor = x_major or _is_x(minor)
    any_x = x_minor or _is_x(patch)
    if gtlt == "=" and any_x:
        gtlt = ""
    if x_major:
        return "<0.0.0-0" if gtlt in (">", "<") else "*"
    if gtlt and any_x:
        mi = 0 if x_minor else int(minor)
        ma, pre = int(major), ""
        if gtlt == ">":
            gtlt = ">="
            ma, mi = (ma + 1, 0) if x_minor else (ma, mi + 1)
        elif gtlt == "<=":
            gtlt = "<"
            ma, mi = (ma + 1, mi) if x_minor else (ma, mi + 1)
        if gtlt == "<":
            pre = "-0"
        return f"{gtlt}{ma}.{mi}.0{pre}"
    if x_minor:
        return f">={major}.0.0 <{int(major) + 1}.0.0-0"
    if any_x:
        return f">={major}.{minor}.0 <{major}.{int(minor) + 1}.0-0"
    return m.group(0)


def _each(text: str, pattern: re.Pattern[str], fn: Callable[[re.Match[str]], str]) -> str:
    """Apply an anchored replacement to each space-separated part (npm's replaceCarets & co)."""
    parts = _SPACES.split(text.strip())
    return " ".join(fn(m) if (m := pattern.fullmatch(p)) else p for p in parts)


def _parse_comparator(text: str) -> str:
    text = _BUILD_RE.sub("", text, count=1)
    text = _each(text, _CARET, lambda m: _tilde_or_caret(m, caret=True))
    text = _each(text, _TILDE, lambda m: _tilde_or_caret(m, caret=False))
    text = " ".join(
        _xrange(m) if (m := _XRANGE.fullmatch(p.strip())) else p.strip()
        for p in _SPACES.split(text)
    )
    return _STAR.sub("", text.strip(), count=1)


def _parse_set(text: str) -> list[_Comparator]:
    text = _BUILD_RE.sub("", text)
    text = _hyphen(m) if (m := _HYPHEN.fullmatch(text)) else text
    text = _COMPARATOR_TRIM.sub(lambda m: "".join(g or "" for g in m.group(1, 2, 3)), text)
    text = _TILDE_TRIM.sub(r"\1~", text)
    text = _CARET_TRIM.sub(r"\1^", text)
    parts = _SPACES.split(" ".join(_parse_comparator(c) for c in text.split(" ")))
    parts = ["" if _GTE0.fullmatch(p.strip()) else p.strip() for p in parts]
    comparators = [_Comparator.parse(p) for p in parts]  # all parsed: any invalid one refuses
    found: dict[str, _Comparator] = {}
    for comparator in comparators:
        if comparator.value == "<0.0.0-0":
            return [comparator]
        found[comparator.value] = comparator
    if len(found) > 1:
        found.pop("", None)
    return list(found.values())


class Range:
    """An npm version range: any of its ``||`` sets whose comparators all hold."""

    def __init__(self, text: str) -> None:
        self.raw = _SPACES.sub(" ", text.strip())
        sets = [s for s in (_parse_set(part.strip()) for part in self.raw.split("||")) if s]
        if not sets:
            raise ValueError(f"invalid range {text!r}")
        if len(sets) > 1:
            real = [s for s in sets if s[0].value != "<0.0.0-0"]
            sets = real or sets[:1]
            sets = next(([s] for s in sets if len(s) == 1 and s[0].semver is None), sets)
        self.sets = sets

    def __str__(self) -> str:
        return self.raw

    def match(self, version: Version) -> bool:
        return any(self._test(comparators, version) for comparators in self.sets)

    @staticmethod
    def _test(comparators: list[_Comparator], version: Version) -> bool:
        if not all(c.test(version) for c in comparators):
            return False
        if not version.prerelease:
            return True
        main = (version.major, version.minor, version.patch)
        return any(
            c.semver is not None
            and c.semver.prerelease
            and (c.semver.major, c.semver.minor, c.semver.patch) == main
            for c in comparators
        )


def parse_version(text: str) -> Version:
    """Parse a strict semantic version (``1.2.3``, ``1.2.3-rc.1``, ``1.2.3+build``)."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a semantic version (expected a string such as 1.2.3)")
    m = _VERSION.fullmatch(text) if len(text) <= MAX_LENGTH else None
    try:
        if m is None:
            raise ValueError
        return Version.from_match(m, text)
    except ValueError:
        raise ValueError(f"'{text}' is not a semantic version (expected e.g. 1.2.3)") from None


def parse_range(text: str) -> Range:
    """Parse an npm version range as npm's ``new Range(text)`` does."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a version range (expected a string, {_EXAMPLES})")
    if not text.strip():
        raise ValueError(f"the version range is empty (expected {_EXAMPLES}; '*' means any)")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"the version range is longer than {MAX_LENGTH} characters")
    try:
        return Range(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a valid version range (expected {_EXAMPLES})") from None


def satisfies(version: str, range_text: str) -> bool:
    """True when ``version`` lies in ``range_text``; ValueError when either does not parse."""
    return parse_range(range_text).match(parse_version(version))
