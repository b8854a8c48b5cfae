# LLMTrace proxy image: CPU torch, the models inside (no download at run time), non-root, a health check.
#   docker build -t llmtrace:0.1.0 .
#   docker run -p 8080:8080 -e LLMTRACE_UPSTREAM_URL=https://api.openai.com llmtrace:0.1.0
# deploy/compose.yaml runs it on the production profile with PostgreSQL, Redis, ClickHouse, Prometheus, Grafana.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/llmtrace
# torch first, from the pinned CPU build (an unpinned install would pull a multi-GB CUDA build)
RUN /opt/llmtrace/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY ports ./ports
COPY app ./app
COPY adapters ./adapters
COPY mock_upstream ./mock_upstream
RUN /opt/llmtrace/bin/pip install .
# the models ship in installed packages: load them once at build time so a broken image fails here, not in production
RUN /opt/llmtrace/bin/python -c "from app.settings import ProxyConfig; from app.analysis import build_analyzer, load_ensemble; \
c = ProxyConfig(); a, s = load_ensemble(c, build_analyzer(c)); assert a is not None, s; print(s)"

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/llmtrace --create-home llmtrace
COPY --from=build /opt/llmtrace /opt/llmtrace
ENV PATH=/opt/llmtrace/bin:$PATH \
    LLMTRACE_LISTEN_ADDR=0.0.0.0:8080 \
    LLMTRACE_STORAGE_DATABASE_PATH=/var/lib/llmtrace/llmtrace.db
USER llmtrace
WORKDIR /var/lib/llmtrace
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status == 200 else 1)"
ENTRYPOINT ["llmtrace-proxy"]
