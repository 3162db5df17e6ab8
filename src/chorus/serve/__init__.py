"""The web app: the report's views over the live store, with search and a JSON API."""

from chorus.serve.app import CSP, create_app, run
from chorus.serve.similar import SimilarPoints

__all__ = ["CSP", "SimilarPoints", "create_app", "run"]
