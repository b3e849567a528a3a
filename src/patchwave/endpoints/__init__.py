"""Adapters that act on hosts. One module per technology, all behind ``base.Endpoint``."""
