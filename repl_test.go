package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// The REPL driven through a real pseudo-terminal, as a user types.

// replTerm is an mpjs REPL running in a pseudo-terminal.
type replTerm struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	raw  []byte
	mark int // expect has consumed the text up to here
	done chan struct{}
	code int
}

// startREPL runs this test binary as mpjs, with no arguments, on a terminal.
func startREPL(t *testing.T, home string) *replTerm {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Args[0] = "mpjs" // testscript.Main runs main() for this name
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=xterm")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	r := &replTerm{t: t, cmd: cmd, pty: f, done: make(chan struct{}), code: -1}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			r.mu.Lock()
			r.raw = append(r.raw, buf[:n]...)
			r.mu.Unlock()
			if err != nil {
				break
			}
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			r.code = 0
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
		f.Close()
		if t.Failed() {
			t.Logf("terminal output:\n%s", r.text())
		}
	})
	r.expect(`Welcome to mpjs .*\nType ".help" for more information.\n`)
	r.expect(`mpjs> `)
	return r
}

// escape matches the terminal control sequences liner and the colours use.
var escape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\r|\x07`)

// text is the output so far without control sequences (an unfinished one at
// the end is left out until it is complete).
func (r *replTerm) text() string {
	r.mu.Lock()
	raw := string(r.raw)
	r.mu.Unlock()
	if i := strings.LastIndexByte(raw, 0x1b); i >= 0 && !regexp.MustCompile(`^\x1b\[[0-9;?]*[A-Za-z]`).MatchString(raw[i:]) {
		raw = raw[:i]
	}
	return escape.ReplaceAllString(raw, "")
}

// expect waits until the text after the mark matches re, moves the mark
// past the match and returns the submatches.
func (r *replTerm) expect(re string) []string {
	r.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(20 * time.Second)
	for {
		txt := r.text()
		if m := rx.FindStringSubmatchIndex(txt[r.mark:]); m != nil {
			var subs []string
			for i := 0; i < len(m); i += 2 {
				if m[i] >= 0 {
					subs = append(subs, txt[r.mark+m[i]:r.mark+m[i+1]])
				} else {
					subs = append(subs, "")
				}
			}
			r.mark += m[1]
			return subs
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no %q in the output after:\n%s", re, txt[r.mark:])
		}
		select {
		case <-r.done:
			if !rx.MatchString(r.text()[r.mark:]) {
				r.t.Fatalf("mpjs ended (status %d) without printing %q; after the mark:\n%s", r.code, re, r.text()[r.mark:])
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (r *replTerm) send(s string) {
	r.t.Helper()
	if _, err := r.pty.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// line types a line and waits for the result that matches want, then for
// the next prompt.
func (r *replTerm) line(s, want string) []string {
	r.t.Helper()
	r.send(s + "\r")
	r.expect(regexp.QuoteMeta(s) + `\n`)
	var m []string
	if want != "" {
		m = r.expect(want)
	}
	r.expect(`mpjs> `)
	return m
}

// wait waits for mpjs to end and returns its exit status.
func (r *replTerm) wait() int {
	r.t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(20 * time.Second):
		r.t.Fatalf("mpjs did not end; output:\n%s", r.text())
		return -1
	}
}

// TestREPLProcessAndPool: a function typed over several lines in the REPL,
// with a constant and a class, is a Process target and a Pool function.
func TestREPLProcessAndPool(t *testing.T) {
	r := startREPL(t, t.TempDir())
	r.line("const K = 100", `undefined\n`)
	r.send("function sq(x) {\r")
	r.expect(`\.\.\. `)
	r.send("  return x * x + K\r")
	r.expect(`\.\.\. `)
	r.line("}", `undefined\n`)
	r.line("class Box { constructor(v) { this.v = v } twice() { return 2 * this.v } }", `undefined\n`)
	r.line("function show(n) { console.log('child', mp.currentProcess().name, sq(n), new Box(n).twice()) }", `undefined\n`)
	r.line("p = new Process({target: show, args: [4]}); p.start(); p.join(); p.exitcode",
		`child Process-1 116 8\n0\n`)
	r.line("q = new Process({target: n => console.log('arrow', sq(n)), args: [3]}); q.start(); q.join(); q.exitcode",
		`arrow 109\n0\n`)

	t.Run("pool", func(t *testing.T) {
		parent := r.t
		r.t = t
		defer func() { r.t = parent }()
		kind := r.line("typeof Pool", `'(\w+)'\n`)[1]
		if kind != "function" {
			t.Skipf("Pool is not available in this build (typeof Pool is %q)", kind)
		}
		r.line("const pool = new Pool(2)", `undefined\n`)
		r.line("pool.map(sq, [1, 2, 3, 4])", `\[ 101, 104, 109, 116 \]\n`)
		r.line("pool.map(n => new Box(sq(n)).twice(), [1, 2])", `\[ 202, 208 \]\n`)
		r.line("await pool.mapAsync(sq, [5])", `\[ 125 \]\n`)
		r.line("pool.close(); pool.join()", `undefined\n`)
	})
}

// TestREPLCtrlC: Ctrl-C interrupts a busy loop and the prompt returns; it
// clears a typed line; on an empty prompt it says how to leave, and a second
// one leaves.
func TestREPLCtrlC(t *testing.T) {
	r := startREPL(t, t.TempDir())
	r.send("console.log('spinning'); while (true) {}\r")
	r.expect(`\nspinning\n`) // the loop runs now
	r.send("\x03")
	r.expect(`Uncaught Error: Script execution was interrupted by Ctrl-C\n`)
	if strings.Contains(r.text(), "blocked in a call") {
		t.Fatal("one Ctrl-C did not stop the loop")
	}
	r.expect(`mpjs> `)
	r.line("1 + 1", `^2\n`)

	// A join that would wait for a long child gives way to Ctrl-C too.
	r.send("p = new Process({target: () => sleep(30)}); p.start(); console.log('joining'); p.join()\r")
	r.expect(`\njoining\n`)
	r.send("\x03")
	r.expect(`Uncaught Error: Script execution was interrupted by Ctrl-C\n`)
	r.expect(`mpjs> `)
	r.line("p.isAlive()", `true\n`)
	r.line("p.kill(); p.join(); p.exitcode", `-9\n`)

	// So does a get on an empty queue, and the queue loses nothing: an item
	// put later goes to the next get, not to the one given up.
	r.send("q = new Queue(); console.log('getting'); q.get()\r")
	r.expect(`\ngetting\n`)
	r.send("\x03")
	r.expect(`Uncaught Error: Script execution was interrupted by Ctrl-C\n`)
	r.expect(`mpjs> `)
	r.line("q.put('kept'); q.get()", `'kept'\n`)

	// And a Lock acquired twice (a deadlock, as in Python), and an Event
	// nobody sets; the lock is still usable afterwards.
	for _, input := range []string{"l = new Lock(); l.acquire(); console.log('waiting'); l.acquire()", "e = new Event(); console.log('waiting'); e.wait()"} {
		r.send(input + "\r")
		r.expect(`\nwaiting\n`)
		r.send("\x03")
		r.expect(`Uncaught Error: Script execution was interrupted by Ctrl-C\n`)
		r.expect(`mpjs> `)
	}
	r.line("l.release(); l.acquire(true, 5)", `true\n`)

	r.send("function spin() {\r")
	r.expect(`\.\.\. `)
	r.send("\x03") // leaves the unfinished input
	r.expect(`mpjs> `)
	r.line("typeof spin", `'undefined'\n`)

	r.send("abc")
	r.expect(`abc`)
	r.send("\x03")
	r.expect(`mpjs> `)
	r.line("'after'", `'after'\n`)
	if strings.Contains(r.text(), "To exit") {
		t.Fatalf("Ctrl-C on a typed line gave the exit hint:\n%s", r.text())
	}

	r.send("\x03")
	r.expect(`\(To exit, press Ctrl\+C again or Ctrl\+D or type \.exit\)\n`)
	r.expect(`mpjs> `)
	r.send("\x03")
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d after Ctrl-C twice, want 0", code)
	}
}

// TestREPLCtrlD: Ctrl-D leaves, terminating the children still running
// after saying so.
func TestREPLCtrlD(t *testing.T) {
	r := startREPL(t, t.TempDir())
	m := r.line("p = new Process({target: () => sleep(60), name: 'napper'}); p.start(); p.pid", `^(\d+)\n`)
	pid, _ := strconv.Atoi(m[1])
	r.send("\x04")
	r.expect(`terminating 1 child process still running: napper \(pid ` + m[1] + `\)\n`)
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d after Ctrl-D, want 0", code)
	}
	waitGone(t, []int{pid}, 2*time.Second)
}

// TestREPLExit: .exit leaves, process.exit(n) leaves with n.
func TestREPLExit(t *testing.T) {
	r := startREPL(t, t.TempDir())
	r.line(".help", `\.load +Load JS from a file into the REPL session\n(.*\n)*Press Ctrl\+C to abort`)
	r.send(".exit\r")
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d after .exit", code)
	}
	r = startREPL(t, t.TempDir())
	r.send("process.exit(7)\r")
	if code := r.wait(); code != 7 {
		t.Fatalf("exit status %d after process.exit(7)", code)
	}
}

// TestREPLHistory: the history is written at exit, without consecutive
// duplicates, and read at start (the up arrow brings it back).
func TestREPLHistory(t *testing.T) {
	home := t.TempDir()
	r := startREPL(t, home)
	r.line("1 + 2", `^3\n`)
	r.line("1 + 2", `^3\n`)
	r.line("'second'", `^'second'\n`)
	r.send("\x04")
	if code := r.wait(); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	b, err := os.ReadFile(filepath.Join(home, ".mpjs_history"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != "1 + 2\n'second'\n" {
		t.Fatalf("history file %q", got)
	}

	r = startREPL(t, home)
	r.send("\x1b[A\x1b[A") // up twice: 1 + 2
	r.expect(`1 \+ 2`)
	r.send("\r")
	r.expect(`\n3\n`)
	r.expect(`mpjs> `)
}

// TestREPLCompletion: Tab completes globals, session names and members.
func TestREPLCompletion(t *testing.T) {
	r := startREPL(t, t.TempDir())
	r.line("const numbers = [3, 1, 2]", `undefined\n`)
	r.send("numb\t")
	r.expect(`numbers`)
	r.send(".len\t")
	r.expect(`numbers\.length`)
	r.send("\r")
	r.expect(`\n3\n`)
	r.expect(`mpjs> `)
	r.send("Proc\t")
	r.expect(`Process`)
	r.send(".prototype.is\t\t") // two candidates and more: the second Tab lists them
	r.expect(`isAlive +is_alive +isPrototypeOf`)
	r.send("\x03")
	r.expect(`mpjs> `)
}

// TestREPLOutputWhileWaiting: a timer prints while the prompt waits; the
// prompt and the text typed so far are drawn again below the output.
func TestREPLOutputWhileWaiting(t *testing.T) {
	r := startREPL(t, t.TempDir())
	r.line("setTimeout(() => console.log('fired'), 500), 'set'", `'set'\n`)
	r.send("12")
	r.expect(`fired\n`)
	r.expect(`mpjs> 12`)
	r.send("3\r")
	r.expect(`\n123\n`)
	r.expect(`mpjs> `)
}

// TestREPLLoad: .load runs a file in the session.
func TestREPLLoad(t *testing.T) {
	home := t.TempDir()
	file := filepath.Join(home, "lib.js")
	if err := os.WriteFile(file, []byte("function triple(x) { return 3 * x }\nconsole.log('loaded')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startREPL(t, home)
	r.line(".load "+file, `loaded\n`)
	r.line("triple(14)", `^42\n`)
	r.line("p = new Process({target: () => console.log('in child', triple(2))}); p.start(); p.join()", `in child 6\n`)
	if !bytes.Contains([]byte(r.text()), []byte("function triple")) {
		t.Error(".load did not show the file")
	}
}
