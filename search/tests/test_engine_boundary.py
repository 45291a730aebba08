"""The engine is a package of its own: importing every module of it loads no Django."""

import pkgutil
import subprocess
import sys

import search.engine


def test_the_engine_imports_no_django():
    modules = [
        m.name for m in pkgutil.walk_packages(search.engine.__path__, prefix="search.engine.")
    ]
    assert "search.engine.query.plan" in modules and "search.engine.codec" in modules
    script = (
        f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env={}
    )
    assert found.stdout.strip() == "[]"
