"""Fails on import: discovery must never import plugin code, the loader reports this as an error."""

raise RuntimeError("raises-on-import: this module must not be imported by discovery")
