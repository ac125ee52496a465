package podspec

import (
	"fmt"
	"math"
	"regexp"
	"strconv"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// GPUCount is the number of GPUs each replica asks for: selectors.gpu.count, 0 when there is
// no GPU selector or no count. A count the API server should have refused (not a whole number
// of 0 or more) also gives 0; BuildPod reports it as an error.
func GPUCount(wl *doradev1.Workload) int64 {
	n, err := gpuCount(wl)
	if err != nil {
		return 0
	}
	return n
}

func gpuCount(wl *doradev1.Workload) (int64, error) {
	gpu := wl.Spec.Selectors.GPU
	if gpu == nil || gpu.Count == nil {
		return 0, nil
	}
	count := gpu.Count
	if count.Type == intstr.Int {
		if count.IntVal < 0 {
			return 0, fmt.Errorf("selectors.gpu.count: %d is negative; give a whole number of GPUs, such as 2", count.IntVal)
		}
		return int64(count.IntVal), nil
	}
	n, err := strconv.ParseInt(count.StrVal, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("selectors.gpu.count: %q is not a whole number of GPUs; give one such as 2", count.StrVal)
	}
	return n, nil
}

// cpuCount is the grammar of a CPU count given as a string: cores with up to three decimals,
// or millicores.
var cpuCount = regexp.MustCompile(`^([0-9]+(\.[0-9]{1,3})?|[0-9]+m)$`)

// CPUQuantity is the CPU a selectors.cpu.count asks for: whole cores (2 or "2"), a decimal
// ("0.5") or millicores ("500m"). No count is a zero quantity, which asks for nothing.
func CPUQuantity(count *intstr.IntOrString) (resource.Quantity, error) {
	if count == nil {
		return resource.Quantity{}, nil
	}
	if count.Type == intstr.Int {
		if count.IntVal < 0 {
			return resource.Quantity{}, fmt.Errorf("selectors.cpu.count: %d is negative; give cores (2, \"0.5\") or millicores (\"500m\")", count.IntVal)
		}
		return *resource.NewQuantity(int64(count.IntVal), resource.DecimalSI), nil
	}
	if !cpuCount.MatchString(count.StrVal) {
		return resource.Quantity{}, fmt.Errorf("selectors.cpu.count: %q is not a CPU count; give cores (2, \"0.5\") or millicores (\"500m\")", count.StrVal)
	}
	q, err := resource.ParseQuantity(count.StrVal)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("selectors.cpu.count: %q: %w", count.StrVal, err)
	}
	return q, nil
}

// maxRunTime is the grammar of config.maxRunTime.
var maxRunTime = regexp.MustCompile(`^([1-9][0-9]*)([smhd])$`)

var secondsPer = map[string]int64{"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}

// ParseMaxRunTime turns a config.maxRunTime (a number and a unit s, m, h or d: "30s", "10m",
// "2h", "1d") into seconds.
func ParseMaxRunTime(s string) (int64, error) {
	m := maxRunTime.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("config.maxRunTime: %q must be a number and a unit s, m, h or d, such as 30s, 10m, 2h or 1d", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	unit := secondsPer[m[2]]
	if err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("config.maxRunTime: %q is too long", s)
	}
	return n * unit, nil
}
