package integration

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/manager"
)

// agentNamespace is where the manager started by the harness looks for agent leases.
const agentNamespace = manager.DefaultAgentNamespace

// createKubeNode registers a Kubernetes Node (there is no kubelet: it is only an object) and
// removes it and its Dora Node afterwards, since envtest has no garbage collector.
func createKubeNode(t *testing.T, name string, labels map[string]string) *corev1.Node {
	t.Helper()
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := k8sClient.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The Kubernetes Node first, or the manager would create its Dora Node again.
		_ = k8sClient.Delete(ctx, node)
		_ = k8sClient.Delete(ctx, &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
	return node
}

// ensureAgentNamespace creates the agents' namespace, which every node test shares.
func ensureAgentNamespace(t *testing.T) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: agentNamespace}}
	if err := k8sClient.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// writeAgentLease creates or updates the agent lease of a node as renewed at renewed.
func writeAgentLease(t *testing.T, nodeName string, renewed time.Time) *coordinationv1.Lease {
	t.Helper()
	ctx := context.Background()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: doradev1.AgentLeasePrefix + nodeName}}
	err := k8sClient.Get(ctx, client.ObjectKeyFromObject(lease), lease)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	lease.Spec = coordinationv1.LeaseSpec{
		HolderIdentity:       ptr.To(nodeName),
		LeaseDurationSeconds: ptr.To[int32](40),
		RenewTime:            ptr.To(metav1.NewMicroTime(renewed)),
	}
	if apierrors.IsNotFound(err) {
		err = k8sClient.Create(ctx, lease)
		t.Cleanup(func() { _ = k8sClient.Delete(ctx, lease) })
	} else {
		err = k8sClient.Update(ctx, lease)
	}
	if err != nil {
		t.Fatal(err)
	}
	return lease
}

// expectCondition waits until the Dora Node has the condition with that status and reason,
// and returns the node as it was then.
func expectCondition(g *WithT, name, condType string, status metav1.ConditionStatus, reason, why string) *doradev1.Node {
	dn := &doradev1.Node{}
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKey{Name: name}, dn)).To(Succeed())
		cond := meta.FindStatusCondition(dn.Status.Conditions, condType)
		g.Expect(cond).NotTo(BeNil(), "no %s condition in %+v", condType, dn.Status.Conditions)
		g.Expect(cond.Status).To(Equal(status))
		g.Expect(cond.Reason).To(Equal(reason))
		g.Expect(cond.ObservedGeneration).To(Equal(dn.Generation))
	}).WithTimeout(10*time.Second).Should(Succeed(), why)
	return dn
}

// expectEvent waits for an event with that reason about an object of that name.
func expectEvent(g *WithT, name, reason, why string) {
	g.Eventually(func(g Gomega) {
		events := &corev1.EventList{}
		g.Expect(k8sClient.List(context.Background(), events, client.MatchingFields{"involvedObject.name": name})).To(Succeed())
		reasons := []string{}
		for _, e := range events.Items {
			reasons = append(reasons, e.Reason)
		}
		g.Expect(reasons).To(ContainElement(reason))
	}).WithTimeout(10*time.Second).Should(Succeed(), why)
}

// Every Kubernetes Node gets a Dora Node of the same name, owned by it so that the garbage
// collector removes it with the node, with the default spec and the manager's conditions.
func TestDoraNodeIsCreatedForEachKubernetesNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-created", nil)

	dn := &doradev1.Node{}
	g.Eventually(func() error {
		return k8sClient.Get(ctx, client.ObjectKey{Name: node.Name}, dn)
	}).WithTimeout(10*time.Second).Should(Succeed(), "the Dora Node should be created")
	g.Expect(metav1.IsControlledBy(dn, node)).To(BeTrue(), "the Dora Node should be owned by the node: %v", dn.OwnerReferences)
	g.Expect(*dn.OwnerReferences[0].BlockOwnerDeletion).To(BeTrue())
	g.Expect(dn.Spec.Allow).To(ConsistOf(doradev1.CPUWorkload, doradev1.GPUWorkload), "allow should take the CRD default")
	g.Expect(dn.Spec.SchedulingDisabled).To(BeFalse())

	dn = expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound,
		"a node without an agent lease should be Ready Unknown")
	g.Expect(meta.FindStatusCondition(dn.Status.Conditions, doradev1.ConditionReady).Message).To(
		ContainSubstring("the dora-node-agent DaemonSet must run on node node-created"))
	expectCondition(g, node.Name, doradev1.NodeGPUsHealthy, metav1.ConditionTrue, doradev1.ReasonNoGPUs,
		"a node whose agent reports no GPU has no unhealthy GPU")
	g.Expect(dn.Status.ObservedGeneration).To(Equal(dn.Generation))

	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(node), node)).To(Succeed())
		g.Expect(node.Labels).To(HaveKeyWithValue(doradev1.LabelAllowCPUWorkload, "true"))
		g.Expect(node.Labels).To(HaveKeyWithValue(doradev1.LabelAllowGPUWorkload, "true"))
	}).WithTimeout(10*time.Second).Should(Succeed(), "the node should be labelled as taking both workload classes")

	// Deleted by hand while its node is there, it comes back.
	oldUID := dn.UID
	g.Expect(k8sClient.Delete(ctx, dn)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: node.Name}, dn)).To(Succeed())
		g.Expect(dn.UID).NotTo(Equal(oldUID))
	}).WithTimeout(10*time.Second).Should(Succeed(), "a deleted Dora Node should be created again while its node exists")
}

// No Dora Node is made for a node that does not exist, even when an agent lease names it;
// a Dora Node without a node is left as it is.
func TestNoDoraNodeWithoutAKubernetesNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	writeAgentLease(t, "node-ghost-lease", time.Now())
	byHand := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-ghost"}}
	g.Expect(k8sClient.Create(ctx, byHand)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, byHand) })

	g.Consistently(func(g Gomega) {
		err := k8sClient.Get(ctx, client.ObjectKey{Name: "node-ghost-lease"}, &doradev1.Node{})
		g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "got %v", err)
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(byHand), byHand)).To(Succeed())
		g.Expect(byHand.OwnerReferences).To(BeEmpty())
		g.Expect(byHand.Status.Conditions).To(BeEmpty())
	}).WithTimeout(3*time.Second).Should(Succeed(), "the manager must not create or touch a Dora Node without a Kubernetes Node")
}

// Setting schedulingDisabled cordons the node and clearing it uncordons it; a cordon made
// by someone else (kubectl drain, a reboot daemon) is left alone until the spec changes.
func TestSchedulingDisabledCordonsTheNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-cordon", nil)
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound, "the Dora Node should be set up")

	unschedulable := func(g Gomega) bool {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(node), node)).To(Succeed())
		return node.Spec.Unschedulable
	}
	setDisabled := func(disabled bool) {
		dn := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node.Name}}
		patch := []byte(`{"spec":{"schedulingDisabled":false}}`)
		if disabled {
			patch = []byte(`{"spec":{"schedulingDisabled":true}}`)
		}
		g.Expect(k8sClient.Patch(ctx, dn, client.RawPatch(types.MergePatchType, patch))).To(Succeed())
	}

	setDisabled(true)
	g.Eventually(unschedulable).WithTimeout(10*time.Second).Should(BeTrue(), "schedulingDisabled should cordon the node")
	expectEvent(g, node.Name, "Cordoned", "the cordon should be reported")
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound,
		"the manager's conditions should follow the new generation")

	setDisabled(false)
	g.Eventually(unschedulable).WithTimeout(10*time.Second).Should(BeFalse(), "clearing schedulingDisabled should uncordon the node")
	expectEvent(g, node.Name, "Uncordoned", "the uncordon should be reported")

	// kubectl drain cordons the node behind the Dora Node's back: the manager leaves it so.
	g.Expect(k8sClient.Patch(ctx, node, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`)))).To(Succeed())
	g.Consistently(unschedulable).WithTimeout(3*time.Second).Should(BeTrue(), "a drain by someone else must not be undone")
}

// allow drives the workload-class labels, and leaves the node's other labels alone.
func TestAllowDrivesTheWorkloadLabels(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-allow", map[string]string{"team": "vision"})
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound, "the Dora Node should be set up")

	dn := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node.Name}}
	g.Expect(k8sClient.Patch(ctx, dn, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"allow":["GPUWorkload"]}}`)))).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(node), node)).To(Succeed())
		g.Expect(node.Labels).To(HaveKeyWithValue(doradev1.LabelAllowCPUWorkload, "false"))
		g.Expect(node.Labels).To(HaveKeyWithValue(doradev1.LabelAllowGPUWorkload, "true"))
	}).WithTimeout(10*time.Second).Should(Succeed(), "a GPU-only node should refuse CPU workloads")
	g.Expect(node.Labels).To(HaveKeyWithValue("team", "vision"))
}

// Ready follows the agent's lease: Unknown without one, True while it is renewed, False with
// the time of the last renewal once it is stale.
func TestReadyFollowsTheAgentLease(t *testing.T) {
	g := NewWithT(t)
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-lease", nil)
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound,
		"without a lease the agent is not found")

	writeAgentLease(t, node.Name, time.Now())
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting,
		"a lease renewed now means the agent is reporting")
	expectEvent(g, node.Name, "NodeReady", "the node becoming ready should be reported")

	renewed := time.Now().Add(-10 * time.Minute).UTC()
	writeAgentLease(t, node.Name, renewed)
	dn := expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionFalse, doradev1.ReasonAgentLeaseExpired,
		"a lease renewed ten minutes ago is stale")
	g.Expect(meta.FindStatusCondition(dn.Status.Conditions, doradev1.ConditionReady).Message).To(
		ContainSubstring("last renewed its lease dora-system/dora-agent-node-lease at " + renewed.Format(time.RFC3339)))
	expectEvent(g, node.Name, "NodeNotReady", "the node becoming not ready should be reported")
}

// The agent and the manager both write the status with server-side apply, each under its own
// field manager: neither removes what the other wrote, and the manager reads the agent's GPUs.
func TestAgentStatusSurvivesTheManagersWrites(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-shared-status", nil)
	expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionUnknown, doradev1.ReasonAgentNotFound, "the Dora Node should be set up")

	applyAgentStatus := func(secondHealthy bool) {
		second := map[string]any{"index": int64(1), "uuid": "GPU-bbbb", "product": "Tesla V100-SXM2-16GB", "healthy": secondHealthy}
		if !secondHealthy {
			second["health"] = "XID 79: GPU has fallen off the bus"
		}
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "dora.dev/v1alpha1",
			"kind":       "Node",
			"metadata":   map[string]any{"name": node.Name},
			"status": map[string]any{
				"gpuCount": int64(2),
				"gpus": []any{
					map[string]any{"index": int64(0), "uuid": "GPU-aaaa", "product": "Tesla V100-SXM2-16GB", "healthy": true},
					second,
				},
				"conditions": []any{map[string]any{
					"type": doradev1.NodeNVMLAvailable, "status": "True", "reason": "NVMLLoaded",
					"message": "NVML answers", "lastTransitionTime": "2026-01-01T00:00:00Z",
				}},
			},
		}}
		g.Expect(k8sClient.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
			client.FieldOwner(doradev1.FieldManagerAgent), client.ForceOwnership)).To(Succeed())
	}
	agentFieldsKept := func(dn *doradev1.Node) {
		t.Helper()
		g.Expect(dn.Status.GPUs).To(HaveLen(2), "the agent's GPUs should be kept")
		g.Expect(dn.Status.GPUCount).To(Equal(int32(2)))
		nvml := meta.FindStatusCondition(dn.Status.Conditions, doradev1.NodeNVMLAvailable)
		g.Expect(nvml).NotTo(BeNil(), "the agent's condition should be kept: %+v", dn.Status.Conditions)
		g.Expect(nvml.Reason).To(Equal("NVMLLoaded"))
		g.Expect(meta.FindStatusCondition(dn.Status.Conditions, doradev1.ConditionReady)).NotTo(BeNil(),
			"the manager's condition should be kept: %+v", dn.Status.Conditions)
		managers := map[string]bool{}
		for _, f := range dn.ManagedFields {
			if f.Subresource == "status" && f.Operation == metav1.ManagedFieldsOperationApply {
				managers[f.Manager] = true
			}
		}
		g.Expect(managers).To(HaveKey(doradev1.FieldManagerAgent))
		g.Expect(managers).To(HaveKey(doradev1.FieldManagerManager))
	}

	applyAgentStatus(false)
	dn := expectCondition(g, node.Name, doradev1.NodeGPUsHealthy, metav1.ConditionFalse, doradev1.ReasonGPUUnhealthy,
		"an unhealthy GPU reported by the agent should make GPUsHealthy False")
	g.Expect(meta.FindStatusCondition(dn.Status.Conditions, doradev1.NodeGPUsHealthy).Message).To(
		Equal("1 of 2 GPUs unhealthy: GPU 1 (GPU-bbbb): XID 79: GPU has fallen off the bus"))
	agentFieldsKept(dn)

	applyAgentStatus(true)
	dn = expectCondition(g, node.Name, doradev1.NodeGPUsHealthy, metav1.ConditionTrue, "AllGPUsHealthy",
		"GPUsHealthy should clear when the agent reports the GPU healthy again")
	agentFieldsKept(dn)
}

// Once settled, a node is not written again: a fresh lease is looked at again when it would
// go stale, not polled.
func TestSettledDoraNodeIsNotRewritten(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	node := createKubeNode(t, "node-settled", nil)
	writeAgentLease(t, node.Name, time.Now())
	dn := expectCondition(g, node.Name, doradev1.ConditionReady, metav1.ConditionTrue, doradev1.ReasonAgentReporting,
		"the node should become ready")
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(node), node)).To(Succeed())
		g.Expect(node.Labels).To(HaveKey(doradev1.LabelAllowGPUWorkload))
	}).WithTimeout(10*time.Second).Should(Succeed(), "the node should be labelled")

	settledDora, settledNode := dn.ResourceVersion, node.ResourceVersion
	g.Consistently(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(dn), dn)).To(Succeed())
		g.Expect(dn.ResourceVersion).To(Equal(settledDora))
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(node), node)).To(Succeed())
		g.Expect(node.ResourceVersion).To(Equal(settledNode))
	}).WithTimeout(3*time.Second).Should(Succeed(), "a settled Dora Node and its node must not be written again")
}

// A Dora Node applied before its Kubernetes Node exists (from a Dora document, say) is
// adopted once the node appears, so that it goes with it; its spec is kept.
func TestADoraNodeMadeFirstIsAdopted(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ensureAgentNamespace(t)
	early := &doradev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-early"},
		Spec:       doradev1.NodeSpec{Allow: []string{doradev1.GPUWorkload}},
	}
	g.Expect(k8sClient.Create(ctx, early)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, early) })

	node := createKubeNode(t, "node-early", nil)
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(early), early)).To(Succeed())
		g.Expect(metav1.IsControlledBy(early, node)).To(BeTrue())
	}).WithTimeout(10*time.Second).Should(Succeed(), "the Dora Node should be adopted by its node")
	g.Expect(early.Spec.Allow).To(Equal([]string{doradev1.GPUWorkload}), "adoption must keep the spec")
}
