"""What every widget or screen that runs database workers shares: errors reported once.

Workers run with ``exit_on_error=False``; a failed one lands here and the app shows it as a
notification (an :class:`~fsm_core.errors.FsmError` by its ``one_line()``). Work that was
cancelled (a newer filter won, a query was interrupted) fails quietly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from fsm_tui.protocol import Dashboard


class WorkerErrors:
    """Mixin for a Textual node: report its failed workers through the app."""

    app: Any

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR or worker.is_cancelled:
            return
        if self.handle_worker_error(worker, worker.error):
            return
        app: Dashboard = self.app
        app.report_error(worker.error)

    def handle_worker_error(self, worker: Worker[Any], error: BaseException | None) -> bool:
        """Override to show an error in place (a form field); True when handled."""
        return False
