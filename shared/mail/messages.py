"""The account mails, each rendered from one ``Document`` as HTML and plain text."""

from __future__ import annotations

from shared.mail.templates import Button, Document, Email, Paragraph, render

IGNORE = "If this was not you, you can ignore this mail: nothing changes until the link is used."


def verify_email(name: str, url: str, *, hours: int) -> Email:
    return render(Document(
        subject="Confirm your e-mail address for Atribuo",
        preheader="One click and your weekly digest can reach you.",
        heading=f"Hi {name}, is this your address?",
        blocks=[Paragraph("Confirm it and Atribuo can send you your weekly progress digest and help you "
                          "back in if you ever forget your password."),
                Button("Confirm my address", url),
                Paragraph(f"The link works once, for {hours} hours.", muted=True)],
        footer=[IGNORE],
    ))


def confirm_new_email(name: str, url: str, *, hours: int) -> Email:
    return render(Document(
        subject="Confirm your new e-mail address for Atribuo",
        preheader="Your account switches to this address once you confirm.",
        heading=f"Hi {name}, is this your new address?",
        blocks=[Paragraph("You asked to move your Atribuo account to this address. It switches when you "
                          "confirm; until then your old address stays in use."),
                Button("Confirm my new address", url),
                Paragraph(f"The link works once, for {hours} hours.", muted=True)],
        footer=[IGNORE],
    ))


def email_changed(name: str, new_email: str) -> Email:
    """To the old address: the account moved (the new address shown partly hidden)."""
    local, _, domain = new_email.partition("@")
    hidden = f"{local[:1]}***@{domain}"
    return render(Document(
        subject="Your Atribuo e-mail address was changed",
        preheader=f"Mail now goes to {hidden}.",
        heading=f"Hi {name}, your address changed",
        blocks=[Paragraph(f"Your Atribuo account now uses {hidden}. This address gets nothing more from us."),
                Paragraph("If you did not do this, reset your password at once and check your devices "
                          "(Settings → Sessions).", muted=True)],
    ))


def reset_password(name: str, url: str, *, minutes: int) -> Email:
    return render(Document(
        subject="Reset your Atribuo password",
        preheader="Choose a new password; the link works once.",
        heading=f"Hi {name}, forgot your password?",
        blocks=[Paragraph("Someone (we hope you) asked to reset the password of your Atribuo account. "
                          "Choosing a new one signs out every device."),
                Button("Choose a new password", url),
                Paragraph(f"The link works once, for {minutes} minutes.", muted=True)],
        footer=["If you did not ask for this, ignore this mail: your password stays as it is."],
    ))


def account_deleted(name: str) -> Email:
    return render(Document(
        subject="Your Atribuo account was deleted",
        preheader="Your character sheet and everything in it are gone.",
        heading=f"Goodbye, {name}",
        blocks=[Paragraph("Your Atribuo account and everything in it (skills, history, avatar, sessions) "
                          "were deleted just now, as you asked. Nothing more will be sent to this address."),
                Paragraph("If you did not do this, reply to this mail at once.", muted=True)],
    ))
