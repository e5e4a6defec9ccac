"""Optional packages that pydantic and FastAPI features need at import: SBA206, SBA207."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

from packaging.version import Version

from ...analysis import models as M
from ...analysis.import_guards import TYPE_CHECKING_GUARD, import_guard
from ...analysis.pydantic_classes import pydantic_classes
from ...analysis.routes import (Parameter, Route, annotation_metadata, dependency_target,
                                depends_calls, expand_alias, parameters, routes)
from ...context import ModuleContext
from ...environment import Environment
from ...findings import Category, Finding, Severity
from ..base import Invalid, Rule, Valid

_EMAIL_TYPES = frozenset({"pydantic.EmailStr", "pydantic.NameEmail", "sqlmodel.EmailStr",
                          "sqlmodel.NameEmail"})
_PYDANTIC_DATACLASS = "pydantic.dataclasses.dataclass"
_QUOTED_EXTRA_SINCE = Version("2.12")  # "run `pip install 'pydantic[email]'`" from here
_VERSION_CHECK_SINCE = Version("2.6")  # pydantic requires email-validator 2.x from here
_INSTALL_V2 = ("Declare the dependency \"pydantic[email]\" (or \"email-validator>=2,<3\") and "
               "install it: pip install \"pydantic[email]\".")
_INSTALL_V1 = ("Declare the dependency \"pydantic[email]\" (or \"email-validator\") and install "
               "it: pip install \"pydantic[email]\".")

_FORM_CALLS = frozenset(f"fastapi.{where}{name}" for where in ("", "params.", "param_functions.")
                        for name in ("Form", "File"))
_UPLOAD_FILES = frozenset({"fastapi.UploadFile", "fastapi.datastructures.UploadFile",
                           "starlette.datastructures.UploadFile"})
_FORM_CLASSES = frozenset(f"fastapi.security{where}.{name}" for where in ("", ".oauth2")
                          for name in ("OAuth2PasswordRequestForm",
                                       "OAuth2PasswordRequestFormStrict"))
_SEQUENCES = frozenset({"List", "Sequence", "Set", "FrozenSet", "Tuple", "list", "set",
                        "frozenset", "tuple"})
_PYTHON_MULTIPART_MODULE_SINCE = Version("0.115.6")  # FastAPI imports python_multipart first
_NOT_INSTALLED = ('RuntimeError: Form data requires "python-multipart" to be installed. '
                  'You can install "python-multipart" with: pip install python-multipart')
_WRONG_PACKAGE = ('RuntimeError: Form data requires "python-multipart" to be installed. It seems '
                  'you installed "multipart" instead.')


def _interpreter(environment: Environment) -> str:
    return f" ({environment.executable})" if environment.executable else ""


# -- SBA206 ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _EmailProblem:
    error: str  # the exact ImportError text of the installed pydantic
    cause: str  # what is wrong with email-validator
    fix: str


def _email_problem(environment: Environment) -> Optional[_EmailProblem]:
    """What the installed pydantic will raise for EmailStr; None when it works or is unknown."""
    pydantic = environment.version("pydantic")
    if environment.error or pydantic is None:
        return None
    if not environment.has("email-validator"):
        extra = "'pydantic[email]'" if pydantic >= _QUOTED_EXTRA_SINCE else "pydantic[email]"
        return _EmailProblem(
            f"ImportError: email-validator is not installed, run `pip install {extra}`",
            "email-validator is not installed",
            _INSTALL_V2 if pydantic.major >= 2 else _INSTALL_V1)
    raw = environment.distributions.get("email-validator", "")
    if pydantic >= _VERSION_CHECK_SINCE and raw.partition(".")[0] != "2":
        return _EmailProblem(
            "ImportError: email-validator version >= 2.0 required, run pip install -U "
            "email-validator",
            f"email-validator {raw} is installed, but pydantic >= 2.6 only accepts 2.x",
            "Upgrade it and the declared pin: pip install -U \"email-validator>=2,<3\".")
    return None


def _email_node(module: ModuleContext, annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    """`annotation` when it names EmailStr / NameEmail anywhere (`Optional[EmailStr]`,
    `List["EmailStr"]`, `Annotated[EmailStr, ...]`, `pydantic.EmailStr`)."""
    if annotation is None:
        return None
    for node in ast.walk(annotation):
        inner = M.parse_string_annotation(node) if isinstance(node, ast.Constant) else None
        if inner is not None and _email_node(module, inner) is not None:
            return annotation
        if isinstance(node, (ast.Name, ast.Attribute)) and module.qualname(node) in _EMAIL_TYPES \
                and not _type_checking_only(module, node):
            return annotation
    return None


def _type_checking_only(module: ModuleContext, node: ast.expr) -> bool:
    """The name is imported only under `if TYPE_CHECKING:`: pydantic never sees EmailStr."""
    while isinstance(node, ast.Attribute):
        node = node.value
    bindings = module.scopes.lookup(node.id, node) if isinstance(node, ast.Name) else []
    return bool(bindings) and all(
        import_guard(module.scopes, b.node) == TYPE_CHECKING_GUARD for b in bindings)


def _pydantic_dataclass(module: ModuleContext, cls: ast.ClassDef) -> bool:
    return any(module.qualname(d.func if isinstance(d, ast.Call) else d) == _PYDANTIC_DATACLASS
               for d in cls.decorator_list)


def _type_name(module: ModuleContext, annotation: ast.expr) -> str:
    for node in ast.walk(annotation):
        if isinstance(node, (ast.Name, ast.Attribute)) and module.qualname(node) in _EMAIL_TYPES:
            return str(module.qualname(node)).rsplit(".", 1)[1]
    return "EmailStr"


class EmailValidatorMissing(Rule):
    code = "SBA206"
    name = "email-validator-missing"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = ("Any pydantic version using `EmailStr` (1.x and 2.x); pydantic >= 2.6 also needs "
                "email-validator >= 2.0.")
    summary = "EmailStr / NameEmail used while email-validator is missing or too old"
    references = ("D08",)
    triggers = ("EmailStr", "NameEmail")
    what = ("A model field (pydantic `BaseModel`, `BaseSettings`, SQLModel, pydantic dataclass) "
            "or a FastAPI route parameter annotated with `EmailStr` or `NameEmail` while the "
            "project's interpreter has no `email-validator`, or, with pydantic >= 2.6, an "
            "email-validator that is not 2.x.")
    why = ("pydantic imports `email_validator` when it builds the schema of the field, which "
           "happens when the class is created (or when FastAPI registers the route), so the "
           "module cannot be imported: pydantic 2.14.4 raises `ImportError: email-validator is "
           "not installed, run `pip install 'pydantic[email]'``, pydantic 1 and 2.0-2.11 the same "
           "without the quotes, and from 2.6 an email-validator 1.x gives `ImportError: "
           "email-validator version >= 2.0 required, run pip install -U email-validator`.")
    how_to_fix = ("Depend on `pydantic[email]` (or `email-validator>=2` on pydantic 2) and "
                  "install it in the environment that runs the app.")
    codemod = "pydantic-email-extra"
    fix_safety = ("Safe: the `pydantic-email-extra` fix adds the `email` extra to the project's "
                  "one pydantic requirement, or an `email-validator` line with the range the "
                  "installed pydantic's `email` extra asks for; it changes no code. A declared "
                  "email-validator pinned to 1.x is left to you.")
    valid = (
        Valid('''
            from pydantic import BaseModel, Field

            class UserCreate(BaseModel):
                email: str = Field(pattern=r"^[^@]+@[^@]+$")
                password: str
        ''', note="a pattern instead of EmailStr needs no extra package"),
        Valid('''
            from typing import TYPE_CHECKING

            from pydantic import BaseModel

            if TYPE_CHECKING:
                from pydantic import EmailStr

            def normalise(address: "EmailStr") -> str:
                return address.lower()

            class Team(BaseModel):
                name: str
        ''', note="a plain function annotation builds no schema"),
        Valid('''
            from dataclasses import dataclass

            from pydantic import EmailStr

            @dataclass
            class Invite:
                email: EmailStr
        ''', note="a stdlib dataclass does not validate its fields"),
    )
    invalid = (
        Invalid('''
            from pydantic import BaseModel, EmailStr

            class UserCreate(BaseModel):
                email: EmailStr  # expect: SBA206
                password: str
        ''', raises="ImportError: email-validator is not installed, run `pip install 'pydantic[email]'`"),
        Invalid('''
            from typing import Optional

            import pydantic
            from sqlmodel import Field, SQLModel

            class UserBase(SQLModel):
                full_name: str

            class User(UserBase, table=True):
                id: Optional[int] = Field(default=None, primary_key=True)
                email: Optional[pydantic.EmailStr] = Field(default=None, unique=True)  # expect: SBA206
        ''', raises="ImportError: email-validator is not installed"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import FastAPI
                from pydantic.networks import EmailStr as Email

                app = FastAPI()

                @app.get("/users/by-email")
                async def by_email(address: Email):  # expect: SBA206
                    return {"address": address}
            ''',
        }, raises="ImportError: email-validator is not installed", run="import app.main"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        environment = module.project.environment
        problem = _email_problem(environment)
        if problem is None:
            return
        for node, owner, place in self._uses(module):
            yield self._finding(module, environment, problem, node, owner, place)

    def _uses(self, module: ModuleContext) -> Iterator[Tuple[ast.expr, str, ast.AST]]:
        """(annotation, what it belongs to, where the failure happens) for each class or route."""
        models = {found.node for found in pydantic_classes(module)}
        for cls in module.scopes.classes:
            if not (cls in models or _pydantic_dataclass(module, cls)) \
                    or import_guard(module.scopes, cls):
                continue
            for found in module.models.own_fields(cls):
                node = _email_node(module, found.annotation)
                if node is not None and not found.name.startswith("_") \
                        and not module.models.is_classvar(found.annotation, cls):
                    yield node, f"field {cls.name}.{found.name}", cls
                    break
        reported = set()
        for route in routes(module):
            if import_guard(module.scopes, route.function):
                continue
            for parameter in parameters(module, route):
                node = _email_node(module, parameter.annotation)
                if node is None or node in reported or depends_calls(module, parameter):
                    continue
                reported.add(node)  # a dependency shared by several routes: once
                inside = "" if parameter.function is route.function \
                    else f" (in {parameter.function.name}())"
                yield node, f"parameter {parameter.arg.arg!r} of {route.label}{inside}", \
                    route.function
                break

    def _finding(self, module: ModuleContext, environment: Environment, problem: _EmailProblem,
                 node: ast.expr, owner: str, place: ast.AST) -> Finding:
        type_name = _type_name(module, node)
        when = ("when the class is created" if isinstance(place, ast.ClassDef)
                else "when FastAPI registers the route")
        return self.report(
            module, node,
            f"{owner} is {type_name}, but {problem.cause}",
            f"{environment.describe('pydantic')} imports email_validator for {type_name} {when}; "
            f"in the project's interpreter{_interpreter(environment)} {problem.cause}, so the "
            f"import fails with {problem.error}.",
            problem.fix,
            severity=self.severity_at(module, place),
        )


# -- SBA207 ----------------------------------------------------------------------------------------
def _multipart_problem(environment: Environment) -> Optional[Tuple[str, str]]:
    """(the exact error, what is wrong) when FastAPI will refuse form data; None if it works or
    nothing is known."""
    if environment.error or environment.version("fastapi") is None:
        return None
    if environment.has("python-multipart"):
        return None
    if environment.has("multipart"):
        return _WRONG_PACKAGE, (f"only the unrelated \"multipart\" "
                                f"{environment.distributions.get('multipart')} is installed")
    return _NOT_INSTALLED, "python-multipart is not installed"


def _form_marker(module: ModuleContext, parameter: Parameter) -> Optional[Tuple[ast.AST, str]]:
    """(node, what) when FastAPI reads the parameter as form data."""
    for candidate in (parameter.default, *annotation_metadata(module, parameter)):
        if isinstance(candidate, ast.Call) and module.call_name(candidate) in _FORM_CALLS:
            return _shown_at(candidate, parameter), \
                f"{module.call_name(candidate).rsplit('.', 1)[1]}()"
    for call in depends_calls(module, parameter):
        target = dependency_target(call)
        form = _form_class(module, target if target is not None else _base_type(
            module, parameter.annotation))
        if form is not None:
            return _shown_at(call, parameter), form
    if depends_calls(module, parameter):
        return None
    base = _base_type(module, parameter.annotation)
    base = _element(module, base) if isinstance(base, ast.Subscript) else base
    if base is not None and module.qualname(base) in _UPLOAD_FILES:
        return parameter.arg, "UploadFile"
    return None


def _shown_at(node: ast.AST, parameter: Parameter) -> ast.AST:
    """`node` when it is written in the parameter, else (an alias's metadata) the parameter."""
    written = [parameter.default, parameter.annotation]
    if any(node is inner for part in written if part is not None for inner in ast.walk(part)):
        return node
    return parameter.arg


def _form_class(module: ModuleContext, expr: Optional[ast.expr]) -> Optional[str]:
    name = module.qualname(expr) if expr is not None else None
    return name.rsplit(".", 1)[1] if name in _FORM_CLASSES else None


def _base_type(module: ModuleContext, annotation: Optional[ast.expr]) -> Optional[ast.expr]:
    """The type of an annotation without Optional / Annotated (through an alias)."""
    annotation = expand_alias(module, annotation)
    if annotation is None:
        return None
    found, _ = module.models.unwrap(annotation, annotation)
    return found


def _element(module: ModuleContext, subscript: ast.Subscript) -> Optional[ast.expr]:
    """`UploadFile` of `List[UploadFile]` / `list[UploadFile]`."""
    head = subscript.value
    name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", None)
    elements = M.subscript_elements(subscript)
    if name in _SEQUENCES and elements:
        return elements[0]
    return None


class PythonMultipartMissing(Rule):
    code = "SBA207"
    name = "python-multipart-missing"
    severity = Severity.BLOCKING
    category = Category.DEPENDENCIES
    versions = ("Any FastAPI version with Form, File or UploadFile parameters; FastAPI >= 0.115.6 "
                "imports `python_multipart` first, older releases only `multipart.multipart`.")
    summary = "a route takes form data or files while python-multipart is not installed"
    references = ("D09", "I05")
    triggers = ("Form", "File", "OAuth2PasswordRequestForm")
    what = ("A FastAPI route (or a dependency function it uses) with a `Form(...)` or "
            "`File(...)` parameter (also inside `Annotated[...]`), an `UploadFile` parameter, or "
            "`OAuth2PasswordRequestForm` / `OAuth2PasswordRequestFormStrict` as a dependency, "
            "while the project's interpreter has no `python-multipart` (or only the unrelated "
            "`multipart` package).")
    why = ("FastAPI checks for the multipart parser when it registers the route, which runs "
           "at import for a decorated module-level function: `RuntimeError: Form data requires "
           "\"python-multipart\" to be installed. You can install \"python-multipart\" with: "
           "pip install python-multipart` (line breaks removed; FastAPI 0.165.0), or, when the "
           "`multipart` distribution is installed instead, `RuntimeError: Form data requires "
           "\"python-multipart\" to be installed. It seems you installed \"multipart\" "
           "instead.` FastAPI >= 0.115.6 imports `python_multipart` first and falls back to "
           "`multipart.multipart`; older releases only try `multipart.multipart`.")
    how_to_fix = ("Depend on `python-multipart` (or `fastapi[standard]`), not `multipart`, and "
                  "install it; uninstall `multipart` if it is there.")
    codemod = "add-python-multipart"
    fix_safety = ("Safe: the `add-python-multipart` fix adds a `python-multipart` line after "
                  "FastAPI's requirement, with the range FastAPI's `standard` extra asks for; it "
                  "changes no code. Uninstalling a conflicting `multipart` is left to you.")
    valid = (
        Valid('''
            from fastapi import Body, FastAPI
            from pydantic import BaseModel

            class Login(BaseModel):
                username: str
                password: str

            app = FastAPI()

            @app.post("/login")
            async def login(data: Login = Body(...)):
                return {"user": data.username}
        ''', note="a JSON body needs no multipart parser"),
        Valid('''
            from fastapi import FastAPI, Request

            app = FastAPI()

            @app.post("/hooks")
            async def hook(request: Request):
                payload = await request.json()
                return {"received": len(payload)}
        '''),
    )
    invalid = (
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from fastapi import Depends, FastAPI
                from fastapi.security import OAuth2PasswordRequestForm

                app = FastAPI()

                @app.post("/token")
                async def token(form: OAuth2PasswordRequestForm = Depends()):  # expect: SBA207
                    return {"access_token": form.username, "token_type": "bearer"}
            ''',
        }, raises='RuntimeError: Form data requires "python-multipart" to be installed.',
            run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import Annotated

                from fastapi import APIRouter, FastAPI
                from fastapi import Form as FormField

                router = APIRouter(prefix="/contact")

                @router.post("/")
                async def contact(message: Annotated[str, FormField(max_length=500)]):  # expect: SBA207
                    return {"length": len(message)}

                app = FastAPI()
                app.include_router(router)
            ''',
        }, raises='RuntimeError: Form data requires "python-multipart" to be installed.',
            run="import app.main"),
        Invalid({
            "app/__init__.py": "",
            "app/main.py": '''
                from typing import List

                from fastapi import FastAPI, UploadFile

                app = FastAPI()

                @app.post("/photos")
                async def upload(files: List[UploadFile]):  # expect: SBA207
                    return {"count": len(files)}
            ''',
        }, raises='RuntimeError: Form data requires "python-multipart" to be installed.',
            run="import app.main"),
    )

    def check_module(self, module: ModuleContext) -> Iterator[Finding]:
        environment = module.project.environment
        problem = _multipart_problem(environment)
        if problem is None:
            return
        reported = set()
        for route in routes(module):
            if import_guard(module.scopes, route.function):
                continue
            found = self._first_form(module, route)
            if found is not None and found[0] not in reported:
                reported.add(found[0])  # a dependency shared by several routes: once
                yield self._finding(module, environment, problem, route, *found)

    @staticmethod
    def _first_form(module: ModuleContext,
                    route: Route) -> Optional[Tuple[ast.AST, str, Parameter]]:
        for parameter in parameters(module, route):
            marker = _form_marker(module, parameter)
            if marker is not None:
                return marker[0], marker[1], parameter
        return None

    def _finding(self, module: ModuleContext, environment: Environment,
                 problem: Tuple[str, str], route: Route, node: ast.AST, what: str,
                 parameter: Parameter) -> Finding:
        error, cause = problem
        fastapi = environment.describe("fastapi")
        owner = parameter.function.name
        via = "" if parameter.function is route.function else f" of {owner}()"
        checked = ("the python_multipart module, then multipart.multipart"
                   if (environment.version("fastapi") or Version("0")) >=
                   _PYTHON_MULTIPART_MODULE_SINCE else "multipart.multipart")
        return self.report(
            module, node,
            f"{route.label} reads form data ({what} parameter {parameter.arg.arg!r}{via}), but "
            f"{cause}",
            f"{fastapi} checks for {checked} when it registers the route; in the project's "
            f"interpreter{_interpreter(environment)} {cause}, so it raises {error}",
            "Declare the dependency \"python-multipart\" (or \"fastapi[standard]\") and install "
            "it: pip install python-multipart" + (" (and pip uninstall multipart)."
                                                  if environment.has("multipart") else "."),
            severity=self.severity_at(module, route.function),
        )
