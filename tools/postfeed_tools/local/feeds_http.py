"""The feeds bucket over HTTP on 127.0.0.1, as the template's CloudFront distribution (FeedsDistribution) serves it.

* An S3 origin behind Origin Access Control: each object with its own stored Content-Type and Cache-Control, its
  ETag and Last-Modified; conditional GET and HEAD (`If-None-Match`, `If-Modified-Since`) answered `304`, byte
  ranges `206`, by werkzeug (`Response.make_conditional`).
* `DefaultRootObject: index.html`: `/` is the pipeline's own `index.html` object.
* `AllowedMethods: [GET, HEAD]`: any other method gets `403`, as CloudFront answers it.
* A key the bucket does not hold gets S3's `403 AccessDenied`: the bucket policy (FeedsBucketPolicy) lets the
  distribution `s3:GetObject` only, without `s3:ListBucket`, and S3 then refuses to say whether a key exists.
* Paths are percent-decoded UTF-8 (Chinese tag feeds); the query string is not part of the key (the managed
  CachingOptimized policy forwards none).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import IO, TYPE_CHECKING, Any

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import unquote_etag
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from mypy_boto3_s3 import S3Client

ROOT_OBJECT = "index.html"  # FeedsDistribution's DefaultRootObject
ALLOWED_METHODS = frozenset({"GET", "HEAD"})  # FeedsDistribution's AllowedMethods
MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)
METHOD_REFUSED = (
    b"This distribution is not configured to allow the HTTP request method that was used for this request.\n"
)


class FeedsOrigin:
    """The feeds bucket as a WSGI application. Made before the stack exists (so the server's port, which the
    feeds' links need, is known first); `attach` the bucket once it does: until then, `503`."""

    def __init__(self) -> None:
        self.s3: S3Client | None = None
        self.bucket = ""

    def attach(self, s3: S3Client, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.respond(Request(environ))(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ALLOWED_METHODS:
            return Response(METHOD_REFUSED, status=403, content_type="text/plain; charset=utf-8")
        if self.s3 is None:
            return Response(b"starting\n", status=503, content_type="text/plain; charset=utf-8")
        key = request.path.lstrip("/") or ROOT_OBJECT
        try:
            obj: Any = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in MISSING_CODES:
                return Response(ACCESS_DENIED, status=403, content_type="application/xml")
            raise
        with obj["Body"] as body:
            response = Response(body.read(), content_type=obj.get("ContentType") or "binary/octet-stream")
        response.set_etag(*unquote_etag(obj["ETag"]))
        response.last_modified = obj["LastModified"]
        if obj.get("CacheControl"):
            response.headers["Cache-Control"] = obj["CacheControl"]
        try:
            return response.make_conditional(request, accept_ranges=True, complete_length=int(obj["ContentLength"]))
        except RequestedRangeNotSatisfiable as exc:  # 416, as S3 answers a range past the end
            return exc.get_response()


class FeedsServer(ThreadedWSGIServer):
    """The feeds origin on werkzeug's threaded server at `host:port` (0: a free port), bound at construction;
    one access log line per request on `access_log`, if given."""

    def __init__(self, host: str, port: int, *, access_log: IO[str] | None = None) -> None:
        self.origin = FeedsOrigin()
        self.access_log = access_log
        # Bound here, so a port in use raises OSError (werkzeug binding it would print and exit).
        with socket.create_server((host, port)) as listening:
            super().__init__(host, port, self.origin, _Handler, fd=listening.fileno())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]!s}:{self.port}"

    def attach(self, s3: S3Client, bucket: str) -> None:
        self.origin.attach(s3, bucket)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="postfeed-http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if started) and close the socket; idempotent."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(10)
            self._thread = None
        self.server_close()


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler, logging each request to the server's access log (not werkzeug's logger,
    which moto's server shares) in the access log's format: `HH:MM:SS  http ADDRESS "REQUEST LINE" STATUS -`."""

    server: FeedsServer

    def version_string(self) -> str:
        return "postfeed"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s" %s %s', self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        access_log = self.server.access_log
        if access_log is not None:
            access_log.write(f"{time.strftime('%H:%M:%S')}  http {self.address_string()} {message % args}\n")
            access_log.flush()
