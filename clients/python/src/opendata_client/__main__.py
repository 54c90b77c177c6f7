import sys

from opendata_client.cli import main

sys.exit(main())
