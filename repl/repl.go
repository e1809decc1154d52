// Package repl is mpjs's interactive REPL, as a library: the line editing
// loop (github.com/peterh/liner), multi-line input detected from the
// parser's "Unexpected end of input", completion of globals and members,
// results printed as Node's REPL prints them, history, Ctrl-C, and the dot
// commands.
//
// A Session is the part without a terminal: it evaluates inputs in one
// runtime whose event loop it keeps running between inputs (timers fire and
// promises settle while the prompt waits), so that it can be tested and
// driven by other front ends. Run puts a Session on the process's terminal.
//
// Behaviour, in Node's terms:
//
//   - Prompt "mpjs> ", continuation "... " while the input so far ends
//     early (an open brace, bracket, parenthesis or template literal, a
//     trailing operator); a real syntax error is reported at once, with the
//     line and a caret.
//   - Results are shown by util.inspect's rules (runtime/inspect), with
//     colours on a terminal (not with NO_COLOR set); a statement shows
//     undefined; _ holds the last result and _error the last error; an
//     error shows "Uncaught Name: message" and its stack, and the session
//     goes on. An input may await at its top level.
//   - Top-level let, const and class may be declared again by a later input
//     (Node 20 refuses; see input.go for how and what it costs).
//   - Every input is added to the runtime's top level (runtime.TopLevel), so
//     a function typed in the REPL can be a Process target or a Pool
//     function, taking along what it uses — unlike Python's REPL under
//     spawn.
//   - Ctrl-C interrupts the running input (an endless loop, a sleep, an
//     await) or clears the line being typed; on an empty prompt it says how
//     to leave, and a second Ctrl-C leaves. A call that blocks in Go and
//     does not watch for interrupts cannot be stopped: a third Ctrl-C during
//     one input leaves mpjs. Ctrl-D on an empty line or .exit leaves; child
//     processes still running are terminated after saying so.
//   - Output printed while the prompt waits (a timer's console.log) appears
//     above the prompt, which is drawn again with what was typed. Child
//     processes write to the terminal themselves, so their output is not
//     moved out of the way.
//   - History is kept in ~/.mpjs_history (at most 1000 lines, no
//     consecutive duplicates), read at start and written at exit. Tab
//     completes global names and keywords, and members after `expr.`.
package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/peterh/liner"
	"golang.org/x/term"

	"mpjs/host"
	"mpjs/runtime"
)

// Children is the host's view of the processes a session started (a
// host.Node has these methods): at exit, those still running are terminated.
type Children interface {
	Active() ([]host.ProcInfo, error)
	Signal(id int64, sig syscall.Signal) error
	Join(id int64, timeout time.Duration) (host.Status, error)
}

// Config configures Run.
type Config struct {
	// NewRuntime makes the session's runtime, with whatever bindings the
	// program installs, and its loop not running. Run sets Stdout, Stderr
	// and Exit in opts.
	NewRuntime func(opts runtime.Options) *runtime.Runtime
	// Children are the session's child processes; nil means none.
	Children Children
	// Version is shown in the banner.
	Version string
	// HistoryFile keeps the history; "" means ~/.mpjs_history.
	HistoryFile string
	// Exit ends the process with a code after Run has cleaned up, when the
	// session ends otherwise than by returning (process.exit(n), SIGTERM,
	// SIGHUP, Ctrl-C three times in a call that cannot be interrupted). It
	// must not return. Nil means os.Exit.
	Exit func(code int)
}

// Run runs the REPL on the process's terminal until the user leaves, and
// returns the exit status. Standard input must be a terminal; line editing,
// history and completion need standard output to be one too (otherwise
// lines are read plainly).
func Run(cfg Config) int {
	if cfg.Exit == nil {
		cfg.Exit = os.Exit
	}
	r := &repl{cfg: cfg}
	return r.run()
}

// limitHistory is the number of lines kept in the history file.
const limitHistory = liner.HistoryLimit

const (
	prompt      = "mpjs> "
	morePrompt  = "... "
	exitHint    = "(To exit, press Ctrl+C again or Ctrl+D or type .exit)"
	plainHint   = "(To exit, press Ctrl+D or type .exit)"
	stuckHint   = "(the input is blocked in a call that Ctrl-C cannot interrupt; press Ctrl-C once more to leave mpjs)"
	helpCommand = ".help"
)

var helpText = `.break    Sometimes you get stuck, this gets you out
.clear    Alias for .break
.editor   Enter editor mode
.exit     Exit the REPL
.help     Print this help message
.load     Load JS from a file into the REPL session
.save     Save all evaluated commands in this REPL session to a file

Press Ctrl+C to abort current expression, Ctrl+D to exit the REPL
Functions, classes and variables defined here can be Process targets and Pool functions.`

var commands = []string{".break", ".clear", ".editor", ".exit", ".help", ".load", ".save"}

type lineReader interface {
	Prompt(p string) (string, error)
}

type repl struct {
	cfg    Config
	con    console
	stdout io.Writer
	rt     *runtime.Runtime
	sess   *Session

	liner *liner.State // nil when lines are read plainly
	pump  *pump
	lines lineReader

	history string

	curPrompt  atomic.Value // string: the prompt shown, for plain mode's Ctrl-C
	evalCtrlC  atomic.Int32 // Ctrl-C presses during the current input
	shutdownMu sync.Once
	closing    atomic.Bool // shutdown began: the process is about to end
}

func (r *repl) run() int {
	useLiner := term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd())) && liner.TerminalSupported()
	colors := term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	r.stdout = r.con.writer(os.Stdout)
	r.rt = r.cfg.NewRuntime(runtime.Options{Stdout: r.stdout, Stderr: r.con.writer(os.Stderr), Exit: r.exitFromJS})
	r.sess = NewSession(r.rt, SessionOptions{Colors: colors, Output: r.stdout})
	defer r.sess.Close()
	r.curPrompt.Store(prompt)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if s == os.Interrupt {
				r.sigint()
				continue
			}
			r.shutdown()
			r.cfg.Exit(128 + int(s.(syscall.Signal)))
		}
	}()

	if useLiner {
		r.startLiner()
	} else {
		r.lines = &plainReader{in: bufio.NewReader(os.Stdin), out: r.stdout}
	}
	r.println(fmt.Sprintf("Welcome to mpjs %s.\nType %q for more information.", r.cfg.Version, helpCommand))
	code := r.loop()
	r.shutdown()
	return code
}

// startLiner sets up line editing. Liner reads a pipe that the pump fills
// from the terminal (see pump), and keeps the terminal's modes.
func (r *repl) startLiner() {
	pr, pw, err := os.Pipe()
	if err != nil {
		r.lines = &plainReader{in: bufio.NewReader(os.Stdin), out: r.stdout}
		return
	}
	stdin := os.Stdin
	os.Stdin = pr // liner reads os.Stdin; it sets the modes of descriptor 0
	r.liner = liner.NewLiner()
	os.Stdin = stdin
	r.pump = &pump{w: pw}
	go r.pump.run(stdin)

	r.liner.SetCtrlCAborts(true)
	r.liner.SetTabCompletionStyle(liner.TabPrints)
	r.liner.SetBeep(false)
	r.liner.SetWordCompleter(r.complete)
	r.con.redraw = redrawLiner
	r.lines = r.liner
	r.loadHistory()
}

// loop reads and runs inputs until the user leaves; it returns the status.
func (r *repl) loop() int {
	var buf []string
	armed := false // Ctrl-C on an empty prompt once: once more leaves
	for {
		p := prompt
		if len(buf) > 0 {
			p = morePrompt
		}
		line, err := r.prompt(p)
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			empty := r.pump.ctrlC()
			if len(buf) > 0 || !empty {
				buf, armed = nil, false
				continue
			}
			if armed {
				return 0
			}
			r.println(exitHint)
			armed = true
			continue
		case errors.Is(err, io.EOF):
			r.println("")
			return 0
		case err != nil:
			r.println("mpjs: " + err.Error())
			return 1
		}
		armed = false
		if strings.TrimSpace(line) != "" && r.liner != nil {
			r.liner.AppendHistory(line)
		}
		if cmd, arg, ok := command(line); ok {
			known := r.known(cmd)
			if known || len(buf) == 0 {
				switch r.command(cmd, arg, &buf) {
				case leave:
					return 0
				}
				continue
			}
		}
		buf = append(buf, line)
		src := strings.Join(buf, "\n")
		if strings.TrimSpace(src) == "" {
			buf = nil
			continue
		}
		if r.sess.Incomplete(src) {
			continue
		}
		buf = nil
		r.eval("", src)
	}
}

// prompt reads one line, telling the console that a prompt is shown.
func (r *repl) prompt(p string) (string, error) {
	if r.closing.Load() {
		select {} // the process is ending elsewhere: leave the terminal alone
	}
	r.curPrompt.Store(p)
	r.con.setPrompting(true)
	line, err := r.lines.Prompt(p)
	r.con.setPrompting(false)
	if err == nil && r.liner != nil {
		r.unscroll(p, line)
	}
	return line, err
}

// unscroll shows in full a line that was too long for the terminal: liner
// scrolls such a line sideways while it is edited and leaves the part in
// view on the screen; the line is written again, wrapped by the terminal.
func (r *repl) unscroll(p, line string) {
	cols, _, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil || utf8.RuneCountInString(p)+utf8.RuneCountInString(line)+1 < cols {
		return
	}
	io.WriteString(r.stdout, "\x1b[1A\r\x1b[K"+p+line+"\n")
}

// eval runs an input and prints what it gave.
func (r *repl) eval(name, src string) {
	r.evalCtrlC.Store(0)
	var out string
	if name == "" {
		out = r.sess.Eval(src)
	} else {
		out = r.sess.EvalNamed(name, src)
	}
	if r.closing.Load() {
		return // ended by the shutdown (its children were terminated)
	}
	r.println(out)
}

func (r *repl) println(s string) { io.WriteString(r.stdout, s+"\n") }

// sigint handles Ctrl-C when the terminal turned it into a signal: while an
// input runs (liner turns it into a byte while it prompts).
func (r *repl) sigint() {
	if r.sess.Interrupt() {
		switch n := r.evalCtrlC.Add(1); {
		case n == 2:
			r.println(stuckHint)
		case n >= 3:
			r.shutdown()
			r.cfg.Exit(130)
		}
		return
	}
	if r.liner == nil {
		p, _ := r.curPrompt.Load().(string)
		io.WriteString(r.stdout, "\n"+plainHint+"\n"+p)
	}
}

// complete is liner's completer.
func (r *repl) complete(line string, pos int) (string, []string, string) {
	if r.pump != nil && r.pump.probe(line) {
		return "", nil, ""
	}
	if strings.HasPrefix(line, ".") && !strings.ContainsAny(line, " \t") {
		var out []string
		for _, c := range commands {
			if strings.HasPrefix(c, line) {
				out = append(out, c)
			}
		}
		return "", out, ""
	}
	return r.sess.Complete(line, pos)
}

// command splits a line that is a REPL command: a dot followed by a word (a
// number such as .5 is code).
func command(line string) (cmd, arg string, ok bool) {
	t := strings.TrimSpace(line)
	if len(t) < 2 || t[0] != '.' || t[1] < 'a' || t[1] > 'z' {
		return "", "", false
	}
	cmd, arg, _ = strings.Cut(t, " ")
	return cmd, strings.TrimSpace(arg), true
}

func (r *repl) known(cmd string) bool {
	for _, c := range commands {
		if c == cmd {
			return true
		}
	}
	return false
}

type action int

const (
	stay action = iota
	leave
)

// command runs a dot command.
func (r *repl) command(cmd, arg string, buf *[]string) action {
	switch cmd {
	case ".exit":
		return leave
	case ".help":
		r.println(helpText)
	case ".break", ".clear":
		*buf = nil
	case ".load":
		if arg == "" {
			r.println("Usage: .load FILE")
			break
		}
		b, err := os.ReadFile(arg)
		if err != nil {
			r.println("Failed to load: " + arg)
			break
		}
		src := string(b)
		r.println(strings.TrimRight(src, "\n") + "\n")
		r.eval(arg, src)
	case ".save":
		if arg == "" {
			r.println("Usage: .save FILE")
			break
		}
		text := strings.Join(r.sess.Inputs(), "\n")
		if text != "" {
			text += "\n"
		}
		if err := os.WriteFile(arg, []byte(text), 0o644); err != nil {
			r.println("Failed to save: " + arg)
			break
		}
		r.println("Session saved to: " + arg)
	case ".editor":
		r.editor()
	default:
		r.println("Invalid REPL keyword")
	}
	return stay
}

// editor reads lines until Ctrl-D and runs them as one input.
func (r *repl) editor() {
	r.println("// Entering editor mode (Ctrl+D to finish, Ctrl+C to cancel)")
	var lines []string
	for {
		line, err := r.prompt("")
		switch {
		case errors.Is(err, liner.ErrPromptAborted):
			if r.pump != nil {
				r.pump.ctrlC()
			}
			return
		case errors.Is(err, io.EOF):
			src := strings.Join(lines, "\n")
			if strings.TrimSpace(src) != "" {
				r.eval("", src)
			}
			return
		case err != nil:
			return
		}
		lines = append(lines, line)
	}
}

// exitFromJS is process.exit(n) in the session (loop goroutine).
func (r *repl) exitFromJS(code int) {
	r.shutdown()
	r.cfg.Exit(code)
}

// shutdown terminates the children still running, writes the history and
// gives the terminal back. Once.
func (r *repl) shutdown() {
	r.shutdownMu.Do(func() {
		r.closing.Store(true)
		r.terminateChildren()
		r.saveHistory()
		if r.liner != nil {
			r.liner.Close()
		}
	})
}

// terminateChildren ends the processes the session started that still run.
func (r *repl) terminateChildren() {
	if r.cfg.Children == nil {
		return
	}
	list, err := r.cfg.Children.Active()
	if err != nil || len(list) == 0 {
		return
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = fmt.Sprintf("%s (pid %d)", c.Name, c.Pid)
	}
	plural := "es"
	if len(list) == 1 {
		plural = ""
	}
	r.println(fmt.Sprintf("terminating %d child process%s still running: %s", len(list), plural, strings.Join(names, ", ")))
	for _, c := range list {
		r.cfg.Children.Signal(c.ID, syscall.SIGTERM)
	}
	deadline := time.Now().Add(time.Second)
	for _, c := range list {
		r.cfg.Children.Join(c.ID, max(time.Until(deadline), 0))
	}
}

// historyPath is where the history is kept.
func (r *repl) historyPath() string {
	if r.cfg.HistoryFile != "" {
		return r.cfg.HistoryFile
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".mpjs_history")
}

func (r *repl) loadHistory() {
	r.history = r.historyPath()
	if r.history == "" {
		return
	}
	f, err := os.Open(r.history)
	if err != nil {
		return
	}
	defer f.Close()
	r.liner.ReadHistory(f)
}

// saveHistory writes the last limitHistory lines of the history.
func (r *repl) saveHistory() {
	if r.liner == nil || r.history == "" {
		return
	}
	var b strings.Builder
	r.liner.WriteHistory(&b)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) > limitHistory {
		lines = lines[len(lines)-limitHistory:]
	}
	text := strings.Join(lines, "\n")
	if text != "" {
		text += "\n"
	}
	tmp := r.history + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		return
	}
	if err := os.Rename(tmp, r.history); err != nil {
		os.Remove(tmp)
	}
}

// plainReader reads lines without editing (standard output is not a
// terminal, or the terminal cannot edit).
type plainReader struct {
	in  *bufio.Reader
	out io.Writer
}

func (p *plainReader) Prompt(prompt string) (string, error) {
	io.WriteString(p.out, prompt)
	line, err := p.in.ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
