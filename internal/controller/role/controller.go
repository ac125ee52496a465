// Package role reconciles Dora Roles into the ClusterRoles that internal/rbac plans, owned
// by the Role, and reports them and the verbs with no Kubernetes meaning in its status.
package role

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/rbacsync"
	"github.com/dora-hpc/dora-operator/internal/controller/statuspatch"
	"github.com/dora-hpc/dora-operator/internal/rbac"
)

// Reconciler keeps each Role's ClusterRoles.
type Reconciler struct {
	client client.Client
}

// NewReconciler returns a Reconciler using the manager's client.
func NewReconciler(c client.Client) *Reconciler { return &Reconciler{client: c} }

// +kubebuilder:rbac:groups=dora.dev,resources=roles,verbs=get;list;watch
// +kubebuilder:rbac:groups=dora.dev,resources=roles/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=clusterroles,verbs=get;list;watch;create;update;delete;bind;escalate

// Reconcile makes the role's ClusterRoles match its permissions and removes those it no
// longer has.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	role := &doradev1.Role{}
	if err := r.client.Get(ctx, req.NamespacedName, role); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if role.DeletionTimestamp != nil {
		// The ClusterRoles go with it through their owner references.
		return ctrl.Result{}, nil
	}
	want := rbac.ClusterRoles(role)
	keep := map[string]bool{}
	for _, cr := range want {
		if err := rbacsync.ClusterRole(ctx, r.client, role, cr); err != nil {
			return ctrl.Result{}, err
		}
		keep["/"+cr.Name] = true
	}
	err := rbacsync.Prune(ctx, r.client, &rbacv1.ClusterRoleList{}, labels.Set{rbac.LabelRole: role.Name}, keep,
		func(l *rbacv1.ClusterRoleList) []client.Object {
			out := make([]client.Object, 0, len(l.Items))
			for i := range l.Items {
				if metav1.IsControlledBy(&l.Items[i], role) {
					out = append(out, &l.Items[i])
				}
			}
			return out
		})
	if err != nil {
		return ctrl.Result{}, err
	}
	_, err = statuspatch.Update(ctx, r.client, role, func() { role.Status = computeStatus(role, want, rbac.Expand(role).Unmapped) })
	return ctrl.Result{}, err
}

// computeStatus is the role's status: its ClusterRoles and the verbs that mean nothing in
// Kubernetes.
func computeStatus(role *doradev1.Role, made []*rbacv1.ClusterRole, unmapped []string) doradev1.RoleStatus {
	st := *role.Status.DeepCopy()
	st.ObservedGeneration = role.Generation
	st.ClusterRole = rbac.NamespacedClusterRoleName(role.Name)
	st.ClusterRoles = make([]string, 0, len(made))
	for _, cr := range made {
		st.ClusterRoles = append(st.ClusterRoles, cr.Name)
	}
	st.UnmappedVerbs = unmapped
	msg := fmt.Sprintf("%d ClusterRoles made", len(made))
	if len(unmapped) > 0 {
		msg += fmt.Sprintf("; accepted with no Kubernetes meaning: %s", strings.Join(unmapped, ", "))
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: doradev1.ConditionReady, Status: metav1.ConditionTrue, Reason: doradev1.ReasonClusterRolesMade,
		Message: msg, ObservedGeneration: role.Generation,
	})
	return st
}

// SetupWithManager registers the controller: it owns the ClusterRoles it makes.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("role").
		For(&doradev1.Role{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&rbacv1.ClusterRole{}).
		Complete(r)
}
