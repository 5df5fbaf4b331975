"""Several instances of the host as one: the Redis backplane and the instance registry."""
