"""Content-Security-Policy values: closed for the API, strict for reply pages, GraphiQL's own.

Every response gets ``API`` unless its route sets a policy (``app.guards.SecurityHeaders``
only adds headers a response lacks).  GraphiQL's policy is derived from its page: each
inline ``<script>`` is allowed by its SHA-256 hash, and scripts, styles and fonts come from
``GRAPHIQL_ASSETS`` (today the CDN strawberry's page loads them from; serving them locally
is the one-line change ``GRAPHIQL_ASSETS = "'self'"``).
"""

from __future__ import annotations

import base64
import hashlib
import re

#: JSON answers: nothing may load, nothing may frame them.
API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

#: The reply-link pages: plain HTML whose only action is posting their own form.
REPLY_PAGE = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

#: Where GraphiQL's scripts, styles and fonts come from.
GRAPHIQL_ASSETS = "https://unpkg.com"

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def graphiql(html: str, assets: str = GRAPHIQL_ASSETS) -> str:
    """The policy of GraphiQL's page ``html``: inline scripts by hash, assets from one place."""
    scripts = " ".join(_sha256(body) for body in _INLINE_SCRIPT.findall(html))
    return (
        f"default-src 'none'; script-src {assets} {scripts}; "
        f"style-src {assets} 'unsafe-inline'; font-src {assets} data:; img-src {assets} data:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
