"""Fixtures of the auth tests: the account-mail plumbing (issue 15)."""

from tests.support.mail import mail_queue  # noqa: F401
