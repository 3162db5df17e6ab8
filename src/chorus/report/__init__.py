"""The report and the views it shares with the web app: one self-contained HTML file, every
value from the corpus handled as data, never as markup."""

from chorus.report.html import ReportLimits, render_report, report_data, write_report

__all__ = ["ReportLimits", "render_report", "report_data", "write_report"]
