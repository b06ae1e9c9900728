"""Rosetta's built-in translators: ``rest``, ``soap`` and ``grpc``.

Each translator is one module or package with one class implementing
:class:`gateway.plugin.Translator` and one config model. The core finds them by
name through :func:`gateway.plugin.load_translator_class`; it never imports them.
"""
