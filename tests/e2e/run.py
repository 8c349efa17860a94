"""Runs one e2e test module for ctest: exit 0 when every test passed, 77
(ctest's SKIP_RETURN_CODE here) when some were skipped for a missing tool
outside CI, 1 on any failure. Usage: run.py MODULE"""

import sys
import unittest


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    suite = unittest.defaultTestLoader.loadTestsFromName(sys.argv[1])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    return 77 if result.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
