"""The layer rule, checked on every module of ``service/`` and ``stores/`` (imports inside
functions included):

    service.api, service.workers, service.cli  ->  service.usecases  ->  stores  ->  service.domain

- ``service.domain`` imports the standard library and itself only (``test_domain_is_pure``
  also keeps third-party libraries out).
- ``stores`` (SQL repositories): the domain, other stores and ``service.errors`` (a repository
  may raise our errors). Never ``service.erp``: the rows they write are their own ``Protocol``s.
- ``service.erp.port`` (the ERP port, its values and errors) and ``service.erp.lazy`` (one client
  of the port, built on first use): the domain and the port only. The adapters
  (``service.erp.cegid``, ``service.erp.simulator``): the port, the domain and themselves.
- ``service.usecases``: stores, the domain, the ERP port (never an adapter), each other, and
  the shared infrastructure ``errors``, ``observability`` and ``background``; not ``settings``
  (the use cases take their own small settings dataclasses, filled in by the callers).
- ``service.api`` / ``service.workers``: the use cases, the domain, the port, all shared
  infrastructure and their own package; not stores, not adapters. ``service.cli`` (with
  ``service.demo``) starts the API and the workers, so it may import them too.
- Shared infrastructure (``errors``, ``observability``, ``settings``, ``background``): the
  domain only.
- Composition roots (``WIRING``: the app factory and its resources, the worker's entry point,
  the job builder and the CLI) build the resources the rest is handed; they may also import
  those constructors: the pool, migrations, the cache, the NOTIFY channel, the ERP adapters,
  and each other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("service", "stores")

SHARED = ("service.errors", "service.observability", "service.settings", "service.background")
BELOW_THE_TOP = {"domain", "port", "usecases", "errors", "observability", "background"}
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "port": {"domain", "port"},
    "adapter": {"domain", "port", "adapter"},
    "stores": {"domain", "stores", "errors"},
    "usecases": {"domain", "port", "stores", "usecases", "errors", "observability", "background"},
    "api": BELOW_THE_TOP | {"settings", "api"},
    "workers": BELOW_THE_TOP | {"settings", "workers"},
    "cli": BELOW_THE_TOP | {"settings", "cli", "api", "workers"},
    "wiring": BELOW_THE_TOP | {"settings", "workers"},
    **{name.removeprefix("service."): {"domain"} for name in SHARED},
    "root": set(),  # service/__init__.py, stores/__init__.py
}
# Composition roots: besides their layer's imports, the constructors of what they build.
WIRING = {
    "service.api.app",
    "service.api.stock_context",
    "service.bootstrap",
    "service.workers.main",
}
WIRING_TARGETS = {"stores.db", "stores.migrate", "stores.cache", "stores.notify"}
# Known breaches, each to be removed by the change that fixes it: this set only shrinks
# (issue 13 emptied it: settings parsed a value with a use case's parser, and two API modules
# built the ERP client lazily through ``service.bootstrap``).
KNOWN_BREACHES: set[tuple[str, str]] = set()


def _is_cli(module: str) -> bool:
    return module in ("service.cli", "service.demo") or module.startswith(
        ("service.cli.", "service.cli_")
    )


def layer_of(module: str) -> str:
    """The layer of a module of ours (``service.x.y`` or ``stores.x``)."""
    if module in PACKAGES:
        return "root"
    if module == "service.bootstrap":
        return "wiring"
    if _is_cli(module):
        return "cli"
    for name in SHARED:
        if module == name:
            return name.removeprefix("service.")
    if module in ("service.erp.port", "service.erp.lazy"):
        return "port"
    prefixes = {
        "stores": "stores",
        "service.domain": "domain",
        "service.erp": "adapter",
        "service.usecases": "usecases",
        "service.api": "api",
        "service.workers": "workers",
    }
    for prefix, layer in prefixes.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module}: no layer; add it to test_layers.layer_of")


def is_wiring(module: str) -> bool:
    return module in WIRING or _is_cli(module)


def allowed(source: str, target: str) -> bool:
    if (source, target) in KNOWN_BREACHES:
        return True
    if layer_of(target) in ALLOWED[layer_of(source)]:
        return True
    if is_wiring(source):
        return target in WIRING_TARGETS or layer_of(target) == "adapter" or is_wiring(target)
    return False


def module_files() -> dict[str, Path]:
    """Every module of ours: dotted name -> file."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = module_files()


def imports_of(module: str, source: str, known: Iterable[str]) -> list[str]:
    """The modules of ours that ``source`` (module ``module``) imports, anywhere in it.
    ``from package import name`` counts as an import of ``package.name`` when that is a module."""
    known = set(known)
    is_package = any(other.startswith(module + ".") for other in known)
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            candidates = []
            for alias in node.names:
                full = f"{base}.{alias.name}"
                candidates.append(full if full in known else base)
        else:
            continue
        for name in candidates:
            if name.split(".")[0] in PACKAGES:
                found.append(name)
    return found


def breaches(module: str, source: str, known: Iterable[str]) -> list[str]:
    return [
        target
        for target in imports_of(module, source, known)
        if not allowed(module, _module_named(target, known))
    ]


def _module_named(name: str, known: Iterable[str]) -> str:
    """``name`` itself, or the deepest module of ours it lies in (``stores.outbox.OutboxRow`` is
    not a module; ``import service.x.y`` is)."""
    known = set(known)
    while name not in known and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 100
    layers = {layer_of(module) for module in MODULES}
    assert {"domain", "port", "adapter", "stores", "usecases", "api", "workers", "cli"} <= layers


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_what_its_layer_may(module: str) -> None:
    source = MODULES[module].read_text(encoding="utf-8")
    assert breaches(module, source, MODULES) == []


def test_known_breaches_still_exist() -> None:
    """An entry fixed is an entry removed: the allowlist never hides a rule nobody breaks."""
    stale = {
        (source, target)
        for source, target in KNOWN_BREACHES
        if source not in MODULES
        or target
        not in {
            _module_named(t, MODULES)
            for t in imports_of(source, MODULES[source].read_text(encoding="utf-8"), MODULES)
        }
    }
    assert stale == set()


def test_the_checker_catches_breaches() -> None:
    known = {
        "service.api.pickups",
        "service.api.app",
        "service.usecases.pickups.create",
        "service.usecases.cursor",
        "service.erp.cegid",
        "service.erp.cegid.transport",
        "service.erp.port",
        "service.domain.pickups",
        "stores.pickups",
        "stores.outbox",
        "stores.db",
        "service.settings",
        "service.errors",
    }
    api = """
from service.usecases.pickups import create
from service.usecases import cursor
from service.domain.pickups import Actor
from service.erp.port import ErpError
from service.settings import Settings
from stores.outbox import OutboxRow
def handler():
    import stores.pickups
    from service.erp.cegid.transport import RequestNotSent
"""
    assert breaches("service.api.pickups", api, known) == [
        "stores.outbox",
        "stores.pickups",
        "service.erp.cegid.transport",
    ]
    assert breaches("service.api.app", "from stores.db import create_pool", known) == []
    use_case = """
from stores import pickups
from service.erp.port import ErpNotSent
from service.erp.cegid import CircuitOpenError
from service.settings import Settings
from service.api.pickups import router
"""
    assert breaches("service.usecases.pickups.create", use_case, known) == [
        "service.erp.cegid",
        "service.settings",
        "service.api.pickups",
    ]
    store = "from service.erp.port import StockLine\nfrom service.domain.pickups import Actor\n"
    assert breaches("stores.pickups", store, known) == ["service.erp.port"]
    domain = "from service.domain import pickups\nfrom stores import db\nfrom ..errors import X\n"
    assert breaches("service.domain.pickups", domain, known) == ["stores.db", "service.errors"]


def test_every_layer_is_in_the_table() -> None:
    assert set(ALLOWED) >= {layer_of(module) for module in MODULES}
    assert all(target in ALLOWED for targets in ALLOWED.values() for target in targets)
