package main

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mpjs/internal/syncbuf"
)

// fdSlack is how far above its warm-up baseline the host's descriptor count
// may go at a progress line. What is legitimately open then does not grow
// with the number of processes run so far: a child being started (its
// channel, its pidfd) and spares booting (four at most, with the same). A
// leak of one descriptor per process passes it within a few progress lines
// (50 or 30 processes apart).
const fdSlack = 16

// leakRun is one run of TestNoLeaks.
type leakRun struct {
	script string // in testdata/faults
	warmup int    // progress lines before the baseline is taken
	// check looks at the JSON after "done".
	check func(t *testing.T, done map[string]int)
}

// TestNoLeaks runs long scripts (SPEC §13: "A long script that starts and
// joins thousands of processes keeps a flat number of open files") and
// checks that the host's open descriptors stay flat, and that nothing is
// left in /dev/shm or TMPDIR and no process survives when the run ends.
//
// The 300 processes of the second script run in waves of 30, each joined
// before the next: the descriptor count is sampled between waves, when no
// child runs, so every sample sees the same number of live processes and
// any growth is a leak; and 300 -race children at once would need several
// gigabytes on a machine other tests share.
func TestNoLeaks(t *testing.T) {
	runs := map[string]leakRun{
		"sequential": {script: "leak_seq.js", warmup: 2, check: func(t *testing.T, done map[string]int) {
			if done["processes"] != 1000 {
				t.Errorf("ran %d processes, want 1000", done["processes"])
			}
		}},
		"killed": {script: "leak_killed.js", warmup: 2, check: func(t *testing.T, done map[string]int) {
			if done["processes"] != 300 {
				t.Errorf("ran %d processes, want 300", done["processes"])
			}
		}},
		"waves": {script: "leak_waves.js", warmup: 2, check: func(t *testing.T, done map[string]int) {
			want := map[string]int{"processes": 300, "results": 300, "wrong": 0, "extra": 0, "total": 300, "sum": 299 * 300 / 2}
			for k, v := range want {
				if done[k] != v {
					t.Errorf("%s = %d, want %d (all: %v)", k, done[k], v, done)
				}
			}
		}},
	}
	for name, r := range runs {
		t.Run(name, func(t *testing.T) { checkLeaks(t, r) })
	}
}

func checkLeaks(t *testing.T, r leakRun) {
	shmBefore := shmEntries(t)
	tmp := t.TempDir()
	var stderr syncBuffer
	cmd, sc := runMPJS(t, mpjsRun{Args: []string{"testdata/faults/" + r.script}, Env: []string{"TMPDIR=" + tmp}, Stderr: &stderr})
	pid := cmd.Process.Pid
	const limit = 3 * time.Minute // a hang; the run takes seconds
	var hung atomic.Bool
	timer := time.AfterFunc(limit, func() { hung.Store(true); syscall.Kill(-pid, syscall.SIGKILL) })
	defer timer.Stop()

	var samples []int
	var done string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "progress "):
			samples = append(samples, openFDs(t, pid))
		case strings.HasPrefix(line, "done "):
			done = strings.TrimPrefix(line, "done ")
		default:
			t.Logf("stdout: %s", line)
		}
	}
	err := cmd.Wait()
	timer.Stop()
	if hung.Load() {
		t.Fatalf("the run did not end within %v (killed); stderr:\n%s", limit, stderr.String())
	}
	if err != nil {
		t.Fatalf("mpjs %s: %v; stderr:\n%s", r.script, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("unexpected stderr:\n%s", stderr.String())
	}
	var counts map[string]int
	if err := json.Unmarshal([]byte(done), &counts); err != nil {
		t.Fatalf("no result line (done %q): %v", done, err)
	}
	r.check(t, counts)

	if len(samples) <= r.warmup {
		t.Fatalf("only %d progress lines", len(samples))
	}
	base := samples[0]
	for _, n := range samples[:r.warmup] {
		base = min(base, n)
	}
	peak := 0
	for _, n := range samples[r.warmup:] {
		peak = max(peak, n)
	}
	t.Logf("host descriptors: baseline %d (after warm-up), max %d after it; all samples %v", base, peak, samples)
	if peak > base+fdSlack {
		t.Errorf("the host's open descriptors grew from %d to %d (more than %d above the baseline): a leak; samples %v", base, peak, fdSlack, samples)
	}
	waitGroupGone(t, pid, 5*time.Second)
	checkNoLeftovers(t, shmBefore, tmp)
}

// syncBuffer takes the writes of exec's copying goroutine and the test's
// reads.
type syncBuffer = syncbuf.Buffer
