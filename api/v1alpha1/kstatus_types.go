package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The conditions kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status), and so Flux, kpt and
// the cli-utils applier, read before anything else. They follow its "abnormal-true"
// convention: present and True only while they hold, absent otherwise.
//
// kstatus reads an object in this order: metadata.deletionTimestamp set is Terminating;
// status.observedGeneration behind metadata.generation is InProgress; Reconciling True is
// InProgress; Stalled True is Failed; then Ready True is Current and Ready False or Unknown
// is InProgress. A Dora object therefore sets Reconciling while its manager is still acting
// on its spec where Ready alone would not say so (a rollout or a scale-down of ready pods,
// a clone copying into a ready workspace), and Stalled where nothing will change without a
// person (a pod the API server refuses, a directory that clashes). Kinds that need neither
// (Zone, User, Role, the credits) leave them out.
const (
	// ConditionReconciling is True while the manager is still acting on the object's spec
	// although Ready may already be True. Its reason and message say what it is doing.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True while the object cannot get to what its spec asks without
	// someone changing something: its reason is the Ready reason, its message what to fix.
	ConditionStalled = "Stalled"
)

// SetReconciling sets the Reconciling condition True with reason and message, and removes
// Stalled: kstatus reads whichever comes first, so the two never hold together.
func SetReconciling(conditions *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conditions, ConditionStalled)
	meta.SetStatusCondition(conditions, metav1.Condition{
		Type: ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: generation,
	})
}

// SetStalled sets the Stalled condition True with reason and message, and removes
// Reconciling.
func SetStalled(conditions *[]metav1.Condition, generation int64, reason, message string) {
	meta.RemoveStatusCondition(conditions, ConditionReconciling)
	meta.SetStatusCondition(conditions, metav1.Condition{
		Type: ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: generation,
	})
}

// ClearKStatus removes Reconciling and Stalled: the object is settled, and its Ready
// condition alone says how it is.
func ClearKStatus(conditions *[]metav1.Condition) {
	meta.RemoveStatusCondition(conditions, ConditionReconciling)
	meta.RemoveStatusCondition(conditions, ConditionStalled)
}
