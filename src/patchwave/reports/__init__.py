"""Client-ready reports: a campaign run's report and the fleet compliance report.

- ``load`` reads narrow columns from the store into pandas; ``metrics`` / ``run`` compute the
  numbers (MSP view, or one client's own view); ``timeline`` tells the run's story from the audit
  log; ``compliance`` is the fleet report; ``definitions`` says what every number means.
- ``render`` turns them into one self-contained HTML file (Jinja2, StrictUndefined, autoescape;
  ``templates/report/``); ``files`` writes ``<report dir>/<run id>/{report.html, jobs.csv,
  metrics.json}``; ``artifacts`` gives the markdown and tables that ``tasks/report.py``
  publishes to Prefect.

Nothing here imports Prefect: the CLI writes reports without starting it.
"""

from patchwave.reports.files import write_compliance_report, write_run_report

__all__ = ["write_compliance_report", "write_run_report"]
