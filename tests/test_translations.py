"""Every message the code shows people reaches the translators.

`makemessages` only extracts string literals written inside a gettext call, so a message
kept in a module-level constant and translated where it is used (`_(THREAD_LOCKED)`)
must be declared with `gettext_noop("...")`, or no .po file ever carries it and the
interface stays in English whatever the language.

Constants are found in the source itself: a module-level `NAME = "text"` (or
`NAME = gettext_noop("text")`) whose name the code translates, either directly
(`_(NAME)`, `_(module.NAME)`) or by passing it to a parameter that the called function
translates (`check_pause(..., message=TOO_SOON)`). URLs, cache keys and format names
are never translated, so they are never asked for.
"""

import ast
import shutil

import pytest

from tests.processes import ROOT, run_python

APPS = ("accounts", "forums", "conversations", "moderation", "community", "config")
TRANSLATING = {
    "_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy",
    "pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy",
}


def _sources() -> dict[str, ast.Module]:
    """Each app module (not migrations), parsed, by its path in the repository."""
    return {
        path.relative_to(ROOT).as_posix(): ast.parse(path.read_text(), filename=str(path))
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _name(node: ast.AST) -> str | None:
    """`NAME` for `NAME` or `anything.NAME`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_translation(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) in TRANSLATING and bool(node.args)


def _constants(tree: ast.Module):
    """(name, text, declared) for each module-level upper-case string constant; declared
    when the literal is written inside a gettext call, where makemessages finds it."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id.isupper()):
            continue
        declared = _is_translation(value) and len(value.args) == 1
        if declared:
            value = value.args[0]
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            yield target.id, value.value, declared


def _translated_names(trees) -> set[str]:
    """Names the code translates: `_(NAME)`, or NAME passed to a parameter that the
    called function translates (matched by keyword, or by position for plain calls)."""
    names: set[str] = set()
    translating_parameters: dict[str, tuple[list[str], set[str]]] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if _is_translation(node) and _name(node.args[0]):
                names.add(_name(node.args[0]))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args
                positional = [a.arg for a in arguments.posonlyargs + arguments.args]
                parameters = set(positional) | {a.arg for a in arguments.kwonlyargs}
                translated = {
                    _name(call.args[0]) for call in ast.walk(node) if _is_translation(call)
                } & parameters
                if translated:
                    translating_parameters[node.name] = (positional, translated)
    for tree in trees:
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call) or _name(call.func) not in translating_parameters:
                continue
            positional, translated = translating_parameters[_name(call.func)]
            passed = [(k.arg, k.value) for k in call.keywords]
            if isinstance(call.func, ast.Name):
                passed += list(zip(positional, call.args))
            names |= {_name(value) for parameter, value in passed if parameter in translated}
    names.discard(None)
    return names


def _messages(sources: dict[str, ast.Module]):
    """(module path, name, text, declared) for every constant that is a message: declared
    with gettext_noop (or another gettext call), or translated somewhere in the code."""
    translated = _translated_names(sources.values())
    return [
        (path, name, text, declared)
        for path, tree in sources.items()
        for name, text, declared in _constants(tree)
        if declared or name in translated
    ]


def _msgids(po: str) -> set[str]:
    """The msgids of a .po file, with continuation lines joined."""
    msgids, current = set(), None
    for line in po.splitlines():
        if line.startswith("msgid "):
            current = [ast.literal_eval(line.removeprefix("msgid "))]
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        elif current is not None:
            msgids.add("".join(current))
            current = None
    return msgids


def test_message_discovery_finds_plain_constants_translated_at_call_sites():
    source = ast.parse(
        'from django.utils.translation import gettext as _, gettext_noop\n'
        'DIRECT = "Shown with _() where it is raised."\n'
        'PASSED_ON = "Translated by the function it is passed to."\n'
        'DECLARED = gettext_noop("Already extracted.")\n'
        'CACHE_KEY = "site:version"\n'
        'def refuse(*, message):\n'
        '    raise ValueError(_(message))\n'
        'def check(user, forum):\n'
        '    if user:\n'
        '        raise ValueError(_(DIRECT).format(forum=forum))\n'
        '    refuse(message=PASSED_ON)\n'
    )
    found = {name: declared for _path, name, _text, declared in _messages({"app.py": source})}
    assert found == {"DIRECT": False, "PASSED_ON": False, "DECLARED": True}


def test_message_constants_translated_at_call_sites_are_declared_with_gettext_noop():
    messages = _messages(_sources())
    found = {(path, name) for path, name, _text, _declared in messages}
    # Direct use, use through check_pause's `message`, and use through another module.
    assert {
        ("forums/permissions.py", "THREAD_LOCKED"),
        ("conversations/permissions.py", "TOO_SOON"),
        ("forums/services.py", "BODY_REQUIRED"),
        ("accounts/standing.py", "ACCOUNT_INACTIVE"),
    } <= found
    plain = [f"{path}: {name}" for path, name, _text, declared in messages if not declared]
    assert not plain, (
        "makemessages cannot extract these messages; write them as "
        f"NAME = gettext_noop(\"...\"): {plain}"
    )


@pytest.mark.skipif(
    not shutil.which("xgettext"),
    reason="makemessages needs GNU gettext (apt-get install gettext; `make test` does it as root)",
)
def test_makemessages_extracts_every_message_constant(tmp_path):
    for folder in (*APPS, "templates"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path)
    (tmp_path / "locale").mkdir()

    result = run_python("manage.py", "makemessages", "--locale", "xx", "--no-location", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    msgids = _msgids((tmp_path / "locale/xx/LC_MESSAGES/django.po").read_text())
    missing = [
        f"{path}: {name} = {text!r}"
        for path, name, text, _declared in _messages(_sources())
        if text not in msgids
    ]
    assert not missing, f"not in the catalogue makemessages wrote: {missing}"
