"""HTTP edge of the host: request body limits, cross-origin checks, proxy headers, OpenAPI."""
