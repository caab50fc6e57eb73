# syntax=docker/dockerfile:1.7
# The Python image shared by `api` (default command) and `worker` (`python -m worker`).
FROM python:3.12-slim-bookworm

COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /uvx /usr/local/bin/

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    PYTHONPATH=/app

WORKDIR /app

# Dependencies first (locked, no dev group), so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

COPY . .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin aiam
USER aiam

EXPOSE 8000
# Migrations run before the server starts; the worker starts only once this container is healthy.
# --no-proxy-headers: the app reads X-Forwarded-* itself, believing only FORWARDED_ALLOW_IPS (Nginx in `web`).
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn api.main:create_app --factory --host 0.0.0.0 --port 8000 --no-proxy-headers --no-server-header"]
