"""Application factory and lifespan: every shared client is created here and reached through dependencies."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import ws
from api.admin import mount_admin
from api.errors import install_error_handlers, install_openapi
from api.log_redaction import install_log_redaction
from api.outages import Outages
from api.routes import (
    activity,
    assets,
    auth,
    boxes,
    catalogue,
    comments,
    export,
    generation,
    health,
    projects,
    providers,
    public,
    retention,
    sharing,
    smart_edit,
    socket_tickets,
    studios,
    usage,
)
from api.security import install_security_middleware
from api.spa import mount_spa
from core.db import create_engine, create_sessionmaker
from core.events import EventBus, redis_client
from core.kie import warn_if_callbacks_off
from core.ratelimit import RateLimiter, RateRules
from core.realtime import SocketLimits
from core.relay import EventRelay
from core.security import limit_hashing_queue
from core.settings import Settings, get_settings
from core.spend import ProviderBalance
from core.storage import Storage
from core.temporal import TemporalClientHolder

logger = logging.getLogger("api")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Uvicorn has configured its loggers by now (also with --reload or --workers): no secret in its lines.
    install_log_redaction()

    def s3_answered(status: int) -> None:
        if status < 500:
            app.state.outages.s3.recovered()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        app.state.storage = Storage(settings)
        app.state.storage.on_answer(s3_answered)
        health_check = settings.redis_health_check_seconds
        app.state.events = EventBus(settings.redis_url, health_check_interval=health_check)
        app.state.relay = EventRelay(
            settings.redis_url, health_check_interval=health_check, ping_interval=settings.socket_ping_seconds
        )
        app.state.socket_limits = SocketLimits.from_settings(settings)
        # Rate limits and other short keys: one pooled client for the process.
        app.state.redis = redis_client(settings.redis_url, retries=1, health_check_interval=health_check)
        app.state.limiter = RateLimiter(app.state.redis, RateRules.from_settings(settings))
        app.state.temporal = TemporalClientHolder(settings)
        app.state.provider_balance = ProviderBalance(settings)
        limit_hashing_queue(settings)
        if settings.simulated_kie:
            logger.warning(
                "KIE_API_KEY is not set: images and videos come from the built-in Kie.ai simulator"
            )
        warn_if_callbacks_off(settings)
        try:
            yield
        finally:
            await app.state.provider_balance.aclose()
            await app.state.relay.close()
            await app.state.redis.aclose()
            await app.state.events.disconnect()
            await engine.dispose()

    app = FastAPI(
        title="AI Asset Manager",
        version="0.1.0",
        lifespan=lifespan,
        description="Shots, generated variants, client review and storyboard export.",
    )
    app.state.outages = Outages()
    install_error_handlers(app)  # first: its JSON 500 must sit inside CORS
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    install_security_middleware(app, settings)  # outermost: the client address before anything else
    modules = (
        health,
        auth,
        socket_tickets,
        projects,
        boxes,
        assets,
        catalogue,
        retention,
        smart_edit,
        sharing,
        public,
        comments,
        activity,
        export,
        ws,
        generation,
        providers,
        usage,
        studios,
    )
    for module in modules:
        app.include_router(module.router)
    mount_admin(app, settings)
    mount_spa(app)  # last: its catch-all must not shadow anything above
    install_openapi(app, [module.router for module in modules])
    return app
