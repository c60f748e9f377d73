"""Jobs as HTTP answers: wait for one (cancelling it if the client goes away), or stream its
events as Server-Sent Events: ``attributes`` {key, meter, tempo, bars, pickup_bar} first, ``note`` {part,
pitch, onset, duration} bar by bar, ``restart`` when the sampler draws the piece again (drop the
notes so far), ``progress`` {done, total} for an edit, then ``done`` {piece} or ``error`` {detail, status}. A comment line every
``HEARTBEAT_S`` keeps proxies from closing the stream and tells the server soon when the client
has gone, which cancels the job."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse

from symphony.server.http_errors import answer
from symphony.server.jobs import Job

HEARTBEAT_S = 0.5
POLL_S = 0.25
_END = object()


def wants_stream(request: Request) -> bool:
    return "text/event-stream" in request.headers.get("accept", "")


def sse(event: str, data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    return f"event: {event}\ndata: {text}\n\n"


async def wait(request: Request, job: Job, status: int = 200, retry_after: int = 5):
    """The job's result as a JSON answer; the job is cancelled if the client disconnects."""
    fut = asyncio.wrap_future(job.future)
    try:
        while True:
            done, _ = await asyncio.wait({fut}, timeout=POLL_S)
            if done:
                break
            if await request.is_disconnected():
                job.cancel.set()
                await asyncio.wait({fut})
                break
    except asyncio.CancelledError:
        job.cancel.set()
        raise
    exc = fut.exception()
    if exc is not None:
        code, detail, headers = answer(exc, retry_after)
        return JSONResponse({"detail": detail}, status_code=code, headers=headers)
    return JSONResponse(fut.result(), status_code=status)


def stream(submit: Callable[[Callable[[dict], None]], Job], retry_after: int = 5) -> StreamingResponse:
    """Submit a job whose events go to the client as they come (``submit(on_event) -> Job``;
    it raises Busy or TooManyJobs before anything is streamed)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    job = submit(lambda event: loop.call_soon_threadsafe(queue.put_nowait, event))
    job.future.add_done_callback(lambda _f: loop.call_soon_threadsafe(queue.put_nowait, _END))
    return StreamingResponse(_events(job, queue, retry_after), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(job: Job, queue: asyncio.Queue, retry_after: int) -> AsyncIterator[str]:
    finished = False
    try:
        yield ": composing\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if event is _END:
                break
            kind = event.pop("type", "note")
            yield sse(kind, event)
        finished = True
        exc = job.future.exception()
        if exc is None:
            yield sse("done", {"piece": job.future.result()})
        else:
            code, detail, _ = answer(exc, retry_after)
            yield sse("error", {"detail": detail, "status": code})
    finally:
        if not finished:  # the client went away (or the server stops): stop composing
            job.cancel.set()
