"""The routes of ``fsm serve``, one module per area."""
