"""Health check of api-mini for ECS task definitions: exit 0 when
http://$CALIBER_TASK_HOST:$PORT/health/ answers 200 within two seconds."""
import os
import sys
import urllib.request

url = "http://%s:%s/health/" % (os.environ.get("CALIBER_TASK_HOST", "127.0.0.1"),
                                os.environ.get("PORT", "8000"))
try:
    with urllib.request.urlopen(url, timeout=2) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
