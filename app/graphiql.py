"""GraphiQL served by the service itself: the page, its vendored assets and their CSP.

The page and every script and style it loads come from ``app/static/graphiql`` (React,
GraphiQL and its explorer plugin from the npm registry, see LICENSES.txt there), so it
works on a machine without internet and under a policy that allows only this origin.
The page carries no inline script: ``boot.js`` takes the bearer token from the link
``make run`` prints (``#token=...``, never sent to the server), from this browser's
storage or from a form, and only then loads the schema with it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app import csp

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"

_PAGE = (ASSETS / "index.html").read_bytes()


def page() -> HTMLResponse:
    """The GraphiQL page (public: it holds no data; every request it makes needs a token)."""
    return HTMLResponse(_PAGE, headers={"Content-Security-Policy": csp.GRAPHIQL})


def assets() -> Mount:
    """The page's scripts and styles under ``/graphiql/``."""
    return Mount("/graphiql", StaticFiles(directory=ASSETS), name="graphiql")
