import sys

from simulators.modbus.cli import main

sys.exit(main())
