"""The installed `newsdesk` console script in fresh processes: the real model, configured only by the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.paths import SAMPLE


def test_the_installed_script_end_to_end(isolated_env: Path) -> None:
    """No monkeypatching: the console script in a fresh process, configured only by the environment."""
    script = Path(sys.executable).parent / "newsdesk"
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(isolated_env), "NEWSDESK_COLLECTION": "cli"}
    ingest = subprocess.run([str(script), "ingest", str(SAMPLE)], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    ask = subprocess.run(
        [str(script), "ask", "--json", "What did Stoltenberg say about self-defense?"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ask.returncode == 0, ask.stderr
    assert "legitimate military targets" in json.loads(ask.stdout)["answer"]
    assert (isolated_env / "catalogue" / "cli.sqlite3").exists()
