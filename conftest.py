"""Top-level pytest configuration. The b24-conformance plugin itself is loaded through its
`pytest11` entry point; nothing here is needed to use it, and nothing here changes its behaviour."""
