"""Errors a use case reports to whichever adapter drives it (HTTP maps them to status codes)."""


class AuthError(Exception):
    """Missing or invalid credentials (401)."""


class Forbidden(Exception):
    """Authenticated, but not allowed (403)."""


class NotFound(Exception):
    """No such resource for this caller (404); also used for other tenants' resources, so ids cannot be probed."""


class Invalid(Exception):
    """The request is malformed (400)."""


class Busy(Exception):
    """The service cannot take this now (503); the client may retry later."""
