"""Fixtures of the mail flow tests: a real SMTP server, mail settings, people."""

from tests.mail.flow.mailflow import people, settings, smtp

__all__ = ["people", "settings", "smtp"]
