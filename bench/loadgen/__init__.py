"""Shared load-generation helpers for AronaNET's benchmarks.

The benchmark scripts in ``bench/`` put this directory's parent on ``sys.path`` (Python does
so for a script's own directory), so they import ``loadgen.*`` without installing anything.
Everything here talks to real processes over 127.0.0.1 only and stops by itself: every loop
is bounded in count and in time.
"""
