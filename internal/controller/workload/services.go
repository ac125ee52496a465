package workload

import (
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

// servicePlan is what one reconcile does to a workload's NodePort services.
type servicePlan struct {
	// create lists the wanted services the workload does not have yet, by name. One whose
	// name a service of someone else's holds is here too: the create reports the clash.
	create []*corev1.Service
	// update lists copies of the workload's services whose ports differ from the wanted
	// ones, with the wanted ports set, by name.
	update []*corev1.Service
	// delete lists the workload's services no longer wanted, in the order found.
	delete []*corev1.Service
}

// planServices decides, from the services found with the workload's label, what makes one
// NodePort service per replica and port exist. They follow the replica count, not the
// pods: a paused workload keeps its services, as Dora kept its port reservations. A service
// the workload does not control is never updated nor deleted.
func planServices(wl *doradev1.Workload, found []corev1.Service) servicePlan {
	want := map[string]*corev1.Service{}
	if wl.Spec.Network != nil {
		for i := range wl.ReplicaCount() {
			for _, svc := range podspec.BuildServices(wl, i) {
				want[svc.Name] = svc
			}
		}
	}
	var p servicePlan
	ours := map[string]*corev1.Service{}
	for i := range found {
		svc := &found[i]
		if !metav1.IsControlledBy(svc, wl) {
			continue
		}
		if _, wanted := want[svc.Name]; !wanted {
			p.delete = append(p.delete, svc)
			continue
		}
		ours[svc.Name] = svc
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		svc := want[name]
		cur, exists := ours[name]
		switch {
		case !exists:
			p.create = append(p.create, svc)
		case !samePorts(cur, svc):
			changed := cur.DeepCopy()
			changed.Spec.Ports = svc.Spec.Ports
			p.update = append(p.update, changed)
		}
	}
	return p
}

// samePorts reports whether service a has b's ports. A NodePort b leaves to the cluster
// (zero) matches whatever the cluster chose.
func samePorts(a, b *corev1.Service) bool {
	if len(a.Spec.Ports) != len(b.Spec.Ports) {
		return false
	}
	for i := range a.Spec.Ports {
		x, y := a.Spec.Ports[i], b.Spec.Ports[i]
		if x.Port != y.Port || x.Protocol != y.Protocol || (y.NodePort != 0 && x.NodePort != y.NodePort) {
			return false
		}
	}
	return true
}

// portRefused reports the API server refusing a NodePort: outside its range, or taken.
func portRefused(err error) bool {
	return apierrors.IsInvalid(err) && strings.Contains(err.Error(), "nodePort")
}

// portsBlocker is what keeps the PortsReady condition false: every NodePort the API server
// refused, and every service name another's service holds; nil when there is none.
func portsBlocker(refused []string) *blocker {
	if len(refused) == 0 {
		return nil
	}
	return &blocker{reason: doradev1.ReasonPortUnavailable,
		message: "the API server refused a NodePort: " + strings.Join(refused, "; ")}
}
