package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sample is one metric value printed by one run.
type Sample struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// RunResult is what one execution of one script produced.
type RunResult struct {
	Workload   string   `json:"workload"`
	Impl       string   `json:"impl"` // "mpjs" or "python"
	Variant    string   `json:"variant,omitempty"`
	Round      int      `json:"round"`
	Position   int      `json:"position"` // order within the workload's turn in the round
	Command    []string `json:"command"`
	WallSecs   float64  `json:"wall_seconds"`
	ExitCode   int      `json:"exit_code"`
	Err        string   `json:"error,omitempty"`
	StderrTail string   `json:"stderr_tail,omitempty"`
	StdoutTail string   `json:"stdout_tail,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
	Metrics    []Sample `json:"metrics"`
}

// OK reports whether the run succeeded.
func (r *RunResult) OK() bool { return r.Err == "" }

// Runner is the name of the side this run belongs to: "mpjs", "python" or
// "python@VARIANT".
func (r *RunResult) Runner() string { return runnerName(r.Impl, r.Variant) }

func runnerName(impl, variant string) string {
	if variant == "" {
		return impl
	}
	return impl + "@" + variant
}

// validUnits lists the units a METRIC line may use.
var validUnits = map[string]bool{"ms": true, "us": true, "MB": true, "ops/s": true, "MB/s": true, "x": true, "count": true}

// parseMetricLine parses "METRIC <name> <value> <unit>".
func parseMetricLine(line string) (Sample, error) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "METRIC" {
		return Sample{}, fmt.Errorf("malformed line %q: want `METRIC <name> <value> <unit>`", line)
	}
	v, err := strconv.ParseFloat(f[2], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Sample{}, fmt.Errorf("malformed value in %q", line)
	}
	if !validUnits[f[3]] {
		return Sample{}, fmt.Errorf("unknown unit %q in %q (want ms us MB ops/s MB/s x count)", f[3], line)
	}
	return Sample{Name: f[1], Value: v, Unit: f[3]}, nil
}

// scriptRun holds the state of one script execution while it runs.
type scriptRun struct {
	res     *RunResult
	suffix  string // "@VARIANT" appended to metric names, or ""
	pid     int    // the script's pid, also its process group
	stdin   io.Writer
	outTail tail
	seen    map[string]bool
	failure string // first protocol error
}

// runScript executes argv in dir with a timeout, parses its stdout protocol
// and never hangs: on timeout or cancellation the script's whole process
// group is killed, and pipes held open by stray grandchildren are abandoned
// after a grace delay.
func runScript(ctx context.Context, dir string, argv []string, timeout time.Duration, res *RunResult) {
	res.Command = argv
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	errTail := &tail{max: 8 << 10}
	cmd.Stderr = errTail
	pr, pw := io.Pipe()
	cmd.Stdout = pw
	stdin, err := cmd.StdinPipe()
	if err != nil {
		res.Err = err.Error()
		return
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		res.Err = fmt.Sprintf("cannot start: %v", err)
		res.ExitCode = -1
		return
	}
	sr := &scriptRun{res: res, pid: cmd.Process.Pid, stdin: stdin, seen: map[string]bool{}, outTail: tail{max: 4 << 10}}
	if res.Variant != "" {
		sr.suffix = "@" + res.Variant
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sr.readLoop(ctx, pr)
	}()

	waitErr := cmd.Wait()
	res.WallSecs = time.Since(start).Seconds()
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancelled := ctx.Err() != nil && !timedOut
	cancel() // stops an RSS measurement still in progress
	pw.Close()
	<-done
	if w := reapGroup(sr.pid); w != "" {
		res.Warnings = append(res.Warnings, w)
	}

	res.ExitCode = cmd.ProcessState.ExitCode()
	res.StderrTail = lastLines(errTail.String(), 12)
	res.StdoutTail = lastLines(sr.outTail.String(), 6)
	switch {
	case timedOut:
		res.Err = fmt.Sprintf("timed out after %v (process group killed)", timeout)
	case cancelled:
		res.Err = "interrupted"
	case waitErr != nil && !errors.Is(waitErr, exec.ErrWaitDelay):
		res.Err = waitErr.Error()
	case sr.failure != "":
		res.Err = sr.failure
	case len(res.Metrics) == 0:
		res.Err = "printed no METRIC line"
	}
}

// readLoop consumes the script's stdout until EOF.
func (sr *scriptRun) readLoop(ctx context.Context, r io.Reader) {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			sr.handleLine(ctx, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			return
		}
	}
}

func (sr *scriptRun) fail(format string, args ...any) {
	if sr.failure == "" {
		sr.failure = fmt.Sprintf(format, args...)
	}
}

func (sr *scriptRun) add(s Sample) {
	if !strings.Contains(s.Name, "@") {
		s.Name += sr.suffix
	}
	if sr.seen[s.Name] {
		sr.fail("metric %s printed twice", s.Name)
		return
	}
	sr.seen[s.Name] = true
	sr.res.Metrics = append(sr.res.Metrics, s)
}

func (sr *scriptRun) handleLine(ctx context.Context, line string) {
	switch {
	case strings.HasPrefix(line, "METRIC"):
		s, err := parseMetricLine(line)
		if err != nil {
			sr.fail("%v", err)
			return
		}
		sr.add(s)
	case strings.HasPrefix(line, "RSSPID"):
		f := strings.Fields(line)
		if len(f) != 3 {
			sr.fail("malformed line %q: want `RSSPID <pid> <metric>`", line)
			return
		}
		pid, err := strconv.Atoi(f[1])
		if err != nil || pid <= 0 {
			sr.fail("malformed pid in %q", line)
			return
		}
		m, warn, err := measureRSS(ctx, pid, sr.pid)
		if warn != "" {
			sr.res.Warnings = append(sr.res.Warnings, warn)
		}
		if err != nil {
			sr.fail("RSSPID %d: %v", pid, err)
		} else {
			sr.add(Sample{Name: f[2], Value: float64(m.rssKB) / 1024, Unit: "MB"})
			if m.pssKB >= 0 {
				sr.add(Sample{Name: f[2] + "_pss", Value: float64(m.pssKB) / 1024, Unit: "MB"})
			}
		}
		// Release the process whatever happened, so the script can finish.
		if isDescendant(pid, sr.pid) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
		_, _ = io.WriteString(sr.stdin, "\n")
	default:
		sr.outTail.Write([]byte(line + "\n"))
	}
}

// reapGroup makes sure nothing of a finished script's process group is left
// running: it waits up to a second for stragglers, then kills them. Zombies
// do not count (an orphan's zombie waits for init, which may be slow to reap).
func reapGroup(pgid int) string {
	for i := 0; i < 20; i++ {
		if len(liveGroupMembers(pgid)) == 0 {
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
	left := liveGroupMembers(pgid)
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	if len(left) == 0 {
		return ""
	}
	return fmt.Sprintf("%d process(es) of the script still ran 1s after it ended (%s); killed them",
		len(left), strings.Join(left, ", "))
}

// tail is an io.Writer that keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var keep []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			keep = append(keep, l)
		}
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
