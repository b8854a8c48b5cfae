"""The dashboard at /dashboard, served by the proxy itself: static assets shipped in the package (no CDN, works
offline), and the Swagger UI at /api-doc over the OpenAPI document (assets from the ``swagger-ui-bundle`` package).

With auth on, a browser logs in with an API key once (``POST /dashboard/login``): the key goes into an HttpOnly,
SameSite=Strict cookie that the REST API accepts like a bearer token, so the page's script never holds the key and
another site cannot make the browser use it. Only the login page is served without credentials (besides /health);
the dashboard's assets and the Swagger UI need the cookie or a bearer key, and what the dashboard shows follows the
caller's role (``GET /api/v1/auth/whoami``).
"""

from __future__ import annotations

import html
from pathlib import Path

from quart import Blueprint, Response, redirect, request

from adapters.http.routes.common import services
from domain.errors import AuthError

ASSETS = Path(__file__).resolve().parent.parent / "dashboard"
SESSION_COOKIE = "llmtrace_key"
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml"}  # fmt: skip

routes = Blueprint("dashboard", __name__)


def _swagger_dir() -> Path | None:
    try:
        import swagger_ui_bundle
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


async def _signed_in() -> bool:
    """Whether the request carries a credential the API accepts (the session cookie or a bearer key)."""
    headers = {k.lower().encode("latin-1"): v.encode("latin-1") for k, v in request.headers.items()}
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie and b"authorization" not in headers:
        headers[b"authorization"] = f"Bearer {cookie}".encode("latin-1", "replace")
    try:
        await services().access.for_api(headers)
    except AuthError:
        return False
    return True


def _file(path: Path) -> Response:
    response = Response(path.read_bytes(), content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _login_page(message: str = "", status: int = 200) -> Response:
    error = f"<p class='error' role='alert'>{html.escape(message)}</p>" if message else ""
    page = (ASSETS / "login.html").read_text(encoding="utf-8").replace("<!--error-->", error)
    response = Response(page, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/dashboard")
@routes.get("/dashboard/")
async def index() -> Response:
    if not await _signed_in():
        return _login_page()
    return _file(ASSETS / "index.html")


@routes.post("/dashboard/login")
async def login() -> Response:
    form = await request.form
    key = (form.get("api_key") or "").strip()
    headers = {b"authorization": f"Bearer {key}".encode("latin-1", "replace")}
    try:
        await services().access.for_api(headers)
    except AuthError:
        return _login_page("That API key is not valid.", 401)
    response = redirect("/dashboard")
    response.set_cookie(
        SESSION_COOKIE, key, httponly=True, samesite="Strict", secure=request.scheme == "https", path="/"
    )
    return response  # type: ignore[return-value]


@routes.post("/dashboard/logout")
async def logout() -> Response:
    response = redirect("/dashboard")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response  # type: ignore[return-value]


@routes.get("/dashboard/assets/<name>")
async def asset(name: str) -> Response:
    path = ASSETS / name
    if name not in {p.name for p in ASSETS.iterdir()} or name == "login.html":
        return Response("not found", status=404)
    if name != "login.css" and not await _signed_in():
        return Response("sign in first", status=401)
    return _file(path)


@routes.get("/api-doc")
@routes.get("/api-doc/")
async def swagger() -> Response:
    if not await _signed_in():
        return redirect("/dashboard")  # type: ignore[return-value]
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>LLMTrace API</title>"
        "<link rel='stylesheet' href='/api-doc/assets/swagger-ui.css'></head><body><div id='swagger'></div>"
        "<script src='/api-doc/assets/swagger-ui-bundle.js'></script>"
        "<script src='/api-doc/assets/init.js'></script></body></html>"
    )
    return Response(page, content_type="text/html; charset=utf-8")


@routes.get("/api-doc/assets/<name>")
async def swagger_asset(name: str) -> Response:
    if not await _signed_in():
        return Response("sign in first", status=401)
    if name == "init.js":
        script = (
            "window.ui = SwaggerUIBundle({url: '/api-doc/openapi.json', dom_id: '#swagger', "
            "withCredentials: true, tryItOutEnabled: false});"
        )
        return Response(script, content_type="text/javascript; charset=utf-8")
    folder = _swagger_dir()
    if folder is None or name not in ("swagger-ui.css", "swagger-ui-bundle.js"):
        return Response("not found", status=404)
    return _file(folder / name)
