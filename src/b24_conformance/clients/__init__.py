"""Client adapters: real Bitrix24 client libraries driven through the clauses (see `base.py`)."""
