//go:build unix

package syncengine

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (user and system, every thread): a
// benchmark's second opinion when other work shares the machine and wall time is noise.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
