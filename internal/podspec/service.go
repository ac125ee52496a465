package podspec

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// BuildServices builds the NodePort Services of replica index: one per network.ports entry,
// in that order, each selecting only that replica's pod. Replica i gets nodePort + i, as in
// Dora; a port without nodePort leaves the choice to the cluster. Call it after BuildPod
// succeeded: BuildPod is the one that reports bad ports.
func BuildServices(wl *doradev1.Workload, index int32) []*corev1.Service {
	if wl.Spec.Network == nil || len(wl.Spec.Network.Ports) == 0 {
		return nil
	}
	selector := map[string]string{
		LabelWorkload: naming.WorkloadLabelValue(wl.Name),
		LabelReplica:  strconv.FormatInt(int64(index), 10),
	}
	out := make([]*corev1.Service, 0, len(wl.Spec.Network.Ports))
	for _, p := range wl.Spec.Network.Ports {
		proto, err := protocol(p.Protocol)
		if err != nil {
			// BuildPod refuses the workload; let the API server name the value too.
			proto = corev1.Protocol(strings.ToUpper(p.Protocol))
		}
		port := corev1.ServicePort{
			Name:       portName(p),
			Protocol:   proto,
			Port:       p.Port,
			TargetPort: intstr.FromInt32(p.Port),
		}
		if p.NodePort != 0 {
			port.NodePort = p.NodePort + index
		}
		out = append(out, &corev1.Service{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
			ObjectMeta: metav1.ObjectMeta{
				Name:        ServiceName(wl, index, p),
				Namespace:   wl.Namespace,
				Labels:      labels(wl, index),
				Annotations: annotations(wl),
			},
			Spec: corev1.ServiceSpec{
				Type:     corev1.ServiceTypeNodePort,
				Selector: selector,
				Ports:    []corev1.ServicePort{port},
			},
		})
	}
	return out
}

// ServiceName is the name of the Service for one port of replica index: a DNS-1035 label
// made of the workload name, the index and the port's name (or number):
// blue.red, 0, first -> blue-red-0-first. The port's number stands in for its name when the
// name is missing, all digits, or shared (once made a label) with another port of the
// workload, so the ports of one replica never share a Service name.
func ServiceName(wl *doradev1.Workload, index int32, port doradev1.PortSpec) string {
	return naming.DNS1035Label(fmt.Sprintf("%s-%d-%s", wl.Name, index, portToken(wl, port)), validation.DNS1035LabelMaxLength)
}

// portToken is what tells a port's Service from the workload's other ports' Services: its
// name made a DNS label, or its number.
func portToken(wl *doradev1.Workload, port doradev1.PortSpec) string {
	number := strconv.FormatInt(int64(port.Port), 10)
	if port.Name == "" {
		return number
	}
	token := naming.DNSLabel(port.Name, validation.DNS1123LabelMaxLength)
	if strings.Trim(token, "0123456789") == "" {
		return number
	}
	if wl.Spec.Network != nil {
		for _, other := range wl.Spec.Network.Ports {
			if other.Port != port.Port && other.Name != "" && naming.DNSLabel(other.Name, validation.DNS1123LabelMaxLength) == token {
				return number
			}
		}
	}
	return token
}
