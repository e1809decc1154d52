package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// chaosEnv sets how long TestChaos kills processes (a Go duration, "60s");
// without it the test runs a short round, for make test.
const chaosEnv = "MPJS_CHAOS"

// chaosResult is the script's "result" line (testdata/faults/chaos.js).
type chaosResult struct {
	Seconds  float64        `json:"seconds"`
	Children int            `json:"children"`
	Deaths   map[string]int `json:"deaths"`
	Early    int            `json:"early"`

	Put         int `json:"put"`
	Delivered   int `json:"delivered"`
	Relayed     int `json:"relayed"`
	Lost        int `json:"lost"`
	WithRelays  int `json:"withRelays"`
	Unexplained int `json:"unexplained"`
	RelayErrors int `json:"relayErrors"`
	Dup         int `json:"dup"`
	Gap         int `json:"gap"`
	Extra       int `json:"extra"`

	LockOps    int `json:"lockOps"`
	LockErrors int `json:"lockErrors"`
	Stuck      int `json:"stuck"`

	PoolOk       int `json:"poolOk"`
	PoolBroken   int `json:"poolBroken"`
	PoolOther    int `json:"poolOther"`
	PoolRebuilds int `json:"poolRebuilds"`
	NestedOk     int `json:"nestedOk"`
	NestedBroken int `json:"nestedBroken"`
	NestedWrong  int `json:"nestedWrong"`

	StartFailures int      `json:"startFailures"`
	Hangs         int      `json:"hangs"`
	Notes         []string `json:"notes"`
}

// A child costs the host at most fdsPerChild open descriptors (its channel,
// its pidfd, its put pipe, a pool worker's channel to its pool); fdsGrace
// is for the host's own, which do not grow with the processes it ran
// (shared memory arenas, say).
const (
	fdsPerChild = 4
	fdsGrace    = 8
)

// The lines a chaos run may write on stderr: the warnings of SPEC §8 about
// a process that died holding a lock, naming it.
var chaosWarning = regexp.MustCompile(`^mpjs: process (\S+) \(pid (\d+)\) died holding (a Lock|an RLock|a unit of a (?:Bounded)?Semaphore|\d+ units of a (?:Bounded)?Semaphore); released (it|them)$`)

// chaosHolds lists the kinds of lock each role of chaos.js takes: the
// lockers their own, and every role the RLock of a synchronized Array it
// writes to (an element write takes it, as in Python).
var chaosHolds = map[string]string{
	"producer": "|RLock|", "relay": "|RLock|", "nester": "|RLock|",
	"locker": "|Lock|RLock|", "rlocker": "|RLock|", "slocker": "|BoundedSemaphore|RLock|",
}

// TestChaos runs testdata/faults/chaos.js while SIGKILLing random processes
// of the run (any descendant of the host: producers, lock users, pool
// workers, nested pools' workers, spares being booted) every 50-300 ms,
// and checks SPEC §5, §7, §8, §10 and §13 under those faults: the run ends
// (no hang), exits 0, loses and duplicates no acknowledged queue item,
// leaves no lock held, answers every pool call with its value or
// BrokenProcessPool, leaves no process, nothing in /dev/shm or TMPDIR, and
// no panic or data race on stderr.
func TestChaos(t *testing.T) {
	d := 8 * time.Second
	if s := os.Getenv(chaosEnv); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a duration such as 60s", chaosEnv, s)
		}
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos for %v, seed %d", d, seed)
	rng := rand.New(rand.NewPCG(seed, seed>>32))

	shmBefore := shmEntries(t)
	tmp := t.TempDir()
	var stderr syncBuffer
	cmd, sc := runMPJS(t, mpjsRun{
		Args:   []string{"testdata/faults/chaos.js", strconv.FormatFloat(d.Seconds(), 'f', -1, 64)},
		Env:    []string{"TMPDIR=" + tmp},
		Stderr: &stderr,
	})
	host := cmd.Process.Pid
	start := time.Now()
	// The script's own waits give up after 60 s each; a run that outlasts
	// this hangs.
	limit := d + 5*time.Minute
	var hung atomic.Bool
	timer := time.AfterFunc(limit, func() { hung.Store(true); syscall.Kill(-host, syscall.SIGKILL) })
	defer timer.Stop()

	// Every process of the run the test ever saw, pid → start time.
	var seenMu sync.Mutex
	seen := map[int]uint64{}
	look := func() map[int]uint64 {
		now := descendants(host, map[int]uint64{})
		seenMu.Lock()
		for pid, st := range now {
			seen[pid] = st
		}
		seenMu.Unlock()
		return now
	}
	watchDone := make(chan struct{})
	watchStop := make(chan struct{})
	stopWatch := sync.OnceFunc(func() { close(watchStop); <-watchDone })
	t.Cleanup(stopWatch)
	go func() { // sees short-lived processes the killer's ticks miss
		defer close(watchDone)
		for {
			select {
			case <-watchStop:
				return
			case <-time.After(20 * time.Millisecond):
				look()
			}
		}
	}()

	var (
		sentinel      int
		sentinelStart uint64
		killerStop    = make(chan struct{})
		killerDone    = make(chan struct{})
		killed        = map[int]bool{} // pids the killer SIGKILLed
		kills         int
		result        string
		began         bool
		fds           = map[string]int{} // the host's, at "baseline" and "quiet"
		kids          = map[string]int{} // the host's children then
	)
	// stopKiller stops the killer and waits until it has; after it, no
	// more kills, and its counts can be read.
	stopKiller := sync.OnceFunc(func() {
		close(killerStop)
		if began {
			<-killerDone
		}
	})
	t.Cleanup(stopKiller)
	killer := func() {
		defer close(killerDone)
		for {
			select {
			case <-killerStop:
				return
			case <-time.After(time.Duration(50+rng.IntN(251)) * time.Millisecond):
			}
			now := look()
			var pids []int
			for pid := range now {
				if pid != sentinel {
					pids = append(pids, pid)
				}
			}
			if len(pids) == 0 {
				continue
			}
			sort.Ints(pids) // not map order: the seed picks the victim
			pid := pids[rng.IntN(len(pids))]
			if signalProc(pid, now[pid], unix.SIGKILL) {
				killed[pid] = true
				kills++
			}
		}
	}

	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "sentinel "):
			var err error
			if sentinel, err = strconv.Atoi(strings.TrimPrefix(line, "sentinel ")); err != nil {
				t.Fatalf("bad line %q", line)
			}
			var ok bool
			if sentinelStart, ok = procStart(sentinel); !ok {
				t.Fatalf("the sentinel %d is not running", sentinel)
			}
		case strings.HasPrefix(line, "baseline ") || strings.HasPrefix(line, "quiet "):
			label, num, _ := strings.Cut(line, " ")
			pid, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			st, ok := procStart(pid)
			fds[label] = openFDs(t, host)
			kids[label] = len(childrenOf(host))
			if !ok || !signalProc(pid, st, unix.SIGKILL) {
				t.Fatalf("%s: the sentinel %d is not running", label, pid)
			}
		case line == "chaos begin":
			began = true
			go killer()
		case line == "chaos end":
			if !began {
				t.Fatal("chaos end before chaos begin")
			}
			stopKiller()
			if !signalProc(sentinel, sentinelStart, unix.SIGKILL) {
				t.Errorf("the sentinel %d ended before the test ended it", sentinel)
			}
		case strings.HasPrefix(line, "result "):
			result = strings.TrimPrefix(line, "result ")
		default:
			t.Logf("stdout: %s", line)
		}
	}
	stopKiller()
	err := cmd.Wait()
	timer.Stop()
	stopWatch()
	elapsed := time.Since(start)
	errs := stderr.String()
	if hung.Load() {
		t.Fatalf("the run did not end within %v: a hang (its process group was killed); %d kills; stderr:\n%s", limit, kills, tail(errs, 8000))
	}
	if err != nil {
		t.Fatalf("mpjs chaos.js: %v after %v; stderr:\n%s", err, elapsed, tail(errs, 8000))
	}

	// stderr: the warnings of dead lock holders, each naming a process the
	// killer killed; nothing else (no panic, no data race, no error).
	warnings := map[string]int{} // by kind of lock
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		if line == "" {
			continue
		}
		m := chaosWarning.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("unexpected stderr line: %s", line)
			continue
		}
		pid, _ := strconv.Atoi(m[2])
		if !killed[pid] {
			t.Errorf("a warning names pid %d, which the test did not kill: %s", pid, line)
		}
		// Each role takes its kinds of locks (see chaos.js).
		role, _, _ := strings.Cut(m[1], "-")
		words := strings.Fields(m[3]) // "a Lock", "a unit of a BoundedSemaphore", ...
		kind := words[len(words)-1]
		if !strings.Contains(chaosHolds[role], "|"+kind+"|") {
			t.Errorf("a warning says %s held %s, which a %s does not take: %s", m[1], m[3], role, line)
		}
		warnings[kind]++
	}
	if strings.Contains(errs, "panic:") || strings.Contains(errs, "goroutine ") || strings.Contains(errs, "DATA RACE") {
		t.Errorf("a panic or a data race on stderr:\n%s", tail(errs, 8000))
	}

	var r chaosResult
	if err := json.Unmarshal([]byte(result), &r); err != nil {
		t.Fatalf("no result line from the script (%q): %v", result, err)
	}
	seenMu.Lock()
	nseen := len(seen)
	seenMu.Unlock()
	t.Logf("ran %v (chaos %v): %d kills of %d processes seen; %d children started, killed by role %v; warnings of dead holders by kind of lock %v",
		elapsed.Round(time.Millisecond), d, kills, nseen, r.Children, r.Deaths, warnings)
	t.Logf("queue: %d puts acknowledged, %d items delivered (%d through relays), lost %d, duplicated %d, out of order %d, beyond the in-flight one %d, gone with a killed relay %d (%d more maybe)",
		r.Put, r.Delivered, r.Relayed, r.Lost, r.Dup, r.Gap, r.Extra, r.WithRelays, r.Unexplained)
	t.Logf("locks: %d acquisitions, %d exclusion errors, %d stuck", r.LockOps, r.LockErrors, r.Stuck)
	t.Logf("pool: %d ok, %d BrokenProcessPool, %d other, %d rebuilt; nested pools: %d ok, %d BrokenProcessPool, %d wrong",
		r.PoolOk, r.PoolBroken, r.PoolOther, r.PoolRebuilds, r.NestedOk, r.NestedBroken, r.NestedWrong)
	t.Logf("hangs %d, children ended otherwise %d, failed starts %d", r.Hangs, r.Early, r.StartFailures)
	for _, n := range r.Notes {
		t.Logf("script: %s", n)
	}
	for name, v := range map[string]int{
		"hangs": r.Hangs, "lost": r.Lost, "duplicates": r.Dup, "out of order": r.Gap, "extra": r.Extra,
		"lock errors": r.LockErrors, "stuck locks": r.Stuck, "pool calls with another outcome": r.PoolOther,
		"nested pool calls with another outcome": r.NestedWrong, "children that ended otherwise": r.Early,
		"failed starts": r.StartFailures, "relays that got and passed on other than once": r.RelayErrors,
	} {
		if v != 0 {
			t.Errorf("%s: %d, want 0", name, v)
		}
	}
	if kills == 0 {
		t.Errorf("the test killed nothing")
	}
	if r.Put == 0 || r.LockOps == 0 || r.PoolOk == 0 {
		t.Errorf("no work done: %d puts, %d lock acquisitions, %d pool calls", r.Put, r.LockOps, r.PoolOk)
	}

	// No leaks: once every child ended, the host has no more descriptors
	// open than before the first one started, but for those of the
	// children it has then (the sentinel, spares kept booted, pool workers
	// being reaped): at most fdsPerChild each.
	t.Logf("host descriptors: %d before the first child (%d children), %d after the last (%d children)",
		fds["baseline"], kids["baseline"], fds["quiet"], kids["quiet"])
	if fds["baseline"] == 0 || fds["quiet"] == 0 {
		t.Errorf("the script did not ask for the descriptor counts")
	} else if bound := fds["baseline"] + fdsPerChild*max(0, kids["quiet"]-kids["baseline"]) + fdsGrace; fds["quiet"] > bound {
		t.Errorf("the host's open descriptors grew from %d to %d over the chaos, more than its children account for (%d): a leak", fds["baseline"], fds["quiet"], bound)
	}

	// No orphans: the group is empty and every process seen has ended.
	waitGroupGone(t, host, 5*time.Second)
	waitProcsGone(t, seen, time.Second)
	checkNoLeftovers(t, shmBefore, tmp)
}

// signalProc sends sig to process pid if it is still the one that started
// at start (not a reuse of its pid), and reports whether it did.
func signalProc(pid int, start uint64, sig unix.Signal) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if now, ok := procStart(pid); !ok || now != start {
		return false
	}
	err = unix.PidfdSendSignal(fd, sig, nil, 0)
	return err == nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}
