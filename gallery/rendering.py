"""HTML pages from the Jinja2 templates in gallery/templates, through the app's environment (gallery.app), which
escapes every value in every template and treats an undefined name as an error, never as an empty string."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

TEMPLATES = web.AppKey("templates", jinja2.Environment)


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", headers={"Cache-Control": "no-cache"})
