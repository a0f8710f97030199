"""Run one measured step in its own process: wall time, CPU time and peak RSS of exactly that process tree.

Each pipeline runs in a fresh child so its peak resident memory is its own (`wait4` returns the child's rusage,
which includes the grandchildren it waited for) and no model or cache leaks from one measurement into the next.
CPU seconds are reported next to wall time because this machine is shared: when other work competes for the two
cores, wall time stretches while CPU time stays close to the work actually done.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class ProcResult:
    cmd: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    stdout: str
    stderr: str

    def check(self, what: str, ok_codes: tuple[int, ...] = (0,)) -> ProcResult:
        if self.returncode not in ok_codes:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{what} failed (exit {self.returncode}): {' '.join(self.cmd)}\n{tail}")
        return self


_model_cache: list[Path] = []


def use_model_cache(path: Path) -> None:
    """Every child from now on finds the int8 model in `path` (built once and measured separately), not in the
    user's cache, which may be missing or stale and would put a build inside some other timing."""
    _model_cache[:] = [path]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without newsdesk settings, plus offline flags, the run's model cache and the repo on
    PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "CHROMA_", "LLM_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "LLM_PROVIDER": "none"})
    if _model_cache:
        env["NEWSDESK_MODEL_CACHE"] = str(_model_cache[0])
    env.update(extra or {})
    return env


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def run_measured(cmd: list[str], env: dict[str, str], cwd: Path, timeout_s: float = 3600) -> ProcResult:
    """Run `cmd` to completion and return its exit code, wall/CPU seconds, peak RSS and output."""
    cwd.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout_s, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ProcResult(
            cmd=cmd,
            returncode=proc.returncode,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
