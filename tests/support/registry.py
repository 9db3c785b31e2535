"""A stand-in for a container registry (the distribution API's /v2/), over https on 127.0.0.1,
for the tests that drive docker's credential protocol (tests/tests/cli_docker.rs). It lets in
only HTTP Basic credentials whose password is a token the test OpenID provider says is active,
and serves one image, team/app:1 (a manifest and its config blob), to whoever gets in.

Arguments: INTROSPECTION_URL CLIENT_ID CLIENT_SECRET CERT_PEM KEY_PEM. Prints its port, then
serves until its standard input closes. GET /test/seen answers the tokens it let in.
"""
import hashlib
import http.server
import json
import sys

from token_gate import Gate, basic_password, serve

introspection, client_id, client_secret, cert, key = sys.argv[1:6]
gate = Gate(introspection, client_id, client_secret)

CONFIG = b"{}"
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": MANIFEST_TYPE,
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
               "size": len(CONFIG), "digest": CONFIG_DIGEST},
    "layers": [],
}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json", digest=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="stand-in registry"')
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/test/seen":
            return self.answer(200, json.dumps({"tokens": gate.seen}).encode())
        if not gate.active(basic_password(self.headers)):
            return self.answer(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if self.path == "/v2/":
            return self.answer(200, b"{}")
        if self.path == "/v2/team/app/manifests/1":
            digest = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
            return self.answer(200, MANIFEST, MANIFEST_TYPE, digest)
        if self.path == f"/v2/team/app/blobs/{CONFIG_DIGEST}":
            return self.answer(200, CONFIG, "application/octet-stream", CONFIG_DIGEST)
        return self.answer(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}')

    do_HEAD = do_GET


serve(Handler, cert, key)
