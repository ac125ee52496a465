package agent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
)

// The metrics are the last poll's readings, per GPU, labelled with the pod holding it.
func TestCollectorServesTheLatestReading(t *testing.T) {
	server, err := nvmlmock.Fleet("Tesla V100-SXM2-16GB", 2, 16384, "n1")
	if err != nil {
		t.Fatal(err)
	}
	server.SetReadings(0, 0, 35, 60, 0)
	server.SetReadings(1, 75, 66, 210, 8192)
	uuid0, _ := server.Device(0).GetUUID()
	uuid1, _ := server.Device(1).GetUUID()
	holders := func(context.Context) (map[string]string, error) {
		return map[string]string{uuid1: "team/train-0"}, nil
	}
	a := New(nil, clocktesting.NewFakeClock(time.Now()), Config{NodeName: "n1"}, NewNVML(server, nil), FixedHost(doradev1.CPUInfo{}, 0), holders)
	c := NewCollector(a)
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("%d metrics before the first reading, want none", n)
	}

	a.Read(context.Background())
	series := func(name, help string, v0, v1 string) string {
		return fmt.Sprintf(`# HELP %[1]s %[2]s
# TYPE %[1]s gauge
%[1]s{model="Tesla V100-SXM2-16GB",node="n1",pod="",uuid="%[3]s"} %[5]s
%[1]s{model="Tesla V100-SXM2-16GB",node="n1",pod="team/train-0",uuid="%[4]s"} %[6]s
`, name, help, uuid0, uuid1, v0, v1)
	}
	want := series("dora_gpu_utilization_ratio", "GPU utilisation, 0 to 1.", "0", "0.75") +
		series("dora_gpu_power_watts", "GPU power draw.", "60", "210") +
		series("dora_gpu_memory_used_bytes", "GPU memory in use.", "0", "8.589934592e+09")
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"dora_gpu_utilization_ratio", "dora_gpu_power_watts", "dora_gpu_memory_used_bytes"); err != nil {
		t.Fatal(err)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) != 0 {
		t.Fatalf("metric lint: %v %v", problems, err)
	}
}
