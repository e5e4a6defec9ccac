"""Boot an ASGI app the way a server does and write what happened as JSON. Stdlib only: it runs
with the project's interpreter, in its own process group, started by `flake8_stability.boot`.

    python boot.py CONFIG_JSON RESULT_PATH HANG_PATH

CONFIG_JSON: {"module", "attribute", "factory", "roots", "project_root", "timeout", "get"}.
The result (phase reached, elapsed time per phase, the exception with its chain and frames,
routes, OpenAPI, request) is rewritten atomically to RESULT_PATH at every phase, so the parent
still knows the phase when the app hangs or exits the process; stdout is left to the app. The
import runs inside a running event loop, as under uvicorn. When the deadline passes in
synchronous code, `faulthandler` writes every thread's stack to HANG_PATH and ends the process.
"""
import asyncio
import faulthandler
import gc
import importlib
import json
import os
import sys
import time
import traceback

_REAL_EXIT = os._exit
_MAX_TEXT = 4000
_MAX_BODY = 2000
_CHAIN = 8


class _Probe:
    def __init__(self, config, result_path):
        self.config = config
        self.result_path = result_path
        self.deadline = time.monotonic() + config["timeout"]
        self.state = {"phase": "import", "phases": {}, "completed": [], "error": None,
                      "exit": None, "routes": None, "openapi": None, "request": None,
                      "loaded": [], "pid": os.getpid()}
        self.started = time.monotonic()

    def write(self):
        temporary = self.result_path + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(self.state, handle)
        os.replace(temporary, self.result_path)

    def enter(self, phase):
        self.state["phase"] = phase
        self.started = time.monotonic()
        self.write()

    def leave(self):
        phase = self.state["phase"]
        self.state["phases"][phase] = round(time.monotonic() - self.started, 6)
        self.state["completed"].append(phase)

    def remaining(self):
        return max(0.05, self.deadline - time.monotonic() - 0.5)

    def fail(self, exc):
        self.state["phases"][self.state["phase"]] = round(time.monotonic() - self.started, 6)
        if isinstance(exc, SystemExit):
            self.state["exit"] = {"code": _exit_code(exc.code), "how": "sys.exit",
                                  "frames": _frames(exc.__traceback__)}
        self.state["error"] = _describe(exc)
        self.write()


def _exit_code(code):
    if code is None or isinstance(code, int):
        return code or 0
    return 1


def _frames(tb):
    return [{"file": f.filename, "line": f.lineno, "function": f.name}
            for f in traceback.extract_tb(tb)]


def _stack_frames(frames):
    return [{"file": f.filename, "line": f.lineno, "function": f.name} for f in frames]


def _text(exc):
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not break the probe
        text = "<unprintable>"
    return text[:_MAX_TEXT]


def _one(exc):
    kind = type(exc)
    return {"type": kind.__module__ + "." + kind.__qualname__, "message": _text(exc),
            "frames": _frames(exc.__traceback__)}


def _describe(exc):
    """The exception, then its causes and contexts (outermost first)."""
    described = _one(exc)
    chain, seen, current = [], {id(exc)}, exc
    while len(chain) < _CHAIN:
        link = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
        if link is None or id(link) in seen:
            break
        seen.add(id(link))
        chain.append(_one(link))
        current = link
    described["chain"] = chain
    return described


def _coroutine_frames(awaitable):
    """The frames a suspended coroutine chain is waiting in, outermost first."""
    frames, current = [], awaitable
    while current is not None and len(frames) < 100:
        frame = (getattr(current, "cr_frame", None) or getattr(current, "ag_frame", None)
                 or getattr(current, "gi_frame", None))
        if frame is not None:
            frames.append({"file": frame.f_code.co_filename, "line": frame.f_lineno,
                           "function": frame.f_code.co_name})
        current = (getattr(current, "cr_await", None) or getattr(current, "ag_await", None)
                   or getattr(current, "gi_yieldfrom", None) or _awaited_generator(current))
    return frames


def _awaited_generator(awaitable):
    """The async generator behind an `anext()`/`asend()` awaitable (no public attribute)."""
    kind = type(awaitable).__name__
    if awaitable is None or kind not in ("async_generator_asend", "async_generator_athrow"):
        return None
    return next((ref for ref in gc.get_referents(awaitable) if hasattr(ref, "ag_frame")), None)


def _guard_os_exit(probe):
    """os._exit ends the process at once: record where it was called first."""
    def recorded_exit(code):
        frames = _stack_frames(traceback.extract_stack()[:-1])
        probe.state["exit"] = {"code": code, "how": "os._exit", "frames": frames}
        probe.state["phases"][probe.state["phase"]] = round(time.monotonic() - probe.started, 6)
        try:
            probe.write()
        finally:
            _REAL_EXIT(code)

    os._exit = recorded_exit


class _Lifespan:
    """A minimal ASGI lifespan driver (startup, then shutdown on request)."""

    def __init__(self, app):
        self.app = app
        self.state = {}
        self.inbox = asyncio.Queue()
        self.sent = []
        self.event = asyncio.Event()
        self.task = None

    async def receive(self):
        return await self.inbox.get()

    async def send(self, message):
        self.sent.append(message)
        self.event.set()

    async def run(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": self.state}
        await self.app(scope, self.receive, self.send)

    async def step(self, message, timeout):
        """Send a lifespan message; the reply type, or raise what the app raised."""
        count = len(self.sent)
        self.event.clear()
        await self.inbox.put({"type": message})
        waiter = asyncio.ensure_future(self.event.wait())
        done, _ = await asyncio.wait({waiter, self.task}, timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if len(self.sent) > count:
            waiter.cancel()
            return self.sent[-1]
        if self.task in done:
            waiter.cancel()
            error = self.task.exception()
            if error is not None and message == "lifespan.shutdown":
                raise error
            return {"type": "unsupported"}
        waiter.cancel()
        raise _Hang(_coroutine_frames(self.task.get_coro()))


class _Hang(Exception):
    def __init__(self, frames):
        super().__init__("did not complete before the deadline")
        self.frames = frames


def _routes(app):
    found = []
    _collect_routes(getattr(app, "routes", None) or (), "", found)
    return found


def _collect_routes(routes, prefix, found):
    """Routes, Mounts' routes and (FastAPI >= 0.16x) included routers' effective routes."""
    for route in list(routes)[:2000]:
        expand = getattr(route, "effective_candidates", None)
        if callable(expand):
            _collect_routes(expand(), prefix, found)
            continue
        original = getattr(route, "original_route", None) or route
        path = prefix + str(getattr(route, "path", "") or getattr(original, "path", ""))
        endpoint = getattr(route, "endpoint", None) or getattr(original, "endpoint", None)
        code = getattr(endpoint, "__code__", None)
        found.append({"path": path, "methods": sorted(getattr(original, "methods", None) or ()),
                      "name": getattr(original, "name", None), "kind": type(original).__name__,
                      "file": code.co_filename if code else None,
                      "line": code.co_firstlineno if code else None})
        nested = getattr(route, "routes", None)
        if nested and type(route).__name__ == "Mount":
            _collect_routes(nested, path, found)


async def _request(app, path, state, timeout):
    """GET `path` through the app in-process: status and the start of the body."""
    raw, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
             "http_version": "1.1", "method": "GET", "scheme": "http", "path": raw,
             "raw_path": raw.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"user-agent", b"flake8-stability")],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
             "state": dict(state)}
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    reply = {"status": None, "body": b""}

    async def receive():
        if messages:
            return messages.pop()
        await asyncio.Event().wait()

    async def send(message):
        if message["type"] == "http.response.start":
            reply["status"] = message["status"]
        elif message["type"] == "http.response.body":
            reply["body"] = (reply["body"] + message.get("body", b""))[:_MAX_BODY]

    task = asyncio.ensure_future(app(scope, receive, send))
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        raise _Hang(_coroutine_frames(task.get_coro()))
    task.result()
    return {"path": path, "status": reply["status"],
            "body": reply["body"].decode("utf-8", "replace")}


def _loaded(project_root):
    """The project's own files among the loaded modules."""
    root = os.path.join(os.path.realpath(project_root), "")
    files = set()
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and os.path.realpath(path).startswith(root):
            files.add(os.path.realpath(path))
    return sorted(files)


async def _boot(probe):
    config = probe.config
    module = importlib.import_module(config["module"])
    probe.state["loaded"] = _loaded(config["project_root"])
    probe.leave()
    probe.enter("attribute")
    app = module
    for part in config["attribute"].split("."):
        app = getattr(app, part)
    if config["factory"]:
        app = app()
    probe.leave()
    probe.enter("startup")
    lifespan = _Lifespan(app)
    lifespan.task = asyncio.ensure_future(lifespan.run())
    reply = await lifespan.step("lifespan.startup", probe.remaining())
    probe.state["lifespan"] = reply["type"]
    if reply["type"] == "lifespan.startup.failed":
        await asyncio.wait({lifespan.task}, timeout=min(1.0, probe.remaining()))
        if lifespan.task.done() and lifespan.task.exception() is not None:
            raise lifespan.task.exception()
        raise _StartupFailed(reply.get("message", ""))
    probe.state["loaded"] = _loaded(config["project_root"])
    probe.leave()
    await _after_startup(probe, app, lifespan)


async def _after_startup(probe, app, lifespan):
    probe.enter("routes")
    probe.state["routes"] = _routes(app)
    probe.leave()
    probe.enter("openapi")
    builder = getattr(app, "openapi", None)
    if callable(builder):
        schema = builder()
        probe.state["openapi"] = {"paths": len((schema or {}).get("paths", {}))}
    probe.leave()
    if probe.config.get("get"):
        probe.enter("request")
        probe.state["request"] = await _request(app, probe.config["get"], lifespan.state,
                                                probe.remaining())
        probe.leave()
    probe.enter("shutdown")
    if not lifespan.task.done():
        await lifespan.step("lifespan.shutdown", probe.remaining())
    probe.leave()
    probe.enter("done")


class _StartupFailed(Exception):
    """The app answered lifespan.startup.failed without raising."""


def _run(probe):
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(_boot(probe))
    except _Hang as hang:
        probe.state["timeout"] = {"frames": hang.frames}
        probe.write()
    except BaseException as exc:  # noqa: BLE001 - every failure is the result
        probe.fail(exc)
    else:
        probe.write()


def main(argv):
    config = json.loads(argv[1])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    sys.path[:0] = config["roots"]
    probe = _Probe(config, argv[2])
    hang = open(argv[3], "w")
    faulthandler.dump_traceback_later(config["timeout"], exit=True, file=hang)
    _guard_os_exit(probe)
    probe.enter("import")
    _run(probe)
    faulthandler.cancel_dump_traceback_later()
    hang.close()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream
            pass
    _REAL_EXIT(0)


if __name__ == "__main__":
    main(sys.argv)
