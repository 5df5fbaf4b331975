"""WebSocket gateway: connections, envelopes and dispatch to plugin handlers."""
