"""The local AWS: moto as an embedded server on 127.0.0.1 (`postfeed serve`, `run --events`) or inside the
process (`postfeed run`), with the process environment pointing at it, and the template's stack created on it.
(The server runs in this process, so `LocalPipeline.create` installs `postfeed_tools.local.moto_speedups` in it:
moto's DynamoDB does not slow down as the table grows.)"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.errors import RunError
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline

if TYPE_CHECKING:
    from postfeed.pipeline.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` now (for servers that need their port before they bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def process_environment(variables: dict[str, str]) -> contextlib.AbstractContextManager[None]:
    """Set environment variables for the duration (the handlers' boto3 session reads them when it builds
    its clients, so those are rebuilt on the way in and out)."""
    from postfeed.store.clients import reset_clients
    from postfeed_tools.local.glue import environment_variables

    return environment_variables(variables, reset_clients)


@contextlib.contextmanager
def local_aws_server(
    port: int = 0, host: str = "127.0.0.1", *, wrap: Callable[[Any], Any] | None = None
) -> Iterator[str]:
    """An embedded moto server on `host:port` (0: a free port); yields its endpoint URL. While it runs,
    the process talks to it: AWS_ENDPOINT_URL and the fake credentials of LOCAL_AWS_ENVIRONMENT are set.
    `wrap` puts a WSGI layer in front of moto's application (`postfeed serve`'s upload gate)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address=host, port=port or free_port(host), verbose=False)
    try:
        server.start()
    except OSError as exc:
        raise RunError(f"cannot start the local AWS server on {host}:{port}: {exc}") from exc
    if wrap is not None and server._server is not None:
        server._server.app = wrap(server._server.app)  # werkzeug calls `server.app` for each request
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    try:
        with process_environment({**LOCAL_AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint}):
            yield endpoint
    finally:
        server.stop()
        if server._server is not None:  # stop() shuts the loop down but leaves the socket open
            server._server.server_close()


@contextlib.contextmanager
def local_aws_in_process() -> Iterator[None]:
    """moto inside this process (no HTTP server: each AWS call is a function call, about half the cost of a
    request to `local_aws_server`), with the fake credentials of LOCAL_AWS_ENVIRONMENT. For a run that
    nothing outside the process talks to (`postfeed run`, whose uploads are in-process anyway)."""
    from moto import mock_aws

    with process_environment(dict(LOCAL_AWS_ENVIRONMENT)), mock_aws():
        yield


def create_pipeline(
    *,
    endpoint_url: str | None,
    feed_base_url: str,
    log_level: str = "WARNING",
    parameters: dict[str, Any] | None = None,
) -> LocalPipeline:
    """The template's stack on the moto that `endpoint_url` (or mock_aws) reaches; `log_level` is the
    template's LogLevel parameter (the functions' Powertools loggers)."""
    return LocalPipeline.create(
        parameters={"LogLevel": log_level, **(parameters or {})},
        endpoint_url=endpoint_url,
        feed_base_url=feed_base_url,
    )


def local_settings(pipeline: LocalPipeline) -> Settings:
    from postfeed.pipeline.settings import Settings

    stack = pipeline.stack
    return Settings(
        posts_bucket=stack.posts_bucket,
        feeds_bucket=stack.feeds_bucket,
        table_name=stack.table,
        posts_prefix=str(stack.parameters.get("PostsPrefix") or "_posts/"),
    )
