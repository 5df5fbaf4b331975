"""Only here so the entry path exists: this fixture is about its plugin.json."""
