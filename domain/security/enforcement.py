"""Enforcement verdicts on a request (reference section 5): log, flag or block, and what the client sees."""

from __future__ import annotations

import attrs

from domain.findings import SecurityFinding

ACTION_RANK = {"log": 0, "flag": 1, "block": 2}


@attrs.frozen
class EnforcementDecision:
    action: str  # log | flag | block
    findings: tuple[SecurityFinding, ...] = ()

    def header_value(self) -> str:
        return ",".join(f"{f.finding_type}:{f.confidence:.2f}" for f in self.findings)

    def block_body(self) -> dict[str, object]:
        reasons = "; ".join(f"{f.finding_type}: {f.description}" for f in self.findings)
        return {
            "error": {
                "message": f"Request blocked by security enforcement: {reasons}",
                "type": "security_enforcement_blocked",
                "findings": [
                    {
                        "type": f.finding_type,
                        "severity": f.severity.value,
                        "confidence": f.confidence,
                        "description": f.description,
                    }
                    for f in self.findings
                ],
            }
        }
