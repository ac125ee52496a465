package node

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent/inventory"
	"github.com/dora-hpc/dora-operator/internal/agent/report"
	"github.com/dora-hpc/dora-operator/test/gitops"
)

// Every state a Dora Node takes, as kstatus reads the status its two writers leave (the
// agent's inventory, report.Status, and the manager's Ready and GPUsHealthy, from the
// agent's lease and the GPUs it reports), and the Argo CD testdata
// (config/argocd/.../Node/testdata/<argocd>.yaml) made of it.
//
// kstatus speaks of reconciliation, not of hardware: a node whose agent reports is Current
// even with a GPU down, and one whose agent is missing or silent is InProgress (Ready
// False or Unknown), as a Kubernetes Node that is not Ready would be. Argo CD's health
// check, which speaks of health, calls both Degraded.
func TestKStatus(t *testing.T) {
	now := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	fresh := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](40), RenewTime: ptr.To(metav1.NewMicroTime(now.Add(-10 * time.Second)))}}
	stale := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](40), RenewTime: ptr.To(metav1.NewMicroTime(now.Add(-10 * time.Minute)))}}
	gpu := func(index int32, uuid string, healthy bool, health string) doradev1.GPUInfo {
		return doradev1.GPUInfo{Index: index, Minor: index, UUID: uuid, Product: "NVIDIA H100 80GB HBM3", MemoryTotalMiB: 81559, Healthy: healthy, Health: health}
	}
	healthy := report.Input{
		GPUs: inventory.GPUs{DriverVersion: "550.54.15", CUDAVersion: "12.4", Devices: []doradev1.GPUInfo{
			gpu(0, "GPU-5fd4a7c2-9b1e-4d0a-8f3b-2c6e1a7d9e04", true, ""), gpu(1, "GPU-8a1b2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d", true, "")}},
		CPU: doradev1.CPUInfo{Product: "AMD EPYC 9454 48-Core Processor", Cores: 96}, MemoryMiB: 1548288,
	}
	failing := healthy
	failing.GPUs.Devices = []doradev1.GPUInfo{healthy.GPUs.Devices[0], gpu(1, "GPU-8a1b2c3d-4e5f-4a6b-9c7d-0e1f2a3b4c5d", false, "XID 79: GPU has fallen off the bus")}
	noNVML := report.Input{NVMLError: "ERROR_LIBRARY_NOT_FOUND", CPU: healthy.CPU, MemoryMiB: healthy.MemoryMiB}
	cpuOnly := report.Input{CPU: healthy.CPU, MemoryMiB: healthy.MemoryMiB}

	cases := []struct {
		name string
		// agent is what the node's agent reported, nil when it never did.
		agent    *report.Input
		lease    *coordinationv1.Lease
		cordoned bool
		behind   bool
		want     status.Status
		reason   string
		argocd   string
	}{
		{name: "agent reporting, GPUs healthy", agent: &healthy, lease: fresh, want: status.CurrentStatus, argocd: "ready"},
		{name: "a node without GPUs", agent: &cpuOnly, lease: fresh, want: status.CurrentStatus, argocd: "no-gpus"},
		{name: "no agent yet", lease: nil, want: status.InProgressStatus, reason: doradev1.ReasonAgentNotFound, argocd: "agent-missing"},
		{name: "the agent stopped renewing its lease", agent: &healthy, lease: stale,
			want: status.InProgressStatus, reason: doradev1.ReasonAgentLeaseExpired, argocd: "agent-lease-expired"},
		{name: "a GPU unhealthy", agent: &failing, lease: fresh, want: status.CurrentStatus, argocd: "gpu-unhealthy"},
		{name: "NVML does not answer", agent: &noNVML, lease: fresh, want: status.CurrentStatus, argocd: "nvml-unavailable"},
		{name: "scheduling disabled", agent: &healthy, lease: fresh, cordoned: true, want: status.CurrentStatus, argocd: "cordoned"},
		{name: "the spec changed since the status was written", agent: &healthy, lease: fresh, cordoned: true, behind: true,
			want: status.InProgressStatus, reason: "LatestGenerationNotObserved", argocd: "generation-behind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dn := &doradev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "gpu-node-1", Generation: 1},
				Spec: doradev1.NodeSpec{SchedulingDisabled: tc.cordoned, Endpoint: "http://gpu-node-1:8080",
					Allow: []string{doradev1.CPUWorkload, doradev1.GPUWorkload}},
			}
			if tc.agent != nil {
				dn.Status = report.Status(*tc.agent)
			}
			ready, _ := readiness(dn.Name, "dora-system", tc.lease, now, DefaultLeaseGrace)
			ready.ObservedGeneration = dn.Generation
			gpus := gpuHealth(dn.Status.GPUs)
			gpus.ObservedGeneration = dn.Generation
			owned, _ := ownedConditions(dn.Status.Conditions, metav1.NewTime(now), ready, gpus)
			for _, c := range owned {
				meta.SetStatusCondition(&dn.Status.Conditions, c)
			}
			dn.Status.ObservedGeneration = dn.Generation
			if tc.behind {
				dn.Generation++
			}
			res, err := gitops.KStatus(dn)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.want {
				t.Errorf("kstatus = %s (%s), want %s; conditions %+v", res.Status, res.Message, tc.want, dn.Status.Conditions)
			}
			if tc.reason != "" && (len(res.Conditions) == 0 || res.Conditions[0].Reason != tc.reason) {
				t.Errorf("kstatus conditions = %+v, want reason %s", res.Conditions, tc.reason)
			}
			if tc.argocd != "" {
				gitops.Golden(t, dn, tc.argocd, "internal/controller/node/kstatus_test.go ("+tc.name+")")
			}
		})
	}
}
