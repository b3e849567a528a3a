"""Development helpers shipped with the package: the Slack-API-shaped loopback server used by the
tests, the benches and ``patchwave demo --slack``. Nothing here runs in production."""
