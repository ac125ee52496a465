package podspec

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// FuzzNames: whatever the workload name, replica index and port name, every name and label
// the builders make is one Kubernetes takes.
func FuzzNames(f *testing.F) {
	f.Add("blue.red", int32(0), "first", "")
	f.Add("3d.render", int32(999), "Web UI", "trainer")
	f.Add("a.very.long.name.that.goes.on.and.on.past.sixty.three.characters.for.sure", int32(12), "", "")
	f.Fuzz(func(t *testing.T, name string, index int32, portName, hostname string) {
		if len(validation.IsDNS1123Subdomain(name)) > 0 || index < 0 || len(validation.IsDNS1123Label(hostname)) > 0 && hostname != "" {
			return // the API server refuses these before the builders see them
		}
		wl := makeWorkload().Named(name).Hostname(hostname).
			Port(doradev1.PortSpec{Name: portName, Port: 8008, NodePort: 25000}).Obj()
		pod, err := BuildPod(wl, index, PodInputs{})
		if err != nil {
			t.Fatalf("BuildPod: %v", err)
		}
		if errs := validation.IsDNS1123Subdomain(pod.Name); len(errs) > 0 {
			t.Errorf("pod name %q: %v", pod.Name, errs)
		}
		if errs := validation.IsDNS1123Label(pod.Spec.Hostname); len(errs) > 0 {
			t.Errorf("hostname %q: %v", pod.Spec.Hostname, errs)
		}
		for key, value := range pod.Labels {
			if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
				t.Errorf("label %s=%q: %v", key, value, errs)
			}
		}
		if name := pod.Spec.Containers[0].Ports[0].Name; name != "" {
			if errs := validation.IsValidPortName(name); len(errs) > 0 {
				t.Errorf("container port name %q: %v", name, errs)
			}
		}
		for _, svc := range BuildServices(wl, index) {
			if errs := validation.IsDNS1035Label(svc.Name); len(errs) > 0 {
				t.Errorf("service name %q: %v", svc.Name, errs)
			}
			if name := svc.Spec.Ports[0].Name; name != "" {
				if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
					t.Errorf("service port name %q: %v", name, errs)
				}
			}
		}
	})
}
