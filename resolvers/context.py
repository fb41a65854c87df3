"""The per-request context: who is asking, the settings and the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry

from config.settings import Settings
from orm.models import Associate
from resolvers.loaders import Loaders


@dataclass
class Context:
    viewer: Associate
    settings: Settings
    loaders: Loaders = field(default_factory=Loaders)
    #: Over a websocket: the hash of the connection's token (subscription limits).
    token: str = ""


Info = strawberry.Info[Context, None]
