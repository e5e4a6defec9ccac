"""stability-fix: libcst codemods that apply the fixes findings name (`Fix.codemod`), only on
request. libcst is imported only here, never on the flake8 path."""
