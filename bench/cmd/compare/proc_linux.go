package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group and has the kernel
// kill it if compare dies without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every architecture Go supports on Linux (sysconf(_SC_CLK_TCK) needs cgo).
const userHZ = 100

// cpuTime returns the user and the system CPU time pid has used, all its
// threads included, from /proc/PID/stat, with that of the processes of the
// group pid leads (a server's worker processes: compare starts every
// server as the leader of its own process group) and of its children that
// have ended and been waited for. Their resolution is 1/userHZ.
func cpuTime(pid int) (user, sys time.Duration, err error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, 0, err
	}
	u, s := st.utime+st.cutime, st.stime+st.cstime
	for _, m := range groupMembers(pid) {
		if m == pid {
			continue
		}
		if st, err := readStat(m); err == nil && st.pgrp == pid { // it may have ended, or left
			u, s = u+st.utime, s+st.stime
		}
	}
	const tick = time.Second / userHZ
	return time.Duration(u) * tick, time.Duration(s) * tick, nil
}

// stat is what cpuTime needs of /proc/PID/stat, in ticks.
type stat struct {
	pgrp                         int
	utime, stime, cutime, cstime int64
}

func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	// The command name (field 2) may hold spaces; fields are counted after
	// its closing parenthesis, where field 3 (state) is at index 0.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	f := bytes.Fields(b[i+1:])
	const pgrp, utime, stime, cutime, cstime = 5 - 3, 14 - 3, 15 - 3, 16 - 3, 17 - 3
	if len(f) <= cstime {
		return stat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var n [5]int64
	for j, k := range []int{pgrp, utime, stime, cutime, cstime} {
		if n[j], err = strconv.ParseInt(string(f[k]), 10, 64); err != nil {
			return stat{}, fmt.Errorf("/proc/%d/stat: field %d: %q", pid, k+3, f[k])
		}
	}
	return stat{pgrp: int(n[0]), utime: n[1], stime: n[2], cutime: n[3], cstime: n[4]}, nil
}

// groupMembers returns the processes of the group pgid, pgid included if
// it lives: every process of /proc whose stat names pgid as its group.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil && st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// rss returns the resident set size in bytes of pid and of the other
// processes of the group it leads, summed (VmRSS in /proc/PID/status: pages
// shared between them, the program's text say, count once per process).
func rss(pid int) (int64, error) {
	total, err := rss1(pid)
	if err != nil {
		return 0, err
	}
	for _, m := range groupMembers(pid) {
		if m != pid {
			if n, err := rss1(m); err == nil {
				total += n
			}
		}
	}
	return total, nil
}

// rss1 returns pid's resident set size in bytes.
func rss1(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest) // "1234 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			break
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			break
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// machineInfo returns the CPU model (from /proc/cpuinfo) and the kernel
// release.
func machineInfo() (cpu, kernel string) {
	cpu, kernel = "unknown", "linux"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			k, v, ok := bytes.Cut(line, []byte(":"))
			if ok && string(bytes.TrimSpace(k)) == "model name" {
				cpu = string(bytes.TrimSpace(v))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + string(bytes.TrimSpace(b))
	}
	return cpu, kernel
}
