"""Notifications to a customer's contact (уведомления): order received, visit planned,
technician on the way, work done — by e-mail and through Apprise (SMS, messengers).

- :mod:`.outbox` writes them, in the transaction of the change that caused them;
- :mod:`.sender` delivers them (``fsm notify run``, and a task inside ``fsm serve``);
- :mod:`.templates` words them (ru/en, replaceable by an admin's files);
- :mod:`.channels` speaks SMTP and Apprise;
- :mod:`.queries` lists them, counts the failed ones, retries, and records an opt-out.
"""

from fsm_core.services.notify.outbox import order_received, visit_planned
from fsm_core.services.notify.queries import (
    NotificationView,
    failed_count,
    list_notifications,
    retry,
    set_opt_out,
)
from fsm_core.services.notify.sender import Report, deliver, deliver_all, quiet_until

__all__ = [
    "NotificationView",
    "Report",
    "deliver",
    "deliver_all",
    "failed_count",
    "list_notifications",
    "order_received",
    "quiet_until",
    "retry",
    "set_opt_out",
    "visit_planned",
]
