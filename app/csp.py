"""Content-Security-Policy values: closed for the API, strict for reply pages, GraphiQL's own.

Every response gets ``API`` unless its route sets a policy (``app.guards.SecurityHeaders``
only adds headers a response lacks).
"""

from __future__ import annotations

#: JSON answers: nothing may load, nothing may frame them.
API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

#: The reply-link pages: plain HTML whose only action is posting their own form.
REPLY_PAGE = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

#: GraphiQL's page (``app/graphiql.py``): scripts, styles and requests from this origin only,
#: no inline script; inline styles are needed by its editor (style attributes set by React).
GRAPHIQL = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
