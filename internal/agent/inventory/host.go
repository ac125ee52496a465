package inventory

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// ParseCPUInfo reads /proc/cpuinfo: the first model name and the number of logical cores.
func ParseCPUInfo(r io.Reader) doradev1.CPUInfo {
	var cpu doradev1.CPUInfo
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "processor":
			cpu.Cores++
		case "model name":
			if cpu.Product == "" {
				cpu.Product = strings.TrimSpace(value)
			}
		}
	}
	return cpu
}

// ParseMemInfo reads MemTotal from /proc/meminfo, in MiB.
func ParseMemInfo(r io.Reader) int64 {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return 0
}
