"""Entry point Terraform starts through the launcher `terraform.py` writes."""

import sys

from provider_standin.server import serve

sys.exit(serve())
