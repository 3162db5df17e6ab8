"""The HTML report: one self-contained file, everything escaped."""

from chorus.report.html import write_report

__all__ = ["write_report"]
