"""Spans unwritten at shutdown, kept in a local JSON-lines file until the next start writes them."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from adapters.codec import span_from_json, span_to_json
from domain.traces import TraceSpan

log = logging.getLogger("llmtrace.storage")


class JsonLinesSpill:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def save(self, spans: Sequence[TraceSpan]) -> None:
        if not spans:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(span_to_json(s), ensure_ascii=True) + "\n" for s in spans)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(lines)
            out.flush()
            os.fsync(out.fileno())

    def take(self) -> list[TraceSpan]:
        if not self.path.exists():
            return []
        # Rename first: a crash while the spans are re-queued leaves them in the renamed file, not in both.
        taking = self.path.with_name(self.path.name + ".taking")
        os.replace(self.path, taking)
        spans: list[TraceSpan] = []
        bad = 0
        with taking.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    continue
                try:
                    spans.append(span_from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    bad += 1
        if bad:
            log.error("spill file %s: %d unreadable lines skipped", self.path, bad)
        taking.unlink()
        return spans
