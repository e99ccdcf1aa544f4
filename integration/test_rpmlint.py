"""rpmlint on the built packages and on the spec files, with the findings accepted in packaging/rpmlint.toml."""
import os
import shutil
import subprocess

from testing.rpm_packages import REPO_ROOT

SPECS = ('tripleo-upgrade-leapp.spec', 'tripleo-upgrade-helper.spec')


def test_rpmlint_reports_nothing_beyond_the_accepted_findings(rpms, tmp_path):
    # The specs take their version from packaging/build-rpms; rpmlint parses copies that set it the same way.
    specs = []
    for spec in SPECS:
        specs.append(str(tmp_path / spec))
        with open(os.path.join(REPO_ROOT, 'packaging', spec)) as source, open(specs[-1], 'w') as copy:
            copy.write('%global project_version 0.0.0\n' + source.read())
    assert shutil.which('rpmlint'), 'rpmlint (Debian package rpmlint) is not installed'
    result = subprocess.run(['rpmlint', '--config', os.path.join(REPO_ROOT, 'packaging', 'rpmlint.toml')]
                            + sorted(rpms.values()) + specs,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    findings = [line for line in result.stdout.splitlines() if ': E: ' in line or ': W: ' in line]
    assert findings == [], ('rpmlint found (fix it, or accept it with a reason in packaging/rpmlint.toml):\n'
                            + result.stdout)
    assert result.returncode == 0, result.stdout
    assert '2 packages and 2 specfiles checked' in result.stdout, result.stdout
