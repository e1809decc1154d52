package repl

import (
	"bytes"
	"io"
	"os"
	"sync"
	"syscall"
)

// console serialises what the session prints and keeps it from garbling
// the line the user is editing: while a prompt is shown, output (a timer's
// console.log, a rejection report) first clears the prompt line, and the
// line editor is then asked to draw the prompt and the text typed so far
// again below it — what Node does.
type console struct {
	mu        sync.Mutex
	prompting bool
	// redraw makes the line editor draw the prompt line again.
	redraw func()
}

// writer returns an io.Writer on f that goes through the console.
func (c *console) writer(f io.Writer) io.Writer { return &consoleWriter{c, f} }

// setPrompting tells the console whether the line editor shows a prompt.
func (c *console) setPrompting(on bool) {
	c.mu.Lock()
	c.prompting = on
	c.mu.Unlock()
}

type consoleWriter struct {
	c *console
	f io.Writer
}

func (w *consoleWriter) Write(p []byte) (int, error) {
	c := w.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.prompting || c.redraw == nil {
		return w.f.Write(p)
	}
	b := make([]byte, 0, len(p)+8)
	b = append(b, "\r\x1b[K"...) // the prompt line goes; the output takes its place
	b = append(b, p...)
	if !bytes.HasSuffix(p, []byte("\n")) {
		b = append(b, '\n') // the prompt is drawn again on a line of its own
	}
	if _, err := w.f.Write(b); err != nil {
		return 0, err
	}
	c.redraw()
	return len(p), nil
}

// redrawLiner makes liner draw its prompt line again: it does so on a window
// change (SIGWINCH), which changes nothing else in single-line mode.
func redrawLiner() { syscall.Kill(os.Getpid(), syscall.SIGWINCH) }

// pump copies the terminal's input to the pipe the line editor reads, and
// lets the REPL know whether Ctrl-C was pressed on an empty line (liner does
// not say): it slips a Tab in front of each Ctrl-C, and the completer, asked
// about that Tab, records the line and offers nothing.
type pump struct {
	w *os.File

	mu      sync.Mutex
	probing bool // a Tab was slipped in; the completer has not seen it yet
	seen    bool // the completer saw it
	empty   bool // ... on an empty line
}

// run copies until the terminal's input ends, then closes the pipe.
func (p *pump) run(in *os.File) {
	defer p.w.Close()
	buf := make([]byte, 4096)
	lastTab := false
	for {
		n, err := in.Read(buf)
		if n > 0 {
			out := make([]byte, 0, n+4)
			for _, b := range buf[:n] {
				// Ctrl-C reaches the program as a byte only while liner
				// prompts (it turns ISIG off then); after a Tab liner may be
				// listing completions, where another Tab would print them.
				if b == 0x03 && !lastTab {
					p.mu.Lock()
					p.probing, p.seen = true, false
					p.mu.Unlock()
					out = append(out, '\t')
				}
				out = append(out, b)
				lastTab = b == '\t'
			}
			if _, werr := p.w.Write(out); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// probe is called by the completer: if the Tab is one the pump slipped in,
// it records whether the line is empty and reports true (offer nothing).
func (p *pump) probe(line string) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.probing {
		return false
	}
	p.probing, p.seen, p.empty = false, true, line == ""
	return true
}

// ctrlC reports, after liner returned for Ctrl-C, whether the line was
// known to be empty.
func (p *pump) ctrlC() (empty bool) {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	empty = p.seen && p.empty
	p.probing, p.seen = false, false
	return empty
}
