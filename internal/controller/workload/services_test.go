package workload

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/controller/testclient"
	"github.com/dora-hpc/dora-operator/internal/podspec"
)

var (
	httpPort = doradev1.PortSpec{Name: "http", Port: 8080}
	sshPort  = doradev1.PortSpec{Name: "ssh", Port: 22, NodePort: 30022}
)

// withPorts gives the test workload a UID (its services' owner) and network ports.
func withPorts(ports ...doradev1.PortSpec) func(*doradev1.Workload) {
	return func(wl *doradev1.Workload) {
		wl.UID = "train-uid"
		wl.Spec.Network = &doradev1.NetworkSpec{Ports: ports}
	}
}

// servicesOf is what the workload's services look like once made: one per replica and
// port, controlled by it, as the API server returns them.
func servicesOf(wl *doradev1.Workload) []corev1.Service {
	var out []corev1.Service
	for i := range wl.ReplicaCount() {
		for _, svc := range podspec.BuildServices(wl, i) {
			svc.UID, svc.ResourceVersion = types.UID("svc-uid-"+svc.Name), "7"
			svc.OwnerReferences = []metav1.OwnerReference{{
				APIVersion: "dora.dev/v1alpha1", Kind: "Workload", Name: wl.Name, UID: wl.UID, Controller: ptr.To(true),
			}}
			out = append(out, *svc)
		}
	}
	return out
}

// notOurs is a service of that name with the workload's label that it does not control.
func notOurs(name string) corev1.Service {
	return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name,
		Labels: map[string]string{podspec.LabelWorkload: "train"}}}
}

func serviceNames(svcs []*corev1.Service) []string {
	var out []string
	for _, s := range svcs {
		out = append(out, s.Name)
	}
	return out
}

func TestPlanServices(t *testing.T) {
	twoPorts := testWorkload(2, withPorts(httpPort, sshPort))
	cases := map[string]struct {
		wl         *doradev1.Workload
		found      []corev1.Service
		wantCreate []string
		wantUpdate []string
		wantDelete []string
		// wantPorts are the ports each updated service is given.
		wantPorts map[string][]int32
	}{
		"nothing exists: every replica's ports are created, by name": {
			wl:         twoPorts,
			wantCreate: []string{"train-0-http", "train-0-ssh", "train-1-http", "train-1-ssh"},
		},
		"all exist and match: nothing to do": {
			wl:    twoPorts,
			found: servicesOf(twoPorts),
		},
		"a NodePort the cluster chose matches a port that leaves it to the cluster": {
			wl: testWorkload(1, withPorts(httpPort)),
			found: func() []corev1.Service {
				svcs := servicesOf(testWorkload(1, withPorts(httpPort)))
				svcs[0].Spec.Ports[0].NodePort = 31234
				return svcs
			}(),
		},
		"a port whose number changed is updated": {
			wl:         testWorkload(2, withPorts(doradev1.PortSpec{Name: "http", Port: 8081}, sshPort)),
			found:      servicesOf(twoPorts),
			wantUpdate: []string{"train-0-http", "train-1-http"},
			wantPorts:  map[string][]int32{"train-0-http": {8081}, "train-1-http": {8081}},
		},
		"a fixed NodePort that moved is updated": {
			wl:         testWorkload(1, withPorts(doradev1.PortSpec{Name: "ssh", Port: 22, NodePort: 30122})),
			found:      servicesOf(testWorkload(1, withPorts(sshPort))),
			wantUpdate: []string{"train-0-ssh"},
			wantPorts:  map[string][]int32{"train-0-ssh": {22}},
		},
		"scaled down: the services of the replicas gone are deleted": {
			wl:         twoPorts,
			found:      servicesOf(testWorkload(3, withPorts(httpPort, sshPort))),
			wantDelete: []string{"train-2-http", "train-2-ssh"},
		},
		"a port removed: its services are deleted": {
			wl:         testWorkload(2, withPorts(httpPort)),
			found:      servicesOf(twoPorts),
			wantDelete: []string{"train-0-ssh", "train-1-ssh"},
		},
		"a service of a wanted name that is not the workload's: created anyway, so the create reports the clash": {
			wl:         testWorkload(1, withPorts(httpPort)),
			found:      []corev1.Service{notOurs("train-0-http")},
			wantCreate: []string{"train-0-http"},
		},
		"a service that is not the workload's is never deleted, wanted or not": {
			wl:    testWorkload(1, withPorts(httpPort)),
			found: append(servicesOf(testWorkload(1, withPorts(httpPort))), notOurs("train-4-http")),
		},
		"replica count 0: every service is deleted": {
			wl:         testWorkload(0, withPorts(httpPort, sshPort)),
			found:      servicesOf(twoPorts),
			wantDelete: []string{"train-0-http", "train-0-ssh", "train-1-http", "train-1-ssh"},
		},
		"paused: the services stay, and missing ones are made": {
			wl:         testWorkload(2, withPorts(httpPort), func(wl *doradev1.Workload) { wl.Spec.Paused = true }),
			found:      servicesOf(testWorkload(1, withPorts(httpPort))),
			wantCreate: []string{"train-1-http"},
		},
		"no network: every service is deleted": {
			wl:         testWorkload(1, func(wl *doradev1.Workload) { wl.UID = "train-uid" }),
			found:      servicesOf(testWorkload(1, withPorts(httpPort))),
			wantDelete: []string{"train-0-http"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			foundBefore := make([]corev1.Service, len(tc.found))
			for i := range tc.found {
				tc.found[i].DeepCopyInto(&foundBefore[i])
			}

			p := planServices(tc.wl, tc.found)

			got := map[string][]string{"create": serviceNames(p.create), "update": serviceNames(p.update), "delete": serviceNames(p.delete)}
			want := map[string][]string{"create": tc.wantCreate, "update": tc.wantUpdate, "delete": tc.wantDelete}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			for _, svc := range p.update {
				var ports []int32
				for _, port := range svc.Spec.Ports {
					ports = append(ports, port.Port)
				}
				if diff := cmp.Diff(tc.wantPorts[svc.Name], ports); diff != "" {
					t.Errorf("ports of %s (-want +got):\n%s", svc.Name, diff)
				}
				// An update sends the object found, with its identity, changed in its ports alone.
				if string(svc.UID) != "svc-uid-"+svc.Name || svc.ResourceVersion != "7" {
					t.Errorf("update of %s has uid %q and resourceVersion %q, want the found service's", svc.Name, svc.UID, svc.ResourceVersion)
				}
			}
			for _, svc := range p.create {
				if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Namespace != "team" {
					t.Errorf("create of %s is a %s service in %q, want a NodePort one in team", svc.Name, svc.Spec.Type, svc.Namespace)
				}
			}
			if !apiequality.Semantic.DeepEqual(foundBefore, tc.found) {
				t.Errorf("planServices changed the services found")
			}
		})
	}
}

func TestPortsBlocker(t *testing.T) {
	if b := portsBlocker(nil); b != nil {
		t.Errorf("no refusal: blocker %+v, want none", b)
	}
	got := portsBlocker([]string{"provided port is not in the valid range", "service train-0-http already exists and is not this workload's"})
	want := &blocker{reason: doradev1.ReasonPortUnavailable,
		message: "the API server refused a NodePort: provided port is not in the valid range; service train-0-http already exists and is not this workload's"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(blocker{})); diff != "" {
		t.Errorf("blocker (-want +got):\n%s", diff)
	}
}

func TestPortRefused(t *testing.T) {
	invalid := func(path *field.Path) error {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, "train-0-http",
			field.ErrorList{field.Invalid(path, 99, "provided port is not in the valid range")})
	}
	ports := field.NewPath("spec", "ports").Index(0)
	cases := map[string]struct {
		err  error
		want bool
	}{
		"a NodePort outside the range": {invalid(ports.Child("nodePort")), true},
		"another invalid field":        {invalid(ports.Child("port")), false},
		"the name is taken":            {apierrors.NewAlreadyExists(schema.GroupResource{Resource: "services"}, "train-0-http"), false},
		"forbidden":                    {apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "train-0-http", errors.New("no")), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := portRefused(tc.err); got != tc.want {
				t.Errorf("portRefused(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// The services are changed removals first, then in name order; a name another's service
// holds is reported, and that service left alone.
func TestSyncServicesReportsANameAnotherServiceHolds(t *testing.T) {
	ctx := context.Background()
	wl := testWorkload(2, withPorts(httpPort))
	extra := servicesOf(testWorkload(6, withPorts(httpPort)))[5]
	extra.ResourceVersion = ""
	foreign := notOurs("train-0-http")
	var calls []string
	c := testclient.NewBuilder().WithObjects(wl, &extra, &foreign).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			calls = append(calls, "create "+obj.GetName())
			return c.Create(ctx, obj, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			calls = append(calls, "delete "+obj.GetName())
			return c.Delete(ctx, obj, opts...)
		},
	}).Build()
	r := NewReconciler(c, nil, clocktesting.NewFakeClock(time.Now()), Options{})

	expectNameTaken(ctx, t, r, wl)
	if diff := cmp.Diff([]string{"delete train-5-http", "create train-0-http", "create train-1-http"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	kept := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKeyFromObject(&foreign), kept); err != nil || metav1.GetControllerOf(kept) != nil {
		t.Errorf("the other's service: %v, owner %v; want it there, as it was", err, metav1.GetControllerOf(kept))
	}
	made := &corev1.Service{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "team", Name: "train-1-http"}, made); err != nil || !metav1.IsControlledBy(made, wl) {
		t.Errorf("train-1-http: %v, owner %v; want it made, the workload's", err, metav1.GetControllerOf(made))
	}
}

// The cache keeps only Dora's services: a service of the name that is nobody's workload's
// (no label, so not in the cache) is read from the API server, and reported, not taken as
// the workload's own.
func TestCreateServiceReadsAnUncachedNameHolderFromTheAPIServer(t *testing.T) {
	ctx := context.Background()
	wl := testWorkload(1, withPorts(httpPort))
	foreign := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "train-0-http"}}
	server := testclient.NewBuilder().WithObjects(wl, &foreign).Build()
	cached := testclient.NewBuilder().WithObjects(wl).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(ctx context.Context, _ client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
			return server.Create(ctx, obj, opts...) // writes go to the API server
		},
	}).Build()
	r := NewReconciler(cached, nil, clocktesting.NewFakeClock(time.Now()), Options{APIReader: server})

	expectNameTaken(ctx, t, r, wl)
}

// expectNameTaken syncs the workload's services and expects the report that another's
// service holds train-0-http.
func expectNameTaken(ctx context.Context, t *testing.T, r *Reconciler, wl *doradev1.Workload) {
	t.Helper()
	got, err := r.syncServices(ctx, wl)
	if err != nil {
		t.Fatal(err)
	}
	want := &blocker{reason: doradev1.ReasonPortUnavailable, message: "the API server refused a NodePort: " +
		"service train-0-http already exists and is not this workload's; rename one of the two workloads"}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(blocker{})); diff != "" {
		t.Errorf("blocker (-want +got):\n%s", diff)
	}
}
