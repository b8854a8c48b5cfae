"""A proxied request refused before it is forwarded (auth, rate limit, cost cap, data protection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class Rejection:
    """Why a proxied request is refused before it is forwarded: status, JSON body, extra headers."""

    status: int
    body: Mapping[str, Any]
    headers: tuple[tuple[bytes, bytes], ...] = ()
