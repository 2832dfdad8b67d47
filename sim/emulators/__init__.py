"""Emulated marketplaces and back offices: real HTTP servers on 127.0.0.1."""
