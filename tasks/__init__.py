"""Prefect tasks: thin wrappers, a few lines each, over the patchwave library."""
