// Command bench runs workloads side by side in mpjs and in CPython's
// multiprocessing, interleaved over several rounds in one run, and prints the
// medians, the mpjs/python ratios and whether each declared target is met.
//
// Usage (from the repository root):
//
//	go build -o bin/mpjs . && go run ./bench -mpjs bin/mpjs [flags] [workload-regexp ...]
//	go run ./bench -python-only process_start     # prove the Python side alone
//
// The table goes to stdout (plain text, ready to paste into
// docs/benchmarks.md inside a code block); progress and per-run results go to
// stderr. Exit status: 0 when every run succeeded (MISS does not fail), 1 when
// a script failed or timed out (its rows say ERR), 2 on a usage or setup
// error, 130 when interrupted.
//
// # Workloads
//
// A workload is a pair of files embedded from workloads/: NAME.js (run as
// `mpjs NAME.js`) and NAME.py (run as `python NAME.py [VARIANT]`, with the
// real interpreter resolved once through `python3 -c 'import sys;
// print(sys.executable)'`, never the PATH shim). The scripts are written to a
// temporary directory, which is also their working directory, and removed at
// exit. Each script measures itself, so interpreter start-up is not counted.
//
// The leading // comment block of NAME.js declares the comparison, as data:
//
//	// variants: fork spawn
//	// target: start_join_seq <= 1.0 * py:start_join_seq@fork
//	// target: start_join_seq <= 0.2 * py:start_join_seq@spawn
//
// "variants" lists the arguments the .py is run with, once each per round
// (Python start methods); a metric NAME printed by a variant run is recorded
// as NAME@VARIANT. Without variants the .py runs once per round without
// argument and its metrics keep their names. A "target" line reads "mpjs
// metric, <= or >=, factor, * py:python metric": ratio = mpjs / python, and
// the target holds when ratio <= factor (or >= factor). For ms, us and MB
// lower is better, so their targets use <=; for ops/s and MB/s higher is
// better and targets use >=; x and count have no direction of their own.
//
// # Script protocol (stdout, one line each)
//
//	METRIC <name> <value> <unit>   unit: ms us MB ops/s MB/s x count
//	RSSPID <pid> <name>            ask the harness to measure a process
//
// For RSSPID the harness checks that pid descends from the script, reads
// VmRSS from /proc/<pid>/status every 50 ms until three reads in a row are
// equal (at most 10 s, else it keeps the last read and warns), and records
// METRIC <name> (VmRSS, MiB) and <name>_pss (Pss from
// /proc/<pid>/smaps_rollup, MiB). It then releases the process: it sends it
// SIGTERM and writes a newline on the script's stdin. A script therefore
// starts an idle child, prints RSSPID and joins it; that needs no file
// access from JavaScript and treats both languages the same.
//
// Any other line is ignored (its tail is shown if the run fails). A script
// that exits non-zero, prints a malformed METRIC line, prints no METRIC at
// all, or exceeds -timeout fails its run: its process group is killed, its
// metrics show ERR and the notes under the table show its stderr tail.
//
// # Rounds
//
// Each round runs every selected workload once in mpjs and once per Python
// variant; within a workload the order is mpjs, py@v1, py@v2... in rounds
// 1, 3, 5... (even 0-based index) and reversed in rounds 2, 4..., so slow
// drifts of the machine hit both sides. Medians are over the successful
// runs; -json FILE writes the setting, every run with its raw samples, and
// the rows.
package main
