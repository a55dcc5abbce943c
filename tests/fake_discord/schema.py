"""Checks request bodies against the request schemas in Discord's own OpenAPI description.

The spec is vendored beside this module (discord-api-spec/, see its README). It is 1.2 MB, so it is
loaded once per process and each route's validator is built once.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent / "discord-api-spec" / "openapi.json"
_SPEC_URI = "urn:discord:openapi"
_PARAMETER = re.compile(r"\{[^/]+\}")
_MAX_MESSAGE = 200


@cache
def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    # Discord takes 123 wherever it documents "123", and discord.py sends some ids (attachment
    # indexes, user and role ids in allowed_mentions) as integers. `pattern` constrains only
    # strings and `minimum` only numbers, so both forms are checked.
    spec["components"]["schemas"]["SnowflakeType"] |= {"type": ["string", "integer"], "minimum": 0}
    return spec


@cache
def _registry() -> Registry[Any]:
    resource: Resource[Any] = Resource.from_contents(_spec(), default_specification=DRAFT202012)
    return Registry().with_resources([(_SPEC_URI, resource)])


def _template_pattern(template: str) -> re.Pattern[str]:
    segments = ("[^/]+" if _PARAMETER.fullmatch(part) else re.escape(part) for part in template.split("/"))
    return re.compile("/".join(segments))


@cache
def _spec_routes() -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Fewest parameters first: a literal segment such as `@original` beats a `{message_id}`.
    templates = sorted(_spec()["paths"], key=lambda template: len(_PARAMETER.findall(template)))
    return tuple((template, _template_pattern(template)) for template in templates)


def _template_matching(path: str) -> str | None:
    """The spec's path template that `path` (without the /api/v10 prefix) matches, if any."""
    return next((template for template, pattern in _spec_routes() if pattern.fullmatch(path)), None)


def _pointer_token(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


@cache
def _validator_for(template: str, method: str) -> Draft202012Validator | None:
    operation = _spec()["paths"][template].get(method.lower())
    if operation is None or "requestBody" not in operation:
        return None
    if "application/json" not in operation["requestBody"]["content"]:
        return None
    body_schema = ["requestBody", "content", "application~1json", "schema"]
    pointer = "/".join(["#", "paths", _pointer_token(template), method.lower(), *body_schema])
    return Draft202012Validator({"$ref": f"{_SPEC_URI}{pointer}"}, registry=_registry())


def _most_specific(error: ValidationError) -> ValidationError:
    """Follow anyOf/oneOf branches to the deepest failure: the branch that got furthest is
    almost always the one the sender meant (e.g. the callback type that matched)."""
    branches = [_most_specific(child) for child in error.context or ()]
    return max(branches, key=lambda branch: len(branch.absolute_path), default=error)


def _describe(error: ValidationError) -> str:
    location = "/".join(str(part) for part in error.absolute_path) or "<body>"
    message = error.message
    if len(message) > _MAX_MESSAGE:  # the message quotes the offending value, which may be huge
        half = _MAX_MESSAGE // 2
        message = f"{message[:half]} ... {message[-half:]}"
    return f"{location}: {message}"


def request_body_errors(method: str, path: str, body: Any) -> list[str]:
    """Why Discord would reject `body` sent as `method path`; empty when it matches the spec.

    Multipart requests are checked through their `payload_json`, which the spec describes with the
    same schema as the JSON body. Routes or methods the spec lacks are reported as such.
    """
    template = _template_matching(path)
    if template is None:
        return [f"{method} {path}: route not in Discord's OpenAPI spec"]
    validator = _validator_for(template, method)
    if validator is None:
        return [f"{method} {template}: the spec defines no JSON request body"]
    return [_describe(_most_specific(error)) for error in validator.iter_errors(body)]


def warm_up() -> None:
    """Load and index the spec now, so the first checked request does not pay for it."""
    _registry()
    _spec_routes()
