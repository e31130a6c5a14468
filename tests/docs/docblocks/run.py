"""Runs the marked blocks and prints a per-doc summary."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

from .parse import commands, output_matches

OUTPUT_TAIL = 60  # lines of a failed block's output to show


class Result:
    def __init__(self, block, status, detail=""):
        self.block = block
        self.status = status  # "passed", "failed", "not-run", "unmarked"
        self.detail = detail
        self.output = ""


def view_of_checkout(source, build):
    """A directory that looks like the checkout with `build` pointing at BUILD.

    The docs say build/bin/hull; the tests run against the build dir CTest was configured for,
    which need not be <checkout>/build. Returns (path, temporary?)."""
    if os.path.realpath(build) == os.path.realpath(os.path.join(source, "build")):
        return source, False
    view = tempfile.mkdtemp(prefix="hull-docs-")
    for name in os.listdir(source):
        if name != "build":
            os.symlink(os.path.join(source, name), os.path.join(view, name))
    os.symlink(os.path.realpath(build), os.path.join(view, "build"))
    return view, True


def _not_run_reason(block, args, in_place):
    if block.mode == "skip":
        return block.reason
    if block.slow and args.tier == "fast":
        return "slow: runs with --tier slow (ctest: docs.blocks-slow, configure with -DHULL_DOCS_TEST_SLOW=ON)"
    if not block.slow and args.tier == "slow":
        return "fast: runs with --tier fast (ctest: docs.blocks)"
    if block.root and os.geteuid() != 0:
        return "needs root"
    missing = [path for path in block.needs if not os.path.exists(path)]
    if missing:
        return f"needs {', '.join(missing)}, which this host does not have"
    if block.in_repo and not in_place:
        return "reconfigures the build: runs only when the build dir is <checkout>/build"
    return None


def run_block(block, cwd, log):
    """Runs one block (or, marked each, each of its commands) and checks exit status and output."""
    if not block.each:
        return run_script(block, block.text, cwd, log)
    t0 = time.monotonic()
    texts = []
    for command in commands(block.text):
        result = run_script(block, command + "\n", cwd, log, check_output=False)
        if result.status != "passed":
            result.detail = f"{command!r}: {result.detail}"
            return result
        texts.append(result.output)
    return _check_output(block, "".join(texts), time.monotonic() - t0)


def run_script(block, script, cwd, log, check_output=True):
    """Runs a script with bash -e -o pipefail in its own process group; returns a Result."""
    t0 = time.monotonic()
    proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=block.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return Result(block, "failed", f"timed out after {block.timeout} s" + _tail(out))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = out.decode(errors="replace")
    log(text)
    if proc.returncode not in block.exit_codes:
        want = ",".join(str(c) for c in sorted(block.exit_codes))
        return Result(block, "failed", f"exit status {proc.returncode}, documented {want}" + _tail(out))
    if not check_output:
        result = Result(block, "passed")
        result.output = text
        return result
    return _check_output(block, text, time.monotonic() - t0)


def _check_output(block, text, seconds):
    if block.expected is not None:
        ok, missing = output_matches(block.expected.text, text)
        if not ok:
            return Result(block, "failed",
                          f"the output differs from the documented one at {block.expected.where()}: "
                          f"no line matches {missing!r} (in order)" + _tail(text.encode()))
    return Result(block, "passed", f"{seconds:.1f} s")


def _tail(out):
    lines = out.decode(errors="replace").splitlines()[-OUTPUT_TAIL:]
    return "\n    | " + "\n    | ".join(lines) if lines else ""


def run_all(docs_blocks, args, source, log):
    """Runs every block of every doc; returns the Results in doc order."""
    cwd, temporary = view_of_checkout(source, args.build)
    in_place = not temporary
    results = []
    try:
        for doc, blocks in docs_blocks:
            for block in blocks:
                if block.mode is None:
                    if block.is_shell:
                        results.append(Result(block, "unmarked",
                                              "add <!-- doctest: run --> or <!-- doctest: skip REASON --> before it"))
                    continue
                reason = _not_run_reason(block, args, in_place)
                if reason:
                    results.append(Result(block, "not-run", reason))
                    continue
                print(f"doc-blocks: running {block.where()} ...", flush=True)
                result = run_block(block, cwd, log)
                print(f"doc-blocks: {block.where()}: {result.status} ({result.detail.splitlines()[0]})", flush=True)
                results.append(result)
    finally:
        if temporary:
            shutil.rmtree(cwd, ignore_errors=True)  # only symlinks: their targets stay
    return results


NOTHING_RAN = 77  # CTest's SKIP_RETURN_CODE for docs.blocks(-slow): a run of no block is not a pass


def exit_status(results):
    """1 when a block failed or is unmarked; NOTHING_RAN when no block ran at all; else 0."""
    if any(r.status in ("failed", "unmarked") for r in results):
        return 1
    if not any(r.status == "passed" for r in results):
        return NOTHING_RAN
    return 0


def summary(docs, results):
    """Lines of the closing summary: one per doc, then every failure and not-run reason."""
    lines = [f"{'doc':28} {'run':>4} {'passed':>6} {'failed':>6} {'not-run':>7} {'unmarked':>8}"]
    for doc in docs:
        mine = [r for r in results if r.block.doc == doc]
        count = {s: sum(r.status == s for r in mine) for s in ("passed", "failed", "not-run", "unmarked")}
        lines.append(f"{doc:28} {count['passed'] + count['failed']:>4} {count['passed']:>6} {count['failed']:>6} "
                     f"{count['not-run']:>7} {count['unmarked']:>8}")
    for r in results:
        if r.status in ("not-run",):
            lines.append(f"not run  {r.block.where()}: {r.detail}")
    for r in results:
        if r.status in ("failed", "unmarked"):
            lines.append(f"{r.status.upper()}  {r.block.where()}: {r.detail}")
    return lines
