"""The application shell and the member side of the benefits marketplace."""

import os

os.environ.setdefault("PICCOLO_CONF", "marketplace.piccolo_conf")
