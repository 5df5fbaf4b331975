"""Events: the in-process publish/subscribe bus that the host and plugins talk through."""
