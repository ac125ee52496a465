package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/naming"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// workspace creates a Workspace and returns its namespace once the manager has made it.
func workspace(t *testing.T, name string) string {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	ws := &doradev1.Workspace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	g.Expect(k8sClient.Create(ctx, ws)).To(Succeed())
	t.Cleanup(func() { _ = k8sClient.Delete(ctx, ws) })
	ns := naming.WorkspaceNamespace(name)
	g.Eventually(func() error { return k8sClient.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{}) }).
		WithTimeout(20*time.Second).Should(Succeed(), "the workspace's namespace should appear")
	return ns
}

// gpuWorkload is a workload of replicas pods, each with gpus GPUs of one of products.
func gpuWorkload(namespace, name string, replicas int32, gpus int32, products ...string) *doradev1.Workload {
	wl := &doradev1.Workload{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: doradev1.WorkloadSpec{
			Replica: &doradev1.ReplicaSpec{Count: ptr.To(replicas)},
			Image:   doradev1.ImageSpec{Image: "nvcr.io/nvidia/pytorch:24.05-py3"},
			Config:  &doradev1.ContainerConfig{Cmd: doradev1.NewString("python train.py")},
		},
	}
	if gpus > 0 {
		wl.Spec.Selectors.GPU = &doradev1.GPUSelector{Count: ptr.To(intstr.FromInt32(gpus)), ProductName: doradev1.NewList(products...)}
	}
	return wl
}

func workloadPods(g Gomega, wl *doradev1.Workload) []corev1.Pod {
	list := &corev1.PodList{}
	g.Expect(k8sClient.List(context.Background(), list, client.InNamespace(wl.Namespace),
		client.MatchingLabels{podspec.LabelWorkload: naming.WorkloadLabelValue(wl.Name)})).To(Succeed())
	return list.Items
}

func expectPhase(g *WithT, wl *doradev1.Workload, phase doradev1.WorkloadPhase, why string) {
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(context.Background(), client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Status.Phase).To(Equal(phase))
		if phase == doradev1.WorkloadPhaseRunning {
			g.Expect(meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.ConditionReady)).To(BeTrue(), "every replica should be ready")
		}
	}).WithTimeout(60*time.Second).Should(Succeed(), why)
}

// Pods land only on nodes of the requested model, and the workload reports them Running.
func TestWorkloadPodsLandOnlyOnTheRequestedModel(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.models")
	wl := gpuWorkload(ns, "quadro.train", 3, 2, "Quadro RTX 6000")
	wl.Spec.Config.Affinity = doradev1.AffinityDistribute
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())

	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "three replicas of two Quadro GPUs fit on the two Quadro nodes")
	g.Expect(wl.Status.Ready).To(Equal("3/3"))
	g.Expect(meta.IsStatusConditionTrue(wl.Status.Conditions, doradev1.ConditionReady)).To(BeTrue())
	pods := workloadPods(g, wl)
	g.Expect(pods).To(HaveLen(3))
	for _, pod := range pods {
		node := &corev1.Node{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: pod.Spec.NodeName}, node)).To(Succeed())
		g.Expect(node.Labels[gpu.LabelProduct]).To(Equal("Quadro-RTX-6000"), "pod %s landed on %s", pod.Name, node.Name)
	}
	for _, c := range wl.Status.Containers {
		g.Expect(c.Node).To(HavePrefix("rtx6000-"))
		g.Expect(c.State).To(Equal(doradev1.ContainerRunning))
	}
}

// A workload asking for more GPUs than any node has waits as Queued, with the scheduler's
// own reason; one asking for a model nobody has says so.
func TestWorkloadThatCannotFitIsQueuedWithTheReason(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.queued")

	big := gpuWorkload(ns, "too-big", 1, 16, "NVIDIA H100 80GB HBM3")
	g.Expect(k8sClient.Create(ctx, big)).To(Succeed())
	expectPhase(g, big, doradev1.WorkloadPhaseQueued, "16 GPUs fit on no node")
	queued := meta.FindStatusCondition(big.Status.Conditions, doradev1.WorkloadQueued)
	g.Expect(queued.Status).To(Equal(metav1.ConditionTrue))
	g.Expect(queued.Message).To(ContainSubstring("Insufficient nvidia.com/gpu"))

	unknown := gpuWorkload(ns, "no-such-model", 1, 1, "Tesla T4")
	g.Expect(k8sClient.Create(ctx, unknown)).To(Succeed())
	expectPhase(g, unknown, doradev1.WorkloadPhaseQueued, "no node has a T4")
	g.Expect(meta.FindStatusCondition(unknown.Status.Conditions, doradev1.WorkloadQueued).Message).To(ContainSubstring("no node has product Tesla T4"))
}

// A spec change replaces the pods; a replica change only scales (highest index first).
func TestSpecChangeReplacesAndReplicaChangeScales(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.versions")
	wl := gpuWorkload(ns, "versions", 2, 1, "Tesla V100-SXM2-16GB")
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "the first revision should run")
	uids := func(g Gomega) map[string]types.UID {
		out := map[string]types.UID{}
		for _, p := range workloadPods(g, wl) {
			out[p.Name] = p.UID
		}
		return out
	}
	first := uids(g)
	firstRevision := wl.Status.CurrentRevision

	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"config":{"env":["EPOCHS=20"]}}}`))
	g.Expect(k8sClient.Patch(ctx, wl, patch)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		g.Expect(wl.Status.CurrentRevision).NotTo(Equal(firstRevision))
		g.Expect(wl.Status.Ready).To(Equal("2/2"))
		pods := workloadPods(g, wl)
		g.Expect(pods).To(HaveLen(2))
		for _, p := range pods {
			g.Expect(p.UID).NotTo(Equal(first[p.Name]), "pod %s should have been replaced", p.Name)
			g.Expect(p.Labels[podspec.LabelRevision]).To(Equal(wl.Status.CurrentRevision))
			g.Expect(p.Spec.Containers[0].Env).To(ContainElement(corev1.EnvVar{Name: "EPOCHS", Value: "20"}))
		}
	}).WithTimeout(60*time.Second).Should(Succeed(), "a spec change should replace both pods")
	second := uids(g)

	scale := func(n int32) {
		patch := client.RawPatch(types.MergePatchType, []byte(fmt.Sprintf(`{"spec":{"replica":{"count":%d}}}`, n)))
		g.Expect(k8sClient.Patch(ctx, wl, patch)).To(Succeed())
	}
	scale(3)
	g.Eventually(func(g Gomega) {
		now := uids(g)
		g.Expect(now).To(HaveLen(3))
		g.Expect(now["versions-0"]).To(Equal(second["versions-0"]), "scaling up must not touch existing pods")
		g.Expect(now["versions-1"]).To(Equal(second["versions-1"]))
	}).WithTimeout(60*time.Second).Should(Succeed(), "scaling to 3 should add versions-2 only")

	scale(1)
	g.Eventually(func(g Gomega) {
		now := uids(g)
		g.Expect(now).To(HaveLen(1))
		g.Expect(now["versions-0"]).To(Equal(second["versions-0"]), "scaling down keeps the lowest index")
	}).WithTimeout(60*time.Second).Should(Succeed(), "scaling to 1 should remove versions-2 and versions-1")
}

// Pause removes the pods and keeps the rest; resume brings them back.
func TestPauseAndResume(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.pause")
	wl := gpuWorkload(ns, "pausable", 2, 1, "Tesla V100-SXM2-16GB")
	wl.Spec.Network = &doradev1.NetworkSpec{Ports: []doradev1.PortSpec{{Name: "web", Port: 8008}}}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "it should run first")

	g.Expect(k8sClient.Patch(ctx, wl, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":true}}`)))).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhasePaused, "pausing should be reported")
	g.Eventually(func(g Gomega) { g.Expect(workloadPods(g, wl)).To(BeEmpty()) }).
		WithTimeout(60*time.Second).Should(Succeed(), "pausing should remove the pods")
	services := &corev1.ServiceList{}
	g.Expect(k8sClient.List(ctx, services, client.InNamespace(ns))).To(Succeed())
	g.Expect(services.Items).To(HaveLen(2), "pausing keeps the services")

	g.Expect(k8sClient.Patch(ctx, wl, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":false}}`)))).To(Succeed())
	expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "resuming should bring the pods back")
	g.Expect(workloadPods(g, wl)).To(HaveLen(2))
}

// A NodePort outside the API server's range is a PortUnavailable condition with the API
// server's own message, and the pods wait.
func TestNodePortOutsideTheRangeIsReported(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.ports")
	wl := gpuWorkload(ns, "far-port", 1, 0)
	wl.Spec.Network = &doradev1.NetworkSpec{Ports: []doradev1.PortSpec{{Name: "web", Port: 8008, NodePort: 40000}}}
	g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)).To(Succeed())
		c := meta.FindStatusCondition(wl.Status.Conditions, "PortsReady")
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal("PortUnavailable"))
		g.Expect(c.Message).To(ContainSubstring("40000"))
		g.Expect(c.Message).To(ContainSubstring("valid range"))
	}).WithTimeout(30*time.Second).Should(Succeed(), "the refused NodePort should be reported")
}

// Deleting a workload removes its pods and services through their owner references, also
// while it is paused.
func TestDeleteCleansUp(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.delete")
	for _, paused := range []bool{false, true} {
		wl := gpuWorkload(ns, fmt.Sprintf("doomed-%t", paused), 2, 1, "Tesla V100-SXM2-16GB")
		wl.Spec.Network = &doradev1.NetworkSpec{Ports: []doradev1.PortSpec{{Name: "web", Port: 8008}}}
		g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
		expectPhase(g, wl, doradev1.WorkloadPhaseRunning, "it should run first")
		if paused {
			g.Expect(k8sClient.Patch(ctx, wl, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":true}}`)))).To(Succeed())
			expectPhase(g, wl, doradev1.WorkloadPhasePaused, "it should be paused")
		}
		g.Expect(k8sClient.Delete(ctx, wl)).To(Succeed())
		g.Eventually(func(g Gomega) {
			g.Expect(workloadPods(g, wl)).To(BeEmpty())
			services := &corev1.ServiceList{}
			g.Expect(k8sClient.List(ctx, services, client.InNamespace(ns),
				client.MatchingLabels{podspec.LabelWorkload: naming.WorkloadLabelValue(wl.Name)})).To(Succeed())
			g.Expect(services.Items).To(BeEmpty())
			err := k8sClient.Get(ctx, client.ObjectKeyFromObject(wl), wl)
			g.Expect(apierrors.IsNotFound(err)).To(BeTrue())
		}).WithTimeout(60*time.Second).Should(Succeed(), "the garbage collector should remove pods and services (paused: %t)", paused)
	}
}

// Killing the manager while it is creating the pods of 200 workloads, and starting a new
// one, leaves exactly the right pods: none duplicated, none missing.
func TestManagerKilledMidwayLeavesExactlyTheRightPods(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := workspace(t, "e2e.restart")
	const workloads, replicas = 200, 2
	// One worker, so that the kill surely lands while pods are still being made.
	g.Expect(testEnv.StopManager()).To(Succeed())
	testEnv.WorkloadConcurrency = 1
	g.Expect(testEnv.StartManager()).To(Succeed())
	testEnv.WorkloadConcurrency = 0
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			_ = testEnv.StartManager()
		}
	})
	// Created paused, then resumed at once, so that the manager has all 400 pods to make
	// in one burst (the admission webhook needs the manager, so workloads cannot be applied
	// while it is down).
	for i := 0; i < workloads; i++ {
		wl := gpuWorkload(ns, fmt.Sprintf("w%03d", i), replicas, 0)
		wl.Spec.Paused = true
		g.Expect(k8sClient.Create(ctx, wl)).To(Succeed())
	}
	resume := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"paused":false}}`))
	var wg sync.WaitGroup
	for w := 0; w < 20; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < workloads; i += 20 {
				wl := &doradev1.Workload{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("w%03d", i)}}
				if err := k8sClient.Patch(ctx, wl, resume); err != nil {
					t.Errorf("resuming %s: %v", wl.Name, err)
				}
			}
		}()
	}
	wg.Wait()
	pods := &corev1.PodList{}
	// Kill it as soon as it has made some of the pods, not all.
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
		g.Expect(len(pods.Items)).To(BeNumerically(">", 0))
	}).WithTimeout(time.Minute).WithPolling(5*time.Millisecond).Should(Succeed(), "the manager should start creating pods")
	g.Expect(testEnv.StopManager()).To(Succeed(), "killing the manager")
	g.Expect(k8sClient.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
	t.Logf("%d of %d pods existed when the manager was killed", len(pods.Items), workloads*replicas)
	g.Expect(len(pods.Items)).To(BeNumerically("<", workloads*replicas), "the manager should have been killed midway")

	g.Expect(testEnv.StartManager()).To(Succeed())
	restarted = true
	g.Eventually(func(g Gomega) {
		g.Expect(k8sClient.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(workloads * replicas))
	}).WithTimeout(3*time.Minute).Should(Succeed(), "every workload should end with exactly its replicas")
	g.Consistently(func(g Gomega) {
		g.Expect(k8sClient.List(ctx, pods, client.InNamespace(ns))).To(Succeed())
		g.Expect(pods.Items).To(HaveLen(workloads * replicas))
	}).WithTimeout(3*time.Second).Should(Succeed(), "and no more")
	seen := map[string]bool{}
	for _, p := range pods.Items {
		g.Expect(seen[p.Name]).To(BeFalse(), "pod %s twice", p.Name)
		seen[p.Name] = true
	}
	for i := 0; i < workloads; i++ {
		for r := 0; r < replicas; r++ {
			g.Expect(seen[fmt.Sprintf("w%03d-%d", i, r)]).To(BeTrue(), "w%03d-%d is missing", i, r)
		}
	}
}
