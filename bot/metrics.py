"""Prometheus text counters. Labels are fixed words, never identities or numbers."""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self._counters: Counter[tuple[str, str]] = Counter()

    def count(self, name: str, outcome: str, by: int = 1) -> None:
        self._counters[(name, outcome)] += by

    def value(self, name: str, outcome: str) -> int:
        return self._counters[(name, outcome)]

    def render(self, gauges: dict[str, float] | None = None) -> str:
        lines = []
        for name in sorted({name for name, _ in self._counters}):
            lines.append(f"# TYPE empfang_{name}_total counter")
            for (metric, outcome), value in sorted(self._counters.items()):
                if metric == name:
                    lines.append(f'empfang_{name}_total{{outcome="{outcome}"}} {value}')
        for name, gauge in sorted((gauges or {}).items()):
            lines.append(f"# TYPE empfang_{name} gauge")
            lines.append(f"empfang_{name} {gauge}")
        return "\n".join(lines) + "\n"
