package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startMPJS runs this test binary as the mpjs command on a script, in its own
// process group, and returns it with a line scanner on its stdout.
func startMPJS(t *testing.T, script string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd, out := startMPJSPipe(t, script)
	return cmd, bufio.NewScanner(out)
}

// startMPJSPipe is startMPJS with the plain stdout pipe.
func startMPJSPipe(t *testing.T, script string) (*exec.Cmd, io.Reader) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "s.js")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, file)
	cmd.Args[0] = "mpjs" // testscript.Main runs main() for this name
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// childPids reads "pid N" lines until it has n of them.
func childPids(t *testing.T, sc *bufio.Scanner, n int) []int {
	t.Helper()
	var pids []int
	for len(pids) < n && sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "pid "); ok {
			pid, err := strconv.Atoi(rest)
			if err != nil {
				t.Fatalf("bad line %q", sc.Text())
			}
			pids = append(pids, pid)
		}
	}
	if len(pids) < n {
		t.Fatalf("got %d child pids, want %d (%v)", len(pids), n, sc.Err())
	}
	return pids
}

// waitGone waits until every pid has exited, failing after limit.
func waitGone(t *testing.T, pids []int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue // already gone
		}
		if err != nil {
			t.Fatalf("pidfd_open %d: %v", pid, err)
		}
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			ms = 0
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if n == 0 {
			t.Fatalf("child %d still alive %v after the host ended", pid, limit)
		}
	}
}

const sleepers = `
function nap() { console.log('pid ' + process.pid); sleep(60) }
new Process({target: nap}).start()
new Process({target: nap, daemon: true}).start()
sleep(60)
`

// Ctrl-C stops the children and the host, which exits 130.
func TestCtrlCStopsEverything(t *testing.T) {
	cmd, sc := startMPJS(t, sleepers)
	pids := childPids(t, sc, 2)
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil { // the whole group, as a terminal does
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("host ended with %v, want exit status 130", err)
	}
	waitGone(t, pids, time.Second)
}

// A host killed with SIGKILL takes its children with it within a second.
func TestNoOrphansWhenHostIsKilled(t *testing.T) {
	cmd, sc := startMPJS(t, sleepers)
	pids := childPids(t, sc, 2)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	waitGone(t, pids, time.Second)
}
