"""Getting rows into fsm: file formats (``readers``) and, on top of them, the import engine.

``readers.open_source`` turns a CSV/TSV, JSON-lines or .xlsx file (or standard input) into a
stream of ``SourceRow``s with one-line, line-numbered errors, so the engine never deals with
bytes, encodings or delimiters and never holds a whole file in memory.
"""
