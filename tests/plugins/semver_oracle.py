"""npm's own ``semver`` as a test oracle, and random (version, range) pairs to ask it about.

``vendor/semver`` is npm's ``semver`` package (7.x, MIT, pure JavaScript), unpacked from
``npm pack semver@7`` and committed, so the differential test needs Node but no network. One
``node`` process answers every pair: ``1``/``0`` for ``semver.satisfies(version, range)`` with the
default options, or ``E`` when ``new semver.Range(range)`` refuses the range.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

VENDOR = Path(__file__).parent / "vendor" / "semver"

_SCRIPT = """
const semver = require(process.argv[1]);
const pairs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = pairs.map(([v, r]) => {
  try { new semver.Range(r); } catch (e) { return "E"; }
  return semver.satisfies(v, r) ? "1" : "0";
});
process.stdout.write(out.join(""));
"""


def node() -> str | None:
    return shutil.which("node")


def npm_answers(pairs: list[tuple[str, str]]) -> str:
    """One character per pair, from npm's semver (see the module docstring)."""
    exe = node()
    assert exe is not None, "Node is needed for the differential test"
    done = subprocess.run(
        [exe, "-e", _SCRIPT, str(VENDOR)],
        input=json.dumps(pairs),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert len(done.stdout) == len(pairs), done.stderr
    return done.stdout


_PRE = ["", "", "", "-0", "-1", "-rc.0", "-rc.1", "-alpha", "-alpha.1", "-beta.2", "-alpha.beta"]
_OPS = ["", "=", ">", ">=", "<", "<=", "~", "^", "~>", "v", "=v", ">= "]


def _num(rng: random.Random) -> str:
    return str(rng.choice([0, 0, 1, 1, 2, 3]))


def random_version(rng: random.Random) -> str:
    core = ".".join(_num(rng) for _ in range(3))
    build = rng.choice(["", "", "", "", "+build.5"])
    return core + rng.choice(_PRE) + build


def _partial(rng: random.Random) -> str:
    """A full or partial version, maybe with wildcards: ``1``, ``1.2``, ``1.x``, ``1.2.3-rc.0``."""
    parts = [_num(rng) for _ in range(rng.choice([1, 2, 3, 3, 3]))]
    for i in range(len(parts)):
        if rng.random() < 0.08:
            parts[i] = rng.choice(["x", "X", "*"])
    text = ".".join(parts)
    if len(parts) == 3 and "x" not in text.lower() and "*" not in text:
        text += rng.choice(_PRE)
    return text


def _comparator_set(rng: random.Random) -> str:
    if rng.random() < 0.12:
        return f"{_partial(rng)} - {_partial(rng)}"
    if rng.random() < 0.05:
        return rng.choice(["*", "", "x", ">=0.0.0", "<0.0.0-0"])
    return " ".join(rng.choice(_OPS) + _partial(rng) for _ in range(rng.choice([1, 1, 2, 2, 3])))


def random_range(rng: random.Random) -> str:
    return " || ".join(_comparator_set(rng) for _ in range(rng.choice([1, 1, 1, 2, 3])))


_FULL_IN_RANGE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?")


def _version_for(rng: random.Random, range_text: str) -> str:
    """Half the time a version the range names (or a neighbour), so that ranges are also tested
    where they match, at their edges and on prereleases of their own versions."""
    named = _FULL_IN_RANGE.findall(range_text)
    if not named or rng.random() < 0.5:
        return random_version(rng)
    text = rng.choice(named).rstrip(".-")
    core, _, pre = text.partition("-")
    parts = [int(p) for p in core.split(".")]
    i = rng.randrange(4)
    if i < 3:
        parts[i] = max(0, parts[i] + rng.choice([-1, 1]))
    version = ".".join(map(str, parts))
    if pre and rng.random() < 0.7:
        version += "-" + rng.choice([pre, "rc.0", "alpha", "0"])
    elif not pre and rng.random() < 0.3:
        version += rng.choice(_PRE)
    return version


def random_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` pairs, never with a blank range (which we refuse and npm reads as ``*``)."""
    rng = random.Random(seed)
    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        range_text = random_range(rng)
        if range_text.strip():
            pairs.append((_version_for(rng, range_text), range_text))
    return pairs
