"""The reference portal: a real HTTP server that behaves as the Bitrix24 docs say.

Layers, inward to outward:
  inventory.py  the domain (documents, items, balances, rights), plain Python over SQLite
  store.py      the SQLite schema and connection; seed.py fills it
  methods.py    one handler per REST method: parse params, call the domain, return `result`
  wire.py, auth.py, limits.py, batch.py, envelope.py   the Bitrix calling conventions
  app.py        the Starlette app; server.py runs it under uvicorn (plain HTTP and TLS)
"""
