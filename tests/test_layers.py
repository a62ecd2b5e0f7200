"""The apps' layering contract (pyproject.toml, [tool.importlinter]): config at the
bottom, then the members (accounts), forums, conversations, moderation, and the
community flows on top. A lower app that imports a higher one fails here, naming the
import chain."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.processes import ROOT, environment


def test_apps_import_only_the_layers_below_them():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is missing: `make test` installs the test extras"
    result = subprocess.run(
        [lint, "--no-cache"], cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
