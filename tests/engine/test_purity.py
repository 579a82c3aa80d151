"""The engine imports nothing of the transports or the store."""

from __future__ import annotations

import subprocess
import sys


def test_engine_imports_no_transport_or_store_library():
    code = (
        "import sys, pkgutil, importlib, agentkit_app.engine as e\n"
        "for m in pkgutil.walk_packages(e.__path__, 'agentkit_app.engine.'): importlib.import_module(m.name)\n"
        "bad = [n for n in ('reflex', 'fastapi', 'starlette', 'sqlmodel', 'sqlalchemy', 'redis') if n in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
