"""Envelopes passed between actors."""

from __future__ import annotations

import attrs

from domain.findings import SecurityFinding
from domain.traces import TraceSpan


@attrs.frozen
class CapturedSpan:
    """A span built by the capture actor, waiting for security analysis."""

    span: TraceSpan
    analysis_text: str  # request contents without role prefixes
    prior_findings: tuple[SecurityFinding, ...] = ()  # found inline (streaming checks, enforcement)
