"""``catalyst serve`` with the admin UI mounted, for the UI tests and the screenshot script.

Runs the real command line. When the host's ``create_app`` does not mount the UI by itself, the
built ``frontend/dist`` is mounted here; ``mount_ui`` does nothing when it already is.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import catalyst.app
from catalyst.api.ui import mount_ui
from catalyst.cli import main

DIST = Path(
    os.environ.get("CATALYST_UI_TEST_DIST", Path(__file__).parents[2] / "frontend" / "dist")
)
_create_app = catalyst.app.create_app


def create_app(*args: Any, **kwargs: Any) -> Any:
    app = _create_app(*args, **kwargs)
    mount_ui(app, DIST)
    return app


# The CLI looks create_app up when it serves, so replacing the module attribute is enough.
catalyst.app.create_app = create_app

if __name__ == "__main__":
    sys.argv[0] = "catalyst"
    main()
