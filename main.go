// Command mpjs runs JavaScript with the model of Python's multiprocessing:
// Process, Pipe, Queue, Lock, Pool, Value, Array, each process a real OS
// process. See README.md and docs/.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/dop251/goja"
	"golang.org/x/term"

	"mpjs/bindings"
	"mpjs/host"
	"mpjs/repl"
	"mpjs/runtime"
	"mpjs/scripts"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const usage = `mpjs — JavaScript with Python's multiprocessing, every process a real OS process

Usage:
  mpjs FILE.js [ARGS...]     run a script (process.argv holds the arguments)
  mpjs -e 'CODE'             run code given on the command line
  mpjs                       the REPL on a terminal; otherwise read a script from stdin
  mpjs demo [NAME]           list the sample scripts, or run one
  mpjs --version | --help

Options (before the script):
  --max-procs N              processes alive at once (default 256)
`

func main() {
	runtime.TuneGC()
	if host.IsChild() {
		os.Exit(runChild())
	}
	os.Exit(run(os.Args[1:]))
}

type config struct {
	maxProcs int
	file     string
	code     string
	haveCode bool
	args     []string
}

func parseArgs(args []string) (config, error) {
	c := config{maxProcs: 256}
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "-e" || a == "--eval":
			if len(args) < 2 {
				return c, fmt.Errorf("%s needs the code to run", a)
			}
			c.code, c.haveCode, c.file = args[1], true, "[eval]"
			c.args = args[2:]
			return c, nil
		case a == "--max-procs":
			if len(args) < 2 {
				return c, errors.New("--max-procs needs a number")
			}
			n, err := strconv.Atoi(args[1])
			if err != nil || n < 1 {
				return c, fmt.Errorf("--max-procs: %q is not a positive whole number", args[1])
			}
			c.maxProcs = n
			args = args[2:]
		case a == "--":
			args = args[1:]
			if len(args) > 0 {
				c.file, c.args = args[0], args[1:]
			}
			return c, nil
		case len(a) > 1 && a[0] == '-':
			return c, fmt.Errorf("unknown option %s (see mpjs --help)", a)
		default:
			c.file, c.args = a, args[1:]
			return c, nil
		}
	}
	return c, nil
}

func run(args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "--version", "-v":
			fmt.Println("mpjs", version)
			return 0
		case "--help", "-h":
			fmt.Print(usage)
			return 0
		}
	}
	if len(args) > 0 && args[0] == "demo" {
		return demo(args[1:])
	}
	cfg, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs:", err)
		return 2
	}
	var src string
	switch {
	case cfg.haveCode:
		src = cfg.code
	case cfg.file != "":
		b, err := os.ReadFile(cfg.file)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mpjs: cannot read the script:", err)
			return 2
		}
		src = string(b)
	default:
		if term.IsTerminal(int(os.Stdin.Fd())) {
			return runREPL(cfg)
		}
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mpjs: cannot read the script from stdin:", err)
			return 2
		}
		src, cfg.file = string(b), "[stdin]"
	}
	return runHost(cfg, src)
}

func runHost(cfg config, src string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs: cannot find its own binary:", err)
		return 2
	}
	sup, err := host.NewSupervisor(host.Config{Exe: exe, MaxProcs: cfg.maxProcs, Spares: 4, Warn: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs:", err)
		return 2
	}
	// Ctrl-C (or a TERM) ends the children first, then the host.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	defer func() { signal.Stop(sigs); close(done) }()
	go func() {
		select {
		case s := <-sigs:
			sup.Close(500 * time.Millisecond)
			if s == os.Interrupt {
				os.Exit(130)
			}
			os.Exit(128 + int(s.(syscall.Signal)))
		case <-done:
		}
	}()

	var mod *bindings.Module
	argv := append([]string{exe, cfg.file}, cfg.args...)
	out := sup.Output()
	rt := runtime.New(runtime.Options{Argv: argv, Stdout: out.Writer(os.Stdout), Stderr: out.Writer(os.Stderr), Exit: func(code int) {
		if mod != nil {
			mod.Finish()
		}
		sup.Close(time.Second)
		os.Exit(code)
	}})
	rt.Loop.Run(func(*goja.Runtime) { mod = bindings.Install(rt, sup.Local()) })
	code := 0
	if err := rt.RunMain(cfg.file, src); err != nil {
		fmt.Fprintln(out.Writer(os.Stderr), rt.Describe(err))
		code = 1
	}
	if err := mod.Finish(); err != nil {
		fmt.Fprintln(os.Stderr, "mpjs:", err)
	}
	sup.Close(time.Second)
	return code
}

// runREPL runs the interactive REPL, set up as runHost sets up a script:
// a supervisor, a runtime with the mp bindings. At exit the REPL terminates
// the children still running (a script's end waits for them instead).
func runREPL(cfg config) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs: cannot find its own binary:", err)
		return 2
	}
	sup, err := host.NewSupervisor(host.Config{Exe: exe, MaxProcs: cfg.maxProcs, Spares: 4, Warn: os.Stderr, WaitBoot: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs:", err)
		return 2
	}
	code := repl.Run(repl.Config{
		NewRuntime: func(opts runtime.Options) *runtime.Runtime {
			opts.Argv = []string{exe}
			opts.Stdout = sup.Output().Writer(orStd(opts.Stdout, os.Stdout))
			opts.Stderr = sup.Output().Writer(orStd(opts.Stderr, os.Stderr))
			rt := runtime.New(opts)
			rt.Loop.Run(func(*goja.Runtime) { bindings.Install(rt, sup.Local()) })
			return rt
		},
		Children: sup.Local(),
		Version:  version,
		Exit: func(code int) {
			sup.Close(time.Second)
			os.Exit(code)
		},
	})
	sup.Close(time.Second)
	return code
}

// runChild is the hidden child mode: boot a VM, wait for a target, run it.
func runChild() int {
	runtime.GrowStack()         // the VM runs on this goroutine
	signal.Ignore(os.Interrupt) // only the host decides what Ctrl-C does
	client, err := host.Dial()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs child:", err)
		return 2
	}
	var mod *bindings.Module
	out := client.Output()
	rt := runtime.New(runtime.Options{Stdout: out.Writer(os.Stdout), Stderr: out.Writer(os.Stderr), Exit: func(code int) {
		if mod != nil {
			mod.Finish()
		}
		os.Exit(code)
	}})
	rt.Loop.Run(func(*goja.Runtime) { mod = bindings.InstallDeferred(rt, client) })
	spec, err := client.WaitRun()
	if err != nil {
		return 0 // a spare the host no longer needs
	}
	code := 0
	if err := rt.Run(func(*goja.Runtime) error { return mod.RunTarget(spec) }); err != nil {
		fmt.Fprintln(out.Writer(os.Stderr), bindings.FailureReport(rt, spec.Self, err))
		code = 1
	}
	if err := mod.Finish(); err != nil {
		fmt.Fprintln(os.Stderr, "mpjs:", err)
	}
	return code
}

// demo lists the embedded samples, runs one, or runs the whole tour.
func demo(args []string) int {
	all := scripts.All()
	if len(args) == 0 {
		fmt.Println("Sample scripts (run one with: mpjs demo NAME or NUMBER; all with: mpjs demo --all):")
		for _, s := range all {
			fmt.Printf("  %-24s %s\n", s.Name, s.Description)
		}
		return 0
	}
	if args[0] == "--all" {
		for _, s := range all {
			fmt.Printf("\n=== %s — %s\n\n", s.Name, s.Description)
			if code := runHost(config{maxProcs: 256, file: s.Name + ".js"}, s.Source); code != 0 {
				return code
			}
		}
		return 0
	}
	s, err := scripts.Find(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "mpjs demo:", err)
		return 2
	}
	return runHost(config{maxProcs: 256, file: s.Name + ".js", args: args[1:]}, s.Source)
}

// orStd returns w, or std when w is nil.
func orStd(w, std io.Writer) io.Writer {
	if w == nil {
		return std
	}
	return w
}
