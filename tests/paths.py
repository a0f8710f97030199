"""Paths the tests share: the repository root and the bundled sample article (constants, not fixtures)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "examples" / "articles"
SAMPLE = SAMPLE_DIR / "zelenskyy-nato-strikes.txt"
