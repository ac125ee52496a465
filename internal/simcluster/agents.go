package simcluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/agent"
	"github.com/dora-hpc/dora-operator/internal/agent/nvmlmock"
)

// StartAgents runs one node agent per fake node of the fleet, in this process, until ctx
// ends: each reads a mock NVML with its node's GPUs and keeps its Lease in namespace, as the
// DaemonSet's pods do on a real cluster.
func StartAgents(ctx context.Context, c client.Client, fleet Fleet, namespace string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	for _, pool := range fleet {
		cpu := doradev1.CPUInfo{Product: pool.CPUProduct, Cores: int32(pool.CPUs)}
		for _, name := range pool.NodeNames() {
			mock, err := nvmlmock.Fleet(pool.GPUProduct, pool.GPUs, uint64(pool.GPUMemoryMiB), name)
			if err != nil {
				return fmt.Errorf("mock NVML for %s: %w", name, err)
			}
			cfg := agent.Config{NodeName: name, Namespace: namespace, GFDLabels: true}
			a := agent.New(c, clock.RealClock{}, cfg, agent.NewNVML(mock, nil), agent.FixedHost(cpu, int64(pool.MemoryGiB)*1024), nil)
			go func() { _ = a.Run(ctx) }()
		}
	}
	return nil
}
