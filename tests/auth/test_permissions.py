import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalyst.auth.permissions import grants, has_permission


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ("*", "server.read", True),
        ("*", "admin.write", True),
        ("server.*", "server.read", True),
        ("server.*", "server.write", True),
        ("server.*", "server.console.read", True),
        ("server.*", "servers.read", False),
        ("server.*", "server", False),
        ("server.read", "server.read", True),
        ("server.read", "server.write", False),
        ("admin.*", "server.read", False),
        ("server", "server.read", False),
    ],
)
def test_wildcard_grants(granted: str, required: str, expected: bool) -> None:
    assert grants(granted, required) is expected


def test_has_permission_any_of() -> None:
    assert has_permission(["user.read", "server.*"], "server.write")
    assert not has_permission(["user.read", "server.read"], "server.write")
    assert not has_permission([], "server.read")


segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6)


@given(st.lists(segment, min_size=1, max_size=4), st.lists(segment, min_size=1, max_size=4))
def test_prefix_wildcard_matches_exactly_the_dotted_subtree(
    prefix: list[str], rest: list[str]
) -> None:
    grant = ".".join(prefix) + ".*"
    inside = ".".join(prefix + rest)
    assert grants(grant, inside)
    assert grants("*", inside)
    # Same first segment with extra characters is a different subtree.
    outside = ".".join([prefix[0] + "x", *prefix[1:], *rest])
    assert not grants(grant, outside)
