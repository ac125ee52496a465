package workload

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// creditHold is why an owned workload is held: its owner's weekly budget in this zone is
// spent (the credit controller's UserCredit says so) until reset, or, in safe mode, what
// the workload may cost is more than what is left.
type creditHold struct {
	user  string
	reset time.Time
	// safe is set when safe mode keeps the workload from starting: what it may cost, and
	// left is what its owner has.
	safe *credits.SafeCheck
	left credits.Number
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
// charged, so never held: no read for it) or when the manager runs without a zone. In safe
// mode a workload about to start (starting) is held too when it may cost more than its
// owner has left.
func (r *Reconciler) creditHoldOf(ctx context.Context, wl *doradev1.Workload, starting bool) (*creditHold, error) {
	owner := wl.Annotations[doradev1.AnnotationOwner]
	if owner == "" || r.zone == "" {
		return nil, nil
	}
	uc := &doradev1.UserCredit{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: owner}, uc); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	if h := heldBy(uc, r.zone); h != nil || !r.safe || !starting {
		return h, nil
	}
	var rcs doradev1.ResourceCreditList
	if err := r.client.List(ctx, &rcs); err != nil {
		return nil, fmt.Errorf("listing ResourceCredits for safe mode: %w", err)
	}
	return safeHold(wl, uc, r.zone, rcs.Items, r.clock.Now()), nil
}

// safeHold is safe mode's verdict on a workload about to start: a hold when its GPUs x the
// highest current price of the models it may get x how long it may run (its maxRunTime, else
// until the reset) is more than its owner has left now; nil when it fits, or when the owner
// has no budget here (metered, not limited), or it has no GPUs or no priced model.
func safeHold(wl *doradev1.Workload, uc *doradev1.UserCredit, zone string, rcs []doradev1.ResourceCredit, now time.Time) *creditHold {
	var z *doradev1.ZoneCredits
	for i := range uc.Status.Zones {
		if uc.Status.Zones[i].Zone == zone {
			z = &uc.Status.Zones[i]
		}
	}
	if z == nil || z.Weekly == "" || z.NextReset == nil || z.AsOf == nil {
		return nil
	}
	check := credits.SafeCheck{Units: podspec.GPUCount(wl) * int64(wl.ReplicaCount())}
	if check.Units == 0 {
		return nil
	}
	var models []string
	if wl.Spec.Selectors.GPU != nil {
		models = wl.Spec.Selectors.GPU.ProductName.Values
	}
	anyModel := len(models) == 0 || slices.Contains(models, doradev1.All)
	for _, rc := range rcs {
		if !anyModel && !slices.Contains(models, rc.Spec.ProductName) {
			continue
		}
		if p, err := credits.ParseNonNegative(rc.Spec.Credit.Per.Hour); err == nil {
			check.PerHour = check.PerHour.Max(p)
		}
	}
	check.Duration = z.NextReset.Sub(now)
	if wl.Spec.Config != nil && wl.Spec.Config.MaxRunTime != "" {
		if seconds, err := podspec.ParseMaxRunTime(wl.Spec.Config.MaxRunTime); err == nil {
			check.Duration = min(check.Duration, time.Duration(seconds)*time.Second)
		}
	}
	remaining, errRemaining := credits.ParseNonNegative(z.Remaining)
	rate, errRate := credits.ParseNonNegative(z.BurnRatePerHour)
	if errRemaining != nil || errRate != nil {
		return nil
	}
	left := credits.LeftAt(remaining, rate, z.AsOf.Time, now)
	if check.Fits(left) {
		return nil
	}
	user := uc.Spec.User
	if user == "" {
		user = uc.Name
	}
	return &creditHold{user: user, reset: z.NextReset.Time, safe: &check, left: left}
}

// setCreditCondition sets CreditsExhausted on a held workload, and clears it on one that
// was held. A workload never held gets no condition, so owning one costs no status write.
func setCreditCondition(st *doradev1.WorkloadStatus, held *creditHold, generation int64) {
	c := metav1.Condition{Type: doradev1.CreditsExhausted, ObservedGeneration: generation}
	switch {
	case held != nil && held.safe != nil:
		c.Status, c.Reason = metav1.ConditionTrue, doradev1.ReasonWouldExceedBudget
		c.Message = fmt.Sprintf("safe mode: %d GPUs at up to %s credits per GPU-hour for %s may cost %s credits, more than the %s %s has left this week: the workload starts when that is enough (the reset at %s, or a larger budget), or with a shorter spec.config.maxRunTime or fewer GPUs",
			held.safe.Units, held.safe.PerHour, held.safe.Duration.Truncate(time.Second), held.safe.Cost(), held.left, held.user, formatReset(held.reset))
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

// exhaustedChanged lets through only UserCredit changes that hold or release workloads: the
// budget spent or not; in safe mode also a new budget or a new week, which may let a
// workload start that did not fit.
func exhaustedChanged(zone string, safe bool) predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		oldUC, okOld := e.ObjectOld.(*doradev1.UserCredit)
		newUC, okNew := e.ObjectNew.(*doradev1.UserCredit)
		if !okOld || !okNew {
			return true
		}
		if (heldBy(oldUC, zone) == nil) != (heldBy(newUC, zone) == nil) {
			return true
		}
		if !safe {
			return false
		}
		o, n := zoneEntry(oldUC, zone), zoneEntry(newUC, zone)
		return o.Weekly != n.Weekly || !o.WeekStart.Equal(n.WeekStart)
	}}
}

// zoneEntry is the UserCredit's entry for zone, empty if it has none.
func zoneEntry(uc *doradev1.UserCredit, zone string) doradev1.ZoneCredits {
	for _, z := range uc.Status.Zones {
		if z.Zone == zone {
			return z
		}
	}
	return doradev1.ZoneCredits{}
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

// HeldMetric is the dora_workloads_held gauge: how many workloads this manager holds for
// their owners' credits now (only the leader reconciles, so only the leader counts).
func (r *Reconciler) HeldMetric() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "dora_workloads_held",
		Help:        "Workloads held (their pods removed) because their owner's weekly credits are spent, or, in safe mode, too few to start them.",
		ConstLabels: prometheus.Labels{"zone": r.zone},
	}, func() float64 {
		n := 0
		r.held.Range(func(any, any) bool { n++; return true })
		return float64(n)
	})
}
