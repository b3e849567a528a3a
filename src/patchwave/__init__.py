"""patchwave: patch campaigns for MSPs and IT teams."""

__version__ = "0.1.0"
