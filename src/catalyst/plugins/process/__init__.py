"""The process runtime: each plugin in a child process, forked from a pre-imported template,
speaking the plugin protocol (``docs/plugin-protocol.md``) with the host, which serves every
``ctx`` call after its own permission checks."""
