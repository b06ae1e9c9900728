"""Logs (and later metrics and traces): what Rosetta tells its operators."""
