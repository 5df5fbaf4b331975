"""Bounds every integer the API accepts: the signed 64-bit range of the database's ids.

Use these types for path, query and body integers, so a number the database cannot hold is a
400 with a message rather than an overflow deep in the driver (a 500)::

    async def get_server(server_id: Id) -> ...
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0
    count: Int64  # in a Pydantic body model
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field

from catalyst.db.models import INT64_MAX, INT64_MIN, fits_int64

#: Any integer a 64-bit column holds (body fields, query parameters).
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
#: A row id in a path: 1 to 2^63 - 1.
Id = Annotated[int, Path(ge=1, le=INT64_MAX)]

__all__ = ["INT64_MAX", "INT64_MIN", "Id", "Int64", "fits_int64"]
