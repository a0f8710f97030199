"""The run's one int8 ONNX build, made by two processes racing on an empty cache (helpers, not fixtures)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.paths import ROOT

BUILD_SCRIPT = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from newsdesk.settings import bundled_model_path
from retrieval.onnx_embedder import OnnxEmbedder
e = OnnxEmbedder(bundled_model_path(), Path(sys.argv[1]))
print(repr(e.embed_array(["Two builders, one model."])[0, :4].tolist()))
"""


@dataclass(frozen=True)
class RaceBuild:
    """What two processes that started on the same empty model cache at once reported."""

    cache: Path
    returncodes: list[int]
    outputs: list[tuple[str, str]]  # (stdout, stderr) of each


def race_build(cache: Path) -> RaceBuild:
    """Start two builders on `cache` at once, as two `newsdesk` commands started together would, and wait."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD_SCRIPT, str(cache)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    return RaceBuild(cache, [p.returncode for p in procs], outputs)
