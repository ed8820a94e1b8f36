"""JSON lines written in batches, and the access log's fast path that skips the LogRecord."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from service.observability import (
    JsonFormatter,
    JsonLinesHandler,
    json_lines_handler_for,
    utc_timestamp_ms,
)
from tests.conftest import KeyFactory, bearer


@contextlib.contextmanager
def _json_root() -> Iterator[tuple[JsonLinesHandler, io.StringIO]]:
    """The root logger as ``configure_logging(json_lines=True)`` leaves it, into a buffer.
    Entered in the test body: pytest adds its capture handlers to the root after fixtures."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        yield handler, stream
    finally:
        handler.flush()
        root.handlers[:] = saved
        root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(x) for x in stream.getvalue().splitlines()]


async def test_info_lines_wait_for_one_write() -> None:
    with _json_root() as (handler, stream):
        log = logging.getLogger("omnistock.test")
        log.info("one")
        log.info("two")
        assert stream.getvalue() == ""  # batched
        await asyncio.sleep(handler.FLUSH_EVERY_S * 3)
        assert [x["msg"] for x in _lines(stream)] == ["one", "two"]


async def test_a_warning_is_written_at_once_after_what_waits() -> None:
    with _json_root() as (_handler, stream):
        log = logging.getLogger("omnistock.test")
        log.info("before")
        log.warning("careful", extra={"code": 7})
        lines = _lines(stream)
        assert [x["msg"] for x in lines] == ["before", "careful"]
        assert lines[1]["level"] == "WARNING" and lines[1]["code"] == 7


def test_without_an_event_loop_lines_are_written_at_once() -> None:
    with _json_root() as (_handler, stream):
        logging.getLogger("omnistock.test").info("sync")
        assert _lines(stream)[0]["msg"] == "sync"


async def test_a_full_batch_is_written_without_waiting() -> None:
    with _json_root() as (handler, stream):
        for n in range(handler.MAX_PENDING - 1):
            handler.write_line(json.dumps({"n": n}))
        assert stream.getvalue() == ""
        handler.write_line(json.dumps({"n": "last"}))
        assert len(_lines(stream)) == handler.MAX_PENDING


def test_the_fast_path_is_taken_only_when_nothing_else_would_see_the_record() -> None:
    with _json_root() as (handler, _stream):
        access = logging.getLogger("omnistock.access")
        assert json_lines_handler_for(access, logging.INFO) is handler
        assert json_lines_handler_for(access, logging.DEBUG) is None  # not enabled
        extra = logging.Handler()
        access.addHandler(extra)  # e.g. a test's capture or an ops team's file handler
        try:
            assert json_lines_handler_for(access, logging.INFO) is None
        finally:
            access.removeHandler(extra)
        logging.getLogger().addHandler(extra)
        try:
            assert json_lines_handler_for(access, logging.INFO) is None
        finally:
            logging.getLogger().removeHandler(extra)
        access.propagate = False
        try:
            assert json_lines_handler_for(access, logging.INFO) is None
        finally:
            access.propagate = True


async def test_access_lines_match_the_formatter(client, make_key: KeyFactory) -> None:
    with _json_root() as (handler, stream):
        assert json_lines_handler_for(logging.getLogger("omnistock.access"), 20) is handler
        key = await make_key("admin")
        await client.get("/v1/admin/keys", headers={**bearer(key), "X-Request-Id": "fast-1"})
        handler.flush()
        fast = next(x for x in _lines(stream) if x.get("request_id") == "fast-1")
        record = logging.LogRecord("omnistock.access", logging.INFO, "", 0, "%s %s %s", None, None)
        record.args = ("GET", "/v1/admin/keys", 200)
        for name, value in fast.items():
            if name not in {"ts", "level", "logger", "msg"}:
                setattr(record, name, value)
        slow = json.loads(JsonFormatter().format(record))
        assert set(fast) == set(slow)
        assert {k: v for k, v in fast.items() if k != "ts"} == {
            k: v for k, v in slow.items() if k != "ts"
        }
        assert fast["route"] == "list_keys" and fast["status"] == 200 and fast["key_id"]


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_timestamps_read_as_datetime_writes_them(at: float) -> None:
    assert utc_timestamp_ms(at) == datetime.fromtimestamp(at, UTC).isoformat(
        timespec="milliseconds"
    )


def test_lines_logged_on_a_second_event_loop_are_written() -> None:
    """A flush scheduled on a loop that has stopped (a former asyncio.run) must not keep the
    next loop's lines waiting."""

    async def log_and_wait(text: str, wait: float) -> None:
        logging.getLogger("omnistock.test").info(text)
        await asyncio.sleep(wait)

    with _json_root() as (handler, stream):
        asyncio.run(log_and_wait("first", 0))  # the loop ends before its flush is due
        asyncio.run(log_and_wait("second", handler.FLUSH_EVERY_S * 3))
        assert [x["msg"] for x in _lines(stream)] == ["first", "second"]


def test_lines_written_by_threads_during_flushes_are_each_written_once() -> None:
    """Lines are appended without the handler's lock (a deque): lines that other threads write
    while a flush is writing are neither lost nor written twice."""
    import threading

    with _json_root() as (handler, stream):
        threads_n, per_thread = 8, 400

        def writer(t: int) -> None:
            for n in range(per_thread):
                # no event loop in these threads: every line flushes what waits
                handler.write_line(json.dumps({"t": t, "n": n}))

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        handler.flush()
        seen = [(x["t"], x["n"]) for x in _lines(stream)]
        assert sorted(seen) == [(t, n) for t in range(threads_n) for n in range(per_thread)]
        # each thread's lines in the order it wrote them
        for t in range(threads_n):
            assert [n for tt, n in seen if tt == t] == list(range(per_thread))


async def test_a_warning_level_builds_no_access_line(client, make_key: KeyFactory) -> None:
    """At WARNING the access log writes nothing and the request is answered as usual."""
    key = await make_key("storefront")
    with _json_root() as (_handler, stream):
        logging.getLogger().setLevel(logging.WARNING)
        resp = await client.get("/v1/stores", headers=bearer(key))
        assert resp.status == 200
        assert stream.getvalue() == ""
