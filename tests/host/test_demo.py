"""`make demo`, the main job, runs end to end (host-only: it drives the virtual board with mpremote).

Runs ``python -m host demo`` as a person would and checks it reports the
message delivered with its attachment identical to the file on the board.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_demo_delivers_the_queued_message(tmp_path):
    r = subprocess.run([sys.executable, "-m", "host", "demo", "--dir", str(tmp_path / "demo"),
                        "--rows", "500"], cwd=ROOT, capture_output=True, timeout=300)
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    assert "done: 1 sent, 0 failed, 0 deferred of 1" in out, out
    assert "identical to the file on the board's flash" in out, out
    saved = os.listdir(str(tmp_path / "demo" / "mail" / "new"))
    assert len(saved) == 1
