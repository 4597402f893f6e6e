"""The contract as data: profiles of expected strings, clauses, schemas and the OpenAPI document."""
