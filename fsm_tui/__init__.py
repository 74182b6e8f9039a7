"""fsm_tui: the dispatcher's Textual dashboard (board, order screen, planner, chats, stock).

It draws what fsm_core decides; it arrives with its own issue. Until then `fsm tui` says so.
"""
