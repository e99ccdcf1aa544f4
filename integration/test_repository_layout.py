"""The repository root is the leapp repository: what leapp's scanner refuses must not be there."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# leapp.repository.scan treats a top-level `tests` directory as a repository part that only actors
# may have ("Repositories do not support tests"), and then refuses to load the whole repository,
# stock checks included. Tests that cross parts live in integration/ instead.
REFUSED_BY_LEAPP = ('tests',)


def test_no_top_level_directory_that_makes_leapp_refuse_the_repository():
    present = [name for name in REFUSED_BY_LEAPP if os.path.isdir(os.path.join(ROOT, name))]
    assert present == [], 'leapp refuses to load a repository with a top-level {} directory'.format(present)
