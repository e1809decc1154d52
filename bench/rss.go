package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// RSS sampling parameters: VmRSS is read every rssInterval until rssStable
// reads in a row are equal, for at most rssMaxWait.
const (
	rssInterval = 50 * time.Millisecond
	rssStable   = 3
	rssMaxWait  = 10 * time.Second
)

// memInfo is a process's resident memory in KiB; pssKB is -1 when
// /proc/<pid>/smaps_rollup cannot be read.
type memInfo struct {
	rssKB, pssKB int64
}

// measureRSS waits until the resident set of pid stops changing and returns
// it. pid must be a descendant of ancestor (the script), so a stale or
// mistyped pid can never make the harness measure or signal a stranger.
func measureRSS(ctx context.Context, pid, ancestor int) (m memInfo, warning string, err error) {
	if !isDescendant(pid, ancestor) {
		return m, "", fmt.Errorf("pid %d is not a live descendant of the script (pid %d)", pid, ancestor)
	}
	var reads []int64
	deadline := time.Now().Add(rssMaxWait)
	tick := time.NewTicker(rssInterval)
	defer tick.Stop()
	for {
		kb, err := procStatusKB(pid, "VmRSS")
		if err != nil {
			return m, "", fmt.Errorf("reading VmRSS: %v (did the process exit?)", err)
		}
		reads = append(reads, kb)
		if n := len(reads); n >= rssStable && allEqual(reads[n-rssStable:]) {
			break
		}
		if time.Now().After(deadline) {
			warning = fmt.Sprintf("VmRSS of pid %d never held still for %d reads in %v; kept the last read", pid, rssStable, rssMaxWait)
			break
		}
		select {
		case <-ctx.Done():
			return m, "", fmt.Errorf("measurement interrupted: %v", ctx.Err())
		case <-tick.C:
		}
	}
	m.rssKB = reads[len(reads)-1]
	m.pssKB = -1
	if pss, err := procFileKB(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss"); err == nil {
		m.pssKB = pss
	}
	return m, warning, nil
}

func allEqual(xs []int64) bool {
	for _, x := range xs[1:] {
		if x != xs[0] {
			return false
		}
	}
	return true
}

// procStatusKB reads one "Key:   N kB" field of /proc/<pid>/status.
func procStatusKB(pid int, key string) (int64, error) {
	return procFileKB(fmt.Sprintf("/proc/%d/status", pid), key)
}

// procFileKB reads one "Key:   N kB" line of a /proc file.
func procFileKB(path, key string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != key {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			break
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s has no %s line (zombie?)", path, key)
}

// procStat returns the state, parent pid and process group of pid, from
// /proc/<pid>/stat.
func procStat(pid int) (state string, ppid, pgrp int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, 0, err
	}
	// "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	var f []string
	if i >= 0 {
		f = strings.Fields(s[i+1:])
	}
	if len(f) < 3 {
		return "", 0, 0, fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	if ppid, err = strconv.Atoi(f[1]); err == nil {
		pgrp, err = strconv.Atoi(f[2])
	}
	return f[0], ppid, pgrp, err
}

// liveGroupMembers lists "pid (command)" of the processes of group pgid
// that are not zombies.
func liveGroupMembers(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, _, pgrp, err := procStat(pid)
		if err != nil || pgrp != pgid || state == "Z" || state == "X" {
			continue
		}
		cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		c := strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " "))
		if len(c) > 60 {
			c = c[:60] + "..."
		}
		out = append(out, fmt.Sprintf("%d %s", pid, c))
	}
	return out
}

// isDescendant reports whether pid is alive and ancestor is one of its
// ancestors.
func isDescendant(pid, ancestor int) bool {
	for i := 0; i < 32 && pid > 1; i++ {
		_, pp, _, err := procStat(pid)
		if err != nil {
			return false
		}
		if pp == ancestor {
			return true
		}
		pid = pp
	}
	return false
}

// readLoadavg returns the first three fields of /proc/loadavg.
func readLoadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ")
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or "".
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
