"""Import names claimed by more than one PyPI distribution, where the look-alike breaks the
code written for the usual one. Every entry was checked against the released wheels' or
sdists' file lists (`pip download --no-deps`) and its failure reproduced with the real
packages under Python 3.11."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple


@dataclass(frozen=True)
class LookAlike:
    """`wrong` installs top-level `module`, but code using `module` expects `right`."""

    module: str  # the contested top-level import name
    wrong: str  # canonical name of the look-alike distribution
    right: Tuple[str, ...]  # the distributions the code expects, as their projects spell them
    failure: str  # what goes wrong, with the exact error
    # dotted names whose import shows the code needs `module` (besides `module` itself)
    needed_by: Tuple[str, ...] = ()
    # the look-alike only breaks together with one of these distributions
    only_with: Tuple[str, ...] = ()
    evidence: str = ""


LOOK_ALIKES: Tuple[LookAlike, ...] = (
    LookAlike(
        module="jwt", wrong="jwt", right=("PyJWT",),
        failure=("the distribution `jwt` installs an unrelated module `jwt` without PyJWT's "
                 "functions, so `jwt.encode(...)` raises `AttributeError: module 'jwt' has no "
                 "attribute 'encode'` (and `jwt.decode` likewise) at the first login"),
        evidence="jwt 1.4.0 wheel: top-level jwt; reproduced with jwt 1.4.0; jpadilla/pyjwt#374"),
    LookAlike(
        module="jose", wrong="jose", right=("python-jose",),
        failure=("the distribution `jose` is a Python 2 module `jose.py`, so importing it fails "
                 "with `SyntaxError: Missing parentheses in call to 'print'. Did you mean "
                 "print(...)?`"),
        evidence="jose 1.0.0 sdist: jose.py; reproduced with jose 1.0.0"),
    LookAlike(
        module="multipart", wrong="multipart", right=("python-multipart",),
        failure=("FastAPI checks for python-multipart when a route takes form or file "
                 "parameters and finds the other `multipart` instead: `RuntimeError: Form data "
                 "requires \"python-multipart\" to be installed. It seems you installed "
                 "\"multipart\" instead.`, raised when the route is declared"),
        needed_by=("python_multipart", "fastapi.Form", "fastapi.File", "fastapi.UploadFile",
                   "fastapi.security.OAuth2PasswordRequestForm",
                   "fastapi.security.OAuth2PasswordRequestFormStrict"),
        evidence="multipart 2.0.1 wheel: multipart.py; reproduced with fastapi 0.165.0"),
    LookAlike(
        module="bson", wrong="bson", right=("pymongo",),
        failure=("the standalone `bson` overwrites the `bson` package that pymongo ships, so "
                 "`import pymongo` fails with `ImportError: cannot import name 'SON' from "
                 "'bson'`"),
        needed_by=("pymongo", "motor", "beanie"),
        only_with=("pymongo",),
        evidence="bson 0.5.10 sdist: bson/; reproduced with pymongo 4.20.1"),
)

BY_WRONG: Dict[str, LookAlike] = {entry.wrong: entry for entry in LOOK_ALIKES}
