"""
Writes a leapp result record (/etc/migration-results) with leapp-repository's own code: its
``produces_breadcrumbs`` wrapper around a stand-in of the ``leapp upgrade`` command, which ends as told.

    python leapp_breadcrumbs.py COMMANDS_DIR RECORD upgrade|preupgrade succeeded|failed RUN_ID [LEAPP ARGV...]

COMMANDS_DIR is leapp-repository's ``commands/`` directory (what the leapp-upgrade package installs as
``leapp.cli.commands``); RECORD takes the place of /etc/migration-results (the module opens that fixed path:
only that name is redirected, everything it writes is leapp's). Needs the leapp framework importable and
LEAPP_CONFIG naming a leapp.conf whose [database] path is writable. Appends to RECORD as leapp does.
"""
import os
import sys


def main(commands_dir, record, activity, outcome, run_id, argv):
    import leapp.cli.commands as commands
    commands.__path__.append(commands_dir)
    from leapp.cli.commands.upgrade import breadcrumbs

    real_open = open

    def redirected(path, *args, **kwargs):
        return real_open(record if path == '/etc/migration-results' else path, *args, **kwargs)

    breadcrumbs.open = redirected
    os.environ['LEAPP_EXECUTION_ID'] = run_id
    os.environ['LEAPP_NO_RHSM_FACTS'] = '1'
    sys.argv = list(argv) or ['/usr/bin/leapp', activity]

    def command(args, breadcrumbs):
        if outcome == 'failed':
            # As leapp's commands end when the workflow failed (report_info, then sys.exit(1)).
            sys.exit(1)

    command.__name__ = activity  # the activity leapp records is the command function's name
    try:
        breadcrumbs.produces_breadcrumbs(command)(None)
    except SystemExit:
        pass


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
