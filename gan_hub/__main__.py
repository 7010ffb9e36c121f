"""``python -m gan_hub`` (and ``accelerate launch -m gan_hub train ...``): the ``gan-hub`` command line."""

import sys

from .cli import main

sys.exit(main())
