//go:build !unix

package syncengine

import "time"

func cpuTime() time.Duration { return 0 }
