"""Reaching a portal: credentials and config, calling conventions, rate limits, the sandbox."""
