"""The dispatcher's dashboard (Textual): ``fsm tui``.

A thin front end on :mod:`fsm_core`: every rule lives in the core services, every database
call runs in a worker thread and reports back by message. Start with :func:`fsm_tui.app.run`,
or build an app for tests with :func:`fsm_tui.app.make_app`.
"""
