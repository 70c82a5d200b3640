"""The ``relabel`` command line: thin wrappers that parse, call the API and write files."""
