"""`make bench` / `make reliability` section selection (host/sections.py).

Host-only: the sections are host tools. ``python -m host.reliability --help`` ran every
section (minutes), and a misspelt section name ran none and printed an empty table.
"""

from host.sections import run_family


def test_an_unknown_section_or_option_prints_the_usage_and_runs_nothing(capsys):
    for argv in (["--help"], ["smuggl"], ["tls", "--fast"]):
        assert run_family("reliability", "r_", "unused.json", ("a", "b"), argv) == 2, argv
        err = capsys.readouterr().err
        assert "usage: python -m host.reliability [SECTION ...]" in err, err
        assert "sections: limits powercut sender smtp soak tls" in err and "not a section or option" in err
    assert run_family("bench", "b_", "unused.json", ("a", "b"), ["-h"]) == 2
    assert "sections: board client mime qemu send" in capsys.readouterr().err
