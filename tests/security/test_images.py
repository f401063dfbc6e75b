"""Image names that would collide with a name:tag path (issue 9, finding 14).

`push-image --name api/v1 --tag x` after `--name api --tag v1` once failed
with "Not a directory" half-way.  The second push is refused as a usage
error (exit 2) naming the collision, and nothing is created.
"""
import os

from conftest import integration

APP = os.path.join(integration.TOP, "examples", "api-mini")


def snapshot(home):
    out = []
    for root, dirs, files in os.walk(os.path.join(home, "images")):
        for f in files + dirs:
            out.append(os.path.relpath(os.path.join(root, f), home))
    return sorted(out)


def test_a_name_that_extends_another_name_and_tag_is_refused(localcloud):
    lc = localcloud
    assert lc.caliber("local", "push-image", APP, "--name", "collide", "--tag", "v1").returncode == 0
    before = snapshot(lc.home)
    r = lc.caliber("local", "push-image", APP, "--name", "collide/v1", "--tag", "x")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "collide:v1" in r.stderr and "choose another name or tag" in r.stderr
    assert snapshot(lc.home) == before
    # the first image still resolves
    assert lc.caliber("local", "push-image", APP, "--name", "collide", "--tag", "v1").returncode == 0


def test_a_tag_that_is_the_path_of_longer_names_is_refused(localcloud):
    lc = localcloud
    assert lc.caliber("local", "push-image", APP, "--name", "deep/v2", "--tag", "x").returncode == 0
    before = snapshot(lc.home)
    r = lc.caliber("local", "push-image", APP, "--name", "deep", "--tag", "v2")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "deep/v2/" in r.stderr
    assert snapshot(lc.home) == before
