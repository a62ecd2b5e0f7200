"""Production settings plus the bare-Django ceiling page the benchmark compares with."""

from config.settings import *  # noqa: F401,F403

ROOT_URLCONF = "bench.urls"
