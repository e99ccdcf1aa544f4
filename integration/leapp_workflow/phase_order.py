"""
Print, as JSON, the actors leapp runs in each phase and stage of the in-place upgrade workflow,
in leapp's own computed order, for our repository beside leapp-repository's el8toel9 repositories
(as `leapp upgrade` finds them in /etc/leapp/repos.d). Run in a process of its own: loading every
repository with its actors changes leapp's global state.

    python phase_order.py REPOSITORY_ROOT LEAPP_REPOSITORY_REPOS
"""
import json
import logging
import os
import sys

from leapp.repository.manager import RepositoryManager
from leapp.repository.scan import scan_repo


def main(root, repos):
    logging.getLogger('leapp').setLevel(logging.ERROR)
    manager = RepositoryManager()
    for path in (root, os.path.join(repos, 'system_upgrade', 'common'),
                 os.path.join(repos, 'system_upgrade', 'el8toel9'), os.path.join(repos, 'common')):
        manager.add_repo(scan_repo(path))
    manager.load()
    workflow = manager.lookup_workflow('IPUWorkflow')()
    order = {}
    for phase, *stages in workflow.phase_actors:
        order[phase.name] = dict((stage.stage, [actor.name for actor in stage.actors]) for stage in stages)
    json.dump(order, sys.stdout)


if __name__ == '__main__':
    main(*sys.argv[1:3])
