"""Benchmark of response submission under concurrent load (`python -m bench`).

The real endpoint, served by gunicorn with sync workers, is measured beside two baselines
served the same way in the same run: a bare JSON view and a view inserting one row.
"""
