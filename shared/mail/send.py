"""Delivering one rendered mail through SES v2 (``sesv2`` ``send_email``, raw MIME content).

Raw content rather than SES's "simple" form because only a MIME message we build ourselves carries
every header a mail needs (RFC 8058's ``List-Unsubscribe`` + ``List-Unsubscribe-Post`` on digests)
together with a ``multipart/alternative`` text + HTML body, on every SES version and in moto alike.
The boto3 client is the container's lazily created one (``shared.aws``), so importing this module
costs nothing and boto3 loads on the first mail.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from shared.clients import aws
from shared.core.errors import MailUnavailableError
from shared.core.observability import logger
from shared.core.settings import get_settings
from shared.mail.templates import Email

SENDER_NAME = "Atribuo"


def mime(email: Email, *, to: str, sender: str, headers: dict[str, str] | None = None) -> bytes:
    """The RFC 5322 message: text part first, HTML as the preferred alternative, UTF-8 throughout."""
    message = EmailMessage()
    message["From"] = str(Address(SENDER_NAME, addr_spec=sender))
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return message.as_bytes()


def send(email: Email, *, to: str, sender: str, headers: dict[str, str] | None = None) -> str:
    """Send ``email`` to one address; returns SES's message id.

    SES or network failures become ``MailUnavailableError`` (503), so an HTTP caller answers in the
    one error envelope and a queue consumer reports the record as failed (it is redelivered).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    raw = mime(email, to=to, sender=sender, headers=headers)
    configuration_set = get_settings().mail_configuration_set  # bounces and complaints come back through it
    extra = {"ConfigurationSetName": configuration_set} if configuration_set else {}
    try:
        response = aws.client("sesv2").send_email(
            FromEmailAddress=sender, Destination={"ToAddresses": [to]}, Content={"Raw": {"Data": raw}}, **extra)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("mail not sent", extra={"error": type(exc).__name__})
        raise MailUnavailableError("mail cannot be sent right now, try again shortly") from exc
    return str(response["MessageId"])
