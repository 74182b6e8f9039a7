"""One module per capability. Every function takes a session and keyword-only arguments,
enforces the rules, writes the audit trail in the same transaction, and raises
:mod:`fsm_core.errors` for anything a user can cause."""
