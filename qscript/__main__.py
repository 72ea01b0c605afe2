import sys

from qscript.cli import main

sys.exit(main())
