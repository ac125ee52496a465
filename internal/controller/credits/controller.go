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
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
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
	"github.com/dora-hpc/dora-operator/internal/controller/coalesce"
	"github.com/dora-hpc/dora-operator/internal/controller/indexes"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/credits"
	"github.com/dora-hpc/dora-operator/internal/gpu"
)

// Events of the credit controller.
const (
	EventCreditsLow       = "CreditsLow"
	EventCreditsExhausted = "CreditsExhausted"
	EventUnpriced         = "Unpriced"
	// EventProductUnknown: a pod's GPUs' model could not be told from its node's agent.
	EventProductUnknown = "ProductUnknown"
	// EventOwnerGone: a pod's owner is no User, so nobody is charged for it.
	EventOwnerGone = "OwnerGone"
)

// Options configure a Reconciler.
type Options struct {
	// Zone is this cluster's zone: the budget charged is the user's spec.credits for it.
	Zone string
	// Week is when the week resets (credits.DefaultWeek when zero).
	Week credits.Week
	// RequireBudget limits a user with no budget in this zone to nothing (a budget of 0),
	// instead of metering without a limit.
	RequireBudget bool
	// Metrics, when set, is given each user's week for the metrics.
	Metrics *Collector
}

// Reconciler keeps each user's UserCredit.
type Reconciler struct {
	client   client.Client
	recorder events.EventRecorder
	clock    clock.PassiveClock
	zone     string
	week     credits.Week
	// requireBudget: see Options.RequireBudget.
	requireBudget bool
	// reported holds the UIDs of the pods whose product was reported as unknown (an event
	// once per pod), forgotten when their finalizer is released.
	reported sync.Map
	metrics  *Collector
	// unownedWritten is when the Zone's status.unowned was last written (one key: no lock).
	unownedWritten time.Time
	// rateWritten holds when each user's UserCredit was last written (user -> time.Time).
	rateWritten sync.Map
	// window spaces out a user's reconciles that their pods' events ask for: a user's
	// reconcile reads all their pods, and a sweep of a thousand workloads starting is tens
	// of thousands of pod events.
	window *coalesce.Window
	// byAccount reads the cached pods of an account straight from the informer's store,
	// set up with the manager; nil (a client without an informer) lists the field index.
	byAccount indexes.StoreLookup
}

// podsByAccount is the pod informer's own index of indexes.PodAccount, read by byAccount.
const podsByAccount = "dora.dev/credit-account"

// podWindow is the least time between two reconciles of one user that pod events ask for.
const podWindow = time.Second

// NewReconciler returns a Reconciler using the manager's client, an event recorder and a
// clock (clock.RealClock{} outside tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, opts Options) *Reconciler {
	if opts.Week.Location == nil {
		opts.Week = credits.DefaultWeek()
	}
	return &Reconciler{client: c, recorder: recorder, clock: clk, zone: opts.Zone, week: opts.Week, requireBudget: opts.RequireBudget, metrics: opts.Metrics,
		window: coalesce.New(podWindow, clk)}
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

// Reconcile charges one user's pods: the request's name is the user's, or indexes.Unowned
// for the counted pods of workloads without an owner.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	defer r.window.Began(req)()
	if req.Name == indexes.Unowned {
		return r.reconcileUnowned(ctx)
	}
	log := ctrl.LoggerFrom(ctx)
	now := r.clock.Now()
	user := &doradev1.User{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: req.Name}, user); err != nil {
		if !apierrors.IsNotFound(err) {
			return ctrl.Result{}, err
		}
		r.setSnapshot(req.Name, nil)
		r.rateWritten.Delete(req.Name)
		r.window.Forget(req)
		return ctrl.Result{}, r.releaseOrphans(ctx, req.Name, now)
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
	if !w.has && r.requireBudget {
		// Nothing to spend: the user's workloads in this zone are held from the start.
		w.has, w.required = true, true
	}
	old := zoneOf(uc, r.zone)
	a, err := r.account(ctx, user.Name, old, w, now, prices)
	if err != nil {
		return ctrl.Result{}, err
	}
	r.setSnapshot(user.Name, &snapshot{has: a.week.has, budget: a.week.budget, ledger: a.week.ledger, live: a.usages, prices: prices})

	// A burst of pods starting (or stopping) only moves the rate: written at most every
	// rateBatch, so that a sweep of a hundred workloads costs a few writes. Anything that
	// holds, releases, warns or closes a pod is written at once.
	if !sameButTime(old, a.status) && onlyRate(old, a.status) {
		if last, ok := r.rateWritten.Load(user.Name); ok {
			if wait := rateBatch - now.Sub(last.(time.Time)); wait > 0 {
				if next := a.requeue(now).RequeueAfter; next > 0 && next < wait {
					wait = next // a threshold or the budget comes first
				}
				return ctrl.Result{RequeueAfter: wait}, nil
			}
		}
	}
	wasExhausted := old.Exhausted
	wasUnpriced := hasTrue(uc.Status.Conditions, doradev1.Unpriced)
	// Locked: the ledger is carried from the status read, and a cache behind this
	// controller's last write must not drop a pod that write closed (and let go).
	written, err := statuspatch.UpdateLocked(ctx, r.client, uc, func() {
		setZone(uc, a.status)
		setConditions(&uc.Status.Conditions, a.week, a.forecast, uc.Generation)
		uc.Status.ObservedGeneration = uc.Generation
	})
	if apierrors.IsConflict(err) {
		// The UserCredit's next event brings the fresh ledger.
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if written {
		r.rateWritten.Store(user.Name, now)
		zs, f := a.status, a.forecast
		log.V(1).Info("Credits written", "user", user.Name, "used", zs.Used, "exhausted", zs.Exhausted)
		if a.notify {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventCreditsLow, "Charge", "User %s has spent %d%% of the weekly budget in zone %s: %s credits left", user.Name, a.reached, r.zone, f.Remaining)
		}
		if zs.Exhausted && !wasExhausted {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventCreditsExhausted, "Charge", "User %s has spent the weekly budget of %s credits in zone %s: workloads are held until %s", user.Name, display(a.week.budget), r.zone, f.Reset.UTC().Format(time.RFC3339))
		}
		if len(a.week.unpriced) > 0 && !wasUnpriced {
			r.recorder.Eventf(uc, nil, corev1.EventTypeWarning, EventUnpriced, "Charge", "User %s runs pods on products no ResourceCredit prices, charged 0: %v", user.Name, a.week.unpriced)
		}
	}

	// Only now that the ledger is stored may the closed pods go.
	if err := r.release(ctx, a.pods, a.week.ledger); err != nil {
		return ctrl.Result{}, err
	}
	return a.requeue(now), nil
}

// unownedBatch is the least time between two writes of the Zone's status.unowned: the pods
// of unowned workloads may be thousands (a sweep an administrator submits), and nobody is
// held by their numbers. Their pods wait for the write that closes them.
const unownedBatch = 5 * time.Second

// rateBatch is the least time between two writes of a UserCredit whose only news is its
// burn rate: a sweep of a thousand workloads starting moves it a thousand times, and
// anything that holds, warns or closes a pod is written at once anyway.
const rateBatch = 10 * time.Second

// conflictRetry is when a ledger write refused for a stale read is tried again, if no event
// of the fresh object comes first.
const conflictRetry = time.Second

// reconcileUnowned counts the pods of workloads without an owner into the Zone's
// status.unowned, as a user's would be but with no budget, at most every unownedBatch.
func (r *Reconciler) reconcileUnowned(ctx context.Context) (ctrl.Result, error) {
	now := r.clock.Now()
	z := &doradev1.Zone{}
	if err := r.client.Get(ctx, types.NamespacedName{Name: r.zone}, z); err != nil {
		if apierrors.IsNotFound(err) {
			// The zone controller creates it.
			return ctrl.Result{RequeueAfter: unownedBatch}, nil
		}
		return ctrl.Result{}, err
	}
	prices, err := r.prices(ctx, now)
	if err != nil {
		return ctrl.Result{}, err
	}
	old := doradev1.ZoneCredits{Zone: r.zone}
	if z.Status.Unowned != nil {
		old = *z.Status.Unowned.DeepCopy()
	}
	a, err := r.account(ctx, indexes.Unowned, old, week{}, now, prices)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !equality.Semantic.DeepEqual(old, a.status) {
		if wait := unownedBatch - now.Sub(r.unownedWritten); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
	}
	written, err := statuspatch.UpdateLocked(ctx, r.client, z, func() { z.Status.Unowned = &a.status })
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if written {
		r.unownedWritten = now
	}
	if err := r.release(ctx, a.pods, a.week.ledger); err != nil {
		return ctrl.Result{}, err
	}
	return a.requeue(now), nil
}

// releaseOrphans lets go the ended pods of an owner who is no User (the User was deleted):
// there is nobody to charge, and a pod kept forever would keep its namespace from going.
func (r *Reconciler) releaseOrphans(ctx context.Context, owner string, now time.Time) error {
	pods, err := r.podsOf(ctx, owner)
	if err != nil {
		return err
	}
	for _, pod := range pods {
		if podUsage(pod, "", now).End.IsZero() || !controllerutil.ContainsFinalizer(pod, doradev1.FinalizerCredits) {
			continue
		}
		if err := r.removeFinalizer(ctx, pod); err != nil {
			return err
		}
		r.recorder.Eventf(pod, nil, corev1.EventTypeWarning, EventOwnerGone, "Charge", "No User %s exists to charge: this pod's time is charged to nobody", owner)
	}
	return nil
}

// account is one account's week at now, the user's or the unowned workloads': its pods,
// what they are charged for, the week with the ended pods closed into its ledger, and the
// status entry that says so.
type account struct {
	pods     []*corev1.Pod
	usages   []credits.PodUsage
	week     week
	forecast credits.Forecast
	status   doradev1.ZoneCredits
	// reached is the highest CreditsLow threshold reached, and notify whether it is new
	// this week.
	reached int32
	notify  bool
}

// account reads the ledger of old, rolls the week, closes the ended pods and forecasts; w
// carries the budget. Nothing is written.
func (r *Reconciler) account(ctx context.Context, name string, old doradev1.ZoneCredits, w week, now time.Time, prices credits.Prices) (account, error) {
	ledger, err := readLedger(&old, r.week.Start(now))
	if err != nil {
		return account{}, fmt.Errorf("ledger of %s in zone %s: %w", name, r.zone, err)
	}
	pods, usages, err := r.pods(ctx, name, now, prices)
	if err != nil {
		return account{}, err
	}
	history, lowNotified := old.History, old.LowNotified
	var rolled bool
	ledger, history, rolled = rollWeek(ledger, credits.Total(ledger, usages, r.week, now, prices), history, r.week, now)
	if rolled {
		lowNotified = 0
		ctrl.LoggerFrom(ctx).Info("Week reset", "account", name, "weekStart", ledger.Start)
	}
	for _, u := range usages {
		if u.End.IsZero() {
			continue
		}
		if _, err := ledger.Close(u, r.week, prices); err != nil {
			return account{}, fmt.Errorf("closing pod %s: %w", u.UID, err)
		}
	}
	w.ledger = ledger
	w.total = credits.Total(ledger, usages, r.week, now, prices)
	w.rate = credits.BurnRate(usages, now, prices)
	w.reset = r.week.Next(ledger.Start)
	w.unpriced = unpricedProducts(usages, prices, now)
	a := account{pods: pods, usages: usages, week: w, forecast: w.forecast(now)}
	a.reached = lowThreshold(a.forecast, w.has && !w.required)
	if a.notify = a.reached > lowNotified; a.notify {
		lowNotified = a.reached
	}
	a.status = zoneStatus(r.zone, w, a.forecast, history, lowNotified, now)
	if sameButTime(old, a.status) {
		a.status = old
	}
	return a, nil
}

// release lets go the pods the stored ledger has closed.
func (r *Reconciler) release(ctx context.Context, pods []*corev1.Pod, ledger credits.Ledger) error {
	for _, pod := range pods {
		if !ledger.IsClosed(string(pod.UID)) || !controllerutil.ContainsFinalizer(pod, doradev1.FinalizerCredits) {
			continue
		}
		if err := r.removeFinalizer(ctx, pod); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reconciler) removeFinalizer(ctx context.Context, cached *corev1.Pod) error {
	pod := cached.DeepCopy()
	patch := client.MergeFromWithOptions(cached, client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(pod, doradev1.FinalizerCredits)
	if err := r.client.Patch(ctx, pod, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("releasing pod %s: %w", klog.KObj(pod), err)
	}
	r.reported.Delete(pod.UID)
	return nil
}

// requeue is when the account changes by itself: the forecast's next instant (a threshold,
// the budget spent, the reset), or a pod's deletion time in its grace period.
func (a account) requeue(now time.Time) ctrl.Result {
	next := a.forecast.Next(now)
	for _, pod := range a.pods {
		// A pod in its grace period ends at its deletion time, if it has not finished before.
		if d := pod.DeletionTimestamp; d != nil && d.After(now) && (next.IsZero() || d.Time.Before(next)) {
			next = d.Time
		}
	}
	if !next.IsZero() {
		return ctrl.Result{RequeueAfter: max(next.Sub(now), time.Millisecond)}
	}
	return ctrl.Result{}
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

// prices records every ResourceCredit's current price and whether it is in force in its
// status, and returns the price histories by product. A ResourceCredit that another, older,
// one overrides gets Ready False naming it, and an event, once.
func (r *Reconciler) prices(ctx context.Context, now time.Time) (credits.Prices, error) {
	var list doradev1.ResourceCreditList
	if err := r.client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing ResourceCredits: %w", err)
	}
	histories := make([][]doradev1.PriceObservation, len(list.Items))
	errs := make([]error, len(list.Items))
	for i := range list.Items {
		rc := &list.Items[i]
		histories[i] = rc.Status.PriceHistory
		if h, changed, err := observePrice(rc, now); err != nil {
			errs[i] = err
		} else if changed {
			histories[i] = h
		}
	}
	// The duplicates are told from the histories as they will be written.
	observed := make([]doradev1.ResourceCredit, len(list.Items))
	for i := range list.Items {
		observed[i] = *list.Items[i].DeepCopy()
		observed[i].Status.PriceHistory = histories[i]
	}
	prices, duplicates, err := pricesOf(observed)
	if err != nil {
		return nil, err
	}
	for i := range list.Items {
		rc := &list.Items[i]
		ready := readyCondition(rc, errs[i], duplicates[rc.Name])
		wasSame := hasReason(rc.Status.Conditions, doradev1.ConditionReady, ready.Reason)
		written, err := statuspatch.Update(ctx, r.client, rc, func() {
			rc.Status.PriceHistory = histories[i]
			meta.SetStatusCondition(&rc.Status.Conditions, ready)
			rc.Status.ObservedGeneration = rc.Generation
		})
		if err != nil {
			return nil, err
		}
		if written && ready.Status == metav1.ConditionFalse && !wasSame {
			r.recorder.Eventf(rc, nil, corev1.EventTypeWarning, ready.Reason, "Price", ready.Message)
		}
	}
	return prices, nil
}

// pods are the user's pods in this cluster and what each is charged for. A pod whose
// GPUs' model is a guess (a node of several models whose agent maps none of its GPUs to
// it) or unknown gets an event, once; one charged as its node's only model does not.
func (r *Reconciler) pods(ctx context.Context, user string, now time.Time, prices credits.Prices) ([]*corev1.Pod, []credits.PodUsage, error) {
	cached, err := r.podsOf(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	pods := make([]*corev1.Pod, 0, len(cached))
	usages := make([]credits.PodUsage, 0, len(cached))
	// Many pods share a node: each node is read once.
	doraNodes, nodes := map[string]*doradev1.Node{}, map[string]*corev1.Node{}
	for _, pod := range cached {
		u := podUsage(pod, "", now)
		if name := pod.Spec.NodeName; name != "" {
			dn, seen := doraNodes[name]
			if !seen {
				dn = &doradev1.Node{}
				// Read only: the cache's own object, not a copy of every GPU of it.
				if err := r.client.Get(ctx, types.NamespacedName{Name: name}, dn, client.UnsafeDisableDeepCopy); err != nil {
					dn = nil
				}
				doraNodes[name] = dn
			}
			if u.GPUs > 0 {
				node, seen := nodes[name]
				if !seen {
					node = &corev1.Node{}
					if err := r.client.Get(ctx, types.NamespacedName{Name: name}, node, client.UnsafeDisableDeepCopy); err != nil {
						node = nil
					}
					nodes[name] = node
				}
				var source productSource
				u.Product, source = productOf(pod, u.GPUs, dn, node, prices)
				if (source == ambiguous || source == unknown) && !u.Start.IsZero() {
					r.reportProduct(pod, u.Product)
				}
				if debug := ctrl.LoggerFrom(ctx).V(1); debug.Enabled() {
					debug.Info("Charged pod", "pod", klog.KObj(pod), "product", u.Product, "gpus", u.GPUs)
				}
			} else {
				u = cpuUsage(u, pod, dn, prices)
			}
		}
		pods = append(pods, pod)
		usages = append(usages, u)
	}
	return pods, usages, nil
}

// podsOf is the cached pods charged to an account (indexes.PodAccount): the cache's own
// objects, not copies (a user may have tens of thousands), read here and copied before the
// one write made of them (removeFinalizer).
func (r *Reconciler) podsOf(ctx context.Context, account string) ([]*corev1.Pod, error) {
	if r.byAccount != nil {
		objs, err := r.byAccount(account)
		if err != nil {
			return nil, fmt.Errorf("reading the pods of %s from the cache: %w", account, err)
		}
		pods := make([]*corev1.Pod, 0, len(objs))
		for _, o := range objs {
			if pod, ok := o.(*corev1.Pod); ok {
				pods = append(pods, pod)
			}
		}
		return pods, nil
	}
	var list corev1.PodList
	if err := r.client.List(ctx, &list, client.MatchingFields{indexes.PodOwner: account}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", account, err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	return pods, nil
}

// reportProduct says, once per pod, that its GPUs' model could not be told and what it is
// charged as instead.
func (r *Reconciler) reportProduct(pod *corev1.Pod, product string) {
	if _, seen := r.reported.LoadOrStore(pod.UID, true); seen {
		return
	}
	if product == "" {
		r.recorder.Eventf(pod, nil, corev1.EventTypeWarning, EventProductUnknown, "Charge",
			"The model of this pod's GPUs is unknown (no node agent report for %s, no %s label): its time is charged 0", pod.Spec.NodeName, gpu.LabelProduct)
		return
	}
	r.recorder.Eventf(pod, nil, corev1.EventTypeWarning, EventProductUnknown, "Charge",
		"Node %s has GPUs of several models and its agent maps none of them to this pod: charged as the node's first GPU's model, %s", pod.Spec.NodeName, product)
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

func hasReason(conds []metav1.Condition, t, reason string) bool {
	c := meta.FindStatusCondition(conds, t)
	return c != nil && c.Reason == reason
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
// UserCredit or pods change (at most once per podWindow for the pods), and every user when
// a price does.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	byAccount, err := indexes.NewStoreLookup(context.Background(), mgr.GetCache(), &corev1.Pod{}, podsByAccount, indexes.PodAccount)
	if err != nil {
		return err
	}
	r.byAccount = byAccount
	return ctrl.NewControllerManagedBy(mgr).
		Named("credits").
		For(&doradev1.User{}).
		Watches(&doradev1.UserCredit{}, handler.EnqueueRequestsFromMapFunc(userOfCredit)).
		Watches(&corev1.Pod{}, r.window.Map(ownerOfPod)).
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
	if err := r.client.List(ctx, &pods, client.MatchingFields{indexes.PodNode: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing pods for a node change")
		return nil
	}
	seen := map[string]bool{}
	var reqs []reconcile.Request
	for i := range pods.Items {
		for _, account := range indexes.PodAccount(&pods.Items[i]) {
			if !seen[account] {
				seen[account] = true
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: account}})
			}
		}
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
	var reqs []reconcile.Request
	for _, account := range indexes.PodAccount(o) {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: account}})
	}
	return reqs
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
