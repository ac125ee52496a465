package credits

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// podUsage is what a pod is charged for, read from the pod itself: the GPUs of its
// containers' nvidia.com/gpu limits, the product of the GPUs it holds, when its container
// started running and when it stopped (finished, or the pod went without finishing). A pod
// being deleted whose deletion lies ahead (its grace period) may still run: it has not
// ended at now, and is looked at again at its deletion time.
func podUsage(pod *corev1.Pod, product string, now time.Time) credits.PodUsage {
	u := credits.PodUsage{
		UID:     string(pod.UID),
		User:    pod.Annotations[doradev1.AnnotationOwner],
		Product: product,
	}
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Limits[corev1.ResourceName(gpu.ResourceName)]; ok {
			u.GPUs += q.Value()
		}
	}
	running, finished := false, true
	for _, s := range pod.Status.ContainerStatuses {
		switch {
		case s.State.Running != nil:
			running, finished = true, false
			if t := s.State.Running.StartedAt.Time; !t.IsZero() && (u.Start.IsZero() || t.Before(u.Start)) {
				u.Start = t
			}
		case s.State.Terminated != nil:
			t := s.State.Terminated
			if !t.StartedAt.IsZero() && (u.Start.IsZero() || t.StartedAt.Time.Before(u.Start)) {
				u.Start = t.StartedAt.Time
			}
			if t.FinishedAt.After(u.End) {
				u.End = t.FinishedAt.Time
			}
		default:
			finished = false
		}
	}
	if len(pod.Status.ContainerStatuses) == 0 {
		finished = false
	}
	switch {
	case finished && !running && !u.End.IsZero():
		// Every container has terminated: the pod stopped when the last one did.
	case pod.DeletionTimestamp != nil && !pod.DeletionTimestamp.After(now):
		// The pod goes without having finished: it is charged until its deletion.
		u.End = pod.DeletionTimestamp.Time
	default:
		u.End = time.Time{}
	}
	if !u.End.IsZero() && !u.Start.IsZero() && u.End.Before(u.Start) {
		u.End = u.Start
	}
	return u
}

// productSource says where a pod's product was read.
type productSource int

const (
	// fromAgent: the node's agent maps the pod's GPUs to it on the Dora Node.
	fromAgent productSource = iota
	// fromNode: the agent maps none of the node's GPUs to the pod (its report may simply
	// lag the pod's start), and all the node's GPUs are one model: the pod is charged as
	// that model, exactly.
	fromNode
	// ambiguous: as fromNode, on a node with GPUs of more than one model: the pod is charged
	// as the node's first GPU's model, which may not be the one it holds.
	ambiguous
	// unknown: no product is known; the time is unpriced.
	unknown
)

// productOf is the model of the GPUs the pod holds: what the node's agent maps to it on the
// Dora Node (the model most of its GPUs are, the first in order on a tie), else the node's
// GPU product (its first GPU's, else the product its nvidia.com/gpu.product label names; see
// labelProduct). A pod without GPUs has no product: it is free (unless its CPU is priced:
// see cpuUsage).
func productOf(pod *corev1.Pod, gpus int64, dn *doradev1.Node, node *corev1.Node, prices credits.Prices) (string, productSource) {
	if gpus <= 0 {
		return "", fromAgent
	}
	if dn != nil {
		key := pod.Namespace + "/" + pod.Name
		counts := map[string]int{}
		best := ""
		for _, g := range dn.Status.GPUs {
			if g.Pod != key || g.Product == "" {
				continue
			}
			counts[g.Product]++
			if best == "" || counts[g.Product] > counts[best] {
				best = g.Product
			}
		}
		if best != "" {
			return best, fromAgent
		}
		first, source := "", fromNode
		for _, g := range dn.Status.GPUs {
			switch {
			case g.Product == "":
			case first == "":
				first = g.Product
			case g.Product != first:
				source = ambiguous
			}
		}
		if first != "" {
			return first, source
		}
	}
	if node != nil && node.Labels[gpu.LabelProduct] != "" {
		return labelProduct(node.Labels[gpu.LabelProduct], prices), fromNode
	}
	return "", unknown
}

// labelProduct is the product a node's nvidia.com/gpu.product label names. The label is the
// model's name made label-safe ("NVIDIA-H100-80GB-HBM3" for NVML's "NVIDIA H100 80GB HBM3"),
// so it is the priced model whose label it is, when there is one; else the label as it is
// (unpriced, and the UserCredit and the Zone say so).
func labelProduct(label string, prices credits.Prices) string {
	if _, ok := prices[label]; ok {
		return label
	}
	var found string
	for product := range prices {
		if gpu.ProductLabel(product) == label && (found == "" || product < found) {
			found = product
		}
	}
	if found != "" {
		return found
	}
	return label
}

// cpuUsage charges a pod without GPUs by the core-hour when a ResourceCredit prices its
// node's CPU model (as the agent reports it on the Dora Node): the units are its containers'
// CPU limits (else requests), rounded up to whole cores. Otherwise it stays free.
func cpuUsage(u credits.PodUsage, pod *corev1.Pod, dn *doradev1.Node, prices credits.Prices) credits.PodUsage {
	if u.GPUs > 0 || dn == nil || dn.Status.CPU == nil || dn.Status.CPU.Product == "" {
		return u
	}
	if _, priced := prices[dn.Status.CPU.Product]; !priced {
		return u
	}
	var milli int64
	for _, c := range pod.Spec.Containers {
		q, ok := c.Resources.Limits[corev1.ResourceCPU]
		if !ok {
			q, ok = c.Resources.Requests[corev1.ResourceCPU]
		}
		if ok {
			milli += q.MilliValue()
		}
	}
	if milli <= 0 {
		return u
	}
	u.Product, u.GPUs = dn.Status.CPU.Product, (milli+999)/1000
	return u
}
