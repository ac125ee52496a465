package workload

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// plan is what one reconcile does to a workload's pods.
type plan struct {
	// create lists the replica indexes whose pod must be created.
	create []int32
	// replace lists pods of an older revision, deleted so that they come back with the
	// current one (the pod name is fixed, so the new pod follows once the old one is gone).
	replace []*corev1.Pod
	// scaleDown lists pods beyond the replica count, highest index first.
	scaleDown []*corev1.Pod
	// recreate lists pods that vanished from under the workload without finishing it
	// (evicted, their node lost): deleted so that they are made again.
	recreate []*corev1.Pod
}

// planReplicas decides, from the pods that exist, what makes replicas 0..desired-1 exist at
// revision. Pods being deleted are waited for. Under restartPolicy Never a pod that finished
// stays and counts as done, whatever its revision: it ran the spec it was given.
// canCreate is false while something the pods need (volumes, ports) is missing.
func planReplicas(pods []*corev1.Pod, desired int32, revision string, canCreate bool) plan {
	var p plan
	byIndex := map[int32]*corev1.Pod{}
	for _, pod := range pods {
		index, ok := replicaIndex(pod)
		if !ok {
			continue
		}
		if index >= desired {
			if pod.DeletionTimestamp == nil {
				p.scaleDown = append(p.scaleDown, pod)
			}
			continue
		}
		byIndex[index] = pod
	}
	slices.SortFunc(p.scaleDown, func(a, b *corev1.Pod) int {
		ai, _ := replicaIndex(a)
		bi, _ := replicaIndex(b)
		return int(bi - ai)
	})
	for index := int32(0); index < desired; index++ {
		pod, exists := byIndex[index]
		switch {
		case !exists:
			if canCreate {
				p.create = append(p.create, index)
			}
		case pod.DeletionTimestamp != nil:
			// Going away; its successor is created once it is gone.
		case vanished(pod):
			p.recreate = append(p.recreate, pod)
		case finished(pod):
			// Done, under restartPolicy Never: it stays and counts.
		case pod.Labels[podspec.LabelRevision] != revision:
			p.replace = append(p.replace, pod)
		}
	}
	return p
}

// replicaIndex reads a pod's replica index from its label.
func replicaIndex(pod *corev1.Pod) (int32, bool) {
	v, err := strconv.ParseInt(pod.Labels[podspec.LabelReplica], 10, 32)
	if err != nil || v < 0 {
		return 0, false
	}
	return int32(v), true
}

// finished reports a pod that ran to its end: Succeeded, or Failed on its own account (its
// containers failed, or maxRunTime stopped it).
func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || (pod.Status.Phase == corev1.PodFailed && !vanished(pod))
}

// vanished reports a pod the cluster took away rather than one that finished: evicted, or
// failed because its node went away. Dora recreates those.
func vanished(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodFailed {
		return false
	}
	switch pod.Status.Reason {
	case "Evicted", "NodeLost", "Terminated", "NodeShutdown", "UnexpectedAdmissionError", "OutOfcpu", "OutOfmemory", "OutOfpods":
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
