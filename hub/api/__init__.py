"""The hub's HTTP face: ``create_app`` (hub/api/app.py) serves the operator dashboard at
``/`` and the API below; ``intake.py`` adds marketplace pushes and WMS callbacks.

Reading needs no token unless ``api.read_requires_token``; every change needs
``Authorization: Bearer <api.token>`` (401 without, 403 for a wrong one). ``api.token``
may list ``name:token`` pairs, and each action records the name.

    GET  /api/orders?q=              look-up by order id, tracking no or phone last 4
    GET  /api/orders/{channel}/{shop}/{order_id}    one order: stage, timeline, decision, ETA
    POST /api/orders/{channel}/{shop}/{order_id}/release    {note}
    POST /api/orders/{channel}/{shop}/{order_id}/cancel     {note}
    POST /api/orders/{channel}/{shop}/{order_id}/address    {province, city, ..., note}
    GET  /api/anomalies              open holds by reason and group, held orders
    GET  /api/lanes                  counts per stage and lane, backlog, decision latency
    GET  /api/throughput?minutes=    orders received and shipped per minute
    GET  /api/rules                  versions;  GET /api/rules/{version}  its text
    POST /api/rules/check            {text}: problems with lines (changes nothing)
    POST /api/rules/dry-run          {text, n}: what would change over the last n orders
    POST /api/rules/drafts           {text, comment}: an author's draft
    POST /api/rules/drafts/{draft}/publish   by an approver who is not the author
    POST /api/rules/rollback         {version}   GET /api/rules/{version}/diff
    GET  /api/rules/builder/schema   POST /api/rules/builder/open {text}, .../save {document}
    POST|GET|DELETE /api/rules/shadow          a draft deciding beside the live rules
    GET  /metrics                    Prometheus text format
    GET  /healthz                    GET /openapi.json, /docs
"""
