package manager

import (
	"strings"
	"sync"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// trimPod keeps of a cached pod only what the controllers read: its identity, labels,
// owners and deletion, the node it runs on, and its phase, conditions and container states.
// A workload's pods are most of what the manager holds, and their specs (affinity, env,
// volumes) are the bulk of them. What many pods hold alike (their namespace, owner, GPU
// limit, finalizer) is kept once, shared by them: see shared.
func trimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	trimmed := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         intern(pod.Namespace),
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			Generation:        pod.Generation,
			CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            internLabels(pod.Labels),
			OwnerReferences:   internOwners(pod.OwnerReferences),
			// The credit controller reads whose the pod is and removes its finalizer.
			Finalizers: sharedFinalizers.get(strings.Join(pod.Finalizers, "\n"), func() []string { return pod.Finalizers }),
		},
		Spec: corev1.PodSpec{NodeName: pod.Spec.NodeName},
		Status: corev1.PodStatus{
			Phase:      pod.Status.Phase,
			Reason:     pod.Status.Reason,
			Message:    pod.Status.Message,
			Conditions: keptConditions(pod.Status.Conditions),
		},
	}
	if owner, ok := pod.Annotations[doradev1.AnnotationOwner]; ok {
		trimmed.Annotations = sharedAnnotations.get(owner, func() map[string]string { return map[string]string{doradev1.AnnotationOwner: owner} })
	}
	// Of the containers, only what the credit controller charges: a pod's GPU limits (a
	// GPU's request, if given, equals its limit), or, for a pod without GPUs, its CPU limit
	// else request (cores are charged when a ResourceCredit prices the node's CPU model).
	// Each resource list is a map: a pod of a thousand keeps one, not four.
	gpus := holdsGPUs(pod)
	for _, c := range pod.Spec.Containers {
		kept := corev1.Container{Name: intern(c.Name)}
		_, cpuLimit := c.Resources.Limits[corev1.ResourceCPU]
		switch {
		case gpus:
			kept.Resources.Limits = keepResource(c.Resources.Limits, corev1.ResourceName(gpu.ResourceName))
		case cpuLimit:
			kept.Resources.Limits = keepResource(c.Resources.Limits, corev1.ResourceCPU)
		default:
			kept.Resources.Requests = keepResource(c.Resources.Requests, corev1.ResourceCPU)
		}
		trimmed.Spec.Containers = append(trimmed.Spec.Containers, kept)
	}
	for _, c := range pod.Status.ContainerStatuses {
		trimmed.Status.ContainerStatuses = append(trimmed.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: intern(c.Name), State: c.State, Ready: c.Ready, RestartCount: c.RestartCount,
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

// keepResource keeps of a container's resources the one named, shared with every pod of
// the same amount; nil when it has none.
func keepResource(in corev1.ResourceList, name corev1.ResourceName) corev1.ResourceList {
	q, ok := in[name]
	if !ok {
		return nil
	}
	return sharedResources.get(string(name)+"="+q.String(), func() corev1.ResourceList { return corev1.ResourceList{name: q} })
}

// keptConditions are the pod conditions the controllers read: Ready (a replica's
// readiness), PodScheduled (the scheduler's reason a pod waits) and DisruptionTarget (a pod
// the cluster is taking away). kwok and the kubelet set two or three more on every pod.
func keptConditions(in []corev1.PodCondition) []corev1.PodCondition {
	var out []corev1.PodCondition
	for _, c := range in {
		switch c.Type {
		case corev1.PodReady, corev1.PodScheduled, corev1.DisruptionTarget:
			c.Type, c.Status, c.Reason = corev1.PodConditionType(intern(string(c.Type))), corev1.ConditionStatus(intern(string(c.Status))), intern(c.Reason)
			out = append(out, c)
		}
	}
	return out
}

// shared holds one copy of each small value that many cached pods hold alike: a pod's
// resource list of one GPU is a map of 700 bytes, and forty thousand pods that each keep
// their own are 28 MB of the same map. The cache's objects are read only (a reader gets a
// deep copy, or reads without writing: client.UnsafeDisableDeepCopy), so pods can share
// them. Past limit values it shares no new ones, which only costs the saving.
type shared[V any] struct {
	mu     sync.Mutex
	values map[string]V
	limit  int
}

var (
	sharedResources   = &shared[corev1.ResourceList]{limit: 1024}
	sharedAnnotations = &shared[map[string]string]{limit: 16384}
	sharedFinalizers  = &shared[[]string]{limit: 64}
)

// get is the value shared under key, made (and shared, while there is room) if none is.
func (s *shared[V]) get(key string, newValue func() V) V {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[key]; ok {
		return v
	}
	v := newValue()
	if s.values == nil {
		s.values = map[string]V{}
	}
	if len(s.values) < s.limit {
		s.values[key] = v
	}
	return v
}

// intern is s, one copy of it for all the pods that hold it (a namespace, a container's
// name): the decoder makes a new string for each pod.
func intern(s string) string {
	if s == "" {
		return s
	}
	return unique.Make(s).Value()
}

// internOwners is owners with their kinds, API versions, names and UIDs interned (a
// workload's pods have the same owner), in a new slice (the
// decoded one is the decoder's).
func internOwners(owners []metav1.OwnerReference) []metav1.OwnerReference {
	if len(owners) == 0 {
		return nil
	}
	out := make([]metav1.OwnerReference, len(owners))
	for i, o := range owners {
		o.APIVersion, o.Kind, o.Name, o.UID = intern(o.APIVersion), intern(o.Kind), intern(o.Name), types.UID(intern(string(o.UID)))
		out[i] = o
	}
	return out
}

// internLabels is labels in a new map of interned keys and values: a workload's pods
// share their keys, their workload's name and revision.
func internLabels(labels map[string]string) map[string]string {
	if len(labels) == 0 {
		return nil
	}
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		out[intern(k)] = intern(v)
	}
	return out
}
