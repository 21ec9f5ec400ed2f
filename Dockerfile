# The Commons Ledger service image: `pip install .` into a virtualenv, run as a non-root user.
# compose.yaml builds it and runs it twice: once as the one-shot `commons-ledger migrate`, then
# as `commons-ledger serve`. All configuration comes from COMMONS_LEDGER_* environment variables.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY ledger ledger
COPY api api
COPY reports reports
COPY migrations migrations
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home ledger
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER ledger
EXPOSE 8000
# SIGTERM lets requests in flight finish (COMMONS_LEDGER_SHUTDOWN_TIMEOUT_S), then closes the pool.
STOPSIGNAL SIGTERM
CMD ["commons-ledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
