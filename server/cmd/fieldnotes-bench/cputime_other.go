//go:build !linux

package main

import "time"

// cpuTime is not measured here: phases report 0 CPU time.
func cpuTime(pid int) time.Duration { return 0 }
