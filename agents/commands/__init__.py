"""Sub-commands of the ``neurotasks`` command line, one module each."""
