"""The production settings refuse to start without secrets, and pass Django's deploy check with them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--settings=config.settings.prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_prod_refuses_to_start_without_secrets():
    result = run_check({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_prod_deploy_check_is_clean_with_secrets():
    result = run_check(
        {
            "DJANGO_SECRET_KEY": "x" * 20 + "a-long-random-production-secret-value-0123456789",
            "DJANGO_ALLOWED_HOSTS": "speeches.example.org",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
