"""The web app: the report's views over the live store, with search and a JSON API."""

from chorus.serve.app import (
    CSP,
    LOOPBACK_NAMES,
    allowed_hosts_for,
    create_app,
    run,
    run_app,
)
from chorus.serve.similar import SimilarPoints

__all__ = [
    "CSP",
    "LOOPBACK_NAMES",
    "SimilarPoints",
    "allowed_hosts_for",
    "create_app",
    "run",
    "run_app",
]
