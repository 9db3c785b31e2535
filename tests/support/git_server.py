"""A git server over smart HTTP on 127.0.0.1 (`git http-backend` as a CGI program), for the
tests that clone and push with the real git (tests/tests/cli_git.rs). It lets a request through
to git only with HTTP Basic credentials whose password is a token the test OpenID provider says
is active; anything else gets 401 and a Basic challenge, which is what makes git ask its
credential helpers.

Arguments: INTROSPECTION_URL CLIENT_ID CLIENT_SECRET PROJECT_ROOT. Prints its port, then serves
until its standard input closes. GET /test/seen answers the tokens it let in.
"""
import http.server
import json
import os
import subprocess
import sys
import urllib.parse

from token_gate import Gate, basic_password, serve

introspection, client_id, client_secret, root = sys.argv[1:5]
gate = Gate(introspection, client_id, client_secret)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def plain(self, status, body, extra=()):
        self.send_response(status)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def backend(self):
        if self.path == "/test/seen":
            return self.plain(200, json.dumps({"tokens": gate.seen}).encode())
        data = self.body() if self.command == "POST" else b""
        if not gate.active(basic_password(self.headers)):
            return self.plain(401, b"token required\n",
                              [("WWW-Authenticate", 'Basic realm="stand-in git"')])
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": urllib.parse.unquote(path),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(data)),
            # Set once the password was checked: http-backend then lets pushes in.
            "REMOTE_USER": "oauth2",
            "REMOTE_ADDR": "127.0.0.1",
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
        }
        out = subprocess.run(["git", "http-backend"], input=data, env=env,
                             capture_output=True, check=False).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        if not rest and b"\n\n" in out:
            head, _, rest = out.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.plain(status, rest, headers)

    do_GET = backend
    do_POST = backend


serve(Handler)
