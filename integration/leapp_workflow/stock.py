"""
leapp-repository's own actor libraries, imported inside their actor's context as leapp imports them
(``leapp.libraries.actor.<name>`` with the actor's private libraries), so that our messages go
through the code that consumes them in a real upgrade.
"""
import contextlib
import importlib
import os
import sys

ACTOR_LIBRARIES = 'leapp.libraries.actor.'


@contextlib.contextmanager
def stock_actor_library(manager, actor_dir, module):
    """
    :param manager: the loaded RepositoryManager (the ``leapp_repository`` fixture)
    :param actor_dir: the actor's directory below system_upgrade/common/actors
    :param module: the name of one of its libraries
    """
    path = os.path.join(os.environ['LEAPP_REPOSITORY_REPOS'], 'system_upgrade', 'common', 'actors', actor_dir)
    [actor] = [a for a in manager.actors if os.path.realpath(a.full_path) == os.path.realpath(path)]
    before = dict((name, m) for name, m in sys.modules.items() if name.startswith(ACTOR_LIBRARIES))
    with actor.injected_context():
        try:
            yield importlib.import_module(ACTOR_LIBRARIES + module)
        finally:
            # Another actor's private libraries may have the same names.
            for name in [n for n in sys.modules if n.startswith(ACTOR_LIBRARIES)]:
                del sys.modules[name]
            sys.modules.update(before)
