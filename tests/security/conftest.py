"""The security suite: each test performs an attack on a real caliberd and
asserts AWS's answer (or the documented local limit).

It uses the integration suite's fixtures (`localcloud`, `start_localcloud`,
`free_port`, ...), loaded from tests/integration/conftest.py under another
module name so that both suites can be collected in one run.
"""
import importlib.util
import os

_path = os.path.join(os.path.dirname(__file__), "..", "integration", "conftest.py")
_spec = importlib.util.spec_from_file_location("caliber_integration_conftest", _path)
integration = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(integration)

localcloud = integration.localcloud
start_localcloud = integration.start_localcloud
free_port = integration.free_port
LocalCloud = integration.LocalCloud
