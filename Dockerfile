# Empfang: one process (webhooks, chat adapter, workers). Mount the config at
# /etc/empfang/config.toml and a volume at /var/lib/empfang for the SQLite store and the
# Matrix store (set [store] path and [matrix] store_path below /var/lib/empfang).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EMPFANG_CONFIG=/etc/empfang/config.toml

WORKDIR /app
# Dependencies exactly as locked (versions and file hashes; scripts/lock regenerates the file),
# so two builds on two days install the same thing; then Empfang itself, adding nothing.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip install --no-cache-dir --no-deps . \
    && pip check \
    && useradd --system --uid 10001 --home-dir /var/lib/empfang --create-home empfang \
    && mkdir -p /etc/empfang \
    && chown empfang /var/lib/empfang \
    && chmod 700 /var/lib/empfang

USER empfang
WORKDIR /var/lib/empfang
VOLUME ["/var/lib/empfang"]
EXPOSE 8080

# /healthz answers as soon as the web server runs; the port must match [server] port.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2).status == 200 else 1)"

ENTRYPOINT ["empfang"]
CMD ["run"]
