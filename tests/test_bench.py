"""The environment the soak (bench/soak.py, the last step of .ci/run) gives the site it
starts: built by bench/run.py's environment(). The soak names none of the bench's
modes, so it gets the site as it runs, whatever modes the bench gains."""

from bench import soak


def test_soak_serves_its_pages_with_their_templates(tmp_path):
    env = soak.site_environment(soak.Config(), str(tmp_path))
    assert env["BENCH_TEMPLATES"] == "on"
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.soak_settings"
    assert env["STATIC_ROOT"] == str(tmp_path)
