"""The in-memory backend: a fake engine in pure Python behind the same ``Backend`` interface
(``controller.backends.interface``), for fast tests of the worker and the reconciler."""
