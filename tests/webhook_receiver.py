#!/usr/bin/env python3
"""A webhook receiver for Kairos's tests: an independent HTTP server that
verifies every delivery with the reference `standardwebhooks` library and
logs one line per request: webhook-id, the status it answered, whether the
signature verified, the path, and the body.

Usage: webhook_receiver.py PORT SECRET LOGFILE

Paths choose the behaviour: /ok answers 200; /flaky answers 503 to the first
two deliveries of each webhook-id, then 200; /down always answers 503;
/gone answers 410. A delivery whose signature does not verify gets 401.
Prints "ready" once listening.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

port, secret, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
verifier = Webhook(secret)
lock = threading.Lock()
seen = {}
log = open(logfile, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        wid = headers.get("webhook-id", "")
        try:
            verifier.verify(body, headers)
            verified = True
        except Exception:
            verified = False
        with lock:
            seen[wid] = seen.get(wid, 0) + 1
            attempt = seen[wid]
        if not verified:
            status = 401
        elif self.path == "/flaky":
            status = 503 if attempt <= 2 else 200
        elif self.path == "/down":
            status = 503
        elif self.path == "/gone":
            status = 410
        else:
            status = 200
        with lock:
            log.write("%s\t%d\t%s\t%s\t%s\n" % (wid, status, verified, self.path, json.dumps(json.loads(body or b"null"))))
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A sender killed mid-request (the crash tests do that) resets the
        # connection; that is expected, not worth a traceback.
        pass


server = Server(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
