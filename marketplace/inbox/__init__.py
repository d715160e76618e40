"""The member's inbox: the 消息 page, its unread badge and marking messages read.

Domains write messages through marketplace/core/notifications.py (`register`, `add`, `tell`);
this package only reads them for the member and stamps `read_at`."""
