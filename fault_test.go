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
	return cmd, lineScanner(out)
}

// startMPJSPipe is startMPJS with the plain stdout pipe.
func startMPJSPipe(t *testing.T, script string) (*exec.Cmd, io.Reader) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "s.js")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return runMPJSPipe(t, mpjsRun{Args: []string{file}, Stderr: os.Stderr})
}

// lineScanner scans lines of up to 4 MiB.
func lineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	return sc
}

// mpjsRun says how runMPJS runs mpjs.
type mpjsRun struct {
	Args   []string  // the command line after "mpjs"
	Env    []string  // added to the test's environment
	Stderr io.Writer // the host's (and its children's) stderr
}

// runMPJS starts this test binary as the mpjs command, in its own process
// group (every process of the run is in it: children do not leave it), and
// returns it with a line scanner on its stdout. The race detector's
// one-second sleep at exit is turned off, or every child of a -race run would
// take a second to end. The cleanup kills the whole group.
func runMPJS(t *testing.T, r mpjsRun) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd, out := runMPJSPipe(t, r)
	return cmd, lineScanner(out)
}

// runMPJSPipe is runMPJS with the plain stdout pipe.
func runMPJSPipe(t *testing.T, r mpjsRun) (*exec.Cmd, io.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, r.Args...)
	cmd.Args[0] = "mpjs" // testscript.Main runs main() for this name
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
	cmd.Env = append(cmd.Env, r.Env...)
	cmd.Stderr = r.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
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
		n, err := pollExit(fd, deadline)
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

// pollExit waits until the process of pidfd fd ends or deadline passes; n
// is 0 when it did not end.
func pollExit(fd int, deadline time.Time) (n int, err error) {
	for {
		ms := max(0, int(time.Until(deadline)/time.Millisecond))
		n, err = unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// procStart returns the start time of process pid (clock ticks since boot,
// field 22 of /proc/PID/stat). A pid and its start time name one process
// even after the pid is reused.
func procStart(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')', which is followed by field 3 (state).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return start, err == nil
}

// childrenOf returns the pids of the children of process pid.
func childrenOf(pid int) []int {
	var pids []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread or the process ended
		}
		for _, s := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(s); err == nil {
				pids = append(pids, c)
			}
		}
	}
	return pids
}

// descendants adds every process under pid (children, their children, ...)
// to into, with its start time, and returns into.
func descendants(pid int, into map[int]uint64) map[int]uint64 {
	for _, c := range childrenOf(pid) {
		if start, ok := procStart(c); ok {
			into[c] = start
			descendants(c, into)
		}
	}
	return into
}

// openFDs counts the open descriptors of process pid.
func openFDs(t *testing.T, pid int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("count the descriptors of %d: %v", pid, err)
	}
	return len(ents)
}

// waitProcsGone fails unless every process of procs (pid → start time) has
// ended within limit. A pid that now names another process (another start
// time) counts as ended.
func waitProcsGone(t *testing.T, procs map[int]uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for pid, start := range procs {
		fd, err := unix.PidfdOpen(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			continue
		}
		if err != nil {
			t.Fatalf("pidfd_open %d: %v", pid, err)
		}
		if now, ok := procStart(pid); !ok || now != start {
			unix.Close(fd) // ended, and the pid was reused (or is going)
			continue
		}
		n, err := pollExit(fd, deadline)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("poll pidfd of %d: %v", pid, err)
		}
		if n == 0 {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			t.Errorf("process %d (%q) of the run is still alive %v after the host ended", pid, cmdline, limit)
		}
	}
}

// waitGroupGone fails unless process group pgid (a run's host and all its
// children) is empty within limit.
func waitGroupGone(t *testing.T, pgid int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := syscall.Kill(-pgid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes of the run's group %d are still alive %v after the host ended (kill: %v)", pgid, limit, err)
			return
		}
		time.Sleep(10 * time.Millisecond) // polling the condition
	}
}

// shmEntries lists /dev/shm.
func shmEntries(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/dev/shm")
	if err != nil {
		t.Fatalf("list /dev/shm: %v", err)
	}
	m := map[string]bool{}
	for _, e := range ents {
		m[e.Name()] = true
	}
	return m
}

// checkNoLeftovers fails if /dev/shm holds an entry that could be the run's
// (one that was not there before, and not named as Python's multiprocessing
// names its own: the benchmarks may run Python on this machine at the same
// time), or if the run's TMPDIR is not empty.
func checkNoLeftovers(t *testing.T, shmBefore map[string]bool, tmpdir string) {
	t.Helper()
	for name := range shmEntries(t) {
		if shmBefore[name] || strings.HasPrefix(name, "sem.mp-") || strings.HasPrefix(name, "psm_") || strings.HasPrefix(name, "mp-") {
			continue
		}
		t.Errorf("/dev/shm/%s appeared during the run and is still there", name)
	}
	ents, err := os.ReadDir(tmpdir)
	if err != nil {
		t.Fatalf("list the run's TMPDIR: %v", err)
	}
	for _, e := range ents {
		t.Errorf("the run left %s in its TMPDIR", e.Name())
	}
}
