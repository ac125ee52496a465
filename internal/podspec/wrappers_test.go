package podspec

import (
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
)

// workloadWrapper builds test Workloads field by field, starting from the smallest valid one:
// blue.red in amedeo-setti, running ubuntu.
type workloadWrapper struct{ doradev1.Workload }

func makeWorkload() *workloadWrapper {
	w := &workloadWrapper{}
	w.Name = "blue.red"
	w.Namespace = "amedeo-setti"
	w.Spec.Image.Image = "ubuntu"
	return w
}

func (w *workloadWrapper) Obj() *doradev1.Workload { return &w.Workload }

func (w *workloadWrapper) Named(name string) *workloadWrapper {
	w.Name = name
	return w
}

func (w *workloadWrapper) Replicas(n int32) *workloadWrapper {
	w.Spec.Replica = &doradev1.ReplicaSpec{Count: ptr.To(n)}
	return w
}

func (w *workloadWrapper) Paused() *workloadWrapper {
	w.Spec.Paused = true
	return w
}

func (w *workloadWrapper) Driver(d string) *workloadWrapper {
	w.Spec.Driver = d
	return w
}

func (w *workloadWrapper) GPU(count intstr.IntOrString, products doradev1.StringOrList) *workloadWrapper {
	w.Spec.Selectors.GPU = &doradev1.GPUSelector{Count: &count, ProductName: products}
	return w
}

func (w *workloadWrapper) CPU(count intstr.IntOrString, products doradev1.StringOrList) *workloadWrapper {
	w.Spec.Selectors.CPU = &doradev1.CPUSelector{Count: &count, ProductName: products}
	return w
}

func (w *workloadWrapper) Node(name string) *workloadWrapper {
	w.Spec.Selectors.Node = &doradev1.NodeSelector{Name: name}
	return w
}

func (w *workloadWrapper) Image(image, pullPolicy string) *workloadWrapper {
	w.Spec.Image = doradev1.ImageSpec{Image: image, PullPolicy: pullPolicy}
	return w
}

func (w *workloadWrapper) config() *doradev1.ContainerConfig {
	if w.Spec.Config == nil {
		w.Spec.Config = &doradev1.ContainerConfig{}
	}
	return w.Spec.Config
}

func (w *workloadWrapper) Cmd(cmd doradev1.StringOrList) *workloadWrapper {
	w.config().Cmd = cmd
	return w
}

func (w *workloadWrapper) Env(env ...string) *workloadWrapper {
	w.config().Env = env
	return w
}

func (w *workloadWrapper) ShmSize(bytes int64) *workloadWrapper {
	w.config().ShmSize = ptr.To(bytes)
	return w
}

func (w *workloadWrapper) RestartPolicy(p string) *workloadWrapper {
	w.config().RestartPolicy = p
	return w
}

func (w *workloadWrapper) MaxRunTime(d string) *workloadWrapper {
	w.config().MaxRunTime = d
	return w
}

func (w *workloadWrapper) Affinity(a string) *workloadWrapper {
	w.config().Affinity = a
	return w
}

func (w *workloadWrapper) Volume(v doradev1.WorkloadVolume) *workloadWrapper {
	w.Spec.Volumes = append(w.Spec.Volumes, v)
	return w
}

func (w *workloadWrapper) NetworkMode(mode string) *workloadWrapper {
	if w.Spec.Network == nil {
		w.Spec.Network = &doradev1.NetworkSpec{}
	}
	w.Spec.Network.Mode = mode
	return w
}

func (w *workloadWrapper) Port(p doradev1.PortSpec) *workloadWrapper {
	if w.Spec.Network == nil {
		w.Spec.Network = &doradev1.NetworkSpec{}
	}
	w.Spec.Network.Ports = append(w.Spec.Network.Ports, p)
	return w
}

func (w *workloadWrapper) Owner(user string) *workloadWrapper {
	if w.Annotations == nil {
		w.Annotations = map[string]string{}
	}
	w.Annotations[doradev1.AnnotationOwner] = user
	return w
}

func (w *workloadWrapper) Hostname(h string) *workloadWrapper {
	w.Spec.Hostname = h
	return w
}
