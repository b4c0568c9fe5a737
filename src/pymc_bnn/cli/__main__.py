"""`python -m pymc_bnn.cli ...` runs the `pymc-bnn` command."""

import sys

from pymc_bnn.cli.app import main

sys.exit(main())
