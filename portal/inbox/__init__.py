"""The inbox "Việc của tôi" (issue 18 item 1): every work item waiting for people, declared by each feature
(``registry``), kept in the transaction that moves the work (``maintain``), read by the home page, the menu
badges and the dashboard (``queries``), rebuilt and checked every night (``tasks``)."""

from portal.inbox import maintain as maintain  # the session hooks
