package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Lines longer than a pipe's atomic write (4 KiB) from several processes
// still come out whole: no line is cut by another process's output.
func TestLongLinesDoNotInterleave(t *testing.T) {
	const lineLen, perProcess = 100_000, 20
	cmd, stdout := startMPJSPipe(t, `
function shout(ch, n) {
  const line = ch.repeat(`+strconv.Itoa(lineLen)+`);
  for (let i = 0; i < n; i++) console.log(line);
}
const ps = ['a', 'b', 'c'].map(ch => new Process({target: shout, args: [ch, `+strconv.Itoa(perProcess)+`]}));
ps.forEach(p => p.start());
shout('m', `+strconv.Itoa(perProcess)+`);
ps.forEach(p => p.join());
`)
	out, err := io.ReadAll(stdout)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mpjs: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	counts := map[byte]int{}
	for i, l := range lines {
		if len(l) != lineLen || strings.Trim(l, l[:1]) != "" {
			t.Fatalf("line %d is broken: %d bytes, starts %.20q", i+1, len(l), l)
		}
		counts[l[0]]++
	}
	for _, ch := range []byte("abcm") {
		if counts[ch] != perProcess {
			t.Errorf("%d lines of %q, want %d", counts[ch], ch, perProcess)
		}
	}
}

// A process killed in the middle of writing a line does not keep the others
// from writing: the host frees the output lock when it reaps the process.
func TestOutputLockFreedWhenWriterDies(t *testing.T) {
	cmd, stdout := startMPJSPipe(t, `
function hog() {
  console.log('pid ' + process.pid);
  console.log('x'.repeat(8 << 20)); // blocks: nobody reads the pipe yet
}
const h = new Process({target: hog});
h.start();
h.join();
for (let i = 0; i < 10; i++) console.log('after ' + i);
`)
	r := bufio.NewReader(stdout)
	first, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the hog's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(first, "pid ")))
	if err != nil {
		t.Fatalf("bad first line %q", first)
	}
	// Wait until the hog is stuck in write(2), holding the lock.
	deadline := time.Now().Add(10 * time.Second)
	for !inWrite(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d never blocked in write", pid)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for one
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mpjs: %v", err)
	}
	// Each line would wait out the lock's 2 s bound were it still held.
	if took := time.Since(killed); took > 8*time.Second {
		t.Errorf("the host's lines took %v after the writer died", took)
	}
	if n := bytes.Count(rest, []byte("after ")); n != 10 {
		t.Errorf("%d 'after' lines, want 10", n)
	}
}

// inWrite reports whether a thread of pid is blocked in the write system call.
func inWrite(pid int) bool {
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/syscall")
		if err != nil {
			continue
		}
		if nr, _, _ := strings.Cut(string(b), " "); nr == strconv.Itoa(syscall.SYS_WRITE) {
			return true
		}
	}
	return false
}
