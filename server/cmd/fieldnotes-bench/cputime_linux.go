package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) used so far by this process and, when pid is
// not 0, by that child process: what a phase cost whatever else the machine was doing.
func cpuTime(pid int) time.Duration {
	var ru syscall.Rusage
	var d time.Duration
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		d = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pid != 0 {
		// /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 Hz
		// on Linux); the command name before them is in parentheses and may hold spaces.
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return d
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			d += time.Duration(u+s) * 10 * time.Millisecond
		}
	}
	return d
}
