"""Unit tests of tools/bench/suite: statistics, each benchmark's parser, the JSON shape,
the markdown and (where gnuplot is installed) the charts, on made-up outputs."""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tools", "bench"))
from suite import charts, collect, main, report, stats  # noqa: E402


class Stats(unittest.TestCase):
    def test_median_min_max_of_odd_and_even_counts(self):
        s = stats.summarize([5, 1, 3])
        self.assertEqual((s["median"], s["min"], s["max"], s["n"], s["failed"]), (3, 1, 5, 3, 0))
        self.assertEqual(stats.summarize([4, 1, 3, 2])["median"], 2.5)

    def test_not_reached_values_count_as_failed(self):
        s = stats.summarize([-1, None, 7])
        self.assertEqual((s["median"], s["n"], s["failed"]), (7, 1, 2))
        empty = stats.summarize([-1])
        self.assertIsNone(empty["median"])
        self.assertEqual(empty["failed"], 1)

    def test_ratio_of_medians(self):
        self.assertEqual(stats.ratio(stats.summarize([2, 4, 6]), stats.summarize([8])), 0.5)
        self.assertIsNone(stats.ratio(stats.summarize([]), stats.summarize([8])))
        self.assertIsNone(stats.ratio(stats.summarize([1]), stats.summarize([0])))

    def test_figure_has_a_ratio_per_peer(self):
        f = stats.figure("x", "ms", "lower", {"hull": stats.summarize([1]), "crun": stats.summarize([4]),
                                              "runc": stats.summarize([2])})
        self.assertEqual(f["ratios"], {"hull/crun": 0.25, "hull/runc": 0.5})


class Parsers(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def vmm_boot_file(self):
        lines = []
        for rnd, (h, q) in enumerate([(400, 2000), (600, 3000), (500, 2500)], 1):
            lines.append({"round": rnd, "vmm": "hull", "what": "api", "result": {"api_ready_ms": h, "rss_anon_kib": 220}})
            lines.append({"round": rnd, "vmm": "qemu", "what": "api", "result": {"api_ready_ms": q, "rss_anon_kib": 8000}})
            lines.append({"round": rnd, "vmm": "hull", "what": "boot", "result": {"marker_ms": h * 10, "exit_ms": h * 11}})
            lines.append({"round": rnd, "vmm": "qemu", "what": "boot", "result": {"marker_ms": -1, "exit_ms": q * 11}})
        lines.append({"round": 0, "vmm": "hull", "what": "memory",
                      "result": {"rss_kib": 44000, "guest_resident_kib": 37000, "vmm_overhead_kib": 7000}})
        return self.write("vmm.jsonl", "\n".join(json.dumps(x) for x in lines) + "\nnot json\n{broken\n")

    def test_vmm_boot(self):
        r = collect.vmm_boot(self.vmm_boot_file())
        figs = {f["id"]: f for f in r["figures"]}
        self.assertEqual(figs["vmm_api_ready"]["values"]["hull"]["median"], 500)
        self.assertEqual(figs["vmm_api_ready"]["ratios"]["hull/qemu"], 0.2)
        self.assertEqual(figs["vmm_init_marker"]["values"]["qemu"]["failed"], 3)
        self.assertIsNone(figs["vmm_init_marker"]["ratios"]["hull/qemu"])
        self.assertEqual(figs["vmm_overhead"]["values"]["hull"]["median"], 7000)
        self.assertEqual(r["malformed_lines"], 1)

    def test_agent_start(self):
        path = self.write("agent.txt", "ENV l1_kernel=6.1 crun=crun_1.8\nWARMUP agent 99\nRUN agent 10\nRUN agent 30\n"
                                       "RUN crun 5\nRUN runc 20\nRUN runc x\nRSS idle 4096\nRSS_AFTER busy 8192\n")
        r = collect.agent_start(path)
        f = r["figures"][0]
        self.assertEqual(f["values"]["hull"]["median"], 20)
        self.assertEqual(f["ratios"], {"hull/crun": 4.0, "hull/runc": 1.0})
        self.assertEqual(r["env"]["l1_kernel"], "6.1")
        self.assertEqual(r["malformed_lines"], 1)
        self.assertEqual([g["id"] for g in r["figures"][1:]], ["agent_rss_idle_kib"])

    def test_container_start_and_shim_phases(self):
        doc = {"start": {"hull": {"rounds_ms": [9000, None, 11000]}, "runc": {"rounds_ms": [3000, 3000, 3000]},
                         "crun": {"rounds_ms": [2000, 2000, 2000]}},
               "memory": {"hull": {"pss_kib": 81920, "procs": []}, "runc": {"pss_kib": 18432}},
               "l1": {"l1_kernel": "6.1"}}
        res = self.write("cs.json", json.dumps(doc))
        def start(agent_ms):
            return ("shim log: msg=\"microVM configured and started (hull-vmm spawned, API, InstanceStart) (900 ms)\"\n"
                    f"shim log: msg=\"guest agent reachable (kernel boot, init, agent listening) ({agent_ms} ms)\"\n"
                    "shim log: msg=\"container created in the guest (300 ms)\"\n")
        # warm-up, three rounds, then the memory step's pod: only the rounds count
        log = start(99999) + start(4000) + start(5000) + start(6000) + start(1) + "unrelated (77 ms)\n"
        r = collect.container_start(res, self.write("cs.log", log))
        figs = {f["id"]: f for f in r["figures"]}
        self.assertEqual(figs["ctr_run"]["values"]["hull"]["median"], 10000)
        self.assertEqual(figs["ctr_run"]["values"]["hull"]["failed"], 1)
        self.assertEqual(figs["ctr_run"]["ratios"]["hull/crun"], 5.0)
        self.assertEqual(figs["pod_pss"]["values"]["crun"]["n"], 0)
        self.assertEqual(r["hull_phases_ms"]["agent"]["samples"], [4000, 5000, 6000])
        self.assertEqual(r["hull_phases_ms"]["stop"]["n"], 0)

    def test_cri(self):
        doc = {"one_pod": {"hull": {"values_ms": [20000, None, 30000, 25000]}, "runc": {"values_ms": [5000, 5000, 5000]}},
               "parallel": {"hull": {"pods": 10, "all_ready": {"values_ms": [90000, 110000]},
                                     "each": {"values_ms": [50000, 60000, 70000]}, "pss_kib_per_pod": [80000, None]},
                            "runc": {"pods": 10, "all_ready": {"values_ms": [20000]}, "each": {"values_ms": []},
                                     "pss_kib_per_pod": [8000]}},
               "memory": {"hull": {"pss_kib": 76000}, "runc": {"pss_kib": 7600}},
               "l1": {"l1_kernel": "6.1"}}
        r = collect.cri(self.write("cri.json", json.dumps(doc)))
        figs = {f["id"]: f for f in r["figures"]}
        self.assertEqual(figs["cri_pod_ready"]["values"]["hull"]["median"], 25000)
        self.assertEqual(figs["cri_pod_ready"]["values"]["hull"]["failed"], 1)
        self.assertEqual(figs["cri_pod_ready"]["ratios"]["hull/runc"], 5.0)
        self.assertEqual(figs["cri_pods_all_ready"]["ratios"]["hull/runc"], 5.0)
        self.assertIn("10 pods at once", figs["cri_pods_all_ready"]["name"])
        self.assertEqual(figs["cri_pods_each_ready"]["values"]["runc"]["n"], 0)
        self.assertEqual(figs["cri_pod_pss"]["ratios"]["hull/runc"], 10.0)
        self.assertEqual(figs["cri_pods_pss_per_pod"]["values"]["hull"]["failed"], 1)
        self.assertEqual(r["env"]["l1_kernel"], "6.1")

    def test_virtio(self):
        path = self.write("virtio.txt", "RESULT hull blk_seq_read_mibs 200\nRESULT qemu blk_seq_read_mibs 100\n"
                                        "RESULT hull vsock_h2g_mibs nan\nRESULT qemu vsock_h2g_mibs 50\ngarbage\n")
        figs = {f["id"]: f for f in collect.virtio(path)["figures"]}
        self.assertEqual(figs["blk_seq_read_mibs"]["ratios"]["hull/qemu"], 2.0)
        self.assertEqual(figs["blk_seq_read_mibs"]["better"], "higher")
        self.assertEqual(figs["vsock_h2g_mibs"]["values"]["hull"]["n"], 0)

    def oci_file(self):
        rows = [{"what": "env", "l1_kernel": "6.1", "mode": "nested"},
                {"what": "run", "runtime": "hull", "round": 0, "result": {"marker_ms": 99999, "exit_ms": 1}},
                {"what": "run", "runtime": "hull", "round": 1, "result": {"marker_ms": 8000, "exit_ms": 9000}},
                {"what": "run", "runtime": "crun", "round": 1, "result": {"marker_ms": 1000, "exit_ms": 1100}},
                {"what": "scale", "runtime": "hull", "count": 3, "all_ready_ms": 20000, "each_ms": [15000, 19000],
                 "failed": 1, "pss_kib": 163840, "rss_kib": 170000, "processes": 4},
                {"what": "scale", "runtime": "hull", "count": 1, "all_ready_ms": 9000, "each_ms": [8800],
                 "failed": 0, "pss_kib": 81920, "rss_kib": 85000, "processes": 2},
                {"what": "scale", "runtime": "crun", "count": 1, "all_ready_ms": 1000, "each_ms": [900],
                 "failed": 0, "pss_kib": 2048, "rss_kib": 3000, "processes": 2},
                {"what": "scale", "runtime": "crun", "count": "two"}]
        return self.write("oci.jsonl", "\n".join(json.dumps(x) for x in rows) + "\n")

    def test_oci_run_drops_the_warm_up_and_sorts_the_curve(self):
        r = collect.oci_run(self.oci_file())
        first = {f["id"]: f for f in r["figures"]}["oci_run_first_output"]
        self.assertEqual(first["values"]["hull"]["samples"], [8000])
        self.assertEqual(first["ratios"]["hull/crun"], 8.0)
        self.assertEqual([(s["runtime"], s["count"]) for s in r["scaling"]], [("crun", 1), ("hull", 1), ("hull", 3)])
        self.assertEqual(r["scaling"][2]["each_ms"]["median"], 17000)
        self.assertEqual(r["malformed_lines"], 1)

    def test_document_markdown_and_charts(self):
        doc = {"schema": main.SCHEMA, "command": "tools/bench/run --quick", "duration_s": 60, "build_dir": "build",
               "kvm": "nested", "loadavg_at_end": [1, 2, 3],
               "machine": {"date": "2026-11-23T17:00:00Z", "cpu": "cpu", "cores": 2, "versions": {}},
               "benchmarks": {"vmm-boot": dict(collect.vmm_boot(self.vmm_boot_file()), command="vmm-boot", status="ok",
                                               duration_s=1, rc=0),
                              "scaling": dict(collect.oci_run(self.oci_file()), command="oci-run", status="ok",
                                              duration_s=1, rc=0)}}
        json.loads(json.dumps(doc))  # the document is plain JSON
        md = os.path.join(self.dir, "results.md")
        drawn = {}
        if shutil.which("gnuplot"):
            drawn, errors = charts.draw_all(doc, self.dir, self.dir)
            self.assertEqual(errors, [])
            for name in ("timeline", "latency", "memory", "scaling"):
                self.assertTrue(drawn[name], name)
                with open(drawn[name], "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        else:
            print("gnuplot not installed: charts not checked (apt-get install gnuplot-nox)")
        text = report.render(doc, drawn, md)
        self.assertIn("hull/qemu = **0.20**", text)
        # per running sandbox: the failed start holds no memory
        self.assertIn("| hull | 3 | 20.00 | 17.00 (15.00-19.00) | 1 | 160.0 | 80.0 |", text)
        if drawn:
            self.assertIn("![Scaling](bench-scaling.png)", text)

    def test_no_data_draws_no_chart(self):
        drawn, errors = charts.draw_all({"benchmarks": {}}, self.dir, self.dir)
        self.assertEqual((drawn, errors), ({"timeline": None, "latency": None, "memory": None, "scaling": None}, []))


class Arguments(unittest.TestCase):
    def test_quick_and_only(self):
        o = main.parse_args(["--quick", "--only", "vmm-boot,scaling"])
        self.assertEqual((o.rounds, o.names, o.counts), (1, ("vmm-boot", "scaling"), [1, 2]))
        o = main.parse_args([])
        self.assertEqual((o.rounds, o.counts, o.names), (5, [1, 2, 5, 10, 20, 50], main.NAMES))

    def test_bad_arguments_exit_2(self):
        for argv in (["--only", "nope"], ["--counts", "1,x"], ["--rounds", "0"], ["--counts", "0"]):
            with self.assertRaises(SystemExit) as e:
                main.parse_args(argv)
            self.assertEqual(e.exception.code, 2, argv)

    def test_merge_needs_only(self):
        for argv in (["--merge"], ["--merge", "--only", "vmm-boot", "--from-json", "x.json"]):
            with self.assertRaises(SystemExit) as e:
                main.parse_args(argv)
            self.assertEqual(e.exception.code, 2, argv)


class Merge(unittest.TestCase):
    """--merge re-runs one benchmark into an earlier run's results and says so."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.build, self.out = os.path.join(self.dir, "build"), os.path.join(self.dir, "out")
        os.makedirs(os.path.join(self.build, "bin"))
        os.makedirs(self.out)
        for tool in ("hull", "hull-vmm"):
            path = os.path.join(self.build, "bin", tool)
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexit 1\n")
            os.chmod(path, 0o755)
        for name, fake in (("run_one", lambda name, o, work: {"command": f"new {name}", "status": "ok",
                                                              "started": "2026-11-23T23:30:00Z", "duration_s": 2,
                                                              "figures": []}),
                           ("kvm_mode", lambda build: "nested")):
            self.addCleanup(setattr, main, name, getattr(main, name))
            setattr(main, name, fake)

    def test_only_the_named_benchmark_is_replaced(self):
        earlier = {"schema": main.SCHEMA, "command": "tools/bench/run", "duration_s": 600, "loadavg_at_end": [1, 1, 1],
                   "build_dir": "build", "kvm": "nested",
                   "machine": {"date": "2026-11-23T22:00:00Z", "cpu": "cpu", "cores": 2, "versions": {}},
                   "benchmarks": {n: {"command": f"old {n}", "status": "ok", "started": "2026-11-23T22:00:00Z",
                                      "duration_s": 1, "figures": []} for n in ("vmm-boot", "scaling")}}
        with open(os.path.join(self.out, "benchmark-results.json"), "w") as f:
            json.dump(earlier, f)
        rc = main.main(["--only", "scaling", "--merge", "--build", self.build, "--out-dir", self.out, "--quiet"])
        self.assertEqual(rc, 0)
        with open(os.path.join(self.out, "benchmark-results.json")) as f:
            doc = json.load(f)
        self.assertEqual(list(doc["benchmarks"]), ["vmm-boot", "scaling"])  # order kept
        self.assertEqual(doc["benchmarks"]["vmm-boot"]["command"], "old vmm-boot")
        self.assertEqual(doc["benchmarks"]["scaling"]["command"], "new scaling")
        self.assertEqual((doc["duration_s"], doc["machine"]["date"]), (600, "2026-11-23T22:00:00Z"))
        self.assertEqual([r["benchmarks"] for r in doc["reruns"]], [["scaling"]])
        self.assertIn("--merge", doc["reruns"][0]["command"])
        with open(os.path.join(self.out, "benchmark-results.md")) as f:
            md = f.read()
        self.assertIn("- scaling: measured by a separate run, `tools/bench/run --only scaling --merge", md)
        self.assertIn("`new scaling` — ok, 2 s from 2026-11-23T23:30:00Z", md)

    def test_merge_from_another_run(self):
        def results(path, date, names):
            with open(path, "w") as f:
                json.dump({"schema": main.SCHEMA, "command": f"tools/bench/run {date}", "duration_s": 60,
                           "loadavg_at_end": [1, 1, 1], "build_dir": "build", "kvm": "nested",
                           "machine": {"date": date, "cpu": "cpu", "cores": 2, "versions": {}},
                           "benchmarks": {n: {"command": f"{date} {n}", "status": "ok", "duration_s": 1,
                                              "figures": []} for n in names}}, f)
        results(os.path.join(self.out, "benchmark-results.json"), "first", ["scaling"])
        beside = os.path.join(self.dir, "beside.json")
        results(beside, "second", ["virtio", "vmm-boot"])
        rc = main.main(["--merge-from", beside, "--out-dir", self.out, "--note", "ran beside the first", "--quiet"])
        self.assertEqual(rc, 0)
        with open(os.path.join(self.out, "benchmark-results.json")) as f:
            doc = json.load(f)
        self.assertEqual(list(doc["benchmarks"]), ["vmm-boot", "virtio", "scaling"])  # the suite's order
        self.assertEqual(doc["benchmarks"]["virtio"]["command"], "second virtio")
        self.assertEqual((doc["command"], doc["reruns"][0]["command"]), ("tools/bench/run first", "tools/bench/run second"))
        with open(os.path.join(self.out, "benchmark-results.md")) as f:
            self.assertIn("- virtio, vmm-boot: measured by a separate run, `tools/bench/run second`, on second, 1.0 min, "
                          "load average None -> [1, 1, 1], hull commit None; ran beside the first", f.read())
        with self.assertRaises(SystemExit):
            main.parse_args(["--merge-from", beside, "--only", "virtio"])

    def test_no_earlier_results_is_an_error(self):
        rc = main.main(["--only", "scaling", "--merge", "--build", self.build, "--out-dir", self.out, "--quiet"])
        self.assertEqual(rc, 1)
        self.assertFalse(os.path.exists(os.path.join(self.out, "benchmark-results.md")))


if __name__ == "__main__":
    unittest.main()
