"""The plugin host runtime: manifest, discovery, loading and lifecycle of Catalyst plugins."""
