"""Print, as JSON, the keyword arguments the constructor of each named class accepts after its
first parameter (the ASGI app a middleware wraps). Stdlib only; it imports only the modules the
dotted names name, run isolated (`python -I`) so that no project folder is on `sys.path`."""
import importlib
import inspect
import json
import sys

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _resolve(dotted):
    """The object `a.b.C` names: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        try:
            found = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr)
        return found
    raise ImportError("cannot import " + dotted)


def _init_owner(cls):
    """`CORSMiddleware.__init__`: the qualified name Python's TypeError uses."""
    init = getattr(cls, "__init__", None)
    return getattr(init, "__qualname__", cls.__name__ + ".__init__")


def describe(dotted):
    try:
        cls = _resolve(dotted)
        if not inspect.isclass(cls):
            return {"error": dotted + " is not a class"}
        parameters = list(inspect.signature(cls).parameters.values())
    except Exception as exc:  # any failure: the caller stays silent about this class
        return {"error": "%s: %s" % (type(exc).__name__, exc)}
    first = parameters[0] if parameters else None
    if first is None or first.kind not in (inspect.Parameter.POSITIONAL_ONLY, _NAMED[0]):
        return {"error": "no positional parameter for the app"}
    rest = parameters[1:]
    return {"accepts": [p.name for p in rest if p.kind in _NAMED],
            "var_keyword": any(p.kind is inspect.Parameter.VAR_KEYWORD for p in rest),
            "init": _init_owner(cls), "module": getattr(cls, "__module__", "") or ""}


if __name__ == "__main__":
    print(json.dumps({name: describe(name) for name in json.loads(sys.argv[1])}))
