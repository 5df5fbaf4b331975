"""``GET /api/catalog``: the permission catalogue (with what each permission allows) and the
plugin states, for any signed-in user, so the UI keeps no copies of them."""

from __future__ import annotations

from fastapi import APIRouter

from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.catalog import Catalog, PermissionInfo
from catalyst.auth.deps import CurrentPrincipal
from catalyst.auth.permissions import CATALOG
from catalyst.plugins.state import PluginState

router = APIRouter(prefix="/api/catalog", tags=["catalog"], default_response_class=JSONResponse)

_CATALOG: Envelope[Catalog] = Envelope(
    data=Catalog(
        permissions=[PermissionInfo(name=k, description=v) for k, v in CATALOG.items()],
        plugin_states=list(PluginState),
    )
)


@router.get("")
async def catalog(_: CurrentPrincipal) -> Envelope[Catalog]:
    return _CATALOG
