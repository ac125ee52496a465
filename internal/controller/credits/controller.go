// Package credits is the credit controller: it charges every pod of every owned Workload in
// this zone to its owner, from the pods' own start and finish times, keeps each owner's week
// in a UserCredit (a ledger of the ended pods, exact in GPU-seconds), and says when the
// weekly budget is spent, so that the workload controller holds the owner's workloads.
//
// A reconcile is one user: read the budget, the ledger and the prices, roll the week, close
// the ended pods into the ledger, write the status, and only then let the closed pods go
// (their finalizer): a manager that dies in between finds their UIDs closed and charges
// nothing twice. It requeues when the forecast changes by itself (a threshold, the budget
// spent, the reset) and writes nothing while pods simply run.
package credits

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/credits"
)

// Events of the credit controller.
const (
	EventCreditsLow       = "CreditsLow"
	EventCreditsExhausted = "CreditsExhausted"
	EventUnpriced         = "Unpriced"
)

// Options configure a Reconciler.
type Options struct {
	// Zone is this cluster's zone: the budget charged is the user's spec.credits for it.
	Zone string
	// Week is when the week resets (credits.DefaultWeek when zero).
	Week credits.Week
}

// Reconciler keeps each user's UserCredit.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
	zone     string
	week     credits.Week
}

// NewReconciler returns a Reconciler using the manager's client, an event recorder and a
// clock (clock.RealClock{} outside tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, opts Options) *Reconciler {
	if opts.Week.Location == nil {
		opts.Week = credits.DefaultWeek()
	}
	return &Reconciler{client: c, recorder: recorder, clock: clk, zone: opts.Zone, week: opts.Week}
}

// +kubebuilder:rbac:groups=dora.dev,resources=usercredits,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=dora.dev,resources=usercredits/status,verbs=get;patch
// +kubebuilder:rbac:groups=dora.dev,resources=resourcecredits,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=resourcecredits/status,verbs=get;patch
// +kubebuilder:rbac:groups=dora.dev,resources=users,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile charges one user's pods: the request's name is the user's.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	now := r.clock.Now()
	user := &doradev1.User{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: req.Name}, user); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	uc, err := r.ensureUserCredit(ctx, user)
	if err != nil {
		return ctrl.Result{}, err
	}
	prices, err := r.prices(ctx, now)
	if err != nil {
		return ctrl.Result{}, err
	}

	w := week{}
	for _, c := range user.Spec.Credits {
		if c.Zone == r.zone {
			if w.budget, err = credits.ParseNonNegative(c.Weekly); err != nil {
				return ctrl.Result{}, fmt.Errorf("spec.credits[%s].weekly of user %s: %w", c.Zone, user.Name, err)
			}
			w.has = true
		}
	}
	old := zoneOf(uc, r.zone)
	ledger, err := readLedger(&old, r.week.Start(now))
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("ledger of %s in zone %s: %w", uc.Name, r.zone, err)
	}

	pods, usages, err := r.pods(ctx, user.Name, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	history, lowNotified := old.History, old.LowNotified
	var rolled bool
	ledger, history, rolled = rollWeek(ledger, credits.Total(ledger, usages, r.week, now, prices), history, r.week, now)
	if rolled {
		lowNotified = 0
		log.Info("Week reset", "user", user.Name, "weekStart", ledger.Start)
	}
	for _, u := range usages {
		if u.End.IsZero() {
			continue
		}
		if _, err := ledger.Close(u, r.week, prices); err != nil {
			return ctrl.Result{}, fmt.Errorf("closing pod %s: %w", u.UID, err)
		}
	}
	w.ledger = ledger
	w.total = credits.Total(ledger, usages, r.week, now, prices)
	w.rate = credits.BurnRate(usages, now, prices)
	w.reset = r.week.Next(ledger.Start)
	w.unpriced = unpricedProducts(usages, prices, now)
	f := w.forecast(now)

	reached := lowThreshold(f, w.has)
	notify := reached > lowNotified
	if notify {
		lowNotified = reached
	}
	zs := zoneStatus(r.zone, w, f, history, lowNotified, now)
	if sameButTime(old, zs) {
		zs = old
	}
	wasExhausted := old.Exhausted
	wasUnpriced := hasTrue(uc.Status.Conditions, doradev1.Unpriced)
	written, err := statuspatch.Update(ctx, r.client, uc, func() {
		setZone(uc, zs)
		setConditions(&uc.Status.Conditions, w, f, uc.Generation)
		uc.Status.ObservedGeneration = uc.Generation
	})
	if err != nil {
		return ctrl.Result{}, err
	}
	if written {
		log.V(1).Info("Credits written", "user", user.Name, "used", zs.Used, "exhausted", zs.Exhausted)
		if notify {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventCreditsLow, "Charge", "User %s has spent %d%% of the weekly budget in zone %s: %s credits left", user.Name, reached, r.zone, f.Remaining)
		}
		if zs.Exhausted && !wasExhausted {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventCreditsExhausted, "Charge", "User %s has spent the weekly budget of %s credits in zone %s: workloads are held until %s", user.Name, display(w.budget), r.zone, f.Reset.UTC().Format(time.RFC3339))
		}
		if len(w.unpriced) > 0 && !wasUnpriced {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventUnpriced, "Charge", "User %s runs pods on products no ResourceCredit prices, charged 0: %v", user.Name, w.unpriced)
		}
	}

	// Only now that the ledger is stored may the closed pods go.
	for _, pod := range pods {
		if !ledger.IsClosed(string(pod.UID)) || !controllerutil.ContainsFinalizer(pod, doradev1.FinalizerCredits) {
			continue
		}
		patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.RemoveFinalizer(pod, doradev1.FinalizerCredits)
		if err := r.client.Patch(ctx, pod, patch); err != nil && !apierrors.IsNotFound(err) {
			return ctrl.Result{}, fmt.Errorf("releasing pod %s: %w", klog.KObj(pod), err)
		}
	}

	next := f.Next(now)
	for _, pod := range pods {
		// A pod in its grace period ends at its deletion time, if it has not finished before.
		if d := pod.DeletionTimestamp; d != nil && d.After(now) && (next.IsZero() || d.Time.Before(next)) {
			next = d.Time
		}
	}
	if !next.IsZero() {
		return ctrl.Result{RequeueAfter: max(next.Sub(now), time.Millisecond)}, nil
	}
	return ctrl.Result{}, nil
}

// ensureUserCredit gets the user's UserCredit, creating it (owned by the User) if absent.
func (r *Reconciler) ensureUserCredit(ctx context.Context, user *doradev1.User) (*doradev1.UserCredit, error) {
	uc := &doradev1.UserCredit{}
	err := r.client.Get(ctx, types.NamespacedName{Name: user.Name}, uc)
	if err == nil {
		return uc, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading the UserCredit of %s: %w", user.Name, err)
	}
	uc = &doradev1.UserCredit{
		ObjectMeta: metav1.ObjectMeta{Name: user.Name},
		Spec:       doradev1.UserCreditSpec{User: user.Name},
	}
	if err := controllerutil.SetControllerReference(user, uc, r.client.Scheme()); err != nil {
		return nil, err
	}
	if err := r.client.Create(ctx, uc); err != nil {
		return nil, fmt.Errorf("creating the UserCredit of %s: %w", user.Name, err)
	}
	return uc, nil
}

// prices records every ResourceCredit's current price in its status and returns the price
// histories by product.
func (r *Reconciler) prices(ctx context.Context, now time.Time) (credits.Prices, error) {
	var list doradev1.ResourceCreditList
	if err := r.client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing ResourceCredits: %w", err)
	}
	for i := range list.Items {
		rc := &list.Items[i]
		history, changed, err := observePrice(rc, now)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Price refused", "resourceCredit", rc.Name)
			continue
		}
		if changed {
			if _, err := statuspatch.Update(ctx, r.client, rc, func() {
				rc.Status.PriceHistory = history
				rc.Status.ObservedGeneration = rc.Generation
			}); err != nil {
				return nil, err
			}
		}
	}
	prices, _, err := pricesOf(list.Items)
	return prices, err
}

// pods are the user's pods in this cluster and what each is charged for.
func (r *Reconciler) pods(ctx context.Context, user string, now time.Time) ([]*corev1.Pod, []credits.PodUsage, error) {
	var list corev1.PodList
	if err := r.client.List(ctx, &list, client.MatchingFields{indexes.PodOwner: user}); err != nil {
		return nil, nil, fmt.Errorf("listing the pods of %s: %w", user, err)
	}
	pods := make([]*corev1.Pod, 0, len(list.Items))
	usages := make([]credits.PodUsage, 0, len(list.Items))
	for i := range list.Items {
		pod := &list.Items[i]
		u := podUsage(pod, "", now)
		if u.GPUs > 0 && pod.Spec.NodeName != "" {
			dn, node := &doradev1.Node{}, &corev1.Node{}
			if err := r.client.Get(ctx, types.NamespacedName{Name: pod.Spec.NodeName}, dn); err != nil {
				ctrl.LoggerFrom(ctx).Info("No Dora Node for a charged pod: charging the node's product label", "pod", klog.KObj(pod), "node", pod.Spec.NodeName, "err", err.Error())
				dn = nil
			}
			if err := r.client.Get(ctx, types.NamespacedName{Name: pod.Spec.NodeName}, node); err != nil {
				node = nil
			}
			u.Product = productOf(pod, u.GPUs, dn, node)
			ctrl.LoggerFrom(ctx).V(1).Info("Charged pod", "pod", klog.KObj(pod), "product", u.Product, "gpus", u.GPUs)
		}
		pods = append(pods, pod)
		usages = append(usages, u)
	}
	return pods, usages, nil
}

// zoneOf is the zone's entry of the UserCredit's status, empty if it has none.
func zoneOf(uc *doradev1.UserCredit, zone string) doradev1.ZoneCredits {
	for _, z := range uc.Status.Zones {
		if z.Zone == zone {
			return *z.DeepCopy()
		}
	}
	return doradev1.ZoneCredits{Zone: zone}
}

// setZone replaces (or adds) the zone's entry.
func setZone(uc *doradev1.UserCredit, z doradev1.ZoneCredits) {
	for i := range uc.Status.Zones {
		if uc.Status.Zones[i].Zone == z.Zone {
			uc.Status.Zones[i] = z
			return
		}
	}
	uc.Status.Zones = append(uc.Status.Zones, z)
}

func hasTrue(conds []metav1.Condition, t string) bool {
	for _, c := range conds {
		if c.Type == t {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// SetupWithManager registers the controller: a user is reconciled when its User,
// UserCredit or pods change, and every user when a price does.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("credits").
		For(&doradev1.User{}).
		Watches(&doradev1.UserCredit{}, handler.EnqueueRequestsFromMapFunc(userOfCredit)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(ownerOfPod)).
		Watches(&doradev1.ResourceCredit{}, handler.EnqueueRequestsFromMapFunc(r.everyUser)).
		Watches(&doradev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.ownersOnNode), builder.WithPredicates(gpuHoldersChanged)).
		Complete(r)
}

// gpuHoldersChanged lets through only the Dora Node changes that change a pod's product:
// which models its GPUs are and which pods hold them.
var gpuHoldersChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	oldNode, okOld := e.ObjectOld.(*doradev1.Node)
	newNode, okNew := e.ObjectNew.(*doradev1.Node)
	if !okOld || !okNew || len(oldNode.Status.GPUs) != len(newNode.Status.GPUs) {
		return true
	}
	for i, g := range newNode.Status.GPUs {
		if o := oldNode.Status.GPUs[i]; o.Product != g.Product || o.Pod != g.Pod {
			return true
		}
	}
	return false
}}

// ownersOnNode maps a Dora Node to the owners of the charged pods on it.
func (r *Reconciler) ownersOnNode(ctx context.Context, o client.Object) []reconcile.Request {
	var pods corev1.PodList
	if err := r.client.List(ctx, &pods); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing pods for a node change")
		return nil
	}
	seen := map[string]bool{}
	var reqs []reconcile.Request
	for _, p := range pods.Items {
		owner := p.Annotations[doradev1.AnnotationOwner]
		if p.Spec.NodeName != o.GetName() || owner == "" || seen[owner] {
			continue
		}
		seen[owner] = true
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: owner}})
	}
	return reqs
}

func userOfCredit(_ context.Context, o client.Object) []reconcile.Request {
	uc, ok := o.(*doradev1.UserCredit)
	if !ok {
		return nil
	}
	name := uc.Spec.User
	if name == "" {
		name = uc.Name
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
}

func ownerOfPod(_ context.Context, o client.Object) []reconcile.Request {
	if owner := o.GetAnnotations()[doradev1.AnnotationOwner]; owner != "" {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: owner}}}
	}
	return nil
}

func (r *Reconciler) everyUser(ctx context.Context, _ client.Object) []reconcile.Request {
	var users doradev1.UserList
	if err := r.client.List(ctx, &users); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing users for a price change")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(users.Items))
	for _, u := range users.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: u.Name}})
	}
	return reqs
}
