// Package memlimit gives a Dora process running under a container memory limit a Go soft
// memory limit below it (as GOMEMLIMIT would), so that the garbage collector works harder
// as the heap nears the limit instead of the kernel killing the process at it. A
// GOMEMLIMIT set in the environment wins.
package memlimit

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the container's limit the Go heap may grow to: the rest is for the
// runtime's own memory, stacks and what the collector has not yet returned.
const Share = 0.9

// cgroupFiles are where a container's memory limit is read: cgroup v2, then v1.
var cgroupFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// Soft is the soft limit for a container limit of limit bytes.
func Soft(limit int64) int64 { return int64(float64(limit) * Share) }

// Parse reads a cgroup memory limit file's content: the limit in bytes, or 0 for none
// ("max", or v1's huge "unlimited" number).
func Parse(content string) (int64, error) {
	v := strings.TrimSpace(content)
	if v == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory limit %q: %w", v, err)
	}
	// cgroup v1 says "no limit" with a number near the largest page-aligned int64.
	if n <= 0 || n >= 1<<62 {
		return 0, nil
	}
	return n, nil
}

// Apply sets the soft memory limit from the container's limit unless GOMEMLIMIT is set, and
// says what it did, for the log: the limit set (0 for none) and where it came from.
func Apply() (int64, string, error) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT", nil
	}
	for _, f := range cgroupFiles {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, f, err
		}
		limit, err := Parse(string(data))
		if err != nil || limit == 0 {
			return 0, f, err
		}
		soft := Soft(limit)
		debug.SetMemoryLimit(soft)
		return soft, f, nil
	}
	return 0, "", nil
}
