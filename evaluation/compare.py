"""Compare two evaluation runs and guard quality: metric deltas side by side, and floors that fail CI.

Both checks read `metrics.json` only, so they work on runs made on another machine or an older version.
"Worse" depends on the metric: for `false_abstention` and latencies a rise is a drop in quality.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from evaluation.metrics import ALL_METRICS
from evaluation.report import LABELS, format_value

LOWER_IS_BETTER = frozenset({"false_abstention", "latency_p50_ms", "latency_p95_ms"})


class RunError(ValueError):
    """A run directory, metrics file or thresholds file that cannot be read; the message names the file."""


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: cannot read {what} ({exc})") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: a {what} must be a JSON object")
    return data


def load_metrics(run: str | Path) -> dict[str, Any]:
    """`metrics.json` of a run, given the run directory or the file itself."""
    path = Path(run)
    if path.is_dir():
        path = path / "metrics.json"
    data = _read_json(path, "metrics file")
    if not isinstance(data.get("overall"), dict):
        raise RunError(f"{path}: not a newsdesk eval metrics file (no `overall` object)")
    return data


def is_worse(metric: str, before: float, after: float) -> float:
    """How much worse `after` is than `before` in the metric's own units (negative when it improved)."""
    return after - before if metric in LOWER_IS_BETTER else before - after


@dataclass(frozen=True)
class Delta:
    metric: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


def deltas(a: Mapping[str, Any], b: Mapping[str, Any], names: Sequence[str] = ALL_METRICS) -> list[Delta]:
    """Each metric of the two runs' overall numbers, before and after."""
    return [Delta(m, a["overall"].get(m), b["overall"].get(m)) for m in names]


def regressions(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    metrics: Sequence[str],
    max_drop: float | None = None,
    fail_under: float | None = None,
) -> list[str]:
    """Why run `b` is not acceptable against run `a` for the chosen metrics (empty when it is)."""
    problems: list[str] = []
    for name in metrics:
        before, after = a["overall"].get(name), b["overall"].get(name)
        if after is None:
            problems.append(f"{name}: missing in the new run")
            continue
        if fail_under is not None and after < fail_under:
            problems.append(f"{name}: {after:.4g} is below --fail-under {fail_under:g}")
        if max_drop is not None and before is not None and is_worse(name, before, after) > max_drop:
            problems.append(f"{name}: went from {before:.4g} to {after:.4g}, worse by more than {max_drop:g}")
    return problems


def load_thresholds(path: str | Path) -> dict[str, dict[str, float]]:
    """A thresholds file: `{"min": {metric: floor}, "max": {metric: ceiling}}` (other keys are comments)."""
    data = _read_json(Path(path), "thresholds file")
    result: dict[str, dict[str, float]] = {}
    for bound in ("min", "max"):
        values = data.get(bound, {})
        if not isinstance(values, dict):
            raise RunError(f"{path}: `{bound}` must be an object of metric names to numbers")
        for name, value in values.items():
            if name not in ALL_METRICS:
                raise RunError(f"{path}: unknown metric {name!r} in `{bound}` (known: {', '.join(ALL_METRICS)})")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise RunError(f"{path}: `{bound}.{name}` must be a number")
        result[bound] = {name: float(value) for name, value in values.items()}
    return result


def threshold_failures(overall: Mapping[str, float | None], thresholds: Mapping[str, Mapping[str, float]]) -> list[str]:
    """Metrics outside their floors (`min`) or ceilings (`max`); a metric that did not apply counts as failing."""
    problems: list[str] = []
    for name, floor in thresholds.get("min", {}).items():
        value = overall.get(name)
        if value is None or value < floor:
            problems.append(f"{name} = {format_value(name, value)} is below the floor {format_value(name, floor)}")
    for name, ceiling in thresholds.get("max", {}).items():
        value = overall.get(name)
        if value is None or value > ceiling:
            problems.append(f"{name} = {format_value(name, value)} is above the ceiling {format_value(name, ceiling)}")
    return problems


def _signed(metric: str, change: float | None) -> str:
    if change is None:
        return "–"
    if metric.endswith("_ms"):
        return f"{change:+.0f} ms"
    if metric in ("token_f1", "mrr_at_k"):
        return f"{change:+.3f}"
    return f"{100 * change:+.1f} pts"


def compare_table(a: Mapping[str, Any], b: Mapping[str, Any], label_a: str, label_b: str) -> Table:
    """A rich table of every metric for both runs with the change, green when better and red when worse."""
    table = Table(title="newsdesk eval compare", show_lines=False)
    table.add_column("metric")
    table.add_column(label_a, justify="right")
    table.add_column(label_b, justify="right")
    table.add_column("change", justify="right")
    for d in deltas(a, b):
        style = ""
        if d.change and d.before is not None and d.after is not None:
            style = "red" if is_worse(d.metric, d.before, d.after) > 0 else "green"
        change = _signed(d.metric, d.change)
        table.add_row(
            LABELS.get(d.metric, d.metric),
            format_value(d.metric, d.before),
            format_value(d.metric, d.after),
            f"[{style}]{change}[/]" if style else change,
        )
    return table
