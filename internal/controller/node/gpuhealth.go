package node

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// gpuHealth computes the GPUsHealthy condition from the GPUs the agent reports.
func gpuHealth(gpus []doradev1.GPUInfo) metav1.Condition {
	cond := metav1.Condition{Type: doradev1.NodeGPUsHealthy, Status: metav1.ConditionTrue}
	if len(gpus) == 0 {
		cond.Reason, cond.Message = doradev1.ReasonNoGPUs, "the node agent reports no GPU on this node"
		return cond
	}
	var unhealthy []doradev1.GPUInfo
	for _, g := range gpus {
		if !g.Healthy {
			unhealthy = append(unhealthy, g)
		}
	}
	if len(unhealthy) == 0 {
		cond.Reason, cond.Message = doradev1.ReasonAllGPUsHealthy, fmt.Sprintf("all %d GPUs are healthy", len(gpus))
		return cond
	}
	// The agent's list is keyed by UUID and its order is not meaningful; sorting keeps the
	// message, and so the status, the same from one report to the next.
	slices.SortFunc(unhealthy, func(a, b doradev1.GPUInfo) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), strings.Compare(a.UUID, b.UUID))
	})
	parts := make([]string, 0, len(unhealthy))
	for _, g := range unhealthy {
		health := g.Health
		if health == "" {
			health = "no reason given"
		}
		parts = append(parts, fmt.Sprintf("GPU %d (%s): %s", g.Index, g.UUID, health))
	}
	cond.Status, cond.Reason = metav1.ConditionFalse, doradev1.ReasonGPUUnhealthy
	cond.Message = fmt.Sprintf("%d of %d GPUs unhealthy: %s", len(unhealthy), len(gpus), strings.Join(parts, "; "))
	return cond
}
