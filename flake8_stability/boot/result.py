"""What one boot probe run observed, already redacted: the phase reached, how it ended, the
exception (with its chain and frames), the routes, the OpenAPI schema, the optional request,
the captured output and the time spent. `to_dict()` is the JSON report's `boot` section."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

PHASES = ("import", "attribute", "startup", "routes", "openapi", "request", "shutdown", "done")
APP_PHASES = ("import", "attribute", "startup")  # the app's own boot: what uvicorn waits for

# How a run ended.
BOOTED = "booted"  # reached `done`
FAILED = "failed"  # an exception ended a phase
TIMEOUT = "timeout"  # the deadline passed inside a phase
EXITED = "exited"  # the app ended the process (sys.exit, os._exit, a signal)
NOT_RUN = "not-run"  # the probe could not run (no target, no interpreter, probe crash)


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    def to_dict(self) -> Dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function}


@dataclass(frozen=True)
class RaisedError:
    """One exception: `type` is `module.Qualname`; `chain` its causes/contexts, outermost
    first (each without a chain of its own)."""

    type: str
    message: str
    frames: Tuple[Frame, ...] = ()
    chain: Tuple["RaisedError", ...] = ()

    @property
    def short_type(self) -> str:
        return self.type.replace("builtins.", "")

    def every(self) -> Tuple["RaisedError", ...]:
        return (self, *self.chain)

    def to_dict(self) -> Dict[str, Any]:
        return {"type": self.type, "message": self.message,
                "frames": [f.to_dict() for f in self.frames],
                "chain": [link.to_dict() for link in self.chain]}


@dataclass(frozen=True)
class Route:
    path: str
    methods: Tuple[str, ...]
    name: Optional[str]
    kind: str
    file: Optional[str] = None  # where the endpoint function is defined
    line: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "methods": list(self.methods), "name": self.name,
                "kind": self.kind, "file": self.file, "line": self.line}


@dataclass
class BootResult:
    outcome: str
    phase: str  # the phase in progress when the run ended (`done` when it booted)
    target: Optional[str] = None
    target_file: Optional[str] = None  # the target module's file, when found under a boot root
    timeout: float = 0.0
    working_dir: Optional[str] = None
    interpreter: Optional[str] = None
    reason: str = ""  # why the probe did not run, or how the run was stopped
    error: Optional[RaisedError] = None
    exit_code: Optional[int] = None
    exit_how: Optional[str] = None  # sys.exit, os._exit, signal
    frames: Tuple[Frame, ...] = ()  # where it hung or exited
    phases: Dict[str, float] = field(default_factory=dict)  # seconds per completed phase
    routes: Optional[List[Route]] = None
    openapi_paths: Optional[int] = None
    request: Optional[Dict[str, Any]] = None
    loaded: Tuple[str, ...] = ()  # the project's files imported by the app
    stdout: str = ""  # the tail of what the app printed (capped)
    stderr: str = ""
    output_bytes: int = 0
    output_truncated: bool = False
    leftover_processes: bool = False  # the app left processes behind (all killed)
    wall_time: float = 0.0

    @property
    def app_time(self) -> float:
        """The app's own import, attribute and startup time, measured inside the probe."""
        return sum(self.phases.get(phase, 0.0) for phase in APP_PHASES)

    @property
    def overhead(self) -> float:
        return max(0.0, self.wall_time - self.app_time)

    def reached(self, phase: str) -> bool:
        """Whether `phase` completed."""
        if self.outcome == NOT_RUN:
            return False
        return PHASES.index(self.phase) > PHASES.index(phase)

    def describe(self) -> str:
        """One line: `booted`, `timeout at import`, `exited with code 3 during import`, ..."""
        if self.outcome == BOOTED:
            return "booted"
        if self.outcome == NOT_RUN:
            return f"not run: {self.reason}"
        if self.outcome == TIMEOUT:
            return f"timeout at {self.phase}"
        if self.outcome == EXITED:
            code = f"code {self.exit_code}" if self.exit_code is not None else "no code"
            via = f" ({self.exit_how})" if self.exit_how else ""
            return f"exited with {code} during {self.phase}{via}"
        kind = self.error.short_type if self.error else "an error"
        return f"failed at {self.phase}: {kind}"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "executes_project_code": True,
            "outcome": self.outcome,
            "summary": self.describe(),
            "phase": self.phase,
            "target": self.target,
            "target_file": self.target_file,
            "timeout": self.timeout,
            "working_dir": self.working_dir,
            "interpreter": self.interpreter,
            "reason": self.reason,
            "error": self.error.to_dict() if self.error else None,
            "exit": ({"code": self.exit_code, "how": self.exit_how}
                     if self.outcome == EXITED else None),
            "frames": [f.to_dict() for f in self.frames],
            "phases": dict(self.phases),
            "routes": [r.to_dict() for r in self.routes] if self.routes is not None else None,
            "openapi_paths": self.openapi_paths,
            "request": self.request,
            "loaded": list(self.loaded),
            "output": {"stdout": self.stdout, "stderr": self.stderr,
                       "bytes": self.output_bytes, "truncated": self.output_truncated},
            "leftover_processes": self.leftover_processes,
            "time": {"wall": round(self.wall_time, 3), "app": round(self.app_time, 3),
                     "overhead": round(self.overhead, 3)},
        }
