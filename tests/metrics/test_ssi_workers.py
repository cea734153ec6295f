"""SSI worker processes: started from a fork server, the same scores as one process, a clear message when a
script without the ``__main__`` guard asks for several jobs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np

from geoenc.metrics.ssi import ssi_scores


def test_two_workers_give_the_single_process_scores():
    rng = np.random.default_rng(4)
    lon, lat = rng.uniform(-30, 30, 3000), rng.uniform(-20, 20, 3000)
    bad = rng.random(3000) < 0.25
    one = ssi_scores(lon, lat, bad, n_jobs=1, relative=2, batch_size=64)
    two = ssi_scores(lon, lat, bad, n_jobs=2, relative=2, batch_size=64)
    np.testing.assert_array_equal(one.unmarked, two.unmarked)
    np.testing.assert_array_equal(one.marked, two.marked)
    np.testing.assert_array_equal(one.marked_perm, two.marked_perm)


def test_unguarded_script_gets_one_line_saying_what_to_change(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from geoenc.errors import GeoencError
            from geoenc.metrics.ssi import ssi_scores

            rng = np.random.default_rng(0)
            try:
                ssi_scores(rng.uniform(-180, 180, 2000), rng.uniform(-60, 60, 2000), rng.random(2000) < 0.2, n_jobs=2)
            except GeoencError as e:
                print("GeoencError:", e)
            """
        )
    )
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert "GeoencError:" in run.stdout, run.stderr[-2000:]
    assert "if __name__ == '__main__':" in run.stdout and "n_jobs=1" in run.stdout
