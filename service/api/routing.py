"""Declared endpoints: one place says path, method, roles and models of a route.

The same declarations drive routing, the edge's authentication (who may call) and the OpenAPI
document, so the three cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from service.api.appkeys import ENDPOINTS
from service.domain.apikeys import Role
from service.errors import BadRequest, InvalidInput

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Wrap(Protocol):
    """What ``Router.install`` wraps each handler with (``service.api.edge.edge``)."""

    def __call__(
        self,
        app: web.Application,
        handler: Handler,
        *,
        name: str | None = ...,
        method: str | None = ...,
        roles: frozenset[Role] = ...,
    ) -> Handler: ...


M = TypeVar("M", bound=BaseModel)

PUBLIC: frozenset[Role] = frozenset()
ANY_ROLE: frozenset[Role] = frozenset({"storefront", "staff", "admin"})


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    name: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    roles: frozenset[Role]  # empty: public
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    problems: tuple[int, ...] = ()
    content_type: str = "application/json"
    idempotent_key: bool = False  # accepts an Idempotency-Key header
    documented: bool = True  # False: left out of the OpenAPI document (the docs page's assets)

    @property
    def public(self) -> bool:
        return not self.roles


class Router:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        name: str,
        summary: str,
        tags: Iterable[str] = (),
        roles: Iterable[Role] = (),
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        responses: dict[int, type[BaseModel] | None] | None = None,
        problems: Iterable[int] = (),
        content_type: str = "application/json",
        idempotent_key: bool = False,
        documented: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    name=name,
                    handler=handler,
                    summary=summary,
                    tags=tuple(tags),
                    roles=frozenset(roles),
                    body=body,
                    query=query,
                    responses=responses or {200: None},
                    problems=tuple(problems),
                    content_type=content_type,
                    idempotent_key=idempotent_key,
                    documented=documented,
                )
            )
            return handler

        return register

    def install(self, app: web.Application, wrap: Wrap) -> None:
        """Register every endpoint's handler, as ``wrap`` makes it (``service.api.edge.edge``)
        for its name, method and roles."""
        registry = app[ENDPOINTS]
        for ep in self.endpoints:
            if ep.name in registry:
                raise ValueError(f"route name {ep.name!r} declared twice")
            registry[ep.name] = ep
            wrapped = wrap(app, ep.handler, name=ep.name, method=ep.method, roles=ep.roles)
            app.router.add_route(ep.method, ep.path, wrapped, name=ep.name)


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]


NUL = "\x00"


def nul_error(loc: list[Any]) -> dict[str, Any]:
    return {"loc": loc, "msg": "NUL characters are not allowed in text", "type": "string_nul"}


def _nul_locs(value: Any, loc: list[Any]) -> Iterator[list[Any]]:
    """Where NUL characters are in decoded JSON (PostgreSQL refuses them in text)."""
    if isinstance(value, str):
        if NUL in value:
            yield loc
    elif isinstance(value, dict):
        for k, v in value.items():
            if NUL in k:
                yield [*loc, k]
            yield from _nul_locs(v, [*loc, k])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nul_locs(v, [*loc, i])


async def parse_body(request: web.Request, model: type[M]) -> M:
    """Read and validate a JSON body: 415 wrong type, 400 not JSON, 422 wrong content.

    Strict types: JSON numbers for numbers, booleans for booleans (``"1"`` or ``true`` is not a
    quantity); text as JSON strings (decimals, dates and enums too). NUL characters anywhere in
    the body are refused (422) before anything reaches PostgreSQL."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    raw = await request.read()
    if not raw:
        raise InvalidInput(
            "the request body is invalid",
            [{"loc": [], "msg": "a JSON body is required", "type": "missing"}],
        )
    try:
        data = orjson.loads(raw)  # RFC 8259 JSON: no NaN or Infinity, which pydantic would take
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if b"\\u0000" in raw:  # a JSON string can only hold NUL escaped
        errors = [nul_error(loc) for loc in _nul_locs(data, [])]
        if errors:
            raise InvalidInput("the request body is invalid", errors)
    try:
        # strict, from the JSON text: in JSON mode, strict still reads decimals, dates, UUIDs
        # and enums from strings, and refuses "1" or true for a number
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        raise InvalidInput("the request body is invalid", _field_errors(exc)) from None


def parse_query(request: web.Request, model: type[M], *, lists: Iterable[str] = ()) -> M:
    """Validate query parameters; names in ``lists`` may repeat and arrive as lists."""
    data: dict[str, Any] = {}
    many = set(lists)
    nul: list[dict[str, Any]] = []
    for key in request.query:
        values = request.query.getall(key)
        if NUL in key or any(NUL in v for v in values):
            nul.append(nul_error([key]))
        data[key] = values if key in many else values[-1]
    if nul:
        raise InvalidInput("the query parameters are invalid", nul)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput("the query parameters are invalid", _field_errors(exc)) from None


def json_response(model: BaseModel, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=model.model_dump_json(by_alias=True).encode(),
        status=status,
        content_type="application/json",
        headers=headers or None,
    )


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(data: Any) -> bytes:
    """Plain data (dicts, lists, dataclasses, datetimes, enums) as JSON, for hot paths that skip
    pydantic: orjson writes dataclass fields in declaration order; Decimal becomes a string; a
    UTC datetime ends in ``Z``, as pydantic writes it in the other answers."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_UTC_Z)


def data_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(data), status=status, content_type="application/json")
