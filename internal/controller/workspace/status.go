package workspace

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// namespaceState is what the reconciler found of the namespace a workspace wants.
type namespaceState int

const (
	// namespaceMissing: no namespace of that name exists.
	namespaceMissing namespaceState = iota
	// namespaceOwned: the namespace exists and is controlled by the workspace.
	namespaceOwned
	// namespaceForeign: the namespace exists and belongs to something else.
	namespaceForeign
	// namespaceTerminating: the namespace is being deleted (whoever owned it).
	namespaceTerminating
)

// classify says whose the namespace is. ns is nil when it does not exist.
func classify(ws *doradev1.Workspace, ns *corev1.Namespace) namespaceState {
	switch {
	case ns == nil:
		return namespaceMissing
	case ns.DeletionTimestamp != nil:
		// Ours or not, it is going away; the name is free once it has gone.
		return namespaceTerminating
	case !metav1.IsControlledBy(ns, ws):
		return namespaceForeign
	default:
		return namespaceOwned
	}
}

// conditionsFor computes the NamespaceReady and Ready conditions for a namespace state. They
// depend on the state alone, so that a reconcile that finds nothing new writes nothing.
func conditionsFor(namespace string, state namespaceState) []metav1.Condition {
	var nsCond metav1.Condition
	switch state {
	case namespaceOwned:
		nsCond = metav1.Condition{
			Type: doradev1.WorkspaceNamespaceReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonNamespaceOwned,
			Message: fmt.Sprintf("namespace %s belongs to this workspace", namespace),
		}
	case namespaceForeign:
		nsCond = metav1.Condition{
			Type: doradev1.WorkspaceNamespaceReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonNamespaceClash,
			Message: fmt.Sprintf("namespace %s already exists and does not belong to this workspace; it is left untouched. "+
				"Choose another workspace name, or delete or rename that namespace", namespace),
		}
	case namespaceTerminating:
		nsCond = metav1.Condition{
			Type: doradev1.WorkspaceNamespaceReady, Status: metav1.ConditionFalse, Reason: doradev1.ReasonNamespaceTerminating,
			Message: fmt.Sprintf("namespace %s is being deleted; it will be created again once it is gone", namespace),
		}
	default:
		nsCond = metav1.Condition{
			Type: doradev1.WorkspaceNamespaceReady, Status: metav1.ConditionFalse, Reason: "NamespaceMissing",
			Message: fmt.Sprintf("namespace %s does not exist yet", namespace),
		}
	}
	ready := metav1.Condition{Type: doradev1.ConditionReady, Status: nsCond.Status, Reason: nsCond.Reason, Message: nsCond.Message}
	return []metav1.Condition{nsCond, ready}
}

// setKStatus sets kstatus's conditions from the workspace's own: Stalled while its
// namespace is someone else's or its clone failed (neither changes without a person), and
// Reconciling while a clone copies or waits for its source, when Ready is already True
// (the namespace is there) and kstatus would otherwise read the workspace as Current.
func setKStatus(ws *doradev1.Workspace) {
	conds := &ws.Status.Conditions
	ns := meta.FindStatusCondition(*conds, doradev1.WorkspaceNamespaceReady)
	cloned := meta.FindStatusCondition(*conds, doradev1.WorkspaceCloned)
	switch {
	case ns != nil && ns.Reason == doradev1.ReasonNamespaceClash:
		doradev1.SetStalled(conds, ws.Generation, ns.Reason, ns.Message)
	case cloned != nil && cloned.Reason == doradev1.ReasonCloneFailed:
		doradev1.SetStalled(conds, ws.Generation, cloned.Reason, cloned.Message)
	case cloned != nil && cloned.Status != metav1.ConditionTrue:
		doradev1.SetReconciling(conds, ws.Generation, cloned.Reason, cloned.Message)
	default:
		doradev1.ClearKStatus(conds)
	}
}
