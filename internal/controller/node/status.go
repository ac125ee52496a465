package node

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// ownedConditions folds the manager's desired conditions into the node's current ones the way
// meta.SetStatusCondition does (lastTransitionTime moves to now only when a status changes)
// and returns just the manager's conditions as they should be written, and whether any of
// them differs from what the node has.
func ownedConditions(current []metav1.Condition, now metav1.Time, desired ...metav1.Condition) ([]metav1.Condition, bool) {
	merged := slices.Clone(current)
	changed := false
	for _, c := range desired {
		c.LastTransitionTime = now
		if meta.SetStatusCondition(&merged, c) {
			changed = true
		}
	}
	owned := make([]metav1.Condition, 0, len(desired))
	for _, c := range desired {
		owned = append(owned, *meta.FindStatusCondition(merged, c.Type))
	}
	return owned, changed
}

// statusApplyConfiguration is the server-side apply body of the manager's share of a Node's
// status: observedGeneration and its own conditions, nothing else. The agent applies the rest
// under its own field manager; conditions are a map keyed by type, so each writer owns only
// the entries it sends and neither removes the other's.
//
// It is built by hand rather than converted from a doradev1.Node, because a converted object
// would carry every zero-valued field and claim it.
func statusApplyConfiguration(name string, generation int64, conditions []metav1.Condition) (*unstructured.Unstructured, error) {
	list := make([]any, 0, len(conditions))
	for i := range conditions {
		c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&conditions[i])
		if err != nil {
			return nil, fmt.Errorf("converting condition %s: %w", conditions[i].Type, err)
		}
		list = append(list, c)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": doradev1.GroupVersion.String(),
		"kind":       "Node",
		"metadata":   map[string]any{"name": name},
		"status": map[string]any{
			"observedGeneration": generation,
			"conditions":         list,
		},
	}}, nil
}
