"""Child processes of a run: same repository, same throwaway data directory, bench settings."""

import os
import subprocess
import sys
from pathlib import Path

from search.tests.ports import free_port

__all__ = ["env", "free_port", "manage", "stop"]

ROOT = Path(__file__).resolve().parent.parent


def env():
    e = dict(os.environ)
    e["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def manage(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env(), **kwargs
    )


def stop(proc, *, timeout):
    """Ask a child to exit, and kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
