"""Prometheus metrics of the host and its plugins: the metric objects and one-line recorders.

Every call site elsewhere is one call of a ``record_*`` / ``*_changed`` function below. Label
values are bounded: plugin names, route templates (never raw paths), task names, owners, HTTP
methods (anything unusual is ``OTHER``) and status codes. Children (``.labels(...)``) are made
once and kept in nested dicts, so the request path allocates no label tuple.

Several processes (``catalyst serve --workers N``): when ``PROMETHEUS_MULTIPROC_DIR`` is set
before ``prometheus_client`` is imported, every process writes its values to files there and
:func:`render` aggregates them (``MultiProcessCollector``). The serve command calls
:func:`prepare_multiprocess` before it starts workers; a worker calls :func:`process_exiting` on
its way out (the app's lifespan does). See ``docs/metrics.md`` for every metric.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Protocol

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

#: The Prometheus text format every scraper reads (0.0.4).
CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
#: The variable ``prometheus_client`` reads (at import) to write values to files.
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
#: The route label of a plugin request that matched no route of the plugin (404, 405).
UNMATCHED: Final = "<unmatched>"
#: The route label of a host request answered by a route without a path template (the UI).
NO_TEMPLATE: Final = "<ui>"
#: The ``owner`` label of the host's own event listeners and tasks.
CORE: Final = "core"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_TASK_BUCKETS: Final = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)

PLUGIN_REQUESTS: Final = Counter(
    "catalyst_plugin_http_requests_total",
    "Requests to plugin routes, by plugin, method, route template and status",
    ("plugin", "method", "route", "status"),
)
PLUGIN_LATENCY: Final = Histogram(
    "catalyst_plugin_http_request_duration_seconds",
    "Seconds from a plugin request's arrival to its answer (auth and handler included)",
    ("plugin", "method", "route", "status"),
)
HTTP_REQUESTS: Final = Counter(
    "catalyst_http_requests_total",
    "Requests to the host's own routes, by method, route template and status",
    ("method", "route", "status"),
)
HTTP_LATENCY: Final = Histogram(
    "catalyst_http_request_duration_seconds",
    "Seconds the host's own routes took to answer, body sent",
    ("method", "route", "status"),
)
TASK_RUNS: Final = Counter(
    "catalyst_task_runs_total",
    "Finished runs of scheduled tasks (failed ones too)",
    ("plugin", "task"),
)
TASK_FAILURES: Final = Counter(
    "catalyst_task_failures_total", "Runs of scheduled tasks that raised", ("plugin", "task")
)
TASK_DURATION: Final = Histogram(
    "catalyst_task_duration_seconds",
    "Seconds a scheduled task's run took",
    ("plugin", "task"),
    buckets=_TASK_BUCKETS,
)
EVENT_DELIVERIES: Final = Counter(
    "catalyst_event_deliveries_total", "Events handed to listeners, by listener owner", ("owner",)
)
EVENT_FAILURES: Final = Counter(
    "catalyst_event_failures_total",
    "Event listener calls that raised or timed out, by listener owner",
    ("owner",),
)
WS_CLIENTS: Final = Gauge(
    "catalyst_ws_clients", "Connected, authenticated WebSocket clients", multiprocess_mode="livesum"
)
WS_MESSAGES: Final = Counter(
    "catalyst_ws_messages_total",
    "WebSocket messages received from clients (in) and written to them (out)",
    ("direction",),
)
PLUGIN_STATE: Final = Gauge(
    "catalyst_plugin_state",
    "1 for the state each plugin is in, 0 for the states it left",
    ("plugin", "state"),
    multiprocess_mode="livemax",
)
PLUGIN_RESTARTS: Final = Counter(
    "catalyst_plugin_restarts_total",
    "Restarts of process-runtime plugins after their child ended on its own",
    ("plugin",),
)

_WS_IN: Final = WS_MESSAGES.labels("in")
_WS_OUT: Final = WS_MESSAGES.labels("out")

_Pair = tuple[Counter, Histogram]
#: plugin → route template → method → status → (counter child, histogram child)
_plugin_children: dict[str, dict[str, dict[str, dict[int, _Pair]]]] = {}
#: route template → method → status → (counter child, histogram child)
_host_children: dict[str, dict[str, dict[int, _Pair]]] = {}
_delivered: dict[str | None, Counter] = {}


def _pair(requests: Counter, latency: Histogram, *labels: str) -> _Pair:
    return requests.labels(*labels), latency.labels(*labels)


def record_plugin_request(
    plugin: str, route: str | None, method: str, status: int, seconds: float
) -> None:
    """One answered plugin request; ``route`` is the matched route's template (None: none)."""
    method = method if method in _METHODS else "OTHER"
    by_route = _plugin_children.get(plugin)
    if by_route is None:
        by_route = _plugin_children.setdefault(plugin, {})
    by_method = by_route.get(route or UNMATCHED)
    if by_method is None:
        by_method = by_route.setdefault(route or UNMATCHED, {})
    by_status = by_method.get(method)
    if by_status is None:
        by_status = by_method.setdefault(method, {})
    pair = by_status.get(status)
    if pair is None:
        labels = (plugin, method, route or UNMATCHED, str(status))
        pair = by_status.setdefault(status, _pair(PLUGIN_REQUESTS, PLUGIN_LATENCY, *labels))
    pair[0].inc()
    pair[1].observe(seconds)


def record_host_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request of a host route; ``route`` its template (None: no route matched)."""
    method = method if method in _METHODS else "OTHER"
    by_method = _host_children.get(route or UNMATCHED)
    if by_method is None:
        by_method = _host_children.setdefault(route or UNMATCHED, {})
    by_status = by_method.get(method)
    if by_status is None:
        by_status = by_method.setdefault(method, {})
    pair = by_status.get(status)
    if pair is None:
        labels = (method, route or UNMATCHED, str(status))
        pair = by_status.setdefault(status, _pair(HTTP_REQUESTS, HTTP_LATENCY, *labels))
    pair[0].inc()
    pair[1].observe(seconds)


def record_task(owner: str | None, task: str, seconds: float | None, failed: bool) -> None:
    """A finished run of ``owner``'s task ``task`` (not on the request path: no cache)."""
    plugin = owner or CORE
    TASK_RUNS.labels(plugin, task).inc()
    if failed:
        TASK_FAILURES.labels(plugin, task).inc()
    if seconds is not None:
        TASK_DURATION.labels(plugin, task).observe(seconds)


def record_event_delivery(owner: str | None) -> None:
    """An event handed to a listener of ``owner`` (None: the host's own)."""
    child = _delivered.get(owner)
    if child is None:
        child = _delivered.setdefault(owner, EVENT_DELIVERIES.labels(owner or CORE))
    child.inc()


def record_event_failure(owner: str | None) -> None:
    """A listener of ``owner`` raised or timed out."""
    EVENT_FAILURES.labels(owner or CORE).inc()


def ws_connected() -> None:
    WS_CLIENTS.inc()


def ws_disconnected() -> None:
    WS_CLIENTS.dec()


def record_ws_in() -> None:
    _WS_IN.inc()


def record_ws_out() -> None:
    _WS_OUT.inc()


def record_restart(plugin: str) -> None:
    PLUGIN_RESTARTS.labels(plugin).inc()


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def plugin_state_changed(record: _Named, old: str, new: str) -> None:
    """A plugin state listener (``PluginManager.state_listeners``): the one-hot state gauge."""
    if old != new:
        PLUGIN_STATE.labels(record.name, str(old)).set(0)
    PLUGIN_STATE.labels(record.name, str(new)).set(1)


# -- exposition and multiprocess mode -------------------------------------------------------


def multiprocess() -> bool:
    """Whether this process writes its values to ``PROMETHEUS_MULTIPROC_DIR`` files (decided by
    ``prometheus_client`` when it was imported)."""
    return bool(getattr(values.ValueClass, "_multiprocess", False)) and bool(
        os.environ.get(MULTIPROC_ENV)
    )


_multiprocess_registry: CollectorRegistry | None = None


def render() -> bytes:
    """The exposition text: this process's registry (with the process and GC collectors), or
    in multiprocess mode every process's values aggregated from the files."""
    global _multiprocess_registry
    if not multiprocess():
        return generate_latest(REGISTRY)
    if _multiprocess_registry is None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, os.environ[MULTIPROC_ENV])  # type: ignore[no-untyped-call]
        _multiprocess_registry = registry
    return generate_latest(_multiprocess_registry)


def prepare_multiprocess(directory: str | Path) -> Path:
    """Make ``directory`` the multiprocess folder of the processes started after this call:
    created if missing, emptied of a previous run's files, and exported as
    ``PROMETHEUS_MULTIPROC_DIR`` (which those processes inherit). Call it once, in the parent,
    before starting workers."""
    path = Path(directory).resolve()
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def process_exiting(pid: int | None = None) -> None:
    """A worker (``pid``, default this process) ends: its live gauges (WebSocket clients,
    plugin states) stop counting; its counters stay in the totals. No-op outside multiprocess
    mode. The parent may call it for a worker that died without reaching its own call."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and (pid is not None or multiprocess()):
        mark_process_dead(os.getpid() if pid is None else pid, directory)  # type: ignore[no-untyped-call]
