"""Patch campaigns: planning, approvals, the host-job engine, rollback. Prefect-free; the flows in
``flows/`` orchestrate these."""
