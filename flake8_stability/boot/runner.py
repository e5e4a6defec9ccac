"""Run the boot probe (`probes/boot.py`) with the project's interpreter and contain whatever the
app does: the probe runs in its own process group from the boot working directory, its output
is drained and capped, a deadline (inside the probe, then a hard kill) ends hangs, and the whole
group is killed afterwards so no process the app started survives.

The probe's environment is the user's (`os.environ`) plus the keys of the `.env` files the boot
command loads that the environment does not set already (as uvicorn's `--env-file` does);
nothing else is added."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Dict, List, Optional, Tuple

from ..audit.secrets import Redactor
from ..context import ProjectContext
from ..project.env_sources import read_env_file
from ..probes import boot as boot_script
from .result import (BOOTED, EXITED, FAILED, NOT_RUN, TIMEOUT, BootResult, Frame, RaisedError,
                     Route)

OUTPUT_CAP = 64 * 1024  # bytes kept of each stream (the tail)
_GRACE = 3.0  # seconds after the deadline before the hard kill
_SECRET_KEY = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|DSN|DATABASE_URL", re.IGNORECASE)
_MIN_ENV_SECRET = 8  # shorter values of the user's variables ("true", "dev") are not masked
_HANG_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+) in (?P<function>.*)$')


def probe(project: ProjectContext, *, timeout: float = 30.0,
          get_path: Optional[str] = None) -> BootResult:
    """Boot the project's ASGI target once (import, attribute or factory, lifespan startup,
    routes, OpenAPI, `GET get_path`, shutdown) and say what happened. Executes project code."""
    layout = project.layout
    interpreter = project.config.interpreter(project.root)
    target = layout.target
    if target is None:
        return BootResult(NOT_RUN, "import", interpreter=interpreter,
                          reason="no ASGI target found (set [tool.flake8-stability] target)")
    spelled = f"{target.module}:{target.attribute}"
    base = BootResult(NOT_RUN, "import", target=spelled, working_dir=str(layout.working_dir),
                      interpreter=interpreter, timeout=timeout,
                      target_file=_module_file(target.module, layout.import_roots))
    if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
        base.reason = f"interpreter {interpreter} does not exist or cannot be run"
        return base
    config = {"module": target.module, "attribute": target.attribute,
              "factory": target.factory, "roots": [str(root) for root in layout.import_roots],
              "project_root": str(project.root), "timeout": timeout, "get": get_path}
    env = probe_environment(layout.env_files)
    redactor = _redactor(project, env)
    with tempfile.TemporaryDirectory(prefix="sba-boot-") as scratch:
        run = _Run(Path(scratch), interpreter, layout.working_dir, env)
        run.start(config, timeout)
        return _result(base, run, redactor)


def _module_file(module: str, roots: Tuple[Path, ...]) -> Optional[str]:
    """The file Python would load for `module` from the first boot root that has it."""
    relative = Path(*module.split("."))
    for root in roots:
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                return str(candidate)
    return None


def probe_environment(env_files: Tuple[Path, ...]) -> Dict[str, str]:
    """`os.environ`, completed by the `.env` files the boot command loads (the first file that
    sets a key wins)."""
    env = dict(os.environ)
    for path in env_files:
        for key, value in _env_values(path).items():
            env.setdefault(key, value)
    return env


def _env_values(path: Path) -> Dict[str, str]:
    """The file's KEY=VALUE bindings, read with the project's dotenv parser. As in
    python-dotenv, the last binding of a key wins, and a key whose last binding has no value
    (`KEY` alone) is not set."""
    parsed = read_env_file(path)
    values: Dict[str, Optional[str]] = {}
    for entry in parsed.entries if parsed is not None else ():
        values[entry.key] = entry.value
    return {key: value for key, value in values.items() if value is not None}


def _redactor(project: ProjectContext, env: Dict[str, str]) -> Redactor:
    """Masks the project's `.env` values and the values of secret-looking variables."""
    own = Redactor.for_project(project).values
    secret = (value for key, value in env.items()
              if _SECRET_KEY.search(key) and len(value) >= _MIN_ENV_SECRET and "://" not in value)
    return Redactor.of_values([*own, *secret])


class _Drain(threading.Thread):
    """Reads a stream to its end, keeping the last OUTPUT_CAP bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = self.stream.read1(65536)  # type: ignore[attr-defined]
            except (OSError, ValueError):
                return
            if not chunk:
                return
            self.total += len(chunk)
            self.kept += chunk
            if len(self.kept) > OUTPUT_CAP:
                del self.kept[:len(self.kept) - OUTPUT_CAP]

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


class _Run:
    """One probe process and what it left behind."""

    def __init__(self, scratch: Path, interpreter: str, cwd: Path, env: Dict[str, str]) -> None:
        self.result_path = scratch / "result.json"
        self.hang_path = scratch / "hang.txt"
        self.interpreter = interpreter
        self.cwd = cwd
        self.env = env
        self.returncode: Optional[int] = None
        self.killed = False
        self.leftover = False
        self.error = ""
        self.streams: List[_Drain] = []
        self.wall = 0.0

    def start(self, config: Dict[str, Any], timeout: float) -> None:
        started = time.monotonic()
        argv = [self.interpreter, boot_script.__file__, json.dumps(config),
                str(self.result_path), str(self.hang_path)]
        try:
            process = subprocess.Popen(argv, cwd=str(self.cwd), env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            self.error = f"cannot start {self.interpreter}: {exc}"
            return
        self.streams = [_Drain(process.stdout), _Drain(process.stderr)]  # type: ignore[arg-type]
        for stream in self.streams:
            stream.start()
        try:
            self.returncode = process.wait(timeout + _GRACE)
        except subprocess.TimeoutExpired:
            self.killed = True
        self.wall = time.monotonic() - started
        self.leftover = _kill_group(process.pid) and not self.killed
        if self.killed:
            self.returncode = process.wait()
        for stream in self.streams:
            stream.join(2.0)

    def state(self) -> Optional[Dict[str, Any]]:
        try:
            return json.loads(self.result_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def hang_frames(self) -> Tuple[Frame, ...]:
        """The main thread's stack faulthandler wrote at the deadline, outermost first."""
        try:
            text = self.hang_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ()
        if not text.strip():
            return ()
        block = text.split("\n\n")
        main = next((part for part in block if part.lstrip().startswith("Current thread")),
                    block[0])
        frames = [Frame(m.group("file"), int(m.group("line")), m.group("function"))
                  for m in map(_HANG_FRAME.match, main.splitlines()) if m]
        return tuple(reversed(frames)) or (Frame("", 0, "?"),)


def _kill_group(group: int) -> bool:
    """Kill every process of the probe's group; whether any was still there."""
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return True


def _result(base: BootResult, run: _Run, redactor: Redactor) -> BootResult:
    result = base
    result.wall_time = run.wall
    result.leftover_processes = run.leftover
    if run.streams:
        out, err = run.streams
        result.stdout, result.stderr = redactor.text(out.text()), redactor.text(err.text())
        result.output_bytes = out.total + err.total
        result.output_truncated = out.total > OUTPUT_CAP or err.total > OUTPUT_CAP
    state = run.state()
    if run.error or state is None:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        result.reason = run.error or (f"the probe stopped before importing the app "
                                      f"(exit code {run.returncode}): {tail}")
        return result
    _apply_state(result, state, redactor)
    _judge(result, run, state)
    return result


def _apply_state(result: BootResult, state: Dict[str, Any], redactor: Redactor) -> None:
    result.phase = state["phase"]
    result.phases = {name: float(seconds) for name, seconds in state.get("phases", {}).items()}
    result.loaded = tuple(state.get("loaded") or ())
    if state.get("error"):
        result.error = _error(state["error"], redactor)
    if state.get("routes") is not None:
        result.routes = [Route(r["path"], tuple(r["methods"]), r["name"], r["kind"], r["file"],
                               r["line"]) for r in state["routes"]]
    if state.get("openapi") is not None:
        result.openapi_paths = state["openapi"]["paths"]
    if state.get("request") is not None:
        request = dict(state["request"])
        request["body"] = redactor.text(request.get("body", ""))
        result.request = request


def _judge(result: BootResult, run: _Run, state: Dict[str, Any]) -> None:
    """How the run ended, with the frames where it hung or exited."""
    hang = run.hang_frames()
    exited = state.get("exit")
    if hang or state.get("timeout") or run.killed:
        result.outcome = TIMEOUT
        result.frames = hang or _frames((state.get("timeout") or {}).get("frames", ()))
        result.reason = f"no progress within the deadline during {result.phase}"
    elif exited:
        result.outcome = EXITED
        result.exit_code, result.exit_how = exited["code"], exited["how"]
        result.frames = _frames(exited["frames"])
    elif run.returncode and result.phase != "done":
        result.outcome = EXITED
        result.exit_code = run.returncode
        if run.returncode < 0:
            result.exit_how = f"signal {signal.Signals(-run.returncode).name}"
    elif state.get("error"):
        result.outcome = FAILED
    elif result.phase == "done":
        result.outcome = BOOTED
    else:
        result.outcome = EXITED
        result.exit_code = run.returncode


def _frames(raw: Any) -> Tuple[Frame, ...]:
    return tuple(Frame(f["file"], int(f["line"] or 0), f["function"]) for f in raw or ())


def _error(raw: Dict[str, Any], redactor: Redactor) -> RaisedError:
    chain = tuple(_error(link, redactor) for link in raw.get("chain", ()))
    return RaisedError(raw["type"], redactor.text(raw["message"]), _frames(raw["frames"]), chain)
