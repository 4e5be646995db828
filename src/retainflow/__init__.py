"""retainflow: client retention playbooks as code.

The public API: `load` a workflow, run it in an `Engine`, keep state in a store.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
