"""Several instances as one: Redis fan-out (:mod:`.backplane`) and the instance registry."""
