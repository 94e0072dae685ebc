"""The app's own signals, sent around every backup and restore.

pre_backup(sender, using, options)       before the snapshot transaction opens
post_backup(sender, using, result)       after the backup file is complete and verified
pre_restore(sender, using, options)      before the restore transaction opens
post_restore(sender, using, result)      after the restore committed (or rolled back for a dry run)

`sender` is the function that ran (create_backup / restore_backup). Model signals
(pre_save, post_save, m2m_changed) are not sent by a restore: rows are inserted raw.
"""
from django.dispatch import Signal

pre_backup = Signal()
post_backup = Signal()
pre_restore = Signal()
post_restore = Signal()
