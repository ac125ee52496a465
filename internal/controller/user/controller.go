// Package user reconciles Dora Users into the RoleBindings, ClusterRoleBindings and own
// ClusterRole that internal/rbac plans from their grants, owned by the User, and reports
// what was bound and which grants could not be in its status.
package user

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/rbacsync"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/rbac"
)

// Options configure the user controller.
type Options struct {
	// Zone is this manager's zone: grants for other zones are not bound here.
	Zone string
	// UsernamePrefix turns a Dora user name into the authenticated user name.
	UsernamePrefix string
}

// Reconciler keeps each User's bindings.
type Reconciler struct {
	client client.Client
	opts   Options
}

// NewReconciler returns a Reconciler using the manager's client.
func NewReconciler(c client.Client, opts Options) *Reconciler {
	return &Reconciler{client: c, opts: opts}
}

// +kubebuilder:rbac:groups=dora.dev,resources=users,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=users/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=dora.dev,resources=roles;workspaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;delete;bind;escalate
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=rolebindings;clusterrolebindings,verbs=get;list;watch;create;update;delete

// Reconcile makes the user's bindings match their grants, the Roles and the workspaces
// that exist, and removes those no longer granted.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	u := &doradev1.User{}
	if err := r.client.Get(ctx, req.NamespacedName, u); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if u.DeletionTimestamp != nil {
		return ctrl.Result{}, nil
	}
	in, err := r.inputs(ctx, u)
	if err != nil {
		return ctrl.Result{}, err
	}
	plan := rbac.PlanUser(in)
	if err := r.apply(ctx, u, plan); err != nil {
		return ctrl.Result{}, err
	}
	_, err = statuspatch.Update(ctx, r.client, u, func() { u.Status = computeStatus(u, plan) })
	return ctrl.Result{}, err
}

// inputs reads the Roles and the workspaces (with the namespaces they own) a plan needs.
func (r *Reconciler) inputs(ctx context.Context, u *doradev1.User) (rbac.UserInputs, error) {
	in := rbac.UserInputs{User: u, Zone: r.opts.Zone, UsernamePrefix: r.opts.UsernamePrefix,
		Roles: map[string]*doradev1.Role{}, Workspaces: map[string]rbac.Workspace{}}
	roles := &doradev1.RoleList{}
	if err := r.client.List(ctx, roles); err != nil {
		return in, fmt.Errorf("listing roles: %w", err)
	}
	for i := range roles.Items {
		if roles.Items[i].DeletionTimestamp == nil {
			in.Roles[roles.Items[i].Name] = &roles.Items[i]
		}
	}
	workspaces := &doradev1.WorkspaceList{}
	if err := r.client.List(ctx, workspaces); err != nil {
		return in, fmt.Errorf("listing workspaces: %w", err)
	}
	for _, ws := range workspaces.Items {
		// Only a workspace that owns its namespace: never bind in a namespace it clashed with.
		if ws.DeletionTimestamp == nil && ws.Status.Namespace != "" {
			in.Workspaces[ws.Name] = rbac.Workspace{Namespace: ws.Status.Namespace, CloneFrom: ws.Spec.CloneFrom, Owner: ws.Annotations[doradev1.AnnotationOwner]}
		}
	}
	return in, nil
}

// apply writes the plan and removes what the user no longer has.
func (r *Reconciler) apply(ctx context.Context, u *doradev1.User, plan rbac.UserPlan) error {
	if err := rbacsync.ClusterRole(ctx, r.client, u, plan.ClusterRole); err != nil {
		return err
	}
	keepRB, keepCRB := map[string]bool{}, map[string]bool{}
	for _, rb := range plan.RoleBindings {
		if err := rbacsync.RoleBinding(ctx, r.client, u, rb); err != nil {
			return err
		}
		keepRB[rb.Namespace+"/"+rb.Name] = true
	}
	for _, crb := range plan.ClusterRoleBindings {
		if err := rbacsync.ClusterRoleBinding(ctx, r.client, u, crb); err != nil {
			return err
		}
		keepCRB["/"+crb.Name] = true
	}
	mine := labels.Set{rbac.LabelUser: u.Name}
	owned := func(o client.Object) bool { return metav1.IsControlledBy(o, u) }
	if err := rbacsync.Prune(ctx, r.client, &rbacv1.RoleBindingList{}, mine, keepRB, func(l *rbacv1.RoleBindingList) []client.Object {
		var out []client.Object
		for i := range l.Items {
			if owned(&l.Items[i]) {
				out = append(out, &l.Items[i])
			}
		}
		return out
	}); err != nil {
		return err
	}
	return rbacsync.Prune(ctx, r.client, &rbacv1.ClusterRoleBindingList{}, mine, keepCRB, func(l *rbacv1.ClusterRoleBindingList) []client.Object {
		var out []client.Object
		for i := range l.Items {
			if owned(&l.Items[i]) {
				out = append(out, &l.Items[i])
			}
		}
		return out
	})
}

// computeStatus is the user's status: what was bound, and Ready False naming every grant
// that could not be.
func computeStatus(u *doradev1.User, plan rbac.UserPlan) doradev1.UserStatus {
	st := *u.Status.DeepCopy()
	st.ObservedGeneration = u.Generation
	st.Bound = plan.Bound
	c := metav1.Condition{Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonGrantsBound,
		Message: fmt.Sprintf("%d grants bound", len(plan.Bound)), ObservedGeneration: u.Generation}
	if len(plan.Problems) > 0 {
		c.Status, c.Reason = metav1.ConditionFalse, doradev1.ReasonGrantsIncomplete
		c.Message = strings.Join(plan.Problems, "; ")
	}
	meta.SetStatusCondition(&st.Conditions, c)
	return st
}

// SetupWithManager registers the controller: it owns the bindings it makes, and looks
// again at every user when a Role or a workspace comes, goes or changes (users are few;
// their grants name roles and workspaces by name).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	allUsers := handler.EnqueueRequestsFromMapFunc(r.allUsers)
	return ctrl.NewControllerManagedBy(mgr).
		Named("user").
		For(&doradev1.User{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&rbacv1.ClusterRoleBinding{}).
		Owns(&rbacv1.ClusterRole{}).
		Watches(&doradev1.Role{}, allUsers, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&doradev1.Workspace{}, allUsers, builder.WithPredicates(workspaceNamespaceChanged)).
		Complete(r)
}

// workspaceNamespaceChanged lets through a workspace's coming, going, and the namespace it
// owns changing: all a user's bindings depend on.
var workspaceNamespaceChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.(*doradev1.Workspace).Status.Namespace != e.ObjectNew.(*doradev1.Workspace).Status.Namespace ||
			(e.ObjectOld.GetDeletionTimestamp() == nil) != (e.ObjectNew.GetDeletionTimestamp() == nil)
	},
}

func (r *Reconciler) allUsers(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &doradev1.UserList{}
	if err := r.client.List(ctx, list); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "Listing users")
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, u := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Name: u.Name}})
	}
	return reqs
}
