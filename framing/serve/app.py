"""The FastAPI app: the REST API under ``/v1``, ``/healthz``, offline docs at ``/docs``, the page at ``/``.

Limits answer at once and name the problem: a body over ``limits.max_body_bytes``
gets 413, more than ``limits.max_texts`` texts get 413, invalid JSON or a wrong
type gets 422 with the field (``error`` holds a one-line summary, ``detail``
FastAPI's usual list), a full request queue gets 503 with ``Retry-After``.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from .. import __version__
from .batching import QueueFull
from .config import ServeConfig
from .schemas import (ArticlesRequest, ArticlesResponse, Health, ModelInfo, PredictRequest, PredictResponse)
from .service import Service

API_PREFIX = "/v1/"
RETRY_AFTER_S = "1"
MAX_ERRORS_SHOWN = 3  # validation errors summarised in the one-line "error"


class BodyLimit:
    """ASGI middleware: 413 for a request body under ``prefix`` larger than ``max_bytes``."""

    def __init__(self, app, max_bytes: int, prefix: str = API_PREFIX):
        self.app, self.max_bytes, self.prefix = app, max_bytes, prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            response = JSONResponse(status_code=413, content={"detail": self._message(int(length))})
            return await response(scope, receive, send)
        seen = 0

        async def limited():  # a body without Content-Length (chunked) is counted as it arrives
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(status_code=413, detail=self._message(seen, at_least=True))
            return message

        return await self.app(scope, limited, send)

    def _message(self, size: int, at_least: bool = False) -> str:
        return (f"request body is {'over ' if at_least else ''}{size} bytes; the limit is {self.max_bytes} "
                f"(limits.max_body_bytes): send fewer or shorter texts per request")


def _field(loc: tuple | list) -> str:
    parts = [str(x) for x in loc if x != "body"]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = jsonable_encoder(exc.errors())
    parts = []
    for e in errors[:MAX_ERRORS_SHOWN]:
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "")
            parts.append(f"body: invalid JSON at character {e['loc'][-1]}" + (f" ({reason})" if reason else ""))
        else:
            parts.append(f"{_field(e['loc'])}: {e['msg']}")
    if len(errors) > MAX_ERRORS_SHOWN:
        parts.append(f"{len(errors) - MAX_ERRORS_SHOWN} more")
    if "json" not in request.headers.get("content-type", ""):
        parts.append("send a JSON body with the header Content-Type: application/json")
    return JSONResponse(status_code=422, content={"error": "; ".join(parts) or "invalid request", "detail": errors})


def create_app(model: str | None = None, cfg: ServeConfig | None = None, *, device: str | None = None,
               precision: str = "auto", backend: str = "auto", ui: bool = True) -> FastAPI:
    """The whole server for ``model`` (loaded now); ``ui=False`` leaves out the Gradio page."""
    cfg = (cfg or ServeConfig()).validate()
    service = Service(model, cfg, device, precision, backend)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        service.close()

    app = FastAPIOffline(title="framing", version=__version__, lifespan=lifespan,
                         description="How news passages frame the Russia / US / NATO security crisis of "
                                     "December 2021 to February 2022: `russian_position`, `western_response` "
                                     "or `neutral_report`, with calibrated scores.")
    app.state.service = service
    app.add_middleware(BodyLimit, max_bytes=cfg.limits.max_body_bytes)
    app.add_exception_handler(RequestValidationError, _invalid_request)

    def check_count(texts: list[str]) -> None:
        if len(texts) > cfg.limits.max_texts:
            raise HTTPException(status_code=413, detail=f"{len(texts)} texts in one request; the limit is "
                                                        f"{cfg.limits.max_texts} (limits.max_texts)")

    async def queued(coro):
        try:
            return await coro
        except QueueFull as exc:
            raise HTTPException(status_code=503, detail=f"busy: {exc}; retry shortly",
                                headers={"Retry-After": RETRY_AFTER_S}) from None

    @app.post("/v1/predict", response_model=PredictResponse, response_model_exclude_unset=True, tags=["score"],
              summary="Label passages")
    async def v1_predict(body: PredictRequest) -> dict:
        """A list of passages in, one label with calibrated scores per passage out (same order)."""
        check_count(body.texts)
        return {"predictions": await queued(service.predict_rows(body.texts, body.explain, body.lang))}

    @app.post("/v1/articles", response_model=ArticlesResponse, response_model_exclude_unset=True, tags=["score"],
              summary="Score whole articles")
    async def v1_articles(body: ArticlesRequest) -> dict:
        """Articles in; per article its passages (offsets, labels, scores), dropped boilerplate and summary."""
        check_count(body.texts)
        return {"articles": await queued(service.article_rows(body.texts, body.explain, body.lang))}

    @app.get("/v1/model", response_model=ModelInfo, tags=["about"], summary="The loaded model")
    async def v1_model() -> dict:
        """Labels, base model, calibration temperature, evaluation summary and the server's limits."""
        return service.model_info()

    @app.get("/healthz", response_model=Health, tags=["about"], summary="Liveness")
    async def healthz() -> dict:
        q = service.queue
        return {"status": "ok", "queue_pending": q.pending, "queue_capacity": q.capacity}

    if ui:
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        from .ui import mount_page

        app = mount_page(app, service)
    return app
