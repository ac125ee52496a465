package manager

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// trimPod keeps of a cached pod only what the controllers read: its identity, labels,
// owners and deletion, the node it runs on, and its phase, conditions and container states.
// A workload's pods are most of what the manager holds, and their specs (affinity, env,
// volumes) are the bulk of them.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	trimmed := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			Generation:        pod.Generation,
			CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            pod.Labels,
			OwnerReferences:   pod.OwnerReferences,
			// The credit controller reads whose the pod is and removes its finalizer.
			Finalizers: pod.Finalizers,
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
		Status: corev1.PodStatus{
			Phase:      pod.Status.Phase,
			Reason:     pod.Status.Reason,
			Message:    pod.Status.Message,
			Conditions: pod.Status.Conditions,
		},
	}
	if owner, ok := pod.Annotations[doradev1.AnnotationOwner]; ok {
		trimmed.Annotations = map[string]string{doradev1.AnnotationOwner: owner}
	}
	// Of the containers, only what the credit controller charges: a pod's GPUs, or, for a
	// pod without GPUs, its CPUs (cores are charged when a ResourceCredit prices the node's
	// CPU model). Each resource list is a map: a pod of a thousand keeps one, not four.
	charged := []corev1.ResourceName{corev1.ResourceName(gpu.ResourceName)}
	if !holdsGPUs(pod) {
		charged = []corev1.ResourceName{corev1.ResourceCPU}
	}
	for _, c := range pod.Spec.Containers {
		kept := corev1.Container{Name: c.Name}
		kept.Resources.Limits = keepResources(c.Resources.Limits, charged)
		kept.Resources.Requests = keepResources(c.Resources.Requests, charged)
		trimmed.Spec.Containers = append(trimmed.Spec.Containers, kept)
	}
	for _, c := range pod.Status.ContainerStatuses {
		trimmed.Status.ContainerStatuses = append(trimmed.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, State: c.State, Ready: c.Ready, RestartCount: c.RestartCount,
		})
	}
	return trimmed, nil
}

// holdsGPUs says whether any container of the pod asks for GPUs.
func holdsGPUs(pod *corev1.Pod) bool {
	for _, c := range pod.Spec.Containers {
		if _, ok := c.Resources.Limits[corev1.ResourceName(gpu.ResourceName)]; ok {
			return true
		}
		if _, ok := c.Resources.Requests[corev1.ResourceName(gpu.ResourceName)]; ok {
			return true
		}
	}
	return false
}

// keepResources keeps of a container's resources those named; nil when it has none of them.
func keepResources(in corev1.ResourceList, names []corev1.ResourceName) corev1.ResourceList {
	var out corev1.ResourceList
	for _, name := range names {
		if q, ok := in[name]; ok {
			if out == nil {
				out = corev1.ResourceList{}
			}
			out[name] = q
		}
	}
	return out
}
