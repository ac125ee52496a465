package podspec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// One NodePort Service per replica and port, selecting that replica's pod alone. Replica i
// is reachable at nodePort + i, as in Dora.
func TestBuildServices(t *testing.T) {
	// service is the expected Service, less its revision label (checked once, below).
	service := func(name, replica string, port corev1.ServicePort) *corev1.Service {
		return &corev1.Service{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Namespace:   "amedeo-setti",
				Labels:      map[string]string{LabelWorkload: "blue.red", LabelReplica: replica},
				Annotations: map[string]string{AnnotationWorkload: "blue.red"},
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: map[string]string{LabelWorkload: "blue.red", LabelReplica: replica},
				Ports:    []corev1.ServicePort{port},
			},
		}
	}
	first := doradev1.PortSpec{Name: "first", Protocol: "tcp", Port: 8008, NodePort: 25000}
	cases := map[string]struct {
		wl    *doradev1.Workload
		index int32
		want  []*corev1.Service
	}{
		"no network, no services": {wl: makeWorkload().Obj()},
		"host network without ports, no services": {
			wl: makeWorkload().NetworkMode("host").Obj(),
		},
		"replica 0 at nodePort": {
			wl:    makeWorkload().Port(first).Obj(),
			index: 0,
			want: []*corev1.Service{service("blue-red-0-first", "0", corev1.ServicePort{
				Name: "first", Protocol: corev1.ProtocolTCP, Port: 8008, TargetPort: intstr.FromInt32(8008), NodePort: 25000,
			})},
		},
		"replica 3 at nodePort + 3": {
			wl:    makeWorkload().Port(first).Obj(),
			index: 3,
			want: []*corev1.Service{service("blue-red-3-first", "3", corev1.ServicePort{
				Name: "first", Protocol: corev1.ProtocolTCP, Port: 8008, TargetPort: intstr.FromInt32(8008), NodePort: 25003,
			})},
		},
		"no nodePort: the cluster picks one": {
			wl:    makeWorkload().Port(doradev1.PortSpec{Port: 6006}).Obj(),
			index: 1,
			want: []*corev1.Service{service("blue-red-1-6006", "1", corev1.ServicePort{
				Protocol: corev1.ProtocolTCP, Port: 6006, TargetPort: intstr.FromInt32(6006),
			})},
		},
		"one service per port, in order, protocol upper-cased, port name only where Kubernetes takes it": {
			wl: makeWorkload().
				Port(doradev1.PortSpec{Name: "dns", Protocol: "udp", Port: 53, NodePort: 30053}).
				Port(doradev1.PortSpec{Name: "Jupyter Notebook", Port: 8888, NodePort: 30888}).
				Obj(),
			index: 0,
			want: []*corev1.Service{
				service("blue-red-0-dns", "0", corev1.ServicePort{
					Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53), NodePort: 30053,
				}),
				service("blue-red-0-jupyter-notebook", "0", corev1.ServicePort{
					Protocol: corev1.ProtocolTCP, Port: 8888, TargetPort: intstr.FromInt32(8888), NodePort: 30888,
				}),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := BuildServices(tc.wl, tc.index)
			for _, svc := range got {
				if rev := svc.Labels[LabelRevision]; rev != TemplateHash(tc.wl) {
					t.Errorf("service %s revision = %q, want the workload's, %q", svc.Name, rev, TemplateHash(tc.wl))
				}
				delete(svc.Labels, LabelRevision)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

// Service names are DNS-1035 labels: <workload>-<index>-<port name or number>.
func TestServiceName(t *testing.T) {
	long := strings.Repeat("w", 60)
	cases := map[string]struct {
		wl    *doradev1.Workload
		index int32
		port  doradev1.PortSpec
		want  string
	}{
		"name with dots, port by name": {
			wl: makeWorkload().Obj(), index: 0, port: doradev1.PortSpec{Name: "first", Port: 8008},
			want: "blue-red-0-first",
		},
		"an unnamed port by number": {
			wl: makeWorkload().Obj(), index: 2, port: doradev1.PortSpec{Port: 8008},
			want: "blue-red-2-8008",
		},
		"a port name is made a label": {
			wl: makeWorkload().Obj(), index: 0, port: doradev1.PortSpec{Name: "Web UI", Port: 80},
			want: "blue-red-0-web-ui",
		},
		"a workload name starting with a digit gets w-": {
			wl: makeWorkload().Named("3d.render").Obj(), index: 0, port: doradev1.PortSpec{Name: "vnc", Port: 5900},
			want: "w-3d-render-0-vnc",
		},
		"an all-digit port name is the number, so it meets no other port": {
			wl: makeWorkload().Port(doradev1.PortSpec{Name: "81", Port: 80}).Port(doradev1.PortSpec{Port: 81}).Obj(), index: 0,
			port: doradev1.PortSpec{Name: "81", Port: 80},
			want: "blue-red-0-80",
		},
		"two ports sharing a name are told apart by number": {
			wl: makeWorkload().Port(doradev1.PortSpec{Name: "http", Port: 80}).Port(doradev1.PortSpec{Name: "HTTP", Port: 8080}).Obj(), index: 0,
			port: doradev1.PortSpec{Name: "HTTP", Port: 8080},
			want: "blue-red-0-8080",
		},
		"too long: cut, with a hash of the whole": {
			wl: makeWorkload().Named(long).Obj(), index: 1, port: doradev1.PortSpec{Name: "first", Port: 8008},
			want: strings.Repeat("w", 54) + "-" + "790ade2c",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ServiceName(tc.wl, tc.index, tc.port); got != tc.want {
				t.Errorf("ServiceName = %q, want %q", got, tc.want)
			}
		})
	}
}
