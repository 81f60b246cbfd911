"""The API's refusals as JSON, `{"error": {"message": ..., "type": ..., "code": status}}`, the shape OpenAI clients
read: ApiError for a request the API refuses, JsonErrorRoute for the routes that answer every refusal that way."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from bot.errors import CannotWrite, CitebotError, ConversationNotFound, UnknownDocument


class ApiError(Exception):
    """A request the API refuses: HTTP status, message and error type."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


def error_response(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="citebot"'} if status == 401 else None
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status, headers=headers)


class JsonErrorRoute(APIRoute):
    """A route whose refusals (bad JSON, missing fields, ApiError, domain errors) are JSON 4xx answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_response(400, describe_invalid(exc.errors()))
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.kind)
            except (UnknownDocument, ConversationNotFound) as exc:
                return error_response(404, str(exc), "not_found_error")
            except CannotWrite as exc:  # a full disk or a read-only folder: 507 Insufficient Storage
                return error_response(507, str(exc), "storage_error")
            except CitebotError as exc:
                return error_response(400, str(exc))

        return guarded


def describe_invalid(errors: Any) -> str:
    """One readable line for FastAPI's validation errors.

    Example: [{"type": "json_invalid", ...}] -> "The body is not valid JSON: ..."
    """
    parts = []
    for e in errors:
        if e.get("type") == "json_invalid":
            return f"The body is not valid JSON: {e.get('ctx', {}).get('error', 'parse error')}"
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        parts.append(f"{where}: {e.get('msg', 'invalid')}")
    return "Bad request: " + "; ".join(parts)
