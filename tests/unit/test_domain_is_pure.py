"""The domain imports nothing but the standard library and itself (no I/O libraries)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import service.domain

DOMAIN_DIR = Path(service.domain.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(DOMAIN_DIR)]))


def foreign_imports(source: str, package: str = "service.domain") -> list[str]:
    """Modules imported by ``source`` outside the standard library and ``package``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue  # relative imports stay inside the package
        for name in names:
            top = name.split(".")[0]
            inside = name == package or name.startswith(package + ".")
            if not inside and top not in sys.stdlib_module_names and top != "__future__":
                found.append(name)
    return found


def test_the_domain_has_modules() -> None:
    assert {"atp", "geo", "identifiers", "loyalty", "pickups", "pricing", "promotions"} <= set(
        MODULES
    )


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_only_stdlib_and_the_domain(module: str) -> None:
    importlib.import_module(f"service.domain.{module}")
    source = (DOMAIN_DIR / f"{module}.py").read_text(encoding="utf-8")
    assert foreign_imports(source) == []


def test_the_checker_catches_foreign_imports() -> None:
    source = """
import asyncpg
import json, aiohttp.web
from pydantic import BaseModel
from service.api import app
from service.domainx import y
from service.domain.money import Money
from . import errors
from __future__ import annotations
if True:
    import zeep
"""
    assert foreign_imports(source) == [
        "asyncpg",
        "aiohttp.web",
        "pydantic",
        "service.api",
        "service.domainx",
        "zeep",
    ]
