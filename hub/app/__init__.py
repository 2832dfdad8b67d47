"""The hub's use cases, each written once against small ports (``hub.app.ports``).

Actors (``hub.actors``) and HTTP handlers (``hub.api``) only adapt them: they turn a
Ray call or a request into a call here, and the answer back. The use cases import
the domain and the ports, never a shell.
"""
