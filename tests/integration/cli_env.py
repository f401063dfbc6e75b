"""Shared helpers for tests that run the caliber binary."""
import os
import subprocess

TOP = os.environ.get("CALIBER_TOP", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN_DIR = os.environ.get("CALIBER_BIN_DIR", os.path.join(TOP, "build", "release"))
CALIBER = os.path.join(BIN_DIR, "caliber")


def run_caliber(args, env=None, cwd=None, input=None, timeout=600):
    """Run caliber with args; return the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:  # None removes a variable the caller's environment may hold
            full_env.pop(k, None)
        else:
            full_env[k] = v
    return subprocess.run([CALIBER] + list(args), env=full_env, cwd=cwd or TOP, input=input,
                          capture_output=True, text=True, timeout=timeout)
