package integration

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
)

// writeCounter counts the agent's writes by kind.
type writeCounter struct {
	statusApplies, nodePatches, leaseWrites atomic.Int32
}

// countingClient wraps the test client, counting the agent's writes.
func countingClient(t *testing.T, w *writeCounter) client.Client {
	t.Helper()
	c, ok := k8sClient.(client.WithWatch)
	if !ok {
		t.Fatal("the test client cannot be wrapped")
	}
	return interceptor.NewClient(c, interceptor.Funcs{
		SubResourceApply: func(ctx context.Context, c client.Client, sub string, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
			w.statusApplies.Add(1)
			return c.SubResource(sub).Apply(ctx, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if _, isNode := obj.(*corev1.Node); isNode {
				w.nodePatches.Add(1)
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			if _, isLease := obj.(*coordinationv1.Lease); isLease {
				w.leaseWrites.Add(1)
			}
			return c.Create(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if _, isLease := obj.(*coordinationv1.Lease); isLease {
				w.leaseWrites.Add(1)
			}
			return c.Update(ctx, obj, opts...)
		},
	})
}

// agentNode creates a Kubernetes Node and its Dora Node, and the agent namespace.
func agentNode(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "dora-system"}}
	if err := k8sClient.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(ctx, node); err != nil {
		t.Fatal(err)
	}
	dn := &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8sClient.Create(ctx, dn); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = k8sClient.Delete(ctx, node)
		_ = k8sClient.Delete(ctx, &doradev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}})
	})
}

func newTestAgent(c client.Client, clk *clocktesting.FakeClock, node string, server nvmlmock.Server) *agent.Agent {
	cfg := agent.Config{NodeName: node, Namespace: "dora-system", GFDLabels: true}
	host := agent.FixedHost(doradev1.CPUInfo{Product: "AMD EPYC 7302 16-Core Processor", Cores: 32}, 262144)
	return agent.New(c, clk, cfg, agent.NewNVML(server, nil), host, nil)
}

// The agent reports its node's GPUs in the Dora Node status and the node's labels, and
// renews its Lease.
func TestAgentReportsItsNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	agentNode(t, "agent-report")
	server, err := nvmlmock.Fleet("Tesla V100-SXM2-16GB", 4, 16384, "agent-report")
	g.Expect(err).NotTo(HaveOccurred())
	a := newTestAgent(k8sClient, clocktesting.NewFakeClock(time.Now()), "agent-report", server)

	g.Expect(a.Sync(ctx)).To(Succeed())

	dn := &doradev1.Node{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "agent-report"}, dn)).To(Succeed())
	g.Expect(dn.Status.GPUCount).To(BeEquivalentTo(4))
	g.Expect(dn.Status.GPUModels).To(Equal("Tesla V100-SXM2-16GB"))
	g.Expect(dn.Status.GPUMemoryMiB).To(BeEquivalentTo(4 * 16384))
	g.Expect(dn.Status.DriverVersion).To(Equal("550.54.15"))
	g.Expect(dn.Status.GPUs).To(HaveLen(4))
	g.Expect(dn.Status.GPUs[2].Healthy).To(BeTrue())

	node := &corev1.Node{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "agent-report"}, node)).To(Succeed())
	g.Expect(node.Labels).To(HaveKeyWithValue("nvidia.com/gpu.product", "Tesla-V100-SXM2-16GB"))
	g.Expect(node.Labels).To(HaveKeyWithValue("nvidia.com/gpu.count", "4"))
	g.Expect(node.Labels).To(HaveKeyWithValue("nvidia.com/gpu.memory", "16384"))
	g.Expect(node.Labels).To(HaveKeyWithValue("gpu.dora.dev/Tesla-V100-SXM2-16GB", "4"))
	g.Expect(node.Labels).To(HaveKeyWithValue("dora.dev/cpu.product", "AMD-EPYC-7302-16-Core-Processor"))

	lease := &coordinationv1.Lease{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: "dora-system", Name: "dora-agent-agent-report"}, lease)).To(Succeed())
	g.Expect(*lease.Spec.HolderIdentity).To(Equal("agent-report"))
	g.Expect(lease.OwnerReferences).To(HaveLen(1), "the lease should go with its node")
}

// Ten minutes of steady state (a fake clock, a poll every 10 s, readings jittering a little)
// produce no status or label writes: only the Lease heartbeat.
func TestAgentWritesNothingButTheHeartbeatInSteadyState(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	agentNode(t, "agent-steady")
	server, err := nvmlmock.Fleet("NVIDIA H100 80GB HBM3", 8, 81559, "agent-steady")
	g.Expect(err).NotTo(HaveOccurred())
	clk := clocktesting.NewFakeClock(time.Now())
	writes := &writeCounter{}
	a := newTestAgent(countingClient(t, writes), clk, "agent-steady", server)
	busy := func(i int) {
		for gpu := 0; gpu < 8; gpu++ {
			server.SetReadings(gpu, uint32(40+i%5), uint32(60+i%3), uint32(300+i%7), uint64(20000+i%100))
		}
	}

	busy(0)
	g.Expect(a.Sync(ctx)).To(Succeed())
	g.Expect(writes.statusApplies.Load()).To(BeEquivalentTo(1), "the first poll writes the status")
	g.Expect(writes.nodePatches.Load()).To(BeEquivalentTo(1), "the first poll labels the node")
	statusAfterFirst, labelsAfterFirst := writes.statusApplies.Load(), writes.nodePatches.Load()

	const polls = 60 // 10 minutes at one poll every 10 s
	for i := 0; i < polls; i++ {
		clk.Step(10 * time.Second)
		busy(i)
		g.Expect(a.Sync(ctx)).To(Succeed())
	}
	g.Expect(writes.statusApplies.Load()).To(Equal(statusAfterFirst), "steady state must not write the status")
	g.Expect(writes.nodePatches.Load()).To(Equal(labelsAfterFirst), "steady state must not relabel the node")
	g.Expect(writes.leaseWrites.Load()).To(BeEquivalentTo(polls+1), "one Lease renewal per poll is the heartbeat")

	// A GPU failing is written at the next poll, whatever the period.
	server.FailGPU(5, nvml.ERROR_GPU_IS_LOST)
	clk.Step(10 * time.Second)
	g.Expect(a.Sync(ctx)).To(Succeed())
	g.Expect(writes.statusApplies.Load()).To(Equal(statusAfterFirst + 1))
	dn := &doradev1.Node{}
	g.Expect(k8sClient.Get(ctx, client.ObjectKey{Name: "agent-steady"}, dn)).To(Succeed())
	g.Expect(dn.Status.GPUs[5].Healthy).To(BeFalse())
	g.Expect(dn.Status.GPUs[5].Health).To(ContainSubstring("ERROR_GPU_IS_LOST"))
	g.Expect(dn.Status.GPUs[4].Healthy).To(BeTrue())
}

// An agent whose node was deleted writes nothing and recreates nothing.
func TestAgentDoesNotRecreateADeletedNode(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	server, err := nvmlmock.Fleet("Quadro RTX 6000", 2, 24576, "agent-gone")
	g.Expect(err).NotTo(HaveOccurred())
	writes := &writeCounter{}
	a := newTestAgent(countingClient(t, writes), clocktesting.NewFakeClock(time.Now()), "agent-gone", server)

	g.Expect(a.Sync(ctx)).To(Succeed(), "a missing node is not an error")
	g.Expect(writes.statusApplies.Load() + writes.nodePatches.Load() + writes.leaseWrites.Load()).To(BeZero())
	err = k8sClient.Get(ctx, client.ObjectKey{Name: "agent-gone"}, &doradev1.Node{})
	g.Expect(apierrors.IsNotFound(err)).To(BeTrue(), "no Dora Node may be created for a missing node")
}
