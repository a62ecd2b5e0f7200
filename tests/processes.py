"""Commands run in a fresh process, the way an operator runs them: settings are read
once, at start-up, from the environment, so production settings, other databases and
management commands' own start-up are tested this way."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the test run itself sets (its databases, browser tests' async-unsafe ORM calls,
# in-process tasks) must not leak into the process under test.
TEST_RUN_ONLY = {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "DJANGO_ALLOW_ASYNC_UNSAFE", "TASKS_BACKEND"}


def environment(**env: str) -> dict[str, str]:
    """This process's environment without the test run's own variables, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if k not in TEST_RUN_ONLY}
    return {**clean, "DB_CONN_MAX_AGE": "0", **env, "DJANGO_SETTINGS_MODULE": "config.settings"}


def run_python(*args: str, timeout: int = 120, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    """`python *args` in the project folder (or `cwd`, e.g. a copy of it), e.g.
    run_python("manage.py", "migrate")."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment(**env),
        capture_output=True, text=True, timeout=timeout,
    )
