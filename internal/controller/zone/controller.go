// Package zone keeps the Zone object of the manager's own zone and its status: nodes, GPUs
// by model and workloads by phase.
package zone

import (
	"context"
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/coalesce"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
)

// batch is the least time between two status writes: a zone's counts move with every
// workload, and nobody needs them more often.
const batch = 15 * time.Second

// Reconciler keeps the manager's own Zone.
type Reconciler struct {
	client client.Client
	zone   string
	clock  clock.PassiveClock
	// lastWrite is when this manager last wrote the status (one worker: no lock needed).
	lastWrite time.Time
	// window spaces out the reconciles that node and workload events ask for: each one
	// reads every node and workload of the zone.
	window *coalesce.Window
}

// eventWindow is the least time between two reconciles that node, workload and price
// events ask for.
const eventWindow = time.Second

// NewReconciler returns a Reconciler for the zone named zone.
func NewReconciler(c client.Client, zone string, clk clock.PassiveClock) *Reconciler {
	return &Reconciler{client: c, zone: zone, clock: clk, window: coalesce.New(eventWindow, clk)}
}

// +kubebuilder:rbac:groups=dora.dev,resources=zones,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=dora.dev,resources=zones/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=resourcecredits,verbs=get;list;watch

// Reconcile creates the Zone if it is missing and writes its status when it changed, at
// most every few seconds.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	defer r.window.Began(req)()
	z := &doradev1.Zone{}
	switch err := r.client.Get(ctx, types.NamespacedName{Name: r.zone}, z); {
	case apierrors.IsNotFound(err):
		z = &doradev1.Zone{ObjectMeta: metav1.ObjectMeta{Name: r.zone}}
		if err := r.client.Create(ctx, z); err != nil && !apierrors.IsAlreadyExists(err) {
			return ctrl.Result{}, fmt.Errorf("creating zone %s: %w", r.zone, err)
		}
		ctrl.LoggerFrom(ctx).Info("Created the Zone of this manager", "zone", r.zone)
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading zone %s: %w", r.zone, err)
	}

	// The cache's own objects, not copies: only counted here.
	nodes := &doradev1.NodeList{}
	if err := r.client.List(ctx, nodes, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing dora nodes: %w", err)
	}
	workloads := &doradev1.WorkloadList{}
	if err := r.client.List(ctx, workloads, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing workloads: %w", err)
	}
	rcs := &doradev1.ResourceCreditList{}
	if err := r.client.List(ctx, rcs); err != nil {
		return ctrl.Result{}, fmt.Errorf("listing ResourceCredits: %w", err)
	}
	next := summarize(nodes.Items, workloads.Items, rcs.Items)
	// status.unowned is the credit controller's.
	next.Unowned = z.Status.Unowned
	next.ObservedGeneration = z.Generation
	for i := range next.Conditions {
		next.Conditions[i].ObservedGeneration = z.Generation
	}
	before := z.DeepCopy()
	conds := z.Status.Conditions
	for _, c := range next.Conditions {
		meta.SetStatusCondition(&conds, c)
	}
	next.Conditions = conds
	if apiequality.Semantic.DeepEqual(before.Status, next) {
		return ctrl.Result{}, nil
	}
	if wait := batch - r.clock.Since(r.lastWrite); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	z.Status = next
	if _, err := statuspatch.Write(ctx, r.client, before, z); err != nil {
		return ctrl.Result{}, err
	}
	r.lastWrite = r.clock.Now()
	return ctrl.Result{}, nil
}

// SetupWithManager registers the controller: the zone, and every Dora Node, Workload and
// ResourceCredit change, all mapped to the one zone (at most once per eventWindow).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	toZone := r.window.Map(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: r.zone}}}
	})
	onlyOurs := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetName() == r.zone })
	return ctrl.NewControllerManagedBy(mgr).
		Named("zone").
		For(&doradev1.Zone{}, builder.WithPredicates(onlyOurs, predicate.GenerationChangedPredicate{})).
		Watches(&doradev1.Node{}, toZone).
		Watches(&doradev1.Workload{}, toZone).
		Watches(&doradev1.ResourceCredit{}, toZone).
		Complete(r)
}
