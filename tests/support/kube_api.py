"""A stand-in for a Kubernetes API server's /version, over https on 127.0.0.1, for the tests
that drive the real kubectl (tests/tests/cli_kube.rs). It answers only a bearer token that the
test OpenID provider says is active (RFC 7662 introspection, as the given client), so kubectl
gets through only with a token OAuth Desk handed it.

Arguments: INTROSPECTION_URL CLIENT_ID CLIENT_SECRET CERT_PEM KEY_PEM. Prints its port, then
serves until its standard input closes. Counts the requests it let in at GET /test/seen.
"""
import http.server
import json
import sys

from token_gate import Gate, serve

introspection, client_id, client_secret, cert, key = sys.argv[1:6]
gate = Gate(introspection, client_id, client_secret)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/test/seen":
            return self.answer(200, {"tokens": gate.seen})
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        if not gate.active(token):
            return self.answer(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                     "message": "Unauthorized", "reason": "Unauthorized",
                                     "code": 401})
        if self.path == "/version":
            return self.answer(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-stub"})
        return self.answer(404, {"kind": "Status", "code": 404})


serve(Handler, cert, key)
