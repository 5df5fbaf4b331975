"""Semantic versions and npm-style ranges (catalyst.plugins.versioning)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.plugins.versioning import parse_range, parse_version, satisfies


@pytest.mark.parametrize(
    "text", ["0.0.0", "1.2.3", "10.20.30", "1.2.3-rc.1", "1.0.0-alpha.beta", "1.2.3+build.5"]
)
def test_parse_version_accepts_semver(text: str) -> None:
    assert str(parse_version(text)) == text


@pytest.mark.parametrize("text", ["", "1", "1.2", "v1.2.3", "01.2.3", " 1.2.3", "1.2.3.4", "abc"])
def test_parse_version_rejects_non_semver_and_names_it(text: str) -> None:
    with pytest.raises(ValueError, match="is not a semantic version") as info:
        parse_version(text)
    assert str(info.value) == f"'{text}' is not a semantic version (expected e.g. 1.2.3)"


def test_parse_version_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        parse_version(123)  # type: ignore[arg-type]  # what a JSON manifest could hold


@pytest.mark.parametrize(
    ("range_text", "version", "expected"),
    [
        (">=1.0.0", "1.0.0", True),
        (">=1.0.0", "0.9.9", False),
        (">=1.0.0", "7.0.0", True),
        ("^1.2", "1.2.0", True),
        ("^1.2", "1.9.9", True),
        ("^1.2", "1.1.9", False),
        ("^1.2", "2.0.0", False),
        ("^0.2.3", "0.2.9", True),
        ("^0.2.3", "0.3.0", False),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.2.2", False),
        ("~1.2.3", "1.3.0", False),
        ("1.x", "1.99.0", True),
        ("1.x", "2.0.0", False),
        (">=1 <2", "1.5.0", True),
        (">=1 <2", "2.0.0", False),
        (">=1 <2", "0.9.0", False),
        ("1.x || 3.x", "3.1.0", True),
        ("1.x || 3.x", "2.1.0", False),
        ("*", "0.0.1", True),
        ("*", "123.4.5", True),
        ("1.0.0 - 2.0.0", "2.0.0", True),
        (">= 1.0.0", "1.0.0", True),  # npm allows a space after the operator
        ("  ^1.0.0  ", "1.4.0", True),
        # npm prerelease rule: only ranges that name a prerelease of the same x.y.z match one.
        (">=1.0.0", "2.0.0-rc.1", False),
        (">=2.0.0-rc.1", "2.0.0-rc.2", True),
        (">=2.0.0-rc.1", "2.0.0", True),
    ],
)
def test_satisfies_follows_npm_semantics(range_text: str, version: str, expected: bool) -> None:
    assert satisfies(version, range_text) is expected
    assert parse_range(range_text).match(parse_version(version)) is expected


@pytest.mark.parametrize(
    "text",
    [">>1", "abc", "1.2.3.4", "^", "~", ">=", ">=1.0.0 <=", "^01.2", ">=1.0.0 - 2", "1 - 2 - 3"],
)
def test_parse_range_rejects_garbage_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="is not a valid version range") as info:
        parse_range(text)
    assert f"'{text}'" in str(info.value)
    assert ">=1.0.0" in str(info.value)  # the message shows what a valid range looks like


@pytest.mark.parametrize("text", ["", "   "])
def test_parse_range_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError, match="the version range is empty"):
        parse_range(text)


def test_parse_range_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="not a version range"):
        parse_range(["^1"])  # type: ignore[arg-type]  # what a JSON manifest could hold


def test_satisfies_raises_value_error_for_bad_input() -> None:
    with pytest.raises(ValueError, match="not a semantic version"):
        satisfies("1.0", ">=1.0.0")
    with pytest.raises(ValueError, match="not a valid version range"):
        satisfies("1.0.0", "newest")


numbers = st.integers(min_value=0, max_value=10**9)
prerelease = st.lists(
    st.sampled_from(["alpha", "beta", "rc", "dev", "x1"]) | st.integers(0, 999).map(str),
    min_size=1,
    max_size=3,
).map(".".join)


@st.composite
def versions(draw: st.DrawFn, *, with_prerelease: bool = True) -> str:
    core = f"{draw(numbers)}.{draw(numbers)}.{draw(numbers)}"
    if with_prerelease and draw(st.booleans()):
        core += "-" + draw(prerelease)
    return core


@given(versions())
def test_version_text_round_trips(text: str) -> None:
    assert str(parse_version(text)) == text


@given(versions())
def test_a_version_satisfies_ranges_anchored_on_itself(text: str) -> None:
    assert satisfies(text, text)
    assert satisfies(text, f">={text}")
    assert satisfies(text, f"<={text}")
    assert satisfies(text, f"^{text}")
    assert satisfies(text, f"~{text}")
    assert not satisfies(text, f">{text}")


@given(versions(with_prerelease=False))
def test_a_release_does_not_satisfy_less_than_itself(text: str) -> None:
    assert not satisfies(text, f"<{text}")


def test_a_prerelease_does_not_satisfy_less_than_itself() -> None:
    # semantic_version's NpmSpec got this wrong (a strict xfail until issue 9 replaced it).
    assert not satisfies("1.0.0-rc.1", "<1.0.0-rc.1")


@given(versions(with_prerelease=False))
def test_star_and_its_major_x_match_every_release(text: str) -> None:
    major = text.split(".")[0]
    assert satisfies(text, "*")
    assert satisfies(text, f"{major}.x")
    assert satisfies(text, f">={major} <{int(major) + 1}")
    assert not satisfies(text, f"{int(major) + 1}.x")


@given(st.text(alphabet="0123456789.xX*^~<>=|- abrc+", max_size=20) | st.text(max_size=20))
def test_parse_range_only_ever_raises_value_error(text: str) -> None:
    try:
        spec = parse_range(text)
    except ValueError as exc:
        message = str(exc)
    else:
        assert spec is not None
        return
    assert "version range" in message


@given(st.text(max_size=30))
def test_parse_version_only_ever_raises_value_error(text: str) -> None:
    try:
        parse_version(text)
    except ValueError as exc:
        message = str(exc)
    else:
        return
    assert message == f"'{text}' is not a semantic version (expected e.g. 1.2.3)"


def test_versions_order_like_npm_and_ignore_build_metadata() -> None:
    order = ["1.0.0-0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2"]
    order += ["1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
    parsed = [parse_version(v) for v in order]
    assert sorted(reversed(parsed)) == parsed
    assert parse_version("1.0.0+a") == parse_version("1.0.0+b")
    assert len({parse_version("1.0.0+a"), parse_version("1.0.0")}) == 1
