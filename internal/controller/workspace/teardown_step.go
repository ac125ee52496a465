package workspace

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// remaining is what a teardown found left in a workspace's namespace, going or not. The
// volumes and claims are deleted, and counted, only once no workload nor pod is left: the
// zero value says nothing is.
type remaining struct {
	workloads, pods, volumes, claims int
}

// teardownStep is where a workspace's teardown stands: its Deleting condition.
type teardownStep struct {
	// reason is doradev1.ReasonStoppingWorkloads, ReasonRemovingClaims or
	// ReasonDeletingNamespace.
	reason string
	// message says what the step waits for, and where to look.
	message string
	// deleteNamespace is true at the last step: nothing is left but the namespace, which is
	// deleted, and the workspace may go once its status says so.
	deleteNamespace bool
}

// teardownStepOf decides the step of the teardown of the workspace whose namespace is
// namespace from what is left in it: workloads and their pods go first, so nothing writes
// to a volume while it goes; then volumes and claims; then the namespace.
func teardownStepOf(namespace string, left remaining) teardownStep {
	switch {
	case left.workloads+left.pods > 0:
		return teardownStep{reason: doradev1.ReasonStoppingWorkloads, message: fmt.Sprintf(
			"stopping workloads: %d workloads and %d pods remain in namespace %s (kubectl get workloads,pods -n %s)",
			left.workloads, left.pods, namespace, namespace)}
	case left.volumes+left.claims > 0:
		return teardownStep{reason: doradev1.ReasonRemovingClaims, message: fmt.Sprintf(
			"removing volume claims: %d volumes and %d claims remain in namespace %s (kubectl get volumes,pvc -n %s says why); the data stays on the storage",
			left.volumes, left.claims, namespace, namespace)}
	default:
		return teardownStep{reason: doradev1.ReasonDeletingNamespace, deleteNamespace: true, message: fmt.Sprintf(
			"workloads stopped and claims removed; namespace %s is being deleted (the volumes' data stays on the storage)", namespace)}
	}
}

// setDeleting sets the Deleting condition, and Ready false, to the teardown's step.
func setDeleting(ws *doradev1.Workspace, step teardownStep) {
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.WorkspaceDeleting, Status: metav1.ConditionTrue, Reason: step.reason, Message: step.message, ObservedGeneration: ws.Generation,
	})
	meta.SetStatusCondition(&ws.Status.Conditions, metav1.Condition{
		Type: doradev1.ConditionReady, Status: metav1.ConditionFalse, Reason: step.reason, Message: step.message, ObservedGeneration: ws.Generation,
	})
}

// teardownNews is the Deleting condition to tell the user of once the status is written:
// the one of a step the teardown just reached; nil when it reached none.
func teardownNews(before, after []metav1.Condition) *metav1.Condition {
	now := meta.FindStatusCondition(after, doradev1.WorkspaceDeleting)
	if now == nil {
		return nil
	}
	if was := meta.FindStatusCondition(before, doradev1.WorkspaceDeleting); was != nil && was.Reason == now.Reason {
		return nil
	}
	return now
}
