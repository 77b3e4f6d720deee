"""Fixtures of the mail-feedback tests."""

from tests.support.mail import mail_queue  # noqa: F401
