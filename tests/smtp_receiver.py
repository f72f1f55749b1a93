"""A real SMTP server for the email tests, independent of Kairos: aiosmtpd
receives each message, Python's own `email` package parses it, and dkimpy
verifies its DKIM signature against the public keys the test publishes in a
JSON file (standing in for DNS). Each message becomes one JSON line in the
log. Recipients steer the server: `hardbounce@…` is refused with 550 5.1.1,
`greylist@…` is refused with 451 4.7.1 the first time and accepted after.

With SMTP_TLS_CERT and SMTP_TLS_KEY set it requires STARTTLS (or, with
SMTP_IMPLICIT_TLS=1 too, speaks only TLS from the first byte); with
SMTP_AUTH=user:password it requires AUTH (PLAIN or LOGIN) after TLS.

Usage: smtp_receiver.py PORT LOG_FILE DNS_JSON_FILE   (prints "ready")
"""
import asyncio
import email
import os
import ssl
import email.policy
import json
import sys

import dkim
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

PORT, LOG, DNS = int(sys.argv[1]), sys.argv[2], sys.argv[3]
greylisted = set()


def dns_txt(name, timeout=5):
    try:
        with open(DNS) as f:
            records = json.load(f)
    except FileNotFoundError:
        return None
    key = name.decode() if isinstance(name, bytes) else name
    value = records.get(key.rstrip("."))
    return value.encode() if value else None


# Transactions in progress right now (MAIL FROM seen, DATA not finished),
# and the most seen at once: what a sender's concurrency limit holds down.
in_progress = 0
DATA_DELAY = float(os.environ.get("SMTP_DATA_DELAY_MS", "0")) / 1000


class Handler:
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        global in_progress
        if not getattr(session, "in_transaction", False):
            in_progress += 1
            session.in_transaction = True
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    @staticmethod
    def end_transaction(session):
        global in_progress
        if getattr(session, "in_transaction", False):
            in_progress -= 1
            session.in_transaction = False

    async def handle_RSET(self, server, session, envelope):
        self.end_transaction(session)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.end_transaction(session)
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local == "hardbounce":
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        if local == "greylist" and address not in greylisted:
            greylisted.add(address)
            return "451 4.7.1 <%s>: Greylisted, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        concurrent = in_progress
        if DATA_DELAY:
            await asyncio.sleep(DATA_DELAY)
        self.end_transaction(session)
        raw = envelope.original_content or envelope.content
        try:
            d = dkim.DKIM(raw)
            ok = bool(d.verify(dnsfunc=dns_txt))
            err = None
        except Exception as e:  # a failed verification is recorded, not raised
            ok, err = False, repr(e)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype in ("text/plain", "text/html"):
                parts[ctype] = part.get_content()
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "dkim": ok,
            "dkim_error": err,
            "dkim_header": str(msg.get("DKIM-Signature", "")),
            "content_type": msg.get_content_type(),
            "subject": str(msg.get("Subject", "")),
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "reply_to": str(msg.get("Reply-To", "")),
            "date": str(msg.get("Date", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "list_unsubscribe": str(msg.get("List-Unsubscribe", "")),
            "list_unsubscribe_post": str(msg.get("List-Unsubscribe-Post", "")),
            "kairos": str(msg.get("X-Kairos-Message", "")),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
            "defects": [repr(x) for x in msg.defects],
            "tls": session.ssl is not None,
            "concurrent": concurrent,
            "authenticated": bool(getattr(session, "authenticated", False)),
        }
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, _, password = os.environ["SMTP_AUTH"].partition(":")
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    # handled=False: aiosmtpd answers a refusal with 535 itself (with the
    # default, handled=True, it says nothing and the client waits).
    return AuthResult(success=ok, handled=False)


async def main():
    kwargs = {}
    if os.environ.get("SMTP_TLS_CERT"):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(os.environ["SMTP_TLS_CERT"], os.environ["SMTP_TLS_KEY"])
        if os.environ.get("SMTP_IMPLICIT_TLS"):
            # smtps: TLS from the first byte, no plain-text greeting at all.
            kwargs.update(ssl_context=ctx)
        else:
            kwargs.update(tls_context=ctx, require_starttls=True)
    if os.environ.get("SMTP_AUTH"):
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller = Controller(Handler(), hostname="127.0.0.1", port=PORT, decode_data=False, **kwargs)
    controller.start()
    print("ready", flush=True)
    while True:
        await asyncio.sleep(3600)


asyncio.run(main())
