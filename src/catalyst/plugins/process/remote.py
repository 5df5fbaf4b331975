"""A process-runtime plugin as the host holds it: a generation whose code runs in a child.

:class:`ProcessGeneration` is a :class:`~catalyst.plugins.registrations.Registrations` like an
in-process generation, so ownership, the two scopes, the published table, tasks in the host's
scheduler and listeners on the host's bus are the same objects and rules. What differs is who
registers: the child announces each registration (``register``), and the host makes it through
its own :class:`~catalyst.plugins.context_core.ContextCore` (validating it again) with a *proxy*
handler that calls back into the child. Every other ``ctx`` call the child makes is served by the
same core, after the host's permission checks; the child holds no database connection and no
secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.responses import Response

from catalyst.cancellation import host_cancelled
from catalyst.errors import BadGateway, CatalystError, describe
from catalyst.log import get_logger
from catalyst.plugins.config_schema import environment
from catalyst.plugins.context import PluginContext
from catalyst.plugins.context_core import ContextCore, PluginHost
from catalyst.plugins.logs import PluginLogger, plugin_error
from catalyst.plugins.manifest import PluginManifest
from catalyst.plugins.process.forwarding import confined, has_body, local, wire_principal
from catalyst.plugins.process.link import ChildLink
from catalyst.plugins.process.protocol import PROTOCOL_VERSION, Message, RemoteError
from catalyst.plugins.process.spawner import TemplateGone, template
from catalyst.plugins.process.status import SandboxStatus
from catalyst.plugins.registrations import Publisher, Registrations
from catalyst.plugins.routing import Middleware, PluginTable, build_table
from catalyst.plugins.scheduler import Scheduler
from catalyst.sdk.context import WebSocketClient
from catalyst.sdk.errors import HTTPError, RegistrationError
from catalyst.sdk.request import Request

log = get_logger("plugins.process")
_PREFIX = "/api/plugins/"
#: How long a retiring generation's child may go on answering what it was asked before it stops.
DRAIN_SECONDS = 10.0


class ProcessGeneration(Registrations):
    """One child process of a plugin and everything it registered (owned here)."""

    def __init__(
        self,
        name: str,
        link: ChildLink,
        manifest: PluginManifest,
        host: PluginHost,
        logger: PluginLogger,
        *,
        scheduler: Scheduler,
        publisher: Publisher,
    ) -> None:
        super().__init__(name, scheduler, publisher)
        self.link = link
        self.manifest = manifest
        self.host = host
        self.logger = logger
        self.core = ContextCore(self, manifest, host, logger)
        self.hooks: dict[str, Callable[..., Any]] = {}
        #: The ctx the host's hook caller passes: unused, the child has its own.
        self.ctx: PluginContext | None = None
        self.module: Any = None
        #: rid → how to undo that registration here.
        self.remote: dict[int, Callable[[], None]] = {}
        self.refusals: list[str] = []
        #: Whether the child was started with ``net.outbound`` (its sandbox allows TCP connect).
        self.net_outbound = False
        #: The memory limit it runs under (the manifest's, capped by the host's setting).
        self.memory_mb = manifest.limits.memory_mb
        #: Set when the host stops this generation: its child's exit is then no crash.
        self.retiring = False
        #: The variables its config declared (``env``), as the child got them.
        self.environment: dict[str, str] = {}
        self._watch: asyncio.Task[None] | None = None
        self._prefix = f"{_PREFIX}{name}"

    # -- the child's calls -------------------------------------------------------------------

    def on_log(self, message: Message) -> None:
        level = message.get("level")
        if level not in ("debug", "info", "warning", "error"):
            level = "info"
        fields = message.get("fields")
        self.logger._emit(
            str(level), str(message.get("message", "")), fields if isinstance(fields, dict) else {}
        )

    def on_output(self, line: str) -> None:
        if line.strip():
            self.logger._emit("info", line, {"stream": "output"})

    def refused(self, what: str, exc: BaseException) -> None:
        """The host refused a registration the child announced: fail the hook in progress
        (see :meth:`hook_proxy`), and say so in the plugin's log."""
        message = str(exc)
        self.refusals.append(message)
        plugin_error(self.logger, f"registration refused: {what}", exc)

    # -- proxies: host-owned registrations that call into the child --------------------------

    def route_proxy(self) -> Callable[[Request], Any]:
        link, prefix = self.link, self._prefix

        async def route(request: Request) -> Response:
            scope = request.scope
            try:
                body = await request.body() if has_body(scope) else b""
            except ClientDisconnect:  # the caller left before sending it all: not the plugin's
                raise HTTPError(499, "Client closed the request") from None
            full: str = scope["path"]
            message: Message = {
                "t": "http",
                "method": scope["method"],
                "path": full[len(prefix) :] or "/",
                "full_path": full,
                "query_string": scope.get("query_string", b""),
                "headers": scope["headers"],  # (name, value) pairs: arrays on the wire
                "body": body,
                "user": wire_principal(scope.get("catalyst.principal")),
                "client": list(scope["client"]) if scope.get("client") else None,
                "server": list(scope["server"]) if scope.get("server") else None,
                "scheme": scope.get("scheme", "http"),
                "http_version": scope.get("http_version", "1.1"),
            }
            try:
                response = await link.http(message)
            except RemoteError as exc:
                raise local(exc) from None
            except BadGateway:
                # The request picked this generation's table just before a reload swapped it out,
                # and its child has stopped since: the generation serving now answers it (as the
                # old code would still have, in-process).
                current = self.successor(scope["method"], message["path"])
                if current is None:
                    raise
                forwarded: Response = await current(request)
                return forwarded
            response.raw_headers = confined(response.raw_headers)
            return response

        return route

    def successor(self, method: str, path: str) -> Callable[[Request], Any] | None:
        """The route of the generation that replaced this retired one, for a request that
        reached this one too late; None when this one still serves or nothing matches."""
        current = self._publisher.table(self.name) if self.retiring else None
        if current is None:
            return None
        route, params, _other = current.find(method, path)
        if route is None:
            return None
        call: Callable[[Request], Any] = route.call

        async def forward(request: Request) -> Any:
            request.scope["path_params"] = params
            return await call(request)

        return forward

    def ws_proxy(self, rid: int) -> Callable[..., Any]:
        link = self.link

        async def handler(data: Any, client_id: str, client: WebSocketClient) -> Any:
            user = {
                "client_id": client_id,
                "id": client.user_id,
                "username": client.username,
                "roles": list(client.roles),
                "permissions": sorted(client.permissions),
            }
            try:
                return await link.call({"t": "ws", "rid": rid, "data": data, "client": user})
            except RemoteError as exc:
                raise local(exc) from None

        return handler

    def task_proxy(self, rid: int, label: str) -> Callable[[], Any]:
        link = self.link

        async def task() -> None:
            await link.call({"t": "task", "rid": rid})

        task.__name__ = label
        return task

    def listener_proxy(self, rid: int) -> Callable[[Any, str], Any]:
        link = self.link

        async def listener(data: Any, event: str) -> None:
            await link.call({"t": "event", "rid": rid, "event": event, "data": data})

        return listener

    def hook_proxy(self, hook: str) -> Callable[..., Any]:
        link = self.link

        async def call(_ctx: Any, *args: Any) -> None:
            if hook == "on_config_change":  # the child's cached values first
                link.notify({"t": "config", "values": self.host.config.effective(self.name)})
                if "on_config_change" not in self._child_hooks:
                    return
            self.refusals.clear()
            await link.call({"t": "hook", "hook": hook, "args": list(args)})
            if self.refusals:
                raise RegistrationError(self.refusals[0])

        return call

    @staticmethod
    def middleware_stub(label: str) -> Middleware:
        """What stands in the host for a middleware the child runs: never called (the host's
        table has no middleware), named as the plugin named it."""

        async def stub(request: Request, call_next: Any) -> Any:
            return await call_next(request)

        stub.__name__ = label or "middleware"
        return stub

    def set_hooks(self, names: list[str]) -> None:
        self._child_hooks = frozenset(names)
        # on_enable always goes to the child, hook or not: it is where the child moves to its
        # enable scope, as the host does (see Registrations.begin_enable).
        self.hooks = {h: self.hook_proxy(h) for h in {*names, "on_enable", "on_config_change"}}

    # -- scopes and the child's life ---------------------------------------------------------

    async def close_enable_scope(self) -> list[str]:
        failed = await super().close_enable_scope()
        if self.link.alive:
            try:
                async with asyncio.timeout(5):
                    await self.link.call({"t": "release", "scope": "enable"})
            except (TimeoutError, CatalystError, RemoteError) as exc:
                log.warning("plugin_release_failed", plugin=self.name, error=str(exc))
        return failed

    def table(self) -> PluginTable:
        """The published table: the child runs the middleware around its own routes, so the
        host's copy of the table has none (``middleware`` only names what the child has)."""
        return build_table(self.name, self.routes, (), self.public, dict(self.ws_handlers))

    def watch(self, interval: float, timeout: float, memory_mb: int) -> None:
        """Ping the child every ``interval`` seconds and kill it when it does not answer within
        ``timeout``, or when its unique memory passes ``memory_mb``."""

        async def run() -> None:
            while self.link.alive:
                await asyncio.sleep(interval)
                rss, _cpu = self.link.usage()
                if rss is not None and rss > memory_mb * 1024 * 1024:
                    self.link.kill(f"out of memory ({rss // 1048576} MiB > {memory_mb} MiB limit)")
                    return
                if not await self.link.ping(timeout) and self.link.alive:
                    self.link.kill(f"unresponsive: no answer to a ping within {timeout:g} s")
                    return

        self._watch = asyncio.get_running_loop().create_task(run())

    async def retire(self) -> list[str]:
        """Undo everything it registered here, then stop the child."""
        first = not self.retiring
        self.retiring = True  # its exit is expected: not a crash
        failed = await self.undo_all()
        self.remote.clear()
        if first:
            if self._watch is not None:
                self._watch.cancel()
            await self.link.drain(grace=DRAIN_SECONDS)
            await self.link.shutdown(grace=2.0)
            self.link.close()
        return failed

    def sandbox_status(self) -> SandboxStatus:
        raw = self.link.sandbox
        level = raw.get("level")
        return SandboxStatus(
            level if level in ("full", "partial", "none") else "partial",
            {str(k): bool(v) for k, v in (raw.get("layers") or {}).items()},
            [str(m) for m in raw.get("missing") or ()],
            int(raw.get("landlockAbi") or 0),
        )

    _child_hooks: frozenset[str] = frozenset()


async def spawn(
    name: str,
    folder: Path,
    manifest: PluginManifest,
    *,
    data_folder: Path,
    granted: frozenset[str],
    config: dict[str, Any],
    host: PluginHost,
    logger: PluginLogger,
    scheduler: Scheduler,
    publisher: Publisher,
    timeout: float,  # noqa: ASYNC109 - split over the handshake and the import
    serve_call: Callable[[ProcessGeneration, Message], None],
    memory_mb: int,
) -> ProcessGeneration:
    """Start a child for ``name``, shake hands and import its code; returns the generation
    (its hooks known, ``on_load`` not yet run). Raises RemoteError for an import failure."""
    assert manifest.backend is not None
    data_folder.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - a few local syscalls
    spec = {
        "plugin": name,
        "folder": str(folder.resolve()),  # noqa: ASYNC240
        "data_folder": str(data_folder.resolve()),  # noqa: ASYNC240
        "net_outbound": "net.outbound" in granted,
        "memory_mb": memory_mb,
        "extra_env": environment(manifest.config, config),
    }
    try:
        spawned = await template().spawn(spec)
    except (OSError, TemplateGone) as exc:
        raise StartFailed("start", f"its process could not be started: {exc}", "") from exc

    def generation() -> ProcessGeneration:
        return gen

    link = ChildLink(
        name,
        spawned,
        on_call=lambda m: serve_call(generation(), m),
        on_log=lambda m: generation().on_log(m),
        on_output=lambda line: generation().on_output(line),
    )
    gen = ProcessGeneration(
        name, link, manifest, host, logger, scheduler=scheduler, publisher=publisher
    )
    hello = {
        "t": "hello",
        "protocol": PROTOCOL_VERSION,
        "plugin": name,
        "version": manifest.version,
        "folder": spec["folder"],
        "entry": manifest.backend.entry,
        "data_folder": spec["data_folder"],
        "manifest": manifest.to_json(),
        "config": config,
        "granted": sorted(granted),
    }
    try:
        await link.start(hello, timeout)
        async with asyncio.timeout(timeout):
            loaded = await link.call({"t": "load"})
    except BaseException as exc:
        await gen.retire()
        if host_cancelled(exc):
            raise
        raise _start_failed(exc, gen, timeout) from exc
    gen.set_hooks(list(loaded.get("hooks") or ()))
    gen.net_outbound = bool(spec["net_outbound"])
    gen.memory_mb = memory_mb
    gen.environment = environment(manifest.config, config)
    return gen


class StartFailed(Exception):
    """A child could not be started or could not import the plugin: ``phase`` is ``start`` or
    ``import``; ``detail`` the child's traceback or the tail of its output."""

    def __init__(self, phase: str, message: str, detail: str) -> None:
        super().__init__(message)
        self.phase, self.message, self.detail = phase, message, detail


def _start_failed(exc: BaseException, gen: ProcessGeneration, timeout: float) -> StartFailed:
    exit_info = gen.link.exit
    tail = exit_info.stderr_tail if exit_info else gen.link.output_tail()
    if isinstance(exc, RemoteError):
        return StartFailed("import", exc.remote_description, exc.remote_traceback or tail)
    if isinstance(exc, TimeoutError):
        return StartFailed("import", f"timed out after {timeout:g} s", tail)
    why = exit_info.reason if exit_info else describe(exc)
    return StartFailed("start", f"its process ended before it was ready ({why})", tail)
