from leapp.topics import Topic


class TripleoUpgradeTopic(Topic):
    """Messages of the TripleO upgrade repository."""
    name = 'tripleo_upgrade'
