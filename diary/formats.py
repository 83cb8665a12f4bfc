"""The names of the export and import formats, for the library and the CLI.

A module of its own so that cli_exchange can offer them as argparse choices
without importing the exchange package (which loads peewee and sqlcipher3:
`diary --help` must stay light). exchange.exporter.WRITERS and the format
dispatch of exchange.import_file (``_records`` in exchange/__init__.py)
implement exactly these (tests/test_exchange_*.py check).
"""

EXPORT_FORMATS = ("json", "jsonl", "markdown", "csv", "txt")
IMPORT_FORMATS = ("json", "jsonl", "csv", "jrnl", "jrnl-json", "jrnl-folder", "dayone", "markdown",
                  "peewee-diary")
