package podspec

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/gpu"
	"github.com/dora-hpc/dora-operator/internal/naming"
)

// BuildPod builds the pod of replica index of the workload. It sets no owner reference: the
// controller does. It fails only on values the API server should have refused, naming the
// field, so a pod is never half right. The pod passes the baseline Pod Security level
// unless the workload uses the host network, which needs a privileged workspace
// (security.go).
func BuildPod(wl *doradev1.Workload, index int32, in PodInputs) (*corev1.Pod, error) {
	if index < 0 {
		return nil, fmt.Errorf("replica index %d is negative", index)
	}
	if d := wl.Spec.Driver; d != "" && d != doradev1.DriverDocker {
		return nil, fmt.Errorf("spec.driver: %q is not a driver; the only one is Docker", d)
	}
	gpus, err := gpuCount(wl)
	if err != nil {
		return nil, err
	}
	ctr, err := container(wl, gpus)
	if err != nil {
		return nil, err
	}
	vols, mounts, err := volumes(wl, in)
	if err != nil {
		return nil, err
	}
	ctr.VolumeMounts = mounts
	ctr.SecurityContext = containerSecurityContext(in.PodSecurity)
	aff, err := affinity(wl, gpus)
	if err != nil {
		return nil, err
	}
	cfg := config(wl)
	restart, err := restartPolicy(cfg.RestartPolicy)
	if err != nil {
		return nil, err
	}

	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        PodName(wl, index),
			Namespace:   wl.Namespace,
			Labels:      labels(wl, index),
			Annotations: annotations(wl),
		},
		Spec: corev1.PodSpec{
			Hostname:      hostname(wl, index),
			Containers:    []corev1.Container{ctr},
			Volumes:       vols,
			RestartPolicy: restart,
			Affinity:      aff,
			// Workload containers talk to their own services, not to the Kubernetes API: no
			// token, and no environment variables for every service in the namespace.
			EnableServiceLinks:           ptr.To(false),
			AutomountServiceAccountToken: ptr.To(false),
			// Baseline-safe whatever the workspace enforces: see security.go.
			SecurityContext: podSecurityContext(),
		},
	}
	// An owned workload's pods are charged to its owner: the credit controller finds them by
	// the owner annotation and the finalizer keeps each until its time is in the ledger.
	// Metadata only, so the pod-template hash (of the spec) is the same with or without.
	// An unowned workload's GPU pods are charged to nobody, but counted all the same (the
	// Zone's status.unowned), so they are kept until counted too.
	if owner := wl.Annotations[doradev1.AnnotationOwner]; owner != "" {
		pod.Annotations[doradev1.AnnotationOwner] = owner
		pod.Finalizers = []string{doradev1.FinalizerCredits}
	} else if GPUCount(wl) > 0 {
		pod.Finalizers = []string{doradev1.FinalizerCredits}
	}
	if cfg.MaxRunTime != "" {
		seconds, err := ParseMaxRunTime(cfg.MaxRunTime)
		if err != nil {
			return nil, err
		}
		pod.Spec.ActiveDeadlineSeconds = ptr.To(seconds)
	}
	if wl.Spec.Network != nil {
		switch wl.Spec.Network.Mode {
		case "", doradev1.NetworkModeBridge:
		case doradev1.NetworkModeHost:
			// Outside baseline (and its ports become host ports): admitted only in a
			// workspace with podSecurity privileged, which allowHostNetwork requires.
			pod.Spec.HostNetwork = true
			// Cluster DNS still answers, as it does for pods on the pod network.
			pod.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
		default:
			return nil, fmt.Errorf("network.mode: %q is not a network mode; use bridge or host", wl.Spec.Network.Mode)
		}
	}
	return pod, nil
}

// config is spec.config, empty when left out.
func config(wl *doradev1.Workload) *doradev1.ContainerConfig {
	if wl.Spec.Config == nil {
		return &doradev1.ContainerConfig{}
	}
	return wl.Spec.Config
}

// hostname is the replica's hostname: spec.hostname, or the workload name made a DNS label
// (blue.red -> blue-red), followed by -<index> so replicas tell themselves apart.
func hostname(wl *doradev1.Workload, index int32) string {
	suffix := "-" + strconv.FormatInt(int64(index), 10)
	base := wl.Spec.Hostname
	if base == "" {
		base = wl.Name
	}
	return naming.DNSLabel(base, validation.DNS1123LabelMaxLength-len(suffix)) + suffix
}

// container is the workload's one container, without its volume mounts.
func container(wl *doradev1.Workload, gpus int64) (corev1.Container, error) {
	if wl.Spec.Image.Image == "" {
		return corev1.Container{}, fmt.Errorf("image.image: required; name a container image, such as ubuntu")
	}
	pull, err := pullPolicy(wl.Spec.Image.PullPolicy)
	if err != nil {
		return corev1.Container{}, err
	}
	cfg := config(wl)
	env, err := envVars(cfg.Env)
	if err != nil {
		return corev1.Container{}, err
	}
	ports, err := containerPorts(wl)
	if err != nil {
		return corev1.Container{}, err
	}
	res, err := resources(wl, gpus)
	if err != nil {
		return corev1.Container{}, err
	}
	return corev1.Container{
		Name:            ContainerName,
		Image:           wl.Spec.Image.Image,
		ImagePullPolicy: pull,
		Args:            args(cfg.Cmd),
		Env:             env,
		Ports:           ports,
		Resources:       res,
	}, nil
}

// args is config.cmd as the container's args: like docker run's command, it replaces the
// image's CMD and keeps its ENTRYPOINT. A string is split on whitespace; a list is kept.
func args(cmd doradev1.StringOrList) []string {
	var out []string
	if cmd.IsList {
		out = append(out, cmd.Values...)
	} else {
		out = strings.Fields(strings.Join(cmd.Values, " "))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// envVars turns config.env entries, NAME=value, into environment variables; the value is
// everything after the first '='.
func envVars(env []string) ([]corev1.EnvVar, error) {
	var out []corev1.EnvVar
	for i, entry := range env {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("config.env[%d]: %q must look like NAME=value", i, entry)
		}
		out = append(out, corev1.EnvVar{Name: name, Value: value})
	}
	return out, nil
}

// containerPorts are network.ports as the container's ports. A port keeps its name only when
// Kubernetes takes it as a port name (at most 15 lower-case letters, digits and '-'); the
// name is optional there and only informative.
func containerPorts(wl *doradev1.Workload) ([]corev1.ContainerPort, error) {
	if wl.Spec.Network == nil {
		return nil, nil
	}
	var out []corev1.ContainerPort
	for i, p := range wl.Spec.Network.Ports {
		if p.Port < 1 || p.Port > 65535 {
			return nil, fmt.Errorf("network.ports[%d].port: %d is not a port number (1 to 65535)", i, p.Port)
		}
		proto, err := protocol(p.Protocol)
		if err != nil {
			return nil, fmt.Errorf("network.ports[%d].protocol: %w", i, err)
		}
		out = append(out, corev1.ContainerPort{Name: portName(p), ContainerPort: p.Port, Protocol: proto})
	}
	return out, nil
}

// portName is a port's name as Kubernetes takes it, or "" when it cannot take it.
func portName(p doradev1.PortSpec) string {
	name := strings.ToLower(p.Name)
	if len(validation.IsValidPortName(name)) > 0 {
		return ""
	}
	return name
}

// protocol is a network.ports[].protocol, tcp by default, upper-cased as Kubernetes spells it.
func protocol(p string) (corev1.Protocol, error) {
	switch proto := corev1.Protocol(strings.ToUpper(p)); proto {
	case "":
		return corev1.ProtocolTCP, nil
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return proto, nil
	default:
		return "", fmt.Errorf("%q is not a protocol; use tcp, udp or sctp", p)
	}
}

// resources are the container's requests and limits: the CPU count as both request and
// limit, and the GPUs as a limit (the API server makes the request equal to it).
func resources(wl *doradev1.Workload, gpus int64) (corev1.ResourceRequirements, error) {
	var res corev1.ResourceRequirements
	if cpu := wl.Spec.Selectors.CPU; cpu != nil {
		q, err := CPUQuantity(cpu.Count)
		if err != nil {
			return res, err
		}
		// A count of 0 asks for nothing, like no count; a zero limit would mean no limit.
		if !q.IsZero() {
			res.Requests = corev1.ResourceList{corev1.ResourceCPU: q}
			res.Limits = corev1.ResourceList{corev1.ResourceCPU: q.DeepCopy()}
		}
	}
	if gpus > 0 {
		if res.Limits == nil {
			res.Limits = corev1.ResourceList{}
		}
		res.Limits[gpu.ResourceName] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return res, nil
}

// pullPolicy is image.pullPolicy, IfNotPresent by default.
func pullPolicy(p string) (corev1.PullPolicy, error) {
	switch policy := corev1.PullPolicy(p); policy {
	case "":
		return corev1.PullIfNotPresent, nil
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return policy, nil
	default:
		return "", fmt.Errorf("image.pullPolicy: %q is not a pull policy; use Always, IfNotPresent or Never", p)
	}
}

// restartPolicy is config.restartPolicy, Never by default.
func restartPolicy(p string) (corev1.RestartPolicy, error) {
	switch policy := corev1.RestartPolicy(p); policy {
	case "":
		return corev1.RestartPolicyNever, nil
	case corev1.RestartPolicyNever, corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure:
		return policy, nil
	default:
		return "", fmt.Errorf("config.restartPolicy: %q is not a restart policy; use Never, Always or OnFailure", p)
	}
}
