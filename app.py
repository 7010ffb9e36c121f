"""gan-hub's Gradio app (also the Space's entry point): browse, sample, interpolate and score pretrained GANs.

    python app.py                                   # the models in model_zoo/, on 127.0.0.1:7860
    python app.py --models org/dcgan-mnist,runs/x/model --port 8000
    GAN_HUB_MODELS=org/a,org/b GRADIO_SERVER_PORT=8000 python app.py
    python app.py --allow-folders /srv/models       # visitors may add model folders from there (default: Hub ids only)

The same as ``gan-hub app`` once the package is installed (gan_hub/app/cli.py).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from gan_hub.app.cli import main, parse_args  # noqa: F401  (parse_args: for tests and scripts)

if __name__ == "__main__":
    sys.exit(main())
