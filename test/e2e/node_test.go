package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// Every fake node gets a Dora Node showing the GPUs its agent found, Ready while the agent
// renews its Lease, and GPU labels on the Kubernetes Node.
func TestDoraNodesShowTheFleet(t *testing.T) {
	ctx := context.Background()
	for _, pool := range fleet {
		for _, name := range pool.NodeNames() {
			t.Run(name, func(t *testing.T) {
				g := NewWithT(t)
				dn := &doradev1.Node{}
				g.Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, dn)).To(Succeed())
					g.Expect(dn.Status.GPUCount).To(BeEquivalentTo(pool.GPUs))
					g.Expect(meta.IsStatusConditionTrue(dn.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
					g.Expect(meta.IsStatusConditionTrue(dn.Status.Conditions, doradev1.NodeGPUsHealthy)).To(BeTrue())
				}).WithTimeout(60*time.Second).Should(Succeed(), "the Dora Node should report the agent's inventory and be Ready")
				g.Expect(dn.Status.GPUModels).To(Equal(pool.GPUProduct))
				g.Expect(dn.Status.GPUMemoryMiB).To(BeEquivalentTo(pool.GPUs * pool.GPUMemoryMiB))
				g.Expect(dn.Status.CPU).NotTo(BeNil())
				g.Expect(dn.Status.CPU.Product).To(Equal(pool.CPUProduct))

				node := &corev1.Node{}
				g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, node)).To(Succeed())
				g.Expect(metav1.IsControlledBy(dn, node)).To(BeTrue(), "the Dora Node should go with its node")
				if pool.GPUs > 0 {
					g.Eventually(func(g Gomega) {
						g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: name}, node)).To(Succeed())
						g.Expect(node.Labels).To(HaveKeyWithValue(gpu.ModelLabelPrefix+gpu.ProductLabel(pool.GPUProduct), strconv.Itoa(pool.GPUs)))
					}).WithTimeout(30*time.Second).Should(Succeed(), "the agent should label the node with its GPU model")
				}
			})
		}
	}
}

// A Dora Node's schedulingDisabled cordons the node: the scheduler then leaves it out.
func TestSchedulingDisabledKeepsPodsOff(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	newNamespace(t, "e2e-cordon")
	dn := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "h100-0"}}
	set := func(disabled bool) {
		patch := `{"spec":{"schedulingDisabled":false}}`
		if disabled {
			patch = `{"spec":{"schedulingDisabled":true}}`
		}
		g.Expect(k8sClient.Patch(ctx, dn, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
	}
	g.Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(dn), dn) }).
		WithTimeout(30 * time.Second).Should(Succeed())
	set(true)
	t.Cleanup(func() { set(false) })
	g.Eventually(func(g Gomega) {
		node := &corev1.Node{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "h100-0"}, node)).To(Succeed())
		g.Expect(node.Spec.Unschedulable).To(BeTrue())
	}).WithTimeout(30*time.Second).Should(Succeed(), "the node should be cordoned")

	pod := gpuPod("e2e-cordon", "wants-h100", "NVIDIA H100 80GB HBM3", 1)
	g.Expect(k8sClient.Create(ctx, pod)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		var msg string
		for _, c := range pod.Status.Conditions {
			if c.Type == corev1.PodScheduled {
				msg = c.Message
			}
		}
		g.Expect(msg).To(ContainSubstring("unschedulable"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the only H100 node is cordoned, so the pod should wait")

	set(false)
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(pod), pod)).To(Succeed())
		g.Expect(pod.Spec.NodeName).To(Equal("h100-0"))
	}).WithTimeout(60*time.Second).Should(Succeed(), "uncordoned, the node should take the pod")
}

// A node whose Dora Node does not allow CPU workloads takes none: a CPU workload pinned to
// it waits, Queued, until the node allows them again.
func TestNodeAllowKeepsAWorkloadClassOff(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.allow")
	dn := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cpu-0"}}
	allow := func(classes string) {
		patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"allow":`+classes+`}}`))
		g.Expect(k8sClient.Patch(ctx, dn, patch)).To(Succeed())
	}
	allow(`["GPUWorkload"]`)
	t.Cleanup(func() { allow(`["CPUWorkload","GPUWorkload"]`) })
	g.Eventually(func(g Gomega) {
		node := &corev1.Node{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "cpu-0"}, node)).To(Succeed())
		g.Expect(node.Labels).To(HaveKeyWithValue(doradev1.LabelAllowCPUWorkload, "false"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the node should be labelled as refusing CPU workloads")

	wl := gpuWorkload(ns, "pinned", 1, 0)
	wl.Spec.Selectors.Node = &doradev1.NodeSelector{Name: "cpu-0"}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseQueued, "the only node it may use refuses CPU workloads")

	allow(`["CPUWorkload","GPUWorkload"]`)
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "allowed again, the node should take it")
	g.Expect(wl.Status.Containers[0].Node).To(Equal("cpu-0"))
}

// The manager's own Zone counts the zone's nodes, and its GPUs by model, as the agents report
// them.
func TestZoneStatusCountsNodesAndGPUs(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	want := map[string]int32{}
	var nodes int32
	for _, pool := range fleet {
		nodes += int32(pool.Count)
		if pool.GPUs > 0 {
			want[pool.GPUProduct] += int32(pool.Count * pool.GPUs)
		}
	}
	g.Eventually(func(g Gomega) {
		z := &doradev1.Zone{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "dc-rov-01"}, z)).To(Succeed())
		g.Expect(z.Status.Nodes).To(Equal(nodes))
		got := map[string]int32{}
		for _, c := range z.Status.GPUs {
			got[c.Product] = c.Count
		}
		g.Expect(got).To(Equal(want))
		g.Expect(meta.IsStatusConditionTrue(z.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
	}).WithTimeout(60*time.Second).Should(Succeed(), "the zone should count %d nodes and %v", nodes, want)
}
