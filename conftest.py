"""
Test harness for the whole tree.

- ``libraries/`` is importable without the Leapp framework as the package
  ``tripleo_upgrade_libraries`` (leapp itself loads it as ``leapp.libraries.common``).
- Actor component tests (``actors/*/tests``) and the workflow-contract tests (``integration/leapp_workflow``:
  our messages through the stock leapp-repository actors that consume them) run under the real Leapp
  framework when it is importable and ``LEAPP_REPOSITORY_REPOS`` names leapp-repository's ``repos/``
  directory (for the linked ``system_upgrade_common`` and ``common`` repositories); otherwise they are
  not collected and the run says so in one line.
"""
import importlib.util
import logging
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.abspath(__file__))

# pytest runs with --import-mode=importlib (actor tests share file names), which does not put
# the repository root on sys.path; the shared test support package lives there.
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from testing.libraries import register_libraries_package  # noqa: E402

pytest_plugins = ['testing.plugins']

register_libraries_package()


def _leapp_unavailable_reason():
    if importlib.util.find_spec('leapp') is None or importlib.util.find_spec('leapp.snactor') is None:
        return 'the Leapp framework is not importable'
    repos = os.environ.get('LEAPP_REPOSITORY_REPOS')
    if not repos:
        return 'LEAPP_REPOSITORY_REPOS (leapp-repository\'s repos/ directory) is not set'
    for linked in ('system_upgrade/common', 'common'):
        if not os.path.isfile(os.path.join(repos, linked, '.leapp', 'info')):
            return 'LEAPP_REPOSITORY_REPOS={} has no {}/.leapp/info'.format(repos, linked)
    return None


LEAPP_UNAVAILABLE = _leapp_unavailable_reason()
ACTOR_TESTS_SKIPPED = ('actor component and workflow-contract tests skipped: {}; see README "Running the actor '
                       'tests"'.format(LEAPP_UNAVAILABLE))

if LEAPP_UNAVAILABLE:
    collect_ignore_glob = ['actors/*/tests/*', 'integration/leapp_workflow/*']
else:
    pytest_plugins.append('leapp.snactor.fixture')


def pytest_report_header(config):
    if LEAPP_UNAVAILABLE:
        return None  # said once, at the end (pytest_terminal_summary)
    return 'actor component tests run under the Leapp framework, linked repositories from {}'.format(
        os.environ['LEAPP_REPOSITORY_REPOS'])


def pytest_terminal_summary(terminalreporter):
    if LEAPP_UNAVAILABLE:
        terminalreporter.write_line('SKIPPED ' + ACTOR_TESTS_SKIPPED)


def _leapp_repository_manager(session):
    manager = getattr(session, 'leapp_repository', None)
    if manager is None:
        from leapp.repository.manager import RepositoryManager
        from leapp.repository.scan import scan_repo

        logging.getLogger('leapp').setLevel(logging.INFO)
        repos = os.environ['LEAPP_REPOSITORY_REPOS']
        manager = RepositoryManager()
        for path in (REPO_ROOT, os.path.join(repos, 'system_upgrade', 'common'), os.path.join(repos, 'common')):
            manager.add_repo(scan_repo(path))
        manager.load(skip_actors_discovery=True)
        session.leapp_repository = manager
    return manager


@pytest.fixture(scope='session')
def leapp_repository(request):
    """Our repository and the linked stock ones, loaded (models, libraries) as leapp loads them."""
    return _leapp_repository_manager(request.session)


def pytest_collectstart(collector):
    """Enter the actor's context (its private libraries, files, tools) before collecting its tests."""
    if LEAPP_UNAVAILABLE:
        return
    path = str(collector.path)
    if os.path.join('integration', 'leapp_workflow') in path:
        # These tests import leapp.models and the stock libraries at module level: load the repositories first.
        _leapp_repository_manager(collector.session)
        return
    if os.sep + 'actors' + os.sep not in path or os.path.basename(os.path.dirname(path)) != 'tests':
        return
    actor_dir = os.path.dirname(os.path.dirname(path))
    session = collector.session
    if getattr(session, 'current_actor_path', None) == actor_dir:
        return
    manager = _leapp_repository_manager(session)
    actor = next((a for a in manager.actors if a.full_path == actor_dir), None)
    if actor is None:
        return
    _leave_actor_context(session)
    session.current_actor_context = actor.injected_context()
    session.current_actor_context.__enter__()
    session.current_actor = actor
    session.current_actor_path = actor_dir


def _leave_actor_context(session):
    context = getattr(session, 'current_actor_context', None)
    if context is not None:
        context.__exit__(None, None, None)
        session.current_actor_context = None
        session.current_actor_path = None


def pytest_runtestloop(session):
    _leave_actor_context(session)


@pytest.fixture
def libraries():
    """The node-side libraries as a package, without the Leapp framework."""
    return register_libraries_package()
