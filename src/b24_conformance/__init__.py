"""b24-conformance: contract and conformance suite for the Bitrix24 inventory-document REST API."""

__version__ = "0.1.0"
