"""Whether this task is applying a change another instance of the cluster made.

While it is (:func:`catalyst.plugins.cluster_sync.applying`), the plugin changes it makes here
announce no core events: the instance where the change was made announced them, and an event is
delivered once per cluster (``docs/events.md``).
"""

from __future__ import annotations

from contextvars import ContextVar

APPLYING: ContextVar[bool] = ContextVar("catalyst_cluster_applying", default=False)
