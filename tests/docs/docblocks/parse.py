"""Finds the shell blocks of a Markdown file and the doctest marker in front of each.

A marker is an HTML comment (invisible when the Markdown is rendered) on the line(s) just
before a fenced block, blank lines allowed in between:

    <!-- doctest: run [slow] [root] [in-repo] [each] [needs=PATH] [exit=0,1] [timeout=S] -->
    <!-- doctest: skip REASON... -->
    <!-- doctest: output -->      the block is the expected output of the run block above it

Every ```sh / ```bash / ```shell / ```console block must carry a run or skip marker, so a
command cannot be added to the docs without either a test or a stated reason.
Indented code blocks are only taken when a marker precedes them.
"""
import re
import shlex

SHELL_INFO = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^`\s]*)")
DEFAULT_TIMEOUT = 300


class MarkerError(Exception):
    """A marker that cannot be understood; the message names the file and line."""


class Block:
    def __init__(self, doc, line, info, text):
        self.doc = doc          # path of the Markdown file
        self.line = line        # 1-based line of the block's first text line
        self.info = info        # the fence's info string ("sh", "text", ... or "" if indented)
        self.text = text        # the block's content
        self.mode = None        # "run", "skip", "output" or None (unmarked)
        self.reason = ""        # for skip
        self.slow = False       # run only when slow blocks are asked for
        self.root = False       # needs root
        self.in_repo = False    # must run in the checkout itself (build/ is the build dir)
        self.each = False       # each command line is run (and its exit status checked) on its own
        self.needs = []         # paths that must exist on this host (e.g. /dev/kvm), else not run
        self.exit_codes = {0}
        self.timeout = DEFAULT_TIMEOUT
        self.expected = None    # the output Block that follows, if any

    @property
    def is_shell(self):
        return self.info in SHELL_INFO

    def where(self):
        return f"{self.doc}:{self.line}"


def _apply_marker(block, marker, where):
    words = marker.split(None, 1)
    if not words:
        raise MarkerError(f"{where}: empty doctest marker: write run, skip REASON or output")
    mode, rest = words[0], words[1] if len(words) > 1 else ""
    if mode == "skip":
        if not rest.strip():
            raise MarkerError(f"{where}: 'doctest: skip' needs a reason, e.g. 'skip needs a Kubernetes cluster'")
        block.mode, block.reason = "skip", rest.strip()
        return
    if mode == "output":
        if rest.strip():
            raise MarkerError(f"{where}: 'doctest: output' takes no options")
        block.mode = "output"
        return
    if mode != "run":
        raise MarkerError(f"{where}: unknown doctest mode {mode!r}: use run, skip REASON or output")
    block.mode = "run"
    for word in shlex.split(rest):
        key, eq, value = word.partition("=")
        if word == "slow":
            block.slow = True
        elif word == "root":
            block.root = True
        elif word == "in-repo":
            block.in_repo = True
        elif word == "each":
            block.each = True
        elif key == "exit" and eq:
            try:
                block.exit_codes = {int(v) for v in value.split(",")}
            except ValueError:
                raise MarkerError(f"{where}: exit={value!r}: give exit statuses as numbers, e.g. exit=0,1") from None
        elif key == "needs" and eq and value.startswith("/"):
            block.needs.append(value)
        elif key == "timeout" and eq:
            if not value.isdigit() or int(value) == 0:
                raise MarkerError(f"{where}: timeout={value!r}: give whole seconds > 0")
            block.timeout = int(value)
        else:
            raise MarkerError(f"{where}: unknown doctest option {word!r} "
                              "(known: slow, root, in-repo, each, needs=/PATH, exit=N[,M], timeout=S)")


def parse(doc, text):
    """The code blocks of a Markdown text, markers applied, output blocks attached to their run block."""
    lines = text.splitlines()
    blocks = []
    pending = None  # (marker text, line number) waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line)
        if m:
            if pending:
                raise MarkerError(f"{doc}:{pending[1]}: doctest marker not followed by a code block")
            pending = (m.group(1), i + 1)
            i += 1
            continue
        f = FENCE.match(line)
        indented = pending and line.startswith("    ") and line.strip()
        if f or indented:
            if f:
                indent, fence, info = f.groups()
                body = []
                i += 1
                while i < len(lines) and not lines[i].strip().startswith(fence):
                    body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                    i += 1
                start = i - len(body) + 1
                i += 1  # the closing fence
            else:
                info, body = "", []
                while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                    body.append(lines[i][4:])
                    i += 1
                while body and not body[-1].strip():
                    body.pop()
                start = i - len(body) + 1
            block = Block(doc, start, info.lower(), "\n".join(body) + "\n")
            if pending:
                _apply_marker(block, pending[0], f"{doc}:{pending[1]}")
                pending = None
            if block.mode == "output":
                if not blocks or blocks[-1].mode != "run":
                    raise MarkerError(f"{block.where()}: a 'doctest: output' block must follow a 'doctest: run' block")
                if blocks[-1].expected is not None:
                    raise MarkerError(f"{block.where()}: the run block above already has an output block")
                blocks[-1].expected = block
                continue
            blocks.append(block)
            continue
        if pending and line.strip():
            raise MarkerError(f"{doc}:{pending[1]}: doctest marker not followed by a code block")
        i += 1
    if pending:
        raise MarkerError(f"{doc}:{pending[1]}: doctest marker at the end of the file")
    return blocks


def commands(text):
    """The block's command lines, backslash continuations joined, blank and comment lines left out."""
    out, current = [], ""
    for line in text.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            out.append(current.strip())
        current = ""
    if current.strip():
        out.append(current.strip())
    return out


def output_matches(expected, actual):
    """True when every non-empty expected line matches an output line, in order.

    '...' in an expected line stands for any text; trailing blanks are ignored."""
    out = [line.rstrip() for line in actual.splitlines()]
    pos = 0
    for line in expected.splitlines():
        if not line.strip():
            continue
        parts = [re.escape(p) for p in line.rstrip().split("...")]
        pattern = re.compile("^" + ".*".join(parts) + "$")
        while pos < len(out) and not pattern.match(out[pos]):
            pos += 1
        if pos == len(out):
            return False, line.rstrip()
        pos += 1
    return True, None
