"""The reference portal: a real HTTP server that behaves as the Bitrix24 docs say.

Layers, inward to outward:
  entities.py           the domain's values (the portal, rights, documents, items, balances) and API forms
  inventory.py          the domain: the document state machine and edit rules, over repository.py's port
  repository.py         that port: the unit of work the domain asks of storage
  sqlite_repository.py  the port over SQLite; catalog.py the catalog, product and warehouse CRUD
  database.py           the SQLite schema, connection and memoised look-ups; seed.py fills it
  methods/              one handler per REST method, by family: parse params, call the domain, return
                        `result`; params.py coerces params, listing.py filters and pages lists,
                        fields.py describes fields
  wire.py, auth.py, limits.py, batch.py, envelope.py   the Bitrix calling conventions
  app.py                the Starlette app; server.py runs it under uvicorn (plain HTTP and TLS)
  mutants.py            named deviations (one declaration each) that switch on fields of
                        deviations.py's `Deviations`; wire_deviations.py applies the wire ones
"""
