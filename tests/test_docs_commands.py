"""Every command the docs print works as printed after `make run` / `make test` on a fresh machine.

The shell code blocks (and the inline spans that start like a command) of README.md, docs/*.md and
the plugins' READMEs are parsed; each program they invoke must be there: `make` targets exist in
the Makefile, paths such as `.venv/bin/catalyst` exist (with the subcommands named), bare programs
are only those a fresh machine has (the README asks for Python 3.11 and Node 20: `python3`, `node`,
`npm`, plus `make`, `curl`), and every URL given to `curl` is a route of the API or of the example
plugin, with that method. So `uv run …` or a bare `catalyst …` in the docs fails here: `uv` lives
in `.tools/bin` only when it was not already installed, and `catalyst` in `.venv/bin`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import typer
from fastapi import FastAPI

from catalyst.cli import app as cli_app
from catalyst.settings import Settings
from tests.plugin_helpers import EXAMPLE, AppFactory, admin_client

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "catalyst-plugins").glob("*/README.md")),
]
SHELL_FENCES = {"bash", "sh", "shell", "console"}
#: What a fresh machine has, per the README (Python 3.11 and Node 20), plus make and curl.
FRESH_MACHINE = {"make", "python3", "node", "npm", "curl"}
#: Shell builtins and commands the docs may use without them being installed by anything.
BUILTINS = {"cd", "export", "echo", "source", ".", "set", "unset", "true"}
#: Debian's package tool, named for optional extras (Chromium, wrk); not checked with `which`.
SYSTEM = {"apt-get"}
#: A server's tools, named by docs/deploy.md (systemd, nginx, Docker, cp); not checked with
#: `which` (a development machine need not have them). After `sudo`, the command is checked.
SERVER = {"systemctl", "nginx", "docker", "cp"}
#: An inline code span is a command when it starts with one of these.
COMMAND_START = re.compile(
    r"^(?:(?:make|uvx?|catalyst|pytest|python3?|pip3?|npm|npx|node|curl|cd|apt-get|ruff|mypy"
    r"|alembic|uvicorn)\s+\S|(?:\.venv|\.tools|\.ci|\.)/\S)"
)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")", "$(", ";;"}


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_commands(path: Path) -> list[str]:
    """The commands of ``path``'s shell code blocks: continuation lines joined, comments and
    prompts dropped, whitespace between words collapsed outside quotes."""
    commands: list[str] = []
    fence: str | None = None
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip().lower()
            pending = ""
            continue
        if fence not in SHELL_FENCES:
            continue
        line = _strip_comment(raw.strip().removeprefix("$ "))
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            commands.append(line)
    return commands


def inline_commands(path: Path) -> list[str]:
    """Inline code spans in the prose that start like a command (`make run`, `.venv/bin/…`)."""
    found: list[str] = []
    in_fence = False
    for line in path.read_text().splitlines():
        if line.strip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for span in re.findall(r"`([^`]+)`", line):
            if COMMAND_START.match(span) and not span.endswith("/"):
                found.append(span)
    return found


def simple_commands(command: str) -> list[list[str]]:
    """Split a command line at `&&`, `|`, `;`, `$(`…; drop leading VAR=value assignments."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="();&|")
    lexer.whitespace_split = True
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token in SEPARATORS or token == "$" or (ASSIGNMENT.match(token) and token[-1] == "$"):
            parts.append([])  # `TOKEN=$(…`: the assignment, then a command of its own
        else:
            parts[-1].append(token)
    result = []
    for words in parts:
        while words and ASSIGNMENT.match(words[0]):
            words = words[1:]
        if words:
            result.append(words)
    return result


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, flags=re.MULTILINE))


def check_catalyst_args(args: list[str]) -> str | None:
    command: Any = typer.main.get_command(cli_app)
    for arg in args:
        commands = getattr(command, "commands", None)  # a group (typer may vendor click)
        if commands is None or not re.fullmatch(r"[a-z][a-z-]*", arg):
            return None
        if arg not in commands:
            return f"catalyst has no command {arg!r} (has: {', '.join(sorted(commands))})"
        command = commands[arg]
    return None


def problem_of(words: list[str]) -> str | None:
    program, args = words[0], words[1:]
    if program == "sudo" and args:
        return problem_of(args)
    if program in BUILTINS or program in SYSTEM or program in SERVER:
        return None
    if program == "make":
        missing = [a for a in args if not a.startswith("-") and a not in makefile_targets()]
        return f"no Makefile target {missing}" if missing else None
    if "/" in program:
        path = ROOT / program
        if not path.exists():
            return f"{program} does not exist after make run / make test"
        if program.endswith("/catalyst"):
            return check_catalyst_args(args)
        return None
    if program not in FRESH_MACHINE:
        return (
            f"{program!r} is not on the PATH of a fresh machine after make run / make test; "
            "write .venv/bin/<tool> or a make target"
        )
    if shutil.which(program) is None:
        return f"{program!r} is not installed here"
    if program == "npm" and args[:1] == ["run"] and len(args) > 1:
        scripts = json.loads((ROOT / "frontend" / "package.json").read_text())["scripts"]
        return None if args[1] in scripts else f"frontend/package.json has no script {args[1]!r}"
    return None


def all_commands() -> list[tuple[str, str]]:
    return [
        (str(doc.relative_to(ROOT)), command)
        for doc in DOCS
        for command in [*shell_commands(doc), *inline_commands(doc)]
    ]


def test_the_docs_print_commands() -> None:
    commands = all_commands()
    assert len(commands) >= 20
    assert any(".venv/bin/catalyst plugin new" in c for _, c in commands)


@pytest.mark.parametrize(("doc", "command"), all_commands())
def test_every_printed_command_runs_after_install(doc: str, command: str) -> None:
    for words in simple_commands(command):
        assert problem_of(words) is None, f"{doc}: `{command}`: {problem_of(words)}"


def test_the_checker_refuses_what_would_not_run() -> None:
    bad = {
        "uv run catalyst --help": "not on the PATH",
        "catalyst serve": "not on the PATH",
        "cd frontend && npx vitest": "not on the PATH",
        "make nonsense": "no Makefile target",
        "cd frontend && npm run nonsense": "no script 'nonsense'",
        ".venv/bin/catalyst plugin nonsense": "has no command 'nonsense'",
        ".venv/bin/nothing --x": "does not exist",
        "sudo catalyst serve": "not on the PATH",
        'TOKEN=$(uv run catalyst login) && curl -s "$X"': "'uv'",
    }
    for command, expected in bad.items():
        problems = [p for w in simple_commands(command) if (p := problem_of(w))]
        assert problems, command
        assert expected in problems[0], command


# --- curl: every URL is a route, with that method -----------------------------------------------


def curl_calls() -> list[tuple[str, str, str]]:
    calls = []
    for doc, command in all_commands():
        for words in simple_commands(command):
            if words[0] != "curl":
                continue
            method, url, has_data = "GET", None, False
            for i, word in enumerate(words):
                if word == "-X":
                    method = words[i + 1]
                elif word in ("-d", "--data", "--data-raw", "--json"):
                    has_data = True
                elif word.startswith("http"):
                    url = word
            if url is not None:
                if has_data and "-X" not in words:
                    method = "POST"
                calls.append((doc, method, urlsplit(url).path))
    return calls


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


@pytest.fixture
async def example_app(settings: Settings, app_factory: AppFactory) -> FastAPI:
    shutil.copytree(EXAMPLE, settings.plugins_dir / "example-plugin")
    return await app_factory(plugin_auto_enable=["example-plugin"])


async def test_every_curl_url_is_a_route(example_app: FastAPI) -> None:
    calls = curl_calls()
    assert any(path.endswith("/example-plugin/hello") for _, _, path in calls)
    api = [
        (method.upper(), _template(path))
        for path, item in example_app.openapi()["paths"].items()
        for method in item
    ]
    client: httpx.AsyncClient = await admin_client(example_app)
    detail = (await client.get("/api/plugins/example-plugin")).json()["data"]
    plugin = {(r["method"], "/api/plugins/example-plugin" + r["url"]) for r in detail["routes"]}
    for doc, method, path in calls:
        known = (method, path) in plugin or any(m == method and t.match(path) for m, t in api)
        assert known, f"{doc}: curl {method} {path} is not a route"
