// Package node keeps a Dora Node beside every Kubernetes Node: it creates it, makes the
// Kubernetes Node follow its spec (cordon, workload-class labels) and reports whether the
// node's agent is alive and its GPUs healthy.
package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
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
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// Options configure a Reconciler.
type Options struct {
	// AgentNamespace is where the node agents keep their leases.
	AgentNamespace string
	// LeaseGrace is how long past its lease's duration an agent still counts as reporting;
	// zero means DefaultLeaseGrace.
	LeaseGrace time.Duration
}

// Reconciler keeps each Kubernetes Node's Dora Node, and the Kubernetes Node in line with it.
type Reconciler struct {
	client         client.Client
	recorder       events.EventRecorder
	clock          clock.PassiveClock
	agentNamespace string
	leaseGrace     time.Duration
}

// NewReconciler returns a Reconciler using the manager's client, an event recorder and a
// clock (clock.RealClock{} outside tests).
func NewReconciler(c client.Client, recorder events.EventRecorder, clk clock.PassiveClock, opts Options) *Reconciler {
	if opts.LeaseGrace == 0 {
		opts.LeaseGrace = DefaultLeaseGrace
	}
	return &Reconciler{client: c, recorder: recorder, clock: clk, agentNamespace: opts.AgentNamespace, leaseGrace: opts.LeaseGrace}
}

// +kubebuilder:rbac:groups=dora.dev,resources=nodes,verbs=get;list;watch;create;patch
// +kubebuilder:rbac:groups=dora.dev,resources=nodes/status,verbs=get;patch;update
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch;patch
// Setting blockOwnerDeletion on a Dora Node needs this where the
// OwnerReferencesPermissionEnforcement admission plugin is on.
// +kubebuilder:rbac:groups="",resources=nodes/finalizers,verbs=update
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch,namespace=system
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile makes the Dora Node exist, applies its spec to the Kubernetes Node and writes the
// manager's conditions.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	node := &corev1.Node{}
	if err := r.client.Get(ctx, req.NamespacedName, node); err != nil {
		// A Dora Node whose Kubernetes Node is gone is left alone: the garbage collector
		// removes the ones it owns, and one made by hand is its author's.
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if node.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}

	dn := &doradev1.Node{}
	switch err := r.client.Get(ctx, req.NamespacedName, dn); {
	case apierrors.IsNotFound(err):
		if dn, err = r.create(ctx, node); dn == nil || err != nil {
			return ctrl.Result{}, err
		}
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading dora node %s: %w", req.Name, err)
	}
	if dn.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	if err := r.adopt(ctx, node, dn); err != nil {
		return ctrl.Result{}, err
	}

	// observedGeneration lags the generation until this reconcile's status write: the spec
	// changed since the manager last acted on it.
	specChanged := dn.Status.ObservedGeneration != dn.Generation
	if patch := nodePatch(dn.Spec, node, specChanged); patch != nil {
		data, err := json.Marshal(patch)
		if err != nil {
			return ctrl.Result{}, err
		}
		wasCordoned := node.Spec.Unschedulable
		if err := r.client.Patch(ctx, node, client.RawPatch(types.MergePatchType, data)); err != nil {
			return ctrl.Result{}, fmt.Errorf("patching node %s: %w", node.Name, err)
		}
		log.Info("Made the node follow its Dora Node's spec", "node", klog.KObj(node), "patch", string(data))
		switch {
		case node.Spec.Unschedulable && !wasCordoned:
			r.recorder.Eventf(dn, node, corev1.EventTypeNormal, doradev1.EventCordoned, "Cordon", "Cordoned node %s: schedulingDisabled is true", node.Name)
		case !node.Spec.Unschedulable && wasCordoned:
			r.recorder.Eventf(dn, node, corev1.EventTypeNormal, doradev1.EventUncordoned, "Uncordon", "Uncordoned node %s: schedulingDisabled is false", node.Name)
		}
	}

	lease := &coordinationv1.Lease{}
	switch err := r.client.Get(ctx, types.NamespacedName{Namespace: r.agentNamespace, Name: doradev1.AgentLeasePrefix + node.Name}, lease); {
	case apierrors.IsNotFound(err):
		lease = nil
	case err != nil:
		return ctrl.Result{}, fmt.Errorf("reading the agent lease of node %s: %w", node.Name, err)
	}
	ready, staleIn := readiness(node.Name, r.agentNamespace, lease, r.clock.Now(), r.leaseGrace)
	ready.ObservedGeneration = dn.Generation
	gpus := gpuHealth(dn.Status.GPUs)
	gpus.ObservedGeneration = dn.Generation

	if err := r.writeStatus(ctx, dn, ready, gpus); err != nil {
		return ctrl.Result{}, err
	}
	// A fresh lease goes stale by itself, with no event to wake us: look again exactly then.
	return ctrl.Result{RequeueAfter: staleIn}, nil
}

// create makes the Dora Node of a Kubernetes Node, owned by it so that it goes with it. It
// returns nil and no error when someone else created it first; the watch brings us back.
func (r *Reconciler) create(ctx context.Context, node *corev1.Node) (*doradev1.Node, error) {
	// A node cordoned before Dora knew it stays cordoned: the new Dora Node starts from it.
	dn := &doradev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: node.Name},
		Spec: doradev1.NodeSpec{
			SchedulingDisabled: node.Spec.Unschedulable,
			Allow:              []string{doradev1.CPUWorkload, doradev1.GPUWorkload},
		},
	}
	if err := ctrl.SetControllerReference(node, dn, r.client.Scheme()); err != nil {
		return nil, err
	}
	switch err := r.client.Create(ctx, dn); {
	case apierrors.IsAlreadyExists(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("creating dora node %s: %w", node.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Created the Dora Node of a node", "node", klog.KObj(node))
	return dn, nil
}

// adopt makes the Kubernetes Node the owner of a Dora Node made before it by someone else
// (applied from a Dora document, say), so that it too goes with its node.
func (r *Reconciler) adopt(ctx context.Context, node *corev1.Node, dn *doradev1.Node) error {
	if metav1.GetControllerOf(dn) != nil {
		return nil
	}
	before := dn.DeepCopy()
	if err := ctrl.SetControllerReference(node, dn, r.client.Scheme()); err != nil {
		return err
	}
	if err := r.client.Patch(ctx, dn, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("adopting dora node %s: %w", dn.Name, err)
	}
	ctrl.LoggerFrom(ctx).Info("Adopted a Dora Node made before its node was known", "node", klog.KObj(node))
	return nil
}

// writeStatus applies the manager's conditions and observedGeneration when they changed, and
// then tells the user when readiness flipped.
func (r *Reconciler) writeStatus(ctx context.Context, dn *doradev1.Node, desired ...metav1.Condition) error {
	owned, changed := ownedConditions(dn.Status.Conditions, metav1.NewTime(r.clock.Now()), desired...)
	if !changed && dn.Status.ObservedGeneration == dn.Generation {
		return nil
	}
	u, err := statusApplyConfiguration(dn.Name, dn.Generation, owned)
	if err != nil {
		return err
	}
	err = r.client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(doradev1.FieldManagerManager), client.ForceOwnership)
	switch {
	case apierrors.IsNotFound(err):
		// Deleted since we read it; nothing to report on.
		return nil
	case err != nil:
		return fmt.Errorf("applying dora node %s status: %w", dn.Name, err)
	}

	r.emitReadinessEvent(dn, owned)
	return nil
}

// emitReadinessEvent tells the user when the node became ready or stopped being ready. A new
// node going from no condition to Unknown (no agent yet) is not news.
func (r *Reconciler) emitReadinessEvent(dn *doradev1.Node, written []metav1.Condition) {
	ready := meta.FindStatusCondition(written, doradev1.ConditionReady)
	if ready == nil {
		return
	}
	wasReady := meta.IsStatusConditionTrue(dn.Status.Conditions, doradev1.ConditionReady)
	switch isReady := ready.Status == metav1.ConditionTrue; {
	case isReady && !wasReady:
		r.recorder.Eventf(dn, nil, corev1.EventTypeNormal, doradev1.EventNodeReady, "CheckAgent", "Node %s is ready: %s", dn.Name, ready.Message)
	case !isReady && wasReady:
		r.recorder.Eventf(dn, nil, corev1.EventTypeWarning, doradev1.EventNodeNotReady, "CheckAgent", "Node %s is not ready: %s", dn.Name, ready.Message)
	}
}

// SetupWithManager registers the controller: it watches Dora Nodes, the Kubernetes Nodes of
// the same name and the agents' leases.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("node").
		For(&doradev1.Node{}).
		Watches(&corev1.Node{}, &handler.EnqueueRequestForObject{}, builder.WithPredicates(nodeFieldsChanged)).
		Watches(&coordinationv1.Lease{}, handler.EnqueueRequestsFromMapFunc(r.nodeOfLease)).
		Complete(r)
}

// nodeFieldsChanged lets through only the Node updates this controller acts on: the kubelet's
// status updates would otherwise wake every Dora Node for nothing.
var nodeFieldsChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	oldNode, okOld := e.ObjectOld.(*corev1.Node)
	newNode, okNew := e.ObjectNew.(*corev1.Node)
	if !okOld || !okNew {
		return true
	}
	return oldNode.Spec.Unschedulable != newNode.Spec.Unschedulable ||
		oldNode.Labels[doradev1.LabelAllowCPUWorkload] != newNode.Labels[doradev1.LabelAllowCPUWorkload] ||
		oldNode.Labels[doradev1.LabelAllowGPUWorkload] != newNode.Labels[doradev1.LabelAllowGPUWorkload] ||
		(oldNode.DeletionTimestamp == nil) != (newNode.DeletionTimestamp == nil)
}}

// nodeOfLease maps an agent's lease to its node.
func (r *Reconciler) nodeOfLease(_ context.Context, lease client.Object) []reconcile.Request {
	name, ok := nodeNameOfLease(lease, r.agentNamespace)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
}

// nodeNameOfLease returns the node whose agent holds the lease, if it is an agent's lease.
func nodeNameOfLease(lease client.Object, agentNamespace string) (string, bool) {
	if lease.GetNamespace() != agentNamespace {
		return "", false
	}
	name, ok := strings.CutPrefix(lease.GetName(), doradev1.AgentLeasePrefix)
	if !ok || name == "" {
		return "", false
	}
	return name, true
}
