#!/bin/sh
# The mutants of tests/mutants.txt (make mutants) still fit the code: each
# one's text occurs exactly once in its file, so a change that moves code
# cannot quietly make a mutant meaningless.
n=$(python3 "$(dirname "$0")/mutants.py" --list | wc -l)
if python3 "$(dirname "$0")/mutants.py" --check; then
    echo "ok: the $n mutants fit the code"
    echo "RESULT: 1 passed, 0 failed, 0 skipped"
else
    echo "FAIL: mutants that no longer fit the code (above): update tests/mutants.txt"
    echo "RESULT: 0 passed, 1 failed, 0 skipped"
    exit 1
fi
