"""Fault injection for the handlers' AWS calls, with botocore's event hooks (no patching of the clients).

A `before-send` hook on the handlers' own session (`postfeed.store.clients.session()`), registered ahead of
everything else (moto's in-process stubber included), answers chosen requests itself:

| kind                  | what the client sees                                                            | applied? |
|-----------------------|---------------------------------------------------------------------------------|----------|
| `throttling`          | DynamoDB 400 `ThrottlingException` / `ProvisionedThroughputExceededException`,   | no       |
|                       | S3 503 `SlowDown`                                                               |          |
| `internal_error`      | 500 `InternalError` (DynamoDB: `InternalServerError`)                           | no       |
| `unavailable`         | 503 `ServiceUnavailable`                                                        | no       |
| `connection_closed`   | `ConnectionClosedError` (closed before the service read the request)            | no       |
| `endpoint_connection` | `EndpointConnectionError` (never connected)                                     | no       |
| `read_timeout`        | `ReadTimeoutError` *after* the request reached the service: the write happened, | yes      |
|                       | its answer is lost (the harshest case for idempotence)                          |          |

Which requests: rules match `service.Operation` patterns (fnmatch, the service as botocore's hyphenated
service id: `dynamodb.TransactWriteItems`, `s3.*`), and fail each matching request with a probability
(`rate`) or by its number (`calls`, 1-based, counted per rule). Every retry attempt is a request of its own,
so botocore's standard retry mode (6 attempts, `postfeed.store.clients.client_config`) sees the faults
exactly as it would see AWS's; a call that still fails raises in the handler, and the record goes back
to the queue or the stream. Decisions come from `random.Random(seed)`: the same calls in the same order
give the same faults.

`backoff_scale` multiplies the sleeps botocore's retries ask for (0 in tests: the backoff is counted in
`backoff_seconds`, not waited for). It swaps `time` in `botocore.endpoint` for the duration, the one
module-level change here.

    with FaultInjector([FaultRule("dynamodb.*", rate=0.1)], seed=7, backoff_scale=0) as faults:
        pipeline.settle()
    faults.injected  # Counter({"throttling": 3, "read_timeout": 2, ...})
"""

from __future__ import annotations

import fnmatch
import io
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    THROTTLING = "throttling"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"
    CONNECTION_CLOSED = "connection_closed"
    ENDPOINT_CONNECTION = "endpoint_connection"
    READ_TIMEOUT = "read_timeout"


TRANSIENT_KINDS: tuple[FaultKind, ...] = tuple(FaultKind)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Which requests fail, and how.

    `operations`: an fnmatch pattern on `service.Operation`; `rate`: probability that a matching request
    fails; `calls`: numbers (1-based) of matching requests that fail whatever the rate; `kinds`: the faults
    to pick from (uniformly, with the injector's random generator)."""

    operations: str = "*"
    rate: float = 0.0
    calls: frozenset[int] = frozenset()
    kinds: tuple[FaultKind, ...] = TRANSIENT_KINDS

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")
        if not self.kinds:
            raise ValueError("a rule needs at least one fault kind")


@dataclass(frozen=True, slots=True)
class InjectedFault:
    operation: str
    kind: FaultKind
    request_number: int  # of the requests matching the rule


@dataclass
class FaultInjector:
    """Fails the handlers' AWS requests by rule, reproducibly from `seed`, and counts what it did."""

    rules: Sequence[FaultRule]
    seed: int = 0
    backoff_scale: float = 1.0
    injected: Counter[str] = field(default_factory=Counter, init=False)  # by kind
    by_operation: Counter[str] = field(default_factory=Counter, init=False)
    requests: Counter[str] = field(default_factory=Counter, init=False)  # every request seen, by operation
    history: list[InjectedFault] = field(default_factory=list, init=False)
    backoff_seconds: float = field(default=0.0, init=False)  # what botocore asked to sleep between attempts
    _random: random.Random = field(init=False, repr=False)
    _matched: list[int] = field(init=False, repr=False)
    _installed: bool = field(default=False, init=False, repr=False)
    _saved_time: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._matched = [0] * len(self.rules)

    # -- installing ---------------------------------------------------------------------------------

    def install(self) -> FaultInjector:
        """Hook the handlers' session; the clients are rebuilt so that they carry the hook."""
        from postfeed.store.clients import reset_clients, session

        if self._installed:
            return self
        reset_clients()  # clients copy their session's hooks when built: build them after registering
        session().events.register_first("before-send", self._before_send, unique_id=_UNIQUE_ID)
        if self.backoff_scale != 1.0:
            import botocore.endpoint

            self._saved_time = vars(botocore.endpoint)["time"]
            setattr(botocore.endpoint, "time", _ScaledClock(self))  # noqa: B010 - not a public attribute
        self._installed = True
        return self

    def uninstall(self) -> None:
        from postfeed.store.clients import reset_clients

        if not self._installed:
            return
        if self._saved_time is not None:
            import botocore.endpoint

            setattr(botocore.endpoint, "time", self._saved_time)  # noqa: B010
            self._saved_time = None
        reset_clients()  # a fresh session and clients, without the hook
        self._installed = False

    def __enter__(self) -> FaultInjector:
        return self.install()

    def __exit__(self, *_: object) -> None:
        self.uninstall()

    @property
    def total(self) -> int:
        return sum(self.injected.values())

    # -- the hook -----------------------------------------------------------------------------------

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        operation = _operation_of(event_name)
        self.requests[operation] += 1
        kind, number = self._decide(operation)
        if kind is None:
            return None
        self.injected[kind.value] += 1
        self.by_operation[operation] += 1
        self.history.append(InjectedFault(operation, kind, number))
        return self._fail(kind, operation, request, event_name)

    def _decide(self, operation: str) -> tuple[FaultKind | None, int]:
        # Every rule that matches counts the request, so `calls` numbers do not depend on other rules.
        chosen: tuple[FaultKind | None, int] = (None, 0)
        for index, rule in enumerate(self.rules):
            if not fnmatch.fnmatchcase(operation, rule.operations):
                continue
            self._matched[index] += 1
            number = self._matched[index]
            hit = number in rule.calls or (rule.rate > 0 and self._random.random() < rule.rate)
            if hit and chosen[0] is None:
                chosen = (self._random.choice(rule.kinds), number)
        return chosen

    def _fail(self, kind: FaultKind, operation: str, request: Any, event_name: str) -> Any:
        from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

        url = request.url
        if kind is FaultKind.CONNECTION_CLOSED:
            raise ConnectionClosedError(endpoint_url=url)
        if kind is FaultKind.ENDPOINT_CONNECTION:
            raise EndpointConnectionError(endpoint_url=url)
        if kind is FaultKind.READ_TIMEOUT:
            _send_and_drop(request, event_name)
            raise ReadTimeoutError(endpoint_url=url)
        service = operation.split(".", 1)[0]
        status, code, message = _error_of(kind, service, self._random)
        # botocore emits before-send to every handler even once one has answered, and moto's in-process
        # stubber answers whatever it can route: this attempt's request (botocore builds one per attempt) is
        # pointed nowhere, so the failed request is not applied behind our answer.
        request.url = _NOWHERE
        return _error_response(url, service, status, code, message, head=request.method == "HEAD")


_UNIQUE_ID = "postfeed-fault-injector"
_NOWHERE = "https://postfeed-fault-injector.invalid/"
_REQUEST_IDS = itertools.count(1)


def _operation_of(event_name: str) -> str:
    # "before-send.dynamodb.TransactWriteItems" -> "dynamodb.TransactWriteItems"
    parts = event_name.split(".", 2)
    return ".".join(parts[1:]) if len(parts) == 3 else event_name


def _error_of(kind: FaultKind, service: str, rng: random.Random) -> tuple[int, str, str]:
    s3 = service == "s3"
    if kind is FaultKind.THROTTLING:
        if s3:
            return 503, "SlowDown", "Please reduce your request rate."
        code = rng.choice(("ThrottlingException", "ProvisionedThroughputExceededException"))
        return 400, code, "Rate of requests exceeds the allowed throughput."
    if kind is FaultKind.INTERNAL_ERROR:
        return 500, "InternalError" if s3 else "InternalServerError", "We encountered an internal error."
    return 503, "ServiceUnavailable", "Service unavailable. Please try again."


class _RawBody:
    """What botocore reads a response body from (`stream()`), over fixed bytes."""

    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self._body.read()
        while chunk:
            yield chunk
            chunk = self._body.read()

    def read(self, *args: Any) -> bytes:
        return self._body.read(*args)

    def close(self) -> None:
        self._body.close()


def _error_response(url: str, service: str, status: int, code: str, message: str, *, head: bool) -> Any:
    """An error answer in the service's wire format (REST-XML for S3, JSON 1.0 otherwise)."""
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    request_id = f"postfeed-fault-{next(_REQUEST_IDS)}"
    if service == "s3":
        headers = {"x-amz-request-id": request_id, "Content-Type": "application/xml"}
        body = (
            b""
            if head  # HEAD answers carry no body: botocore reads the status code alone
            else (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
            ).encode()
        )
    else:
        headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.0"}
        body = json.dumps({"__type": f"com.amazonaws.{service}#{code}", "message": message}).encode()
    return AWSResponse(url, status, HTTPHeaders.from_dict(headers), _RawBody(body))


def _send_and_drop(request: Any, event_name: str) -> None:
    """Deliver the request to the service (moto in-process when active, else over HTTP) and forget the answer."""
    from moto.core.models import botocore_stubber

    if botocore_stubber.enabled:  # in-process moto (mock_aws)
        botocore_stubber(event_name=event_name, request=request)
        return
    from botocore.httpsession import URLLib3Session

    URLLib3Session().send(request)


class _ScaledClock:
    """`time` as botocore.endpoint sees it: its retry sleeps are counted and scaled."""

    def __init__(self, injector: FaultInjector) -> None:
        self._injector = injector

    def sleep(self, seconds: float) -> None:
        self._injector.backoff_seconds += seconds
        scaled = seconds * self._injector.backoff_scale
        if scaled > 0:
            time.sleep(scaled)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)
