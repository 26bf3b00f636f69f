"""`postfeed serve`'s gate in front of the local AWS endpoint: uploads to the posts bucket refused with `503`
(and `Retry-After`) while the state is restored and from the moment serve begins to stop, so nothing is
acknowledged that the stop could lose."""

from __future__ import annotations

import html
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

RETRY_AFTER_SECONDS = 5


class UploadGate:
    """WSGI middleware in front of moto: while shut, a write to the posts bucket (PUT, POST, DELETE on
    `/<bucket>…` or `<bucket>.<host>`) gets `503 ServiceUnavailable` with `Retry-After` and never reaches
    moto; everything else (reads, the functions' writes to the feeds bucket, the table, the queues) passes.
    `shut` waits for the writes already let in, so an upload is either refused or acknowledged before."""

    def __init__(self) -> None:
        self.bucket = ""
        self.reason = "starting"
        self.refused = 0
        self._shut = True
        self._inflight = 0
        self._changed = threading.Condition()

    def open(self) -> None:
        with self._changed:
            self._shut = False

    def shut(self, reason: str, timeout: float = 30.0) -> bool:
        """Refuse uploads from now on; True once every upload let in before has returned."""
        with self._changed:
            self._shut, self.reason = True, reason
            return self._changed.wait_for(lambda: self._inflight == 0, timeout)

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        def gated(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if not self._is_upload(environ):
                return app(environ, start_response)
            with self._changed:
                if self._shut:
                    self.refused += 1
                    return self._refuse(start_response)
                self._inflight += 1
            try:
                return app(environ, start_response)  # moto answers in full here (its body is a list)
            finally:
                with self._changed:
                    self._inflight -= 1
                    self._changed.notify_all()

        return gated

    def _is_upload(self, environ: WSGIEnvironment) -> bool:
        if not self.bucket or environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return False
        path, host = str(environ.get("PATH_INFO", "")), str(environ.get("HTTP_HOST", ""))
        return path == f"/{self.bucket}" or path.startswith(f"/{self.bucket}/") or host.startswith(f"{self.bucket}.")

    def _refuse(self, start_response: StartResponse) -> list[bytes]:
        message = html.escape(f"postfeed serve is {self.reason}: uploads are refused; retry once it is up")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>ServiceUnavailable</Code><Message>{message}</Message></Error>\n"
        ).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "application/xml"),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ],
        )
        return [body]
