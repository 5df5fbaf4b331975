"""Several instances of the host as one: the instance registry and the Redis backplane."""
