"""The REST API's routes, one module per area, each a Quart blueprint over the services in ``common.ApiServices``.

``system`` (/health, /metrics, the OpenAPI document), ``traces`` (traces, spans, findings, actions, stats, usage,
costs), ``admin`` (live config, tenants and their settings, API keys, audit), ``alerts`` (list, get, acknowledge),
``reports`` (compliance reports) and ``ingest`` (OTLP/HTTP). Routes translate HTTP to use-case calls and domain
queries and back; they hold no rules.
"""
