"""Helpers every test package shares (importable as ``support`` via pytest's ``pythonpath``).

``support.real_node`` runs the real ``aronanet serve`` for integration tests.
"""
