"""The clause suites as pytest tests, shipped with the package: `pytest --pyargs b24_conformance.suites`."""
