"""The reference portal: a real HTTP server that behaves as the Bitrix24 docs say.

Layers, inward to outward:
  entities.py   the domain's values (documents, items, balances, rights) and their row/API forms
  inventory.py  the domain's operations on them, plain Python over SQLite
  database.py   the SQLite schema and connection; seed.py fills it
  methods.py    one handler per REST method: parse params, call the domain, return `result`;
                params.py coerces params, listing.py filters and pages lists, fields.py describes fields
  wire.py, auth.py, limits.py, batch.py, envelope.py   the Bitrix calling conventions
  app.py        the Starlette app; server.py runs it under uvicorn (plain HTTP and TLS)
"""
