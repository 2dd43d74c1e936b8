"""The project stands on its own (issue 13 part 7): no tracked file names a place outside the
repository, neither a machine's absolute path (the checkout's own directory or a directory beside
it, a home directory) nor a sibling folder by a relative path.

The absolute paths looked for are worked out from where this checkout lies, so that whatever
directory a developer or CI clones into, a path copied from that machine into a file is caught.
"""
import re
import subprocess
from pathlib import Path


REPOSITORY = Path(__file__).resolve().parent.parent
# A path starts a word: not the rest of a URL ("https://host/home/...") or of a longer path.
PATH_START = rb"(?<![\w/.:~-])"
# Home directories of developers' machines (Linux and macOS), e.g. a path copied from an editor.
HOME_DIRECTORY = re.compile(PATH_START + rb"/(?:home|Users)/[A-Za-z0-9._-]+/")


def _tracked_files() -> list[Path]:
    """The files git tracks (text and binary alike); a tree that is not a git checkout is walked,
    leaving out what .gitignore keeps out of one (environments, local state, caches)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        ignored = {".git", ".venv", "var", "staticfiles", "__pycache__", ".pytest_cache", "node_modules"}
        return [path for path in REPOSITORY.rglob("*")
                if path.is_file() and not ignored & set(path.relative_to(REPOSITORY).parts)]
    return [REPOSITORY / name.decode() for name in listed.split(b"\0") if name]


def _machine_paths() -> list[bytes]:
    """Absolute prefixes that only this machine has: the directory holding the checkout (where a
    path to the checkout itself or to a folder beside it starts) and the user's home directory.
    The file system's root, or a prefix so short it could be a word, is never one of them."""
    candidates = {REPOSITORY.parent, Path.home()}
    return sorted(f"{directory}/".encode() for directory in candidates if len(directory.parts) > 1)


def _machine_path_pattern(prefixes: list[bytes]) -> re.Pattern[bytes]:
    return re.compile(PATH_START + b"(?:" + b"|".join(re.escape(prefix) for prefix in prefixes) + rb")\S*")


def _hits(pattern: re.Pattern[bytes], files: list[Path], root: Path) -> list[str]:
    """Each match as "file:line: match", this test file left out (it names the patterns)."""
    found = []
    for path in files:
        if path.resolve() == Path(__file__).resolve() or not path.is_file():
            continue
        content = path.read_bytes()
        for match in pattern.finditer(content):
            line = content.count(b"\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(root)}:{line}: {match.group().decode(errors='replace')}")
    return found


def test_no_tracked_file_names_an_absolute_path_of_this_machine():
    prefixes = _machine_paths()
    assert prefixes, "the checkout lies directly under the root: no prefix to look for"

    assert _hits(_machine_path_pattern(prefixes), _tracked_files(), REPOSITORY) == []


def test_no_tracked_file_names_a_home_directory():
    assert _hits(HOME_DIRECTORY, _tracked_files(), REPOSITORY) == []


def test_the_checks_find_a_path_when_there_is_one(tmp_path):
    # The checks above pass on a clean tree; a file naming this machine's paths and a home directory
    # must be caught by the same patterns, or checks that can never fire would pass too. A URL that
    # happens to contain the word home between slashes is not a path. (The planted home directory is
    # built from parts, so that this file does not itself name one for other checkers to find.)
    outside = _machine_paths()[0].decode()
    home = "/" + "home" + "/jdoe-example/"
    planted = tmp_path / "notes.md"
    planted.write_text(f"See {outside}spec/rules.md, {home}project/x.py\n"
                       f"and https://example.org/home/page/ or https://example.org{outside}x\n", encoding="utf-8")

    assert _hits(_machine_path_pattern(_machine_paths()), [planted], tmp_path) == [
        f"notes.md:1: {outside}spec/rules.md,"]
    assert _hits(HOME_DIRECTORY, [planted], tmp_path) == [f"notes.md:1: {home}"]


# The rules are cited as docs/derivation-rules.md and the paper by name, never as the spec folder
# that lies beside the repository on a developer's machine.
def test_no_tracked_file_names_a_folder_beside_the_repository():
    assert _hits(re.compile(rb"\.\./shared\b[^\s)\"'`]*"), _tracked_files(), REPOSITORY) == []
