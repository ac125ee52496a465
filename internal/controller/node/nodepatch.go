package node

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// nodePatch returns the JSON merge patch that makes a Kubernetes Node follow its Dora Node's
// spec (the cordon and the workload-class labels), or nil when it already does. A merge patch
// names only what it changes, so it never overwrites what the kubelet or anyone else wrote
// in between.
//
// The cordon follows schedulingDisabled only when the spec has just changed (specChanged):
// `kubectl drain`, reboot daemons and cluster upgrades cordon nodes on their own, and a
// manager that uncordoned them at once would send work to a node going down. The labels are
// the manager's alone and always follow the spec.
func nodePatch(spec doradev1.NodeSpec, node *corev1.Node, specChanged bool) map[string]any {
	patch := map[string]any{}
	if specChanged && node.Spec.Unschedulable != spec.SchedulingDisabled {
		patch["spec"] = map[string]any{"unschedulable": spec.SchedulingDisabled}
	}
	labels := map[string]any{}
	for label, class := range map[string]string{
		doradev1.LabelAllowCPUWorkload: doradev1.CPUWorkload,
		doradev1.LabelAllowGPUWorkload: doradev1.GPUWorkload,
	} {
		want := strconv.FormatBool(allows(spec, class))
		if got, ok := node.Labels[label]; !ok || got != want {
			labels[label] = want
		}
	}
	if len(labels) > 0 {
		patch["metadata"] = map[string]any{"labels": labels}
	}
	if len(patch) == 0 {
		return nil
	}
	return patch
}

// allows says whether the node takes a workload class. A nil allow is the CRD's default
// (both classes): the API server fills it in, but an object built in code may not have it.
func allows(spec doradev1.NodeSpec, class string) bool {
	return spec.Allow == nil || slices.Contains(spec.Allow, class)
}
