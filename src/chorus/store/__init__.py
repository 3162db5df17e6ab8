"""The chorus store: DuckDB tables for every stage, with schema migrations."""

from chorus.store.schema import SCHEMA_VERSION
from chorus.store.store import (
    DEFAULT_STORE_PATH,
    EXPORT_FORMATS,
    STORE_ENV_VAR,
    ExportFormat,
    Store,
    open_store,
    resolve_store_path,
    scalar,
)

__all__ = [
    "DEFAULT_STORE_PATH",
    "EXPORT_FORMATS",
    "SCHEMA_VERSION",
    "STORE_ENV_VAR",
    "ExportFormat",
    "Store",
    "open_store",
    "resolve_store_path",
    "scalar",
]
