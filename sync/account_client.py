"""The CalDAV client of a calendar account: its server, credentials and address policy.

Managing accounts (create, change, test, delete) is ``resolvers.calendar_accounts``.
"""

from __future__ import annotations

from config.settings import Settings
from orm.sync_models import CalendarAccount
from sync import address_policy, secrets
from sync.client import CalendarClient


def client_for(row: CalendarAccount, settings: Settings) -> CalendarClient:
    """Return a CalDAV client on the account's calendar (raises SecretUnavailable)."""
    password = secrets.resolve(row.secret_enc, row.secret_env, settings)
    return CalendarClient(
        row.server_url,
        row.username,
        password,
        timeout=settings.caldav_timeout,
        calendar_url=row.calendar_url or row.server_url,
        policy=address_policy.from_settings(settings),
    )
