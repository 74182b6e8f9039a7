"""Getting rows out of fsm: file formats (``writers``) that ``fsm export`` streams into.

The formats are the ones ``fsm_core.importing.readers`` reads, so that an export can be fixed
in Excel and imported back as it is.
"""
