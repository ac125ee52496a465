package workload

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
)

// creditHold is why an owned workload is held: its owner's weekly budget in this zone is
// spent (the credit controller's UserCredit says so) until reset.
type creditHold struct {
	user  string
	reset time.Time
}

// Events of the credit hold.
const (
	EventCreditsExhausted = "CreditsExhausted"
	EventCreditsRestored  = "CreditsRestored"
)

// heldBy is the hold the UserCredit puts on a workload of its user in zone, or nil. Only
// the credit controller's status decides: the workload's own spec.paused plays no part.
func heldBy(uc *doradev1.UserCredit, zone string) *creditHold {
	if uc == nil {
		return nil
	}
	for _, z := range uc.Status.Zones {
		if z.Zone == zone && z.Exhausted {
			h := &creditHold{user: uc.Spec.User}
			if h.user == "" {
				h.user = uc.Name
			}
			if z.NextReset != nil {
				h.reset = z.NextReset.Time
			}
			return h
		}
	}
	return nil
}

// creditHoldOf reads the hold on the workload: none for a workload without an owner (never
// charged, so never held: no read for it) or when the manager runs without a zone.
func (r *Reconciler) creditHoldOf(ctx context.Context, wl *doradev1.Workload) (*creditHold, error) {
	owner := wl.Annotations[doradev1.AnnotationOwner]
	if owner == "" || r.zone == "" {
		return nil, nil
	}
	uc := &doradev1.UserCredit{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: owner}, uc); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return heldBy(uc, r.zone), nil
}

// setCreditCondition sets CreditsExhausted on a held workload, and clears it on one that
// was held. A workload never held gets no condition, so owning one costs no status write.
func setCreditCondition(st *doradev1.WorkloadStatus, held *creditHold, generation int64) {
	c := metav1.Condition{Type: doradev1.CreditsExhausted, ObservedGeneration: generation}
	switch {
	case held != nil:
		c.Status, c.Reason = metav1.ConditionTrue, doradev1.ReasonBudgetSpent
		c.Message = fmt.Sprintf("%s has spent the weekly budget in this zone: the workload's pods are removed until the reset at %s, or until an administrator raises the budget; resuming does not lift this", held.user, formatReset(held.reset))
	case meta.FindStatusCondition(st.Conditions, doradev1.CreditsExhausted) != nil:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, doradev1.ReasonBudgetLeft, "the owner has credits left"
	default:
		return
	}
	meta.SetStatusCondition(&st.Conditions, c)
}

func formatReset(t time.Time) string {
	if t.IsZero() {
		return "the next reset"
	}
	return t.UTC().Format(time.RFC3339)
}

// exhaustedChanged lets through only UserCredit changes that hold or release workloads.
func exhaustedChanged(zone string) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		oldUC, okOld := e.ObjectOld.(*doradev1.UserCredit)
		newUC, okNew := e.ObjectNew.(*doradev1.UserCredit)
		if !okOld || !okNew {
			return true
		}
		return (heldBy(oldUC, zone) == nil) != (heldBy(newUC, zone) == nil)
	}}
}

// workloadsOfCreditOwner maps a UserCredit to its user's workloads.
func (r *Reconciler) workloadsOfCreditOwner(ctx context.Context, obj client.Object) []reconcile.Request {
	uc, ok := obj.(*doradev1.UserCredit)
	if !ok {
		return nil
	}
	user := uc.Spec.User
	if user == "" {
		user = uc.Name
	}
	list := &doradev1.WorkloadList{}
	if err := r.client.List(ctx, list, client.MatchingFields{indexes.WorkloadOwner: user}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, wl := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: wl.Namespace, Name: wl.Name}})
	}
	return reqs
}
