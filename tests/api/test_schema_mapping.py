"""Shapes that also leave the host outside the admin API stay the same as the API's models.

A server reaches plugins (``ctx.db.servers``, ``server:*`` events) and the UI (``servers:updated``
pushes) as :func:`catalyst.domain.servers.server_json`; the signed-in user reaches the UI in the
``/ws`` welcome as :meth:`Principal.public`; the CLI prints accounts as ``user_json``. Each must
keep the shape of the answer model the UI's generated types describe.
"""

from __future__ import annotations

from datetime import UTC, datetime

from catalyst.api.schemas.servers import Server
from catalyst.api.schemas.users import Account, User
from catalyst.auth.sessions import Principal
from catalyst.db.models import Role
from catalyst.db.models import Server as ServerRow
from catalyst.db.models import User as UserRow
from catalyst.domain.roles import user_json
from catalyst.domain.servers import server_json

WHEN = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_server_json_is_the_api_server() -> None:
    row = ServerRow(
        id=7, name="a", game="g", node="local", status="running", owner_id=None,
        created_at=WHEN, updated_at=WHEN,
    )  # fmt: skip
    assert server_json(row) == Server.of(row).model_dump(mode="json")
    assert list(server_json(row)) == list(Server.of(row).model_dump(mode="json"))


def test_principal_public_is_the_api_user() -> None:
    who = Principal(user_id=3, username="ann", roles=("admin", "ops"), permissions=frozenset("*"))
    assert who.public() == User.of(who).model_dump(mode="json")
    assert list(who.public()) == list(User.of(who).model_dump(mode="json"))


def test_user_json_is_the_api_account() -> None:
    role = Role(name="ops", description="", permissions=["server.read", "*"])
    row = UserRow(id=4, username="bob", is_active=True, created_at=WHEN, roles=[role])
    assert user_json(row) == Account.of(row).model_dump(mode="json")
    assert list(user_json(row)) == list(Account.of(row).model_dump(mode="json"))
