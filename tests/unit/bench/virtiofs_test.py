"""Unit tests of tools/bench/virtiofs's summary (virtiofs-report.py) and the suite's parser of it
(suite.collect.virtiofs), on made-up L1 output: failed or short reads count as failed, never
as numbers; the ratio is virtiofs/erofs."""
import importlib.util
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stdout, redirect_stderr

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "bench")
sys.path.insert(0, BENCH)
from suite import collect, report  # noqa: E402

_spec = importlib.util.spec_from_file_location("virtiofs_report", os.path.join(BENCH, "virtiofs-report.py"))
virtiofs_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(virtiofs_report)

MIB = 1 << 20
TREE = {"what": "tree", "files": 1001, "bytes": 100 * MIB, "large_bytes": 40 * MIB, "small_files": 1000,
        "small_bytes": 60 * MIB, "busybox_bytes": 2000000, "generated_ms": 500}


def vm(fs, rnd, first, large_cs, small_cs, walk_cs, mkfs=None):
    return {"what": "vm", "fs": fs, "round": rnd, "rc": 0, "first_output_ms": first, "mkfs_ms": mkfs,
            "vmm_to_output_ms": first - (mkfs or 0) if first else None, "vmm_exit_ms": 30000,
            "image_bytes": 101 * MIB if fs == "erofs" else None, "mount_to_output_cs": 3,
            "large_cs": large_cs, "small_cs": small_cs, "walk_cs": walk_cs}


class VirtiofsReport(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        rows = [{"what": "env", "l1_kernel": "6.1", "l1_cpus": 1, "l1_mem_kib": 2097152, "mkfs_erofs": "mkfs.erofs 1.5",
                 "tmp_fs": "tmpfs"}, TREE,
                vm("erofs", 0, 99999, 1, 1, 1, mkfs=1),  # the warm-up: never counted
                vm("virtiofs", 0, 1, 1, 1, 1)]
        for rnd, (e, v) in enumerate([(10000, 5000), (12000, 6000), (11000, None)], 1):
            rows.append(vm("erofs", rnd, e, 400, 600, 50, mkfs=2000))   # 10 MiB/s, 10 MiB/s
            rows.append(vm("virtiofs", rnd, v, 800, None if rnd == 2 else 1200, 200))  # 5 MiB/s; one tar failed
        rows.append({"what": "ctr", "fs": "erofs", "round": 1, "rc": 0, "first_output_ms": 20000})
        rows.append({"what": "ctr", "fs": "virtiofs", "round": 1, "rc": 0, "first_output_ms": 15000})
        self.jsonl = os.path.join(self.dir, "rows.jsonl")
        with open(self.jsonl, "w") as f:
            f.write("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def run_report(self):
        out, md = os.path.join(self.dir, "r.json"), os.path.join(self.dir, "r.md")
        with redirect_stdout(io.StringIO()) as text:
            rc = virtiofs_report.main([self.jsonl, "--out", out, "--md", md, "--started", "T"])
        self.assertEqual(rc, 0)
        with open(out) as f:
            return json.load(f), text.getvalue(), out

    def test_summary_counts_timed_rounds_and_failures(self):
        doc, text, _ = self.run_report()
        self.assertEqual(doc["malformed_lines"], 1)
        first = doc["vm"]["first_output_ms"]
        self.assertEqual((first["erofs"]["median"], first["erofs"]["n"]), (11000, 3))
        self.assertEqual((first["virtiofs"]["median"], first["virtiofs"]["n"], first["virtiofs"]["failed"]), (5500, 2, 1))
        self.assertEqual(doc["vm"]["large_read_mibs"]["erofs"]["median"], 10.0)
        self.assertEqual(doc["vm"]["large_read_mibs"]["virtiofs"]["median"], 5.0)
        self.assertEqual(doc["vm"]["small_files_mibs"]["virtiofs"]["failed"], 1)
        self.assertEqual(doc["vm"]["small_files_per_s"]["erofs"]["median"], 167)
        self.assertEqual(doc["vm"]["walk_ms"]["virtiofs"]["median"], 2000)
        self.assertNotIn("virtiofs", doc["vm"]["mkfs_ms"])
        self.assertEqual(doc["ctr"]["first_output_ms"]["virtiofs"]["median"], 15000)
        self.assertIn("| 0.5 |", text)  # first start: 5500 / 11000
        self.assertIn("through containerd", text)

    def test_nothing_measured_is_an_error(self):
        with open(self.jsonl, "w") as f:
            f.write(json.dumps(TREE) + "\n" + json.dumps(vm("erofs", 1, None, None, None, None)) + "\n")
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
            self.assertEqual(virtiofs_report.main([self.jsonl]), 1)
        self.assertIn("nothing was measured", err.getvalue())

    def test_suite_parser_and_markdown(self):
        _, _, out = self.run_report()
        r = collect.virtiofs(out)
        figs = {f["id"]: f for f in r["figures"]}
        self.assertEqual(figs["virtiofs_first_output"]["ratios"], {"virtiofs/erofs": 0.5})
        self.assertEqual(figs["virtiofs_large_read"]["better"], "higher")
        self.assertEqual(figs["virtiofs_large_read"]["ratios"]["virtiofs/erofs"], 0.5)
        self.assertIn("40 MiB", figs["virtiofs_large_read"]["name"])
        self.assertEqual(figs["virtiofs_small_files"]["values"]["virtiofs"]["failed"], 1)
        self.assertEqual(figs["virtiofs_ctr_first_output"]["ratios"]["virtiofs/erofs"], 0.75)
        table = "\n".join(report.figure_table(r["figures"]))
        self.assertIn("| erofs | 11,000 | 10,000 | 12,000 | 3 | **0.50** |", table)


if __name__ == "__main__":
    unittest.main()
