"""tests/docs/docblocks: markers, blocks and output matching, and how a block's run is judged
(small shell blocks in a temporary directory)."""
import tempfile
import unittest

from docblocks import parse, run


def doc(*lines):
    return "\n".join(lines) + "\n"


class ParseTest(unittest.TestCase):
    def test_markers_apply_to_the_next_fence(self):
        blocks = parse.parse("d.md", doc(
            "text", "<!-- doctest: run slow root exit=0,1 timeout=20 needs=/dev/kvm -->", "", "```sh", "echo hi", "```",
            "<!-- doctest: skip needs a cluster -->", "```bash", "kubectl get pods", "```",
            "```sh", "unmarked", "```", "```toml", "x = 1", "```"))
        self.assertEqual([(b.mode, b.info, b.line) for b in blocks],
                         [("run", "sh", 5), ("skip", "bash", 9), (None, "sh", 12), (None, "toml", 15)])
        run = blocks[0]
        self.assertEqual((run.slow, run.root, run.exit_codes, run.timeout, run.needs, run.text),
                         (True, True, {0, 1}, 20, ["/dev/kvm"], "echo hi\n"))
        self.assertEqual(blocks[1].reason, "needs a cluster")
        self.assertTrue(blocks[2].is_shell)
        self.assertFalse(blocks[3].is_shell)

    def test_output_block_attaches_to_the_run_block_above(self):
        blocks = parse.parse("d.md", doc(
            "<!-- doctest: run -->", "```sh", "echo a", "```", "<!-- doctest: output -->", "```text", "a", "```"))
        self.assertEqual(len(blocks), 1)
        self.assertEqual(blocks[0].expected.text, "a\n")

    def test_indented_block_only_with_a_marker(self):
        blocks = parse.parse("d.md", doc("    not code", "", "<!-- doctest: run -->", "", "    echo a", "    echo b", "", "after"))
        self.assertEqual(len(blocks), 1)
        self.assertEqual(blocks[0].text, "echo a\necho b\n")

    def test_bad_markers_name_the_line(self):
        cases = [
            (doc("<!-- doctest: skip -->", "```sh", "x", "```"), "d.md:1: 'doctest: skip' needs a reason"),
            (doc("<!-- doctest: run fast -->", "```sh", "x", "```"), "unknown doctest option 'fast'"),
            (doc("<!-- doctest: run exit=a -->", "```sh", "x", "```"), "exit='a'"),
            (doc("<!-- doctest: run timeout=0 -->", "```sh", "x", "```"), "timeout='0'"),
            (doc("<!-- doctest: run needs=dev/kvm -->", "```sh", "x", "```"), "unknown doctest option 'needs=dev/kvm'"),
            (doc("<!-- doctest: runn -->", "```sh", "x", "```"), "unknown doctest mode 'runn'"),
            (doc("<!-- doctest: run -->", "prose", "```sh", "x", "```"), "d.md:1: doctest marker not followed"),
            (doc("```sh", "x", "```", "<!-- doctest: output -->", "```text", "x", "```"), "must follow a 'doctest: run'"),
            (doc("text", "<!-- doctest: run -->"), "d.md:2: doctest marker at the end"),
        ]
        for text, message in cases:
            with self.subTest(message=message), self.assertRaises(parse.MarkerError) as cm:
                parse.parse("d.md", text)
            self.assertIn(message, str(cm.exception))


class CommandsTest(unittest.TestCase):
    def test_continuations_joined_comments_dropped(self):
        text = "# a comment\nhull check   # trailing comment stays\n\ntools/nested-run --bin x \\\n  -- true\n"
        self.assertEqual(parse.commands(text), ["hull check   # trailing comment stays", "tools/nested-run --bin x    -- true"])


class OutputMatchTest(unittest.TestCase):
    def test_lines_in_order_with_wildcards(self):
        out = "noise\nFAIL kvm.device: /dev/kvm does not exist\nmore\nexit status 1\n"
        self.assertEqual(parse.output_matches("FAIL kvm.device: ...exist\n\nexit status 1\n", out), (True, None))
        self.assertEqual(parse.output_matches("exit status 1\nFAIL kvm.device: ...\n", out), (False, "FAIL kvm.device: ..."))
        self.assertEqual(parse.output_matches("exit status 0\n", out), (False, "exit status 0"))

    def test_no_partial_line_match(self):
        self.assertEqual(parse.output_matches("status 1", "exit status 1\n"), (False, "status 1"))
        self.assertEqual(parse.output_matches("regex chars (.*) are literal", "regex chars xx are literal\n"),
                         (False, "regex chars (.*) are literal"))


class RunBlockTest(unittest.TestCase):
    def judge(self, markdown):
        (block,) = parse.parse("d.md", markdown)
        with tempfile.TemporaryDirectory() as cwd:
            return run.run_block(block, cwd, lambda text: None)

    def test_exit_status_and_output(self):
        ok = self.judge(doc("<!-- doctest: run -->", "```sh", "echo one; echo two", "```",
                            "<!-- doctest: output -->", "```text", "one", "t...", "```"))
        self.assertEqual(ok.status, "passed", ok.detail)
        wrong = self.judge(doc("<!-- doctest: run -->", "```sh", "echo one", "```",
                               "<!-- doctest: output -->", "```text", "two", "```"))
        self.assertEqual(wrong.status, "failed")
        self.assertIn("no line matches 'two'", wrong.detail)

    def test_a_failing_command_fails_the_block_unless_documented(self):
        failed = self.judge(doc("<!-- doctest: run -->", "```sh", "false", "echo after", "```"))
        self.assertEqual(failed.status, "failed")
        self.assertIn("exit status 1, documented 0", failed.detail)
        documented = self.judge(doc("<!-- doctest: run exit=3 -->", "```sh", "exit 3", "```"))
        self.assertEqual(documented.status, "passed", documented.detail)

    def test_each_checks_every_command(self):
        each = self.judge(doc("<!-- doctest: run each exit=0,1 -->", "```sh", "false", "true", "exit 2", "```"))
        self.assertEqual(each.status, "failed")
        self.assertIn("'exit 2': exit status 2", each.detail)

    def test_timeout(self):
        slow = self.judge(doc("<!-- doctest: run timeout=1 -->", "```sh", "sleep 30", "```"))
        self.assertEqual(slow.status, "failed")
        self.assertIn("timed out after 1 s", slow.detail)


class ExitStatusTest(unittest.TestCase):
    def results(self, *statuses):
        (block,) = parse.parse("d.md", doc("<!-- doctest: run -->", "```sh", "true", "```"))
        return [run.Result(block, s) for s in statuses]

    def test_a_run_of_no_block_is_skipped_not_passed(self):
        self.assertEqual(run.exit_status(self.results("not-run", "not-run")), run.NOTHING_RAN)
        self.assertEqual(run.exit_status(self.results()), run.NOTHING_RAN)
        self.assertEqual(run.exit_status(self.results("not-run", "passed")), 0)
        self.assertEqual(run.exit_status(self.results("passed", "failed")), 1)
        self.assertEqual(run.exit_status(self.results("not-run", "unmarked")), 1)


if __name__ == "__main__":
    unittest.main()
