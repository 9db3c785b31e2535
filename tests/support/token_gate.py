"""What the stand-in servers the integration tests drive real clients against (kubectl, docker,
git) share: asking the test OpenID provider whether a token is active (RFC 7662 introspection,
as the given client), so that a client gets through only with a token OAuth Desk handed it;
and serving on 127.0.0.1 until standard input closes, with the port printed first.
"""
import base64
import http.server
import json
import ssl
import sys
import threading
import urllib.parse
import urllib.request


class Gate:
    def __init__(self, introspection, client_id, client_secret):
        self.introspection = introspection
        self.basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        # The tokens let in, in order: GET /test/seen answers them.
        self.seen = []

    def active(self, token):
        if not token:
            return False
        body = urllib.parse.urlencode({"token": token}).encode()
        req = urllib.request.Request(self.introspection, data=body, method="POST")
        req.add_header("Authorization", f"Basic {self.basic}")
        with urllib.request.urlopen(req, timeout=10) as resp:
            ok = json.load(resp).get("active") is True
        if ok:
            self.seen.append(token)
        return ok


def basic_password(headers):
    """The password of an `Authorization: Basic` header, or ""."""
    auth = headers.get("Authorization", "")
    if not auth.startswith("Basic "):
        return ""
    try:
        return base64.b64decode(auth[len("Basic "):]).decode().partition(":")[2]
    except ValueError:
        return ""


def serve(handler, cert=None, key=None):
    """Serves `handler` on a free port of 127.0.0.1 (over TLS with `cert` and `key`), prints
    the port, and returns when standard input closes."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
