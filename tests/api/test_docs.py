"""The API reference: a valid OpenAPI 3.1 document whose every operation has examples that the
service itself accepts (requests) and could give (answers), every problem type documented with
an example, tags in reading order; the vendored Swagger UI served from the package (no CDN); the
getting-started guide reachable from /docs."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from service.api import docs
from service.api.app import ROUTERS
from service.api.examples import OPERATIONS, PROBLEM_TYPES, PROBLEMS
from service.api.openapi import TAGS, build_openapi
from service.api.problems import _HTTP_SLUGS, PROBLEM_JSON, Problem
from service.api.routing import Endpoint
from service.errors import PROBLEM_BASE, AppError

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = {ep.name: ep for router in ROUTERS for ep in router.endpoints if ep.documented}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_openapi(ENDPOINTS.values(), version="test")


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def _resolve(spec: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in example:
        return spec["components"]["examples"][example["$ref"].rsplit("/", 1)[-1]]
    return example


def test_the_document_is_valid_openapi_3_1(spec) -> None:
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_operation_has_examples(spec) -> None:
    missing = []
    for path, method, op in _operations(spec):
        where = f"{method.upper()} {path}"
        if op["operationId"] not in OPERATIONS:
            missing.append(f"{where}: no entry in service/api/examples.py")
        if "requestBody" in op and not op["requestBody"]["content"]["application/json"].get(
            "examples"
        ):
            missing.append(f"{where}: request body")
        for status, answer in op["responses"].items():
            for media, content in answer.get("content", {}).items():
                if not content.get("examples"):
                    missing.append(f"{where}: {status} {media}")
        for param in op.get("parameters", []):
            if param["in"] == "path" and "example" not in param:
                missing.append(f"{where}: path parameter {param['name']}")
    assert not missing, "operations without examples:\n" + "\n".join(missing)
    assert set(OPERATIONS) <= set(ENDPOINTS), "examples of operations that do not exist"


def _body_examples(op: dict[str, Any]) -> list[Any]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return [e["value"] for e in content.get("examples", {}).values()]


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_examples_are_what_the_service_accepts_and_answers(spec, name: str) -> None:
    ep: Endpoint = ENDPOINTS[name]
    op = next(op for _, _, op in _operations(spec) if op["operationId"] == name)
    if ep.body:
        for value in _body_examples(op):
            ep.body.model_validate(value)  # the request model accepts it
    if ep.query:
        query = {p["name"]: p["example"] for p in op.get("parameters", []) if "example" in p}
        query = {k: v for k, v in query.items() if k in ep.query.model_fields}
        ep.query.model_validate(query)
    for status, answer in op["responses"].items():
        for media, content in answer.get("content", {}).items():
            for example in content.get("examples", {}).values():
                value = _resolve(spec, example)["value"]
                if media == PROBLEM_JSON:
                    problem = Problem.model_validate(value)
                    assert str(problem.status) == status, (name, value)
                    assert problem.type.removeprefix(PROBLEM_BASE) in PROBLEMS, problem.type
                elif ep.responses.get(int(status)) is not None:
                    ep.responses[int(status)].model_validate(value)  # type: ignore[union-attr]


def _app_error_slugs() -> set[str]:
    found, todo = set(), [AppError]
    while todo:
        cls = todo.pop()
        found.add(cls.slug)
        todo.extend(cls.__subclasses__())
    return found


def test_every_problem_type_is_documented_with_an_example(spec) -> None:
    import service.api.app  # noqa: F401  every module that defines an error is loaded

    raised = _app_error_slugs() | {slug for slug, _ in _HTTP_SLUGS.values()} - {
        "too-many-requests"  # aiohttp's table; omnistock does not rate-limit
    }
    assert raised <= set(PROBLEMS), f"undocumented: {raised - set(PROBLEMS)}"
    examples = spec["components"]["examples"]
    description = spec["info"]["description"]
    for p in PROBLEM_TYPES:
        assert examples[f"problem-{p.slug}"]["value"] == p.example
        assert Problem.model_validate(p.example).status == p.status
        assert p.example["type"] == p.uri and f"`{p.uri}`" in description


def test_tags_are_in_reading_order_with_descriptions(spec) -> None:
    names = [t["name"] for t in spec["tags"]]
    assert names == [
        "Stores",
        "Availability",
        "Items",
        "Pickups",
        "Staff",
        "Customers and loyalty",
        "Prices",
        "Promotions",
        "Admin",
        "Operations",
    ]
    assert all(len(t["description"]) > 40 for t in spec["tags"])
    for _, _, op in _operations(spec):
        assert len(op["tags"]) == 1 and op["tags"][0] in names
    first = [op["tags"][0] for _, _, op in _operations(spec)]
    assert first == sorted(first, key=names.index), "paths follow the tags' order"
    assert len(TAGS) == len(names)


def test_admin_only_operations_are_under_admin(spec) -> None:
    for _, _, op in _operations(spec):
        if ENDPOINTS[op["operationId"]].roles == {"admin"}:
            assert op["tags"] == ["Admin"], op["operationId"]


async def test_the_page_loads_swagger_ui_from_the_package(client) -> None:
    resp = await client.get("/docs")
    assert resp.status == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    page = await resp.text()
    assets = re.findall(r'(?:src|href)="docs/assets/([^"]+)"', page)
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "docs.js", "docs.css"} <= set(assets)
    for name in assets:
        resp = await client.get(f"/docs/assets/{name}")  # the test client accepts gzip
        assert resp.status == 200, name
        body = await resp.read()
        assert body, name
    bundle = await (await client.get("/docs/assets/swagger-ui-bundle.js")).text()
    assert f'PACKAGE_VERSION:"{docs.SWAGGER_UI_VERSION}"' in bundle
    assert not re.search(r"https?://(?!www\.w3\.org)[^\s\"']*\.(js|css)\b", page)
    script = await (await client.get("/docs/assets/docs.js")).text()
    assert 'url: "openapi.json"' in script and "validatorUrl: null" in script


async def test_assets_are_sent_gzipped_or_plain(client) -> None:
    gz = await client.get(
        "/docs/assets/swagger-ui.css", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert gz.headers["Content-Encoding"] == "gzip" and gz.content_type == "text/css"
    packed = await gz.read()
    plain = await client.get("/docs/assets/swagger-ui.css", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert await plain.read() == gzip.decompress(packed)
    assert b"sourceMappingURL" not in gzip.decompress(packed)
    assert (await client.get("/docs/assets/../openapi.py")).status == 404
    assert (await client.get("/docs/assets/swagger-ui.js.map")).status == 404


def test_vendored_files_are_small_and_licensed() -> None:
    folder = ROOT / "service" / "api" / "static" / "swagger-ui"
    total = sum(f.stat().st_size for f in folder.iterdir())
    assert total < 700_000, f"{total} bytes of vendored assets"
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert docs.SWAGGER_UI_VERSION in (folder / "VENDORED.md").read_text()


async def test_the_guide_is_reachable_from_docs(client) -> None:
    spec = await (await client.get("/openapi.json")).json()
    assert spec["externalDocs"]["url"] == "docs/getting-started"
    assert "(docs/getting-started)" in spec["info"]["description"]
    page = await (await client.get("/docs")).text()
    assert 'href="docs/getting-started"' in page
    resp = await client.get("/docs/getting-started")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert "<h1>Getting started</h1>" in html and "Idempotency-Key" in html
    assert "<script" not in html  # the guide's own HTML is not rendered (html=False)


def test_the_readme_links_the_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/getting-started.md)" in readme
    assert "(docs/api-reference.png)" in readme and (ROOT / "docs" / "api-reference.png").is_file()
    assert docs.guide_path() == ROOT / "docs" / "getting-started.md"
