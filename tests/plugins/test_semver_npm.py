"""Our version ranges agree with npm's own ``semver`` package (issue 9, item 20).

The range library we used disagreed with npm on 40 of 5,062 random ranges (it said ``0.0.0``
satisfies ``0.2.x >0.0.0-rc.0``). This asks npm's ``semver`` (vendored in ``vendor/semver``, run
by one ``node`` process, nothing fetched) about thousands of random (version, range) pairs, with
a fixed seed, and requires the same answer for each: satisfied, not satisfied, or not a range.
"""

from __future__ import annotations

import collections

import pytest

from catalyst.plugins.versioning import parse_range, parse_version
from tests.plugins.semver_oracle import VENDOR, node, npm_answers, random_pairs

PAIRS = 6000
SEED = 20261201

pytestmark = pytest.mark.skipif(node() is None, reason="Node is needed to run npm's semver")


def ours(version: str, range_text: str) -> str:
    try:
        spec = parse_range(range_text)
    except ValueError:
        return "E"
    return "1" if spec.match(parse_version(version)) else "0"


def test_the_vendored_package_is_npm_semver_7_with_its_license() -> None:
    assert '"name": "semver"' in (VENDOR / "package.json").read_text()
    assert '"version": "7.' in (VENDOR / "package.json").read_text()
    assert (VENDOR / "LICENSE").read_text().startswith("The ISC License")


def test_random_pairs_cover_every_range_form() -> None:
    ranges = " ".join(r for _v, r in random_pairs(PAIRS, SEED))
    for form in (" - ", "||", "~", "^", "~>", ">=", "<=", ".x", ".X", "*", "-rc.", ">= ", "=v"):
        assert form in ranges, form


def test_every_random_pair_gets_npm_semvers_answer() -> None:
    pairs = random_pairs(PAIRS, SEED)
    npm = npm_answers(pairs)
    counts = collections.Counter(npm)
    assert min(counts["1"], counts["0"], counts["E"]) > 300, counts  # all three outcomes occur
    disagreements = [
        (version, range_text, f"npm={answer}", f"ours={ours(version, range_text)}")
        for (version, range_text), answer in zip(pairs, npm, strict=True)
        if ours(version, range_text) != answer
    ]
    assert disagreements == []


@pytest.mark.parametrize(
    ("version", "range_text", "expected"),
    [
        ("0.0.0", "0.2.x >0.0.0-rc.0", "0"),  # the reported case
        ("1.0.0-rc.1", "<1.0.0-rc.1", "0"),  # semantic_version's bug
        ("3.1.1-rc.1", "* || >=3.1.1-alpha.1", "0"),  # npm: a set that is '*' makes it '*'
        ("1.2.0", "x.1", "E"),  # npm 7.8: a wildcard before a number is no range
        ("1.2.0", "1.x.0", "E"),
        ("1.2.3", "1.2 - 2", "1"),
        ("2.0.0-rc.1", "^2.0.0-rc.0", "1"),
    ],
)
def test_known_cases(version: str, range_text: str, expected: str) -> None:
    assert npm_answers([(version, range_text)]) == expected
    assert ours(version, range_text) == expected
