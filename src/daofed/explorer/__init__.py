"""A read-only web explorer of one federation: rounds, votes, proposals, charts, verification.

``daofed explorer`` serves it; from Python::

    from daofed.audit import open_source
    from daofed.explorer import create_app, serve

    source = open_source(rpc_url="http://127.0.0.1:8545", contract="0x...", store="local:blobs")
    serve(create_app(source), port=8000, on_ready=print)

It reads the chain through the audit layer (:mod:`daofed.audit`) and holds no key.
"""

from daofed.explorer.app import create_app
from daofed.explorer.server import serve

__all__ = ["create_app", "serve"]
