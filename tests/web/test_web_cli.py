"""``dermatrack user`` and ``dermatrack serve`` on the command line."""

from __future__ import annotations

import io


def test_user_add_reads_the_password_from_stdin_and_user_list_shows_it(cli, tmp_path,
                                                                       fast_hashing):
    data = tmp_path / "clinic"
    added = cli("user", "add", "kim", "--role", "clinician", "--data", data, "--json",
                stdin="correct horse battery\n")
    assert added.code == 0, added.stderr
    assert added.json()["username"] == "kim" and added.json()["role"] == "clinician"
    assert "correct horse" not in added.stdout

    from dermatrack.config import load_settings
    from dermatrack.services import accounts
    from dermatrack.services.common import open_store

    with open_store(load_settings(data)) as store:
        assert accounts.authenticate(store, "kim", "correct horse battery") is not None
        assert accounts.authenticate(store, "kim", "correct horse battery\n") is None

    listed = cli("user", "list", "--data", data, "--json")
    assert [u["username"] for u in listed.json()] == ["kim"]
    deactivated = cli("user", "deactivate", "kim", "--data", data)
    assert deactivated.code == 0
    assert cli("user", "list", "--data", data, "--json").json()[0]["active"] is False


def test_user_add_refuses_bad_input_with_exit_2(cli, tmp_path, fast_hashing):
    data = tmp_path / "clinic"
    bad_role = cli("user", "add", "kim", "--role", "doctor", "--data", data, stdin="x" * 12)
    assert bad_role.code == 2 and "--role" in bad_role.stderr
    short = cli("user", "add", "kim", "--role", "admin", "--data", data, stdin="short\n")
    assert short.code == 2 and "password" in short.stderr
    empty = cli("user", "add", "kim", "--role", "admin", "--data", data, stdin="")
    assert empty.code == 2 and "stdin" in empty.stderr
    bad_name = cli("user", "add", "Kim Smith", "--role", "admin", "--data", data,
                   stdin="long enough password\n")
    assert bad_name.code == 2 and "username" in bad_name.stderr
    assert cli("user", "add", "kim", "--role", "admin", "--data", data,
               stdin="long enough password\n").code == 0
    taken = cli("user", "add", "kim", "--role", "admin", "--data", data,
                stdin="long enough password\n")
    assert taken.code == 2 and "taken" in taken.stderr
    for result in (bad_role, short, empty, bad_name, taken):
        assert "Traceback" not in result.stderr


def test_password_prompt_at_a_terminal_asks_twice(monkeypatch):
    import getpass

    import pytest

    from dermatrack.cli.web import read_new_password
    from dermatrack.errors import InputError

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["first password", "other password"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(InputError, match="differ"):
        read_new_password(Terminal())
    answers = iter(["same password!", "same password!"])
    assert read_new_password(Terminal()) == "same password!"


def test_serve_help_names_its_options(cli):
    result = cli("serve", "--help")
    assert result.code == 0
    for option in ("--data", "--host", "--port"):
        assert option in result.stdout


def test_a_data_path_that_is_a_file_is_refused_without_a_traceback(cli, tmp_path):
    not_a_folder = tmp_path / "clinic.txt"
    not_a_folder.write_text("notes")
    for args in (("serve", "--data", not_a_folder, "--port", "8999"),
                 ("user", "list", "--data", not_a_folder)):
        result = cli(*args)
        assert result.code == 2, args
        assert "--data" in result.stderr and "not a data folder" in result.stderr
        assert "Traceback" not in result.stderr
    assert not_a_folder.read_text() == "notes"
