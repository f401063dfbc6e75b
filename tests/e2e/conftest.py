"""The end-to-end suite: the README's main job and the runbook's procedures
run whole, as an operator runs them, on a private local cloud.

It uses the integration suite's helpers (`free_port`, ...), loaded from
tests/integration/conftest.py under another module name.
"""
import importlib.util
import os

_path = os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("caliber_integration_conftest_e2e", _path)
integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration)

free_port = integration.free_port
TOP = integration.TOP
