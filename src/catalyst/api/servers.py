"""``/api/servers``: the core domain plugins extend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from catalyst.api.bounds import INT64_MAX, Id
from catalyst.api.responses import JSONResponse
from catalyst.api.schemas.base import Envelope
from catalyst.api.schemas.servers import Server, ServerList
from catalyst.auth.deps import get_services, require
from catalyst.auth.sessions import Principal
from catalyst.domain.servers import ServerService

router = APIRouter(prefix="/api/servers", tags=["servers"], default_response_class=JSONResponse)


class ServerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    game: str = Field(min_length=1, max_length=64)
    node: str = Field(default="local", min_length=1, max_length=100)


def service(request: Request) -> ServerService:
    services = get_services(request)
    return ServerService(services.db, services.emit)


Service = Annotated[ServerService, Depends(service)]
Reader = Annotated[Principal, Depends(require("server.read"))]
Writer = Annotated[Principal, Depends(require("server.write"))]


@router.get("")
async def list_servers(
    svc: Service,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> Envelope[ServerList]:
    rows, total = await svc.list(limit=limit, offset=offset)
    return Envelope(data=ServerList(items=[Server.of(s) for s in rows], total=total))


@router.post("", status_code=201)
async def create_server(body: ServerCreate, svc: Service, user: Writer) -> Envelope[Server]:
    server = await svc.create(name=body.name, game=body.game, node=body.node, owner_id=user.user_id)
    return Envelope(data=Server.of(server))


@router.get("/{server_id}")
async def get_server(server_id: Id, svc: Service, _: Reader) -> Envelope[Server]:
    return Envelope(data=Server.of(await svc.get(server_id)))


@router.delete("/{server_id}")
async def delete_server(server_id: Id, svc: Service, _: Writer) -> Envelope[None]:
    await svc.delete(server_id)
    return Envelope(message="Server deleted")


@router.post("/{server_id}/start")
async def start_server(server_id: Id, svc: Service, _: Writer) -> Envelope[Server]:
    return Envelope(data=Server.of(await svc.start(server_id)), message="Server started")


@router.post("/{server_id}/stop")
async def stop_server(server_id: Id, svc: Service, _: Writer) -> Envelope[Server]:
    return Envelope(data=Server.of(await svc.stop(server_id)), message="Server stopped")
